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

/** An instant as the API writes it (ISO-8601, UTC, milliseconds). */
function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A number as JSON writes it (non-finite numbers are null). */
function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

function countsJson(record: Record<string, number>): string {
  let out = '';
  for (const k in record) out += `${out === '' ? '' : ','}${JSON.stringify(k)}:${num(record[k]!)}`;
  return `{${out}}`;
}

function latencyJson(l: LatencySummary | null): string {
  if (l === null) return 'null';
  return `{"minMs":${num(l.minMs)},"avgMs":${num(l.avgMs)},"maxMs":${num(l.maxMs)},"p50Ms":${num(l.p50Ms)},"p95Ms":${num(l.p95Ms)},"p99Ms":${num(l.p99Ms)}}`;
}

function bucketJson(b: TimelineBucket): string {
  return `{"start":"${iso(b.start)}","rounds":${num(b.rounds)},"ok":${num(b.ok)},"degraded":${num(b.degraded)},"failing":${num(b.failing)},"unknown":${num(b.unknown)},`
    + `"failuresByHop":${countsJson(b.failuresByHop)},"failuresByCause":${countsJson(b.failuresByCause)},"latency":${latencyJson(b.latency)}}`;
}

/** The API's timeline answer, `{"data": {scope, from, to, stepMs, tier, expiredBefore, buckets}}`, as JSON text. */
export function timelineAnswerJson(t: Timeline, scope: TimelineScope): string {
  const head = JSON.stringify({
    scope, from: iso(t.from), to: iso(t.to), stepMs: t.stepMs, tier: t.tier, expiredBefore: t.expiredBefore === null ? null : iso(t.expiredBefore),
  });
  const buckets = new Array<string>(t.buckets.length);
  for (let i = 0; i < t.buckets.length; i++) buckets[i] = bucketJson(t.buckets[i]!);
  return `{"data":${head.slice(0, -1)},"buckets":[${buckets.join(',')}]}}`;
}
