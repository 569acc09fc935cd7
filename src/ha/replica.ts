// This replica's place among hopwatch replicas: with ha.enabled, a LeaseElector on the cluster's
// coordination.k8s.io/v1 Lease decides whether the run loop sends incident alerts; without it, the
// replica always leads. Every replica probes every route and keeps its own history either way
// (active/active probing, one alerting leader: docs/scale.md says why).

import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { scheduleIntervalMs } from '../config/schedule.js';
import type { Config } from '../config/types.js';
import { LeaseElector, SETTLED_BEFORE_ANNOTATION } from './lease.js';

/** The namespace file of the pod's service account. */
const NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** What the run loop offers leader election (src/schedule/daemon.ts RunLoop). */
export interface ElectedLoop {
  /** Start or stop sending alerts. */
  setLeading(leading: boolean): void;
  /** A standby drops the alerts it holds that the leader has settled. */
  dropHeldBefore(beforeMs: number): number;
  /** This replica's alerts are all settled before this time. */
  settledBefore(): number;
}

/** Which replica this is, whether it leads, and the Lease it competes for. */
export interface Replica {
  /** Holder identity ("" for a lone replica without ha). */
  readonly identity: string;
  /** "namespace/name" of the Lease, null without ha. */
  readonly lease: string | null;
  /** Whether this replica sends incident alerts now. */
  leading(): boolean;
  /** The current holder as last seen, null when unknown. */
  holder(): string | null;
  /** Stops electing; a leader releases the Lease. */
  stop(): Promise<void>;
}

/** This replica's identity: ha.identity, else $POD_NAME, else the host name (a StatefulSet pod's name). */
export function replicaIdentity(config: Readonly<Config>, env: NodeJS.ProcessEnv): string {
  return config.ha.identity ?? env['POD_NAME'] ?? hostname();
}

/** The Lease's namespace: ha.leaseNamespace, else the pod's own, else hopwatch. */
export function leaseNamespace(config: Readonly<Config>, readNamespaceFile: () => string | null): string {
  return config.ha.leaseNamespace ?? readNamespaceFile() ?? 'hopwatch';
}

/**
 * How far a standby's alert may lag its leader's twin: both replicas probe every route on the same
 * schedule, so the same incident change is seen at most one period (the longest schedule) apart;
 * one renewal more for the watermark's own delay.
 */
export function twinLagMs(config: Readonly<Config>, now: number): number {
  const periods = [config.schedule.default, ...config.schedule.overrides.map((o) => o.schedule)].map((s) => scheduleIntervalMs(s, now));
  return Math.max(...periods) + config.ha.renewEveryMs;
}

function podNamespace(): string | null {
  if (!existsSync(NAMESPACE_FILE)) return null;
  const text = readFileSync(NAMESPACE_FILE, 'utf8').trim();
  return text === '' ? null : text;
}

/** Starts leader election for the loop (or makes it the lone leader without ha). */
export function startReplica(config: Readonly<Config>, kc: KubeConfig, loop: ElectedLoop, log: (level: 'info' | 'warn' | 'error', message: string) => void): Replica {
  if (!config.ha.enabled) {
    loop.setLeading(true);
    return { identity: '', lease: null, leading: () => true, holder: () => null, stop: async () => undefined };
  }
  const identity = replicaIdentity(config, process.env);
  const namespace = leaseNamespace(config, podNamespace);
  const lagMs = twinLagMs(config, Date.now());
  const elector = new LeaseElector({
    api: kc.makeApiClient(CoordinationV1Api),
    name: config.ha.leaseName,
    namespace,
    identity,
    durationMs: config.ha.leaseDurationMs,
    renewEveryMs: config.ha.renewEveryMs,
    now: Date.now,
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
    log,
    annotations: () => ({ [SETTLED_BEFORE_ANNOTATION]: String(loop.settledBefore()) }),
    onLeading: (leading) => loop.setLeading(leading),
    onFollow: (record) => {
      if (record.settledBeforeMs !== null) loop.dropHeldBefore(record.settledBeforeMs - lagMs);
    },
  });
  elector.start();
  log('info', `ha: replica ${identity} competes for Lease ${namespace}/${config.ha.leaseName} (duration ${config.ha.leaseDurationMs} ms, renew every ${config.ha.renewEveryMs} ms)`);
  return {
    identity,
    lease: `${namespace}/${config.ha.leaseName}`,
    leading: () => elector.leading,
    holder: () => elector.holder,
    stop: () => elector.stop(),
  };
}
