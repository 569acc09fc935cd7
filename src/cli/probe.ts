// `hopwatch probe`: one round now, verdicts out. Exit 0 when every route is ok, 1 when any is
// degraded or failing, 2 when it could not run.

import { performance } from 'node:perf_hooks';
import { Command, Option } from 'commander';
import type { Config } from '../config/types.js';
import type { ClusterWatch } from '../discovery/informers.js';
import { CannotRunError, createRoundDeps, currentRoutes, loadKubeConfig, startDiscovery, waitForSync } from '../main.js';
import type { Route, RouteKind, RouteRound } from '../model.js';
import { probeRoutes } from '../probe/round.js';
import { colourOn, configFrom, type CommonOptions, reportError, seconds, stderrLog, withCommonOptions } from './common.js';
import { exitCodeOf, probeReport, renderTable } from './format.js';

/** Which routes to probe. */
export interface RouteFilter {
  /** Only this namespace. */
  namespace?: string;
  /** Only this Ingress (NAME, or NS/NAME). */
  ingress?: string;
  /** Only routes of this kind of routing object (a KIND/NAME argument). */
  kind?: RouteKind;
  /** Only routes of the routing object with this name (with kind). */
  name?: string;
}

/** kubectl's spellings of the routing kinds a KIND/NAME argument may use. */
const KIND_NAMES: Readonly<Record<string, RouteKind>> = {
  ingress: 'Ingress', ingresses: 'Ingress', ing: 'Ingress',
  httproute: 'HTTPRoute', httproutes: 'HTTPRoute', 'httproute.gateway.networking.k8s.io': 'HTTPRoute',
};

/** Parses a KIND/NAME argument (httproute/web, ingress/web), as kubectl reads one; a bad one is a usage error. */
export function parseTarget(target: string): { kind: RouteKind; name: string } {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(target);
  const kind = m ? KIND_NAMES[(m[1] ?? '').toLowerCase()] : undefined;
  if (!m || kind === undefined) {
    throw new CannotRunError('BAD_FLAG', `${JSON.stringify(target)}: expected KIND/NAME with KIND ingress or httproute (e.g. httproute/web)`);
  }
  return { kind, name: m[2] ?? '' };
}

/** The filter of -n and --ingress (NAME or NS/NAME), checked: a malformed or contradictory one is a usage error. */
export function routeFilter(options: { namespace?: string | undefined; ingress?: string | undefined; target?: string | undefined }): RouteFilter {
  const { namespace, ingress } = options;
  const target = options.target === undefined ? null : parseTarget(options.target);
  if (target !== null && ingress !== undefined) throw new CannotRunError('BAD_FLAG', `give either ${options.target} or --ingress ${ingress}, not both`);
  if (ingress !== undefined) {
    const m = /^(?:([^/\s]+)\/)?([^/\s]+)$/.exec(ingress);
    if (m === null) throw new CannotRunError('BAD_FLAG', `--ingress ${JSON.stringify(ingress)}: expected NAME or NAMESPACE/NAME`);
    if (m[1] !== undefined && namespace !== undefined && m[1] !== namespace) {
      throw new CannotRunError('BAD_FLAG', `--ingress ${ingress} names namespace ${m[1]}, but -n says ${namespace}`);
    }
  }
  if (namespace !== undefined && !/^[^/\s]+$/.test(namespace)) throw new CannotRunError('BAD_FLAG', `-n ${JSON.stringify(namespace)}: expected a namespace name`);
  return { ...(namespace ? { namespace } : {}), ...(ingress ? { ingress } : {}), ...(target ? target : {}) };
}

/** The routes a filter keeps. */
export function selectRoutes(routes: readonly Route[], filter: RouteFilter): Route[] {
  let namespace = filter.namespace;
  let ingress = filter.ingress;
  if (ingress?.includes('/')) [namespace, ingress] = ingress.split('/', 2) as [string, string];
  // --ingress names an Ingress; a KIND/NAME argument names either kind.
  return routes.filter(
    (r) =>
      (namespace === undefined || r.namespace === namespace) &&
      (ingress === undefined || (r.kind === 'Ingress' && r.ingress === ingress)) &&
      (filter.kind === undefined || (r.kind === filter.kind && r.name === filter.name)),
  );
}

/** A connected cluster watch, synced. */
export interface ClusterSession {
  /** The watch. */
  watch: ClusterWatch;
  /** Stops the watch. */
  stop(): Promise<void>;
}

/** Connects to the cluster and waits for the first sync (CannotRunError when it does not come). */
export async function openCluster(config: Readonly<Config>, syncTimeoutMs: number): Promise<ClusterSession> {
  const kc = loadKubeConfig(config);
  let lastError: string | null = null;
  // One-shot commands stay quiet unless something goes wrong; the last warning explains a failed sync.
  const watch = startDiscovery(config, kc, (level, message) => {
    if (level !== 'info') lastError = message;
  });
  try {
    await waitForSync(watch, kc, syncTimeoutMs, () => lastError);
  } catch (error) {
    await watch.stop();
    throw error;
  }
  return { watch, stop: () => watch.stop() };
}

/**
 * Probes the selected routes once. A one-shot round holds no idle connection to time a pod's
 * keep-alive (that takes the controller's whole keep-alive window): a pod that does not announce it
 * is reported 'not-measured', unless measureKeepalive asks to measure it within the round's deadline.
 */
export async function probeOnce(config: Readonly<Config>, watch: ClusterWatch, filter: RouteFilter, options: { measureKeepalive?: boolean } = {}): Promise<RouteRound[]> {
  const routes = selectRoutes(currentRoutes(config, watch), filter);
  return probeRoutes(routes, createRoundDeps(config, { idle: options.measureKeepalive === true ? 'measure' : 'announced-only' }));
}

interface ProbeCliOptions extends CommonOptions {
  namespace?: string;
  target?: string;
  ingress?: string;
  output: 'table' | 'json';
  syncTimeout: number;
  measureKeepalive?: boolean;
}

/** A filter that matches no route is a mistake to report (exit 2), not a pass. */
class NoRouteMatched extends CannotRunError {}

async function run(options: ProbeCliOptions): Promise<number> {
  const config = configFrom(options);
  const filter = routeFilter(options);
  const session = await openCluster(config, options.syncTimeout * 1000);
  try {
    const startedAt = Date.now();
    const start = performance.now();
    const rounds = await probeOnce(config, session.watch, filter, { measureKeepalive: options.measureKeepalive === true });
    if (rounds.length === 0 && (filter.namespace !== undefined || filter.ingress !== undefined || filter.kind !== undefined)) {
      const what = [
        filter.namespace ? `namespace ${filter.namespace}` : null,
        filter.ingress ? `Ingress ${filter.ingress}` : null,
        filter.kind ? `${filter.kind} ${filter.name ?? ''}` : null,
      ].filter(Boolean).join(', ');
      throw new NoRouteMatched('NO_CLUSTER', `no route of ${what} was found (check the name and the namespace)`);
    }
    if (rounds.length === 0) stderrLog('warn', 'the cluster has no Ingress or HTTPRoute route: nothing probed');
    if (options.output === 'json') process.stdout.write(`${JSON.stringify(probeReport(rounds, startedAt, performance.now() - start), null, 2)}\n`);
    else process.stdout.write(`${renderTable(rounds, { colour: colourOn(), evidence: true })}\n`);
    return exitCodeOf(rounds);
  } finally {
    await session.stop();
  }
}

/** The `probe` command. */
export function probeCommand(): Command {
  return withCommonOptions(new Command('probe'), { db: false })
    .description('probe every hop of every route once and print the verdicts')
    .argument('[target]', 'only this routing object, kubectl style: httproute/NAME or ingress/NAME (with -n)')
    .option('-n, --namespace <ns>', 'only routes of this namespace')
    .option('--ingress <name>', 'only this Ingress (NAME or NS/NAME)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--sync-timeout <seconds>', 'how long to wait for the cluster', seconds, 15)
    .option('--measure-keepalive', "also time the idle timeout of pods that do not announce it (holds idle connections, up to the probe deadline)")
    .action(async (target: string | undefined, options: ProbeCliOptions) => {
      process.exitCode = await run({ ...options, ...(target === undefined ? {} : { target }) }).catch(reportError);
    });
}
