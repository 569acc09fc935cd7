// Builders of model values for unit tests: a healthy route and hop results, overridden per scenario.

import type { KubernetesObject } from '@kubernetes/client-node';
import { compareObjects, type ObjectChange, type ObjectChanges, type ObjectSource } from '../src/discovery/incremental.js';
import { type ClusterSnapshot, emptySnapshot } from '../src/discovery/snapshot.js';
import type { Backend, ControllerFacts, EndpointFacts, HopResult, PodFacts, Route } from '../src/model.js';

/** A ready pod of the route's backend. */
export function podFacts(name: string, ip: string, overrides: Partial<PodFacts> = {}): PodFacts {
  return {
    namespace: 'shop',
    name,
    ip,
    phase: 'Running',
    ready: true,
    restarts: 0,
    stateReason: null,
    containerPorts: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    labels: { app: 'web' },
    templateHash: 'abc',
    replicaSet: 'web-abc',
    terminating: false,
    readinessProbe: null,
    ...overrides,
  };
}

/** A ready endpoint for a pod. */
export function endpointFacts(pod: PodFacts, overrides: Partial<EndpointFacts> = {}): EndpointFacts {
  return {
    address: pod.ip ?? '0.0.0.0',
    port: 8080,
    ready: pod.ready,
    serving: pod.ready,
    terminating: pod.terminating,
    pod: { namespace: pod.namespace, name: pod.name },
    ...overrides,
  };
}

/** An ingress-nginx controller with two pods. */
export function controllerFacts(overrides: Partial<ControllerFacts> = {}): ControllerFacts {
  return {
    ingressClass: 'nginx',
    kind: 'ingress-nginx',
    upstream: 'endpoints',
    edge: 'http://192.0.2.10:80',
    edgeHttps: null,
    httpPort: 80,
    httpsPort: 443,
    pods: [
      { namespace: 'ingress-nginx', name: 'ctrl-a', ip: '10.1.0.1', ready: true },
      { namespace: 'ingress-nginx', name: 'ctrl-b', ip: '10.1.0.2', ready: true },
    ],
    ...overrides,
  };
}

/** The facts of a route's single backend, as the flat overrides of routeFixture. */
export interface BackendOverrides {
  /** The backend as written: Service name and port. */
  backend?: { service: string; port: number | string };
  /** The backend Service. */
  service?: Backend['service'];
  /** The Service port. */
  servicePort?: Backend['servicePort'];
  /** Its endpoints. */
  endpoints?: EndpointFacts[];
  /** Its pods. */
  pods?: PodFacts[];
  /** NetworkPolicies selecting its pods. */
  policies?: Backend['policies'];
}

/** A healthy route shop/web shop.example.test/ with three pods; backend facts are overridden flat, as before backends[]. */
export function routeFixture(overrides: Partial<Route> & BackendOverrides = {}): Route {
  const pods = overrides.pods ?? [podFacts('web-1', '10.2.0.1'), podFacts('web-2', '10.2.0.2'), podFacts('web-3', '10.2.0.3')];
  const { backend, service, servicePort, endpoints, pods: _pods, policies, ...rest } = overrides;
  const route: Route = {
    id: 'r1',
    kind: 'Ingress',
    namespace: 'shop',
    name: overrides.ingress ?? 'web',
    ingress: 'web',
    parent: { kind: 'IngressClass', namespace: null, name: 'nginx', sectionName: null, port: null },
    backends: [],
    ingressClass: 'nginx',
    host: 'shop.example.test',
    path: '/',
    pathType: 'Prefix',
    tls: false,
    defaultBackend: false,
    probe: { path: '/', hostHeader: 'shop.example.test', expectStatus: null, ignore: false, schedule: null },
    notProbeable: null,
    controller: controllerFacts(),
    loadBalancer: ['192.0.2.10'],
    annotations: {},
    ...rest,
  };
  const primary = backendFixture({
    namespace: route.namespace,
    source: route.name,
    backend: backend ?? { service: 'web', port: 80 },
    service: service !== undefined ? service : {
      namespace: 'shop',
      name: 'web',
      type: 'ClusterIP',
      clusterIP: '10.3.0.1',
      externalName: null,
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: null }],
      selector: { app: 'web' },
    },
    servicePort: servicePort !== undefined ? servicePort : { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: null },
    endpoints: endpoints ?? pods.map((p) => endpointFacts(p)),
    pods,
    policies: policies ?? [],
  });
  return { ...route, backends: overrides.backends ?? [primary] };
}

/** A backend of a route from its facts; primary with weight 100 unless overridden. */
export function backendFixture(
  facts: Required<BackendOverrides> & { namespace: string; source: string },
  overrides: Partial<Backend> = {},
): Backend {
  const { namespace, backend, service, servicePort, endpoints, pods, policies, source } = facts;
  return {
    key: `${namespace}/${backend.service}:${backend.port}`,
    ref: { namespace, service: backend.service, port: backend.port },
    weight: 100, share: 1, role: 'primary', source: { kind: 'Ingress', namespace, name: source },
    selector: null, problem: null, service, servicePort, endpoints, pods, policies,
    ...overrides,
  };
}

/** The route's primary backend (tests read its facts). */
export function primaryOf(route: Route): Backend {
  const primary = route.backends[0];
  if (!primary) throw new Error(`route ${route.id} has no backend`);
  return primary;
}

/** A hop result: 200 unless overridden. */
export function result(hop: HopResult['hop'], target: string, overrides: Partial<HopResult> = {}): HopResult {
  return {
    hop,
    target,
    address: target.split(':')[0] ?? target,
    port: Number(target.split(':')[1] ?? 80),
    scheme: hop === 'dns' ? 'dns' : 'http',
    pod: null,
    ready: null,
    terminating: null,
    status: hop === 'dns' ? null : 200,
    error: null,
    errorDetail: null,
    timings: { connectMs: 0.2, ttfbMs: 1, totalMs: 1.2 },
    bytes: 20,
    headerBytes: 120,
    headers: {},
    generator: 'upstream',
    addresses: hop === 'dns' ? ['10.3.0.1'] : [],
    ...overrides,
  };
}

/** A refused connection. */
export const REFUSED: Partial<HopResult> = { status: null, error: 'refused', errorDetail: 'ECONNREFUSED', generator: null };

/** nginx's own 502 page. */
export const NGINX_502: Partial<HopResult> = { status: 502, generator: 'nginx', headers: { server: 'nginx' } };

/** nginx's own 503 page. */
export const NGINX_503: Partial<HopResult> = { status: 503, generator: 'nginx', headers: { server: 'nginx' } };

/** Every hop of routeFixture() answering 200, as the planner would list them; `change` rewrites some. */
export function healthyRound(route: Route, change: (r: HopResult) => Partial<HopResult> | null = () => null): HopResult[] {
  const results: HopResult[] = [result('dns', 'web.shop.svc.cluster.local')];
  if (route.controller) results.push(result('edge', '192.0.2.10:80'));
  for (const pod of route.controller?.pods ?? []) results.push(result('controller', `${pod.ip}:80`, { pod: `${pod.namespace}/${pod.name}` }));
  const primary = route.backends[0];
  if (primary?.service?.clusterIP) results.push(result('service', `${primary.service.clusterIP}:80`));
  for (const ep of primary?.endpoints ?? []) {
    results.push(
      result('pod', `${ep.address}:${ep.port}`, {
        pod: ep.pod ? `${ep.pod.namespace}/${ep.pod.name}` : null,
        ready: ep.ready,
        terminating: ep.terminating,
      }),
    );
  }
  return results.map((r) => ({ ...r, ...(change(r) ?? {}) }));
}

/** The route with its primary backend's facts replaced (flat, as the fields were before backends[]). */
export function withPrimary(route: Route, facts: BackendOverrides): Route {
  const [primary, ...rest] = route.backends;
  if (!primary) throw new Error(`route ${route.id} has no backend`);
  const { backend, ...others } = facts;
  const ref = backend ? { ...primary.ref, service: backend.service, port: backend.port } : primary.ref;
  return { ...route, backends: [{ ...primary, ...others, ref }, ...rest] };
}

/** The route with its primary backend's facts beside it, flat, as routes looked before backends[] (to match old expectations). */
export function flatView(route: Route | undefined): (Route & Required<BackendOverrides>) | undefined {
  const primary = route?.backends[0];
  if (!route || !primary) return undefined;
  const { service, servicePort, endpoints, pods, policies } = primary;
  return { ...route, backend: { service: primary.ref.service, port: primary.ref.port }, service, servicePort, endpoints, pods, policies };
}

/** An in-memory watch for the incremental engines' tests: objects by kind, and the changes since the last take. */
export class FakeSource implements ObjectSource {
  /** The objects now, by kind and "namespace/name". */
  readonly objects = new Map<keyof ClusterSnapshot, Map<string, KubernetesObject>>((Object.keys(emptySnapshot()) as (keyof ClusterSnapshot)[]).map((k) => [k, new Map()]));
  /** Changes since the last take; 'all' at first. */
  pending: ObjectChange[] | 'all' = 'all';

  /** Sets (or, with null, deletes) an object and records the change. */
  put(kind: keyof ClusterSnapshot, object: KubernetesObject | null, key: string): void {
    if (object === null) this.objects.get(kind)!.delete(key);
    else this.objects.get(kind)!.set(key, object);
    if (this.pending !== 'all') this.pending.push({ kind, key, object });
  }

  snapshot(): ClusterSnapshot {
    const s = emptySnapshot();
    for (const [kind, map] of this.objects) (s[kind] as KubernetesObject[]).push(...[...map.values()].sort(compareObjects));
    return s;
  }

  takeChanges(): ObjectChanges {
    const taken = this.pending;
    this.pending = [];
    return taken === 'all' ? { all: true } : { all: false, changes: taken };
  }
}

/** A deterministic random source (mulberry32), for seeded property tests. */
export function rng(seed: number): { int(n: number): number; pick<T>(xs: readonly T[]): T } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (n) => Math.floor(next() * n), pick: (xs) => xs[Math.floor(next() * xs.length)]! };
}
