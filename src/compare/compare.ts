// Pure: two front doors' answers to the same requests -> the differences that matter, each with
// its likely reason from both sides' controller knowledge, and the risks the settings predict.

import { createHash } from 'node:crypto';
import { controllerSettings } from '../classify/knowledge.js';
import type { Route, RouteRound, VerdictStatus } from '../model.js';
import { frontDoorOf, objectOf } from './pairs.js';
import { corsReason, describeAnswer, failed, formatBytes, formatMs, type ReasonContext, rewriteReason, statusReason, variantReason } from './reasons.js';
import { predictRisks } from './risks.js';
import type { Answer, Difference, Pair, PairComparison, RiskKind, SideSummary, VariantResult } from './types.js';

/** Response headers compared besides Location and Set-Cookie: content type, caching, CORS. */
export const COMPARED_HEADERS: readonly string[] = [
  'content-type',
  'cache-control',
  'access-control-allow-origin',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-allow-credentials',
  'access-control-expose-headers',
];

/** Every response header the I/O keeps for comparison. */
export const KEPT_FOR_COMPARE: readonly string[] = [...COMPARED_HEADERS, 'location', 'set-cookie'];

/** How to compare. */
export interface CompareOptions {
  /** Never compare bodies (volatile bodies: timestamps, tokens); sizes are still shown. */
  ignoreBody: boolean;
}

/** What was observed for a pair: each variant through both sides, and a normal probe round of each route. */
export interface Observed {
  /** Every variant's answers. */
  variants: VariantResult[];
  /** A probe round of each side's route (every hop, classified). */
  rounds: { old: RouteRound; new: RouteRound };
}

/**
 * sha256 of a body with the given tokens (the backend pods' names and addresses) masked, so two
 * answers from different replicas of the same app digest alike.
 */
export function bodyDigest(body: Buffer, tokens: readonly string[]): string {
  let text = body.toString('latin1');
  for (const token of [...tokens].sort((a, b) => b.length - a.length)) if (token !== '') text = text.split(token).join('\u0000');
  return createHash('sha256').update(text, 'latin1').digest('hex');
}

/** The names and addresses of every backend pod of both routes: what a replica's body may carry. */
export function maskTokens(pair: Pair): string[] {
  const tokens = new Set<string>();
  for (const backend of [...pair.old.backends, ...pair.new.backends]) {
    for (const pod of backend.pods) [pod.name, pod.ip ?? ''].forEach((t) => tokens.add(t));
    for (const endpoint of backend.endpoints) tokens.add(endpoint.address);
  }
  tokens.delete('');
  return [...tokens];
}

/** The answer most of a hop's answers agree on (controller pods may differ; the edge has one). */
export function representative(answers: readonly Answer[], hop: Answer['hop']): Answer | undefined {
  // An unreachable hop (a pod IP not routable from a laptop) says nothing about the front door.
  const ofHop = answers.filter((a) => a.hop === hop && a.error !== 'unreachable');
  const counts = new Map<string, { answer: Answer; n: number }>();
  for (const answer of ofHop) {
    const key = `${answer.status ?? answer.error}`;
    const entry = counts.get(key);
    if (entry === undefined) counts.set(key, { answer, n: 1 });
    else entry.n++;
  }
  return [...counts.values()].sort((a, b) => b.n - a.n)[0]?.answer;
}

/** True when the same side's answers to the probe request carry different bodies: the body changes per request. */
export function volatileBody(probe: VariantResult | undefined): boolean {
  if (probe === undefined) return false;
  for (const side of [probe.old, probe.new]) {
    const digests = new Set(side.filter((a) => a.status !== null && a.status < 400 && a.bodyDigest !== null).map((a) => a.bodyDigest));
    if (digests.size > 1) return true;
  }
  return false;
}

function statusText(answer: Answer): string {
  return answer.status !== null ? String(answer.status) : `no answer (${answer.error ?? 'other'})`;
}

function cookieNames(answer: Answer): string {
  return answer.headers['set-cookie'] ?? '';
}

function normalised(value: string | undefined): string {
  return (value ?? '').toLowerCase().replace(/\s*([;,])\s*/g, '$1').trim();
}

/** A difference between two answers to a variant at one hop, before reasons. */
interface RawDifference {
  kind: Difference['kind'];
  old: string;
  new: string;
}

/** What differs between two answers that users would notice, statuses first (a different status explains the rest). */
export function answerDifferences(old: Answer, fresh: Answer, compareBody: boolean): RawDifference[] {
  if (old.status !== fresh.status) return [{ kind: 'status', old: describeAnswer(old), new: describeAnswer(fresh) }];
  const found: RawDifference[] = [];
  const [lo, ln] = [old.headers['location'] ?? '', fresh.headers['location'] ?? ''];
  if (lo !== ln) found.push({ kind: 'location', old: lo || '(none)', new: ln || '(none)' });
  for (const name of COMPARED_HEADERS) {
    const [a, b] = [old.headers[name], fresh.headers[name]];
    if (normalised(a) !== normalised(b)) found.push({ kind: 'header', old: `${name}: ${a ?? '(none)'}`, new: `${name}: ${b ?? '(none)'}` });
  }
  if (cookieNames(old) !== cookieNames(fresh)) found.push({ kind: 'cookies', old: cookieNames(old) || '(none)', new: cookieNames(fresh) || '(none)' });
  if (compareBody && old.bodyDigest !== null && fresh.bodyDigest !== null && old.bodyDigest !== fresh.bodyDigest) {
    found.push({ kind: 'body', old: `${formatBytes(old.bodyBytes)} sha256 ${old.bodyDigest.slice(0, 12)}`, new: `${formatBytes(fresh.bodyBytes)} sha256 ${fresh.bodyDigest.slice(0, 12)}` });
  }
  return found;
}

/** A latency difference worth showing (never one that matters on its own): over twice as slow and 500 ms more. */
function latencyDifference(old: Answer, fresh: Answer): RawDifference | null {
  if (failed(old) || failed(fresh)) return null;
  const [slow, fast] = fresh.ms > old.ms ? [fresh.ms, old.ms] : [old.ms, fresh.ms];
  if (slow <= fast * 2 + 500) return null;
  return { kind: 'latency', old: formatMs(old.ms), new: formatMs(fresh.ms) };
}

/** The differences a variant showed, at the innermost front hop where they appear (the proxy pods, else the edge). */
export function variantDifferences(result: VariantResult, ctx: ReasonContext, compareBody: boolean, baseline: VariantResult | undefined): Difference[] {
  const found: Difference[] = [];
  const seen = new Set<string>();
  for (const hop of ['controller', 'edge'] as const) {
    const [o, n] = [representative(result.old, hop), representative(result.new, hop)];
    if (o === undefined || n === undefined) continue;
    const raws = answerDifferences(o, n, compareBody && result.variant.method !== 'HEAD');
    if (result.variant.kind === 'probe') {
      const latency = latencyDifference(o, n);
      if (latency !== null) raws.push(latency);
    }
    for (const raw of raws) {
      if (seen.has(raw.kind)) continue;
      seen.add(raw.kind);
      found.push(withReason(raw, hop, result, o, n, ctx, showsAlsoInBaseline(raw, hop, baseline, o, n)));
    }
  }
  return found;
}

/**
 * True when the probe request already showed this difference (same kind, same statuses on both
 * sides): the variant's own setting is then not its cause. A variant answered otherwise than the
 * probe request (a 400 where the probe got a 504) keeps its own reason.
 */
function showsAlsoInBaseline(raw: RawDifference, hop: Answer['hop'], baseline: VariantResult | undefined, o: Answer, n: Answer): boolean {
  if (baseline === undefined) return false;
  const [bo, bn] = [representative(baseline.old, hop), representative(baseline.new, hop)];
  if (bo === undefined || bn === undefined) return false;
  const sameStatuses = bo.status === o.status && bn.status === n.status && bo.error === o.error && bn.error === n.error;
  return sameStatuses && answerDifferences(bo, bn, true).some((d) => d.kind === raw.kind);
}

function withReason(raw: RawDifference, hop: Answer['hop'], result: VariantResult, o: Answer, n: Answer, ctx: ReasonContext, inBaseline: boolean): Difference {
  const variant = result.variant;
  const ownReason = inBaseline ? null : variantReason(variant, ctx);
  const reason = raw.kind === 'status' ? (inBaseline ? statusReason({ ...variant, kind: 'probe' }, o, n, ctx) : statusReason(variant, o, n, ctx))
    : raw.kind === 'header' ? (raw.old.startsWith('access-control-') || raw.new.startsWith('access-control-') ? corsReason(ctx) : null)
    : raw.kind === 'latency' || raw.kind === 'cookies' ? null
    : (ownReason ?? rewriteReason(ctx));
  const what = raw.kind === 'header' ? 'response header' : raw.kind;
  const summary = `${variant.name}: ${what} differs at the ${hop === 'edge' ? 'edge' : 'proxy pods'}: old ${raw.old}, new ${raw.new}${reason === null ? '' : ` — ${reason.text}`}`;
  return { variant: variant.name, kind: raw.kind, hop, matters: raw.kind !== 'latency', old: raw.old, new: raw.new, summary, reason: reason?.text ?? null, cause: reason?.cause ?? null };
}

const RANK: Readonly<Record<VerdictStatus, number>> = { ok: 0, unknown: 1, degraded: 2, failing: 3 };

/**
 * "namespace/service:port" with the port as a number when the Service port resolved: an Ingress names
 * a port by name ("http") where an HTTPRoute backendRef must give its number (8000), the same port.
 */
export function sameBackendKey(backend: Route['backends'][number]): string {
  const port = backend.servicePort?.port ?? backend.ref.port;
  return `${backend.ref.namespace}/${backend.ref.service}:${port}`;
}

/** The routes themselves: other backends, or a verdict of a normal probe round that differs (hop by hop). */
export function routeDifferences(pair: Pair, rounds: Observed['rounds']): Difference[] {
  const found: Difference[] = [];
  const backends = (r: Route): string => r.backends.map((b) => `${sameBackendKey(b)} ${Math.round(b.share * 100)}%`).join(', ') || '(none)';
  if (backends(pair.old) !== backends(pair.new)) {
    found.push({
      variant: 'route', kind: 'backends', hop: 'config', matters: true, old: backends(pair.old), new: backends(pair.new), reason: null, cause: null,
      summary: `the two routes send traffic to other backends: old ${backends(pair.old)}, new ${backends(pair.new)}`,
    });
  }
  const [vo, vn] = [rounds.old.verdict, rounds.new.verdict];
  if (vo.status !== vn.status || vo.cause !== vn.cause) {
    const text = (v: typeof vo): string => (v.status === 'ok' ? 'ok' : `${v.status} at ${v.hop ?? '?'}: ${v.cause}`);
    found.push({
      variant: 'route', kind: 'verdict', hop: 'route', matters: RANK[vn.status] > RANK[vo.status], old: text(vo), new: text(vn), reason: null, cause: null,
      summary: `probed hop by hop: old ${text(vo)}; new ${text(vn)} (${vn.status === 'ok' ? vo.summary : vn.summary})`,
    });
  }
  return found;
}

function sideSummary(route: Route, round: RouteRound): SideSummary {
  const name = controllerSettings(route)?.name;
  return { route: route.id, object: objectOf(route), frontDoor: `${frontDoorOf(route)}${name === undefined ? '' : ` (${name})`}`, verdict: round.verdict, hops: round.hops };
}

/** The comparison of one pair from what was observed. */
export function comparePair(pair: Pair, observed: Observed, options: CompareOptions): PairComparison {
  const settings = { old: controllerSettings(pair.old), new: controllerSettings(pair.new) };
  const podHeaders = observed.rounds.old.hops.concat(observed.rounds.new.hops).filter((h) => h.hop === 'pod' && h.status !== null).map((h) => h.headerBytes);
  const ctx: ReasonContext = { settings, podHeaderBytes: podHeaders.length === 0 ? null : Math.max(...podHeaders) };
  const baseline = observed.variants.find((v) => v.variant.kind === 'probe');
  const compareBody = !options.ignoreBody && !volatileBody(baseline);
  const differences = [
    ...routeDifferences(pair, observed.rounds),
    ...observed.variants.flatMap((v) => variantDifferences(v, ctx, compareBody, v === baseline ? undefined : baseline)),
  ].sort((a, b) => Number(b.matters) - Number(a.matters));
  const shown = new Set<RiskKind>(differences.flatMap((d) => (d.cause === null ? [] : [d.cause])));
  return {
    id: pair.id, key: pair.key, origin: pair.origin,
    old: sideSummary(pair.old, observed.rounds.old), new: sideSummary(pair.new, observed.rounds.new),
    outcome: differences.some((d) => d.matters) ? 'different' : 'alike', reason: null,
    differences, risks: predictRisks(settings, shown), variants: observed.variants,
  };
}

/** Why a pair cannot be compared (a side not probeable, no front hop to send to), null when it can. */
export function cannotCompare(pair: Pair): string | null {
  for (const side of ['old', 'new'] as const) {
    const route = pair[side];
    if (route.notProbeable !== null) return `${side} route ${route.id} cannot be probed: ${route.notProbeable}`;
    if (route.probe.ignore) return `${side} route ${route.id} is ignored (hopwatch.io/ignore)`;
    if (route.controller === null) return `${side} route ${route.id} has no configured controller for ${frontDoorOf(route)} (controllers[] in the config)`;
    if (route.controller.edge === null && route.controller.pods.every((p) => !p.ip)) return `${side} route ${route.id}: its front door has neither an edge nor proxy pods to send to`;
  }
  return null;
}

/** Exit code of a compare run: 1 when a difference matters, else 2 when a pair could not be compared (or none was found), else 0. */
export function compareExitCode(comparisons: readonly PairComparison[]): 0 | 1 | 2 {
  if (comparisons.some((c) => c.outcome === 'different')) return 1;
  if (comparisons.length === 0 || comparisons.some((c) => c.outcome === 'not-compared')) return 2;
  return 0;
}

/** The report of a pair that could not be compared. */
export function notCompared(pair: Pair, reason: string): PairComparison {
  const side = (route: Route): SideSummary => ({
    route: route.id, object: objectOf(route), frontDoor: frontDoorOf(route), hops: [],
    verdict: { status: 'unknown', hop: null, cause: 'route.not-probeable', summary: reason, evidence: [] },
  });
  return { id: pair.id, key: pair.key, origin: pair.origin, old: side(pair.old), new: side(pair.new), outcome: 'not-compared', reason, differences: [], risks: [], variants: [] };
}
