// --wait-rollout: wait (bounded) until a Deployment's newest ReplicaSet has all its pods ready,
// as `kubectl rollout status` would, before verifying. The readiness test itself is pure.

import type { V1Deployment } from '@kubernetes/client-node';
import { podFacts } from '../discovery/pods.js';
import type { ClusterSnapshot } from '../discovery/snapshot.js';
import type { ObjectRef } from '../model.js';
import { CannotVerifyError } from './errors.js';
import type { CheckFailure } from './evaluate.js';
import type { VerifyParams } from './params.js';
import type { VerifyDeps } from './run.js';
import { newestFirst, replicaSetsOf, revisionOf } from './select.js';

/** How far a Deployment's rollout is. */
export interface RolloutReadiness {
  /** "namespace/name" of the Deployment. */
  deployment: string;
  /** Its newest ReplicaSet, null when it has none yet. */
  replicaSet: string | null;
  /** That ReplicaSet's revision. */
  revision: number | null;
  /** Pods the newest ReplicaSet should have. */
  desired: number;
  /** Its pods that are ready and not terminating. */
  ready: number;
  /** Its pods that are not (yet) ready. */
  notReady: string[];
  /** The Deployment controller has seen the latest spec (status.observedGeneration >= metadata.generation). */
  observed: boolean;
}

/** A finished wait. */
export interface RolloutWait extends RolloutReadiness {
  /** True when every desired pod was ready before the wait timed out. */
  complete: boolean;
  /** How long it waited. */
  waitedMs: number;
}

const POLL_MS = 250;

/** The rollout's readiness in a snapshot; null when the Deployment does not exist. */
export function rolloutReadiness(snapshot: ClusterSnapshot, ref: ObjectRef): RolloutReadiness | null {
  const deployment = snapshot.deployments.find((d) => d.metadata?.namespace === ref.namespace && d.metadata?.name === ref.name);
  if (!deployment) return null;
  const newest = replicaSetsOf(snapshot, ref.namespace, { kind: 'Deployment', name: ref.name }).sort(newestFirst)[0] ?? null;
  const name = newest?.metadata?.name ?? null;
  const pods = snapshot.pods.filter((p) => p.metadata?.namespace === ref.namespace).map(podFacts).filter((p) => name !== null && p.replicaSet === name);
  const ready = pods.filter((p) => p.ready && !p.terminating);
  return {
    deployment: `${ref.namespace}/${ref.name}`,
    replicaSet: name,
    revision: newest ? revisionOf(newest) : null,
    // The Deployment's count, as `kubectl rollout status` waits for: during a rolling update the
    // newest ReplicaSet's own count grows step by step and is "ready" after its first pod.
    desired: deployment.spec?.replicas ?? newest?.spec?.replicas ?? 1,
    ready: ready.length,
    notReady: pods.filter((p) => !ready.includes(p)).map((p) => `${p.namespace}/${p.name}`),
    observed: observed(deployment),
  };
}

function observed(deployment: V1Deployment): boolean {
  const generation = deployment.metadata?.generation;
  const seen = deployment.status?.observedGeneration;
  return generation === undefined || seen === undefined || seen >= generation;
}

/** True when the rollout is complete: the controller saw the spec and the newest ReplicaSet has as many ready pods as the Deployment wants. */
export function isRolledOut(r: RolloutReadiness): boolean {
  return r.observed && r.replicaSet !== null && r.desired > 0 && r.ready >= r.desired;
}

/** Waits until the rollout is complete or waitTimeoutMs passes; throws CannotVerifyError when the Deployment does not exist. */
export async function waitForRollout(params: VerifyParams, deps: VerifyDeps, signal: AbortSignal): Promise<RolloutWait> {
  const ref = params.waitRollout;
  if (!ref) throw new Error('waitForRollout needs params.waitRollout');
  const start = deps.round.monotonic();
  const maxPolls = Math.ceil(params.waitTimeoutMs / POLL_MS) + 1;
  for (let poll = 0; ; poll++) {
    const state = rolloutReadiness(deps.snapshot(), ref);
    if (!state) throw new CannotVerifyError('NO_DEPLOYMENT', `Deployment ${ref.namespace}/${ref.name} does not exist`);
    const waitedMs = deps.round.monotonic() - start;
    const complete = isRolledOut(state);
    if (complete || waitedMs >= params.waitTimeoutMs || poll >= maxPolls) return { ...state, complete, waitedMs };
    deps.onProgress?.({ kind: 'waiting', deployment: state.deployment, replicaSet: state.replicaSet, ready: state.ready, desired: state.desired });
    await deps.delay(Math.min(POLL_MS, params.waitTimeoutMs - waitedMs), signal);
    if (signal.aborted) throw new CannotVerifyError('ABORTED', 'verification aborted while waiting for the rollout');
  }
}

/** The failure of a rollout that was not ready in time. */
export function rolloutFailure(wait: RolloutWait, routeId: string): CheckFailure {
  return {
    routeId,
    check: 'rollout-ready',
    group: 'canary',
    hop: 'pod',
    cause: 'verify.not-ready',
    summary: `ReplicaSet ${wait.replicaSet ?? '(none yet)'} of Deployment ${wait.deployment}: ${wait.ready} of ${wait.desired} pods ready after ${Math.round(wait.waitedMs / 1000)} s${wait.notReady.length > 0 ? `; not ready: ${wait.notReady.join(', ')}` : ''}${wait.observed ? '' : '; the Deployment controller has not seen the latest spec'}`,
    pods: wait.notReady,
    figures: { ready: wait.ready, desired: wait.desired, waitedMs: Math.round(wait.waitedMs) },
  };
}
