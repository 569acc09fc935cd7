import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureRound } from '../store/fixtures.js';
import { generateStore, syntheticWorld } from '../store/generate.js';
import { listIncidents } from '../store/incidents.js';
import { listRoutes, roundsOf, timeline } from '../store/queries.js';
import { createInProcessReader, openStoreReader, type StoreReader } from '../store/reader.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../store/rollup.js';
import { openStore, type Db } from '../store/sqlite.js';
import type { VerifyParams } from '../verify/params.js';
import type { VerifyReport } from '../verify/report.js';
import { createMetrics } from './metrics.js';
import { startServer, type Health, type RunningServer } from './server.js';

// Test servers listen on this engineer's loopback block only, on ephemeral ports.
const HOST = '127.208.0.1';
const NOW = Date.UTC(2026, 0, 8, 6, 37, 0) + 12_345;
const TOKEN = 's3cret-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const SECRET = 'do-not-serve-this-secret';

const dir = mkdtempSync(join(tmpdir(), 'hopwatch-server-'));
const storePath = join(dir, 'store.db');
const web = join(dir, 'web');
let db: Db;
let reader: StoreReader;
let server: RunningServer;
const state = { live: true, ready: false };
const logLines: string[] = [];
const verifyCalls: VerifyParams[] = [];
const metrics = createMetrics({ defaultMetrics: false });

const health: Health = {
  live: () => state.live,
  ready: () => state.ready,
  detail: () => (state.ready ? { discovery: 'synced' } : { reason: 'discovery has not synced yet', discovery: 'connecting' }),
};

async function fakeVerify(params: VerifyParams): Promise<VerifyReport> {
  verifyCalls.push(params);
  if (params.ingress.name === 'bug') throw new TypeError('report is undefined');
  return { ok: params.ingress.name !== 'broken', summary: `verified ${params.ingress.namespace}/${params.ingress.name}` } as unknown as VerifyReport;
}

function writeDashboard(): void {
  mkdirSync(join(web, 'sub'), { recursive: true });
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>hopwatch</title>');
  writeFileSync(join(web, 'app.js'), 'console.log("hopwatch");');
  writeFileSync(join(web, 'style.css'), 'body { margin: 0 }');
  writeFileSync(join(web, 'sub', 'index.html'), '<p>sub</p>');
  writeFileSync(join(web, '.env'), SECRET);
  writeFileSync(join(dir, 'secret.txt'), SECRET);
  symlinkSync(join(dir, 'secret.txt'), join(web, 'link.txt'));
}

beforeAll(async () => {
  db = openStore(storePath);
  generateStore(db, {
    routes: 8, days: 3, intervalMs: 60_000, now: NOW, namespaces: 2, seed: 9,
    retention: { rawDays: 1, minuteDays: null, hourDays: null, dayDays: null },
  });
  writeDashboard();
  reader = await openStoreReader(storePath);
  metrics.observeRound(fixtureRound(syntheticWorld(8, 2, 60_000, 9).routes[0]!, NOW, 'failing', 12));
  server = await startServer({
    listen: `${HOST}:0`, token: TOKEN, reader, metrics, health, verify: fakeVerify, dashboardDir: web,
    log: (level, message) => logLines.push(`${level} ${message}`), now: () => NOW,
  });
});

afterAll(async () => {
  await server?.close();
  await reader?.close();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: Headers;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test code reads answers loosely
  text: string;
}

async function get(path: string, headers: Record<string, string> = AUTH, base = server.url, method = 'GET'): Promise<Reply> {
  const res = await fetch(`${base}${path}`, { headers, method });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON (metrics, static files).
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** A request with the path sent byte for byte (fetch would normalise "..", which is what an attacker avoids). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: HOST, port: Number(port), path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const enc = encodeURIComponent;

describe('health and metrics', () => {
  it('answers /healthz while live and /readyz with the reason until ready', async () => {
    expect(await get('/healthz', {})).toMatchObject({ status: 200, json: { status: 'ok' } });
    const notReady = await get('/readyz', {});
    expect(notReady.status).toBe(503);
    expect(notReady.json).toEqual({ status: 'not ready', reason: 'discovery has not synced yet', detail: { reason: 'discovery has not synced yet', discovery: 'connecting' } });
    state.ready = true;
    expect(await get('/readyz', {})).toMatchObject({ status: 200, json: { status: 'ready', detail: { discovery: 'synced' } } });
    state.live = false;
    expect((await get('/healthz', {})).status).toBe(503);
    state.live = true;
    const post = await get('/healthz', {}, server.url, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('serves the metrics without a token, with the observed round\'s series', async () => {
    const res = await get('/metrics', {});
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('hopwatch_route_verdict{namespace="team-0",ingress="app-0",host="app-0.example.com",path="/",status="failing",hop="controller",cause="controller.error"} 1');
    expect(res.text).toContain('hopwatch_route_up{namespace="team-0",ingress="app-0",host="app-0.example.com",path="/"} 0');
    expect(res.text).toContain('hopwatch_hop_requests_total{namespace="team-0",ingress="app-0",hop="edge",result="5xx"} 1');
  });
});

describe('bearer token', () => {
  it('refuses /api/v1 without the token or with a wrong one, and accepts the right one', async () => {
    const missing = await get('/api/v1/routes', {});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="hopwatch"');
    expect(missing.json.error.code).toBe('UNAUTHORIZED');
    const wrong = await get('/api/v1/routes', { authorization: 'Bearer s3cret-tokem' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="hopwatch", error="invalid_token"');
    expect((await get('/api/v1/routes', { authorization: `Basic ${TOKEN}` })).status).toBe(401);
    expect((await get('/api/v1/routes', { authorization: `bearer ${TOKEN}` })).status).toBe(200);
    expect((await get('/api/v1/verify?ingress=shop/web', {})).status).toBe(401);
    expect((await get('/api/v1/nothing-here', {})).status).toBe(401);
  });

  it('leaves the API open when no token is configured', async () => {
    const open = await startServer({ listen: '127.208.0.2:0', token: null, reader, metrics, health, log: () => undefined, now: () => NOW });
    try {
      expect((await get('/api/v1/routes?limit=1', {}, open.url)).status).toBe(200);
      expect(await get('/api/v1/verify?ingress=shop/web', {}, open.url)).toMatchObject({ status: 404, json: { error: { code: 'NOT_FOUND' } } });
      expect((await get('/', {}, open.url)).status).toBe(404);
    } finally {
      await open.close();
    }
  });
});

describe('GET /api/v1/routes', () => {
  it('lists routes with verdict, last round, latency and uptime', async () => {
    const res = await get('/api/v1/routes');
    expect(res.status).toBe(200);
    expect(res.json.total).toBe(8);
    expect(res.json.nextCursor).toBeNull();
    expect(res.json.data).toHaveLength(8);
    const first = res.json.data[0];
    const stored = listRoutes(db)[0]!;
    expect(first).toMatchObject({
      id: stored.id, namespace: 'team-0', ingress: stored.ingress, host: stored.host, path: '/',
      verdict: { status: stored.latest!.verdict.status, hop: stored.latest!.verdict.hop, cause: stored.latest!.verdict.cause },
      lastRound: { startedAt: new Date(stored.latest!.startedAt).toISOString(), durationMs: stored.latest!.durationMs },
    });
    expect(first.verdict.evidence).toBeUndefined();
    expect(typeof first.lastRound.latencyMs).toBe('number');
    for (const w of ['24h', '7d', '30d']) expect(first.uptime[w]).toBeGreaterThan(0.5);
  });

  it.each([
    ['name', 'asc'],
    ['status', 'desc'],
    ['uptime24h', 'asc'],
    ['latency', 'desc'],
  ])('pages through every route exactly once (sort=%s, order=%s)', async (sort, order) => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 20; i++) {
      const page: Reply = await get(`/api/v1/routes?limit=3&sort=${sort}&order=${order}${cursor === null ? '' : `&cursor=${enc(cursor)}`}`);
      expect(page.status).toBe(200);
      expect(page.json.data.length).toBeLessThanOrEqual(3);
      seen.push(...page.json.data.map((r: { id: string }) => r.id));
      cursor = page.json.nextCursor;
      if (cursor === null) break;
    }
    expect(cursor).toBeNull();
    expect(seen).toHaveLength(8);
    expect(new Set(seen)).toEqual(new Set(listRoutes(db).map((r) => r.id)));
  });

  it('filters by namespace, status and search', async () => {
    const ns = await get('/api/v1/routes?namespace=team-1');
    expect(ns.json.total).toBe(4);
    expect(ns.json.data.every((r: { namespace: string }) => r.namespace === 'team-1')).toBe(true);
    const statuses = listRoutes(db).map((r) => r.latest?.verdict.status);
    const okCount = statuses.filter((s) => s === 'ok').length;
    expect((await get('/api/v1/routes?status=ok')).json.total).toBe(okCount);
    expect((await get('/api/v1/routes?status=degraded,failing,unknown,none')).json.total).toBe(8 - okCount);
    const q = await get('/api/v1/routes?q=APP-3.example');
    expect(q.json.data.map((r: { ingress: string }) => r.ingress)).toEqual(['app-3']);
  });

  it('filters by routing object kind and name; each route carries kind, name and parent', async () => {
    expect((await get('/api/v1/routes?kind=Ingress')).json.total).toBe(8);
    expect((await get('/api/v1/routes?kind=HTTPRoute')).json.total).toBe(0);
    const one = await get('/api/v1/routes?kind=Ingress&name=app-3');
    expect(one.json.data.map((r: { kind: string; name: string; parent: { kind: string } | null }) => [r.kind, r.name, r.parent?.kind])).toEqual([['Ingress', 'app-3', 'IngressClass']]);
    expect((await get('/api/v1/routes?name=app-')).json.total).toBe(0);
  });

  it.each([
    ['limit=0', 'limit', 'expected an integer from 1 to 1000, got "0"'],
    ['limit=1001', 'limit', 'expected an integer from 1 to 1000'],
    ['limit=ten', 'limit', 'got "ten"'],
    ['limit=1&limit=2', 'limit', 'given more than once'],
    ['sort=fame', 'sort', 'expected one of name, status, lastRound, latency, uptime24h, uptime7d, uptime30d, got "fame"'],
    ['order=up', 'order', 'expected one of asc, desc'],
    ['status=ok,broken', 'status', 'got "broken"'],
    ['namespace=', 'namespace', 'empty'],
    ['kind=Gateway', 'kind', 'expected one of Ingress, HTTPRoute, GRPCRoute, got "Gateway"'],
    ['name=', 'name', 'empty'],
    ['color=red', 'color', 'unknown parameter; this endpoint takes namespace, status, q, sort, order, limit, cursor'],
    ['cursor=garbage', 'cursor', 'cursor'],
  ])('400 for %s, naming %s', async (query, parameter, message) => {
    const res = await get(`/api/v1/routes?${query}`);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'BAD_PARAMETER', parameter });
    expect(res.json.error.message).toContain(message);
  });

  it('400 for a cursor made for another sort', async () => {
    const page = await get('/api/v1/routes?limit=2&sort=status');
    const res = await get(`/api/v1/routes?limit=2&sort=name&cursor=${enc(page.json.nextCursor)}`);
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain('keep the sort while paging');
  });
});

describe('GET /api/v1/routes/{id} and its rounds', () => {
  const route = (): { id: string } => listRoutes(db)[2]!;

  it('answers a route\'s detail (ids with "/" are percent-encoded)', async () => {
    const { id } = route();
    expect(id).toContain('/');
    const res = await get(`/api/v1/routes/${enc(id)}`);
    expect(res.status).toBe(200);
    const d = res.json.data;
    expect(d.id).toBe(id);
    // The routing object and its weighted backends (the generator's routes have one each).
    expect(d).toMatchObject({ kind: 'Ingress', name: d.ingress, backend: { service: expect.any(String) } });
    expect(d.backends).toEqual([expect.objectContaining({ service: d.backend.service, port: d.backend.port, weight: 100, share: 1, role: 'primary', selector: null })]);
    expect(d.latestRound.hops.length).toBeGreaterThan(3);
    expect(d.latestRound.hops[0]).toMatchObject({ hop: 'dns' });
    expect(d.uptime['7d']).toMatchObject({ rounds: expect.any(Number), ok: expect.any(Number) });
    expect(d.uptime['7d'].rounds).toBeGreaterThan(3 * 24 * 60 - 120);
    const open = listIncidents(db, { routeId: id, state: 'open', limit: 1 }).incidents[0];
    expect(d.openIncident?.id ?? null).toBe(open?.id ?? null);
    expect(d.verdict.evidence).toEqual(expect.any(Array));
  });

  it('404 for an unknown route, its rounds and a round it does not have', async () => {
    for (const path of ['/api/v1/routes/nope', '/api/v1/routes/nope/rounds', '/api/v1/routes/nope/rounds/2026-01-08T06:00:00.000Z']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.json.error.code).toBe('NOT_FOUND');
    }
    const missing = await get(`/api/v1/routes/${enc(route().id)}/rounds/2026-01-08T06:00:00.001Z`);
    expect(missing.status).toBe(404);
    expect(missing.json.error.message).toContain('has no round that started at 2026-01-08T06:00:00.001Z');
  });

  it('pages through a route\'s rounds newest first, each exactly once', async () => {
    const { id } = route();
    const want = roundsOf(db, id, { from: NOW - 2 * HOUR_MS, to: NOW - 20 * MINUTE_MS, limit: 1000 }).rounds;
    expect(want.length).toBeGreaterThan(90);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) {
      const res: Reply = await get(`/api/v1/routes/${enc(id)}/rounds?from=2h&to=now-20m&limit=25${cursor === null ? '' : `&cursor=${enc(cursor)}`}`);
      expect(res.status).toBe(200);
      seen.push(...res.json.data.map((r: { startedAt: string }) => r.startedAt));
      cursor = res.json.nextCursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual(want.map((r) => new Date(r.startedAt).toISOString()));
  });

  it('answers one round by its startedAt, with every hop', async () => {
    const { id } = route();
    const want = roundsOf(db, id, { limit: 5 }).rounds[4]!;
    const res = await get(`/api/v1/routes/${enc(id)}/rounds/${new Date(want.startedAt).toISOString()}`);
    expect(res.status).toBe(200);
    expect(res.json.data).toEqual({ routeId: id, startedAt: new Date(want.startedAt).toISOString(), durationMs: want.durationMs, verdict: want.verdict, hops: want.hops });
    expect((await get(`/api/v1/routes/${enc(id)}/rounds/${want.startedAt}`)).json.data.startedAt).toBe(new Date(want.startedAt).toISOString());
  });

  it.each([
    ['from=yesterday', 'from', 'invalid time "yesterday"'],
    ['from=1.5h', 'from', 'whole numbers only'],
    ['from=1h&to=2h', 'from', 'must be before "to"'],
    ['to=2026-02-30', 'to', 'out of range'],
    ['limit=-1', 'limit', 'expected an integer'],
    ['from=now&to=9000000000000000ms', 'to', 'out of range'],
    [`cursor=${Buffer.from('["r",1]').toString('base64url')}`, 'cursor', 'not a round cursor'],
    [`cursor=${Buffer.from('["r",1769853600000,-2]').toString('base64url')}`, 'cursor', 'no cursor of this store has'],
  ])('400 for rounds?%s', async (query, parameter, message) => {
    const res = await get(`/api/v1/routes/${enc(route().id)}/rounds?${query}`);
    expect(res.status).toBe(400);
    expect(res.json.error.parameter).toBe(parameter);
    expect(res.json.error.message).toContain(message);
  });

  it('400 for a round time that is not one', async () => {
    const res = await get(`/api/v1/routes/${enc(route().id)}/rounds/yesterday`);
    expect(res).toMatchObject({ status: 400, json: { error: { code: 'BAD_PATH' } } });
    expect(await get(`/api/v1/routes/${enc(route().id)}/rounds/9999999999999999`)).toMatchObject({ status: 400, json: { error: { code: 'BAD_PATH' } } });
  });
});

describe('GET /api/v1/incidents', () => {
  it('pages through every incident exactly once, with route names', async () => {
    const all = listIncidents(db, { limit: 1000 }).incidents;
    expect(all.length).toBeGreaterThan(5);
    const seen: number[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) {
      const res: Reply = await get(`/api/v1/incidents?limit=4${cursor === null ? '' : `&cursor=${enc(cursor)}`}`);
      expect(res.status).toBe(200);
      seen.push(...res.json.data.map((x: { id: number }) => x.id));
      cursor = res.json.nextCursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual(all.map((x) => x.id));
    const first = (await get('/api/v1/incidents?limit=1')).json.data[0];
    const route = listRoutes(db).find((r) => r.id === all[0]!.routeId)!;
    expect(first).toMatchObject({
      id: all[0]!.id, routeId: route.id, route: { id: route.id, namespace: route.namespace, ingress: route.ingress, host: route.host, path: route.path },
      openedAt: new Date(all[0]!.openedAt).toISOString(), severity: all[0]!.severity, cause: all[0]!.cause,
      state: all[0]!.closedAt === null ? 'open' : 'closed',
    });
  });

  it('filters by state, route, namespace and time', async () => {
    const open = listIncidents(db, { state: 'open', limit: 1000 }).incidents;
    const res = await get('/api/v1/incidents?state=open');
    expect(res.json.data.map((x: { id: number }) => x.id)).toEqual(open.map((x) => x.id));
    expect(res.json.data.every((x: { state: string; closedAt: unknown }) => x.state === 'open' && x.closedAt === null)).toBe(true);
    const routeId = listIncidents(db, { limit: 1 }).incidents[0]!.routeId;
    const byRoute = await get(`/api/v1/incidents?route=${enc(routeId)}&namespace=${enc(routeId.split('/')[0]!)}`);
    expect(byRoute.json.data.length).toBe(listIncidents(db, { routeId, limit: 1000 }).incidents.length);
    const recent = await get('/api/v1/incidents?from=6h&to=now');
    expect(recent.json.data.map((x: { id: number }) => x.id)).toEqual(listIncidents(db, { from: NOW - 6 * HOUR_MS, to: NOW, limit: 1000 }).incidents.map((x) => x.id));
  });

  it('answers one incident, 404 for an unknown id, 400 for a non-number', async () => {
    const one = listIncidents(db, { limit: 1 }).incidents[0]!;
    const res = await get(`/api/v1/incidents/${one.id}`);
    expect(res.json.data).toMatchObject({ id: one.id, routeId: one.routeId, pods: one.pods, firstEvidence: one.firstEvidence });
    expect(res.json.data.durationMs).toBe((one.closedAt ?? NOW) - one.openedAt);
    expect((await get('/api/v1/incidents/999999')).status).toBe(404);
    expect(await get('/api/v1/incidents/abc')).toMatchObject({ status: 400, json: { error: { code: 'BAD_PATH' } } });
    expect(await get('/api/v1/incidents?state=maybe')).toMatchObject({ status: 400, json: { error: { parameter: 'state' } } });
    expect(await get('/api/v1/incidents?from=now&to=9000000000000000ms')).toMatchObject({ status: 400, json: { error: { parameter: 'to' } } });
    // A cursor missing its id would read as "the end of the list".
    expect(await get(`/api/v1/incidents?cursor=${Buffer.from('["i",5]').toString('base64url')}`)).toMatchObject({ status: 400, json: { error: { parameter: 'cursor' } } });
  });
});

describe('GET /api/v1/timeline', () => {
  it('answers a route\'s, a namespace\'s and every route\'s buckets like the store', async () => {
    const id = listRoutes(db)[1]!.id;
    const route = await get(`/api/v1/timeline?route=${enc(id)}&from=2d&step=1h`);
    expect(route.status).toBe(200);
    const want = timeline(db, { routeId: id, from: NOW - 2 * DAY_MS, to: NOW, stepMs: HOUR_MS });
    expect(route.json.data).toMatchObject({ scope: { route: id }, stepMs: HOUR_MS, tier: 'hour', from: new Date(want.from).toISOString() });
    expect(route.json.data.buckets).toEqual(want.buckets.map((b) => ({ ...b, start: new Date(b.start).toISOString() })));
    const ns = await get('/api/v1/timeline?namespace=team-1&from=3d&step=1d');
    expect(ns.json.data.buckets.reduce((n: number, b: { rounds: number }) => n + b.rounds, 0))
      .toBe(timeline(db, { namespace: 'team-1', from: NOW - 3 * DAY_MS, to: NOW, stepMs: DAY_MS }).buckets.reduce((n, b) => n + b.rounds, 0));
    const all = await get('/api/v1/timeline');
    // Default: the last 24 hours at the finest step giving at most 800 buckets (5 minutes).
    expect(all.json.data).toMatchObject({ scope: { all: true }, stepMs: 5 * MINUTE_MS, tier: 'minute' });
    expect(all.json.data.buckets).toHaveLength(289);
  });

  it.each([
    ['route=a&namespace=b', 'namespace', 'give route or namespace, not both'],
    ['step=abc', 'step', 'invalid duration "abc"'],
    ['step=0', 'step', 'expected a positive duration'],
    ['from=30d&step=1m', 'step', 'gives 43201 buckets over this range; at most 10000'],
    ['from=1d&step=30s', 'step', 'use a step in whole minutes'],
    ['from=now&to=1h', 'from', 'must be before "to"'],
    ['route=', 'route', 'empty'],
    ['to=9000000000000000ms', 'to', 'out of range'],
    ['step=14800000w', 'step', 'at most 366d'],
  ])('400 for timeline?%s', async (query, parameter, message) => {
    const res = await get(`/api/v1/timeline?${query}`);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'BAD_PARAMETER', parameter });
    expect(res.json.error.message).toContain(message);
  });

  it('404 for an unknown route', async () => {
    expect((await get('/api/v1/timeline?route=nope')).status).toBe(404);
  });
});

describe('other API answers', () => {
  it('lists namespaces with routes by status', async () => {
    const res = await get('/api/v1/namespaces');
    expect(res.json.data.map((n: { name: string }) => n.name)).toEqual(['team-0', 'team-1']);
    const counts = res.json.data[0].statuses;
    expect(Object.values(counts as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(4);
  });

  it('404 for an unknown path, 405 for a write, HEAD without a body', async () => {
    expect(await get('/api/v1/things')).toMatchObject({ status: 404, json: { error: { code: 'NOT_FOUND', message: 'no endpoint /api/v1/things' } } });
    expect((await get('/api/v1/routes/a/b/c/d')).status).toBe(404);
    const del = await get('/api/v1/routes', AUTH, server.url, 'DELETE');
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, HEAD');
    const head = await get('/api/v1/routes', AUTH, server.url, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(100);
  });

  it('500 without a stack for an unexpected failure; 503 when the reader is closed', async () => {
    const broken = openStore(':memory:');
    const brokenReader = createInProcessReader(broken);
    broken.close();
    const lines: string[] = [];
    const s = await startServer({ listen: `${HOST}:0`, token: null, reader: brokenReader, metrics, health, log: (l, m) => lines.push(`${l} ${m}`), now: () => NOW });
    try {
      const res = await get('/api/v1/routes', {}, s.url);
      expect(res.status).toBe(500);
      expect(res.json).toEqual({ error: { code: 'INTERNAL', message: 'internal error; the hopwatch log has the details' } });
      expect(lines.some((l) => l.startsWith('error http: GET /api/v1/routes failed') && l.includes('    at '))).toBe(true);
      await brokenReader.close();
      const closed = await get('/api/v1/routes', {}, s.url);
      expect(closed.status).toBe(503);
      expect(closed.headers.get('retry-after')).toBe('1');
    } finally {
      await s.close();
    }
  });
});

describe('verify endpoints', () => {
  it('mounts GET /api/v1/verify and POST /api/v1/verify/flagger through src/verify/http.ts', async () => {
    const res = await get('/api/v1/verify?ingress=shop/web&duration=10s');
    expect(res.status).toBe(200);
    expect(res.json.data).toMatchObject({ ok: true, summary: 'verified shop/web' });
    expect(verifyCalls.at(-1)).toMatchObject({ ingress: { namespace: 'shop', name: 'web' }, durationMs: 10_000 });
    const bad = await get('/api/v1/verify');
    expect(bad.status).toBe(400);
    expect(bad.json.error.parameter).toBe('ingress');
    const flagger = await fetch(`${server.url}/api/v1/verify/flagger`, {
      method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'broken', namespace: 'shop', phase: 'Progressing' }),
    });
    expect(flagger.status).toBe(503);
    expect(await flagger.text()).toBe('hopwatch verify failed: verified shop/broken\n');
  });

  it("answers a verifier's bug with the API's generic 500 and logs it with its stack", async () => {
    const res = await get('/api/v1/verify?ingress=shop/bug');
    expect(res.status).toBe(500);
    expect(res.json).toEqual({ error: { code: 'INTERNAL', message: 'internal error; the hopwatch log has the details' } });
    expect(logLines.some((l) => l.startsWith('error http: GET /api/v1/verify failed') && l.includes('report is undefined') && l.includes('    at '))).toBe(true);
  });
});

describe('dashboard files', () => {
  it.each([
    ['/', 'text/html; charset=utf-8', '<!doctype html><title>hopwatch</title>'],
    ['/index.html', 'text/html; charset=utf-8', '<!doctype html><title>hopwatch</title>'],
    ['/app.js', 'text/javascript; charset=utf-8', 'console.log("hopwatch");'],
    ['/style.css', 'text/css; charset=utf-8', 'body { margin: 0 }'],
    ['/sub/', 'text/html; charset=utf-8', '<p>sub</p>'],
    ['/routes', 'text/html; charset=utf-8', '<!doctype html><title>hopwatch</title>'],
  ])('serves %s as %s', async (path, type, body) => {
    const res = await get(path, {});
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.text).toBe(body);
  });

  it('404 for a missing asset, and for a deep page-like path (the page\'s relative assets would not load there)', async () => {
    expect((await get('/missing.js', {})).status).toBe(404);
    expect((await get('/routes/team-0', {})).status).toBe(404);
  });

  it.each(['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/sub/..%2F..%2Fsecret.txt', '/sub/%2e%2e/%2e%2e/secret.txt', '/link.txt', '/.env', '/%00', '/%E0%A4%A'])(
    'refuses %s without leaking anything',
    async (path) => {
      const res = await rawGet(path);
      expect(res.status).toBe(404);
      expect(res.body).not.toContain(SECRET);
      expect(res.body).not.toContain('<!doctype');
    },
  );
});
