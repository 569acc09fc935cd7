// The queries a StoreReader runs (src/store/reader.ts), as one table of plain
// synchronous functions of a connection: the store's own queries, plus the
// composite answers the HTTP API needs in one trip (a page of the routes table
// with uptimes and last latency, a route's detail, incidents with their routes).
// The same table runs in the reader's worker thread and in-process.

import type { RouteKind, VerdictStatus } from '../model.js';
import { StoreError } from './errors.js';
import { getIncident, listIncidents, type Incident, type IncidentPage, type IncidentQuery } from './incidents.js';
import {
  getRoute, listRoutes, newestRound, roundsOf, timeline, uptime, type RoundPage, type RoundsQuery, type RouteSummary, type StoredRound,
  type StoredRoute, type TimelineQuery, type Uptime,
} from './queries.js';
import { fromUnits } from './codec.js';
import { packedEdgeLatency } from './compact.js';
import { readerFor } from './read.js';
import { DAY_MS, MINUTE_MS, floorTo } from './rollup.js';
import type { Db } from './sqlite.js';
import { timelineAnswerJson, type TimelineScope } from './timeline-json.js';
import { countWindows } from './uptime-batch.js';

/** The uptime windows of the routes table. */
export const UPTIME_WINDOWS = { '24h': DAY_MS, '7d': 7 * DAY_MS, '30d': 30 * DAY_MS } as const satisfies Record<string, number>;

/** Name of an uptime window. */
export type UptimeWindow = keyof typeof UPTIME_WINDOWS;

/** A route's status for filtering: its newest verdict's status, or `none` before its first stored round. */
export type RouteStatusFilter = VerdictStatus | 'none';

/** Keys the routes table sorts by; every order ends with the route id, so pages never overlap. */
export type RouteSortField = 'name' | 'status' | 'lastRound' | 'latency' | 'uptime24h' | 'uptime7d' | 'uptime30d';

/** Every sort key, for validation. */
export const ROUTE_SORT_FIELDS: readonly RouteSortField[] = ['name', 'status', 'lastRound', 'latency', 'uptime24h', 'uptime7d', 'uptime30d'];

/** A page request of the routes table. */
export interface RoutePageQuery {
  /** Only this namespace's routes. */
  namespace?: string;
  /** Only routes of this routing object's kind. */
  kind?: RouteKind;
  /** Only routes of the routing object of this name (Ingress or HTTPRoute name; with namespace, one object). */
  name?: string;
  /** Only routes whose status is one of these. */
  statuses?: readonly RouteStatusFilter[];
  /** Case-insensitive substring of "namespace/ingress host path id". */
  search?: string;
  /** Sort key. */
  sort: RouteSortField;
  /** Sort direction (routes without a value for the key come last either way). */
  order: 'asc' | 'desc';
  /** Page size. */
  limit: number;
  /** nextCursor of the previous page (same sort and order). */
  cursor?: string;
  /** The current time (uptime windows end here). */
  now: number;
  /** Also list routes that were removed from the cluster (default: only current ones). */
  includeRemoved?: boolean;
}

/** One row of the routes table. */
export interface RouteRow extends RouteSummary {
  /** The newest round's edge latency in ms, null without one (no round, or the edge unreachable). */
  latencyMs: number | null;
  /** Uptime ratio (0..1) per window, null when the window holds no round of known status. */
  uptime: Record<UptimeWindow, number | null>;
}

/** A page of the routes table. */
export interface RoutePage {
  /** The routes of this page. */
  routes: RouteRow[];
  /** Routes matching the filters, on all pages. */
  total: number;
  /** Cursor of the next page, null on the last. */
  nextCursor: string | null;
}

/** One namespace with its routes counted by status. */
export interface NamespaceSummary {
  /** The namespace. */
  name: string;
  /** Routes stored in it. */
  routes: number;
  /** Its routes by current status. */
  statuses: Record<RouteStatusFilter, number>;
}

/** Everything the route detail page shows. */
export interface RouteDetail {
  /** The route and its newest verdict. */
  route: RouteSummary;
  /** The newest round with its hop results, null when none is stored. */
  latestRound: StoredRound | null;
  /** Uptime per window, with counts. */
  uptime: Record<UptimeWindow, Uptime>;
  /** The route's open incident, null when none. */
  openIncident: Incident | null;
}

/** The part of a route an incident list shows beside each incident. */
export type RouteRef = Pick<StoredRoute, 'id' | 'kind' | 'namespace' | 'name' | 'ingress' | 'host' | 'path'>;

/** An incident with the route it belongs to (null when the route is no longer stored). */
export interface IncidentWithRoute extends Incident {
  /** The route's names. */
  route: RouteRef | null;
}

/** A page of incidents with their routes. */
export interface IncidentRoutePage {
  /** The incidents, newest opened first. */
  incidents: IncidentWithRoute[];
  /** Cursor of the next page, null on the last. */
  nextCursor: string | null;
}

const STATUS_RANK: Record<VerdictStatus, number> = { ok: 0, unknown: 1, degraded: 2, failing: 3 };

/** A sort key value: a name tuple, a number, or null (no value: sorts last). */
type SortValue = string[] | number | null;

function statusOf(route: RouteSummary): RouteStatusFilter {
  return route.latest?.verdict.status ?? 'none';
}

function matches(route: RouteSummary, q: RoutePageQuery): boolean {
  if (route.removedAt !== null && q.includeRemoved !== true) return false;
  if (q.statuses !== undefined && !q.statuses.includes(statusOf(route))) return false;
  if ((q.kind !== undefined && route.kind !== q.kind) || (q.name !== undefined && route.name !== q.name)) return false;
  if (q.search === undefined || q.search === '') return true;
  const text = `${route.namespace}/${route.ingress} ${route.host ?? ''} ${route.path} ${route.id}`.toLowerCase();
  return text.includes(q.search.toLowerCase());
}

/** The edge hop's total time of a route's newest round; null without a round or an edge answer. */
export function latestLatencyMs(db: Db, routeId: string): number | null {
  const round = roundsOf(db, routeId, { limit: 1 }).rounds[0];
  const edge = round?.hops.find((h) => h.hop === 'edge');
  return edge === undefined || edge.error === 'unreachable' ? null : edge.timings.totalMs;
}

type Counts = Pick<Uptime, 'rounds' | 'ok' | 'degraded' | 'failing' | 'unknown'>;

function ratioOf(c: Counts): number | null {
  const known = c.rounds - c.unknown;
  return known > 0 ? (c.ok + c.degraded) / known : null;
}

/**
 * Uptime ratios of many routes over every window ending at now: the same answer as
 * `uptime()` per route and window (tested), in a few statements for the whole table
 * (uptime-batch.ts: every rollup piece summed in SQL over all the routes, head rounds
 * counted by verdict id without decoding their hops).
 */
export function uptimeRatios(db: Db, routeIds: readonly string[], now: number): Map<string, Record<UptimeWindow, number | null>> {
  const names = Object.keys(UPTIME_WINDOWS) as UptimeWindow[];
  const windows = names.map((name) => {
    const from = floorTo(now - UPTIME_WINDOWS[name], MINUTE_MS);
    return { from, to: Math.max(from, floorTo(now, MINUTE_MS)) };
  });
  const rids = ridsOf(db, routeIds);
  const counts = countWindows(db, [...new Set(rids.values())], windows);
  const out = new Map<string, Record<UptimeWindow, number | null>>();
  for (const id of routeIds) {
    const ratios: Record<UptimeWindow, number | null> = { '24h': null, '7d': null, '30d': null };
    out.set(id, ratios);
    const c = counts.get(rids.get(id) ?? -1);
    if (c !== undefined) names.forEach((name, i) => (ratios[name] = ratioOf(c[i]!)));
  }
  return out;
}

/** The rid of each stored route id (ids not stored are left out). */
function ridsOf(db: Db, routeIds: readonly string[]): Map<string, number> {
  const rows = db.prepare('SELECT id, rid FROM routes WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(routeIds)) as { id: string; rid: number }[];
  return new Map(rows.map((r) => [r.id, r.rid]));
}

/** The newest round's edge latency of each route: what latestLatencyMs answers (tested), without building every hop result of the round. */
function newestLatencies(db: Db, routeIds: readonly string[]): Map<string, number | null> {
  const reader = readerFor(db);
  const rids = ridsOf(db, routeIds);
  const out = new Map<string, number | null>();
  for (const id of routeIds) {
    const rid = rids.get(id);
    const round = rid === undefined ? null : newestRound(reader, rid, true);
    const units = round === null ? -1 : packedEdgeLatency(round, (shape) => reader.dict.shape(shape));
    out.set(id, units < 0 ? null : fromUnits(units));
  }
  return out;
}

/** Lazily computed extras of routes, so sorting by name or status never computes uptimes. */
class RowBuilder {
  private readonly latency = new Map<string, number | null>();
  private readonly uptimes = new Map<string, Record<UptimeWindow, number | null>>();

  constructor(private readonly db: Db, private readonly now: number) {}

  /** Computes the extras of these routes in one pass (for sorting by them, or for a page). */
  prepare(routes: readonly RouteSummary[], what: 'uptime' | 'latency' | 'both'): void {
    if (what !== 'latency') {
      const todo = routes.filter((r) => !this.uptimes.has(r.id)).map((r) => r.id);
      if (todo.length > 0) for (const [id, u] of uptimeRatios(this.db, todo, this.now)) this.uptimes.set(id, u);
    }
    if (what !== 'uptime') {
      const todo = routes.filter((r) => !this.latency.has(r.id)).map((r) => r.id);
      if (todo.length > 0) for (const [id, ms] of newestLatencies(this.db, todo)) this.latency.set(id, ms);
    }
  }

  row(route: RouteSummary): RouteRow {
    return { ...route, latencyMs: this.latency.get(route.id) ?? null, uptime: this.uptimes.get(route.id) ?? { '24h': null, '7d': null, '30d': null } };
  }

  /** The route's value of a sort key (prepare() has run for keys that need it). */
  key(route: RouteSummary, sort: RouteSortField): SortValue {
    switch (sort) {
      case 'name':
        return [route.namespace, route.ingress, route.host ?? '', route.path];
      case 'status':
        return route.latest === null ? null : STATUS_RANK[route.latest.verdict.status];
      case 'lastRound':
        return route.latest?.startedAt ?? null;
      case 'latency':
        return this.latency.get(route.id) ?? null;
      case 'uptime24h':
        return this.uptimes.get(route.id)?.['24h'] ?? null;
      case 'uptime7d':
        return this.uptimes.get(route.id)?.['7d'] ?? null;
      case 'uptime30d':
        return this.uptimes.get(route.id)?.['30d'] ?? null;
    }
  }
}

/** Compares two non-null sort values of the same key. */
function compareValues(a: string[] | number, b: string[] | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = a as string[];
  const y = b as string[];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const c = (x[i] ?? '') < (y[i] ?? '') ? -1 : (x[i] ?? '') > (y[i] ?? '') ? 1 : 0;
    if (c !== 0) return c;
  }
  return 0;
}

/** The table's total order: the key in the given direction with nulls last, then the id ascending. */
function compareRows(a: { key: SortValue; id: string }, b: { key: SortValue; id: string }, order: 'asc' | 'desc'): number {
  if (a.key === null || b.key === null) {
    if (a.key !== b.key) return a.key === null ? 1 : -1;
  } else {
    const c = compareValues(a.key, b.key);
    if (c !== 0) return order === 'asc' ? c : -c;
  }
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const ROUTE_CURSOR = 'rt';

function encodeRouteCursor(sort: RouteSortField, order: 'asc' | 'desc', key: SortValue, id: string): string {
  return Buffer.from(JSON.stringify([ROUTE_CURSOR, sort, order, key, id])).toString('base64url');
}

/** Decodes a routes-table cursor; BAD_CURSOR when it is not one, or was made for another sort. */
function decodeRouteCursor(cursor: string, sort: RouteSortField, order: 'asc' | 'desc'): { key: SortValue; id: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (err) {
    throw new StoreError('BAD_CURSOR', 'cursor is not one this store produced', { cause: err });
  }
  if (!Array.isArray(parsed) || parsed.length !== 5 || parsed[0] !== ROUTE_CURSOR || typeof parsed[4] !== 'string') {
    throw new StoreError('BAD_CURSOR', 'cursor is not a routes cursor');
  }
  if (parsed[1] !== sort || parsed[2] !== order) throw new StoreError('BAD_CURSOR', `cursor was made for sort=${String(parsed[1])}&order=${String(parsed[2])}; keep the sort while paging`);
  const key: unknown = parsed[3];
  const validKey = key === null || typeof key === 'number' || (Array.isArray(key) && key.every((k) => typeof k === 'string'));
  if (!validKey) throw new StoreError('BAD_CURSOR', 'cursor holds a bad sort value');
  return { key: key as SortValue, id: parsed[4] };
}

/** A page of the routes table: filter, sort on the whole set, then build uptimes and latency for the page only (unless sorting needs them). */
export function routePage(db: Db, q: RoutePageQuery): RoutePage {
  const limit = Math.min(Math.max(1, Math.floor(q.limit)), 1000);
  const builder = new RowBuilder(db, q.now);
  const all = listRoutes(db, q.namespace === undefined ? {} : { namespace: q.namespace }).filter((r) => matches(r, q));
  // Sorting by a computed column needs it for every matching route; otherwise only the page's are computed.
  if (q.sort === 'latency') builder.prepare(all, 'latency');
  else if (q.sort.startsWith('uptime')) builder.prepare(all, 'uptime');
  const keyed = all.map((route) => ({ route, id: route.id, key: builder.key(route, q.sort) }));
  keyed.sort((a, b) => compareRows(a, b, q.order));
  const after = q.cursor === undefined ? null : decodeRouteCursor(q.cursor, q.sort, q.order);
  const start = after === null ? 0 : firstAfter(keyed, after, q.order);
  const page = keyed.slice(start, start + limit);
  const last = page[page.length - 1];
  const more = start + limit < keyed.length && last !== undefined;
  builder.prepare(page.map((k) => k.route), 'both');
  return {
    routes: page.map((k) => builder.row(k.route)),
    total: all.length,
    nextCursor: more ? encodeRouteCursor(q.sort, q.order, last.key, last.id) : null,
  };
}

/** Index of the first row strictly after the cursor's position (binary search over the sorted rows). */
function firstAfter(rows: readonly { key: SortValue; id: string }[], after: { key: SortValue; id: string }, order: 'asc' | 'desc'): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareRows(rows[mid]!, after, order) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Every namespace with routes, with its routes counted by current status. */
export function namespaces(db: Db): NamespaceSummary[] {
  const out = new Map<string, NamespaceSummary>();
  for (const route of listRoutes(db)) {
    if (route.removedAt !== null) continue;
    let ns = out.get(route.namespace);
    if (ns === undefined) {
      ns = { name: route.namespace, routes: 0, statuses: { ok: 0, degraded: 0, failing: 0, unknown: 0, none: 0 } };
      out.set(route.namespace, ns);
    }
    ns.routes++;
    ns.statuses[statusOf(route)]++;
  }
  return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A route's detail page, or null when the route is not stored. */
export function routeDetail(db: Db, routeId: string, now: number): RouteDetail | null {
  const route = getRoute(db, routeId);
  if (route === null) return null;
  const windows = Object.entries(UPTIME_WINDOWS) as [UptimeWindow, number][];
  return {
    route,
    latestRound: roundsOf(db, routeId, { limit: 1 }).rounds[0] ?? null,
    uptime: Object.fromEntries(windows.map(([name, ms]) => [name, uptime(db, routeId, now - ms, now)])) as Record<UptimeWindow, Uptime>,
    openIncident: listIncidents(db, { routeId, state: 'open', limit: 1 }).incidents[0] ?? null,
  };
}

/** A page of a route's rounds, or null when the route is not stored. */
export function routeRounds(db: Db, routeId: string, q: RoundsQuery): RoundPage | null {
  return getRoute(db, routeId) === null ? null : roundsOf(db, routeId, q);
}

/** The round of a route that started at exactly `startedAt` (ms), or null. */
export function roundAt(db: Db, routeId: string, startedAt: number): StoredRound | null {
  return roundsOf(db, routeId, { from: startedAt, to: startedAt + 1, limit: 1 }).rounds[0] ?? null;
}

function routeRefs(db: Db, ids: readonly string[]): Map<string, RouteRef> {
  const out = new Map<string, RouteRef>();
  const stmt = db.prepare('SELECT id, kind, namespace, name, ingress, host, path FROM routes WHERE id = ?');
  for (const id of new Set(ids)) {
    const row = stmt.get(id) as (Omit<RouteRef, 'name'> & { name: string | null }) | undefined;
    if (row === undefined) continue;
    out.set(id, { id: row.id, kind: row.kind, namespace: row.namespace, name: row.name ?? row.ingress, ingress: row.ingress, host: row.host, path: row.path });
  }
  return out;
}

/** A page of incidents, each with its route's names. */
export function incidentPage(db: Db, q: IncidentQuery): IncidentRoutePage {
  const page: IncidentPage = listIncidents(db, q);
  const refs = routeRefs(db, page.incidents.map((i) => i.routeId));
  return { incidents: page.incidents.map((i) => ({ ...i, route: refs.get(i.routeId) ?? null })), nextCursor: page.nextCursor };
}

/** One incident with its route's names, or null. */
export function incidentDetail(db: Db, id: number): IncidentWithRoute | null {
  const incident = getIncident(db, id);
  if (incident === null) return null;
  return { ...incident, route: routeRefs(db, [incident.routeId]).get(incident.routeId) ?? null };
}

/**
 * GET /api/v1/timeline's answer as JSON text (timeline-json.ts), or null when the query names a route
 * that is not stored: one trip to the worker instead of two, and one string back instead of every
 * bucket structured-cloned.
 */
export function timelineAnswer(db: Db, q: TimelineQuery, scope: TimelineScope): string | null {
  if (q.routeId !== undefined && readerFor(db).ridOf(q.routeId) === undefined) return null;
  return timelineAnswerJson(timeline(db, q), scope);
}

/** Every query a StoreReader offers: (db, ...args) -> plain, structured-clonable data. */
export const READER_OPS = {
  listRoutes,
  getRoute,
  roundsOf,
  timeline,
  timelineAnswer,
  uptime,
  listIncidents,
  getIncident,
  routePage,
  namespaces,
  routeDetail,
  routeRounds,
  roundAt,
  incidentPage,
  incidentDetail,
} satisfies Record<string, (db: Db, ...args: never[]) => unknown>;

/** The query table's type. */
export type ReaderOps = typeof READER_OPS;

/** Name of a reader query. */
export type ReaderOpName = keyof ReaderOps;

/** The arguments of a reader query after the connection. */
export type ReaderOpArgs<K extends ReaderOpName> = ReaderOps[K] extends (db: Db, ...args: infer A) => unknown ? A : never;

/** The result of a reader query. */
export type ReaderOpResult<K extends ReaderOpName> = ReturnType<ReaderOps[K]>;
