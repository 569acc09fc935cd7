// Small hand-made routes and rounds for the store's tests (the generator makes big ones).

import { onlyBackend } from './generate.js';
import type { HopResult, Route, RouteRound, Verdict, VerdictStatus } from '../model.js';

/** A route with the given namespace and name; every other field a plain default. */
export function fixtureRoute(namespace: string, ingress: string, overrides: Partial<Route> = {}): Route {
  const host = `${ingress}.example.test`;
  return {
    id: `${namespace}/${ingress}/${host}/`, kind: 'Ingress', namespace, name: ingress, ingress,
    parent: { kind: 'IngressClass', namespace: null, name: 'nginx', sectionName: null, port: null },
    backends: [onlyBackend(namespace, ingress, ingress, 'http')],
    ingressClass: 'nginx', host, path: '/', pathType: 'Prefix', tls: false, defaultBackend: false,
    probe: { path: '/', hostHeader: host, expectStatus: null, ignore: false, schedule: null }, notProbeable: null,
    controller: null, loadBalancer: [], annotations: {},
    ...overrides,
  };
}

/** A hop result with every field set (timings at the store's 0.1 ms resolution). */
export function fixtureHop(overrides: Partial<HopResult> = {}): HopResult {
  return {
    hop: 'edge', target: '127.0.0.80:18080', address: '127.0.0.80', port: 18080, scheme: 'http', pod: null, ready: null,
    terminating: null, status: 200, error: null, errorDetail: null,
    timings: { connectMs: 0.4, ttfbMs: 3.1, totalMs: 3.7 }, bytes: 612, headerBytes: 230,
    headers: { server: 'nginx', 'content-type': 'text/plain' }, generator: 'upstream', addresses: [], backend: null, ...overrides,
  };
}

const VERDICTS: Record<VerdictStatus, Verdict> = {
  ok: { status: 'ok', hop: null, cause: 'ok', summary: 'every hop answers', evidence: [] },
  degraded: { status: 'degraded', hop: 'pod', cause: 'pod.crashloop', summary: '1 of 2 pods restarts', evidence: ['pod a-1 CrashLoopBackOff'] },
  failing: { status: 'failing', hop: 'controller', cause: 'controller.error', summary: 'controller answers 502', evidence: ['controller 502, pods 200'] },
  unknown: { status: 'unknown', hop: null, cause: 'route.not-probeable', summary: 'regex path', evidence: [] },
};

/** A round of a route with an edge and a pod hop, the given verdict status and edge latency. */
export function fixtureRound(route: Route, startedAt: number, status: VerdictStatus, edgeMs: number): RouteRound {
  const edge = fixtureHop({ timings: { connectMs: 0.3, ttfbMs: Math.max(0.1, edgeMs - 0.2), totalMs: edgeMs } });
  const pod = fixtureHop({
    hop: 'pod', target: '127.0.1.1:8080', address: '127.0.1.1', port: 8080, pod: `${route.namespace}/${route.ingress}-0`,
    ready: true, terminating: false, headers: {}, generator: 'upstream', timings: { connectMs: 0.1, totalMs: 1.2 },
  });
  if (status === 'failing') Object.assign(edge, { status: 502, generator: 'nginx', bytes: 157 });
  return { route, startedAt, durationMs: edgeMs + 1, hops: [edge, pod], verdict: VERDICTS[status] };
}
