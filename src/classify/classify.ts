// Pure: a route's hop results plus the Kubernetes facts around it -> a Verdict.
//
// The verdict names the hop where the failure starts: walking from the pods
// outward along the controller's chain (pod -> controller -> edge, or pod ->
// service -> controller -> edge when the controller proxies to the ClusterIP),
// the first layer that fails while the layer inside it succeeds. Static facts
// (a missing Service, a port that does not exist, a NetworkPolicy) explain a
// probe failure; they are never reported on their own while the probes pass.
// When the pods answer hopwatch but the controller fails, what was measured of
// the pods' answers (header size, time to first byte, protocol) is compared with
// the controller's settings (knowledge.ts) before the controller is blamed; a
// pod idle timeout shorter than the controller's keep-alive is a risk (degraded)
// even before any 502. The most specific cause wins; others go to the evidence.

import type { Backend, HopResult, PodDiagnosis, PodFacts, Route, Verdict, VerdictStatus } from '../model.js';
import { combineBackends, resultsOfBackend } from './backends.js';
import { type Context, type Finding, podNames } from './context.js';
import { describePod, describeResult, describeServicePort } from './evidence.js';
import { conflictFinding, gatewayFinding } from './gateway-causes.js';
import { controllerSettings } from './knowledge.js';
import { hasFailures, type Layer, layersOf } from './layers.js';
import { conflictStatus, routeConflict } from './conflict.js';
import { notReadyAnswers, notReadySummary } from './readiness.js';
import { statusOfFailure } from './share.js';
import { failingPodsCause, hiddenPodCause, hopwatchSpokeOtherProtocol, keepaliveRace, rolloutDrain, slowPodsRetried, targetPortMismatch } from './pod-causes.js';

export type { Context, Finding } from './context.js';
export { targetPortMismatch } from './pod-causes.js';

const CRASH_REASONS = new Set(['CrashLoopBackOff', 'Error', 'OOMKilled', 'RunContainerError', 'CreateContainerError']);

function routeName(route: Route): string {
  return `${route.namespace}/${route.ingress} ${route.host ?? '*'}${route.path}`;
}

function isCrashing(pod: PodFacts): boolean {
  return !pod.ready && (pod.restarts > 0 || (pod.stateReason !== null && CRASH_REASONS.has(pod.stateReason)));
}

// ---------------------------------------------------------------- static config

function configFinding(ctx: Context): Finding | null {
  const { route, backend } = ctx;
  if (!route.controller) {
    const lb = route.loadBalancer.length ? `status.loadBalancer is ${route.loadBalancer.join(', ')}` : 'status.loadBalancer is empty';
    return {
      hop: 'config',
      cause: 'config.no-controller',
      summary: `no ingress controller serves class "${route.ingressClass ?? '(none)'}"`,
      evidence: [`Ingress ${route.namespace}/${route.ingress} has class ${route.ingressClass ?? '(none)'}; ${lb}`],
    };
  }
  if (!backend.service) {
    return {
      hop: 'config',
      cause: 'config.service-missing',
      summary: `backend Service ${backend.ref.namespace}/${backend.ref.service} does not exist`,
      evidence: [describeServicePort(backend)],
    };
  }
  if (!backend.servicePort) {
    return {
      hop: 'config',
      cause: 'config.port-mismatch',
      summary: `${backend.source.kind} backend port ${backend.ref.port} is not a port of Service ${backend.service.name}`,
      evidence: [describeServicePort(backend)],
    };
  }
  return null;
}

// ---------------------------------------------------------------- pods

function noReadyEndpoints(ctx: Context): Finding {
  const { backend } = ctx;
  const crashing = backend.pods.filter(isCrashing);
  const notReady = backend.pods.filter((p) => !p.ready);
  if (crashing.length > 0 || notReady.length > 0) {
    const pods = crashing.length > 0 ? crashing : notReady;
    const verb = crashing.length > 0 ? 'are crash-looping' : 'never become ready';
    return {
      hop: 'pod',
      cause: 'pod.crashloop',
      summary: `no ready endpoint: ${pods.length} of ${backend.pods.length} pods ${verb}${notReadySummary(ctx)}`,
      evidence: [...pods.map(describePod), ...notReadyAnswers(ctx)],
    };
  }
  const mismatch = targetPortMismatch(backend);
  if (mismatch) {
    return { hop: 'config', cause: 'config.port-mismatch', summary: mismatch, evidence: [describeServicePort(backend)] };
  }
  if (backend.pods.length > 0) {
    // Every selected pod is ready, yet none is a ready endpoint of this port (an EndpointSlice that lags): not "no pod".
    return {
      hop: 'service',
      cause: 'config.no-endpoints',
      summary: `Service ${backend.ref.namespace}/${backend.ref.service} has no ready endpoint although its selector matches ${backend.pods.length} ready pods`,
      evidence: [...backend.pods.map(describePod), describeServicePort(backend)],
    };
  }
  const selector = Object.entries(backend.service?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  return {
    hop: 'service',
    cause: 'config.no-endpoints',
    summary: `Service ${backend.ref.namespace}/${backend.ref.service} has no endpoints: its selector matches no pod`,
    evidence: [selector ? `selector ${selector} matches no pod in ${backend.ref.namespace}` : 'the Service has no selector and no EndpointSlice', describeServicePort(backend)],
  };
}

// ---------------------------------------------------------------- hops in front of the pods

function controllerEvidence(ctx: Context): string[] {
  const { layers } = ctx;
  const inside = layers.pod.ok[0] ?? layers.service.ok[0];
  return [...layers.controller.failed.map(describeResult), ...(inside ? [describeResult(inside)] : [])];
}

/** Pods answer hopwatch while the NetworkPolicies that select them admit nothing from the controller. */
function blockedByPolicy(ctx: Context): Finding | null {
  // Policies add up: one that admits the controller opens the pods to it, whatever the others deny.
  const policies = ctx.backend.policies;
  if (policies.length === 0 || policies.some((p) => p.admitsController) || ctx.layers.pod.state !== 'ok') return null;
  const blocking = policies;
  const names = blocking.map((p) => `${p.namespace}/${p.name}`).join(', ');
  return {
    hop: 'network',
    cause: 'network.blocked',
    summary: `pods answer hopwatch but the controller cannot reach them: NetworkPolicy ${names} admits nothing from the controller`,
    evidence: [...controllerEvidence(ctx), ...blocking.map((p) => `NetworkPolicy ${p.namespace}/${p.name} selects the backend pods and does not admit the controller's pods`)],
  };
}

function controllerFailure(ctx: Context): Finding {
  const { layers } = ctx;
  const evidence = controllerEvidence(ctx);
  if (layers.controller.state === 'partial') {
    return {
      hop: 'controller',
      cause: 'controller.replica-divergence',
      summary: `${layers.controller.failed.length} of ${layers.controller.all.length} controller pods fail while the others answer: ${podNames(layers.controller.failed)}`,
      evidence: [...evidence, ...layers.controller.ok.slice(0, 1).map(describeResult)],
    };
  }
  return {
    hop: 'controller',
    cause: 'controller.error',
    summary: `every controller pod fails (${layers.controller.failed[0]?.status ?? layers.controller.failed[0]?.error ?? '?'}) while the pods behind it answer`,
    evidence,
  };
}

function serviceFailure(ctx: Context): Finding {
  const { layers, backend } = ctx;
  const external = backend.service?.externalName ?? null;
  return {
    hop: 'service',
    cause: 'service.unreachable',
    // An ExternalName Service has neither a ClusterIP nor pods: what fails is the name it points at.
    summary: external !== null ? `the ExternalName target ${external} fails (${describeFailure(layers.service.failed[0])})` : `the Service ClusterIP fails while the pods answer directly`,
    evidence: [...layers.service.failed.map(describeResult), ...layers.pod.ok.slice(0, 1).map(describeResult), describeServicePort(ctx.backend)],
  };
}

function edgeFailure(ctx: Context): Finding {
  const { layers } = ctx;
  const generator = layers.edge.failed.find((r) => r.generator !== null)?.generator;
  const page = generator ? ` (its own ${generator} error page)` : '';
  return {
    hop: 'edge',
    cause: 'edge.error',
    summary: `the edge fails${page} while every controller pod answers`,
    evidence: [...layers.edge.failed.map(describeResult), ...layers.controller.ok.slice(0, 1).map(describeResult)],
  };
}

/** A 5xx that is the app's own answer passed through (not a gateway's page) is the pods' failure, not the layer's. */
function passedThrough(ctx: Context, layer: Layer): Finding | null {
  const passed = layer.failed.filter((r) => r.generator === 'upstream' && r.status !== null && r.status >= 500);
  if (passed.length === 0 || passed.length < layer.failed.length) return null;
  return {
    hop: 'pod',
    cause: 'pod.app-error',
    summary: `the ${passed[0]?.status ?? ''} at the ${passed[0]?.hop ?? ''} is the application's own answer passed through, not a gateway's error page`,
    evidence: [...passed.map(describeResult), ...ctx.layers.pod.all.slice(0, 2).map(describeResult)],
  };
}

function dnsFailure(ctx: Context): Finding | null {
  const failed = ctx.layers.dns.failed;
  if (failed.length === 0) return null;
  const name = failed[0]?.target ?? '?';
  return {
    hop: 'dns',
    cause: 'dns.failure',
    summary: `${name} does not resolve`,
    evidence: failed.map(describeResult),
  };
}

/** "refused", "502", "dns": the short form of a failed result. */
function describeFailure(result: HopResult | undefined): string {
  if (result === undefined) return '?';
  return result.error ?? String(result.status ?? '?');
}

// ---------------------------------------------------------------- the walk

/** The controller fails while the pods answer hopwatch: a policy, the pods' hidden answers, a drain, the app's 5xx passed through, or the controller itself. */
function behindController(ctx: Context): Finding {
  const blocked = blockedByPolicy(ctx);
  if (blocked) return blocked;
  const draining = ctx.layers.podOutOfRotation.failed.filter((r) => r.terminating === true);
  const drain = draining.length > 0 ? rolloutDrain(ctx, draining) : null;
  return drain ?? hiddenPodCause(ctx) ?? passedThrough(ctx, ctx.layers.controller) ?? controllerFailure(ctx);
}

/** Walks from the pods outward along the controller's chain; the first failing layer names the cause. */
function explainFrontFailure(ctx: Context): Finding {
  const { backend, layers } = ctx;
  if (backend.service?.type === 'ExternalName') {
    const dns = dnsFailure(ctx);
    if (dns) return dns;
  }
  if (layers.pod.state === 'absent' && backend.service?.type !== 'ExternalName') return noReadyEndpoints(ctx);
  // Some or all pods fail: the walk from the pods outward starts there; a controller failing in
  // front of them most likely passes their failures on (retries that ran out).
  if (hasFailures(layers.pod)) return failingPodsCause(ctx);
  const viaService = ctx.settings?.upstream.value === 'service' || backend.service?.type === 'ExternalName';
  if (viaService && hasFailures(layers.service)) return serviceFailure(ctx);
  if (hasFailures(layers.controller)) return behindController(ctx);
  if (hasFailures(layers.edge) && layers.controller.state === 'ok') return passedThrough(ctx, layers.edge) ?? edgeFailure(ctx);
  return {
    hop: 'edge',
    cause: 'route.unexplained',
    summary: 'users get a failure that no hop inside explains',
    evidence: layers.front.failed.map(describeResult),
  };
}

/** The front works; finds the innermost hop that fails anyway, else a risk the measurements show. */
function explainDegraded(ctx: Context): Finding | null {
  const { layers } = ctx;
  if (hasFailures(layers.pod)) return failingPodsCause(ctx);
  if (hasFailures(layers.service)) return serviceFailure(ctx);
  if (hasFailures(layers.controller)) return behindController(ctx);
  if (hasFailures(layers.edge)) return edgeFailure(ctx);
  return dnsFailure(ctx) ?? slowPodsRetried(ctx) ?? keepaliveRace(ctx);
}

function verdictOf(status: VerdictStatus, finding: Finding, front: Layer, others: Finding[]): Verdict {
  const frontLine = front.all.slice(0, 1).map(describeResult);
  const evidence = [...new Set([...frontLine, ...finding.evidence, ...others.map((o) => `also: ${o.summary}`)])];
  return { status, hop: finding.hop, cause: finding.cause, summary: finding.summary, evidence };
}

/** The other findings worth a line: DNS and a keep-alive race, unless they are the finding itself. */
function alsoFindings(ctx: Context, finding: Finding): Finding[] {
  return [dnsFailure(ctx), keepaliveRace(ctx)].filter((f): f is Finding => f !== null && f.cause !== finding.cause);
}

/** Facts of a round besides the hop results. */
export interface RoundFacts {
  /** What the extra diagnostic requests learned about the pods (src/probe/diagnose.ts). */
  diagnoses?: readonly PodDiagnosis[];
  /** When the round started (ms since epoch), for evidence. */
  at?: number;
}

/** The round's context for one backend; pods that failed only because hopwatch spoke another protocol than the controller count as answering. */
function contextOf(route: Route, backend: Backend, results: HopResult[], facts: RoundFacts): Context {
  const ctx: Context = { route, backend, layers: layersOf(route, results), settings: controllerSettings(route, backend), diagnoses: facts.diagnoses ?? [], at: facts.at ?? null };
  if (!hopwatchSpokeOtherProtocol(ctx)) return ctx;
  // The ClusterIP forwards to the same pods: its TLS or protocol failures are hopwatch's too.
  const accept = (layer: Layer): Layer => {
    const other = layer.failed.filter((r) => r.error === 'tls' || r.error === 'protocol');
    const failed = layer.failed.filter((r) => !other.includes(r));
    return { ...layer, ok: [...layer.ok, ...other], failed, state: failed.length === 0 ? 'ok' : layer.ok.length + other.length === 0 ? 'failed' : 'partial' };
  };
  return { ...ctx, layers: { ...ctx.layers, pod: accept(ctx.layers.pod), service: accept(ctx.layers.service) } };
}

/** A route without any backend (not probeable anyway): a backend that names nothing. */
function noBackend(route: Route): Backend {
  return {
    key: `${route.namespace}/:0`, ref: { namespace: route.namespace, service: '', port: 0 }, weight: 100, share: 1, role: 'primary',
    source: { kind: route.kind, namespace: route.namespace, name: route.name }, selector: null, problem: null,
    service: null, servicePort: null, endpoints: [], pods: [], policies: [],
  };
}

/**
 * Classifies one round of one route: the walk per backend over that backend's hops (and the front
 * requests that reach it), then the backends' verdicts combined (backends.ts). A route with one
 * backend is that backend's walk.
 */
export function classify(route: Route, results: HopResult[], facts: RoundFacts = {}): Verdict {
  if (route.notProbeable !== null) {
    return { status: 'unknown', hop: null, cause: 'route.not-probeable', summary: route.notProbeable, evidence: [] };
  }
  if (route.backends.length <= 1) return walk(contextOf(route, route.backends[0] ?? noBackend(route), results, facts));
  const judged = route.backends.map((backend) => {
    const ctx = contextOf(route, backend, resultsOfBackend(route, backend, results), facts);
    const config = configFinding(ctx);
    // A missing controller is the route's, not a backend's: the walk reports it.
    return { backend, ctx, verdict: walk(ctx), config: config?.cause === 'config.no-controller' ? null : config };
  });
  return combineBackends(route, judged);
}

/** The walk for one backend: config, then the front, then what fails behind a working front. */
function walk(ctx: Context): Verdict {
  const { route } = ctx;
  const front = ctx.layers.front;
  const conflict = routeConflict(ctx);
  if (conflict !== null && front.state !== 'absent' && front.state !== 'unknown') return verdictOf(conflictStatus(front.state !== 'ok'), conflict, front, []);
  const config = configFinding(ctx);
  if (config?.cause === 'config.no-controller' && route.loadBalancer.length > 0 && front.state === 'absent') {
    // Something serves the class (the Ingress has an address), just not a controller hopwatch is configured for.
    return { ...verdictOf('unknown', config, front, []), summary: `class "${route.ingressClass ?? '(none)'}" is served by a controller hopwatch is not configured to probe` };
  }
  // What a Gateway implementation wrote explains a failing front before the generic config facts.
  const gateway = front.state === 'ok' ? null : gatewayFinding(ctx);
  if (gateway) return verdictOf('failing', gateway, front, config && config.cause !== gateway.cause ? [config] : []);
  if (config && front.state !== 'ok') return verdictOf('failing', config, front, []);
  if (front.state === 'failed' || front.state === 'partial') {
    const finding = explainFrontFailure(ctx);
    return verdictOf(statusOfFailure(ctx, finding), finding, front, alsoFindings(ctx, finding));
  }
  if (front.state !== 'ok') {
    return {
      status: 'unknown',
      hop: null,
      cause: 'route.unexplained',
      summary: `could not probe ${routeName(route)}: neither the edge nor a controller pod was reachable`,
      evidence: front.all.map(describeResult),
    };
  }
  const degraded = explainDegraded(ctx) ?? conflictFinding(ctx);
  if (degraded) return verdictOf('degraded', degraded, front, alsoFindings(ctx, degraded));
  return { status: 'ok', hop: null, cause: 'ok', summary: `${routeName(route)} answers ${front.ok[0]?.status ?? ''} through every hop`, evidence: [] };
}
