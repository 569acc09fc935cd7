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
  /** Extra requests about the route's pods after its hops were probed (src/probe/diagnose.ts); none when absent. */
  diagnose?: (route: Route, hops: readonly HopResult[]) => Promise<PodDiagnosis[]>;
}

/** Probes one route's hops (all at once, under the shared limit) and classifies the results. */
export async function probeRoute(route: Route, deps: RoundDeps): Promise<RouteRound> {
  const startedAt = deps.now();
  const start = deps.monotonic();
  const planned = planHops(route, deps.plan);
  const hops = await Promise.all(planned.map((hop) => deps.limiter.run(() => deps.probe(hop))));
  const diagnoses = deps.diagnose && hops.length > 0 ? await deps.diagnose(route, hops) : [];
  return { route, startedAt, durationMs: deps.monotonic() - start, hops, verdict: classify(route, hops, { diagnoses, at: startedAt }), diagnoses };
}

/** Probes every route concurrently; results keep the routes' order. */
export function probeRoutes(routes: readonly Route[], deps: RoundDeps): Promise<RouteRound[]> {
  return Promise.all(routes.map((route) => probeRoute(route, deps)));
}
