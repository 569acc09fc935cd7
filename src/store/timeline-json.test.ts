import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateStore } from './generate.js';
import { listRoutes, timeline, type Timeline, type TimelineQuery } from './queries.js';
import { readerFor } from './read.js';
import { timelineAnswer } from './reader-ops.js';
import { readHeadHops } from './codec.js';
import { packedEdgeLatency } from './compact.js';
import {
  DAY_MS, HOUR_MS, MINUTE_MS, ROW_COLUMNS, TIER_CODE, addRound, countsRecord, decodeSlots, emptyAgg, floorTo, histBucket, latencySummary, mergeAgg,
  rowFromSql, type Agg, type Tier,
} from './rollup.js';
import { openStore, type Db } from './sqlite.js';
import { latencyNum, timelineAnswerJson, type TimelineScope } from './timeline-json.js';

const NOW = Date.UTC(2026, 0, 8, 6, 37, 0) + 12_345;
let db: Db;

beforeAll(() => {
  db = openStore(':memory:');
  generateStore(db, { routes: 8, days: 2, intervalMs: 60_000, now: NOW, namespaces: 2, seed: 3, retention: { rawDays: 1, minuteDays: null, hourDays: null, dayDays: null } });
});

afterAll(() => db?.close());

/** The API's view as api.ts built it before the JSON moved into the worker: the reference the text must equal. */
function referenceJson(t: Timeline, scope: TimelineScope): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  return JSON.stringify({
    data: {
      scope, from: iso(t.from), to: iso(t.to), stepMs: t.stepMs, tier: t.tier, expiredBefore: t.expiredBefore === null ? null : iso(t.expiredBefore),
      buckets: t.buckets.map((b) => ({ ...b, start: iso(b.start) })),
    },
  });
}

/**
 * Timeline buckets the way timeline() made them before: rows read one by one with plain SQL, an
 * empty aggregate per bucket, everything merged in, quantiles one at a time.
 */
function slowBuckets(rid: number, tier: Tier, from: number, to: number, stepMs: number): unknown[] {
  const aggs = Array.from({ length: (to - from) / stepMs }, () => emptyAgg());
  const at = (t: number) => aggs[Math.floor((t - from) / stepMs)];
  const merge = (t: number, a: Agg) => { const x = at(t); if (x) mergeAgg(x, a); };
  if (tier === 'minute') {
    for (const row of db.prepare('SELECT bucket, minutes FROM rollups WHERE scope = ? AND tier = 1 AND bucket >= ? AND bucket < ? AND minutes IS NOT NULL').all(rid, floorTo(from, HOUR_MS), to) as { bucket: number; minutes: Buffer }[]) {
      for (const [k, a] of decodeSlots(row.minutes)) if (row.bucket + k * MINUTE_MS >= from && row.bucket + k * MINUTE_MS < to) merge(row.bucket + k * MINUTE_MS, a);
    }
  }
  for (const raw of db.prepare(`SELECT ${ROW_COLUMNS} FROM rollups WHERE scope = ? AND tier = ? AND bucket >= ? AND bucket < ?`).all(rid, TIER_CODE[tier], from, to)) {
    const row = rowFromSql(raw);
    merge(row.bucket, row.agg);
  }
  const dict = readerFor(db).dict;
  for (const r of db.prepare('SELECT started_at, verdict_id, hops FROM rounds_head WHERE route_rid = ? AND started_at >= ? AND started_at < ?').all(rid, from, to) as { started_at: number; verdict_id: number; hops: Buffer }[]) {
    const v = dict.verdict(r.verdict_id);
    const lat = packedEdgeLatency({ startedAt: r.started_at, duration: 0, verdict: r.verdict_id, hops: readHeadHops(r.hops, dict.maskOf) }, (id) => dict.shape(id));
    const x = at(r.started_at);
    if (x) addRound(x, v.status, v.hop, v.cause, lat);
  }
  return aggs.map((a, i) => ({
    start: from + i * stepMs, rounds: a.rounds, ok: a.ok, degraded: a.degraded, failing: a.failing, unknown: a.unknown,
    failuresByHop: countsRecord(a.byHop), failuresByCause: countsRecord(a.byCause), latency: slowLatency(a),
  }));
}

/** The per-quantile histogram walk latencySummary replaced. */
function slowQuantile(agg: Agg, q: number): number {
  const rank = Math.max(1, Math.ceil(q * agg.latN));
  let seen = 0;
  for (const b of [...agg.hist.keys()].sort((x, y) => x - y)) {
    seen += agg.hist.get(b)!;
    if (seen >= rank) return Math.min(agg.latMax, Math.max(agg.latMin, b === 0 ? 0 : Math.round(2 ** ((b - 0.5) / 8)))) / 10;
  }
  return agg.latMax / 10;
}

function slowLatency(a: Agg): unknown {
  if (a.latN === 0) return null;
  return { minMs: a.latMin / 10, avgMs: Math.round((a.latSum / 10 / a.latN) * 1000) / 1000, maxMs: a.latMax / 10, p50Ms: slowQuantile(a, 0.5), p95Ms: slowQuantile(a, 0.95), p99Ms: slowQuantile(a, 0.99) };
}

describe('timeline answers', () => {
  const routeQueries = (): [string, TimelineQuery, TimelineScope][] => {
    const id = listRoutes(db)[3]!.id;
    return [
      ['a route per minute over a day', { routeId: id, from: NOW - DAY_MS, to: NOW, stepMs: MINUTE_MS }, { route: id }],
      ['a route per hour over two days', { routeId: id, from: NOW - 2 * DAY_MS, to: NOW, stepMs: HOUR_MS }, { route: id }],
      ['a namespace per 5 minutes', { namespace: 'team-1', from: NOW - 6 * HOUR_MS, to: NOW, stepMs: 5 * MINUTE_MS }, { namespace: 'team-1' }],
      ['every route per day', { all: true, from: NOW - 3 * DAY_MS, to: NOW, stepMs: DAY_MS }, { all: true }],
      ['a route from raw rounds', { routeId: id, from: NOW - HOUR_MS, to: NOW, stepMs: 30_000 }, { route: id }],
    ];
  };

  it('writes the JSON the API wrote from the objects, byte for byte', () => {
    let failures = 0;
    for (const [name, q, scope] of routeQueries()) {
      const t = timeline(db, q);
      expect(timelineAnswer(db, q, scope), name).toBe(referenceJson(t, scope));
      failures += t.buckets.filter((b) => Object.keys(b.failuresByCause).length > 0).length;
    }
    expect(failures).toBeGreaterThan(0);
    const odd: Timeline = {
      from: 0, to: 2 * HOUR_MS, stepMs: HOUR_MS, tier: 'hour', expiredBefore: HOUR_MS,
      buckets: [
        { start: 0, rounds: 0, ok: 0, degraded: 0, failing: 0, unknown: 0, failuresByHop: {}, failuresByCause: {}, latency: null },
        { start: HOUR_MS, rounds: 3, ok: 0, degraded: 1, failing: 2, unknown: 0, failuresByHop: { none: 1, pod: 2 }, failuresByCause: { 'a "quoted"\\ cause\n': 3 }, latency: { minMs: 0.1, avgMs: 1e21, maxMs: 2.5, p50Ms: 0, p95Ms: 1.25, p99Ms: 2.5 } },
      ],
    };
    expect(timelineAnswerJson(odd, { route: 'ns/ing/h\u00e9st/"p"' })).toBe(referenceJson(odd, { route: 'ns/ing/h\u00e9st/"p"' }));
  });

  it('writes every instant as toISOString does', () => {
    let seed = 5;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const starts = [0, -1, -86_400_000 - 7, 1, 999, 86_399_999, 86_400_000, Date.UTC(2024, 1, 29, 23, 59, 59, 999), 253_402_300_799_999, 253_402_300_800_000, 8.64e15];
    for (let i = 0; i < 2000; i++) starts.push(Math.floor(rand() * 4e12) + (i % 3 === 0 ? 0 : rand() * 1e3 > 500 ? 60_000 * i : 0));
    const empty = { rounds: 0, ok: 0, degraded: 0, failing: 0, unknown: 0, failuresByHop: {}, failuresByCause: {}, latency: null };
    const t: Timeline = { from: 0, to: 1, stepMs: 1, tier: 'raw', expiredBefore: null, buckets: starts.map((start) => ({ start, ...empty })) };
    expect(timelineAnswerJson(t, { all: true })).toBe(referenceJson(t, { all: true }));
  });

  it('writes latencies as JSON.stringify does', () => {
    let seed = 9;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const values = [0, -0, 0.1, 0.2, 0.3, 0.7, 1, 9.9, 10, 17.05, 1e14 + 0.1, 1e15 + 0.1, 1e21, -1.5, 0.05, Number.NaN, Number.POSITIVE_INFINITY];
    for (let i = 0; i < 20_000; i++) values.push(Math.floor(rand() * 10 ** (1 + (i % 12))) / 10, Math.round(rand() * 1e6) / 1000, rand() * 100);
    for (const v of values) expect(latencyNum(v), String(v)).toBe(JSON.stringify(v));
  });

  it('is null for a route that is not stored', () => {
    expect(timelineAnswer(db, { routeId: 'nope', from: NOW - HOUR_MS, to: NOW, stepMs: MINUTE_MS }, { route: 'nope' })).toBeNull();
  });

  it('has the buckets of merging every aggregate into empty ones, per tier', () => {
    let failing = 0;
    for (const route of listRoutes(db)) {
      const rid = db.prepare('SELECT rid FROM routes WHERE id = ?').pluck().get(route.id) as number;
      for (const [tier, stepMs, range] of [['minute', MINUTE_MS, DAY_MS], ['minute', 5 * MINUTE_MS, 2 * DAY_MS], ['hour', HOUR_MS, 2 * DAY_MS], ['day', DAY_MS, 3 * DAY_MS]] as const) {
        const from = floorTo(NOW - range, stepMs);
        const to = Math.ceil(NOW / stepMs) * stepMs;
        const t = timeline(db, { routeId: route.id, from: NOW - range, to: NOW, stepMs });
        expect(t.tier).toBe(tier);
        expect(t.buckets, `${route.id} ${tier} ${stepMs}`).toEqual(slowBuckets(rid, tier, from, to, stepMs));
        failing += t.buckets.reduce((n, b) => n + b.failing, 0);
      }
    }
    expect(failing).toBeGreaterThan(0);
  });

  it('gives the quantiles of one walk per quantile', () => {
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 300; i++) {
      const a = emptyAgg();
      const n = 1 + Math.floor(rand() * (i % 3 === 0 ? 3 : 400));
      for (let k = 0; k < n; k++) addRound(a, 'ok', null, 'ok', Math.floor(rand() ** 3 * 50_000));
      if (i % 7 === 0) a.hist.set(histBucket(1), 0);
      expect(latencySummary(a), `case ${i}`).toEqual(slowLatency(a));
    }
  });
});
