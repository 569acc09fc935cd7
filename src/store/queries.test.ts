import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import type { RouteRound, VerdictStatus } from '../model.js';
import { compact } from './compact.js';
import { fixtureRound, fixtureRoute } from './fixtures.js';
import { listRoutes, markRoutePresence, newestRound, tierPieces, timeline, uptime, type TimelineBucket, type TimelineQuery } from './queries.js';
import { readerFor } from './read.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from './rollup.js';
import { openStore, type Db } from './sqlite.js';
import { createWriter } from './write.js';

const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const shopA = fixtureRoute('shop', 'a');
const shopB = fixtureRoute('shop', 'b');
const blogC = fixtureRoute('blog', 'c');

/** 50 hours of history: three routes, failure and degradation episodes, some unknown rounds, varied latency. */
function history(): RouteRound[] {
  const out: RouteRound[] = [];
  const statusAt = (route: string, t: number, i: number): VerdictStatus => {
    const m = (t - T0) / MINUTE_MS;
    if (route === shopA.id && m >= 70 && m < 85) return 'failing';
    if (route === shopA.id && m >= 26 * 60 && m < 26 * 60 + 40) return 'degraded';
    if (route === shopB.id && m >= 47 * 60 + 50 && m < 48 * 60 + 20) return 'failing'; // spans compacted and head data
    if (route === blogC.id && i % 97 === 0) return 'unknown';
    return 'ok';
  };
  for (const [route, every, offset] of [[shopA, 30_000, 1_000], [shopB, 30_000, 17_000], [blogC, 60_000, 5_500]] as const) {
    for (let i = 0, t = T0 + offset; t < T0 + 50 * HOUR_MS; i++, t += every) {
      out.push(fixtureRound(route, t, statusAt(route.id, t, i), 2 + ((i * 7) % 23) + (i % 11) / 10));
    }
  }
  return out.sort((a, b) => a.startedAt - b.startedAt);
}

/** What a bucket must say, computed straight from the rounds. */
function oracle(rounds: readonly RouteRound[], from: number, stepMs: number): Map<number, Omit<TimelineBucket, 'latency'> & { avgMs: number; maxMs: number }> {
  const out = new Map<number, Omit<TimelineBucket, 'latency'> & { sum: number; avgMs: number; maxMs: number }>();
  for (const r of rounds) {
    const start = Math.floor((r.startedAt - from) / stepMs) * stepMs + from;
    let b = out.get(start);
    if (b === undefined) {
      b = { start, rounds: 0, ok: 0, degraded: 0, failing: 0, unknown: 0, failuresByHop: {}, failuresByCause: {}, sum: 0, avgMs: 0, maxMs: 0 };
      out.set(start, b);
    }
    b.rounds++;
    b[r.verdict.status]++;
    if (r.verdict.status === 'failing' || r.verdict.status === 'degraded') {
      const hop = r.verdict.hop ?? 'none';
      b.failuresByHop[hop] = (b.failuresByHop[hop] ?? 0) + 1;
      b.failuresByCause[r.verdict.cause] = (b.failuresByCause[r.verdict.cause] ?? 0) + 1;
    }
    const ms = r.hops[0]!.timings.totalMs;
    b.sum += Math.round(ms * 10);
    b.maxMs = Math.max(b.maxMs, ms);
  }
  for (const b of out.values()) b.avgMs = Math.round((b.sum / 10 / b.rounds) * 1000) / 1000;
  return out;
}

function expectMatchesOracle(buckets: TimelineBucket[], rounds: readonly RouteRound[], stepMs: number): void {
  const want = oracle(rounds, buckets[0]!.start, stepMs);
  let nonEmpty = 0;
  for (const b of buckets) {
    const o = want.get(b.start);
    if (o === undefined) {
      expect(b.rounds).toBe(0);
      continue;
    }
    nonEmpty++;
    const { avgMs, maxMs, ...counts } = o;
    expect({ ...b, latency: undefined }).toEqual({ ...counts, sum: undefined, latency: undefined });
    expect(b.latency).toMatchObject({ avgMs, maxMs });
    expect(b.latency!.p95Ms).toBeLessThanOrEqual(maxMs);
  }
  expect(nonEmpty).toBe([...want.keys()].filter((k) => k >= buckets[0]!.start && k < buckets[buckets.length - 1]!.start + stepMs).length);
}

let db: Db;
let rounds: RouteRound[];
/** The same history, never compacted: every answer comes from head rows and the live all-routes rollups. */
let headOnly: Db;

beforeAll(() => {
  rounds = history();
  db = openStore(':memory:');
  headOnly = openStore(':memory:');
  const w = createWriter(db);
  const wh = createWriter(headOnly);
  for (let i = 0; i < rounds.length; i += 500) {
    w.writeRounds(rounds.slice(i, i + 500));
    wh.writeRounds(rounds.slice(i, i + 500));
  }
  // Compact everything older than 48 h: the last two hours stay in the head.
  while (compact(db, T0 + 48 * HOUR_MS + 10 * MINUTE_MS).more);
});
afterAll(() => {
  db.close();
  headOnly.close();
});

const pick = (r: RouteRound, q: Pick<TimelineQuery, 'routeId' | 'namespace' | 'all'>): boolean =>
  q.all === true || r.route.id === q.routeId || r.route.namespace === q.namespace;

describe('timeline', () => {
  const scopes: [string, Pick<TimelineQuery, 'routeId' | 'namespace' | 'all'>][] = [
    ['one route', { routeId: shopA.id }],
    ['another route', { routeId: shopB.id }],
    ['a namespace', { namespace: 'shop' }],
    ['all routes', { all: true }],
  ];

  for (const [name, scope] of scopes) {
    it(`${name}: hourly buckets hold exact counts, and raw, minute and hour tiers agree`, () => {
      const q = { ...scope, from: T0, to: T0 + 50 * HOUR_MS, stepMs: HOUR_MS };
      const auto = timeline(db, q);
      expect(auto.tier).toBe('hour');
      expect(auto.buckets).toHaveLength(50);
      expectMatchesOracle(auto.buckets, rounds.filter((r) => pick(r, scope)), HOUR_MS);
      expect(timeline(db, { ...q, tier: 'minute' }).buckets).toEqual(auto.buckets);
      expect(timeline(db, { ...q, tier: 'raw' }).buckets).toEqual(auto.buckets);
      expect(timeline(headOnly, q).buckets).toEqual(auto.buckets);
    });

    it(`${name}: daily buckets from the day tier equal hour, minute and raw answers`, () => {
      const q = { ...scope, from: T0, to: T0 + 3 * DAY_MS, stepMs: DAY_MS };
      const auto = timeline(db, q);
      expect(auto.tier).toBe('day');
      expect(auto.buckets.map((b) => b.rounds)).toEqual(
        [0, 1, 2].map((d) => rounds.filter((r) => pick(r, scope) && Math.floor((r.startedAt - T0) / DAY_MS) === d).length),
      );
      for (const tier of ['hour', 'minute', 'raw'] as const) expect(timeline(db, { ...q, tier }).buckets).toEqual(auto.buckets);
    });
  }

  it('minute buckets across compacted and head data: exact, and equal to raw', () => {
    const q = { routeId: shopB.id, from: T0 + 47 * HOUR_MS, to: T0 + 49 * HOUR_MS, stepMs: MINUTE_MS };
    const auto = timeline(db, q);
    expect(auto.tier).toBe('minute');
    expect(auto.buckets).toHaveLength(120);
    expectMatchesOracle(auto.buckets, rounds.filter((r) => r.route.id === shopB.id), MINUTE_MS);
    expect(auto.buckets.reduce((n, b) => n + b.failing, 0)).toBe(60);
    expect(timeline(db, { ...q, tier: 'raw' }).buckets).toEqual(auto.buckets);
    const all = { all: true, from: q.from, to: q.to, stepMs: 5 * MINUTE_MS };
    expect(timeline(db, all).buckets).toEqual(timeline(db, { ...all, tier: 'raw' }).buckets);
  });

  it('names the failing hop and cause of an episode', () => {
    const t = timeline(db, { routeId: shopA.id, from: T0 + HOUR_MS, to: T0 + 2 * HOUR_MS, stepMs: 5 * MINUTE_MS });
    const failing = t.buckets.filter((b) => b.failing > 0);
    expect(failing.map((b) => (b.start - T0) / MINUTE_MS)).toEqual([70, 75, 80]);
    expect(failing.map((b) => b.failuresByCause)).toEqual(Array(3).fill({ 'controller.error': 10 }));
    expect(failing.map((b) => b.failuresByHop)).toEqual(Array(3).fill({ controller: 10 }));
  });

  it('reads raw rows for steps under a minute and aligns buckets to the step', () => {
    const t = timeline(db, { routeId: shopA.id, from: T0 + 10 * MINUTE_MS + 7_000, to: T0 + 12 * MINUTE_MS, stepMs: 30_000 });
    expect(t.tier).toBe('raw');
    expect(t.from).toBe(T0 + 10 * MINUTE_MS);
    expect(t.buckets.map((b) => b.rounds)).toEqual([1, 1, 1, 1]);
  });

  it('rejects bad queries', () => {
    const base = { from: T0, to: T0 + HOUR_MS, stepMs: MINUTE_MS };
    expect(() => timeline(db, base)).toThrow(expect.objectContaining({ code: 'BAD_QUERY' }));
    expect(() => timeline(db, { ...base, all: true, routeId: shopA.id })).toThrow(expect.objectContaining({ code: 'BAD_QUERY' }));
    expect(() => timeline(db, { ...base, all: true, stepMs: 0 })).toThrow(expect.objectContaining({ code: 'BAD_QUERY' }));
    expect(() => timeline(db, { ...base, all: true, tier: 'hour' })).toThrow(expect.objectContaining({ code: 'BAD_QUERY' }));
    expect(() => timeline(db, { all: true, from: 0, to: T0, stepMs: MINUTE_MS })).toThrow(expect.objectContaining({ code: 'BAD_QUERY' }));
  });
});

describe('uptime', () => {
  it('counts (ok + degraded) over rounds with a known status, from rollups and head alike', () => {
    for (const [route, from, to] of [
      [shopA, T0, undefined],
      [shopA, T0 + 37 * MINUTE_MS, T0 + 26 * HOUR_MS + 13 * MINUTE_MS],
      [shopB, T0 + 47 * HOUR_MS, T0 + 49 * HOUR_MS + 30 * MINUTE_MS],
      [shopA, T0 + 37 * MINUTE_MS + 13_000, T0 + 26 * HOUR_MS + 13 * MINUTE_MS + 45_000],
      [blogC, T0 + 90 * MINUTE_MS, undefined],
    ] as const) {
      // Both ends are floored to the minute.
      const [a, b] = [Math.floor(from / MINUTE_MS) * MINUTE_MS, to === undefined ? Infinity : Math.floor(to / MINUTE_MS) * MINUTE_MS];
      const want = rounds.filter((r) => r.route.id === route.id && r.startedAt >= a && r.startedAt < b);
      const count = (s: VerdictStatus): number => want.filter((r) => r.verdict.status === s).length;
      const known = want.length - count('unknown');
      const got = uptime(db, route.id, from, to);
      expect(got).toMatchObject({ rounds: want.length, ok: count('ok'), degraded: count('degraded'), failing: count('failing'), unknown: count('unknown') });
      expect(got.uptime).toBeCloseTo((count('ok') + count('degraded')) / known, 12);
      expect(uptime(headOnly, route.id, from, to)).toEqual(got);
    }
    expect(uptime(db, shopA.id, T0 + 70 * MINUTE_MS, T0 + 85 * MINUTE_MS).uptime).toBe(0);
    expect(uptime(db, 'no/such/route', T0).uptime).toBeNull();
  });

  it('splits a range into minute, hour and day pieces that cover it exactly', () => {
    const from = T0 + 37 * MINUTE_MS;
    const to = T0 + 2 * DAY_MS + 5 * HOUR_MS + 13 * MINUTE_MS;
    const pieces = tierPieces(from, to);
    expect(pieces).toEqual([
      ['minute', from, T0 + HOUR_MS],
      ['hour', T0 + HOUR_MS, T0 + DAY_MS],
      ['day', T0 + DAY_MS, T0 + 2 * DAY_MS],
      ['hour', T0 + 2 * DAY_MS, T0 + 2 * DAY_MS + 5 * HOUR_MS],
      ['minute', T0 + 2 * DAY_MS + 5 * HOUR_MS, to],
    ]);
    expect(tierPieces(from, from + 5 * MINUTE_MS)).toEqual([['minute', from, from + 5 * MINUTE_MS]]);
  });
});

describe('markRoutePresence', () => {
  it('marks routes gone from the cluster removed and brings them back when they reappear', () => {
    const db = openStore(':memory:');
    const a = fixtureRoute('shop', 'a');
    const b = fixtureRoute('shop', 'b');
    createWriter(db).writeRounds([fixtureRound(a, 1000, 'ok', 5), fixtureRound(b, 1000, 'ok', 5)]);
    markRoutePresence(db, [a.id], 2000);
    expect(listRoutes(db).map((r) => [r.ingress, r.removedAt])).toEqual([['a', null], ['b', 2000]]);
    markRoutePresence(db, [a.id, b.id], 3000);
    expect(listRoutes(db).map((r) => r.removedAt)).toEqual([null, null]);
    db.close();
  });
});

describe('listRoutes latest', () => {
  it('gives each route the newest round newestRound finds: head only, compacted only, a late head round older than a chunk, none', () => {
    const store = openStore(':memory:');
    try {
      const [live, gone, late, empty] = ['live', 'gone', 'late', 'empty'].map((name) => fixtureRoute('ns', name));
      const w = createWriter(store);
      const at = (h: number, m: number): number => T0 + h * HOUR_MS + m * MINUTE_MS;
      w.writeRounds([fixtureRound(live, at(0, 1), 'ok', 3), fixtureRound(gone, at(0, 2), 'failing', 4), fixtureRound(late, at(0, 30), 'degraded', 5)]);
      w.writeRounds([fixtureRound(live, at(2, 1), 'failing', 6)]);
      // Everything before 01:00 compacted: 'gone' is in a chunk only, 'late' too.
      while (compact(store, at(1, 10)).more);
      // A round of 'late' older than its chunk's end, written after the compaction (it stays in the head).
      w.writeRounds([fixtureRound(late, at(0, 10), 'ok', 7)]);
      w.writeRounds([fixtureRound(empty, at(0, 5), 'ok', 1)]);
      store.prepare("DELETE FROM rounds_head WHERE route_rid = (SELECT rid FROM routes WHERE ingress = 'empty')").run();
      const reader = readerFor(store);
      const got = new Map(listRoutes(store).map((r) => [r.ingress, r.latest]));
      const rid = (name: string): number => (store.prepare('SELECT rid FROM routes WHERE ingress = ?').pluck().get(name) as number);
      for (const name of ['live', 'gone', 'late', 'empty']) {
        const want = newestRound(reader, rid(name), false);
        expect(got.get(name)?.startedAt ?? null, name).toBe(want?.startedAt ?? null);
      }
      expect(got.get('live')).toMatchObject({ startedAt: at(2, 1), durationMs: expect.any(Number), verdict: { status: 'failing' } });
      expect(got.get('gone')).toMatchObject({ startedAt: at(0, 2), verdict: { status: 'failing' } });
      expect(got.get('late')).toMatchObject({ startedAt: at(0, 30), verdict: { status: 'degraded' } });
      expect(got.get('empty')).toBeNull();
      expect(listRoutes(store, { namespace: 'ns' }).map((r) => r.latest?.startedAt ?? null)).toEqual(listRoutes(store).map((r) => r.latest?.startedAt ?? null));
    } finally {
      store.close();
    }
  });
});
