// One round: plan every route's hops, probe them all concurrently under one limit, classify.
// The daemon, `hopwatch probe`, `hopwatch verify` and the API all call these functions.

import { classify } from '../classify/classify.js';
import type { HopResult, PlannedHop, PodDiagnosis, Route, RouteRound } from '../model.js';
import { type PlanOptions, planHops } from './plan.js';

/** Runs a task under the shared concurrency limit. */
export interface TaskLimiter {
  /** Runs fn when a slot is free. */
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/** What a round needs from the outside world. */
export interface RoundDeps {
  /** Probes one hop; never rejects for a failing target. */
  probe: (hop: PlannedHop) => Promise<HopResult>;
  /** The limit shared by every hop of every route. */
  limiter: TaskLimiter;
  /** Planning options. */
  plan: PlanOptions;
  /** Wall clock (ms since epoch). */
  now: () => number;
  /** Monotonic clock for durations (ms). */
  monotonic: () => number;
  /**
   * Extra requests about the route's pods after its hops were probed (src/probe/diagnose.ts); none
   * when absent. budgetMs is what is left of the route's deadline: diagnostics never extend it.
   */
  diagnose?: (route: Route, hops: readonly HopResult[], budgetMs: number) => Promise<PodDiagnosis[]>;
}

/**
 * How long a route's round may last, as a share of the per-hop deadline: its hops run at once, each
 * bounded by the deadline, and what follows them (diagnostics) gets only this margin past it.
 */
export const ROUND_DEADLINE_FACTOR = 1.1;

/** What is left of the route's round budget (the slowest hop's deadline + 10 %) at `elapsedMs`. */
export function roundBudgetLeft(timeoutMs: number, elapsedMs: number): number {
  return Math.max(0, timeoutMs * ROUND_DEADLINE_FACTOR - elapsedMs);
}

/** Probes one route's hops (all at once, under the shared limit) and classifies the results. */
export async function probeRoute(route: Route, deps: RoundDeps): Promise<RouteRound> {
  const startedAt = deps.now();
  const start = deps.monotonic();
  const planned = planHops(route, deps.plan);
  const hops = await Promise.all(planned.map((hop) => deps.limiter.run(() => deps.probe(hop))));
  const budgetMs = roundBudgetLeft(deps.plan.timeoutMs, deps.monotonic() - start);
  const diagnoses = deps.diagnose && hops.length > 0 ? await deps.diagnose(route, hops, budgetMs) : [];
  return { route, startedAt, durationMs: deps.monotonic() - start, hops, verdict: classify(route, hops, { diagnoses, at: startedAt }), diagnoses };
}

/** Probes every route concurrently; results keep the routes' order. */
export function probeRoutes(routes: readonly Route[], deps: RoundDeps): Promise<RouteRound[]> {
  return Promise.all(routes.map((route) => probeRoute(route, deps)));
}
