// GET /api/v1/timeline's answer as JSON text, written where the timeline is computed (the reader's
// worker), so it crosses the thread as one string. A timeline of a day per minute is 1,440 bucket
// objects: structured-cloning them to the main thread, mapping each to its API form and
// JSON.stringify there cost more than computing them (a profile of the API call: ~8 of ~24 ms on
// the main thread, which also schedules probes). The text is byte for byte what
// JSON.stringify({ data: view }) gives for the view docs/api.md describes (timeline-json.test.ts).

import type { LatencySummary } from './rollup.js';
import type { Timeline, TimelineBucket } from './queries.js';

/** Which timeline the answer is of, as the API names it. */
export type TimelineScope = { route: string } | { namespace: string } | { all: true };

/** An instant as the API writes it (ISO-8601, UTC, milliseconds): Date's toISOString. */
function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The instant 9999-12-31T23:59:59.999Z + 1: toISOString writes 4-digit years below it. */
const YEAR_10000 = 253_402_300_800_000;

/**
 * iso() for many instants: the date part is computed once per UTC day, the time of day by
 * arithmetic (toISOString per bucket was 16 % of a day-per-minute answer). Same text (tested).
 */
function isoWriter(): (ms: number) => string {
  let day = Number.NaN;
  let prefix = '';
  const pad = (n: number, width: number): string => String(n).padStart(width, '0');
  return (ms) => {
    if (!(Number.isInteger(ms) && ms >= 0 && ms < YEAR_10000)) return iso(ms);
    const d = Math.floor(ms / 86_400_000);
    if (d !== day) {
      day = d;
      prefix = iso(d * 86_400_000).slice(0, 11);
    }
    const t = ms - d * 86_400_000;
    return `${prefix}${pad(Math.floor(t / 3_600_000), 2)}:${pad(Math.floor(t / 60_000) % 60, 2)}:${pad(Math.floor(t / 1000) % 60, 2)}.${pad(t % 1000, 3)}Z`;
  };
}

/** A number as JSON writes it (non-finite numbers are null). */
function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/**
 * num() for latencies, which are whole tenths of a millisecond (the store's unit) but for avgMs:
 * a tenth is written from its integer parts, the same text String() gives, ~3x faster (a day per
 * minute writes 8,640 of them). Anything else goes through num().
 */
export function latencyNum(ms: number): string {
  const u = Math.round(ms * 10);
  if (!(u / 10 === ms && u >= 0 && u < 1e15)) return num(ms);
  const r = u % 10;
  return r === 0 ? String(u / 10) : `${(u - r) / 10}.${r}`;
}

function countsJson(record: Record<string, number>): string {
  let out = '';
  for (const k in record) out += `${out === '' ? '' : ','}${JSON.stringify(k)}:${num(record[k]!)}`;
  return `{${out}}`;
}

function latencyJson(l: LatencySummary | null): string {
  if (l === null) return 'null';
  const n = latencyNum;
  return `{"minMs":${n(l.minMs)},"avgMs":${n(l.avgMs)},"maxMs":${n(l.maxMs)},"p50Ms":${n(l.p50Ms)},"p95Ms":${n(l.p95Ms)},"p99Ms":${n(l.p99Ms)}}`;
}

function bucketJson(b: TimelineBucket, iso: (ms: number) => string): string {
  // Counts are integers: written as JSON writes them without num()'s check.
  return `{"start":"${iso(b.start)}","rounds":${b.rounds},"ok":${b.ok},"degraded":${b.degraded},"failing":${b.failing},"unknown":${b.unknown},`
    + `"failuresByHop":${countsJson(b.failuresByHop)},"failuresByCause":${countsJson(b.failuresByCause)},"latency":${latencyJson(b.latency)}}`;
}

/** The API's timeline answer, `{"data": {scope, from, to, stepMs, tier, expiredBefore, buckets}}`, as JSON text. */
export function timelineAnswerJson(t: Timeline, scope: TimelineScope): string {
  const head = JSON.stringify({
    scope, from: iso(t.from), to: iso(t.to), stepMs: t.stepMs, tier: t.tier, expiredBefore: t.expiredBefore === null ? null : iso(t.expiredBefore),
  });
  const buckets = new Array<string>(t.buckets.length);
  const isoOf = isoWriter();
  for (let i = 0; i < t.buckets.length; i++) buckets[i] = bucketJson(t.buckets[i]!, isoOf);
  return `{"data":${head.slice(0, -1)},"buckets":[${buckets.join(',')}]}}`;
}
