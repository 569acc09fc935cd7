import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HopResult, Route, RouteRound } from '../model.js';
import { bareBackend } from '../discovery/backends.js';
import { compact } from './compact.js';
import { fixtureHop, fixtureRound, fixtureRoute } from './fixtures.js';
import { getRoute, listRoutes, roundsOf, type StoredRound } from './queries.js';
import { HOUR_MS } from './rollup.js';
import { openStore, type Db } from './sqlite.js';
import { createWriter } from './write.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);

let db: Db;
beforeEach(() => {
  db = openStore(':memory:');
});
afterEach(() => db.close());

/** What reading a round back must give: the round without its Route object, only the route's id. */
function expected(r: RouteRound): StoredRound {
  return { routeId: r.route.id, startedAt: r.startedAt, durationMs: r.durationMs, hops: r.hops, verdict: r.verdict };
}

/** A round whose hops use every field of HopResult, with values that vary from round to round. */
function richRound(i: number): RouteRound {
  const route = fixtureRoute('shop', 'web', { tls: true });
  const hops: HopResult[] = [
    fixtureHop({
      hop: 'dns', target: 'web.shop.svc.cluster.local', address: 'web.shop.svc.cluster.local', port: 53, scheme: 'dns',
      status: null, headers: {}, generator: null, bytes: 0, headerBytes: 0, addresses: ['127.0.2.7', '127.0.2.8'],
      timings: { dnsMs: (7 + i) / 10, totalMs: (8 + i) / 10 },
    }),
    fixtureHop({ scheme: 'https', timings: { dnsMs: 0.1, connectMs: 0.5, tlsMs: 2.4, ttfbMs: 9.9 + i, totalMs: 12.3 + i }, bytes: 1000 + i }),
    fixtureHop({
      hop: 'controller', pod: 'ingress-nginx/ctl-0', target: '127.0.3.1:18080', address: '127.0.3.1', status: i % 2 === 0 ? 502 : 200,
      generator: i % 2 === 0 ? 'nginx' : 'upstream', headers: { server: 'nginx', via: '1.1 edge', 'x-envoy-upstream-service-time': String(i) },
    }),
    fixtureHop({
      hop: 'pod', pod: 'shop/web-0', target: '127.0.1.9:8080', address: '127.0.1.9', port: 8080, ready: false, terminating: true,
      status: null, error: 'refused', errorDetail: 'ECONNREFUSED 127.0.1.9:8080', headers: {}, generator: null, bytes: 0,
      headerBytes: 0, timings: { connectMs: 0.2, totalMs: 0.3 },
    }),
  ];
  return {
    route, startedAt: T0 + i * 30_000 + 17, durationMs: 15.5 + i, hops,
    verdict: { status: 'failing', hop: 'pod', cause: 'pod.refused', summary: `pod refuses (${i % 3})`, evidence: ['a', `b${i % 2}`] },
  };
}

describe('writeRounds and roundsOf', () => {
  it('reads back every stored field exactly, from the head and after compaction into chunks', () => {
    const rounds = Array.from({ length: 12 }, (_, i) => richRound(i));
    const w = createWriter(db);
    expect(w.writeRounds(rounds)).toEqual({ rounds: 12, hops: 48, duplicates: 0 });
    const want = [...rounds].reverse().map(expected);
    expect(roundsOf(db, rounds[0]!.route.id).rounds).toEqual(want);
    const moved = compact(db, T0 + 3 * HOUR_MS);
    expect(moved.rounds).toBe(12);
    expect(db.prepare('SELECT count(*) AS n FROM rounds_head').get()).toEqual({ n: 0 });
    expect(roundsOf(db, rounds[0]!.route.id).rounds).toEqual(want);
  });

  it('keeps timings at 0.1 ms: finer values are rounded', () => {
    const r = fixtureRound(fixtureRoute('a', 'b'), T0, 'ok', 3.14159);
    createWriter(db).writeRounds([r]);
    const back = roundsOf(db, r.route.id).rounds[0]!;
    expect(back.hops[0]!.timings.totalMs).toBe(3.1);
    expect(back.durationMs).toBe(4.1);
  });

  it('writes a batch atomically: a failing round rolls the whole batch back, and the writer keeps working', () => {
    const w = createWriter(db);
    const route = fixtureRoute('a', 'b');
    const good = fixtureRound(route, T0, 'ok', 5);
    const bad = { ...fixtureRound(route, T0 + 30_000, 'ok', 5), route: { ...route, id: null as unknown as string } };
    expect(() => w.writeRounds([good, bad])).toThrow();
    expect(db.prepare('SELECT count(*) AS n FROM rounds_head').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT count(*) AS n FROM rollups').get()).toEqual({ n: 0 });
    expect(w.writeRounds([good]).rounds).toBe(1);
    expect(roundsOf(db, route.id).rounds).toEqual([expected(good)]);
  });

  it('skips a round already in the head (same route and startedAt) without counting it twice', () => {
    const w = createWriter(db);
    const r = fixtureRound(fixtureRoute('a', 'b'), T0, 'ok', 5);
    w.writeRounds([r]);
    expect(w.writeRounds([r, fixtureRound(r.route, T0 + 1, 'ok', 5)])).toEqual({ rounds: 1, hops: 2, duplicates: 1 });
    expect(db.prepare('SELECT sum(rounds) AS n FROM rollups WHERE tier = 1').get()).toEqual({ n: 2 });
  });

  it('stores the route description and updates it when it changes', () => {
    const w = createWriter(db);
    const route = fixtureRoute('shop', 'web');
    w.writeRounds([fixtureRound(route, T0, 'ok', 5)]);
    expect(getRoute(db, route.id)).toMatchObject({
      namespace: 'shop', ingress: 'web', host: 'web.example.test', path: '/', pathType: 'Prefix', tls: false,
      backend: { service: 'web', port: 'http' }, firstSeenAt: T0, updatedAt: T0,
    });
    const source = { kind: 'Ingress' as const, namespace: 'shop', name: 'web-canary' };
    const moved: Route = {
      ...route,
      backends: [
        bareBackend({ namespace: 'shop', service: 'web-v2', port: 8080 }, route.backends[0]!.source, { weight: 75, share: 0.75 }),
        bareBackend({ namespace: 'shop', service: 'web-v3', port: 8080 }, source, { weight: 25, share: 0.25, role: 'canary', selector: { header: { name: 'X-Canary', value: 'always' }, cookie: null } }),
      ],
      pathType: 'Exact' as const,
    };
    w.writeRounds([fixtureRound(moved, T0 + 30_000, 'failing', 5)]);
    const got = getRoute(db, route.id)!;
    expect(got).toMatchObject({ kind: 'Ingress', name: 'web', backend: { service: 'web-v2', port: 8080 }, pathType: 'Exact', firstSeenAt: T0, updatedAt: T0 + 30_000 });
    expect(got.backends.map((b) => [b.service, b.weight, b.share, b.role, b.source.name, b.selector?.header?.name ?? null])).toEqual([
      ['web-v2', 75, 0.75, 'primary', 'web', null],
      ['web-v3', 25, 0.25, 'canary', 'web-canary', 'X-Canary'],
    ]);
    expect(got.latest).toEqual({ startedAt: T0 + 30_000, durationMs: 6, verdict: fixtureRound(moved, 0, 'failing', 5).verdict });
    expect(db.prepare('SELECT count(*) AS n FROM routes').get()).toEqual({ n: 1 });
  });

  it('lists routes with their newest verdict, also once every round is compacted', () => {
    const w = createWriter(db);
    const a = fixtureRoute('a', 'one');
    const b = fixtureRoute('b', 'two');
    w.writeRounds([fixtureRound(a, T0, 'ok', 5), fixtureRound(a, T0 + 30_000, 'degraded', 5), fixtureRound(b, T0, 'failing', 5)]);
    compact(db, T0 + 2 * HOUR_MS);
    const list = listRoutes(db);
    expect(list.map((r) => [r.id, r.latest?.startedAt, r.latest?.verdict.status])).toEqual([
      [a.id, T0 + 30_000, 'degraded'],
      [b.id, T0, 'failing'],
    ]);
    expect(listRoutes(db, { namespace: 'b' }).map((r) => r.id)).toEqual([b.id]);
    expect(getRoute(db, 'nope')).toBeNull();
  });
});

describe('roundsOf pagination', () => {
  it('pages newest first with an opaque cursor across chunks and head, without gaps or repeats', () => {
    const w = createWriter(db);
    const route = fixtureRoute('a', 'b');
    const all = Array.from({ length: 500 }, (_, i) => fixtureRound(route, T0 + i * 30_000, i % 7 === 0 ? 'failing' : 'ok', 5 + (i % 10)));
    w.writeRounds(all.slice(0, 400));
    compact(db, T0 + 400 * 30_000);
    w.writeRounds(all.slice(400));
    expect(db.prepare('SELECT count(*) AS n FROM round_chunks').get()).not.toEqual({ n: 0 });
    const seen: number[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const res = roundsOf(db, route.id, { limit: 37, cursor });
      seen.push(...res.rounds.map((r) => r.startedAt));
      if (res.nextCursor === null) break;
      cursor = res.nextCursor;
    }
    expect(seen).toEqual(all.map((r) => r.startedAt).reverse());
  });

  it('filters by [from, to) and pages within it', () => {
    const w = createWriter(db);
    const route = fixtureRoute('a', 'b');
    w.writeRounds(Array.from({ length: 300 }, (_, i) => fixtureRound(route, T0 + i * 30_000, 'ok', 5)));
    compact(db, T0 + 2 * HOUR_MS);
    const from = T0 + 100 * 30_000;
    const to = T0 + 250 * 30_000;
    const first = roundsOf(db, route.id, { from, to, limit: 100 });
    expect(first.rounds[0]!.startedAt).toBe(to - 30_000);
    const second = roundsOf(db, route.id, { from, to, limit: 100, cursor: first.nextCursor! });
    expect(second.nextCursor).toBeNull();
    expect(second.rounds.length).toBe(50);
    expect(second.rounds[49]!.startedAt).toBe(from);
  });

  it('does not lose rounds that share a startedAt across a page boundary', () => {
    const w = createWriter(db);
    const route = fixtureRoute('a', 'b');
    // A chunk and a late head round can hold the same instant: write, compact, write again at the same time.
    w.writeRounds([fixtureRound(route, T0, 'ok', 5), fixtureRound(route, T0 + 1000, 'ok', 6)]);
    compact(db, T0 + 2 * HOUR_MS);
    w.writeRounds([fixtureRound(route, T0 + 1000, 'failing', 7), fixtureRound(route, T0 + 2000, 'ok', 8)]);
    const got: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const res = roundsOf(db, route.id, { limit: 1, cursor });
      got.push(...res.rounds.map((r) => `${r.startedAt - T0}:${r.verdict.status}`));
      if (res.nextCursor === null) break;
      cursor = res.nextCursor;
    }
    expect(got).toEqual(['2000:ok', '1000:failing', '1000:ok', '0:ok']);
  });

  it('rejects a cursor it did not produce', () => {
    createWriter(db).writeRounds([fixtureRound(fixtureRoute('a', 'b'), T0, 'ok', 5)]);
    expect(() => roundsOf(db, fixtureRoute('a', 'b').id, { cursor: 'bm9wZQ' })).toThrow(expect.objectContaining({ code: 'BAD_CURSOR' }));
  });
});
