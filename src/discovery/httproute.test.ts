// HTTPRoute -> Route expansion, one row per rule of the spec hopwatch applies.

import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { controllerSettings } from '../classify/knowledge.js';
import type { GatewayConfig } from '../config/types.js';
import type { GatewayObject, HttpRouteObject, ListenerSpec, ReferenceGrantObject } from './gateway-types.js';
import { GRPC_NOT_PROBEABLE, hostsOnListener, intersectHostnames, replacePrefix, routesFromHttpRoutes } from './httproute.js';
import { routeId } from './routes.js';
import { type ClusterSnapshot, emptySnapshot } from './snapshot.js';

const GW = 'gateway.networking.k8s.io';

function gateway(listeners: ListenerSpec[], extra: Partial<GatewayObject> = {}): GatewayObject {
  return {
    metadata: { namespace: 'infra', name: 'gw' },
    spec: { gatewayClassName: 'ngf', listeners },
    status: { addresses: [{ type: 'IPAddress', value: '203.0.113.10' }], conditions: [{ type: 'Programmed', status: 'True', reason: 'Programmed' }] },
    ...extra,
  };
}

function route(name: string, spec: HttpRouteObject['spec'], created = '2026-01-01T00:00:00Z', namespace = 'shop'): HttpRouteObject {
  return { metadata: { namespace, name, creationTimestamp: created }, spec: { parentRefs: [{ name: 'gw', namespace: 'infra' }], ...spec } };
}

function service(namespace: string, name: string, targetPort: number | string = 'http'): V1Service {
  return { metadata: { namespace, name }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 8000, targetPort: targetPort as never }] } };
}

function pod(namespace: string, name: string, labels: Record<string, string>, port = 8080): V1Pod {
  return {
    metadata: { namespace, name, labels },
    spec: { containers: [{ name: 'c', image: 'i', ports: [{ name: 'http', containerPort: port }] }] },
    status: { podIP: '10.0.0.1', phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function snapshot(parts: Partial<ClusterSnapshot>): ClusterSnapshot {
  return {
    ...emptySnapshot(),
    gatewayClasses: [{ metadata: { name: 'ngf' }, spec: { controllerName: 'gateway.nginx.org/nginx-gateway-controller' } }],
    services: [service('shop', 'web'), service('shop', 'v2'), service('store', 'stock')],
    ...parts,
  };
}

const listener = { name: 'http', port: 80, protocol: 'HTTP', hostname: '*.example.com' };

describe('hostname intersection (HTTPRoute spec "hostnames")', () => {
  it.each([
    [undefined, undefined, ''],
    [undefined, 'a.example.com', 'a.example.com'],
    ['a.example.com', undefined, 'a.example.com'],
    ['a.example.com', 'a.example.com', 'a.example.com'],
    ['*.example.com', 'a.example.com', 'a.example.com'],
    ['*.example.com', 'a.b.example.com', 'a.b.example.com'],
    ['*.example.com', 'example.com', null],
    ['a.example.com', '*.example.com', 'a.example.com'],
    ['*.example.com', '*.a.example.com', '*.a.example.com'],
    ['a.example.com', 'b.example.com', null],
    ['*.example.com', 'a.example.org', null],
  ])('listener %s x route %s -> %s', (l, r, want) => {
    expect(intersectHostnames(l, r)).toBe(want);
  });

  it('falls back to the route hostnames when none intersects (so the 404 users get is probed)', () => {
    expect(hostsOnListener('*.example.com', ['a.example.org'])).toEqual({ hosts: ['a.example.org'], intersects: false });
    expect(hostsOnListener('*.example.com', [])).toEqual({ hosts: ['*.example.com'], intersects: true });
    expect(hostsOnListener(undefined, [])).toEqual({ hosts: [null], intersects: true });
  });
});

describe('routesFromHttpRoutes: expansion', () => {
  const snap = snapshot({
    gateways: [gateway([listener, { name: 'other', port: 8080, protocol: 'HTTP', hostname: 'only.example.org' }])],
    httpRoutes: [
      route('web', {
        parentRefs: [{ name: 'gw', namespace: 'infra', sectionName: 'http' }],
        hostnames: ['a.example.com', 'b.example.com', 'c.example.org'],
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: '/api' } }, { path: { type: 'Exact', value: '/health' } }], backendRefs: [{ name: 'web', port: 8000 }] },
          { backendRefs: [{ name: 'v2', port: 8000 }] },
        ],
      }),
    ],
  });
  const routes = routesFromHttpRoutes(snap, []);

  it('is parentRef x listener (sectionName) x intersected hostname x rule x match', () => {
    expect(routes.map((r) => `${r.host} ${r.pathType} ${r.path} -> ${r.backends[0]?.ref.service ?? ''}`)).toEqual([
      'a.example.com Prefix / -> v2',
      'a.example.com Prefix /api -> web',
      'a.example.com Exact /health -> web',
      'b.example.com Prefix / -> v2',
      'b.example.com Prefix /api -> web',
      'b.example.com Exact /health -> web',
    ]);
    expect(routes.every((r) => r.kind === 'HTTPRoute' && r.name === 'web' && r.ingress === 'web')).toBe(true);
    expect(routes[0]?.parent).toEqual({ kind: 'Gateway', namespace: 'infra', name: 'gw', sectionName: 'http', port: 80 });
    expect(routes[0]?.ingressClass).toBe('ngf');
  });

  it('gives stable ids, unique, and never an Ingress id for the same names', () => {
    expect(new Set(routes.map((r) => r.id)).size).toBe(routes.length);
    expect(routesFromHttpRoutes(snap, []).map((r) => r.id)).toEqual(routes.map((r) => r.id));
    const ingressId = routeId({ namespace: 'shop', ingress: 'web', host: 'a.example.com', path: '/api', pathType: 'Prefix', defaultBackend: false });
    expect(routes.map((r) => r.id)).not.toContain(ingressId);
  });

  it('edge from status.addresses on the listener port; controller kind from the GatewayClass', () => {
    expect(routes[0]?.controller).toMatchObject({ kind: 'nginx-gateway-fabric', edge: 'http://203.0.113.10:80', ingressClass: 'ngf' });
  });
});

describe('routesFromHttpRoutes: matches and filters', () => {
  const one = (rule: NonNullable<NonNullable<HttpRouteObject['spec']>['rules']>[number], annotations: Record<string, string> = {}) => {
    const r = route('r', { hostnames: ['a.example.com'], rules: [rule] });
    r.metadata = { ...r.metadata, annotations };
    const [first] = routesFromHttpRoutes(snapshot({ gateways: [gateway([listener])], httpRoutes: [r] }), []);
    if (!first) throw new Error('no route');
    return first;
  };

  it('sends the method, headers and query a match requires', () => {
    const r = one({ matches: [{ path: { value: '/api' }, method: 'HEAD', headers: [{ name: 'X-Env', value: 'blue' }], queryParams: [{ name: 'v', value: '2 3' }] }], backendRefs: [{ name: 'web', port: 8000 }] });
    expect(r.probe).toMatchObject({ path: '/api?v=2%203', method: 'HEAD', headers: { 'x-env': 'blue' } });
    expect(r.notProbeable).toBeNull();
  });

  it.each([
    ['a RegularExpression path without probe-path', { matches: [{ path: { type: 'RegularExpression', value: '/v[0-9]+' } }] }, /needs the hopwatch.io\/probe-path annotation/],
    ['a regex header match', { matches: [{ headers: [{ type: 'RegularExpression', name: 'x', value: 'a.*' }] }] }, /header match x is a regular expression/],
    ['an unsafe method', { matches: [{ method: 'DELETE' }] }, /hopwatch sends only GET, HEAD and OPTIONS/],
  ])('is not probeable with %s', (_name, rule, reason) => {
    expect(one({ ...rule, backendRefs: [{ name: 'web', port: 8000 }] } as never).notProbeable).toMatch(reason);
  });

  it('probes a RegularExpression path at hopwatch.io/probe-path', () => {
    const r = one({ matches: [{ path: { type: 'RegularExpression', value: '/v[0-9]+' } }], backendRefs: [{ name: 'web', port: 8000 }] }, { 'hopwatch.io/probe-path': '/v1' });
    expect(r.notProbeable).toBeNull();
    expect(r.probe.path).toBe('/v1');
  });

  it('expects the redirect status of RequestRedirect', () => {
    expect(one({ filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 301 } }] }).probe.expectStatus).toEqual([301]);
    expect(one({ filters: [{ type: 'RequestRedirect', requestRedirect: {} }] }).probe.expectStatus).toEqual([302]);
  });

  it('gives the pods the rewritten path, host and modified headers', () => {
    const r = one({
      matches: [{ path: { value: '/api' }, headers: [{ name: 'x-env', value: 'blue' }] }],
      filters: [
        { type: 'URLRewrite', urlRewrite: { hostname: 'internal', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v1' } } },
        { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Tenant', value: 't1' }], add: [{ name: 'x-env', value: 'green' }], remove: ['x-drop'] } },
      ],
      backendRefs: [{ name: 'web', port: 8000 }],
    });
    expect(r.probe).toMatchObject({ path: '/api', backendPath: '/v1', backendHost: 'internal', backendHeaders: { 'x-env': 'blue,green', 'x-tenant': 't1' } });
  });

  it.each([
    ['/api/items', '/api', '/v1', '/v1/items'],
    ['/api/items', '/api', '/', '/items'],
    ['/api', '/api', '/v1', '/v1'],
    ['/api/', '/api/', '/v1/', '/v1/'],
  ])('ReplacePrefixMatch %s (prefix %s -> %s) is %s', (path, prefix, replacement, want) => {
    expect(replacePrefix(path, prefix, replacement)).toBe(want);
  });

  it('carries the rule timeouts, which set the read timeout hopwatch measures against', () => {
    const r = one({ timeouts: { request: '1500ms' }, backendRefs: [{ name: 'web', port: 8000 }] });
    expect(r.gateway?.timeouts).toEqual({ request: '1500ms', backendRequest: null });
    expect(controllerSettings(r)?.readTimeoutMs).toEqual({ value: 1500, source: 'HTTPRoute rule timeouts.request: 1500ms' });
    const both = one({ timeouts: { request: '10s', backendRequest: '2s' }, backendRefs: [{ name: 'web', port: 8000 }] });
    expect(controllerSettings(both)?.readTimeoutMs).toEqual({ value: 2000, source: 'HTTPRoute rule timeouts.backendRequest: 2s' });
  });
});

describe('routesFromHttpRoutes: backendRefs', () => {
  const grant: ReferenceGrantObject = {
    metadata: { namespace: 'store', name: 'g' },
    spec: { from: [{ group: GW, kind: 'HTTPRoute', namespace: 'shop' }], to: [{ group: '', kind: 'Service' }] },
  };
  const build = (grants: ReferenceGrantObject[]) =>
    routesFromHttpRoutes(
      snapshot({
        gateways: [gateway([listener])],
        referenceGrants: grants,
        httpRoutes: [route('split', { hostnames: ['a.example.com'], rules: [{ backendRefs: [{ name: 'web', port: 8000, weight: 80 }, { name: 'stock', namespace: 'store', port: 8000, weight: 20 }] }] })],
      }),
      [],
    )[0];

  it('keeps every backendRef with its weight and share, the first as primary', () => {
    const r = build([grant]);
    expect(r?.backends.map((b) => [b.key, b.weight, b.share, b.role, b.problem])).toEqual([
      ['shop/web:8000', 80, 0.8, 'primary', null],
      ['store/stock:8000', 20, 0.2, 'canary', null],
    ]);
    expect(r?.backends[1]?.service?.name).toBe('stock');
  });

  it('marks a cross-namespace backendRef without a ReferenceGrant as not permitted', () => {
    expect(build([])?.backends[1]?.problem).toBe('backendRef to Service store/stock is not permitted: no ReferenceGrant in store allows HTTPRoutes from shop');
  });
});

describe('routesFromHttpRoutes: precedence between routes (HTTPRoute spec)', () => {
  const claim = (name: string, created: string, namespace = 'shop') => route(name, { hostnames: ['a.example.com'], rules: [{ backendRefs: [{ name: 'web', port: 8000 }] }] }, created, namespace);
  const winners = (routes: HttpRouteObject[]) =>
    routesFromHttpRoutes(snapshot({ gateways: [gateway([listener])], httpRoutes: routes }), []).map((r) => `${r.namespace}/${r.name}: ${r.gateway?.conflictWinner ?? 'wins'}`);

  it('the oldest route wins; the loser names it', () => {
    expect(winners([claim('new', '2026-02-01T00:00:00Z'), claim('old', '2026-01-01T00:00:00Z')])).toEqual(['shop/new: HTTPRoute shop/old', 'shop/old: wins']);
  });

  it('same age: the first by namespace/name wins', () => {
    expect(winners([claim('b', '2026-01-01T00:00:00Z', 'a'), claim('a', '2026-01-01T00:00:00Z', 'b')])).toEqual(['a/b: wins', 'b/a: HTTPRoute a/b']);
  });

  it('different matches (a header) do not conflict', () => {
    const header = route('hdr', { hostnames: ['a.example.com'], rules: [{ matches: [{ headers: [{ name: 'x', value: '1' }] }], backendRefs: [{ name: 'web', port: 8000 }] }] });
    expect(winners([claim('plain', '2026-01-01T00:00:00Z'), header])).toEqual(['shop/hdr: wins', 'shop/plain: wins']);
  });
});

describe('Gateway data-plane pods without configuration', () => {
  const eg = (services: V1Service[], configs: GatewayConfig[] = []) =>
    routesFromHttpRoutes(
      snapshot({
        gatewayClasses: [{ metadata: { name: 'eg' }, spec: { controllerName: 'gateway.envoyproxy.io/gatewayclass-controller' } }],
        gateways: [gateway([{ name: 'http', port: 80, protocol: 'HTTP' }], { spec: { gatewayClassName: 'eg', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } })],
        pods: [
          pod('envoy-gateway-system', 'envoy-infra-gw-1', { 'gateway.envoyproxy.io/owning-gateway-name': 'gw', 'gateway.envoyproxy.io/owning-gateway-namespace': 'infra', app: 'envoy' }, 10080),
          pod('envoy-gateway-system', 'envoy-other-1', { 'gateway.envoyproxy.io/owning-gateway-name': 'gw', 'gateway.envoyproxy.io/owning-gateway-namespace': 'elsewhere' }),
        ],
        services: [service('shop', 'web'), ...services],
        httpRoutes: [route('web', { rules: [{ backendRefs: [{ name: 'web', port: 8000 }] }] })],
      }),
      configs,
    )[0]?.controller;

  it("Envoy Gateway: its owning-gateway labels in envoy-gateway-system, listener port + 10000 below 1024", () => {
    const controller = eg([]);
    expect(controller?.kind).toBe('envoy-gateway');
    expect(controller?.pods.map((p) => p.name)).toEqual(['envoy-infra-gw-1']);
    expect(controller?.httpPort).toBe(10080);
  });

  it("the generated Service's targetPort says which container port serves the listener", () => {
    const generated: V1Service = { metadata: { namespace: 'envoy-gateway-system', name: 'envoy-infra-gw' }, spec: { selector: { app: 'envoy' }, ports: [{ port: 80, targetPort: 'http' as never }] } };
    expect(eg([generated])?.httpPort).toBe(10080);
  });

  it('a configured override wins: edge, pods and kind', () => {
    const config: GatewayConfig = { namespace: 'infra', name: 'gw', kind: 'istio', edge: 'http://192.0.2.1:8080', edgeHttps: null, pods: { namespace: 'envoy-gateway-system', selector: 'app=envoy', httpPort: 9000 } };
    expect(eg([], [config])).toMatchObject({ kind: 'istio', edge: 'http://192.0.2.1:8080', httpPort: 9000, pods: [{ name: 'envoy-infra-gw-1' }] });
  });
});

describe('GRPCRoutes', () => {
  it('are listed with their backends and the reason they are not probed', () => {
    const grpc = { metadata: { namespace: 'shop', name: 'rpc' }, spec: { parentRefs: [{ name: 'gw', namespace: 'infra' }], hostnames: ['rpc.example.com'], rules: [{ backendRefs: [{ name: 'web', port: 8000 }] }] } };
    const routes = routesFromHttpRoutes(snapshot({ gateways: [gateway([listener])], grpcRoutes: [grpc] }), []);
    expect(routes.map((r) => [r.kind, r.name, r.host, r.notProbeable, r.backends[0]?.key])).toEqual([['GRPCRoute', 'rpc', 'rpc.example.com', GRPC_NOT_PROBEABLE, 'shop/web:8000']]);
  });
});
