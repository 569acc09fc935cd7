// 4. Timeline queries on the generated store (store-fixture.ts), through the daemon's reader (a
// read-only connection in a worker thread, as the API uses it): all routes hourly over 30 days, one
// route over 30 days, one route's last 24 h per minute, the incidents list, and the dashboard's
// routes page. Each is run once cold, then several times warm; the median warm time is the figure.
// The timelines are asked as the API asks them (`timelineAnswer`: the answer's JSON written in the
// worker, one string back); the baselines return the buckets as objects (no JSON written).
// Baselines, measured in the same run: the same question read from the raw tier (every stored
// round decoded, no rollups; the raw tier only holds the last rawDays, so 30-day questions read
// those days only and the ratio understates what rollups save); for the incidents list the same
// query on this thread (what the worker's message round trip adds); for the routes page (the
// dashboard's first page of 100) every route in one page.
// Then the event loop's delay p99 while the heaviest query runs back to back: in the worker, and
// in-process for comparison.

import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { createInProcessReader, openStoreReader, type StoreReader } from '../src/store/reader.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../src/store/rollup.js';
import { openStore } from '../src/store/sqlite.js';
import { type BenchContext, type Benchmark, type Figure, figure, median } from './harness.js';
import { watchLoopDelay } from './load.js';
import { type StoreFixture, storeFixture } from './store-fixture.js';

const SCALE = { full: { warm: 7, stallMs: 4000 }, quick: { warm: 5, stallMs: 1500 }, tiny: { warm: 2, stallMs: 300 } };

/** Median warm time (ms) of a query: one cold call first, then `warm` timed calls. */
async function warmMs(fn: () => Promise<unknown>, warm: number): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < warm; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

/** Event-loop delay p99 while `fn` runs back to back for durationMs. */
async function delayWhile(fn: () => Promise<unknown>, durationMs: number): Promise<number> {
  const monitor = watchLoopDelay(1);
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    await fn();
    // A turn of the loop between queries, as an API server's other requests would get.
    await sleep(0);
  }
  return monitor.stop().p99;
}

interface Query {
  name: string;
  run: (r: StoreReader) => Promise<unknown>;
  baseline: { name: string; run: (r: StoreReader) => Promise<unknown>; inProcess: boolean };
}

function queries(f: StoreFixture, routeId: string): Query[] {
  const { now } = f;
  const from = now - f.days * DAY_MS;
  const rawFrom = f.retention.rawDays === null ? from : Math.max(from, now - f.retention.rawDays * DAY_MS);
  const raw = `raw tier, last ${Math.round((now - rawFrom) / DAY_MS)} d only`;
  return [
    {
      name: `all routes, hourly, ${f.days} d`,
      run: (r) => r.timelineAnswer({ all: true, from, to: now, stepMs: HOUR_MS }, { all: true }),
      baseline: { name: `every round decoded (${raw})`, run: (r) => r.timeline({ all: true, from: rawFrom, to: now, stepMs: HOUR_MS, tier: 'raw' }), inProcess: false },
    },
    {
      name: `one route, hourly, ${f.days} d`,
      run: (r) => r.timelineAnswer({ routeId, from, to: now, stepMs: HOUR_MS }, { route: routeId }),
      baseline: { name: `every round decoded (${raw})`, run: (r) => r.timeline({ routeId, from: rawFrom, to: now, stepMs: HOUR_MS, tier: 'raw' }), inProcess: false },
    },
    {
      name: 'one route, last 24 h per minute',
      run: (r) => r.timelineAnswer({ routeId, from: now - DAY_MS, to: now, stepMs: MINUTE_MS }, { route: routeId }),
      baseline: { name: 'every round decoded (raw tier)', run: (r) => r.timeline({ routeId, from: now - DAY_MS, to: now, stepMs: MINUTE_MS, tier: 'raw' }), inProcess: false },
    },
    {
      name: 'incidents list (first page of 100)',
      run: (r) => r.incidentPage({ limit: 100 }),
      baseline: { name: 'same query on this thread', run: (r) => r.incidentPage({ limit: 100 }), inProcess: true },
    },
    {
      name: `routes page (first 100 of ${f.routes} routes by status, uptime 24h/7d/30d)`,
      run: (r) => r.routePage({ sort: 'status', order: 'desc', limit: 100, now }),
      baseline: { name: 'all routes in one page, same query', run: (r) => r.routePage({ sort: 'status', order: 'desc', limit: 1000, now }), inProcess: false },
    },
  ];
}

async function measure(ctx: BenchContext): Promise<Figure[]> {
  const scale = SCALE[ctx.mode];
  const f = storeFixture(ctx);
  const reader = await openStoreReader(f.path);
  ctx.defer(() => reader.close());
  const db = openStore(f.path, { readonly: true });
  ctx.defer(() => db.close());
  const local = createInProcessReader(db);
  const routeId = (await reader.listRoutes())[Math.floor(f.routes / 2)]?.id;
  if (routeId === undefined) throw new Error(`the store ${f.path} has no routes`);
  const scaleNote = f.scaled ? `scaled-down store: ${f.days} d x ${f.routes} routes (raw ${f.retention.rawDays} d)` : `${f.days} d x ${f.routes} routes at ${f.intervalMs / 1000} s, default retention`;
  const figures: Figure[] = [];
  for (const q of queries(f, routeId)) {
    const value = await warmMs(() => q.run(reader), scale.warm);
    // Raw-tier baselines scan every stored round (seconds on the full store): timed once, after the cold call warmed the cache.
    const baseline = await warmMs(() => q.baseline.run(q.baseline.inProcess ? local : reader), q.baseline.inProcess ? scale.warm : 1);
    ctx.log(`${q.name}: ${value.toFixed(2)} ms warm (baseline ${baseline.toFixed(1)} ms)`);
    figures.push(figure({ bench: 'queries', name: q.name, value, unit: 'ms', baseline: { name: q.baseline.name, value: baseline }, aim: { of: 'value', max: 50 }, runs: scale.warm, note: figures.length === 0 ? scaleNote : undefined }));
  }
  const heavy = (r: StoreReader) => r.timeline({ all: true, from: f.now - 6 * HOUR_MS, to: f.now, stepMs: HOUR_MS, tier: 'raw' });
  const inWorker = await delayWhile(() => heavy(reader), scale.stallMs);
  const inProcess = await delayWhile(() => heavy(local), scale.stallMs);
  figures.push(
    figure({
      bench: 'queries', name: 'event-loop delay p99 during a heavy query (worker)', value: inWorker, unit: 'ms', baseline: { name: 'same query on the event loop', value: inProcess }, runs: 1,
      note: 'heavy query: every raw round of every route over 6 h decoded, back to back; the daemon runs queries in the worker',
    }),
  );
  return figures;
}

/** The benchmark. */
export const queriesBench: Benchmark = { id: 'queries', title: '4. Timeline queries', run: measure };
