// I/O: sends every variant of a pair through both front doors (each edge and each proxy pod, with
// the same HTTP prober as every other hop), probes both routes hop by hop, and hands what it saw to
// the pure comparison. Bounded: a fixed set of variants per pair, a per-request deadline, a shared
// concurrency limit and a bound on the number of pairs.

import type { HopResult, PlannedHop, Route } from '../model.js';
import type { HttpProbeOptions } from '../probe/http.js';
import { type PlanOptions, planHops } from '../probe/plan.js';
import { probeRoute, type RoundDeps, type TaskLimiter } from '../probe/round.js';
import { bodyDigest, cannotCompare, comparePair, type CompareOptions, KEPT_FOR_COMPARE, maskTokens, notCompared } from './compare.js';
import { planVariants, type VariantOptions } from './variants.js';
import type { Answer, Pair, PairComparison, Variant, VariantResult } from './types.js';

/** Body bytes read per answer for its digest. */
export const COMPARE_BODY_BYTES = 256 * 1024;
/** At most this many pairs in one run (narrow with -n or --host beyond it). */
export const MAX_PAIRS = 50;

/** What a compare run needs from the outside world. */
export interface CompareDeps {
  /** Probes one hop with a request variant; never rejects for a failing target. */
  probe: (hop: PlannedHop, options: HttpProbeOptions) => Promise<HopResult>;
  /** A normal probe round of a route (every hop, classified). */
  round: RoundDeps;
  /** The limit shared by every request. */
  limiter: TaskLimiter;
  /** Planning options (per-request deadline). */
  plan: PlanOptions;
  /** Progress lines for long runs (stderr), none when absent. */
  progress?: (line: string) => void;
}

/** What the user asked for. */
export type RunOptions = CompareOptions & VariantOptions;

/** Compares every pair (at most MAX_PAIRS; the rest reported as not compared), one after another. */
export async function comparePairs(pairs: readonly Pair[], deps: CompareDeps, options: RunOptions): Promise<PairComparison[]> {
  const out: PairComparison[] = [];
  for (const [i, pair] of pairs.entries()) {
    if (i >= MAX_PAIRS) {
      out.push(notCompared(pair, `over the bound of ${MAX_PAIRS} pairs per run: narrow with -n or --host`));
      continue;
    }
    const comparison = await compareOne(pair, deps, options);
    if (pairs.length > 1) deps.progress?.(`compared ${i + 1}/${pairs.length}: ${pair.key} ${comparison.outcome}`);
    out.push(comparison);
  }
  return out;
}

/** Compares one pair: the variants through both sides, and a hop-by-hop round of each route, all at once. */
export async function compareOne(pair: Pair, deps: CompareDeps, options: RunOptions): Promise<PairComparison> {
  const reason = cannotCompare(pair);
  if (reason !== null) return notCompared(pair, reason);
  const variants = planVariants(pair, options);
  const tokens = maskTokens(pair);
  const [results, old, fresh] = await Promise.all([
    Promise.all(variants.map((variant) => sendVariant(pair, variant, tokens, deps))),
    probeRoute(pair.old, deps.round),
    probeRoute(pair.new, deps.round),
  ]);
  return comparePair(pair, { variants: results, rounds: { old, new: fresh } }, options);
}

/** The edge and proxy-pod hops of a route (what users' requests cross before the shared backends). */
export function frontHops(route: Route, plan: PlanOptions): PlannedHop[] {
  return planHops(route, plan).filter((hop) => hop.hop === 'edge' || hop.hop === 'controller');
}

async function sendVariant(pair: Pair, variant: Variant, tokens: readonly string[], deps: CompareDeps): Promise<VariantResult> {
  const through = (route: Route): Promise<Answer[]> =>
    Promise.all(frontHops(route, deps.plan).map((hop) => deps.limiter.run(() => answerOf({ ...hop, request: { ...hop.request, path: variant.path } }, variant, tokens, deps))));
  const [old, fresh] = await Promise.all([through(pair.old), through(pair.new)]);
  return { variant, old, new: fresh };
}

/** Sends one variant to one hop and reduces the result to what is compared. */
async function answerOf(hop: PlannedHop, variant: Variant, tokens: readonly string[], deps: CompareDeps): Promise<Answer> {
  const chunks: Buffer[] = [];
  const result = await deps.probe(hop, {
    request: { method: variant.method, headers: variant.headers, ...(variant.body === null ? {} : { body: variant.body }) },
    keepHeaders: KEPT_FOR_COMPARE,
    maxBodyBytes: COMPARE_BODY_BYTES,
    // Copies: the prober's chunks are views of buffers undici reuses.
    onBody: (chunk) => chunks.push(Buffer.from(chunk)),
  });
  return {
    hop: hop.hop === 'edge' ? 'edge' : 'controller',
    target: result.target,
    pod: result.pod,
    status: result.status,
    error: result.error,
    errorDetail: result.errorDetail,
    ms: result.timings.ttfbMs ?? result.timings.totalMs,
    headers: result.headers,
    bodyBytes: result.bytes,
    bodyDigest: result.status === null || variant.method === 'HEAD' ? null : bodyDigest(Buffer.concat(chunks), tokens),
    generator: result.generator,
  };
}
