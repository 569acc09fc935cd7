// Composition root: the one place where I/O objects (Kubernetes client, watches, HTTP clients,
// limits, clocks) are built from the validated configuration. The CLI commands and the daemon
// call these and pass the results down.

import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { KubeConfig } from '@kubernetes/client-node';
import type { Config } from './config/types.js';
import { resolveKubeconfigSource } from './config/load.js';
import { type ClusterWatch, type ClusterWatchLogger, startClusterWatch } from './discovery/informers.js';
import { routesFrom } from './discovery/routes.js';
import type { Route } from './model.js';
import { PodDiagnostics } from './probe/diagnose.js';
import { HttpClientPool } from './probe/http.js';
import { createLimiter } from './probe/limit.js';
import { probeHop } from './probe/probers.js';
import type { RoundDeps } from './probe/round.js';

/** hopwatch could not do its work at all (no cluster, bad credentials): exit code 2, one line. */
export class CannotRunError extends Error {
  /** Stable code. */
  readonly code: 'NO_CLUSTER' | 'BAD_KUBECONFIG';

  constructor(code: 'NO_CLUSTER' | 'BAD_KUBECONFIG', message: string, options?: { cause?: unknown }) {
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
    throw new CannotRunError('BAD_KUBECONFIG', `cannot read kubeconfig: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
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
  return routesFrom(watch.snapshot(), config.controllers, { clusterDomain: config.cluster.clusterDomain, namespaces: config.cluster.namespaces });
}

/** Everything a round needs: the prober with its shared client pool, the shared limit, clocks, the pod diagnostics. */
export function createRoundDeps(config: Readonly<Config>): RoundDeps {
  const clients = new HttpClientPool();
  // Keep one RoundDeps across rounds (the daemon): the diagnostics cache measurements of long keep-alive windows.
  const diagnostics = new PodDiagnostics({ timeoutMs: config.probe.timeoutMs });
  return {
    probe: (hop) => probeHop(hop, { clients }),
    diagnose: (route, hops) => diagnostics.diagnose(route, hops),
    limiter: createLimiter(config.probe.concurrency),
    plan: { timeoutMs: config.probe.timeoutMs, dnsServer: config.cluster.dnsServer, clusterDomain: config.cluster.clusterDomain },
    now: Date.now,
    monotonic: () => performance.now(),
  };
}
