// `hopwatch incidents`: the incidents of a range (route, start, duration, hop, cause, pods,
// rollout), and `hopwatch incidents show ID`: one incident's evidence and the hop results of its
// first failing round. Reads a store file or a daemon, through the API's JSON either way.

import { Command, Option } from 'commander';
import { colourOn, configFrom, reportError, withCommonOptions, type CommonOptions } from './common.js';
import { type ApiIncident, type ApiRound, renderIncident, renderIncidents } from './history-format.js';
import {
  HistoryError, allPages, dataOf, ofObject, reportHistoryError, resolveRange, routingObjectFlag, sourceFromFlags, type HistorySource, type RangeFlags,
  type RoutingObjectRef, type SourceFlags,
} from './history-source.js';

/** What `incidents` lists. */
export interface IncidentsRequest {
  /** Only open incidents. */
  open: boolean;
  /** Incidents still open at or after this instant (ms). */
  from: number;
  /** Incidents opened before this instant (ms). */
  to: number;
  /** One namespace's. */
  namespace?: string;
  /** One route's. */
  route?: string;
  /** One routing object's (an Ingress's, or an HTTPRoute's: its kind, namespace and name). */
  ingress?: RoutingObjectRef;
  /** Most incidents listed. */
  limit: number;
}

/** A route or namespace the history has never seen is a mistyped name (exit 2), not a quiet "no incidents". */
async function checkScopeExists(source: HistorySource, req: IncidentsRequest): Promise<void> {
  if (req.route !== undefined) {
    await source.get(['routes', req.route]); // 404: NOT_FOUND
    return;
  }
  const namespace = req.ingress?.namespace ?? req.namespace;
  if (namespace === undefined) return;
  const page = dataOf<unknown[]>(await source.get(['routes'], { namespace, removed: 'include', limit: '1' }));
  if (page.length === 0) throw new HistoryError('NOT_FOUND', `no route of namespace ${namespace} in the history`);
}

/** Lists incidents through the API, newest opened first. */
export async function collectIncidents(source: HistorySource, req: IncidentsRequest): Promise<{ incidents: ApiIncident[]; more: boolean }> {
  const query = {
    state: req.open ? 'open' : 'all', from: new Date(req.from).toISOString(), to: new Date(req.to).toISOString(),
    namespace: req.ingress?.namespace ?? req.namespace, route: req.route,
  };
  await checkScopeExists(source, req);
  if (req.ingress === undefined) {
    const { items, more } = await allPages<ApiIncident>(source, ['incidents'], query, req.limit);
    return { incidents: items, more };
  }
  // The API filters by namespace; the routing object is picked out here, so pages are walked until enough match.
  const { items, more } = await allPages<ApiIncident>(source, ['incidents'], query, 100_000);
  const mine = items.filter((i) => ofObject(i.route, req.ingress!));
  return { incidents: mine.slice(0, req.limit), more: more || mine.length > req.limit };
}

/** How long after an incident opened its first failing round is looked for, when no round started exactly then. */
const FIRST_ROUND_WINDOW_MS = 15 * 60_000;

/** The incident's first failing round: the round that opened it, else the oldest non-ok round soon after; null when none is stored. */
export async function firstFailingRound(source: HistorySource, incident: ApiIncident): Promise<ApiRound | null> {
  const openedAt = Date.parse(incident.openedAt);
  try {
    return dataOf<ApiRound>(await source.get(['routes', incident.routeId, 'rounds', String(openedAt)]));
  } catch (error) {
    if (!(error instanceof HistoryError && error.code === 'NOT_FOUND')) throw error;
  }
  const end = Math.min(incident.closedAt === null ? Infinity : Date.parse(incident.closedAt) + 1, openedAt + FIRST_ROUND_WINDOW_MS);
  let rounds: ApiRound[];
  try {
    rounds = dataOf<ApiRound[]>(await source.get(['routes', incident.routeId, 'rounds'], { from: incident.openedAt, to: new Date(end).toISOString(), limit: 1000 }));
  } catch (error) {
    // The route itself is gone from the store: no round to show.
    if (error instanceof HistoryError && error.code === 'NOT_FOUND') return null;
    throw error;
  }
  const failed = rounds.filter((r) => r.verdict.status === 'failing' || r.verdict.status === 'degraded');
  return failed[failed.length - 1] ?? null;
}

interface IncidentsFlags extends CommonOptions, SourceFlags, RangeFlags {
  open?: boolean;
  namespace?: string;
  route?: string;
  ingress?: string;
  httproute?: string;
  limit: string;
  output: 'table' | 'json';
}

/** The request the flags describe. */
export function incidentsRequest(flags: IncidentsFlags, now: number): IncidentsRequest {
  const given = [flags.route, flags.ingress, flags.httproute, flags.namespace].filter((v) => v !== undefined).length;
  if (given > 1) throw new HistoryError('BAD_REQUEST', 'give one of --route, --ingress, --httproute, -n');
  const object = routingObjectFlag(flags);
  const limit = /^\d{1,6}$/.test(flags.limit) ? Number(flags.limit) : NaN;
  if (!(limit >= 1 && limit <= 100_000)) throw new HistoryError('BAD_REQUEST', `--limit ${JSON.stringify(flags.limit)}: expected a number from 1 to 100000`);
  const { from, to } = resolveRange(flags, now, 7 * 86_400_000);
  return {
    open: flags.open === true, from, to, limit,
    ...(flags.namespace === undefined ? {} : { namespace: flags.namespace }),
    ...(flags.route === undefined ? {} : { route: flags.route }),
    ...(object === undefined ? {} : { ingress: object }),
  };
}

/** Runs `incidents`: prints the table or the JSON; returns the exit code. */
export async function runIncidents(flags: IncidentsFlags, now: number, write: (text: string) => void, colour: boolean): Promise<number> {
  const req = incidentsRequest(flags, now);
  const source = sourceFromFlags(flags, () => configFrom(flags).store.path);
  try {
    const { incidents, more } = await collectIncidents(source, req);
    write(flags.output === 'json' ? `${JSON.stringify({ incidents, more }, null, 2)}\n` : `${renderIncidents(incidents, { colour, more })}\n`);
    return 0;
  } finally {
    await source.close();
  }
}

/** Runs `incidents show ID`. */
export async function runIncidentShow(id: string, flags: IncidentsFlags, write: (text: string) => void, colour: boolean): Promise<number> {
  if (!/^\d{1,15}$/.test(id)) throw new HistoryError('BAD_REQUEST', `incident id ${JSON.stringify(id)}: expected a number (the ID column of hopwatch incidents)`);
  const source = sourceFromFlags(flags, () => configFrom(flags).store.path);
  try {
    const incident = dataOf<ApiIncident>(await source.get(['incidents', id]));
    const firstRound = await firstFailingRound(source, incident);
    write(flags.output === 'json' ? `${JSON.stringify({ incident, firstRound }, null, 2)}\n` : `${renderIncident(incident, firstRound, colour)}\n`);
    return 0;
  } finally {
    await source.close();
  }
}

function sourceOptions(command: Command): Command {
  return withCommonOptions(command)
    .option('--server <url>', 'read from a running hopwatch (its API) instead of a store file')
    .option('--token <token>', "the daemon's bearer token (default $HOPWATCH_TOKEN)")
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'));
}

function fail(error: unknown): number {
  return reportHistoryError(error) ?? reportError(error);
}

/** The `incidents` command, with `incidents show ID`. */
export function incidentsCommand(): Command {
  // `show` takes the parent's flags (--db, --server, -o ...): commander parses them for the parent wherever they stand.
  const show = new Command('show')
    .description('one incident: its evidence and the hop results of its first failing round')
    .argument('<id>', 'incident id')
    .addHelpText('after', '\nThe options of `hopwatch incidents` apply: --db <file>, --server <url>, --token <token>, -o table|json, --config <file>.')
    // Usage errors must reach the top level (exit 2) like every other command's.
    .exitOverride()
    .action(async (id: string, _local: unknown, command: Command) => {
      const flags = command.optsWithGlobals<IncidentsFlags>();
      process.exitCode = await runIncidentShow(id, flags, (text) => process.stdout.write(text), colourOn()).catch(fail);
    });
  return sourceOptions(new Command('incidents'))
    .description('incidents from the history: route, start, duration, hop, cause, pods, rollout')
    .option('--open', 'only incidents still open')
    .option('--since <duration>', 'incidents open at some time in the last ... (default 7d)')
    .option('--from <time>', 'range start: ISO-8601 or how long ago (2h)')
    .option('--to <time>', 'range end (default now)')
    .option('-n, --namespace <ns>', "one namespace's")
    .option('--route <id>', "one route's")
    .option('--ingress <ns/name>', "one Ingress's")
    .option('--httproute <ns/name>', "one HTTPRoute's")
    .option('--limit <n>', 'most incidents listed', '100')
    .addCommand(show)
    .action(async (flags: IncidentsFlags) => {
      process.exitCode = await runIncidents(flags, Date.now(), (text) => process.stdout.write(text), colourOn()).catch(fail);
    });
}
