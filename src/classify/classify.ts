// Pure: a route's hop results plus the Kubernetes facts around it -> a Verdict.
//
// The verdict names the hop where the failure starts: walking from the pods
// outward along the controller's chain (pod -> controller -> edge, or pod ->
// service -> controller -> edge when the controller proxies to the ClusterIP),
// the first layer that fails while the layer inside it succeeds. Static facts
// (a missing Service, a port that does not exist, a NetworkPolicy) explain a
// probe failure; they are never reported on their own while the probes pass.

import type { Cause, HopResult, PodFacts, Route, Verdict, VerdictHop, VerdictStatus } from '../model.js';
import { describePod, describeResult, describeServicePort } from './evidence.js';
import { hasFailures, type Layer, type Layers, layersOf } from './layers.js';

/** A cause that fits the evidence. */
export interface Finding {
  /** Where the failure starts. */
  hop: VerdictHop;
  /** The stable cause id. */
  cause: Cause;
  /** One line for humans. */
  summary: string;
  /** Lines that prove it. */
  evidence: string[];
}

/** What every rule sees. */
export interface Context {
  /** The route and its facts. */
  route: Route;
  /** The round's results, grouped and judged. */
  layers: Layers;
}

const CRASH_REASONS = new Set(['CrashLoopBackOff', 'Error', 'OOMKilled', 'RunContainerError', 'CreateContainerError']);

function routeName(route: Route): string {
  return `${route.namespace}/${route.ingress} ${route.host ?? '*'}${route.path}`;
}

function podsOf(route: Route, results: HopResult[]): PodFacts[] {
  const names = new Set(results.map((r) => r.pod));
  return route.pods.filter((p) => names.has(`${p.namespace}/${p.name}`));
}

function podNames(results: HopResult[]): string {
  return results.map((r) => r.pod ?? r.target).join(', ');
}

function mostCommonError(results: HopResult[]): HopResult['error'] {
  const counts = new Map<HopResult['error'], number>();
  for (const r of results) counts.set(r.error, (counts.get(r.error) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
}

function isCrashing(pod: PodFacts): boolean {
  return !pod.ready && (pod.restarts > 0 || (pod.stateReason !== null && CRASH_REASONS.has(pod.stateReason)));
}

/** The Service's targetPort is a name no pod declares, or a number the pods' declared ports do not include. */
export function targetPortMismatch(route: Route): string | null {
  const target = route.servicePort?.targetPort;
  if (target === undefined || route.pods.length === 0) return null;
  const declared = route.pods.flatMap((p) => p.containerPorts);
  if (typeof target === 'string') {
    if (declared.some((p) => p.name === target)) return null;
    return `no container of the selected pods declares a port named "${target}" (declared: ${listPorts(route)})`;
  }
  if (declared.length === 0 || declared.some((p) => p.port === target)) return null;
  return `targetPort ${target} is not a declared container port (declared: ${listPorts(route)})`;
}

function listPorts(route: Route): string {
  const ports = new Set(route.pods.flatMap((p) => p.containerPorts.map((c) => (c.name ? `${c.port}/${c.name}` : `${c.port}`))));
  return [...ports].join(', ') || 'none';
}

// ---------------------------------------------------------------- static config

function configFinding(ctx: Context): Finding | null {
  const { route } = ctx;
  if (!route.controller) {
    const lb = route.loadBalancer.length ? `status.loadBalancer is ${route.loadBalancer.join(', ')}` : 'status.loadBalancer is empty';
    return {
      hop: 'config',
      cause: 'config.no-controller',
      summary: `no ingress controller serves class "${route.ingressClass ?? '(none)'}"`,
      evidence: [`Ingress ${route.namespace}/${route.ingress} has class ${route.ingressClass ?? '(none)'}; ${lb}`],
    };
  }
  if (!route.service) {
    return {
      hop: 'config',
      cause: 'config.service-missing',
      summary: `backend Service ${route.namespace}/${route.backend.service} does not exist`,
      evidence: [describeServicePort(route)],
    };
  }
  if (!route.servicePort) {
    return {
      hop: 'config',
      cause: 'config.port-mismatch',
      summary: `Ingress backend port ${route.backend.port} is not a port of Service ${route.service.name}`,
      evidence: [describeServicePort(route)],
    };
  }
  return null;
}

// ---------------------------------------------------------------- pods

function noReadyEndpoints(ctx: Context): Finding {
  const { route } = ctx;
  const crashing = route.pods.filter(isCrashing);
  const notReady = route.pods.filter((p) => !p.ready);
  if (crashing.length > 0 || notReady.length > 0) {
    const pods = crashing.length > 0 ? crashing : notReady;
    const verb = crashing.length > 0 ? 'are crash-looping' : 'never become ready';
    return {
      hop: 'pod',
      cause: 'pod.crashloop',
      summary: `no ready endpoint: ${pods.length} of ${route.pods.length} pods ${verb}`,
      evidence: pods.map(describePod),
    };
  }
  const mismatch = targetPortMismatch(route);
  if (mismatch) {
    return { hop: 'config', cause: 'config.port-mismatch', summary: mismatch, evidence: [describeServicePort(route)] };
  }
  const selector = Object.entries(route.service?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  return {
    hop: 'service',
    cause: 'config.no-endpoints',
    summary: `Service ${route.namespace}/${route.backend.service} has no endpoints: its selector matches no pod`,
    evidence: [selector ? `selector ${selector} matches no pod in ${route.namespace}` : 'the Service has no selector and no EndpointSlice', describeServicePort(route)],
  };
}

function failingPods(ctx: Context): Finding {
  const { route, layers } = ctx;
  const failed = layers.pod.failed;
  const share = `${failed.length} of ${layers.pod.all.length} pods`;
  const evidence = [...failed.map(describeResult), describeServicePort(route)];
  const crashing = podsOf(route, failed).filter((p) => p.restarts > 0 || p.stateReason !== null);
  const error = mostCommonError(failed);
  if (error === 'refused') {
    const mismatch = targetPortMismatch(route);
    if (mismatch) return { hop: 'config', cause: 'config.port-mismatch', summary: mismatch, evidence };
    if (crashing.length > 0) {
      return { hop: 'pod', cause: 'pod.crashloop', summary: `${share} refuse while restarting`, evidence: [...evidence, ...crashing.map(describePod)] };
    }
    return { hop: 'pod', cause: 'pod.refused', summary: `${share} refuse connections on their target port: ${podNames(failed)}`, evidence };
  }
  if (error === null) {
    const status = failed[0]?.status ?? 0;
    return { hop: 'pod', cause: 'pod.app-error', summary: `${share} answer ${status} themselves: the application fails, not a gateway`, evidence };
  }
  return { hop: 'pod', cause: 'route.unexplained', summary: `${share} fail with ${error}`, evidence };
}

// ---------------------------------------------------------------- hops in front of the pods

function controllerFailure(ctx: Context): Finding {
  const { route, layers } = ctx;
  const blocking = route.policies.filter((p) => !p.admitsController);
  const inside = layers.pod.ok[0] ?? layers.service.ok[0];
  const evidence = [...layers.controller.failed.map(describeResult), ...(inside ? [describeResult(inside)] : [])];
  if (blocking.length > 0 && layers.pod.state === 'ok') {
    const names = blocking.map((p) => `${p.namespace}/${p.name}`).join(', ');
    return {
      hop: 'network',
      cause: 'network.blocked',
      summary: `pods answer hopwatch but the controller cannot reach them: NetworkPolicy ${names} admits nothing from the controller`,
      evidence: [...evidence, ...blocking.map((p) => `NetworkPolicy ${p.namespace}/${p.name} selects the backend pods and does not admit the controller's pods`)],
    };
  }
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
  const { layers } = ctx;
  return {
    hop: 'service',
    cause: 'service.unreachable',
    summary: `the Service ClusterIP fails while the pods answer directly`,
    evidence: [...layers.service.failed.map(describeResult), ...layers.pod.ok.slice(0, 1).map(describeResult), describeServicePort(ctx.route)],
  };
}

function edgeFailure(ctx: Context): Finding {
  const { layers } = ctx;
  return {
    hop: 'edge',
    cause: 'edge.error',
    summary: `the edge fails while every controller pod answers`,
    evidence: [...layers.edge.failed.map(describeResult), ...layers.controller.ok.slice(0, 1).map(describeResult)],
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

// ---------------------------------------------------------------- the walk

/** Walks from the pods outward along the controller's chain; the first failing layer names the cause. */
function explainFrontFailure(ctx: Context): Finding {
  const { route, layers } = ctx;
  if (route.service?.type === 'ExternalName') {
    const dns = dnsFailure(ctx);
    if (dns) return dns;
  }
  if (layers.pod.state === 'absent' && route.service?.type !== 'ExternalName') return noReadyEndpoints(ctx);
  if (layers.pod.state === 'failed') return failingPods(ctx);
  const viaService = route.controller?.upstream === 'service' || route.service?.type === 'ExternalName';
  if (viaService && hasFailures(layers.service) && layers.pod.state !== 'partial') return serviceFailure(ctx);
  if (hasFailures(layers.controller)) return controllerFailure(ctx);
  if (layers.pod.state === 'partial') return failingPods(ctx);
  if (hasFailures(layers.edge) && layers.controller.state === 'ok') return edgeFailure(ctx);
  return {
    hop: 'edge',
    cause: 'route.unexplained',
    summary: 'users get a failure that no hop inside explains',
    evidence: layers.front.failed.map(describeResult),
  };
}

/** The front works; finds the innermost hop that fails anyway. */
function explainDegraded(ctx: Context): Finding | null {
  const { layers } = ctx;
  if (hasFailures(layers.pod)) return failingPods(ctx);
  if (hasFailures(layers.service)) return serviceFailure(ctx);
  if (hasFailures(layers.controller)) return controllerFailure(ctx);
  if (hasFailures(layers.edge)) return edgeFailure(ctx);
  return dnsFailure(ctx);
}

function verdictOf(status: VerdictStatus, finding: Finding, front: Layer, others: Finding[]): Verdict {
  const frontLine = front.all.slice(0, 1).map(describeResult);
  const evidence = [...new Set([...frontLine, ...finding.evidence, ...others.map((o) => `also: ${o.summary}`)])];
  return { status, hop: finding.hop, cause: finding.cause, summary: finding.summary, evidence };
}

/** Classifies one round of one route. */
export function classify(route: Route, results: HopResult[]): Verdict {
  if (route.notProbeable !== null) {
    return { status: 'unknown', hop: null, cause: 'route.not-probeable', summary: route.notProbeable, evidence: [] };
  }
  const ctx: Context = { route, layers: layersOf(route, results) };
  const config = configFinding(ctx);
  const front = ctx.layers.front;
  if (config?.cause === 'config.no-controller' && route.loadBalancer.length > 0 && front.state === 'absent') {
    // Something serves the class (the Ingress has an address), just not a controller hopwatch is configured for.
    return { ...verdictOf('unknown', config, front, []), summary: `class "${route.ingressClass ?? '(none)'}" is served by a controller hopwatch is not configured to probe` };
  }
  if (config && front.state !== 'ok') return verdictOf('failing', config, front, []);
  if (front.state === 'failed' || front.state === 'partial') {
    const finding = explainFrontFailure(ctx);
    const extra = [dnsFailure(ctx)].filter((f): f is Finding => f !== null && f.cause !== finding.cause);
    return verdictOf('failing', finding, front, extra);
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
  const degraded = explainDegraded(ctx);
  if (degraded) return verdictOf('degraded', degraded, front, []);
  return { status: 'ok', hop: null, cause: 'ok', summary: `${routeName(route)} answers ${front.ok[0]?.status ?? ''} through every hop`, evidence: [] };
}
