// Pure: the causes that live in the pods. Some show in the pods' own answers to hopwatch (refused,
// reset, TLS where HTTP was sent); the hard ones do not: the pods answer hopwatch 200 while the
// controller turns that into a 5xx, because of the answer's size, its timing, the protocol, or how
// the pods close idle connections. Those are found by comparing what was measured with the settings
// of the controller in front (src/classify/knowledge.ts).

import type { Backend, HopResult, PeerProtocol, PodFacts } from '../model.js';
import { type Context, controllerName, diagnosisOf, type Finding, mostCommon, podNames } from './context.js';
import { describePod, describeResult, describeServicePort, describeSetting, describeTarget, formatBytes } from './evidence.js';
import { type BackendProtocol, protocolName, wireOf } from './knowledge.js';
import { inferredHeadersTooLarge, measuredSlowPods } from './measured.js';
import { readyWhileFailing } from './readiness.js';

/** The Service's targetPort is a name no pod declares, or a number the pods' declared ports do not include. */
export function targetPortMismatch(backend: Pick<Backend, 'servicePort' | 'pods'>): string | null {
  const target = backend.servicePort?.targetPort;
  if (target === undefined || backend.pods.length === 0) return null;
  const declared = backend.pods.flatMap((p) => p.containerPorts);
  if (typeof target === 'string') {
    if (declared.some((p) => p.name === target)) return null;
    return `no container of the selected pods declares a port named "${target}" (declared: ${listPorts(backend)})`;
  }
  if (declared.length === 0 || declared.some((p) => p.port === target)) return null;
  return `targetPort ${target} is not a declared container port (declared: ${listPorts(backend)})`;
}

function listPorts(backend: Pick<Backend, 'pods'>): string {
  const ports = new Set(backend.pods.flatMap((p) => p.containerPorts.map((c) => (c.name ? `${c.port}/${c.name}` : `${c.port}`))));
  return [...ports].join(', ') || 'none';
}

function podsOf(backend: Backend, results: readonly HopResult[]): PodFacts[] {
  const names = new Set(results.map((r) => r.pod));
  return backend.pods.filter((p) => names.has(`${p.namespace}/${p.name}`));
}

/** The controller results that failed, then the edge's, for evidence. */
function frontFailures(ctx: Context): HopResult[] {
  return [...ctx.layers.controller.failed, ...ctx.layers.edge.failed];
}

function hasFrontFailures(ctx: Context): boolean {
  return frontFailures(ctx).length > 0;
}

// ---------------------------------------------------------------- pods that fail hopwatch too

/**
 * Pods answer an HTTP error themselves. When their answer is a proxy's own page (a generator such as
 * nginx recognised at the pod hop), the app is itself a proxy (nginx or Envoy in the pod) whose own
 * upstream fails: the pod is still the cause, and the same page passed on by the controller is not
 * the controller's (measured at the pod hop, which no controller stands in front of).
 */
function appError(failed: HopResult[], share: string, evidence: string[]): Finding {
  const status = failed[0]?.status ?? 0;
  const generators = new Set(failed.map((r) => r.generator));
  const generator = generators.size === 1 ? failed[0]?.generator : null;
  if (!generator || generator === 'upstream') {
    return { hop: 'pod', cause: 'pod.app-error', summary: `${share} answer ${status} themselves: the application fails, not a gateway`, evidence };
  }
  return {
    hop: 'pod',
    cause: 'pod.app-error',
    summary: `${share} answer ${status} themselves with ${generator}'s own error page: the app is itself a proxy whose upstream fails, not the controller`,
    evidence: [...evidence, `the ${status} page at the pod hop is ${generator}'s own, answered inside the pod (no controller stands between hopwatch and the pod); the controller passes it on`],
  };
}

/** The in-rotation pods fail hopwatch's own probe: the error names the cause. */
export function failingPodsCause(ctx: Context): Finding {
  const { backend, layers } = ctx;
  const error = primaryError(ctx);
  // Pods failing in different ways (one answers 500, another refuses): the cause and its share are the
  // primary group's; the others are named in the evidence.
  const failed = layers.pod.failed.filter((r) => sameKind(r.error, error));
  const others = layers.pod.failed.filter((r) => !sameKind(r.error, error));
  const share = `${failed.length} of ${layers.pod.all.length} pods`;
  const evidence = [
    ...failed.map(describeResult),
    ...(others.length === 0 ? [] : [`also failing otherwise: ${others.map((r) => `${r.pod ?? r.target} (${r.error ?? r.status ?? '?'})`).join(', ')}`]),
    ...others.map(describeResult),
    describeServicePort(backend),
    ...readyWhileFailing(ctx, layers.pod.failed),
  ];
  switch (error) {
    case 'refused':
      return refusedPods(ctx, failed, share, evidence);
    case null:
      return appError(failed, share, evidence);
    case 'reset':
      return resetPods(ctx, failed, share, evidence);
    case 'tls':
    case 'protocol':
      return protocolPods(ctx, failed, share, evidence);
    case 'timeout':
      return {
        hop: 'pod',
        cause: 'pod.timeout',
        summary: `${share} accept connections but send no response headers within hopwatch's deadline`,
        evidence: [...evidence, ...readTimeoutLine(ctx)],
      };
    case 'headers-too-large':
      return { hop: 'pod', cause: 'pod.headers-too-large', summary: `${share} answer with a header block beyond hopwatch's own limit`, evidence: [...evidence, ...bufferLine(ctx)] };
    default:
      return { hop: 'pod', cause: 'route.unexplained', summary: `${share} fail with ${error}`, evidence };
  }
}

/** tls and protocol failures are one kind: the pod speaks something else. */
function kindOf(error: HopResult['error']): HopResult['error'] {
  return error === 'tls' ? 'protocol' : error;
}

function sameKind(a: HopResult['error'], b: HopResult['error']): boolean {
  return kindOf(a) === kindOf(b);
}

/**
 * The failure that explains the round: the most common kind among the failing pods; on a tie, the
 * one the front passed on (the app's own 5xx when the front answered it, else a connection failure).
 */
function primaryError(ctx: Context): HopResult['error'] {
  const failed = ctx.layers.pod.failed;
  const counts = new Map<HopResult['error'], number>();
  for (const r of failed) counts.set(kindOf(r.error), (counts.get(kindOf(r.error)) ?? 0) + 1);
  const most = Math.max(...counts.values());
  const tied = [...counts.keys()].filter((kind) => counts.get(kind) === most);
  const passedOn = frontFailures(ctx).some((r) => r.generator === 'upstream');
  let kind: HopResult['error'];
  if (tied.length === 1) kind = tied[0] ?? null;
  else if (passedOn && tied.includes(null)) kind = null;
  else kind = tied.find((e) => e !== null) ?? null;
  // The error as one of the pods had it ('tls' stays 'tls').
  return failed.find((r) => sameKind(r.error, kind))?.error ?? kind;
}

function refusedPods(ctx: Context, failed: HopResult[], share: string, evidence: string[]): Finding {
  const drain = rolloutDrain(ctx, failed);
  if (drain) return drain;
  const mismatch = targetPortMismatch(ctx.backend);
  if (mismatch) return { hop: 'config', cause: 'config.port-mismatch', summary: mismatch, evidence };
  const crashing = podsOf(ctx.backend, failed).filter((p) => p.restarts > 0 || p.stateReason !== null);
  if (crashing.length > 0) {
    return { hop: 'pod', cause: 'pod.crashloop', summary: `${share} refuse while restarting`, evidence: [...evidence, ...crashing.map(describePod)] };
  }
  return { hop: 'pod', cause: 'pod.refused', summary: `${share} refuse connections on their target port: ${podNames(failed)}`, evidence };
}

/** Accepted, then closed (FIN) or reset (RST) before a complete answer: not a refusal, the app drops requests. */
function resetPods(ctx: Context, failed: HopResult[], share: string, evidence: string[]): Finding {
  const drain = rolloutDrain(ctx, failed);
  if (drain) return drain;
  const rst = failed.some((r) => (r.errorDetail ?? '').startsWith('ECONNRESET'));
  const when = failed.some((r) => (r.errorDetail ?? '').includes('after headers')) ? 'in the middle of the response' : 'before any response header';
  const how = rst ? 'reset (RST)' : 'closed (FIN)';
  // Name what the front really answered: when it retried on another pod, users got no error at all.
  const front = frontFailures(ctx)[0];
  const answer = front === undefined ? '' : `: ${front.hop === 'edge' ? 'the edge' : controllerName(ctx)} answers ${front.status ?? front.error ?? '?'}`;
  return {
    hop: 'pod',
    cause: 'pod.reset',
    summary: `${share} accept the connection, read the request, then ${rst ? 'reset' : 'close'} it ${when}: ${podNames(failed)}`,
    evidence: [...evidence, `the TCP connection is accepted (not refused) and ${how} ${when}${answer}`],
  };
}

/** The pods speak another protocol than hopwatch sent: compare with what the controller speaks. */
function protocolPods(ctx: Context, failed: HopResult[], share: string, evidence: string[]): Finding {
  const spoke = mostCommon(failed, (r) => diagnosisOf(ctx, r)?.protocol ?? null) ?? null;
  const sent = failed[0]?.scheme === 'https' ? 'https' : 'http';
  const speaks = ctx.settings?.backendProtocol;
  const theirs = spoke === null ? `something other than ${protocolName(sent)}` : peerProtocolName(spoke);
  const controller = speaks === undefined ? '' : ` where ${controllerName(ctx)} speaks ${protocolName(speaks.value)} (${speaks.source})`;
  const proof = failed.flatMap((r) => {
    const d = diagnosisOf(ctx, r);
    return d?.protocol ? [`${describeTarget(r)}: a request over ${peerProtocolName(d.protocol)} succeeds`] : [];
  });
  return {
    hop: 'pod',
    cause: 'pod.protocol-mismatch',
    summary: `${share} speak ${theirs}${controller}`,
    evidence: [...evidence, ...proof, ...(ctx.settings?.protocolHints ?? [])],
  };
}

function peerProtocolName(protocol: PeerProtocol): string {
  switch (protocol) {
    case 'http1':
      return 'plain HTTP/1.1';
    case 'tls':
      return 'TLS';
    case 'h2c':
      return 'h2c (HTTP/2 with prior knowledge, no TLS)';
  }
}

/** The protocols a pod was seen to speak: what it answered, plus what a diagnostic request succeeded with. */
function podSpeaks(ctx: Context, result: HopResult): Set<PeerProtocol> {
  const spoken = new Set<PeerProtocol>();
  if (result.status !== null && result.error === null) spoken.add(result.scheme === 'https' ? 'tls' : 'http1');
  const diagnosed = diagnosisOf(ctx, result)?.protocol ?? null;
  if (diagnosed !== null) spoken.add(diagnosed);
  return spoken;
}

/** True when the pod was seen to speak what the controller speaks to it. */
function speaksAs(spoken: Set<PeerProtocol>, speaks: BackendProtocol): boolean {
  const wire = wireOf(speaks);
  if (wire.tls) return spoken.has('tls');
  return spoken.has(wire.h2 ? 'h2c' : 'http1');
}

/** True when the pods failed hopwatch only because hopwatch spoke another protocol than the controller does. */
export function hopwatchSpokeOtherProtocol(ctx: Context): boolean {
  const speaks = ctx.settings?.backendProtocol.value;
  const failed = ctx.layers.pod.failed;
  if (speaks === undefined || failed.length === 0) return false;
  return failed.every((r) => (r.error === 'tls' || r.error === 'protocol') && speaksAs(podSpeaks(ctx, r), speaks));
}

// ---------------------------------------------------------------- pods that answer hopwatch, not the controller

/**
 * Pods answer hopwatch, but in a way the controller cannot pass on; null when nothing measured explains
 * the front. A setting inferred from the controller's own answers (measured.ts) outranks the declared one.
 */
export function hiddenPodCause(ctx: Context): Finding | null {
  return headersTooLarge(ctx) ?? measuredSlowPods(ctx) ?? slowPods(ctx) ?? protocolBehindFront(ctx) ?? inferredHeadersTooLarge(ctx);
}

function bufferLine(ctx: Context): string[] {
  const s = ctx.settings;
  return s === null ? [] : [describeSetting(s.name, s.names.proxyBuffer, s.proxyBufferBytes, 'bytes')];
}

function readTimeoutLine(ctx: Context): string[] {
  const s = ctx.settings;
  return s === null ? [] : [describeSetting(s.name, s.names.readTimeout, s.readTimeoutMs, 'ms')];
}

/**
 * How far under the limit a header block measured by hopwatch may still overflow the controller's
 * buffer: hopwatch asks with `Connection: close`, the controller on a kept-alive connection, and
 * servers answer that with more headers (Node: `Connection: keep-alive` and `Keep-Alive: timeout=5`,
 * 46 bytes); some controllers count their own bytes too. Only consulted when the controller fails.
 */
export function headerMargin(limit: number): number {
  return Math.max(256, Math.round(limit * 0.05));
}

function headersTooLarge(ctx: Context): Finding | null {
  const limit = ctx.settings?.proxyBufferBytes.value ?? null;
  if (limit === null) return null;
  const big = ctx.layers.pod.ok.filter((r) => r.headerBytes > limit - headerMargin(limit));
  if (big.length === 0) return null;
  const largest = Math.max(...big.map((r) => r.headerBytes));
  const against = largest > limit
    ? `more than ${controllerName(ctx)} accepts (${formatBytes(limit)})`
    : `within ${formatBytes(limit - largest)} of what ${controllerName(ctx)} accepts (${formatBytes(limit)}), which the headers of a kept-alive answer to the controller pass`;
  return {
    hop: 'pod',
    cause: 'pod.headers-too-large',
    summary: `${big.length} of ${ctx.layers.pod.all.length} pods answer ${big[0]?.status ?? '?'} with a ${formatBytes(largest)} header block, ${against}: it answers ${frontFailures(ctx)[0]?.status ?? 'an error'} instead`,
    evidence: [
      ...big.map((r) => `${describeTarget(r)}: ${r.status ?? '?'} with a response header block of ${formatBytes(r.headerBytes)}`),
      ...bufferLine(ctx),
      ...frontFailures(ctx).slice(0, 2).map(describeResult),
    ],
  };
}

/** The pods answer, after the controller's read timeout: it gave up first (504). */
function slowPods(ctx: Context): Finding | null {
  const limit = ctx.settings?.readTimeoutMs.value ?? null;
  if (limit === null) return null;
  const slow = ctx.layers.pod.ok.filter((r) => (r.timings.ttfbMs ?? 0) > limit);
  const gaveUp = frontFailures(ctx).some((r) => r.status === 504 || r.error === 'timeout');
  if (slow.length === 0 || !gaveUp) return null;
  const slowest = Math.round(Math.max(...slow.map((r) => r.timings.ttfbMs ?? 0)));
  const front = frontFailures(ctx).find((r) => r.status !== null);
  // What the front did: its 504, or (it kept retrying other slow pods) no answer before hopwatch's own deadline.
  const outcome = front !== undefined ? `it answers ${front.status ?? ''}` : 'it had not answered when hopwatch gave up (it retries the next pod, which is as slow)';
  return {
    hop: 'pod',
    cause: 'pod.timeout',
    summary: `${slow.length} of ${ctx.layers.pod.all.length} pods send their first byte after ${slowest} ms, past ${controllerName(ctx)}'s ${limit} ms ${ctx.settings?.names.readTimeout ?? 'read timeout'}: ${outcome}`,
    evidence: [...frontFailures(ctx).map(describeResult), ...slow.map(describeResult), ...readTimeoutLine(ctx)],
  };
}

/**
 * Some pods answer after the controller's read timeout while the front still answers (it retried
 * another pod): a risk before any 504. The requests those pods get wait the whole timeout, and
 * the ones the controller does not retry (POST, or no pod left to try) get a 504.
 */
export function slowPodsRetried(ctx: Context): Finding | null {
  const s = ctx.settings;
  const limit = s?.readTimeoutMs.value ?? null;
  if (s === null || limit === null || hasFrontFailures(ctx)) return null;
  const slow = ctx.layers.pod.ok.filter((r) => (r.timings.ttfbMs ?? 0) > limit);
  if (slow.length === 0 || slow.length === ctx.layers.pod.all.length) return null;
  const slowest = Math.round(Math.max(...slow.map((r) => r.timings.ttfbMs ?? 0)));
  return {
    hop: 'pod',
    cause: 'pod.timeout',
    summary: `${slow.length} of ${ctx.layers.pod.all.length} pods send their first byte after ${slowest} ms, past ${s.name}'s ${limit} ms ${s.names.readTimeout}: requests they get wait that long and are retried on another pod, or get a 504 when they are not retried`,
    evidence: [...slow.map(describeResult), ...ctx.layers.front.ok.slice(0, 1).map(describeResult), ...readTimeoutLine(ctx), `${s.name} ${s.retries.summary}`],
  };
}

/** The pods answer what hopwatch sent, which is not what the controller speaks. */
function protocolBehindFront(ctx: Context): Finding | null {
  const speaks = ctx.settings?.backendProtocol;
  if (speaks === undefined) return null;
  const other = ctx.layers.pod.ok.filter((r) => r.status !== null && !speaksAs(podSpeaks(ctx, r), speaks.value));
  const first = other[0];
  if (first === undefined) return null;
  const wire = wireOf(speaks.value);
  const spoken = podSpeaks(ctx, first);
  const theirs = spoken.has('tls') ? 'TLS' : wire.h2 ? 'only HTTP/1.1 (an h2c prior-knowledge request fails)' : 'plain HTTP/1.1';
  return {
    hop: 'pod',
    cause: 'pod.protocol-mismatch',
    summary: `${other.length} of ${ctx.layers.pod.all.length} pods speak ${theirs} where ${controllerName(ctx)} speaks ${protocolName(speaks.value)} (${speaks.source})`,
    evidence: [...other.slice(0, 2).map(describeResult), ...frontFailures(ctx).slice(0, 2).map(describeResult), ...(ctx.settings?.protocolHints ?? [])],
  };
}

// ---------------------------------------------------------------- a risk before any 502

/** Pods close idle keep-alive connections sooner than the controller stops reusing them. */
export function keepaliveRace(ctx: Context): Finding | null {
  const s = ctx.settings;
  const window = s?.upstreamKeepaliveTimeoutMs.value ?? null;
  if (s === null || window === null || window <= 0) return null;
  const inRotation = new Set(ctx.layers.pod.all.map((r) => `${r.target}|${r.pod ?? ''}`));
  const racing = ctx.diagnoses.flatMap((d) =>
    (d.idleTimeout?.kind === 'closed' || d.idleTimeout?.kind === 'announced') && d.idleTimeout.afterMs < window && inRotation.has(`${d.target}|${d.pod ?? ''}`)
      ? [{ d, afterMs: d.idleTimeout.afterMs, announced: d.idleTimeout.kind === 'announced' }]
      : [],
  );
  if (racing.length === 0) return null;
  const soonest = Math.min(...racing.map((r) => r.afterMs));
  const post = s.retries.retriesNonIdempotent ? '' : ' (POST and other non-idempotent requests are not retried)';
  return {
    hop: 'pod',
    cause: 'pod.keepalive-race',
    summary: `${racing.length} of ${ctx.layers.pod.all.length} pods close idle keep-alive connections after ${soonest} ms, while ${s.name} reuses them for up to ${window} ms: a request sent as the pod closes gets a 502${post}`,
    evidence: [
      ...racing.map(({ d, afterMs, announced }) =>
        announced
          ? `pod ${d.pod ?? d.target} (${d.target}): announces Keep-Alive: timeout=${afterMs / 1000} (closes idle connections after ${afterMs} ms)`
          : `pod ${d.pod ?? d.target} (${d.target}): closes an idle keep-alive connection ${afterMs} ms after its response`,
      ),
      describeSetting(s.name, s.names.keepalive, s.upstreamKeepaliveTimeoutMs, 'ms'),
      `${s.name} ${s.retries.summary}`,
    ],
  };
}

// ---------------------------------------------------------------- rollouts

/** The revision a pod belongs to: its ReplicaSet, else its pod-template-hash. */
function revisionOf(pod: PodFacts): string {
  return pod.replicaSet ?? pod.templateHash ?? '(none)';
}

/** The failures that line up with a rollout: terminating pods of a revision that is going away fail, while another revision answers. */
export function rolloutDrain(ctx: Context, failed: readonly HopResult[]): Finding | null {
  const dropping = failed.filter((r) => r.error === 'refused' || r.error === 'reset');
  const pods = podsOf(ctx.backend, dropping);
  const answering = podsOf(ctx.backend, ctx.layers.pod.ok);
  if (dropping.length === 0 || pods.length < dropping.length || dropping.length < failed.length || answering.length === 0) return null;
  // Only pods on their way out drain: a new revision's pods that refuse are a broken version (a canary), not a drain.
  if (!pods.every((p) => p.terminating) && !dropping.every((r) => r.terminating === true)) return null;
  const goingAway = new Set(pods.map(revisionOf));
  const staying = new Set(answering.map(revisionOf));
  // A revision that both fails and answers is not draining; crash-looping pods are broken, not draining.
  if ([...goingAway].some((r) => staying.has(r)) || pods.some((p) => p.restarts > 0 || p.stateReason !== null)) return null;
  return {
    hop: 'pod',
    cause: 'rollout.drain',
    summary: `a rollout is replacing ${[...goingAway].join(', ')} with ${[...staying].join(', ')}: ${pods.length} old pods stop answering while the controller still sends them requests (no preStop delay): ${podNames(dropping)}`,
    evidence: [
      ...dropping.map(describeResult),
      ...pods.map(describePod),
      `rollout: ReplicaSet ${[...goingAway].join(', ')} (${pods.length} pods going away) -> ${[...staying].join(', ')} (${answering.length} pods answering)`,
      'the pods are terminating and already refuse while the controller still sends them requests: they exit before the endpoint update reaches it (no preStop delay covering it)',
      ...(ctx.at === null ? [] : [`window: seen at ${new Date(ctx.at).toISOString()}, until the old pods are gone from every controller's upstreams`]),
    ],
  };
}
