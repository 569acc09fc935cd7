// Pure: what the pods' health checks say about a failure. Pods that fail while Ready stay in the
// Service's endpoints, so Kubernetes keeps sending them traffic: the classic intermittent 502. Whether
// they have a readiness probe, and what it checks (another port, another path, only a TCP connect),
// is what explains it. Pods that are not Ready get no traffic; what they answer on the probed path
// says why they never become ready, beyond "crash-looping".

import type { HopResult, PodFacts } from '../model.js';
import type { Context } from './context.js';
import { describeResult } from './evidence.js';

/** The pod facts of a pod result (by namespace/name), undefined when the endpoint names no known pod. */
export function podFactsOf(ctx: Context, result: HopResult): PodFacts | undefined {
  return ctx.backend.pods.find((p) => `${p.namespace}/${p.name}` === result.pod);
}

/** "answers 500", "refuses", "times out". */
function failureWord(result: HopResult): string {
  if (result.error !== null) return result.error === 'refused' ? 'refuses connections' : `fails (${result.error})`;
  return `answers ${result.status ?? '?'}`;
}

/** What a readiness probe checks compared with the request that fails: another port or path, a TCP connect only, or the same. */
function probeChecks(probe: string, result: HopResult, path: string): string {
  const http = /^https?-get :(\S+?)(\/.*)$/.exec(probe);
  if (http !== null) {
    const [, port, probePath] = http;
    const samePort = port === String(result.port) || !/^\d+$/.test(port ?? '');
    if (probePath !== path) return `it checks ${probePath}, not the failing ${path}${samePort ? '' : `, on port ${port ?? '?'}`}`;
    if (!samePort) return `it checks port ${port ?? '?'}, not the failing ${result.port}`;
    return 'it checks the failing path and has not failed it (yet: failureThreshold x periodSeconds)';
  }
  if (probe.startsWith('tcp')) return 'it checks only that the port accepts a connection';
  return `it does not check the failing ${path}`;
}

/**
 * One line per failing Ready pod: whether it has a readiness probe and what it checks, and that
 * Kubernetes keeps sending it traffic. Empty when no failing pod is Ready (or none is known).
 */
export function readyWhileFailing(ctx: Context, failed: readonly HopResult[]): string[] {
  const path = ctx.route.probe.path;
  return failed.flatMap((r) => {
    const pod = podFactsOf(ctx, r);
    if (pod === undefined || !pod.ready) return [];
    const name = `pod ${pod.namespace}/${pod.name}`;
    const why = pod.readinessProbe === null ? 'has no readinessProbe' : `has readinessProbe ${pod.readinessProbe}, but ${probeChecks(pod.readinessProbe, r, path)}`;
    return [`${name} ${failureWord(r)} on ${path} while Ready: it ${why}, so it stays in the Service's endpoints and Kubernetes keeps sending it traffic`];
  });
}

/** What the not-ready pods answer on the probed path (they get no traffic; this is why they are not ready). */
export function notReadyAnswers(ctx: Context): string[] {
  const path = ctx.route.probe.path;
  return ctx.layers.podOutOfRotation.all
    .filter((r) => r.ready === false && r.terminating !== true && r.error !== 'unreachable')
    .map((r) => `not ready, out of the endpoints: ${describeResult(r)} on ${path}`);
}

/** "they answer 503 on /": the not-ready pods' common answer, '' when they do not answer alike. */
export function notReadySummary(ctx: Context): string {
  const results = ctx.layers.podOutOfRotation.all.filter((r) => r.ready === false && r.terminating !== true && r.error !== 'unreachable');
  const words = new Set(results.map(failureWord));
  const word = [...words][0];
  if (results.length === 0 || words.size !== 1 || word === undefined) return '';
  return `; they ${word.replace(/^answers/, 'answer').replace(/^refuses/, 'refuse').replace(/^fails/, 'fail')} on ${ctx.route.probe.path}`;
}
