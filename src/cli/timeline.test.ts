import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateStore } from '../store/generate.js';
import { DAY_MS, MINUTE_MS } from '../store/rollup.js';
import { openStore, type Db } from '../store/sqlite.js';
import type { ApiBucket } from './history-format.js';
import { connectionSource, HistoryError, resolveRange } from './history-source.js';
import { collectTimeline, defaultStep, mergeBuckets, scopeFromFlags } from './timeline.js';

const T = Date.UTC(2026, 0, 31, 12, 0, 0);

function bucket(over: Partial<ApiBucket>): ApiBucket {
  return { start: '2026-01-31T12:00:00.000Z', rounds: 0, ok: 0, degraded: 0, failing: 0, unknown: 0, failuresByHop: {}, failuresByCause: {}, latency: null, ...over };
}

describe('timeline flags', () => {
  it('picks the finest step giving at most 100 buckets: a day at 15 minutes, 90 days at a day', () => {
    expect(defaultStep(T - 3_600_000, T)).toBe(MINUTE_MS);
    expect(defaultStep(T - DAY_MS, T)).toBe(15 * MINUTE_MS);
    expect(defaultStep(T - DAY_MS + 7 * MINUTE_MS, T + 7 * MINUTE_MS)).toBe(15 * MINUTE_MS);
    expect(defaultStep(T - 7 * DAY_MS, T)).toBe(2 * 3_600_000);
    expect(defaultStep(T - 90 * DAY_MS, T)).toBe(DAY_MS);
  });

  it('resolves --since and --from/--to against the local clock, with errors naming the flag', () => {
    expect(resolveRange({}, T, DAY_MS)).toEqual({ from: T - DAY_MS, to: T });
    expect(resolveRange({ since: '2h' }, T, DAY_MS)).toEqual({ from: T - 7_200_000, to: T });
    expect(resolveRange({ from: '2026-01-30T00:00:00Z', to: '6h' }, T, DAY_MS)).toEqual({ from: Date.UTC(2026, 0, 30), to: T - 21_600_000 });
    expect(() => resolveRange({ since: '2 hours' }, T, DAY_MS)).toThrow(/^--since: invalid duration "2 hours"/);
    expect(() => resolveRange({ from: 'monday' }, T, DAY_MS)).toThrow(/^--from: invalid time "monday"/);
    expect(() => resolveRange({ since: '1h', to: 'now' }, T, DAY_MS)).toThrow(HistoryError);
    expect(() => resolveRange({ from: '1h', to: '2h' }, T, DAY_MS)).toThrow(/--from must be before --to/);
  });

  it('takes at most one scope', () => {
    expect(scopeFromFlags({})).toEqual({ all: true });
    expect(scopeFromFlags({ ingress: 'shop/web' })).toEqual({ ingress: { namespace: 'shop', name: 'web', kind: 'Ingress' } });
    expect(scopeFromFlags({ httproute: 'shop/web' })).toEqual({ ingress: { namespace: 'shop', name: 'web', kind: 'HTTPRoute' } });
    expect(() => scopeFromFlags({ ingress: 'shop/web', httproute: 'shop/web' })).toThrow('give one of --route, --ingress, --httproute, -n');
    expect(() => scopeFromFlags({ httproute: 'web' })).toThrow('--httproute "web": expected NAMESPACE/NAME');
    expect(scopeFromFlags({ namespace: 'shop' })).toEqual({ namespace: 'shop' });
    expect(() => scopeFromFlags({ namespace: 'shop', route: 'x' })).toThrow('give one of --route, --ingress, --httproute, -n');
    expect(() => scopeFromFlags({ ingress: 'web' })).toThrow('expected NAMESPACE/NAME');
  });
});

describe('mergeBuckets (an Ingress with several routes)', () => {
  it('adds counts and breakdowns; latency keeps the extremes, weights the mean, bounds the percentiles', () => {
    const a = bucket({ rounds: 4, ok: 2, failing: 2, failuresByHop: { pod: 2 }, failuresByCause: { 'pod.refused': 2 }, latency: { minMs: 2, avgMs: 4, maxMs: 9, p50Ms: 3, p95Ms: 8, p99Ms: 9 } });
    const b = bucket({ rounds: 2, ok: 1, degraded: 1, failuresByHop: { pod: 1 }, failuresByCause: { 'pod.crashloop': 1 }, latency: { minMs: 1, avgMs: 10, maxMs: 20, p50Ms: 9, p95Ms: 19, p99Ms: 20 } });
    expect(mergeBuckets([[a], [b], [bucket({})]])).toEqual([bucket({
      rounds: 6, ok: 3, degraded: 1, failing: 2, failuresByHop: { pod: 3 }, failuresByCause: { 'pod.refused': 2, 'pod.crashloop': 1 },
      latency: { minMs: 1, avgMs: 6, maxMs: 20, p50Ms: 9, p95Ms: 19, p99Ms: 20 },
    })]);
  });
});

describe('30 days x 1,000 routes', () => {
  let db: Db;
  const now = Date.UTC(2026, 0, 31, 12, 0, 0);
  let generated = 0;

  beforeAll(() => {
    db = openStore(':memory:');
    // Everything older than the current hour exists only as rollups (rawDays 0), as after retention.
    const stats = generateStore(db, {
      routes: 1000, days: 30, intervalMs: 300_000, now, namespaces: 40, seed: 5,
      retention: { rawDays: 0, minuteDays: 30, hourDays: null, dayDays: null },
    });
    generated = stats.bulkRounds + stats.rawRounds;
  }, 180_000);
  afterAll(() => db?.close());

  it('answers from the hour rollups, every round counted; per-route strips for every route', async () => {
    const source = connectionSource(db, 'generated store', () => now);
    const from = now - 30 * DAY_MS;
    const t0 = performance.now();
    const all = await source.get(['timeline'], { from: new Date(from).toISOString(), to: new Date(now).toISOString() });
    const scopeMs = performance.now() - t0;
    const t1 = performance.now();
    const report = await collectTimeline(source, { scope: { all: true }, from, to: now, stepMs: defaultStep(from, now) });
    const cliMs = performance.now() - t1;
    const data = (all as { data: { tier: string; buckets: ApiBucket[] } }).data;
    expect(data.tier).toBe('hour');
    expect(data.buckets.reduce((n, b) => n + b.rounds, 0)).toBe(generated);
    expect(report.timeline.tier).toBe('hour');
    expect(report.routes).toHaveLength(1000);
    expect(report.routes.reduce((n, r) => n + r.buckets.reduce((m, b) => m + b.rounds, 0), 0)).toBe(generated);
    // Figures for the record, never asserted (shared machine).
    console.log(`30 d x 1,000 routes (${generated} rounds): GET /api/v1/timeline (all routes, ${data.buckets.length} buckets) ${scopeMs.toFixed(0)} ms; hopwatch timeline's data (scope + 1,000 per-route timelines) ${cliMs.toFixed(0)} ms`);
    await source.close();
  }, 120_000);
});
