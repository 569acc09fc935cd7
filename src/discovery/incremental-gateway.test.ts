// IncrementalGatewayRoutes against the reference: after every step of random sequences of changes to
// every kind (HTTPRoutes and GRPCRoutes of one name, sharing hosts on Gateways' listeners so that
// precedence names winners, backendRefs across namespaces, ReferenceGrants, Gateways changing class
// and listeners, GatewayClasses, data-plane pods of three implementations and a configured selector,
// the Services selecting them, backend Services, EndpointSlices moving between Services, Pods,
// NetworkPolicies, Namespaces, kinds it does not read, relists), its answer equals
// routesFromHttpRoutes on the whole snapshot, in the same order, and a route the deltas did not
// upsert is the object it was. A seeded generator: a failure names its seed and step.

import { isDeepStrictEqual } from 'node:util';
import type { KubernetesObject, V1EndpointSlice, V1NetworkPolicy, V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { FakeSource, rng } from '../../test/fixtures.js';
import type { GatewayConfig } from '../config/types.js';
import type { Route } from '../model.js';
import type { GatewayObject, GrpcRouteObject, HttpRouteObject, ReferenceGrantObject } from './gateway-types.js';
import { routesFromHttpRoutes } from './httproute.js';
import { IncrementalGatewayRoutes } from './incremental-gateway.js';
import { type ClusterSnapshot, emptySnapshot } from './snapshot.js';

type Rng = ReturnType<typeof rng>;

const ROUTE_NAMESPACES = ['shop', 'blog'];
const NAMESPACES = ['shop', 'blog', 'edge', 'envoy-gateway-system'];
const GATEWAYS = ['gw-0', 'gw-1', 'gw-2'];
const CLASSES = ['fabric', 'envoy', 'traefik'];
const CONTROLLERS = ['gateway.nginx.org/nginx-gateway-controller', 'gateway.envoyproxy.io/gatewayclass-controller', 'traefik.io/gateway-controller', 'example.com/unknown'];
const HOSTS = ['a.test', 'b.test', 'x.a.test', '*.a.test'];
const SERVICES = ['web', 'api', 'proxy'];
/** Labels a pod may carry: a backend's, or a data plane's of each implementation (and the configured one's). */
const POD_LABELS: Record<string, string>[] = [
  { app: 'web' }, { app: 'api' }, { app: 'proxy' },
  { 'gateway.networking.k8s.io/gateway-name': 'gw-0' }, { 'gateway.networking.k8s.io/gateway-name': 'gw-2' },
  { 'gateway.envoyproxy.io/owning-gateway-name': 'gw-0', 'gateway.envoyproxy.io/owning-gateway-namespace': 'edge' },
  { 'app.kubernetes.io/name': 'traefik' },
];
/** One Gateway with a configured data plane. */
const configs: GatewayConfig[] = [{ namespace: 'edge', name: 'gw-1', kind: null, edge: null, edgeHttps: null, pods: { namespace: 'edge', selector: 'app=proxy', httpPort: null } }];

function randomGateway(r: Rng): GatewayObject {
  const listeners = Array.from({ length: 1 + r.int(2) }, (_, i) => ({
    name: r.pick(['web', 'alt']), port: r.pick([80, 8080]), protocol: r.pick(['HTTP', 'HTTP', 'HTTPS', 'TCP']),
    ...(r.int(2) === 0 ? {} : { hostname: r.pick([...HOSTS, `l${i}.test`]) }),
  }));
  return {
    metadata: { namespace: r.pick(['edge', 'shop']), name: r.pick(GATEWAYS) },
    spec: { gatewayClassName: r.pick([...CLASSES, 'missing']), listeners },
    status: { addresses: r.int(3) === 0 ? [] : [{ type: 'IPAddress', value: `127.9.0.${r.int(9)}` }], conditions: [{ type: 'Programmed', status: r.pick(['True', 'False']), reason: 'x' }] },
  };
}

/** The spec of an HTTPRoute or GRPCRoute: parents, hostnames, backends (the rules' other fields are the HTTPRoute's). */
function randomParentsAndHosts(r: Rng): Pick<NonNullable<HttpRouteObject['spec']>, 'parentRefs' | 'hostnames'> {
  const parentRefs = Array.from({ length: 1 + r.int(2) }, () => ({
    name: r.pick(GATEWAYS),
    ...(r.int(3) === 0 ? {} : { namespace: r.pick(['edge', 'shop']) }),
    ...(r.int(3) === 0 ? { sectionName: r.pick(['web', 'alt']) } : {}),
    ...(r.int(5) === 0 ? { port: r.pick([80, 8080]) } : {}),
  }));
  const hostnames = [...new Set(Array.from({ length: r.int(3) }, () => r.pick(HOSTS)))];
  return { parentRefs, hostnames };
}

function randomBackends(r: Rng): NonNullable<NonNullable<NonNullable<HttpRouteObject['spec']>['rules']>[number]['backendRefs']> {
  return Array.from({ length: r.int(3) }, () => ({
    name: r.pick(SERVICES),
    ...(r.int(3) === 0 ? { namespace: r.pick(NAMESPACES) } : {}),
    ...(r.int(6) === 0 ? {} : { port: r.pick([80, 9090]) }),
    ...(r.int(3) === 0 ? { weight: r.int(4) } : {}),
  }));
}

function randomHttpRoute(r: Rng): HttpRouteObject {
  const rules = Array.from({ length: 1 + r.int(2) }, () => ({
    ...(r.int(3) === 0 ? {} : { matches: Array.from({ length: 1 + r.int(2) }, () => ({ path: { type: r.pick(['PathPrefix', 'Exact']), value: r.pick(['/', '/x']) }, ...(r.int(5) === 0 ? { method: 'GET' } : {}) })) }),
    ...(r.int(5) === 0 ? { filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 301 } }] } : {}),
    backendRefs: randomBackends(r),
  }));
  const parents = randomParentsAndHosts(r);
  return {
    metadata: { namespace: r.pick(ROUTE_NAMESPACES), name: `route-${r.int(5)}`, creationTimestamp: r.pick(['2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z']) },
    spec: { ...parents, rules },
    ...(r.int(2) === 0 ? {} : { status: { parents: [{ parentRef: parents.parentRefs![0]!, conditions: [{ type: 'Accepted', status: r.pick(['True', 'False']), reason: 'x' }] }] } }),
  };
}

function randomGrpcRoute(r: Rng): GrpcRouteObject {
  return {
    metadata: { namespace: r.pick(ROUTE_NAMESPACES), name: `route-${r.int(5)}` },
    spec: { ...randomParentsAndHosts(r), rules: Array.from({ length: 1 + r.int(2) }, () => ({ backendRefs: randomBackends(r) })) },
  };
}

/** A random object of a kind, named from a small pool so changes hit the same objects again. */
function randomObject(r: Rng, kind: keyof ClusterSnapshot): unknown {
  const namespace = r.pick(NAMESPACES);
  switch (kind) {
    case 'httpRoutes':
      return randomHttpRoute(r);
    case 'grpcRoutes':
      return randomGrpcRoute(r);
    case 'gateways':
      return randomGateway(r);
    case 'gatewayClasses':
      return { metadata: { name: r.pick(CLASSES) }, spec: { controllerName: r.pick(CONTROLLERS) } };
    case 'referenceGrants':
      return {
        metadata: { namespace, name: `grant-${r.int(2)}` },
        spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: r.pick(ROUTE_NAMESPACES) }], to: [{ group: '', kind: 'Service', ...(r.int(2) === 0 ? {} : { name: r.pick(SERVICES) }) }] },
      } satisfies ReferenceGrantObject;
    case 'services': {
      // Half of them select a data plane: such a Service's targetPort is its Gateway's listener container port.
      const selector = r.int(4) === 0 ? undefined : r.int(2) === 0 ? r.pick(POD_LABELS.slice(3)) : r.pick(POD_LABELS);
      const port = r.pick([80, 9090, 8080]);
      return { metadata: { namespace, name: r.pick(SERVICES) }, spec: { clusterIP: `10.0.${r.int(9)}.${r.int(9)}`, selector, ports: [{ name: 'http', port, targetPort: r.pick([8080, 'http', 18080]) as unknown as never }] } } satisfies V1Service;
    }
    case 'endpointSlices':
      return {
        metadata: { namespace, name: `slice-${r.int(5)}`, labels: { 'kubernetes.io/service-name': r.pick(SERVICES) } }, addressType: 'IPv4',
        ports: [{ name: 'http', port: 8080 }],
        endpoints: Array.from({ length: r.int(3) }, () => ({ addresses: [`127.9.${r.int(9)}.${r.int(9)}`], conditions: { ready: r.int(3) > 0 } })),
      } satisfies V1EndpointSlice;
    case 'pods':
      return {
        metadata: { namespace, name: `pod-${r.int(6)}`, labels: r.pick(POD_LABELS) },
        spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: r.pick([8080, 18080]) }] }] },
        status: { phase: 'Running', podIP: `127.9.${r.int(9)}.${r.int(9)}`, conditions: [{ type: 'Ready', status: r.pick(['True', 'False']) }] },
      } satisfies V1Pod;
    case 'networkPolicies':
      return {
        metadata: { namespace, name: `pol-${r.int(2)}` },
        spec: { podSelector: { matchLabels: r.pick(POD_LABELS) }, policyTypes: ['Ingress'], ingress: r.int(2) === 0 ? [] : [{ _from: [{ namespaceSelector: { matchLabels: { team: 'platform' } } }] }] },
      } satisfies V1NetworkPolicy;
    case 'namespaces':
      return { metadata: { name: namespace, labels: r.int(2) === 0 ? { team: 'platform' } : {} } };
    default:
      // Kinds routesFromHttpRoutes does not read (Ingresses, IngressClasses, ReplicaSets, Deployments).
      return { metadata: { namespace, name: `${kind}-${r.int(3)}` } };
  }
}

function keyOf(o: KubernetesObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** The kinds changed, the Gateway API's and the objects their routes read more often than the rest. */
const KINDS: (keyof ClusterSnapshot)[] = [
  ...(Object.keys(emptySnapshot()) as (keyof ClusterSnapshot)[]),
  'httpRoutes', 'httpRoutes', 'httpRoutes', 'grpcRoutes', 'gateways', 'gateways', 'gatewayClasses', 'referenceGrants', 'services', 'services', 'endpointSlices', 'pods', 'pods', 'pods',
];

/** Applies one random change: an add or update (4 in 5), or a delete of an existing object. */
function randomChange(r: Rng, source: FakeSource): void {
  const kind = r.pick(KINDS);
  const existing = [...source.objects.get(kind)!.keys()];
  if (existing.length > 0 && r.int(5) === 0) {
    source.put(kind, null, r.pick(existing));
    return;
  }
  const object = randomObject(r, kind) as KubernetesObject;
  source.put(kind, object, keyOf(object));
}

const SEEDS = Number(process.env['SEEDS'] ?? 80);

describe('IncrementalGatewayRoutes', () => {
  it('equals routesFromHttpRoutes on the whole snapshot after every step of random change sequences', () => {
    let partial = 0;
    let widened = 0;
    let conflicts = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = rng(seed);
      const source = new FakeSource();
      for (let i = 0; i < 30; i++) randomChange(r, source);
      const namespaces = seed % 5 === 0 ? ['shop'] : null;
      const engine = new IncrementalGatewayRoutes(configs, { namespaces });
      // What the run loop keeps: routes by id, from the deltas alone.
      const view = new Map<string, Route>();
      for (let step = 0; step < 60; step++) {
        const changes = 1 + r.int(3);
        for (let c = 0; c < changes; c++) randomChange(r, source);
        // Now and then a relist: everything at once.
        if (r.int(40) === 0) source.pending = 'all';
        const partialBefore = engine.stats.partial;
        const delta = engine.update(source.takeChanges(), () => source.snapshot());
        for (const id of delta.removed) view.delete(id);
        for (const route of delta.upserted) view.set(route.id, route);
        const want = routesFromHttpRoutes(source.snapshot(), configs, { namespaces });
        const at = `seed ${seed}, step ${step}`;
        // isDeepStrictEqual first (expect's toEqual on every step would take most of the test's time), toEqual for the message.
        if (!isDeepStrictEqual(engine.routes(), want)) expect(engine.routes(), at).toEqual(want);
        const wanted = new Map(want.map((route) => [route.id, route]));
        if (!isDeepStrictEqual(view, wanted)) expect(view, `${at}: the deltas`).toEqual(wanted);
        // A route no delta upserted is the object it was (the run loop keeps what it derived from it).
        const strangers = engine.routes().filter((route) => route !== view.get(route.id)).map((route) => route.id);
        expect(strangers, `${at}: routes that are not the objects the deltas gave`).toEqual([]);
        if (engine.stats.partial > partialBefore && engine.stats.lastObjects > changes) widened++;
        conflicts += want.filter((route) => route.gateway?.conflictWinner).length;
      }
      partial += engine.stats.partial;
    }
    if (process.env['SEEDS']) console.log({ partial, widened, conflicts });
    // The sequences must exercise the partial path, widening, and precedence, not only full recomputes.
    expect(partial).toBeGreaterThan(2000);
    expect(widened).toBeGreaterThan(300);
    expect(conflicts).toBeGreaterThan(5000);
    // About 20 s on a quiet 2-core machine: the limit leaves room for a loaded one.
  }, 180_000);

  it('recomputes only the HTTPRoutes of a changed Service, widened to those sharing a host on the Gateway, and keeps the others\' objects', () => {
    const source = new FakeSource();
    const route = (name: string, host: string, service: string): HttpRouteObject => ({
      metadata: { namespace: 'shop', name, creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { parentRefs: [{ name: 'gw', namespace: 'edge' }], hostnames: [host], rules: [{ backendRefs: [{ name: service, port: 80 }] }] },
    });
    source.put('gateways', { metadata: { namespace: 'edge', name: 'gw' }, spec: { gatewayClassName: 'fabric', listeners: [{ name: 'web', port: 80, protocol: 'HTTP' }] } } as KubernetesObject, 'edge/gw');
    for (let i = 0; i < 50; i++) source.put('httpRoutes', route(`r-${i}`, `h${i}.test`, `svc-${i}`) as KubernetesObject, `shop/r-${i}`);
    source.put('httpRoutes', route('shadow', 'h7.test', 'svc-shadow') as KubernetesObject, 'shop/shadow');
    const engine = new IncrementalGatewayRoutes([], {});
    engine.update(source.takeChanges(), () => source.snapshot());
    const first = engine.routes();
    expect(first).toHaveLength(51);
    expect(first.find((r) => r.name === 'shadow')?.gateway?.conflictWinner).toBe('HTTPRoute shop/r-7');
    source.put('services', { metadata: { namespace: 'shop', name: 'svc-shadow' }, spec: { clusterIP: '10.0.0.9', ports: [{ port: 80 }] } } as V1Service, 'shop/svc-shadow');
    const delta = engine.update(source.takeChanges(), () => source.snapshot());
    expect(engine.stats).toMatchObject({ full: 1, partial: 1, lastObjects: 2 });
    expect(delta.upserted.map((r) => r.name)).toEqual(['shadow']);
    expect(engine.routes()).toEqual(routesFromHttpRoutes(source.snapshot(), [], {}));
    expect(engine.routes().filter((r) => first.includes(r))).toHaveLength(50);
    // A data-plane pod of the Gateway: every route through it.
    source.put('gatewayClasses', { metadata: { name: 'fabric' }, spec: { controllerName: 'gateway.nginx.org/nginx-gateway-controller' } } as KubernetesObject, '/fabric');
    engine.update(source.takeChanges(), () => source.snapshot());
    source.put('pods', { metadata: { namespace: 'edge', name: 'gw-nginx', labels: { 'gateway.networking.k8s.io/gateway-name': 'gw' } }, status: { podIP: '127.9.0.2' } } as V1Pod, 'edge/gw-nginx');
    const pod = engine.update(source.takeChanges(), () => source.snapshot());
    expect(engine.stats.lastObjects).toBe(51);
    expect(pod.upserted).toHaveLength(51);
    expect(engine.routes()).toEqual(routesFromHttpRoutes(source.snapshot(), [], {}));
    // Changes routes do not read recompute nothing; without any HTTPRoute, nothing is held.
    source.put('ingresses', { metadata: { namespace: 'shop', name: 'legacy' } }, 'shop/legacy');
    expect(engine.update(source.takeChanges(), () => source.snapshot())).toEqual({ upserted: [], removed: [] });
  });

  it('recomputes the routes through a Gateway when a Service selecting its data plane changes the listener\'s container port', () => {
    const source = new FakeSource();
    source.put('gatewayClasses', { metadata: { name: 'fabric' }, spec: { controllerName: 'gateway.nginx.org/nginx-gateway-controller' } } as KubernetesObject, '/fabric');
    source.put('gateways', { metadata: { namespace: 'edge', name: 'gw' }, spec: { gatewayClassName: 'fabric', listeners: [{ name: 'web', port: 80, protocol: 'HTTP' }] } } as KubernetesObject, 'edge/gw');
    source.put('pods', { metadata: { namespace: 'edge', name: 'gw-nginx', labels: { 'gateway.networking.k8s.io/gateway-name': 'gw' } }, status: { podIP: '127.9.0.2' } } as V1Pod, 'edge/gw-nginx');
    for (const name of ['a', 'b']) {
      source.put('httpRoutes', { metadata: { namespace: 'shop', name }, spec: { parentRefs: [{ name: 'gw', namespace: 'edge' }], hostnames: [`${name}.test`], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] } } as KubernetesObject, `shop/${name}`);
    }
    const engine = new IncrementalGatewayRoutes([], {});
    engine.update(source.takeChanges(), () => source.snapshot());
    expect(engine.routes().map((r) => r.controller?.httpPort)).toEqual([80, 80]);
    source.put('services', { metadata: { namespace: 'edge', name: 'gw-nginx' }, spec: { selector: { 'gateway.networking.k8s.io/gateway-name': 'gw' }, ports: [{ port: 80, targetPort: 18080 as never }] } } as V1Service, 'edge/gw-nginx');
    const delta = engine.update(source.takeChanges(), () => source.snapshot());
    expect(engine.stats).toMatchObject({ full: 1, partial: 1, lastObjects: 2 });
    expect(delta.upserted.map((r) => r.controller?.httpPort)).toEqual([18080, 18080]);
    expect(engine.routes()).toEqual(routesFromHttpRoutes(source.snapshot(), [], {}));
  });
});
