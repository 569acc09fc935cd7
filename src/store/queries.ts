// Read queries over the store: routes, rounds, timelines and uptime. Plain
// synchronous functions of a connection, returning plain objects.
//
// Where data lives: the all-routes scope has live minute/hour/day rollups; a
// route's rollups hold its compacted rounds and its newest rounds are still in
// the head block, so route answers add the two (exact, and never a long scan:
// the head holds about the last hour).

import type { Backend, HopResult, PathType, Route, RouteKind, RouteParent, Verdict, VerdictHop, VerdictStatus } from '../model.js';
import { fromUnits, type PackedRound } from './codec.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { StoreError } from './errors.js';
import { type Reader, readerFor } from './read.js';
import { tierHorizon } from './retention.js';
import {
  ALL_SCOPE, DAY_MS, HOUR_MS, MINUTE_MS, TIER_MS, addRound, countsRecord, emptyAgg, floorTo, latencySummary, mergeAgg,
  type Agg, type LatencySummary, type Tier,
} from './rollup.js';
import type { Db } from './sqlite.js';

/** A backend of a stored route: how it is written and how much traffic it gets (its facts are not stored). */
export interface StoredBackend extends Pick<Backend, 'weight' | 'share' | 'role' | 'source' | 'selector'> {
  /** Namespace of the Service. */
  namespace: string;
  /** Name of the Service. */
  service: string;
  /** The Service port, by number or name. */
  port: number | string;
}

/** A route as stored (its description as last seen by discovery). */
export interface StoredRoute
  extends Pick<Route, 'id' | 'kind' | 'namespace' | 'name' | 'ingress' | 'ingressClass' | 'host' | 'path' | 'pathType' | 'tls' | 'defaultBackend' | 'parent'> {
  /** The primary backend as written (kept from before backends[]: scripts read it). */
  backend: { service: string; port: number | string };
  /** Every backend, primary first. */
  backends: StoredBackend[];
  /** Path hopwatch requests. */
  probePath: string;
  /** First round stored (ms since epoch). */
  firstSeenAt: number;
  /** When the description last changed. */
  updatedAt: number;
  /** When the route disappeared from the cluster, null while it exists. */
  removedAt: number | null;
}

/** A route with its newest round's verdict. */
export interface RouteSummary extends StoredRoute {
  /** The newest round stored, null when none is left. */
  latest: { startedAt: number; durationMs: number; verdict: Verdict } | null;
}

/** One stored round. Not stored: the Route object's facts (pods, endpoints, ...), only its id. */
export interface StoredRound {
  /** Route.id. */
  routeId: string;
  /** When the round started (ms since epoch). */
  startedAt: number;
  /** Wall time of the round (0.1 ms resolution). */
  durationMs: number;
  /** Every hop's result (timings at 0.1 ms resolution). */
  hops: HopResult[];
  /** The verdict. */
  verdict: Verdict;
}

interface RouteRow {
  rid: number;
  id: string;
  namespace: string;
  ingress: string;
  ingress_class: string | null;
  host: string | null;
  path: string;
  path_type: PathType;
  tls: number;
  default_backend: number;
  backend_service: string;
  backend_port: string;
  kind: RouteKind;
  name: string | null;
  backends: string;
  parent: string | null;
  probe_path: string;
  first_seen_at: number;
  updated_at: number;
  removed_at: number | null;
}

function routeFromRow(r: RouteRow): StoredRoute {
  return {
    id: r.id, kind: r.kind, namespace: r.namespace, name: r.name ?? r.ingress, ingress: r.ingress, ingressClass: r.ingress_class,
    host: r.host, path: r.path, pathType: r.path_type, tls: r.tls === 1, defaultBackend: r.default_backend === 1,
    backend: { service: r.backend_service, port: JSON.parse(r.backend_port) as number | string },
    backends: JSON.parse(r.backends) as StoredBackend[],
    parent: r.parent === null ? null : (JSON.parse(r.parent) as RouteParent),
    probePath: r.probe_path, firstSeenAt: r.first_seen_at, updatedAt: r.updated_at, removedAt: r.removed_at,
  };
}

/** Every route, with its newest verdict; optionally one namespace's. */
export function listRoutes(db: Db, options: { namespace?: string } = {}): RouteSummary[] {
  // Each route's newest head round and newest chunk end come with it, one index seek each inside
  // SQLite: asked per route from JS they were two statements per route, half of the routes page's
  // time at 1,000 routes (better-sqlite3's cost per statement, not SQLite's).
  const rows = (options.namespace === undefined
    ? db.prepare(`${LATEST_SELECT} ORDER BY r.namespace, r.ingress, r.host, r.path`).all()
    : db.prepare(`${LATEST_SELECT} WHERE r.namespace = ? ORDER BY r.ingress, r.host, r.path`).all(options.namespace)) as (RouteRow & LatestColumns)[];
  const reader = readerFor(db);
  return rows.map((r) => ({ ...routeFromRow(r), latest: latestOfRow(reader, r) }));
}

/** The newest head round's meta and the newest chunk's end of a route, read with it. */
interface LatestColumns {
  head_at: number | null;
  head_duration: number | null;
  head_verdict: number | null;
  chunk_last: number | null;
}

const LATEST_SELECT = `SELECT r.*, h.started_at AS head_at, h.duration AS head_duration, h.verdict_id AS head_verdict,
  (SELECT max(c.last_at) FROM round_chunks c WHERE c.route_rid = r.rid) AS chunk_last
  FROM routes r LEFT JOIN rounds_head h ON h.id = (SELECT id FROM rounds_head WHERE route_rid = r.rid ORDER BY started_at DESC LIMIT 1)`;

/** latestOf from the columns read with the route: the head's newest, unless a chunk ends later (then newestRound decides, as latestOf does). */
function latestOfRow(reader: Reader, r: LatestColumns & { rid: number }): RouteSummary['latest'] {
  if (r.chunk_last !== null && r.chunk_last >= (r.head_at === null ? 0 : r.head_at + 1)) return latestOf(reader, r.rid);
  if (r.head_at === null || r.head_duration === null || r.head_verdict === null) return null;
  return { startedAt: r.head_at, durationMs: fromUnits(r.head_duration), verdict: plainVerdict(reader.dict.verdict(r.head_verdict)) };
}

/**
 * Records which routes exist now: routes not in `present` are marked removed at `now` (their
 * history stays), routes in it are marked present again. One statement each, whatever the count.
 */
export function markRoutePresence(db: Db, present: readonly string[], now: number): void {
  const ids = JSON.stringify(present);
  db.transaction(() => {
    db.prepare('UPDATE routes SET removed_at = ? WHERE removed_at IS NULL AND id NOT IN (SELECT value FROM json_each(?))').run(now, ids);
    db.prepare('UPDATE routes SET removed_at = NULL WHERE removed_at IS NOT NULL AND id IN (SELECT value FROM json_each(?))').run(ids);
  })();
}

/** markRoutePresence for a known change: these routes are present again, those are gone (what a change to one object costs, not a pass over every route). */
export function markRoutesChanged(db: Db, added: readonly string[], removed: readonly string[], now: number): void {
  if (added.length === 0 && removed.length === 0) return;
  db.transaction(() => {
    db.prepare('UPDATE routes SET removed_at = ? WHERE removed_at IS NULL AND id IN (SELECT value FROM json_each(?))').run(now, JSON.stringify(removed));
    db.prepare('UPDATE routes SET removed_at = NULL WHERE removed_at IS NOT NULL AND id IN (SELECT value FROM json_each(?))').run(JSON.stringify(added));
  })();
}

/** One route with its newest verdict, or null. */
export function getRoute(db: Db, id: string): RouteSummary | null {
  const r = db.prepare('SELECT * FROM routes WHERE id = ?').get(id) as RouteRow | undefined;
  return r === undefined ? null : { ...routeFromRow(r), latest: latestOf(readerFor(db), r.rid) };
}

function latestOf(reader: Reader, rid: number): RouteSummary['latest'] {
  const newest = newestRound(reader, rid, false);
  if (newest === null) return null;
  const v = reader.dict.verdict(newest.verdict);
  return { startedAt: newest.startedAt, durationMs: fromUnits(newest.duration), verdict: plainVerdict(v) };
}

/**
 * A route's newest round: the newest in the head, unless a chunk ends later (a route no longer
 * probed has all its rounds compacted: its newest is the last of its newest chunk). Head rounds'
 * hops are read only when asked for (`withHops`); a chunk's always are.
 */
export function newestRound(reader: Reader, rid: number, withHops: true): PackedRound | null;
export function newestRound(reader: Reader, rid: number, withHops: false): Omit<PackedRound, 'hops'> | null;
export function newestRound(reader: Reader, rid: number, withHops: boolean): Omit<PackedRound, 'hops'> | null {
  const head = withHops ? reader.newestHead(rid) : reader.newestHeadMeta(rid);
  const chunk = reader.newestChunk(rid, head === null ? 0 : head.startedAt + 1);
  if (chunk === undefined) return head;
  const rounds = reader.chunkRounds(chunk);
  return rounds[rounds.length - 1] ?? head;
}

function plainVerdict(v: Verdict): Verdict {
  return { status: v.status, hop: v.hop, cause: v.cause, summary: v.summary, evidence: [...v.evidence] };
}

function ridOf(db: Db, routeId: string): number | undefined {
  return readerFor(db).ridOf(routeId);
}

/** Options of roundsOf. */
export interface RoundsQuery {
  /** Only rounds started at or after this (ms since epoch). */
  from?: number;
  /** Only rounds started before this. */
  to?: number;
  /** Page size (default 100, at most 1000). */
  limit?: number;
  /** nextCursor of the previous page. */
  cursor?: string;
}

/** A page of rounds, newest first. */
export interface RoundPage {
  /** The rounds. */
  rounds: StoredRound[];
  /** Cursor of the next page, null on the last. */
  nextCursor: string | null;
}

/** A route's rounds, newest first, with their hop results, keyset-paginated. */
export function roundsOf(db: Db, routeId: string, q: RoundsQuery = {}): RoundPage {
  const rid = ridOf(db, routeId);
  if (rid === undefined) return { rounds: [], nextCursor: null };
  const limit = Math.min(Math.max(1, Math.floor(q.limit ?? 100)), 1000);
  const from = q.from ?? 0;
  let to = q.to ?? Number.MAX_SAFE_INTEGER;
  let skip = 0;
  let cursorAt = -1;
  if (q.cursor !== undefined) {
    // The cursor names the last round returned: its startedAt and how many rounds at that instant were returned.
    const [at, k] = decodeCursor(q.cursor, 'r', 2) as [number, number];
    to = Math.min(to, at + 1);
    skip = k;
    cursorAt = at;
  }
  const reader = readerFor(db);
  const found = newestRounds(reader, rid, from, to, limit + skip + 1);
  const page = found.slice(skip, skip + limit);
  const last = page[page.length - 1];
  let nextCursor: string | null = null;
  if (found.length > skip + limit && last !== undefined) {
    const same = page.filter((r) => r.startedAt === last.startedAt).length + (last.startedAt === cursorAt ? skip : 0);
    nextCursor = encodeCursor('r', [last.startedAt, same]);
  }
  return { rounds: page.map((r) => storedRound(reader, routeId, r)), nextCursor };
}

/** The `need` newest rounds of a route in [from, to), from the head and the chunks, newest first. */
function newestRounds(reader: Reader, rid: number, from: number, to: number, need: number): PackedRound[] {
  const found = reader.headRounds(rid, from, to, need);
  for (const c of reader.chunksNewestFirst(rid, from, to)) {
    // Chunks come newest-ending first: once `need` rounds are newer than this chunk's end, no later chunk matters.
    if (found.length >= need) {
      found.sort(newestFirst);
      if (c.last_at < found[need - 1]!.startedAt) break;
    }
    for (const r of reader.chunkRounds(c)) if (r.startedAt >= from && r.startedAt < to) found.push(r);
  }
  found.sort(newestFirst);
  return found.slice(0, need);
}

function newestFirst(a: PackedRound, b: PackedRound): number {
  return b.startedAt - a.startedAt;
}

function storedRound(reader: Reader, routeId: string, r: PackedRound): StoredRound {
  return {
    routeId, startedAt: r.startedAt, durationMs: fromUnits(r.duration), hops: reader.hopsOf(r),
    verdict: plainVerdict(reader.dict.verdict(r.verdict)),
  };
}

/** A timeline request: exactly one of routeId, namespace or all. */
export interface TimelineQuery {
  /** One route. */
  routeId?: string;
  /** Every route of a namespace. */
  namespace?: string;
  /** Every route. */
  all?: boolean;
  /** Start (ms); buckets are aligned to multiples of stepMs since the epoch, so the first starts at or before it. */
  from: number;
  /** End (ms, exclusive; the last bucket ends at or after it). */
  to: number;
  /** Bucket width in ms. */
  stepMs: number;
  /** Force a tier (tests, debugging); default: the coarsest tier whose width divides stepMs. */
  tier?: 'raw' | Tier;
}

/** One timeline bucket. */
export interface TimelineBucket {
  /** Bucket start (ms). */
  start: number;
  /** Rounds in the bucket. */
  rounds: number;
  /** ok rounds. */
  ok: number;
  /** degraded rounds. */
  degraded: number;
  /** failing rounds. */
  failing: number;
  /** unknown rounds. */
  unknown: number;
  /** Degraded and failing rounds by the verdict's hop. */
  failuresByHop: Record<string, number>;
  /** Degraded and failing rounds by cause. */
  failuresByCause: Record<string, number>;
  /** Edge latency of the bucket's rounds, null when none. */
  latency: LatencySummary | null;
}

/** A timeline. */
export interface Timeline {
  /** First bucket start. */
  from: number;
  /** Last bucket end. */
  to: number;
  /** Bucket width. */
  stepMs: number;
  /** The tier read. */
  tier: 'raw' | Tier;
  /** Buckets, oldest first, one per step (empty ones included). */
  buckets: TimelineBucket[];
  /** When the tier read has expired data inside the range: buckets before this time are empty for that reason (a coarser step reads a tier kept longer). */
  expiredBefore: number | null;
}

/** Most buckets the store builds in memory for one timeline: a guard for direct callers; the API allows far fewer (src/server/api.ts). */
export const STORE_TIMELINE_BUCKET_CAP = 100_000;

/** The coarsest tier whose width divides the step ('raw' below one minute). */
export function tierForStep(stepMs: number): 'raw' | Tier {
  if (stepMs % DAY_MS === 0) return 'day';
  if (stepMs % HOUR_MS === 0) return 'hour';
  if (stepMs % MINUTE_MS === 0) return 'minute';
  return 'raw';
}

/** Rounds per bucket of a route, a namespace or all routes, from the coarsest tier that fits. */
export function timeline(db: Db, q: TimelineQuery): Timeline {
  const scopes = [q.routeId !== undefined, q.namespace !== undefined, q.all === true].filter(Boolean).length;
  if (scopes !== 1) throw new StoreError('BAD_QUERY', 'timeline needs exactly one of routeId, namespace or all');
  if (!(Number.isSafeInteger(q.stepMs) && q.stepMs > 0)) throw new StoreError('BAD_QUERY', `stepMs must be a positive integer, got ${q.stepMs}`);
  const from = floorTo(q.from, q.stepMs);
  const to = Math.ceil(q.to / q.stepMs) * q.stepMs;
  const n = (to - from) / q.stepMs;
  if (!(n >= 0 && n <= STORE_TIMELINE_BUCKET_CAP)) throw new StoreError('BAD_QUERY', `timeline would have ${n} buckets (at most ${STORE_TIMELINE_BUCKET_CAP})`);
  const tier = q.tier ?? tierForStep(q.stepMs);
  if (tier !== 'raw' && q.stepMs % TIER_MS[tier] !== 0) {
    throw new StoreError('BAD_QUERY', `the ${tier} tier cannot answer a ${q.stepMs} ms step`);
  }
  // Buckets stay undefined until data lands in them; the first aggregate a bucket gets is adopted, not copied (visitors hand over aggregates of their own).
  const aggs: (Agg | undefined)[] = new Array(n);
  const visitor = bucketVisitor(aggs, from, q.stepMs);
  const reader = readerFor(db);
  if (q.all === true && tier !== 'raw') reader.visitRows(ALL_SCOPE, tier, from, to, visitor.agg);
  else for (const rid of scopeRids(db, q)) visitRoute(reader, rid, tier, from, to, visitor);
  const horizon = tierHorizon(db, tier);
  const expiredBefore = horizon !== null && horizon > from ? Math.min(horizon, to) : null;
  const buckets: TimelineBucket[] = new Array(n);
  for (let i = 0; i < n; i++) buckets[i] = bucketOf(from + i * q.stepMs, aggs[i]);
  return { from, to, stepMs: q.stepMs, tier, buckets, expiredBefore };
}

interface BucketVisitor {
  agg: (t: number, a: Agg) => void;
  round: (t: number, status: VerdictStatus, hop: VerdictHop | null, cause: string, lat: number) => void;
}

function bucketVisitor(aggs: (Agg | undefined)[], from: number, stepMs: number): BucketVisitor {
  const index = (t: number): number => Math.floor((t - from) / stepMs);
  return {
    agg: (t, a) => {
      const i = index(t);
      if (!(i >= 0 && i < aggs.length)) return;
      const target = aggs[i];
      if (target === undefined) aggs[i] = a;
      else mergeAgg(target, a);
    },
    round: (t, status, hop, cause, lat) => {
      const i = index(t);
      if (!(i >= 0 && i < aggs.length)) return;
      addRound((aggs[i] ??= emptyAgg()), status, hop, cause, lat);
    },
  };
}

/** Feeds one route's data of [from, to) at a tier: its rollups plus its head rounds, or all its raw rounds. */
function visitRoute(reader: Reader, rid: number, tier: 'raw' | Tier, from: number, to: number, v: BucketVisitor): void {
  if (tier === 'raw') {
    reader.visitRaw(rid, from, to, v.round);
    return;
  }
  reader.visitRows(rid, tier, from, to, v.agg);
  reader.visitHead(rid, from, to, v.round);
}

function scopeRids(db: Db, q: TimelineQuery): number[] {
  if (q.routeId !== undefined) {
    const rid = ridOf(db, q.routeId);
    return rid === undefined ? [] : [rid];
  }
  if (q.namespace !== undefined) return db.prepare('SELECT rid FROM routes WHERE namespace = ? ORDER BY rid').pluck().all(q.namespace) as number[];
  return db.prepare('SELECT rid FROM routes ORDER BY rid').pluck().all() as number[];
}

function bucketOf(start: number, a: Agg | undefined): TimelineBucket {
  if (a === undefined) return { start, rounds: 0, ok: 0, degraded: 0, failing: 0, unknown: 0, failuresByHop: {}, failuresByCause: {}, latency: null };
  return {
    start, rounds: a.rounds, ok: a.ok, degraded: a.degraded, failing: a.failing, unknown: a.unknown,
    failuresByHop: countsRecord(a.byHop), failuresByCause: countsRecord(a.byCause), latency: latencySummary(a),
  };
}

/** Uptime of a route over a period. */
export interface Uptime {
  /** Start (ms, floored to the minute). */
  from: number;
  /** End (ms, exclusive, floored to the minute). */
  to: number;
  /** Rounds counted. */
  rounds: number;
  /** ok rounds. */
  ok: number;
  /** degraded rounds (the route answered, some hop failed). */
  degraded: number;
  /** failing rounds. */
  failing: number;
  /** unknown rounds (not counted in uptime). */
  unknown: number;
  /** (ok + degraded) / (rounds - unknown); null when no round had a known status. */
  uptime: number | null;
}

/**
 * A route's uptime over [fromMs, toMs) (both floored to the minute, the finest
 * rollup; toMs defaults to everything stored), from rollups: whole days, whole
 * hours, then minutes at the edges, plus the rounds still in the head.
 */
export function uptime(db: Db, routeId: string, fromMs: number, toMs: number = Number.MAX_SAFE_INTEGER): Uptime {
  const from = floorTo(fromMs, MINUTE_MS);
  const to = Math.max(from, toMs >= Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : floorTo(toMs, MINUTE_MS));
  const total = emptyAgg();
  const rid = ridOf(db, routeId);
  if (rid !== undefined) {
    const reader = readerFor(db);
    const add = (_t: number, a: Agg): void => mergeAgg(total, a);
    for (const [tier, a, b] of tierPieces(from, to)) reader.visitRows(rid, tier, a, b, add);
    reader.visitHead(rid, from, to, (_t, status, hop, cause, lat) => addRound(total, status, hop, cause, lat));
  }
  const known = total.rounds - total.unknown;
  return {
    from, to, rounds: total.rounds, ok: total.ok, degraded: total.degraded, failing: total.failing, unknown: total.unknown,
    uptime: known > 0 ? (total.ok + total.degraded) / known : null,
  };
}

/** Splits [from, to) into minute-, hour- and day-aligned pieces, coarsest in the middle. */
export function tierPieces(from: number, to: number): [Tier, number, number][] {
  const pieces: [Tier, number, number][] = [];
  const hourA = Math.min(Math.ceil(from / HOUR_MS) * HOUR_MS, to);
  const hourB = Math.max(floorTo(to, HOUR_MS), hourA);
  const dayA = Math.min(Math.ceil(hourA / DAY_MS) * DAY_MS, hourB);
  const dayB = Math.max(floorTo(hourB, DAY_MS), dayA);
  if (from < hourA) pieces.push(['minute', from, hourA]);
  if (hourA < dayA) pieces.push(['hour', hourA, dayA]);
  if (dayA < dayB) pieces.push(['day', dayA, dayB]);
  if (dayB < hourB) pieces.push(['hour', dayB, hourB]);
  if (hourB < to) pieces.push(['minute', hourB, to]);
  return pieces;
}
