// Pure: samples of a verification -> pass/fail with reasons.
//
// Samples are tallied per route and group (canary pods, stable pods, other pods, Service, controller
// pods, edge, DNS) as they arrive, so judging after every tick costs nothing like re-reading them.
// Thresholds: every group but stable and other pods keeps its failure ratio under maxFailureRatio;
// the canary and every HTTP front group keep p95 under maxP95Ms; the canary is not worse than stable
// by more than the margins (failure ratio delta, p95 ratio beyond a slack). While ticks remain, only
// the checks no future sample can undo are judged: that is what lets a verification fail fast.

import type { Cause, ErrorCode, HopKind, Verdict, VerdictHop } from '../model.js';
import type { Thresholds } from './params.js';
import type { TargetRole } from './plan.js';

/** How one probed target did in one tick. */
export interface Sample {
  /** The tick (0-based). */
  tick: number;
  /** The route probed. */
  routeId: string;
  /** What the target stands for. */
  role: TargetRole;
  /** The hop kind. */
  hop: HopKind;
  /** What was dialled ("ip:port", or the name for DNS). */
  target: string;
  /** namespace/name of the pod behind the target, null for edge, Service and DNS. */
  pod: string | null;
  /** Judged by the classifier's rule; unknown: hopwatch cannot reach the target from where it runs. */
  outcome: 'ok' | 'failed' | 'unknown';
  /** HTTP status, null when none. */
  status: number | null;
  /** Stable error code, null when a response arrived. */
  error: ErrorCode | null;
  /** Total time of the request. */
  latencyMs: number;
}

/** A cause of a failed verification: a classifier cause, or one of verification's own. */
export type VerifyCause = Cause | 'verify.slow' | 'verify.slower-than-stable' | 'verify.not-ready';

/** Which check failed. */
export type CheckKind = 'failure-ratio' | 'error-ratio-delta' | 'rollout-ready' | 'p95' | 'latency-ratio';

/** One failed check, with everything a human needs to act on it. */
export interface CheckFailure {
  /** The route (id). */
  routeId: string;
  /** The check. */
  check: CheckKind;
  /** The group whose figures failed it. */
  group: TargetRole;
  /** Where the failure starts (from the classifier when the failure is errors). */
  hop: VerdictHop;
  /** The cause: the classifier's for errors, verification's own for latency and readiness. */
  cause: VerifyCause;
  /** One line for humans, naming the pods and the figures. */
  summary: string;
  /** The pods (or targets) that failed it. */
  pods: string[];
  /** The figures behind it. */
  figures: Record<string, number | null>;
}

/** Per-target figures. */
export interface TargetStats {
  /** What was dialled. */
  target: string;
  /** The pod behind it, null for edge, Service and DNS. */
  pod: string | null;
  /** Judged samples. */
  samples: number;
  /** Failed samples. */
  failures: number;
  /** Samples that could not be judged (unreachable from here). */
  unknown: number;
  /** p95 latency of the successful samples, null when none. */
  p95Ms: number | null;
  /** Count of each answer: "200", "502", "refused", ... */
  outcomes: Record<string, number>;
}

/** Per-group figures. */
export interface GroupStats {
  /** The route (id). */
  routeId: string;
  /** The group. */
  group: TargetRole;
  /** Its hop kind. */
  hop: HopKind;
  /** Judged samples. */
  samples: number;
  /** Failed samples. */
  failures: number;
  /** Samples that could not be judged. */
  unknown: number;
  /** failures / samples, null without samples. */
  failureRatio: number | null;
  /** Median latency of the successful samples. */
  p50Ms: number | null;
  /** p95 latency of the successful samples. */
  p95Ms: number | null;
  /** Per target. */
  targets: TargetStats[];
}

interface TargetTally {
  target: string;
  pod: string | null;
  samples: number;
  failures: number;
  unknown: number;
  latencies: number[];
  outcomes: Map<string, number>;
  failedOutcomes: Map<string, number>;
}

interface VerdictCount {
  hop: VerdictHop;
  cause: Cause;
  count: number;
}

interface GroupTally {
  routeId: string;
  role: TargetRole;
  hop: HopKind;
  samples: number;
  failures: number;
  unknown: number;
  /** Successful samples slower than maxP95Ms. */
  overP95: number;
  /** Successful samples. */
  okSamples: number;
  /** Samples in the latest tick, judged or not: the most each remaining tick can add. */
  perTick: number;
  lastTick: number;
  targets: Map<string, TargetTally>;
  /** The route's non-ok verdicts in the ticks where this group had a failure. */
  verdicts: Map<string, VerdictCount>;
}

/** Running totals of a verification. */
export interface Tally {
  /** Groups by "routeId/role". */
  groups: Map<string, GroupTally>;
  /** The p95 limit the overP95 counts are kept for, null for none. */
  maxP95Ms: number | null;
}

/** Judging order: inner groups first, so the hop where a failure starts is named first. */
export const GROUP_ORDER: readonly TargetRole[] = ['canary', 'pod', 'service', 'controller', 'edge', 'dns', 'stable'];
const FAILURE_RATIO_GROUPS: ReadonlySet<TargetRole> = new Set(['canary', 'service', 'controller', 'edge', 'dns']);
const P95_GROUPS: ReadonlySet<TargetRole> = new Set(['canary', 'service', 'controller', 'edge']);
const POD_GROUPS: ReadonlySet<TargetRole> = new Set(['canary', 'stable', 'pod']);
const CHECK_ORDER: readonly CheckKind[] = ['failure-ratio', 'error-ratio-delta', 'rollout-ready', 'p95', 'latency-ratio'];

/** Empty totals; p95 exceedances are counted against maxP95Ms. */
export function newTally(maxP95Ms: number | null): Tally {
  return { groups: new Map(), maxP95Ms };
}

function outcomeKey(sample: Sample): string {
  return sample.error ?? (sample.status === null ? 'no answer' : String(sample.status));
}

function groupOf(tally: Tally, sample: Sample): GroupTally {
  const key = `${sample.routeId}/${sample.role}`;
  let group = tally.groups.get(key);
  if (!group) {
    group = { routeId: sample.routeId, role: sample.role, hop: sample.hop, samples: 0, failures: 0, unknown: 0, overP95: 0, okSamples: 0, perTick: 0, lastTick: -1, targets: new Map(), verdicts: new Map() };
    tally.groups.set(key, group);
  }
  return group;
}

function targetOf(group: GroupTally, sample: Sample): TargetTally {
  let target = group.targets.get(sample.target);
  if (!target) {
    target = { target: sample.target, pod: sample.pod, samples: 0, failures: 0, unknown: 0, latencies: [], outcomes: new Map(), failedOutcomes: new Map() };
    group.targets.set(sample.target, target);
  }
  return target;
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Adds one route's samples of one tick, and the tick's verdict for the groups that failed in it. */
export function addTick(tally: Tally, samples: readonly Sample[], verdict: Verdict | null): void {
  const failedGroups = new Set<GroupTally>();
  for (const sample of samples) {
    const group = groupOf(tally, sample);
    const target = targetOf(group, sample);
    if (group.lastTick !== sample.tick) {
      group.lastTick = sample.tick;
      group.perTick = 0;
    }
    bump(target.outcomes, outcomeKey(sample));
    // Counted before the unknown ones are set aside: a target unreachable in this tick may answer in the next.
    group.perTick++;
    if (sample.outcome === 'unknown') {
      group.unknown++;
      target.unknown++;
      continue;
    }
    group.samples++;
    target.samples++;
    if (sample.outcome === 'failed') {
      group.failures++;
      target.failures++;
      bump(target.failedOutcomes, outcomeKey(sample));
      failedGroups.add(group);
    } else {
      group.okSamples++;
      target.latencies.push(sample.latencyMs);
      if (tally.maxP95Ms !== null && sample.latencyMs > tally.maxP95Ms) group.overP95++;
    }
  }
  if (verdict === null || verdict.status === 'ok' || verdict.hop === null) return;
  for (const group of failedGroups) {
    const key = `${verdict.hop}|${verdict.cause}`;
    const count = group.verdicts.get(key) ?? { hop: verdict.hop, cause: verdict.cause, count: 0 };
    count.count++;
    group.verdicts.set(key, count);
  }
}

/** Nearest-rank percentile of unsorted values, null for none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? null;
}

function latenciesOf(group: GroupTally): number[] {
  return [...group.targets.values()].flatMap((t) => t.latencies);
}

/** Judged and failed samples of every group so far, in judging order; cheap enough for every tick. */
export function groupCounts(tally: Tally): { routeId: string; group: TargetRole; samples: number; failures: number }[] {
  return [...tally.groups.values()].sort(compareGroups).map((g) => ({ routeId: g.routeId, group: g.role, samples: g.samples, failures: g.failures }));
}

/** The figures of every group, in judging order. */
export function groupStats(tally: Tally): GroupStats[] {
  const groups = [...tally.groups.values()].sort(compareGroups);
  return groups.map((g) => {
    const latencies = latenciesOf(g);
    return {
      routeId: g.routeId,
      group: g.role,
      hop: g.hop,
      samples: g.samples,
      failures: g.failures,
      unknown: g.unknown,
      failureRatio: g.samples === 0 ? null : g.failures / g.samples,
      p50Ms: round(percentile(latencies, 50)),
      p95Ms: round(percentile(latencies, 95)),
      targets: [...g.targets.values()].map((t) => ({
        target: t.target,
        pod: t.pod,
        samples: t.samples,
        failures: t.failures,
        unknown: t.unknown,
        p95Ms: round(percentile(t.latencies, 95)),
        outcomes: Object.fromEntries(t.outcomes),
      })),
    };
  });
}

function compareGroups(a: GroupTally, b: GroupTally): number {
  return a.routeId.localeCompare(b.routeId) || GROUP_ORDER.indexOf(a.role) - GROUP_ORDER.indexOf(b.role);
}

function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 10) / 10;
}

/**
 * The failed checks. With remainingTicks > 0 only those already certain (failure ratio and p95
 * limits that stay exceeded even if every remaining sample succeeds fast); with 0, every check.
 */
export function evaluate(tally: Tally, thresholds: Thresholds, remainingTicks: number): CheckFailure[] {
  const failures: CheckFailure[] = [];
  for (const group of tally.groups.values()) {
    const more = remainingTicks * group.perTick;
    const ratio = failureRatioCheck(group, thresholds, more);
    if (ratio) failures.push(ratio);
    const p95 = p95Check(group, thresholds, more);
    if (p95) failures.push(p95);
  }
  if (remainingTicks === 0) failures.push(...marginChecks(tally, thresholds));
  return sortFailures(failures);
}

/** Orders failures: errors before latency, inner groups before outer ones. */
export function sortFailures(failures: CheckFailure[]): CheckFailure[] {
  const latency = (f: CheckFailure): number => (f.check === 'p95' || f.check === 'latency-ratio' ? 1 : 0);
  return failures.sort(
    (a, b) =>
      latency(a) - latency(b) ||
      GROUP_ORDER.indexOf(a.group) - GROUP_ORDER.indexOf(b.group) ||
      CHECK_ORDER.indexOf(a.check) - CHECK_ORDER.indexOf(b.check) ||
      a.routeId.localeCompare(b.routeId),
  );
}

function failureRatioCheck(group: GroupTally, thresholds: Thresholds, more: number): CheckFailure | null {
  if (!FAILURE_RATIO_GROUPS.has(group.role) || group.failures === 0) return null;
  // The best the final ratio can be: every remaining sample succeeds.
  if (group.failures / (group.samples + more) <= thresholds.maxFailureRatio) return null;
  const failing = [...group.targets.values()].filter((t) => t.failures > 0);
  const { hop, cause } = causeOfErrors(group);
  const ratio = group.failures / group.samples;
  const each = failing.map((t) => `${t.pod ?? t.target} ${describeOutcomes(t.failedOutcomes)} in ${t.failures} of ${t.samples}`).join('; ');
  return {
    routeId: group.routeId,
    check: 'failure-ratio',
    group: group.role,
    hop,
    cause,
    summary: `${groupLabel(group.role)}: ${group.failures} of ${group.samples} requests failed (${pct(ratio)}, max ${pct(thresholds.maxFailureRatio)}): ${each}`,
    pods: failing.map((t) => t.pod ?? t.target),
    figures: { samples: group.samples, failures: group.failures, failureRatio: ratio, maxFailureRatio: thresholds.maxFailureRatio },
  };
}

function p95Check(group: GroupTally, thresholds: Thresholds, more: number): CheckFailure | null {
  const limit = thresholds.maxP95Ms;
  if (limit === null || !P95_GROUPS.has(group.role) || group.overP95 === 0) return null;
  // Nearest-rank p95 of n values exceeds the limit when more than n - ceil(0.95 n) of them do; the
  // best case adds `more` fast successes.
  const n = group.okSamples + more;
  if (group.overP95 <= n - Math.ceil(0.95 * n)) return null;
  const slow = [...group.targets.values()].filter((t) => t.latencies.some((l) => l > limit));
  const p95 = percentile(latenciesOf(group), 95);
  return {
    routeId: group.routeId,
    check: 'p95',
    group: group.role,
    hop: group.hop,
    cause: 'verify.slow',
    summary: `${groupLabel(group.role)}: p95 ${ms(p95)} over the limit of ${ms(limit)}: ${slow.map((t) => `${t.pod ?? t.target} p95 ${ms(percentile(t.latencies, 95))}`).join('; ')}`,
    pods: slow.map((t) => t.pod ?? t.target),
    figures: { p95Ms: round(p95), maxP95Ms: limit, slowSamples: group.overP95, samples: group.okSamples },
  };
}

function marginChecks(tally: Tally, thresholds: Thresholds): CheckFailure[] {
  const failures: CheckFailure[] = [];
  for (const canary of tally.groups.values()) {
    if (canary.role !== 'canary') continue;
    const stable = tally.groups.get(`${canary.routeId}/stable`);
    if (!stable || stable.samples === 0 || canary.samples === 0) continue;
    const delta = errorDeltaCheck(canary, stable, thresholds);
    if (delta) failures.push(delta);
    const latency = latencyRatioCheck(canary, stable, thresholds);
    if (latency) failures.push(latency);
  }
  return failures;
}

function errorDeltaCheck(canary: GroupTally, stable: GroupTally, thresholds: Thresholds): CheckFailure | null {
  const canaryRatio = canary.failures / canary.samples;
  const stableRatio = stable.failures / stable.samples;
  // A canary already over maxFailureRatio fails on that; the margin would repeat it.
  if (canaryRatio > thresholds.maxFailureRatio) return null;
  if (canaryRatio - stableRatio <= thresholds.maxErrorRatioDelta) return null;
  const { hop, cause } = causeOfErrors(canary);
  const failing = [...canary.targets.values()].filter((t) => t.failures > 0);
  return {
    routeId: canary.routeId,
    check: 'error-ratio-delta',
    group: 'canary',
    hop,
    cause,
    summary: `canary pods fail ${pct(canaryRatio)} of requests, stable pods ${pct(stableRatio)}: worse by more than ${pct(thresholds.maxErrorRatioDelta)} (${failing.map((t) => t.pod ?? t.target).join(', ')})`,
    pods: failing.map((t) => t.pod ?? t.target),
    figures: { canaryFailureRatio: canaryRatio, stableFailureRatio: stableRatio, maxErrorRatioDelta: thresholds.maxErrorRatioDelta },
  };
}

function latencyRatioCheck(canary: GroupTally, stable: GroupTally, thresholds: Thresholds): CheckFailure | null {
  const canaryP95 = percentile(latenciesOf(canary), 95);
  const stableP95 = percentile(latenciesOf(stable), 95);
  if (canaryP95 === null || stableP95 === null) return null;
  if (canaryP95 - stableP95 <= thresholds.latencySlackMs) return null;
  // A stable p95 of 0 ms (a coarse clock) would make any ratio infinite: the slack already guards it.
  const ratio = stableP95 > 0 ? canaryP95 / stableP95 : Infinity;
  if (ratio <= thresholds.maxLatencyRatio) return null;
  const slow = [...canary.targets.values()].filter((t) => (percentile(t.latencies, 95) ?? 0) > stableP95 * thresholds.maxLatencyRatio);
  return {
    routeId: canary.routeId,
    check: 'latency-ratio',
    group: 'canary',
    hop: 'pod',
    cause: 'verify.slower-than-stable',
    summary: `canary pods p95 ${ms(canaryP95)} is ${ratio === Infinity ? 'far above' : `${ratio.toFixed(1)}×`} stable's ${ms(stableP95)} (max ${thresholds.maxLatencyRatio}×, slack ${ms(thresholds.latencySlackMs)}): ${slow.map((t) => `${t.pod ?? t.target} p95 ${ms(percentile(t.latencies, 95))}`).join('; ')}`,
    pods: slow.map((t) => t.pod ?? t.target),
    figures: { canaryP95Ms: round(canaryP95), stableP95Ms: round(stableP95), ratio: Number.isFinite(ratio) ? Math.round(ratio * 100) / 100 : null, maxLatencyRatio: thresholds.maxLatencyRatio, latencySlackMs: thresholds.latencySlackMs },
  };
}

/** The cause of a group's errors: the classifier's most common verdict in the ticks they happened, else one read off the errors. */
function causeOfErrors(group: GroupTally): { hop: VerdictHop; cause: Cause } {
  // For pods, only a verdict placed at the pods explains them: a verdict at the controller (nginx
  // running out of retries on refusing pods) says something true of the route, not of these pods.
  const fits = (v: VerdictCount): boolean => !POD_GROUPS.has(group.role) || v.hop === 'pod';
  const best = [...group.verdicts.values()].filter(fits).sort((a, b) => b.count - a.count)[0];
  if (best) return { hop: best.hop, cause: best.cause };
  return { hop: group.hop, cause: causeFromErrors(group) };
}

function causeFromErrors(group: GroupTally): Cause {
  const counts = new Map<string, number>();
  for (const t of group.targets.values()) for (const [k, n] of t.failedOutcomes) counts.set(k, (counts.get(k) ?? 0) + n);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
  switch (group.role) {
    case 'canary':
    case 'stable':
    case 'pod':
      return podCause(top);
    case 'controller':
      return [...group.targets.values()].every((t) => t.failures > 0) ? 'controller.error' : 'controller.replica-divergence';
    case 'edge':
      return 'edge.error';
    case 'service':
      return 'service.unreachable';
    case 'dns':
      return 'dns.failure';
  }
}

function podCause(outcome: string): Cause {
  if (outcome === 'refused') return 'pod.refused';
  if (outcome === 'reset') return 'pod.reset';
  if (outcome === 'timeout' || outcome === 'connect-timeout') return 'pod.timeout';
  if (outcome === 'tls' || outcome === 'protocol') return 'pod.protocol-mismatch';
  if (outcome === 'headers-too-large') return 'pod.headers-too-large';
  if (/^\d+$/.test(outcome)) return 'pod.app-error';
  return 'route.unexplained';
}

/** "canary pods", "controller pods", "edge", ... */
export function groupLabel(role: TargetRole): string {
  switch (role) {
    case 'canary':
      return 'canary pods';
    case 'stable':
      return 'stable pods';
    case 'pod':
      return 'other pods';
    case 'controller':
      return 'controller pods';
    case 'service':
      return 'Service';
    case 'edge':
      return 'edge';
    case 'dns':
      return 'DNS';
  }
}

function describeOutcomes(outcomes: Map<string, number>): string {
  return [...outcomes.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k).join('/');
}

/** "33.3%". */
export function pct(ratio: number): string {
  return `${(Math.round(ratio * 1000) / 10).toString()}%`;
}

/** "812 ms", "1.2 ms", "?" for none. */
export function ms(value: number | null): string {
  if (value === null) return '?';
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

/** Evaluates complete samples at once (every tick done): for tests and one-shot callers. */
export function evaluateSamples(samples: readonly Sample[], verdicts: ReadonlyMap<string, Verdict>, thresholds: Thresholds): { failures: CheckFailure[]; groups: GroupStats[] } {
  const tally = newTally(thresholds.maxP95Ms);
  const byTick = new Map<string, Sample[]>();
  for (const s of samples) {
    const key = `${s.tick}/${s.routeId}`;
    byTick.set(key, [...(byTick.get(key) ?? []), s]);
  }
  for (const [key, group] of byTick) addTick(tally, group, verdicts.get(key) ?? null);
  return { failures: evaluate(tally, thresholds, 0), groups: groupStats(tally) };
}
