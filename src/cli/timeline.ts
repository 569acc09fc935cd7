// `hopwatch timeline`: rounds per time bucket for a route, an Ingress, a namespace or every route,
// with failures by hop and cause and the edge latency; the table view draws one strip per route
// (one character per bucket, coloured by the failing hop). Reads a store file or a daemon.

import { Command, Option } from 'commander';
import { colourOn, configFrom, reportError, withCommonOptions, type CommonOptions } from './common.js';
import {
  type ApiBucket, type ApiRouteRef, type ApiTimeline, type RouteTimeline, type TimelineReport, renderTimeline, timelineJson,
} from './history-format.js';
import {
  HistoryError, allPages, dataOf, durationFlag, ofObject, reportHistoryError, resolveRange, routingObjectFlag, sourceFromFlags, type HistorySource,
  type RangeFlags, type RoutingObjectRef, type SourceFlags,
} from './history-source.js';

/** What a timeline covers: exactly one of these, or every route. */
export type TimelineScope = { route: string } | { ingress: RoutingObjectRef } | { namespace: string } | { all: true };

/** What to collect. */
export interface TimelineRequest {
  /** The scope. */
  scope: TimelineScope;
  /** Range start (ms). */
  from: number;
  /** Range end (ms, exclusive). */
  to: number;
  /** Bucket width (ms). */
  stepMs: number;
}

/** Steps the table picks from when none is given. */
export const CLI_STEPS_MS: readonly number[] = [60_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000];

/** Most buckets of a default step: a day at 15 minutes fits on one line. */
export const CLI_MAX_BUCKETS = 100;

/** Most routes one timeline lists. */
export const MAX_ROUTES = 10_000;

/** The finest step giving at most CLI_MAX_BUCKETS aligned buckets over [from, to). */
export function defaultStep(from: number, to: number): number {
  const fits = (s: number): boolean => Math.ceil(to / s) - Math.floor(from / s) <= CLI_MAX_BUCKETS;
  return CLI_STEPS_MS.find(fits) ?? CLI_STEPS_MS[CLI_STEPS_MS.length - 1]!;
}

function refOf(item: ApiRouteRef): ApiRouteRef {
  return { id: item.id, namespace: item.namespace, ingress: item.ingress, host: item.host, path: item.path };
}

/** The routes of a scope (removed routes included: their history is what is being looked at). */
async function routesOf(source: HistorySource, scope: TimelineScope): Promise<ApiRouteRef[]> {
  if ('route' in scope) return [refOf(dataOf<ApiRouteRef>(await source.get(['routes', scope.route])))];
  const query = { removed: 'include', ...('ingress' in scope ? { namespace: scope.ingress.namespace, q: scope.ingress.name } : 'namespace' in scope ? { namespace: scope.namespace } : {}) };
  const { items } = await allPages<ApiRouteRef>(source, ['routes'], query, MAX_ROUTES);
  const routes = items.map(refOf);
  if ('namespace' in scope && routes.length === 0) throw new HistoryError('NOT_FOUND', `no route of namespace ${scope.namespace} in the history`);
  if (!('ingress' in scope)) return routes;
  const mine = items.filter((r) => ofObject(r, scope.ingress)).map(refOf);
  if (mine.length === 0) throw new HistoryError('NOT_FOUND', `no route of ${scope.ingress.kind.toLowerCase()} ${scope.ingress.namespace}/${scope.ingress.name} in the history`);
  return mine;
}

async function routeTimeline(source: HistorySource, id: string, req: TimelineRequest): Promise<ApiTimeline> {
  return dataOf<ApiTimeline>(await source.get(['timeline'], { route: id, ...rangeQuery(req) }));
}

function rangeQuery(req: TimelineRequest): Record<string, string> {
  return { from: new Date(req.from).toISOString(), to: new Date(req.to).toISOString(), step: `${req.stepMs / 1000}s` };
}

/** Runs fn over items with at most `width` at a time, keeping the order of the results. */
async function mapLimited<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}

/** Sums buckets of several routes (same range and step); latency: extremes kept, mean weighted by rounds, percentiles an upper bound (the worst route's). */
export function mergeBuckets(lists: readonly (readonly ApiBucket[])[]): ApiBucket[] {
  const first = lists[0] ?? [];
  return first.map((b0, i) => {
    const all = lists.map((l) => l[i]!);
    const add = (into: Record<string, number>, from: Record<string, number>): void => {
      for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
    };
    const out: ApiBucket = { start: b0.start, rounds: 0, ok: 0, degraded: 0, failing: 0, unknown: 0, failuresByHop: {}, failuresByCause: {}, latency: null };
    let weighted = 0;
    let weight = 0;
    for (const b of all) {
      for (const k of ['rounds', 'ok', 'degraded', 'failing', 'unknown'] as const) out[k] += b[k];
      add(out.failuresByHop, b.failuresByHop);
      add(out.failuresByCause, b.failuresByCause);
      if (b.latency === null) continue;
      const l = out.latency ?? { ...b.latency };
      out.latency = {
        minMs: Math.min(l.minMs, b.latency.minMs), maxMs: Math.max(l.maxMs, b.latency.maxMs), avgMs: 0,
        p50Ms: Math.max(l.p50Ms, b.latency.p50Ms), p95Ms: Math.max(l.p95Ms, b.latency.p95Ms), p99Ms: Math.max(l.p99Ms, b.latency.p99Ms),
      };
      weighted += b.latency.avgMs * b.rounds;
      weight += b.rounds;
    }
    if (out.latency !== null) out.latency.avgMs = Math.round((weighted / Math.max(1, weight)) * 1000) / 1000;
    return out;
  });
}

/** Collects the scope's timeline and every route's, all through the API. */
export async function collectTimeline(source: HistorySource, req: TimelineRequest): Promise<TimelineReport> {
  const routes = await routesOf(source, req.scope);
  const perRoute = await mapLimited(routes, 4, async (route) => ({ route, timeline: await routeTimeline(source, route.id, req) }));
  const lines: RouteTimeline[] = perRoute.map((p) => ({ route: p.route, buckets: p.timeline.buckets }));
  let timeline: ApiTimeline;
  if ('route' in req.scope) timeline = perRoute[0]!.timeline;
  else if ('ingress' in req.scope) {
    // The API has no Ingress scope: its routes' buckets are added up here.
    const base = perRoute[0]!.timeline;
    const object = req.scope.ingress;
    timeline = { ...base, scope: { [object.kind.toLowerCase()]: `${object.namespace}/${object.name}` }, buckets: mergeBuckets(perRoute.map((p) => p.timeline.buckets)) };
  } else {
    timeline = dataOf<ApiTimeline>(await source.get(['timeline'], { ...('namespace' in req.scope ? { namespace: req.scope.namespace } : {}), ...rangeQuery(req) }));
  }
  return { timeline, routes: lines };
}

interface TimelineFlags extends CommonOptions, SourceFlags, RangeFlags {
  ingress?: string;
  httproute?: string;
  route?: string;
  namespace?: string;
  step?: string;
  output: 'table' | 'json';
  allRoutes?: boolean;
}

/** The scope the flags name (at most one of --route, --ingress, --httproute, -n). */
export function scopeFromFlags(flags: Pick<TimelineFlags, 'ingress' | 'httproute' | 'route' | 'namespace'>): TimelineScope {
  const given = [flags.route, flags.ingress, flags.httproute, flags.namespace].filter((v) => v !== undefined).length;
  if (given > 1) throw new HistoryError('BAD_REQUEST', 'give one of --route, --ingress, --httproute, -n');
  if (flags.route !== undefined) return { route: flags.route };
  if (flags.namespace !== undefined) return { namespace: flags.namespace };
  const object = routingObjectFlag(flags);
  return object === undefined ? { all: true } : { ingress: object };
}

/** Runs the command: prints the table or the JSON; returns the exit code. */
export async function runTimeline(flags: TimelineFlags, now: number, write: (text: string) => void, colour: boolean): Promise<number> {
  const scope = scopeFromFlags(flags);
  const { from, to } = resolveRange(flags, now, 86_400_000);
  const stepMs = flags.step === undefined ? defaultStep(from, to) : durationFlag('--step', flags.step);
  if (stepMs % 1000 !== 0) throw new HistoryError('BAD_REQUEST', `--step ${flags.step ?? ''}: use whole seconds`);
  const source = sourceFromFlags(flags, () => configFrom(flags).store.path);
  try {
    const report = await collectTimeline(source, { scope, from, to, stepMs });
    write(flags.output === 'json' ? `${JSON.stringify(timelineJson(report), null, 2)}\n` : `${renderTimeline(report, { colour, allRoutes: flags.allRoutes === true })}\n`);
    return 0;
  } finally {
    await source.close();
  }
}

/** The `timeline` command. */
export function timelineCommand(): Command {
  return withCommonOptions(new Command('timeline'))
    .description('rounds per time bucket with failures by hop and cause and the edge latency, from the history')
    .option('--ingress <ns/name>', "one Ingress's routes")
    .option('--httproute <ns/name>', "one HTTPRoute's routes")
    .option('--route <id>', 'one route (its id, as the API and -o json show it)')
    .option('-n, --namespace <ns>', "one namespace's routes")
    .option('--since <duration>', 'how far back from now (default 24h)')
    .option('--from <time>', 'range start: ISO-8601 (2026-01-31T10:00:00Z) or how long ago (2h)')
    .option('--to <time>', 'range end (default now)')
    .option('--step <duration>', 'bucket width (default: the finest of 1m..1d giving at most 100 buckets)')
    .option('--all-routes', 'list routes without failures too')
    .option('--server <url>', 'read from a running hopwatch (its API) instead of a store file')
    .option('--token <token>', "the daemon's bearer token (default $HOPWATCH_TOKEN)")
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (flags: TimelineFlags) => {
      process.exitCode = await runTimeline(flags, Date.now(), (text) => process.stdout.write(text), colourOn()).catch(
        (error: unknown) => reportHistoryError(error) ?? reportError(error),
      );
    });
}
