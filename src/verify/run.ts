// The verification loop: optionally wait for the rollout, choose the canary, then tick at the
// interval for the duration. Each tick probes every hop of the route (the same planHops, prober,
// limiter and classify as every other front door) plus the canary and stable pods, judges each
// result by the classifier's rule, and stops as soon as the thresholds can no longer be met.

import { classify } from '../classify/classify.js';
import { layersOf } from '../classify/layers.js';
import type { ClusterSnapshot } from '../discovery/snapshot.js';
import type { HopResult, ObjectRef, Route, Verdict } from '../model.js';
import type { RoundDeps } from '../probe/round.js';
import { CannotVerifyError } from './errors.js';
import { addTick, type CheckFailure, evaluate, groupCounts, groupStats, newTally, type Sample, sortFailures, type Tally } from './evaluate.js';
import type { VerifyKind, VerifyParams } from './params.js';
import { planVerifyHops, type TargetRole } from './plan.js';
import { buildReport, type RouteTarget, type VerifyReport } from './report.js';
import { rolloutFailure, waitForRollout } from './rollout.js';
import { type CanarySelection, podsByRole, selectCanary } from './select.js';

/** What a verification needs from the outside world. */
export interface VerifyDeps {
  /** The prober, the shared limit, planning options and clocks (the same as every round). */
  round: RoundDeps;
  /** The cluster's objects now. */
  snapshot: () => ClusterSnapshot;
  /** The cluster's routes now. */
  routes: () => Route[];
  /** Waits ms, resolving early when the signal aborts. */
  delay: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Receives progress: the rollout wait, then one event per tick. */
  onProgress?: (progress: VerifyProgress) => void;
}

/** Progress of a running verification. */
export type VerifyProgress =
  | {
      /** Waiting for the new ReplicaSet's pods. */
      kind: 'waiting';
      /** The Deployment waited for. */
      deployment: string;
      /** Its newest ReplicaSet, null before it exists. */
      replicaSet: string | null;
      /** Its ready pods. */
      ready: number;
      /** Pods it should have. */
      desired: number;
    }
  | {
      /** A tick finished. */
      kind: 'tick';
      /** The tick (1-based). */
      tick: number;
      /** Ticks planned. */
      ticks: number;
      /** Judged and failed samples so far, per group (all routes together), in judging order. */
      groups: { group: TargetRole; samples: number; failures: number }[];
      /** Whether a check has already failed for good (the verification stops now). */
      failed: boolean;
    };

/** Ticks of a verification: one every interval over the duration, at least one. */
export function plannedTicks(params: Pick<VerifyParams, 'durationMs' | 'intervalMs'>): number {
  return Math.max(1, Math.floor(params.durationMs / params.intervalMs));
}

/** Runs a verification; resolves with the report (pass or fail), throws CannotVerifyError when it cannot verify. */
export async function runVerification(params: VerifyParams, deps: VerifyDeps, signal: AbortSignal = new AbortController().signal): Promise<VerifyReport> {
  const startedAt = deps.round.now();
  const start = deps.round.monotonic();
  const wait = params.waitRollout ? await waitForRollout(params, deps, signal) : null;
  const targets = resolveTargets(params, deps.routes(), deps.snapshot());
  const ticks = plannedTicks(params);
  const tally = newTally(params.thresholds.maxP95Ms);
  const notes: string[] = [];
  const ticksStart = deps.round.monotonic();
  let done = 0;
  let early: CheckFailure[] = [];
  // A rollout that was not ready in time has failed already: one tick shows why (what the new pods
  // answer), the rest of the duration would change nothing.
  const rolledOut = wait === null || wait.complete;
  const toRun = rolledOut ? ticks : 1;
  // The duration bounds the run, not only the tick count: slow hops make ticks run late (Argo's and
  // Flagger's own timeouts are set from the duration). One probe deadline of grace for the last tick.
  const deadline = ticksStart + params.durationMs + deps.round.plan.timeoutMs;
  for (let tick = 0; tick < toRun; tick++) {
    const wake = ticksStart + tick * params.intervalMs - deps.round.monotonic();
    if (wake > 0) await deps.delay(wake, signal);
    if (signal.aborted) throw new CannotVerifyError('ABORTED', 'verification aborted');
    if (tick > 0 && deps.round.monotonic() >= deadline) {
      notes.push(`the duration ran out after ${done} of ${ticks} ticks: the hops answer slower than the interval`);
      break;
    }
    await runTick(tick, targets, deps, tally, notes);
    done = tick + 1;
    early = evaluate(tally, params.thresholds, ticks - done);
    deps.onProgress?.(tickProgress(tally, done, ticks, early.length > 0));
    if (early.length > 0) break;
  }
  // Stopped early: the decided failures say it all; margins over a partial run would only add noise.
  const judged = early.length > 0 && done < ticks ? early : evaluate(tally, params.thresholds, 0);
  const failures = sortFailures([...judged, ...(wait && !wait.complete ? [rolloutFailure(wait, targets[0]?.route.id ?? '')] : [])]);
  const groups = groupStats(tally);
  // With nothing judged at the canary, a failure through the other hops is still a failed verification (a broken
  // route is a 'no', not an 'unknown'); only when nothing failed either is there no answer.
  if (failures.length === 0 && !groups.some((g) => g.group === 'canary' && g.samples > 0)) {
    throw new CannotVerifyError('NO_SAMPLES', 'no request to a canary pod could be judged (unreachable from where hopwatch runs?)');
  }
  if (!rolledOut) notes.push('one tick only: the rollout was not ready in time, which fails the verification whatever the requests say');
  return buildReport({ params, startedAt, durationMs: deps.round.monotonic() - start, ticks: done, plannedTicks: ticks, stoppedEarly: early.length > 0 && done < ticks, targets, groups, failures, wait, notes });
}

/** Whether the routing object to verify is in the snapshot. */
function objectExists(snapshot: ClusterSnapshot, kind: VerifyKind, ref: ObjectRef): boolean {
  const objects = kind === 'Ingress' ? snapshot.ingresses : snapshot.httpRoutes;
  return objects.some((o) => o.metadata?.namespace === ref.namespace && o.metadata?.name === ref.name);
}

/** The routes to verify and each one's canary; throws CannotVerifyError when there is none. */
export function resolveTargets(params: VerifyParams, routes: readonly Route[], snapshot: ClusterSnapshot): RouteTarget[] {
  const { namespace, name } = params.ingress;
  const object = `${params.kind} ${namespace}/${name}`;
  if (!objectExists(snapshot, params.kind, params.ingress)) throw new CannotVerifyError('NO_INGRESS', `${object} does not exist`);
  const ofObject = routes.filter((r) => r.kind === params.kind && r.namespace === namespace && r.name === name);
  const matching = ofObject.flatMap((r) => matchRoute(r, params));
  if (matching.length === 0) {
    const known = ofObject.map((r) => `${r.host ?? '*'}${r.path}`).join(', ') || 'none';
    throw new CannotVerifyError('NO_ROUTE', `${object} has no route for ${params.host ?? 'any host'} ${params.path ?? 'any path'} (its routes: ${known})`);
  }
  const probeable = matching.filter((r) => r.notProbeable === null && !r.probe.ignore);
  if (probeable.length === 0) {
    const why = matching.map((r) => r.notProbeable ?? 'hopwatch.io/ignore is set').join('; ');
    throw new CannotVerifyError('NOT_PROBEABLE', `${object} cannot be probed: ${why}`);
  }
  const targets: RouteTarget[] = [];
  let firstError: unknown = null;
  for (const route of probeable) {
    try {
      targets.push({ route, selection: selectCanary(snapshot, route, params.canary, params.waitRollout) });
    } catch (error) {
      // A route of another backend without a canary does not stop the others from being verified.
      if (!(error instanceof CannotVerifyError)) throw error;
      firstError ??= error;
    }
  }
  if (targets.length === 0) throw firstError;
  return targets;
}

/** The route if it matches --host and --path; a wildcard host matches a concrete one, which is then sent. */
function matchRoute(route: Route, params: VerifyParams): Route[] {
  if (params.path !== null && route.path !== params.path) return [];
  if (params.host === null || route.host === params.host) return [route];
  const host = route.host;
  if (host?.startsWith('*.') && params.host.endsWith(host.slice(1)) && !params.host.slice(0, -host.length + 1).includes('.')) {
    return [{ ...route, probe: { ...route.probe, hostHeader: params.host } }];
  }
  return [];
}

/** Probes one tick of every route and adds the samples. */
async function runTick(tick: number, targets: readonly RouteTarget[], deps: VerifyDeps, tally: Tally, notes: string[]): Promise<void> {
  const snapshot = deps.snapshot();
  const current = new Map(deps.routes().map((r) => [r.id, r]));
  await Promise.all(
    targets.map(async (target) => {
      const fresh = current.get(target.route.id);
      if (!fresh) {
        notes.push(`tick ${tick + 1}: route ${target.route.host ?? '*'}${target.route.path} was gone from the cluster`);
        return;
      }
      // Keep a concrete host chosen for a wildcard route.
      const route = { ...fresh, probe: { ...fresh.probe, hostHeader: target.route.probe.hostHeader } };
      const { samples, verdict } = await probeRouteTick(tick, route, target.selection, snapshot, deps.round);
      addTick(tally, samples, verdict);
      // Canary pods that went away (deleted, scaled to zero) leave nothing to judge: say so, once per route.
      const gone = `no canary pod of ${route.host ?? '*'}${route.path} was left to probe`;
      if (!samples.some((x) => x.role === 'canary') && !notes.some((n) => n.endsWith(gone))) notes.push(`from tick ${tick + 1}: ${gone}`);
    }),
  );
}

/** One route's tick: plan with roles, probe under the shared limit, classify, judge every result. */
export async function probeRouteTick(tick: number, route: Route, selection: CanarySelection, snapshot: ClusterSnapshot, round: RoundDeps): Promise<{ samples: Sample[]; verdict: Verdict }> {
  const hops = planVerifyHops(route, podsByRole(selection, snapshot, route), round.plan);
  const results = await Promise.all(hops.map((h) => round.limiter.run(() => round.probe(h.hop))));
  const outcomes = judgeRoles(judge(route, results), results, hops.map((h) => h.role));
  const samples = results.map((r, i): Sample => ({
    tick,
    routeId: route.id,
    role: hops[i]?.role ?? 'pod',
    hop: r.hop,
    target: r.target,
    pod: r.pod,
    outcome: outcomes.get(r) ?? 'unknown',
    status: r.status,
    error: r.error,
    latencyMs: r.timings.totalMs,
  }));
  return { samples, verdict: classify(route, results) };
}

/** Each result judged by the classifier's own rule (layersOf), so verify and probe never disagree on "failed". */
export function judge(route: Route, results: readonly HopResult[]): Map<HopResult, Sample['outcome']> {
  const layers = layersOf(route, [...results]);
  const outcomes = new Map<HopResult, Sample['outcome']>();
  for (const layer of [layers.dns, layers.edge, layers.controller, layers.service, layers.pod, layers.podOutOfRotation]) {
    for (const r of layer.ok) outcomes.set(r, 'ok');
    for (const r of layer.failed) outcomes.set(r, 'failed');
    for (const r of layer.unknown) outcomes.set(r, 'unknown');
  }
  return outcomes;
}

/** "2xx", "4xx": a status's class. */
function statusClass(status: number): number {
  return Math.floor(status / 100);
}

/**
 * What the canary/stable split adds to the classifier's judgement of one tick:
 * - a canary pod answering another status class than every stable pod (404 where stable answers
 *   200) fails: the new version answers differently, even with a status the default rule accepts;
 * - when stable pods fail and no canary pod does, the front hops' failures are the stable pods'
 *   passed on (requests that landed on them): not judged, so they are not held against the canary.
 */
export function judgeRoles(outcomes: Map<HopResult, Sample['outcome']>, results: readonly HopResult[], roles: readonly TargetRole[]): Map<HopResult, Sample['outcome']> {
  const of = (role: TargetRole): HopResult[] => results.filter((_, i) => roles[i] === role);
  const stable = of('stable');
  const canary = of('canary');
  const stableClasses = new Set(stable.filter((r) => outcomes.get(r) === 'ok' && r.status !== null).map((r) => statusClass(r.status!)));
  if (stableClasses.size > 0) {
    for (const r of canary) {
      if (outcomes.get(r) === 'ok' && r.status !== null && !stableClasses.has(statusClass(r.status))) outcomes.set(r, 'failed');
    }
  }
  const stableFails = stable.some((r) => outcomes.get(r) === 'failed');
  const canaryFails = canary.some((r) => outcomes.get(r) === 'failed');
  if (stableFails && !canaryFails) {
    results.forEach((r, i) => {
      const role = roles[i];
      if ((role === 'edge' || role === 'controller' || role === 'service') && outcomes.get(r) === 'failed') outcomes.set(r, 'unknown');
    });
  }
  return outcomes;
}

function tickProgress(tally: Tally, tick: number, ticks: number, failed: boolean): VerifyProgress {
  const byGroup = new Map<TargetRole, { group: TargetRole; samples: number; failures: number }>();
  for (const g of groupCounts(tally)) {
    const entry = byGroup.get(g.group) ?? { group: g.group, samples: 0, failures: 0 };
    entry.samples += g.samples;
    entry.failures += g.failures;
    byGroup.set(g.group, entry);
  }
  return { kind: 'tick', tick, ticks, groups: [...byGroup.values()], failed };
}

/** Runs one verification: what the HTTP form and the daemon's server are given. */
export type VerifyRunner = (params: VerifyParams, signal: AbortSignal) => Promise<VerifyReport>;

/** A runner over fixed deps (the daemon builds them once from its cluster watch). */
export function createVerifyRunner(deps: VerifyDeps): VerifyRunner {
  return (params, signal) => runVerification(params, deps, signal);
}

/** A delay that resolves after ms, or at once when the signal aborts. */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
