// The JSON API under /api/v1: parameters validated here, answers read through
// a StoreReader (off the main thread), store shapes turned into the API's
// (instants as ISO-8601 strings). Transport-free: the server hands in the
// method, the path segments and the query, and writes the answer out.
// docs/api.md is the reference; keep it in step.

import { DurationError, MAX_INSTANT_MS, TimeRefError, parseDuration, parseTimeRef } from '../config/duration.js';
import type { RouteKind, VerdictStatus } from '../model.js';
import { StoreError } from '../store/errors.js';
import type { Incident } from '../store/incidents.js';
import type { RouteSummary, StoredRound, TimelineQuery, Uptime } from '../store/queries.js';
import type { StoreReader } from '../store/reader.js';
import { pairEndpoint, pairsEndpoint, type PairsSource } from './pairs-api.js';
import { ReaderError } from '../store/reader.js';
import {
  ROUTE_SORT_FIELDS, type IncidentWithRoute, type RouteDetail, type RouteRow, type RouteSortField, type RouteStatusFilter,
} from '../store/reader-ops.js';

/** An answer before it is written: a status and a JSON body. */
export interface ApiAnswer {
  /** HTTP status. */
  status: number;
  /** The JSON body. */
  body: unknown;
  /** The body as JSON text when it was serialised already (the reader's worker writes big answers; `body` then parses it when read). */
  json?: string;
  /** Extra headers (Allow, Retry-After). */
  headers?: Record<string, string>;
}

/** A request failure with its HTTP status and stable code; the parameter it names, if any. */
export class ApiError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** Stable code: BAD_PARAMETER, NOT_FOUND, METHOD_NOT_ALLOWED, UNAVAILABLE, INTERNAL. */
  readonly code: string;
  /** The query parameter at fault, when one is. */
  readonly parameter: string | null;
  /** Extra response headers. */
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, options: { parameter?: string; headers?: Record<string, string>; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.parameter = options.parameter ?? null;
    this.headers = options.headers ?? {};
  }
}

/** The 400 of a bad query parameter, naming it and what was expected. */
export function badParameter(parameter: string, message: string, cause?: unknown): ApiError {
  return new ApiError(400, 'BAD_PARAMETER', `parameter "${parameter}": ${message}`, { parameter, cause });
}

/** What the API needs. */
export interface ApiDeps {
  /** The store's reader. */
  reader: StoreReader;
  /** The clock (relative times, uptime windows, open incidents' durations). */
  now: () => number;
  /** Consecutive non-ok rounds that open an incident (config incidents.openAfter); absent: not known. */
  incidentOpenAfter?: number;
  /** The daemon's pairs for /api/v1/pairs; absent: an empty list. */
  pairs?: PairsSource | null;
}

/** No pairs: for an API without a daemon's tracker. */
const NO_PAIRS: PairsSource = { list: () => [], get: () => undefined };

/** Handles one API request; `segments` are the decoded path segments after /api/v1. */
export type ApiHandler = (method: string, segments: readonly string[], query: URLSearchParams, signal?: AbortSignal) => Promise<ApiAnswer>;

/** Largest page. */
export const MAX_LIMIT = 1000;
/** Page size when none is given. */
export const DEFAULT_LIMIT = 100;
/** Most buckets a timeline answer may have. */
export const MAX_TIMELINE_BUCKETS = 10_000;
/** The longest timeline step: a bucket of a year (and a leap day) is as coarse as a question about history gets. */
export const MAX_TIMELINE_STEP_MS = 366 * 86_400_000;
/** Ranges longer than this need a step in whole minutes, so they are read from rollups, never by scanning raw rounds. */
export const RAW_TIMELINE_MAX_RANGE_MS = 6 * 3_600_000;
/** Steps the timeline picks from when none is given: the finest giving at most AUTO_STEP_BUCKETS buckets. */
export const AUTO_STEPS_MS: readonly number[] = [60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000];
/** Most buckets of an automatic step. */
export const AUTO_STEP_BUCKETS = 800;

// --- Query parameters ------------------------------------------------------------

/** The query string of one request, checked against the parameters an endpoint accepts. */
export class Params {
  constructor(private readonly query: URLSearchParams, allowed: readonly string[]) {
    for (const key of new Set(query.keys())) {
      if (!allowed.includes(key)) {
        throw badParameter(key, allowed.length === 0 ? 'this endpoint takes no parameters' : `unknown parameter; this endpoint takes ${allowed.join(', ')}`);
      }
      if (query.getAll(key).length > 1) throw badParameter(key, 'given more than once');
    }
  }

  /** A non-empty string, or undefined when absent. */
  text(name: string): string | undefined {
    const value = this.query.get(name);
    if (value === null) return undefined;
    if (value.trim() === '') throw badParameter(name, 'empty; leave it out instead');
    return value;
  }

  /** An instant: ISO-8601, "now", or how long ago ("2h", "now-30m"). */
  time(name: string, now: number): number | undefined {
    const value = this.text(name);
    if (value === undefined) return undefined;
    try {
      return parseTimeRef(value, now);
    } catch (error) {
      if (error instanceof TimeRefError) throw badParameter(name, error.message, error);
      throw error;
    }
  }

  /** A positive duration ("5m", "1h"). */
  duration(name: string): number | undefined {
    const value = this.text(name);
    if (value === undefined) return undefined;
    let ms: number;
    try {
      ms = parseDuration(value);
    } catch (error) {
      if (error instanceof DurationError) throw badParameter(name, error.message, error);
      throw error;
    }
    if (ms <= 0) throw badParameter(name, `expected a positive duration like 1m or 1h, got "${value}"`);
    return ms;
  }

  /** An integer in [min, max]. */
  int(name: string, min: number, max: number): number | undefined {
    const value = this.text(name);
    if (value === undefined) return undefined;
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!(Number.isSafeInteger(n) && n >= min && n <= max)) throw badParameter(name, `expected an integer from ${min} to ${max}, got "${value}"`);
    return n;
  }

  /** One of a set of words. */
  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const value = this.text(name);
    if (value === undefined) return undefined;
    if (!(values as readonly string[]).includes(value)) throw badParameter(name, `expected one of ${values.join(', ')}, got "${value}"`);
    return value as T;
  }

  /** A comma-separated list of words from a set. */
  listOf<T extends string>(name: string, values: readonly T[]): T[] | undefined {
    const value = this.text(name);
    if (value === undefined) return undefined;
    const items = value.split(',').map((s) => s.trim());
    const bad = items.find((s) => !(values as readonly string[]).includes(s));
    if (bad !== undefined) throw badParameter(name, `expected a comma-separated list of ${values.join(', ')}, got "${bad}"`);
    return items as T[];
  }
}

/** Checks from < to when both are given. */
function checkRange(from: number | undefined, to: number | undefined): void {
  if (from !== undefined && to !== undefined && from >= to) throw badParameter('from', `must be before "to" (from ${iso(from)}, to ${iso(to)})`);
}

// --- Shapes ---------------------------------------------------------------------------

/** An instant as the API writes it. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function routeBase(r: RouteSummary) {
  return {
    id: r.id, kind: r.kind, namespace: r.namespace, name: r.name, parent: r.parent, ingress: r.ingress, ingressClass: r.ingressClass, host: r.host, path: r.path,
    pathType: r.pathType, tls: r.tls, defaultBackend: r.defaultBackend, backend: r.backend, backends: r.backends, probePath: r.probePath,
    firstSeenAt: iso(r.firstSeenAt), updatedAt: iso(r.updatedAt), removedAt: r.removedAt === null ? null : iso(r.removedAt),
  };
}

/** A row of the routes list. */
export function routeRowView(r: RouteRow) {
  const v = r.latest?.verdict;
  return {
    ...routeBase(r),
    verdict: v === undefined ? null : { status: v.status, hop: v.hop, cause: v.cause, summary: v.summary },
    lastRound: r.latest === null ? null : { startedAt: iso(r.latest.startedAt), durationMs: r.latest.durationMs, latencyMs: r.latencyMs },
    uptime: r.uptime,
  };
}

/** A round with its hop results. */
export function roundView(r: StoredRound) {
  return { routeId: r.routeId, startedAt: iso(r.startedAt), durationMs: r.durationMs, verdict: r.verdict, hops: r.hops };
}

function uptimeView(u: Uptime) {
  return { from: iso(u.from), to: iso(u.to), rounds: u.rounds, ok: u.ok, degraded: u.degraded, failing: u.failing, unknown: u.unknown, uptime: u.uptime };
}

/** An incident, with its route's names when the API has them. */
export function incidentView(i: Incident | IncidentWithRoute, now: number) {
  return {
    id: i.id, routeId: i.routeId, route: 'route' in i ? i.route : undefined, state: i.closedAt === null ? 'open' : 'closed',
    severity: i.severity, openedAt: iso(i.openedAt), closedAt: i.closedAt === null ? null : iso(i.closedAt),
    durationMs: (i.closedAt ?? Math.max(now, i.openedAt)) - i.openedAt, hop: i.hop, cause: i.cause,
    changes: i.changes.map((c) => ({ at: iso(c.at), hop: c.hop, cause: c.cause })), pods: i.pods,
    firstEvidence: i.firstEvidence, failingRounds: i.failingRounds, rollout: i.rollout, summary: i.summary ?? null,
  };
}

function routeDetailView(d: RouteDetail, now: number, incidentOpenAfter: number | null) {
  const { route } = d;
  return {
    ...routeBase(route),
    verdict: route.latest?.verdict ?? null,
    latestRound: d.latestRound === null ? null : roundView(d.latestRound),
    uptime: { '24h': uptimeView(d.uptime['24h']), '7d': uptimeView(d.uptime['7d']), '30d': uptimeView(d.uptime['30d']) },
    openIncident: d.openIncident === null ? null : incidentView(d.openIncident, now),
    // How many failing rounds in a row open an incident: the dashboard says "opening (1 of 2)" until then.
    incidentOpensAfter: incidentOpenAfter,
  };
}

/** A 200 whose body is JSON text already (for the HTTP server as is; `body` for in-process callers such as the CLI). */
function okJson(json: string): ApiAnswer {
  return {
    status: 200,
    json,
    get body(): unknown {
      return JSON.parse(json) as unknown;
    },
  };
}

// --- Endpoints --------------------------------------------------------------------------

const ROUTE_STATUSES: readonly RouteStatusFilter[] = ['ok', 'degraded', 'failing', 'unknown', 'none'];
/** The routing objects a route can come from (the `kind` filter). */
const ROUTE_KINDS: readonly RouteKind[] = ['Ingress', 'HTTPRoute', 'GRPCRoute'];

function ok(body: unknown): ApiAnswer {
  return { status: 200, body };
}

async function listRoutesEndpoint(deps: ApiDeps, query: URLSearchParams): Promise<ApiAnswer> {
  const p = new Params(query, ['namespace', 'status', 'q', 'sort', 'order', 'limit', 'cursor', 'removed', 'kind', 'name']);
  const namespace = p.text('namespace');
  const kind = p.oneOf('kind', ROUTE_KINDS);
  const name = p.text('name');
  const removed = p.oneOf('removed', ['exclude', 'include'] as const) ?? 'exclude';
  const statuses = p.listOf('status', ROUTE_STATUSES);
  const search = p.text('q');
  const sort: RouteSortField = p.oneOf('sort', ROUTE_SORT_FIELDS) ?? 'name';
  const order = p.oneOf('order', ['asc', 'desc'] as const) ?? 'asc';
  const limit = p.int('limit', 1, MAX_LIMIT) ?? DEFAULT_LIMIT;
  const cursor = p.text('cursor');
  const page = await deps.reader.routePage({
    sort, order, limit, now: deps.now(), includeRemoved: removed === 'include',
    ...(namespace === undefined ? {} : { namespace }),
    ...(kind === undefined ? {} : { kind }),
    ...(name === undefined ? {} : { name }),
    ...(statuses === undefined ? {} : { statuses }),
    ...(search === undefined ? {} : { search }),
    ...(cursor === undefined ? {} : { cursor }),
  });
  return ok({ data: page.routes.map(routeRowView), total: page.total, nextCursor: page.nextCursor });
}

async function routeEndpoint(deps: ApiDeps, id: string, query: URLSearchParams): Promise<ApiAnswer> {
  new Params(query, []);
  const now = deps.now();
  const detail = await deps.reader.routeDetail(id, now);
  if (detail === null) throw notFound(`no route ${JSON.stringify(id)}`);
  return ok({ data: routeDetailView(detail, now, deps.incidentOpenAfter ?? null) });
}

async function roundsEndpoint(deps: ApiDeps, id: string, query: URLSearchParams): Promise<ApiAnswer> {
  const p = new Params(query, ['from', 'to', 'limit', 'cursor']);
  const now = deps.now();
  const from = p.time('from', now);
  const to = p.time('to', now);
  checkRange(from, to);
  const limit = p.int('limit', 1, MAX_LIMIT) ?? DEFAULT_LIMIT;
  const cursor = p.text('cursor');
  const page = await deps.reader.routeRounds(id, {
    limit, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }), ...(cursor === undefined ? {} : { cursor }),
  });
  if (page === null) throw notFound(`no route ${JSON.stringify(id)}`);
  return ok({ data: page.rounds.map(roundView), nextCursor: page.nextCursor });
}

async function roundEndpoint(deps: ApiDeps, id: string, at: string, query: URLSearchParams): Promise<ApiAnswer> {
  new Params(query, []);
  const startedAt = parseRoundInstant(at, deps.now());
  const round = await deps.reader.roundAt(id, startedAt);
  if (round === null) {
    const route = await deps.reader.getRoute(id);
    throw notFound(route === null ? `no route ${JSON.stringify(id)}` : `route ${JSON.stringify(id)} has no round that started at ${iso(startedAt)}`);
  }
  return ok({ data: roundView(round) });
}

/** A round's start in a path: its ISO-8601 startedAt as the API wrote it, or Unix milliseconds. */
function parseRoundInstant(text: string, now: number): number {
  if (/^\d{1,16}$/.test(text)) {
    const ms = Number(text);
    if (ms > MAX_INSTANT_MS) throw new ApiError(400, 'BAD_PATH', `round time ${text}: out of range (Unix milliseconds up to the end of 9999)`);
    return ms;
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) throw new ApiError(400, 'BAD_PATH', `round time ${JSON.stringify(text)}: expected the round's startedAt (ISO-8601) or Unix milliseconds`);
  try {
    return parseTimeRef(text, now);
  } catch (error) {
    if (error instanceof TimeRefError) throw new ApiError(400, 'BAD_PATH', `round time: ${error.message}`, { cause: error });
    throw error;
  }
}

async function incidentsEndpoint(deps: ApiDeps, query: URLSearchParams): Promise<ApiAnswer> {
  const p = new Params(query, ['from', 'to', 'route', 'namespace', 'state', 'limit', 'cursor']);
  const now = deps.now();
  const from = p.time('from', now);
  const to = p.time('to', now);
  checkRange(from, to);
  const routeId = p.text('route');
  const namespace = p.text('namespace');
  const state = p.oneOf('state', ['open', 'closed', 'all'] as const) ?? 'all';
  const limit = p.int('limit', 1, MAX_LIMIT) ?? DEFAULT_LIMIT;
  const cursor = p.text('cursor');
  const page = await deps.reader.incidentPage({
    state, limit, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }),
    ...(routeId === undefined ? {} : { routeId }), ...(namespace === undefined ? {} : { namespace }),
    ...(cursor === undefined ? {} : { cursor }),
  });
  return ok({ data: page.incidents.map((i) => incidentView(i, now)), nextCursor: page.nextCursor });
}

async function incidentEndpoint(deps: ApiDeps, idText: string, query: URLSearchParams): Promise<ApiAnswer> {
  new Params(query, []);
  if (!/^\d{1,15}$/.test(idText)) throw new ApiError(400, 'BAD_PATH', `incident id ${JSON.stringify(idText)}: expected a positive integer`);
  const incident = await deps.reader.incidentDetail(Number(idText));
  if (incident === null) throw notFound(`no incident ${idText}`);
  return ok({ data: incidentView(incident, deps.now()) });
}

/** The step of a timeline: the given one, or the finest automatic step giving at most AUTO_STEP_BUCKETS buckets. */
export function timelineStep(fromMs: number, toMs: number, stepMs: number | undefined): number {
  if (stepMs !== undefined) return stepMs;
  const range = toMs - fromMs;
  return AUTO_STEPS_MS.find((s) => Math.ceil(range / s) <= AUTO_STEP_BUCKETS) ?? AUTO_STEPS_MS[AUTO_STEPS_MS.length - 1]!;
}

async function timelineEndpoint(deps: ApiDeps, query: URLSearchParams): Promise<ApiAnswer> {
  const p = new Params(query, ['route', 'namespace', 'from', 'to', 'step']);
  const now = deps.now();
  const routeId = p.text('route');
  const namespace = p.text('namespace');
  if (routeId !== undefined && namespace !== undefined) throw badParameter('namespace', 'give route or namespace, not both');
  const to = p.time('to', now) ?? now;
  const from = p.time('from', now) ?? to - 86_400_000;
  checkRange(from, to);
  const stepMs = timelineStep(from, to, p.duration('step'));
  if (stepMs > MAX_TIMELINE_STEP_MS) throw badParameter('step', 'at most 366d');
  const buckets = Math.ceil(to / stepMs) - Math.floor(from / stepMs);
  if (buckets > MAX_TIMELINE_BUCKETS) throw badParameter('step', `gives ${buckets} buckets over this range; at most ${MAX_TIMELINE_BUCKETS}: use a larger step`);
  if (stepMs % 60_000 !== 0 && to - from > RAW_TIMELINE_MAX_RANGE_MS) {
    throw badParameter('step', 'ranges over 6h are read from the rollups: use a step in whole minutes (1m, 5m, 1h, 1d)');
  }
  const scope: Pick<TimelineQuery, 'routeId' | 'namespace' | 'all'> = routeId !== undefined ? { routeId } : namespace !== undefined ? { namespace } : { all: true };
  // The answer's JSON is written in the reader's worker (src/store/timeline-json.ts): a day per minute is 1,440 buckets.
  const json = await deps.reader.timelineAnswer({ ...scope, from, to, stepMs }, routeId !== undefined ? { route: routeId } : namespace !== undefined ? { namespace } : { all: true });
  if (json === null) throw notFound(`no route ${JSON.stringify(routeId)}`);
  return okJson(json);
}

async function namespacesEndpoint(deps: ApiDeps, query: URLSearchParams): Promise<ApiAnswer> {
  new Params(query, []);
  return ok({ data: await deps.reader.namespaces() });
}

function notFound(message: string): ApiError {
  return new ApiError(404, 'NOT_FOUND', message);
}

type Endpoint = () => Promise<ApiAnswer>;

/** The endpoint a path has, undefined when none has that shape. */
function endpointOf(deps: ApiDeps, segments: readonly string[], query: URLSearchParams): Endpoint | undefined {
  const [a, b, c, d, ...rest] = segments;
  if (rest.length > 0) return undefined;
  if (a === 'routes' && b === undefined) return () => listRoutesEndpoint(deps, query);
  if (a === 'routes' && b !== undefined && c === undefined) return () => routeEndpoint(deps, b, query);
  if (a === 'routes' && b !== undefined && c === 'rounds' && d === undefined) return () => roundsEndpoint(deps, b, query);
  if (a === 'routes' && b !== undefined && c === 'rounds' && d !== undefined) return () => roundEndpoint(deps, b, d, query);
  if (a === 'incidents' && b === undefined) return () => incidentsEndpoint(deps, query);
  if (a === 'incidents' && b !== undefined && c === undefined) return () => incidentEndpoint(deps, b, query);
  if (a === 'timeline' && b === undefined) return () => timelineEndpoint(deps, query);
  if (a === 'namespaces' && b === undefined) return () => namespacesEndpoint(deps, query);
  if (a === 'pairs' && b === undefined) return async () => pairsEndpoint(deps.pairs ?? NO_PAIRS, query);
  if (a === 'pairs' && b !== undefined && c === undefined) return async () => pairEndpoint(deps.pairs ?? NO_PAIRS, b);
  return undefined;
}

/** The answer for an error thrown by an endpoint or the reader; null for anything unexpected (a 500, logged by the caller). */
export function errorAnswer(error: unknown): ApiAnswer | null {
  const e = apiErrorOf(error);
  if (e === null) return null;
  const body = { error: { code: e.code, message: e.message, ...(e.parameter === null ? {} : { parameter: e.parameter }) } };
  return { status: e.status, body, headers: e.headers };
}

function apiErrorOf(error: unknown): ApiError | null {
  if (error instanceof ApiError) return error;
  if (error instanceof StoreError) {
    if (error.code === 'BAD_CURSOR') return badParameter('cursor', `${error.message}; start again without it`, error);
    if (error.code === 'BAD_QUERY') return new ApiError(400, 'BAD_QUERY', error.message, { cause: error });
    if (error.code === 'NOT_FOUND') return notFound(error.message);
    return null;
  }
  if (error instanceof ReaderError && error.code !== 'QUERY_FAILED') {
    return new ApiError(503, 'UNAVAILABLE', `the store cannot answer now (${error.code}); try again`, { headers: { 'retry-after': '1' }, cause: error });
  }
  return null;
}

/** The API: GET (and HEAD) endpoints over the reader. */
export function createApi(deps: ApiDeps): ApiHandler {
  return async (method, segments, query, signal) => {
    // Queries of a caller that went away are dropped before they reach the store.
    const endpoint = endpointOf(signal === undefined ? deps : { ...deps, reader: deps.reader.withSignal(signal) }, segments, query);
    if (endpoint === undefined) return { status: 404, body: { error: { code: 'NOT_FOUND', message: `no endpoint /api/v1/${segments.join('/')}` } } };
    if (method !== 'GET' && method !== 'HEAD') {
      return { status: 405, headers: { allow: 'GET, HEAD' }, body: { error: { code: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed here; use GET` } } };
    }
    try {
      return await endpoint();
    } catch (error) {
      const known = errorAnswer(error);
      if (known !== null) return known;
      throw error;
    }
  };
}
