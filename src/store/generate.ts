// A fast generator of realistic stores, for benchmarks and size checks:
// N routes probed every intervalMs for D days, with failure episodes and the
// incidents they open, as a daemon under the given retention would leave it.
//
// Two paths produce the same tables:
// - rounds inside the raw retention window go through the real write path
//   (createWriter().writeRounds, then compact() as the hours close);
// - older rounds would only survive as rollups, so the bulk path aggregates
//   them straight into the same rollup rows (same aggregation and encoding
//   code) without building or storing their hop results. The one difference:
//   the shape and verdict dictionaries hold only entries of stored rounds.
//
// Everything is derived from a seeded hash of (route, slot), so any part of the
// history can be generated alone and in any order.
//
// Run (after `npm run build`): node dist/src/store/generate.js --out bench/data/store.db

import { pathToFileURL } from 'node:url';
import type { StoreConfig } from '../config/types.js';
import type { Backend, Cause, HopKind, HopResult, Route, RouteRound, Verdict, VerdictHop, VerdictStatus } from '../model.js';
import { compact } from './compact.js';
import { insertIncident } from './incidents.js';
import { ALL_SCOPE, DAY_MS, HOUR_MS, MINUTE_MS, RollupRows, addRound, emptyAgg, floorTo, mergeAgg, type Agg } from './rollup.js';
import { openStore, type Db } from './sqlite.js';
import { createWriter, registerRoute } from './write.js';

/** What to generate. */
export interface GenerateOptions {
  /** Number of routes. */
  routes: number;
  /** Days of history, ending at now. */
  days: number;
  /** Probe interval per route. */
  intervalMs: number;
  /** The end of the history (ms since epoch). */
  now: number;
  /** Retention the store is kept under (only rawDays matters here). */
  retention: StoreConfig['retention'];
  /** Number of namespaces routes are spread over. */
  namespaces?: number;
  /** Hash seed. */
  seed?: number;
  /** Rounds per writeRounds batch. */
  batchRounds?: number;
  /** Generate everything through the real write path (slow; for checking the bulk path). */
  allRaw?: boolean;
  /** Progress callback (phase, fraction done). */
  onProgress?: (phase: string, done: number) => void;
}

/** What was generated. */
export interface GenerateStats {
  /** Rounds that went through the real write path. */
  rawRounds: number;
  /** Rounds aggregated by the bulk path. */
  bulkRounds: number;
  /** Incidents written. */
  incidents: number;
}

/** The synthetic world: routes and how their history is derived. */
export interface World {
  /** Hash seed. */
  seed: number;
  /** Probe interval. */
  intervalMs: number;
  /** The routes. */
  routes: Route[];
}

// --- Deterministic randomness ------------------------------------------------

function h32(x: number): number {
  let v = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  v = Math.imul(v ^ (v >>> 15), 0x846ca68b);
  return (v ^ (v >>> 16)) >>> 0;
}

/** A uniform number in [0, 1) derived from the seed and three integers. */
function rand(seed: number, a: number, b: number, c: number): number {
  return h32(h32(h32(h32(seed) ^ a) ^ (b | 0)) ^ c) / 4294967296;
}

// --- Routes and episodes ------------------------------------------------------

/** Synthetic routes spread over namespaces. */
export function syntheticWorld(routes: number, namespaces: number, intervalMs: number, seed = 1): World {
  return { seed, intervalMs, routes: Array.from({ length: routes }, (_, i) => syntheticRoute(i, namespaces)) };
}

/** A route's one backend, known only as written (the store keeps no Service facts). */
export function onlyBackend(namespace: string, ingress: string, service: string, port: number | string): Backend {
  return {
    key: `${namespace}/${service}:${port}`, ref: { namespace, service, port }, weight: 100, share: 1, role: 'primary',
    source: { kind: 'Ingress', namespace, name: ingress }, selector: null, problem: null,
    service: null, servicePort: null, endpoints: [], pods: [], policies: [],
  };
}

function syntheticRoute(i: number, namespaces: number): Route {
  const namespace = `team-${i % namespaces}`;
  const ingress = `app-${i}`;
  const host = `app-${i}.example.com`;
  return {
    id: `${namespace}/${ingress}/${host}/`, kind: 'Ingress', namespace, name: ingress, ingress,
    parent: { kind: 'IngressClass', namespace: null, name: 'nginx', sectionName: null, port: null },
    backends: [onlyBackend(namespace, ingress, `svc-${i}`, 80)],
    ingressClass: 'nginx', host, path: '/', pathType: 'Prefix', tls: i % 3 === 0, defaultBackend: false,
    probe: { path: '/', hostHeader: host, expectStatus: null, ignore: false, schedule: null },
    notProbeable: null, controller: null,
    loadBalancer: ['203.0.113.10'], annotations: {},
  };
}

/** Kinds of failure episode. */
type EpisodeKind = 'pod.refused' | 'pod.timeout' | 'controller.error' | 'pod.crashloop' | 'dns.failure';
const KINDS: readonly EpisodeKind[] = ['pod.refused', 'pod.refused', 'pod.timeout', 'controller.error', 'pod.crashloop', 'dns.failure'];

/** Episodes are drawn per route per window: at most one per window. */
const WINDOW_MS = 12 * HOUR_MS;
const EPISODE_CHANCE = 0.25;

interface Episode {
  kind: EpisodeKind;
  start: number;
  end: number;
}

function episodeIn(w: World, r: number, window: number): Episode | null {
  if (rand(w.seed, r, window, 1) >= EPISODE_CHANCE) return null;
  const start = window * WINDOW_MS + Math.floor(rand(w.seed, r, window, 2) * (WINDOW_MS - HOUR_MS));
  const minutes = 2 + Math.floor(rand(w.seed, r, window, 3) * 38);
  return { kind: KINDS[Math.floor(rand(w.seed, r, window, 4) * KINDS.length)]!, start, end: start + minutes * MINUTE_MS };
}

// --- Rounds ---------------------------------------------------------------------

/** When route r's round of slot s starts: a per-route offset in the interval, plus jitter. */
export function startOf(w: World, r: number, s: number): number {
  const offset = Math.floor(rand(w.seed, r, 0, 5) * (w.intervalMs - 1000)) + 500;
  return s * w.intervalMs + offset + Math.floor(rand(w.seed, r, s, 6) * 400) - 200;
}

/** The part of a round that rollups see. */
interface Outcome {
  startedAt: number;
  kind: EpisodeKind | null;
  /** Edge total in tenths of a ms. */
  edgeUnits: number;
}

function outcomeOf(w: World, r: number, s: number): Outcome {
  const startedAt = startOf(w, r, s);
  const ep = episodeIn(w, r, Math.floor(startedAt / WINDOW_MS));
  const kind = ep !== null && startedAt >= ep.start && startedAt < ep.end ? ep.kind : null;
  const base = 40 + Math.floor(rand(w.seed, r, 0, 7) * 160);
  const noise = 0.7 + 0.2 * (rand(w.seed, r, s, 8) + rand(w.seed, r, s, 9) + rand(w.seed, r, s, 10));
  const spike = rand(w.seed, r, s, 11) < 0.01 ? 4 : 1;
  let edgeUnits = Math.max(1, Math.round(base * noise * spike));
  if (kind === 'pod.timeout') edgeUnits = 50_000 + Math.floor(rand(w.seed, r, s, 12) * 100);
  else if (kind === 'pod.refused' || kind === 'controller.error' || kind === 'dns.failure') edgeUnits = Math.ceil(edgeUnits / 3);
  return { startedAt, kind, edgeUnits };
}

/** What a round of route r at slot s comes to, without building its hops: for exporting the same history to other stores (bench/peers.ts). */
export function roundOutcome(w: World, r: number, s: number): { startedAt: number; status: VerdictStatus; edgeMs: number } {
  const o = outcomeOf(w, r, s);
  return { startedAt: o.startedAt, status: VERDICT_OF[o.kind ?? 'ok'].status, edgeMs: o.edgeUnits / 10 };
}

const VERDICT_OF: Record<EpisodeKind | 'ok', { status: VerdictStatus; hop: VerdictHop | null; cause: Cause }> = {
  ok: { status: 'ok', hop: null, cause: 'ok' },
  'pod.refused': { status: 'failing', hop: 'pod', cause: 'pod.refused' },
  'pod.timeout': { status: 'failing', hop: 'pod', cause: 'pod.timeout' },
  'controller.error': { status: 'failing', hop: 'controller', cause: 'controller.error' },
  'pod.crashloop': { status: 'degraded', hop: 'pod', cause: 'pod.crashloop' },
  'dns.failure': { status: 'failing', hop: 'dns', cause: 'dns.failure' },
};

function verdictOf(route: Route, kind: EpisodeKind | null): Verdict {
  const v = VERDICT_OF[kind ?? 'ok'];
  const pods = [`${route.namespace}/${route.ingress}-7d9f-0`, `${route.namespace}/${route.ingress}-7d9f-1`];
  switch (kind) {
    case null:
      return { ...v, summary: 'every hop answers', evidence: [] };
    case 'pod.refused':
      return { ...v, summary: '2 of 2 pods refuse connections on :8080', evidence: pods.map((p) => `${p} :8080 refused`) };
    case 'pod.timeout':
      return { ...v, summary: 'pods accept but answer after the controller timeout (5s)', evidence: pods.map((p) => `${p} no headers in 5s`) };
    case 'controller.error':
      return { ...v, summary: 'the controller answers 502 while service and pods answer 200', evidence: ['controller 502, service 200, pods 200'] };
    case 'pod.crashloop':
      return { ...v, summary: '1 of 2 pods restarts (CrashLoopBackOff)', evidence: [`${pods[1]} CrashLoopBackOff, 4 restarts`] };
    case 'dns.failure':
      return { ...v, summary: `${route.backends[0]?.ref.service ?? ''}.${route.namespace}.svc.cluster.local does not resolve`, evidence: ['NXDOMAIN'] };
  }
}

/** The full round of route r at slot s. */
export function syntheticRound(w: World, r: number, s: number): RouteRound {
  const o = outcomeOf(w, r, s);
  const route = w.routes[r]!;
  const hops = syntheticHops(w, r, s, o);
  const durationMs = Math.max(...hops.map((h) => h.timings.totalMs)) + 0.5;
  return { route, startedAt: o.startedAt, durationMs, hops, verdict: verdictOf(route, o.kind) };
}

function syntheticHops(w: World, r: number, s: number, o: Outcome): HopResult[] {
  const u = (k: number): number => rand(w.seed, r, s, 20 + k);
  const ms = (units: number): number => Math.max(1, Math.round(units)) / 10;
  const body = 600 + ((r * 37) % 3000);
  const route = w.routes[r]!;
  const edgeMs = o.edgeUnits / 10;
  const ok = (hop: HopKind, target: string, pod: string | null, totalMs: number, k: number): HopResult =>
    httpHop(hop, target, pod, 200, null, { connectMs: ms(2 + u(k) * 10), ttfbMs: ms(totalMs * 10 - 1 - u(k + 1) * 3), totalMs }, body, hop === 'edge' || hop === 'controller');
  const refused = (hop: HopKind, target: string, pod: string | null, k: number): HopResult =>
    httpHop(hop, target, pod, null, 'refused', { connectMs: ms(1 + u(k) * 5), totalMs: ms(2 + u(k) * 5) }, 0, false);
  const timedOut = (hop: HopKind, target: string, pod: string | null, k: number): HopResult =>
    httpHop(hop, target, pod, null, 'timeout', { connectMs: ms(1 + u(k) * 5), totalMs: 5000 + ms(u(k) * 50) }, 0, false);
  const gateway = (hop: HopKind, target: string, status: number, totalMs: number, k: number): HopResult =>
    httpHop(hop, target, hop === 'controller' ? 'ingress-nginx/ingress-nginx-controller-0' : null, status, null,
      { connectMs: ms(2 + u(k) * 10), ttfbMs: ms(totalMs * 10 - 1), totalMs }, 157, true, 'nginx');
  const ip = `10.${(r >> 8) & 255}.${r & 255}`;
  const podNames = [`${route.namespace}/${route.ingress}-7d9f-0`, `${route.namespace}/${route.ingress}-7d9f-1`];
  const dns = dnsHop(route, ip, o.kind === 'dns.failure', ms(3 + u(0) * 12));
  const edgeTarget = '203.0.113.10:80';
  const ctl = '10.0.3.1:80';
  const svc = `${ip}.1:80`;
  const pod0 = `${ip}.10:8080`;
  const pod1 = `${ip}.11:8080`;
  switch (o.kind) {
    case null:
      return [dns, ok('edge', edgeTarget, null, edgeMs, 1), ok('controller', ctl, 'ingress-nginx/ingress-nginx-controller-0', ms(edgeMs * 8), 3),
        ok('service', svc, null, ms(edgeMs * 6), 5), ok('pod', pod0, podNames[0]!, ms(edgeMs * 5), 7), ok('pod', pod1, podNames[1]!, ms(edgeMs * 5 + u(9) * 3), 10)];
    case 'pod.refused':
    case 'dns.failure':
      return [dns, gateway('edge', edgeTarget, 502, edgeMs, 1), gateway('controller', ctl, 502, ms(edgeMs * 8), 3),
        refused('service', svc, null, 5), refused('pod', pod0, podNames[0]!, 7), refused('pod', pod1, podNames[1]!, 9)];
    case 'pod.timeout':
      return [dns, gateway('edge', edgeTarget, 504, edgeMs, 1), gateway('controller', ctl, 504, ms(edgeMs * 10 - 5), 3),
        timedOut('service', svc, null, 5), timedOut('pod', pod0, podNames[0]!, 7), timedOut('pod', pod1, podNames[1]!, 9)];
    case 'controller.error':
      return [dns, gateway('edge', edgeTarget, 502, edgeMs, 1), gateway('controller', ctl, 502, ms(edgeMs * 8), 3),
        ok('service', svc, null, ms(edgeMs * 6), 5), ok('pod', pod0, podNames[0]!, ms(edgeMs * 5), 7), ok('pod', pod1, podNames[1]!, ms(edgeMs * 5), 9)];
    case 'pod.crashloop':
      return [dns, ok('edge', edgeTarget, null, edgeMs, 1), ok('controller', ctl, 'ingress-nginx/ingress-nginx-controller-0', ms(edgeMs * 8), 3),
        ok('service', svc, null, ms(edgeMs * 6), 5), ok('pod', pod0, podNames[0]!, ms(edgeMs * 5), 7), refused('pod', pod1, podNames[1]!, 9)];
  }
}

function httpHop(
  hop: HopKind, target: string, pod: string | null, status: number | null, error: HopResult['error'],
  timings: HopResult['timings'], bytes: number, proxied: boolean, generator: HopResult['generator'] = status === null ? null : 'upstream',
): HopResult {
  const [address, port] = target.split(':') as [string, string];
  const headers: Record<string, string> =
    status === null ? {} : generator === 'nginx' ? { server: 'nginx', 'content-type': 'text/html' } : proxied
      ? { server: 'nginx', 'content-type': 'application/json' } : { 'content-type': 'application/json' };
  return {
    hop, target, address, port: Number(port), scheme: 'http', pod, ready: hop === 'pod' ? error === null : null,
    terminating: hop === 'pod' ? false : null, status, error, errorDetail: error === null ? null : `${error} ${target}`,
    timings, bytes, headerBytes: status === null ? 0 : proxied ? 231 : 164, headers, generator, addresses: [],
  };
}

function dnsHop(route: Route, ip: string, fails: boolean, dnsMs: number): HopResult {
  const name = `${route.backends[0]?.ref.service ?? ''}.${route.namespace}.svc.cluster.local`;
  return {
    hop: 'dns', target: name, address: name, port: 53, scheme: 'dns', pod: null, ready: null, terminating: null,
    status: null, error: fails ? 'dns' : null, errorDetail: fails ? 'ENOTFOUND' : null, timings: { dnsMs, totalMs: dnsMs },
    bytes: 0, headerBytes: 0, headers: {}, generator: null, addresses: fails ? [] : [`${ip}.1`],
  };
}

// --- Writing ------------------------------------------------------------------

/** Generates a store into db (migrated, empty). */
export function generateStore(db: Db, opts: GenerateOptions): GenerateStats {
  const world = syntheticWorld(opts.routes, opts.namespaces ?? Math.max(1, Math.ceil(opts.routes / 25)), opts.intervalMs, opts.seed ?? 1);
  const from = floorTo(opts.now - opts.days * DAY_MS, HOUR_MS);
  // Raw rounds older than this hour would have been pruned (chunks go whole): rollups only.
  const rawFrom = opts.allRaw || opts.retention.rawDays === null ? from : Math.max(from, floorTo(opts.now - opts.retention.rawDays * DAY_MS, HOUR_MS));
  const stats: GenerateStats = { rawRounds: 0, bulkRounds: 0, incidents: 0 };
  const rids = world.routes.map((route, r) => registerRoute(db, route, firstStart(world, r, from)));
  stats.bulkRounds = writeBulk(db, world, rids, from, rawFrom, opts.onProgress);
  stats.rawRounds = writeRaw(db, world, rawFrom, opts);
  stats.incidents = writeIncidents(db, world, from, opts.now);
  return stats;
}

function firstSlot(w: World, from: number): number {
  // The first slot whose round can start at or after from (jitter is at most one interval).
  return Math.floor(from / w.intervalMs) - 1;
}

function firstStart(w: World, r: number, from: number): number {
  let s = firstSlot(w, from);
  while (startOf(w, r, s) < from) s++;
  return startOf(w, r, s);
}

/** Rounds of [from, to), aggregated straight into route and all-routes rollups, one hour at a time. */
function writeBulk(db: Db, w: World, rids: readonly number[], from: number, to: number, onProgress?: (phase: string, done: number) => void): number {
  const rows = new RollupRows(db);
  let n = 0;
  for (let hour = from; hour < to; hour += HOUR_MS) {
    db.transaction(() => {
      const all = new Map<number, Agg>();
      for (let r = 0; r < w.routes.length; r++) {
        const slots = new Map<number, Agg>();
        for (let s = firstSlot(w, hour); ; s++) {
          const o = outcomeOf(w, r, s);
          if (o.startedAt >= hour + HOUR_MS) break;
          if (o.startedAt < hour) continue;
          const k = (floorTo(o.startedAt, MINUTE_MS) - hour) / MINUTE_MS;
          let agg = slots.get(k);
          if (agg === undefined) slots.set(k, (agg = emptyAgg()));
          const v = VERDICT_OF[o.kind ?? 'ok'];
          addRound(agg, v.status, v.hop, v.cause, o.edgeUnits);
          n++;
        }
        writeHour(rows, rids[r]!, hour, slots);
        for (const [k, agg] of slots) foldSlot(all, k, agg);
      }
      writeHour(rows, ALL_SCOPE, hour, all);
    })();
    onProgress?.('bulk', (hour - from + HOUR_MS) / Math.max(1, to - from));
  }
  return n;
}

function foldSlot(into: Map<number, Agg>, k: number, agg: Agg): void {
  let t = into.get(k);
  if (t === undefined) into.set(k, (t = emptyAgg()));
  mergeAgg(t, agg);
}

function writeHour(rows: RollupRows, scope: number, hour: number, slots: Map<number, Agg>): void {
  if (slots.size === 0) return;
  const total = emptyAgg();
  for (const agg of slots.values()) mergeAgg(total, agg);
  rows.merge(scope, 'hour', hour, total);
  rows.mergeMinutes(scope, hour, slots);
  rows.merge(scope, 'day', floorTo(hour, DAY_MS), total);
}

/** Rounds of [from, now) through the real write path, compacting as hours close (as the daemon would). */
function writeRaw(db: Db, w: World, from: number, opts: GenerateOptions): number {
  const writer = createWriter(db);
  const batchRounds = opts.batchRounds ?? 1000;
  let batch: RouteRound[] = [];
  let n = 0;
  let compactedFor = from;
  for (let s = firstSlot(w, from); s * w.intervalMs < opts.now + w.intervalMs; s++) {
    for (let r = 0; r < w.routes.length; r++) {
      const at = startOf(w, r, s);
      if (at < from || at >= opts.now) continue;
      batch.push(syntheticRound(w, r, s));
      if (batch.length >= batchRounds) n += flush(writer, batch), (batch = []);
    }
    const t = s * w.intervalMs;
    if (t - compactedFor >= HOUR_MS) {
      n += flush(writer, batch);
      batch = [];
      while (compact(db, t).more);
      compactedFor = t;
      opts.onProgress?.('raw', (t - from) / Math.max(1, opts.now - from));
    }
  }
  n += flush(writer, batch);
  while (compact(db, opts.now).more);
  return n;
}

function flush(writer: ReturnType<typeof createWriter>, batch: RouteRound[]): number {
  return batch.length === 0 ? 0 : writer.writeRounds(batch).rounds;
}

/** One incident per episode overlapping [from, now), as the incident tracker would record it. */
function writeIncidents(db: Db, w: World, from: number, now: number): number {
  let n = 0;
  db.transaction(() => {
    for (let r = 0; r < w.routes.length; r++) {
      for (let win = Math.floor(from / WINDOW_MS); win * WINDOW_MS < now; win++) {
        const ep = episodeIn(w, r, win);
        if (ep === null || ep.start >= now || ep.end <= from) continue;
        const route = w.routes[r]!;
        const v = verdictOf(route, ep.kind);
        insertIncident(db, {
          routeId: route.id, severity: v.status === 'degraded' ? 'degraded' : 'failing', openedAt: Math.max(ep.start, from),
          closedAt: ep.end <= now ? ep.end : null, hop: v.hop, cause: v.cause, firstEvidence: v.evidence,
          pods: [`${route.namespace}/${route.ingress}-7d9f-0`, `${route.namespace}/${route.ingress}-7d9f-1`],
          failingRounds: Math.round((ep.end - ep.start) / w.intervalMs), rollout: ep.kind === 'pod.crashloop',
        });
        n++;
      }
    }
  })();
  return n;
}

// --- Command line ---------------------------------------------------------------

function parseArgs(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) out[a.slice(2)] = argv[i + 1] ?? '';
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const out = args['out'];
  if (!out) throw new Error('usage: generate --out FILE [--routes 1000] [--days 30] [--interval-ms 30000] [--now MS]');
  const started = Date.now();
  const db = openStore(out);
  if ((db.prepare('SELECT count(*) FROM routes').pluck().get() as number) > 0) throw new Error(`${out} already holds a store; give a new file`);
  const stats = generateStore(db, {
    routes: Number(args['routes'] ?? 1000), days: Number(args['days'] ?? 30), intervalMs: Number(args['interval-ms'] ?? 30_000),
    now: Number(args['now'] ?? floorTo(Date.now(), MINUTE_MS)), retention: { rawDays: 7, minuteDays: 30, hourDays: 365, dayDays: null },
    onProgress: (phase, done) => process.stderr.write(`\r${phase} ${(done * 100).toFixed(1)}%   `),
  });
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  process.stderr.write('\n');
  console.log(JSON.stringify({ ...stats, seconds: (Date.now() - started) / 1000 }));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
