import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StoreError } from './errors.js';
import { fixtureRound, fixtureRoute } from './fixtures.js';
import { generateStore } from './generate.js';
import { getIncident, listIncidents } from './incidents.js';
import { getRoute, listRoutes, roundsOf, timeline, uptime } from './queries.js';
import { ROUTE_SORT_FIELDS, UPTIME_WINDOWS, routePage, uptimeRatios, type RouteRow, type UptimeWindow } from './reader-ops.js';
import { ReaderError, createInProcessReader, openStoreReader, type StoreReader } from './reader.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from './rollup.js';
import { openStore, type Db } from './sqlite.js';
import { createWriter, registerRoute } from './write.js';

// Not on a minute or hour boundary, so uptime windows have minute edges; the newest hour is still in the head.
const NOW = Date.UTC(2026, 0, 8, 6, 37, 0) + 12_345;
const dir = mkdtempSync(join(tmpdir(), 'hopwatch-reader-'));
const path = join(dir, 'store.db');
let db: Db;
let worker: StoreReader;
let local: StoreReader;

/** A store with 12 generated routes over 3 days, a route with no round and one whose newest round is unknown. */
function seed(target: Db): void {
  generateStore(target, {
    routes: 12, days: 3, intervalMs: 60_000, now: NOW, namespaces: 3, seed: 7,
    retention: { rawDays: 1, minuteDays: null, hourDays: null, dayDays: null },
  });
  registerRoute(target, fixtureRoute('quiet', 'never-probed'), NOW - HOUR_MS);
  const odd = fixtureRoute('team-1', 'odd');
  createWriter(target).writeRounds([fixtureRound(odd, NOW - 2 * MINUTE_MS, 'failing', 4), fixtureRound(odd, NOW - MINUTE_MS, 'unknown', 3)]);
}

beforeAll(async () => {
  db = openStore(path);
  seed(db);
  worker = await openStoreReader(path);
  local = createInProcessReader(db);
});

afterAll(async () => {
  await worker?.close();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each([
  ['worker', () => worker],
  ['in-process', () => local],
])('StoreReader (%s) answers as the query functions do', (_name, reader) => {
  it('routes, rounds, timelines, uptime and incidents', async () => {
    const r = reader();
    const routes = listRoutes(db);
    const id = routes[3]!.id;
    expect(await r.listRoutes()).toEqual(routes);
    expect(await r.listRoutes({ namespace: 'team-1' })).toEqual(listRoutes(db, { namespace: 'team-1' }));
    expect(await r.getRoute(id)).toEqual(getRoute(db, id));
    expect(await r.getRoute('nope')).toBeNull();
    const page = roundsOf(db, id, { limit: 7, from: NOW - DAY_MS });
    expect(await r.roundsOf(id, { limit: 7, from: NOW - DAY_MS })).toEqual(page);
    expect(await r.roundsOf(id, { limit: 7, from: NOW - DAY_MS, cursor: page.nextCursor! })).toEqual(roundsOf(db, id, { limit: 7, from: NOW - DAY_MS, cursor: page.nextCursor! }));
    const q = { namespace: 'team-0', from: NOW - 3 * DAY_MS, to: NOW, stepMs: HOUR_MS };
    expect(await r.timeline(q)).toEqual(timeline(db, q));
    expect(await r.uptime(id, NOW - 7 * DAY_MS, NOW)).toEqual(uptime(db, id, NOW - 7 * DAY_MS, NOW));
    const incidents = listIncidents(db, { limit: 5 });
    expect(incidents.incidents.length).toBe(5);
    expect(await r.listIncidents({ limit: 5 })).toEqual(incidents);
    expect(await r.getIncident(incidents.incidents[0]!.id)).toEqual(getIncident(db, incidents.incidents[0]!.id));
  });

  it('rejects with the StoreError code of a bad query', async () => {
    const r = reader();
    const cursor = r.roundsOf(routesOf()[0]!, { cursor: 'not-a-cursor' });
    await expect(cursor).rejects.toBeInstanceOf(StoreError);
    await expect(cursor).rejects.toMatchObject({ code: 'BAD_CURSOR' });
    await expect(r.timeline({ from: 0, to: 1, stepMs: HOUR_MS })).rejects.toMatchObject({ name: 'StoreError', code: 'BAD_QUERY', message: 'timeline needs exactly one of routeId, namespace or all' });
    await expect(r.routePage({ sort: 'name', order: 'asc', limit: 2, now: NOW, cursor: (await r.routePage({ sort: 'status', order: 'asc', limit: 2, now: NOW })).nextCursor! }))
      .rejects.toMatchObject({ code: 'BAD_CURSOR' });
  });
});

function routesOf(): string[] {
  return listRoutes(db).map((r) => r.id);
}

describe('uptimeRatios', () => {
  it.each([
    ['now', NOW],
    ['on an hour boundary', Date.UTC(2026, 0, 8, 6, 0, 0)],
    ['inside the head hour', NOW - 5 * MINUTE_MS],
    ['a day ago, mid-hour', NOW - DAY_MS - 17 * MINUTE_MS],
    ['before the history', NOW - 5 * DAY_MS],
  ])('matches uptime() for every route and window (%s)', (_name, now) => {
    const ids = [...routesOf(), 'missing-route'];
    const bulk = uptimeRatios(db, ids, now);
    let known = 0;
    for (const id of ids) {
      for (const [w, ms] of Object.entries(UPTIME_WINDOWS) as [UptimeWindow, number][]) {
        const want = uptime(db, id, now - ms, now).uptime;
        expect(bulk.get(id)![w], `${id} ${w}`).toBe(want);
        if (want !== null) known++;
      }
    }
    if (now > NOW - 4 * DAY_MS) expect(known).toBeGreaterThan(ids.length);
  });
});

describe('routePage', () => {
  /** Every page of a query, with the sort key each row was placed by. */
  function walk(query: Omit<Parameters<typeof routePage>[1], 'cursor'>): RouteRow[] {
    const rows: RouteRow[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 100; i++) {
      const page = routePage(db, { ...query, ...(cursor === undefined ? {} : { cursor }) });
      expect(page.routes.length).toBeLessThanOrEqual(query.limit);
      rows.push(...page.routes);
      if (page.nextCursor === null) return rows;
      cursor = page.nextCursor;
    }
    throw new Error('pagination did not end');
  }

  const value = (r: RouteRow, sort: string): number | string | null => {
    const rank = { ok: 0, unknown: 1, degraded: 2, failing: 3 } as const;
    switch (sort) {
      case 'name': return `${r.namespace}\0${r.ingress}\0${r.host ?? ''}\0${r.path}`;
      case 'status': return r.latest === null ? null : rank[r.latest.verdict.status];
      case 'lastRound': return r.latest?.startedAt ?? null;
      case 'latency': return r.latencyMs;
      default: return r.uptime[sort.slice('uptime'.length) as UptimeWindow];
    }
  };

  it.each(ROUTE_SORT_FIELDS.flatMap((sort) => [[sort, 'asc'], [sort, 'desc']] as const))('walks every route exactly once, in order (sort=%s order=%s)', (sort, order) => {
    const rows = walk({ sort, order, limit: 4, now: NOW });
    const ids = rows.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(routesOf().sort());
    const values = rows.map((r) => value(r, sort));
    const firstNull = values.indexOf(null);
    if (firstNull >= 0) expect(values.slice(firstNull).every((v) => v === null)).toBe(true);
    const present = values.filter((v) => v !== null) as (number | string)[];
    for (let i = 1; i < present.length; i++) {
      if (order === 'asc') expect(present[i - 1]! <= present[i]!).toBe(true);
      else expect(present[i - 1]! >= present[i]!).toBe(true);
    }
  });

  it('computes every row like the single-route queries', () => {
    const rows = walk({ sort: 'name', order: 'asc', limit: 5, now: NOW });
    for (const row of rows) {
      expect(row.uptime['7d']).toBe(uptime(db, row.id, NOW - 7 * DAY_MS, NOW).uptime);
      const edge = roundsOf(db, row.id, { limit: 1 }).rounds[0]?.hops.find((h) => h.hop === 'edge');
      expect(row.latencyMs).toBe(edge?.timings.totalMs ?? null);
    }
    expect(rows.find((r) => r.namespace === 'quiet')).toMatchObject({ latest: null, latencyMs: null, uptime: { '24h': null, '7d': null, '30d': null } });
  });

  it('filters by namespace, status and search, and counts the matches', () => {
    const all = listRoutes(db);
    const failing = all.filter((r) => r.latest?.verdict.status === 'failing' || r.latest === null);
    const byStatus = routePage(db, { statuses: ['failing', 'none'], sort: 'name', order: 'asc', limit: 1000, now: NOW });
    expect(byStatus.routes.map((r) => r.id)).toEqual(failing.map((r) => r.id));
    expect(byStatus.total).toBe(failing.length);
    expect(routePage(db, { statuses: ['unknown'], sort: 'name', order: 'asc', limit: 10, now: NOW }).routes.map((r) => r.ingress)).toEqual(['odd']);
    const ns = routePage(db, { namespace: 'team-2', sort: 'name', order: 'desc', limit: 2, now: NOW });
    expect(ns.total).toBe(all.filter((r) => r.namespace === 'team-2').length);
    expect(ns.routes.every((r) => r.namespace === 'team-2')).toBe(true);
    expect(routePage(db, { search: 'APP-11.', sort: 'name', order: 'asc', limit: 10, now: NOW }).routes.map((r) => r.ingress)).toEqual(['app-11']);
  });
});

describe('openStoreReader', () => {
  it('refuses :memory: and reports a missing file as OPEN_FAILED', async () => {
    await expect(openStoreReader(':memory:')).rejects.toMatchObject({ code: 'BAD_QUERY' });
    await expect(openStoreReader(join(dir, 'missing.db'))).rejects.toMatchObject({ name: 'ReaderError', code: 'OPEN_FAILED' });
  });

  it('bounds the queue and fails requests after close', async () => {
    const r = await openStoreReader(path, { maxPending: 1 });
    const first = r.timeline({ all: true, tier: 'raw', from: NOW - DAY_MS, to: NOW, stepMs: 30_000 });
    await expect(r.listRoutes()).rejects.toMatchObject({ code: 'READER_BUSY' });
    expect((await first).buckets.length).toBe(Math.ceil(NOW / 30_000) - Math.floor((NOW - DAY_MS) / 30_000));
    const late = r.listRoutes();
    await r.close();
    // A request already sent is either answered or failed as closed, never left hanging.
    await late.then((v) => expect(v.length).toBe(14), (e: unknown) => expect(e).toMatchObject({ code: 'READER_CLOSED' }));
    await expect(r.listRoutes()).rejects.toBeInstanceOf(ReaderError);
    await expect(r.listRoutes()).rejects.toMatchObject({ code: 'READER_CLOSED' });
  });

  it('drops a queued request whose caller went away, and answers the others in order', async () => {
    const r = await openStoreReader(path);
    try {
      const gone = new AbortController();
      // The first goes to the worker at once; the second waits behind it, where an abort can still take it out.
      const first = r.listRoutes();
      const second = r.withSignal(gone.signal).listRoutes();
      const third = r.withSignal(new AbortController().signal).listRoutes();
      expect(r.pending).toBe(3);
      gone.abort();
      await expect(second).rejects.toMatchObject({ name: 'ReaderError', code: 'ABORTED' });
      expect((await first).length).toBe(14);
      expect((await third).length).toBe(14);
      expect(r.pending).toBe(0);
      await expect(r.withSignal(gone.signal).listRoutes()).rejects.toMatchObject({ code: 'ABORTED' });
    } finally {
      await r.close();
    }
  });

  it('lets quick queries go ahead of queued timelines', async () => {
    const r = await openStoreReader(path);
    try {
      const done: string[] = [];
      const track = <T>(name: string, p: Promise<T>): Promise<T> => p.then((v) => (done.push(name), v));
      await Promise.all([
        track('first', r.listRoutes()),
        track('timeline', r.timeline({ all: true, from: NOW - DAY_MS, to: NOW, stepMs: HOUR_MS })),
        track('routes', r.listRoutes()),
        track('incident list', r.listIncidents({ limit: 5 })),
      ]);
      expect(done).toEqual(['first', 'routes', 'incident list', 'timeline']);
    } finally {
      await r.close();
    }
  });

  it('rejects a request that waited maxWaitMs in the queue as READER_BUSY', async () => {
    const r = await openStoreReader(path, { maxWaitMs: 2000 });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const first = r.listRoutes();
      const second = r.listRoutes();
      // Still in this tick: the first cannot have been answered, so the second is still queued when its wait runs out.
      vi.advanceTimersByTime(2000);
      await expect(second).rejects.toMatchObject({ code: 'READER_BUSY', message: 'waited 2000 ms behind other store queries' });
      expect((await first).length).toBe(14);
    } finally {
      vi.useRealTimers();
      await r.close();
    }
  });

  it('works from the compiled package (dist/), as the binary runs it', async () => {
    const compiled = fileURLToPath(new URL('../../dist/src/store/reader.js', import.meta.url));
    expect(existsSync(compiled), 'dist/ is built by the test global setup (npm run build)').toBe(true);
    const script = `
      const { openStoreReader } = await import(${JSON.stringify(pathToFileURL(compiled).href)});
      const r = await openStoreReader(${JSON.stringify(path)});
      const page = await r.routePage({ sort: 'uptime7d', order: 'desc', limit: 3, now: ${NOW} });
      const bad = await r.roundsOf(page.routes[0].id, { cursor: '!' }).catch((e) => e.name + ' ' + e.code);
      await r.close();
      console.log(JSON.stringify({ page, bad }));`;
    const file = join(dir, 'dist-check.mjs');
    writeFileSync(file, script);
    const { stdout } = await promisify(execFile)(process.execPath, [file], { timeout: 30_000 });
    const out = JSON.parse(stdout) as { page: unknown; bad: string };
    expect(out.page).toEqual(routePage(db, { sort: 'uptime7d', order: 'desc', limit: 3, now: NOW }));
    expect(out.bad).toBe('StoreError BAD_CURSOR');
  });
});

describe('event-loop delay while a heavy query runs (figures only)', () => {
  /** Runs the query `times` times and returns the main thread's event-loop delay p99 and max in ms. */
  async function delayWhile(run: () => Promise<unknown>, times: number): Promise<{ p99: number; max: number; ms: number }> {
    const turn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));
    const h = monitorEventLoopDelay({ resolution: 5 });
    const started = performance.now();
    h.enable();
    // Let the loop turn between queries and after the last, as between HTTP requests: a blocked loop records its delay only when it turns.
    for (let i = 0; i < times; i++) {
      await run();
      await turn();
    }
    h.disable();
    return { p99: h.percentile(99) / 1e6, max: h.max / 1e6, ms: performance.now() - started };
  }

  it('reports the main thread delay with the query in the worker and in-process', async () => {
    // A bigger store of its own: 60 routes probed every 30 s, a day of raw rounds (172,800).
    const bigPath = join(dir, 'big.db');
    const big = openStore(bigPath);
    generateStore(big, { routes: 60, days: 1, intervalMs: 30_000, now: NOW, seed: 3, retention: { rawDays: 1, minuteDays: null, hourDays: null, dayDays: null } });
    const inWorker = await openStoreReader(bigPath);
    const inProcess = createInProcessReader(big);
    const q = { all: true, tier: 'raw' as const, from: NOW - DAY_MS, to: NOW, stepMs: 30_000 };
    try {
      const viaWorker = await delayWhile(() => inWorker.timeline(q), 5);
      const viaMain = await delayWhile(() => inProcess.timeline(q), 5);
      const answer = await inWorker.timeline(q);
      expect(answer).toEqual(await inProcess.timeline(q));
      expect(answer.buckets.reduce((n, b) => n + b.rounds, 0)).toBeGreaterThan(170_000);
      const f = (x: number): string => x.toFixed(1).padStart(7);
      console.log(
        [
          'event-loop delay of the main thread during 5 raw-tier timelines of all routes over a day (60 routes, 172,800 rounds):',
          `  query in the reader worker: p99 ${f(viaWorker.p99)} ms, max ${f(viaWorker.max)} ms (5 queries took ${f(viaWorker.ms)} ms)`,
          `  query in-process:           p99 ${f(viaMain.p99)} ms, max ${f(viaMain.max)} ms (5 queries took ${f(viaMain.ms)} ms)`,
        ].join('\n'),
      );
    } finally {
      await inWorker.close();
      big.close();
    }
  });
});
