// Composition root: the one place where I/O objects (Kubernetes client, watches, HTTP clients,
// limits, clocks) are built from the validated configuration. The CLI commands and the daemon
// call these and pass the results down.

import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import cron from 'node-cron';
import { createAlerter } from './alerts/webhooks.js';
import { ParityTracker } from './compare/parity.js';
import { registerParityMetrics } from './server/parity-metrics.js';
import { runsInCluster } from './config/environment.js';
import { scheduleIntervalMs } from './config/schedule.js';
import type { Config } from './config/types.js';
import { resolveKubeconfigSource } from './config/load.js';
import { type ClusterWatch, type ClusterWatchLogger, startClusterWatch } from './discovery/informers.js';
import { FollowedRoutes } from './discovery/follow.js';
import type { RoutesDelta } from './discovery/incremental.js';
import { routesFrom } from './discovery/routes.js';
import { startReplica } from './ha/replica.js';
import { routesFromHttpRoutes } from './discovery/httproute.js';
import type { Route, RouteRound } from './model.js';
import { PodDiagnostics } from './probe/diagnose.js';
import { HttpClientPool } from './probe/http.js';
import { createLimiter, type Limiter } from './probe/limit.js';
import { probeHop } from './probe/probers.js';
import { seenFromOutside } from './probe/result.js';
import type { RoundDeps } from './probe/round.js';
import { type LoopDeps, RunLoop } from './schedule/daemon.js';
import { boundHeapGrowth } from './schedule/memory.js';
import { createMetrics } from './server/metrics.js';
import { startServer } from './server/server.js';
import { createInProcessReader, openStoreReader } from './store/reader.js';
import { maintain } from './store/retention.js';
import { type Db, openStore } from './store/sqlite.js';
import { createWriter } from './store/write.js';
import { CannotVerifyError } from './verify/errors.js';
import { abortableDelay, createVerifyRunner } from './verify/run.js';
import { VERSION } from './version.js';

/** hopwatch could not do its work at all (no cluster, bad credentials): exit code 2, one line. */
export class CannotRunError extends Error {
  /** Stable code. */
  readonly code: 'NO_CLUSTER' | 'BAD_KUBECONFIG' | 'BAD_STORE' | 'BAD_FLAG';

  constructor(code: 'NO_CLUSTER' | 'BAD_KUBECONFIG' | 'BAD_STORE' | 'BAD_FLAG', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CannotRunError';
    this.code = code;
  }
}

/** Loads the Kubernetes client configuration the way the config says (explicit file, in-cluster, $KUBECONFIG, ~/.kube/config). */
export function loadKubeConfig(config: Readonly<Config>, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const source = resolveKubeconfigSource(config, env, existsSync);
  const kc = new KubeConfig();
  try {
    if (source.kind === 'in-cluster') {
      kc.loadFromCluster();
      return kc;
    }
    kc.loadFromFile(source.paths[0] ?? '');
    for (const extra of source.paths.slice(1)) {
      const more = new KubeConfig();
      more.loadFromFile(extra);
      kc.mergeConfig(more);
    }
  } catch (error) {
    const which = source.kind === 'in-cluster' ? 'the in-cluster config' : `kubeconfig ${source.paths.join(':')}`;
    // client-node reads an empty or non-mapping file as undefined and fails on its first field.
    const reason = error instanceof TypeError ? 'it is empty or not a kubeconfig (no clusters, contexts, users)' : error instanceof Error ? error.message : String(error);
    throw new CannotRunError('BAD_KUBECONFIG', `cannot read ${which}: ${reason}`, { cause: error });
  }
  if (source.context) {
    if (!kc.getContextObject(source.context)) throw new CannotRunError('BAD_KUBECONFIG', `kubeconfig has no context "${source.context}"`);
    kc.setCurrentContext(source.context);
  }
  if (!kc.getCurrentCluster()) throw new CannotRunError('BAD_KUBECONFIG', 'kubeconfig has no current cluster');
  return kc;
}

/** The API server URL of the current context, for messages. */
export function apiServerOf(kc: KubeConfig): string {
  return kc.getCurrentCluster()?.server ?? '(unknown API server)';
}

/** Starts watching every kind discovery needs; `log` receives one line per state change. */
export function startDiscovery(config: Readonly<Config>, kc: KubeConfig, log: ClusterWatchLogger): ClusterWatch {
  return startClusterWatch({
    kubeConfig: kc,
    namespaces: config.cluster.namespaces,
    watchIdleRestartMs: config.discovery.watchIdleRestartMs,
    maxBackoffMs: config.discovery.maxBackoffMs,
    gatewayApiRecheckMs: config.discovery.gatewayApiRecheckMs,
    log,
  });
}

/** Waits for the first full sync; a cluster that does not answer in time is a CannotRunError naming the API server and the last error. */
export async function waitForSync(watch: ClusterWatch, kc: KubeConfig, timeoutMs: number, lastError: () => string | null): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const why = lastError();
      reject(new CannotRunError('NO_CLUSTER', `cannot reach the Kubernetes API at ${apiServerOf(kc)} within ${Math.round(timeoutMs / 1000)} s${why ? `: ${why}` : ''}`));
    }, timeoutMs);
  });
  try {
    await Promise.race([watch.synced, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The routes of the current snapshot. */
export function currentRoutes(config: Readonly<Config>, watch: ClusterWatch): Route[] {
  const snapshot = watch.snapshot();
  const ingress = routesFrom(snapshot, config.controllers, { clusterDomain: config.cluster.clusterDomain, namespaces: config.cluster.namespaces });
  // Both front doors in one list, each sorted within itself: Ingress routes keep their order.
  return [...ingress, ...routesFromHttpRoutes(snapshot, config.gateways, { namespaces: config.cluster.namespaces })];
}

/**
 * The routes of the watch, kept up to date by recomputing only what each change affects
 * (src/discovery/follow.ts; the same answer as currentRoutes), as the run loop takes them:
 * `routes` whole or `routesDelta` what changed (one consumer, using one of them: each takes the
 * watch's changes), and `current`, what was last taken, for readers beside the run loop. A watch
 * without a change feed (tests' fakes) gets currentRoutes on every call.
 */
export function discoveryFollowing(config: Readonly<Config>, watch: ClusterWatch): Pick<LoopDeps, 'routes' | 'routesDelta'> & { current: () => Route[] } {
  if (watch.takeChanges === undefined) return { routes: () => currentRoutes(config, watch), current: () => currentRoutes(config, watch) };
  const followed = new FollowedRoutes({ controllers: config.controllers, gateways: config.gateways, clusterDomain: config.cluster.clusterDomain, namespaces: config.cluster.namespaces });
  const source = { snapshot: () => watch.snapshot(), takeChanges: () => watch.takeChanges!() };
  const routesDelta = (): RoutesDelta => followed.delta(source);
  // The same array again when nothing changed: the run loop's cue that there is nothing to do.
  const routes = (): Route[] => {
    followed.delta(source);
    return followed.current();
  };
  return { routes, routesDelta, current: () => followed.current() };
}

/** discoveryFollowing's routes alone. */
export function routesFollowing(config: Readonly<Config>, watch: ClusterWatch): () => Route[] {
  return discoveryFollowing(config, watch).routes;
}

/** Round deps plus the limiter's counts, for metrics. */
export type RoundRuntime = RoundDeps & { limiter: Limiter };

/**
 * Everything a round needs: the prober with its shared client pool, the shared limit, clocks, the
 * pod diagnostics. `diagnosticsWaitMs`: how long a round waits for a pod's idle-timeout measurement
 * (the daemon does not wait: the measurement finishes in the background and later rounds use it);
 * a round never waits past its own deadline + 10 % whatever this says. `idle: 'announced-only'`
 * (one-shot `probe` unless --measure-keepalive): no idle connection is held at all.
 */
export function createRoundDeps(config: Readonly<Config>, options: { diagnosticsWaitMs?: number; outsideCluster?: boolean; idle?: 'measure' | 'announced-only' } = {}): RoundRuntime {
  const clients = new HttpClientPool();
  const diagnostics = new PodDiagnostics({ timeoutMs: config.probe.timeoutMs, waitMs: options.diagnosticsWaitMs ?? config.probe.timeoutMs, idle: options.idle ?? 'measure' });
  const outside = options.outsideCluster ?? !runsInCluster(process.env, existsSync);
  return {
    probe: outside ? (hop) => probeHop(hop, { clients }).then(seenFromOutside) : (hop) => probeHop(hop, { clients }),
    diagnose: (route, hops, budgetMs) => diagnostics.diagnose(route, hops, budgetMs),
    limiter: createLimiter(config.probe.concurrency),
    plan: { timeoutMs: config.probe.timeoutMs, dnsServer: config.cluster.dnsServer, clusterDomain: config.cluster.clusterDomain },
    now: Date.now,
    monotonic: () => performance.now(),
  };
}

/** Log lines of the daemon. */
export type DaemonLog = (level: 'info' | 'warn' | 'error', message: string) => void;

/** A running daemon. */
export interface Daemon {
  /** Base URL of its HTTP server. */
  url: string;
  /** The run loop. */
  loop: RunLoop;
  /** True after the first full sync of the cluster. */
  ready(): boolean;
  /** SIGTERM: stop scheduling, let rounds in flight finish (bounded), flush, close. */
  stop(): Promise<void>;
}

/** Options of startDaemon beyond the configuration. */
export interface DaemonOptions {
  /** Directory of the dashboard's files; default the package's dashboard/ when present. */
  dashboardDir?: string | null;
  /** Called with every finished round (the demo's terminal view). */
  onRound?: (round: RouteRound) => void;
  /** How long stop() waits for rounds in flight. */
  stopWaitMs?: number;
}

/** The run loop's timers: real timeouts and node-cron (the daemon's, and the scheduler benchmark's). */
export function schedulerTimers(): LoopDeps['timers'] {
  return {
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
    cron: (expression, fn) => cron.schedule(expression, fn),
    cronPeriodMs: (expression) => scheduleIntervalMs({ kind: 'cron', expression }),
  };
}

/** Runs store maintenance (compaction, retention) in small steps that yield to probing between them. */
function startMaintenance(db: Db, config: Readonly<Config>, log: DaemonLog): () => Promise<void> {
  let stopped = false;
  let cycle: Promise<void> | null = null;
  const run = async (): Promise<void> => {
    try {
      // One bounded step at a time, yielding between steps; stop() ends the cycle at the next step.
      for (let step = 0; step < 1000 && !stopped && maintain(db, config.store, Date.now()).more; step++) await new Promise((resolve) => setImmediate(resolve));
    } catch (error) {
      log('error', `store maintenance failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      cycle = null;
    }
  };
  const start = (): void => {
    if (!stopped && cycle === null) cycle = run();
  };
  const first = setTimeout(start, 5_000);
  const timer = setInterval(start, 60_000);
  return async () => {
    stopped = true;
    clearTimeout(first);
    clearInterval(timer);
    await cycle;
  };
}

/** The dashboard shipped with the package, when built. */
export function defaultDashboardDir(): string | null {
  const dir = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../dashboard' : '../dashboard', import.meta.url));
  return existsSync(dir) ? dir : null;
}

/** Opens the daemon's store; a file that cannot be opened (no directory, not a store, a newer schema) cannot run. */
function openDaemonStore(path: string): Db {
  try {
    return openStore(path);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CannotRunError('BAD_STORE', `cannot open the store ${path} (store.path, --db): ${reason}`, { cause: err });
  }
}

/** Starts `hopwatch run`: store, discovery, the run loop, alerts, metrics and the HTTP server. */
export async function startDaemon(config: Readonly<Config>, log: DaemonLog, options: DaemonOptions = {}): Promise<Daemon> {
  // Garbage from probing is collected at ~1.5x the live heap, not ~4x (src/schedule/memory.ts).
  boundHeapGrowth();
  const kc = loadKubeConfig(config);
  const db = openDaemonStore(config.store.path);
  const cleanup: (() => Promise<unknown> | unknown)[] = [() => db.close()];
  try {
    // ":memory:" (keeps nothing) cannot be shared with a worker: its queries run on this thread.
    const reader = config.store.path === ':memory:' ? createInProcessReader(db) : await openStoreReader(config.store.path);
    cleanup.unshift(() => reader.close());
    const metrics = createMetrics({ labels: config.metrics.labels });
    const watch = startDiscovery(config, kc, log);
    cleanup.unshift(() => watch.stop());
    let synced = false;
    void watch.synced.then(() => (synced = true)).catch(() => undefined);
    const round = createRoundDeps(config, { diagnosticsWaitMs: 0 });
    const alerter = createAlerter(config.alerts, { now: Date.now, delay: (ms, signal) => sleep(ms, undefined, { signal }).catch(() => undefined), random: Math.random, log, dashboardUrl: config.alerts.dashboardUrl, cluster: config.metrics.labels['cluster'] ?? null });
    cleanup.unshift(() => alerter.stop());
    const discovery = discoveryFollowing(config, watch);
    // Pairs (one host and path through two front doors) are compared round by round, in memory; they
    // read the routes the run loop last took (`current`), never the change feed itself.
    const parity = new ParityTracker(discovery.current);
    registerParityMetrics(metrics.registry, parity);
    const onRound = (r: RouteRound): void => {
      parity.observe(r);
      options.onRound?.(r);
    };
    const loop = new RunLoop({ config, watch, routes: discovery.routes, ...(discovery.routesDelta ? { routesDelta: discovery.routesDelta } : {}), db, writer: createWriter(db), round, metrics, alerter, timers: schedulerTimers(), log, standby: config.ha.enabled, onRound });
    metrics.trackLoad(() => ({ roundsInFlight: loop.inFlight, probesActive: round.limiter.active, probesQueued: round.limiter.queued, writesPending: loop.writesPending }));
    metrics.trackAlerts(() => alerter.stats().receivers);
    // Which replica answers and whether it leads (set once leader election starts).
    let replicaDetail = (): Record<string, unknown> => ({ identity: '', leader: !config.ha.enabled, lease: null, holder: null });
    const health = {
      live: () => true,
      ready: () => synced,
      detail: () => ({ discovery: watch.state, routes: loop.routeCount, replica: replicaDetail(), ...(synced ? {} : { reason: `waiting for the first full sync of the Kubernetes API at ${apiServerOf(kc)}` }) }),
    };
    // Its own full computation: the run loop is the one consumer of the watch's change feed.
    const runVerify = createVerifyRunner({ round, snapshot: () => watch.snapshot(), routes: () => currentRoutes(config, watch), delay: abortableDelay });
    // Before the first sync the snapshot is empty: every Ingress would look missing. Say so (503: retry).
    const verify: typeof runVerify = async (params, signal) => {
      if (!synced) throw new CannotVerifyError('NOT_SYNCED', `hopwatch has not synced with the Kubernetes API at ${apiServerOf(kc)} yet: retry shortly`);
      return runVerify(params, signal);
    };
    const dashboardDir = options.dashboardDir === undefined ? defaultDashboardDir() : options.dashboardDir;
    const server = await startServer({ listen: config.server.listen, token: config.server.token, reader, metrics, health, verify, dashboardDir, log, incidentOpenAfter: config.incidents.openAfter, pairs: parity });
    cleanup.unshift(() => server.close());
    loop.start();
    const replica = startReplica(config, kc, loop, log);
    metrics.trackLeader(() => ({ identity: replica.identity, leader: replica.leading() }));
    replicaDetail = () => ({ identity: replica.identity, leader: replica.leading(), lease: replica.lease, holder: replica.holder() });
    const stopMaintenance = startMaintenance(db, config, log);
    log('info', `hopwatch ${VERSION} serving ${server.url} (store ${config.store.path}, cluster ${apiServerOf(kc)})`);
    return {
      url: server.url,
      loop,
      ready: () => synced,
      stop: async () => {
        // First: a leader hands the Lease over at once, so a standby alerts without waiting for expiry.
        await replica.stop();
        await stopMaintenance();
        await loop.stop(options.stopWaitMs ?? 10_000);
        await alerter.flush(5_000);
        // Every step runs even when one fails, so the database is always closed last.
        const failures: unknown[] = [];
        for (const step of cleanup) await Promise.resolve(step()).catch((error: unknown) => failures.push(error));
        if (failures.length > 0) throw new AggregateError(failures, 'hopwatch did not stop cleanly');
      },
    };
  } catch (error) {
    for (const step of cleanup) await Promise.resolve(step()).catch(() => undefined);
    throw error;
  }
}
