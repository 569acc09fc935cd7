// Pure: a route with several weighted backends is judged by the same walk per backend (classify.ts),
// then combined here. A backend whose own hops fail (its pods, its Service, its DNS name, or its
// objects) while another backend answers makes the route degraded, naming the backend and its share;
// the route fails when every backend that gets traffic fails. The edge request reaches one backend by
// weight, so whether the front failed this round says nothing about which backend is at fault: the
// combination reads each backend's own hops, so the status is the same every round for the same state
// whichever backend the front request happened to reach.

import type { Backend, HopResult, Route, Verdict, VerdictStatus } from '../model.js';
import type { Context, Finding } from './context.js';
import { describeResult } from './evidence.js';
import { hasFailures } from './layers.js';

/** One backend's walk: its context, its verdict and its static config finding. */
export interface JudgedBackend {
  /** The backend. */
  backend: Backend;
  /** The context its walk saw. */
  ctx: Context;
  /** What the walk concluded for it alone. */
  verdict: Verdict;
  /** Its Service or port is missing (reported whatever the front answered), null when neither. */
  config: Finding | null;
}

/** True for the hops in front of the backends: every backend shares them. */
function isFront(result: HopResult): boolean {
  return result.hop === 'edge' || result.hop === 'controller';
}

/**
 * The results one backend's walk reads: its own dns, service and pod hops, and the front requests
 * that reach it: the ones sent with its selecting header or cookie when it has one and they were
 * probed, else the plain front requests (which reach it by weight).
 */
export function resultsOfBackend(route: Route, backend: Backend, results: readonly HopResult[]): HopResult[] {
  const primary = route.backends[0]?.key ?? null;
  const owner = (r: HopResult): string | null => r.backend ?? (isFront(r) ? null : primary);
  const selected = results.filter((r) => isFront(r) && r.backend === backend.key);
  const front = backend.selector !== null && selected.length > 0 ? selected : results.filter((r) => isFront(r) && (r.backend ?? null) === null);
  return [...front, ...results.filter((r) => !isFront(r) && owner(r) === backend.key)];
}

/** "cart-v2, 25 % by weight", "cart-v2, by header X-Canary: always", "cart, 75 % by weight". */
export function backendLabel(backend: Backend): string {
  const ways: string[] = [];
  if (backend.share > 0 || backend.selector === null) ways.push(`${formatShare(backend.share)} by weight`);
  const header = backend.selector?.header;
  if (header) ways.push(`by header ${header.name}: ${header.value}`);
  const cookie = backend.selector?.cookie;
  if (cookie) ways.push(`by cookie ${cookie.name}=${cookie.value}`);
  return `${backend.ref.service}, ${ways.join(', or ')}`;
}

/** 0.25 -> "25 %", 0.333 -> "33.3 %". */
export function formatShare(share: number): string {
  const percent = share * 100;
  return `${Number.isInteger(percent) ? percent : Math.round(percent * 10) / 10} %`;
}

/** The backend's own hops or objects fail, whatever the front answered. */
function ownFailure(judged: JudgedBackend): boolean {
  const { layers } = judged.ctx;
  const external = judged.backend.service?.type === 'ExternalName';
  return judged.config !== null || (layers.pod.state === 'absent' && !external) || hasFailures(layers.pod) || hasFailures(layers.service) || hasFailures(layers.dns);
}

/** Every request that reaches the backend fails: its objects are missing, it has no pod, or none answers. */
function wholeFailure(judged: JudgedBackend): boolean {
  const { layers, settings } = judged.ctx;
  const viaService = settings?.upstream.value === 'service' || judged.backend.service?.type === 'ExternalName';
  if (judged.config !== null) return true;
  if (viaService) return layers.service.state === 'failed' || layers.service.state === 'absent';
  return layers.pod.state === 'failed' || layers.pod.state === 'absent';
}

/** The backend's finding as a verdict: its static finding when the walk did not reach it (the front answered). */
function findingOf(judged: JudgedBackend, status: VerdictStatus): Verdict {
  const { verdict, config } = judged;
  if (config !== null && verdict.cause !== config.cause) {
    const front = judged.ctx.layers.front.all.slice(0, 1).map(describeResult);
    return { status, hop: config.hop, cause: config.cause, summary: config.summary, evidence: [...front, ...config.evidence] };
  }
  return { ...verdict, status };
}

/** Largest share first, then the primary before canaries, then as listed. */
function byShare(a: JudgedBackend, b: JudgedBackend): number {
  return b.backend.share - a.backend.share || Number(a.backend.role === 'canary') - Number(b.backend.role === 'canary');
}

/** Names the backend in a verdict about it. */
function labelled(verdict: Verdict, backend: Backend, others: string[]): Verdict {
  const evidence = [`backend ${backendLabel(backend)}`, ...verdict.evidence, ...others];
  return { ...verdict, summary: `${backendLabel(backend)}: ${verdict.summary}`, evidence: [...new Set(evidence)] };
}

/** The route's verdict from its backends' walks (primary first). */
export function combineBackends(route: Route, all: readonly JudgedBackend[]): Verdict {
  // A backend the controller sends nothing to (a second canary of a path) cannot fail users.
  const judged = all.filter((j, i) => i === 0 || j.backend.problem === null);
  const failing = judged.filter(ownFailure);
  if (failing.length > 0) return combineFailures(judged, failing);
  // No backend's own hops fail: what fails is in front of them (or a risk the measurements show).
  const primary = judged[0];
  if (primary === undefined) throw new Error(`route ${route.id} has no backend`);
  const worst = judged.filter((j) => j.verdict.status !== 'ok').sort((a, b) => rank(b.verdict.status) - rank(a.verdict.status))[0];
  if (worst === undefined) return primary.verdict;
  // A selected front request that fails while the plain front answers fails only the requests that select it.
  const status = worst !== primary && worst.verdict.status === 'failing' && primary.verdict.status === 'ok' ? 'degraded' : worst.verdict.status;
  return worst === primary && !isSpecificTo(worst) ? { ...worst.verdict, status } : labelled({ ...worst.verdict, status }, worst.backend, []);
}

/** A verdict that names a backend's pods, or a policy on them, rather than the shared front. */
function isSpecificTo(judged: JudgedBackend): boolean {
  return judged.verdict.hop !== 'edge' && judged.verdict.hop !== 'controller' && judged.verdict.hop !== null;
}

function rank(status: VerdictStatus): number {
  return status === 'failing' ? 3 : status === 'degraded' ? 2 : status === 'unknown' ? 1 : 0;
}

/** Some backends' own hops fail: degraded while a backend with traffic answers, failing when none does. */
function combineFailures(judged: readonly JudgedBackend[], failing: JudgedBackend[]): Verdict {
  const whole = new Set(failing.filter(wholeFailure));
  const carrying = judged.filter((j) => j.backend.share > 0);
  const status: VerdictStatus = carrying.length > 0 && carrying.every((j) => whole.has(j)) ? 'failing' : 'degraded';
  const ordered = [...failing].sort((a, b) => Number(whole.has(b)) - Number(whole.has(a)) || byShare(a, b));
  const [first, ...rest] = ordered;
  if (first === undefined) throw new Error('no failing backend');
  const others = rest.map((j) => `also: ${backendLabel(j.backend)}: ${findingOf(j, status).summary}`);
  return labelled(findingOf(first, status), first.backend, others);
}
