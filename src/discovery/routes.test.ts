import { describe, expect, it } from 'vitest';
import type {
  V1EndpointSlice,
  V1Ingress,
  V1IngressBackend,
  V1IngressRule,
  V1IngressSpec,
  V1NetworkPolicy,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';
import type { ControllerConfig } from '../config/types.js';
import type { Route } from '../model.js';
import { flatView } from '../../test/fixtures.js';
import { routeId, routeKey, routesFrom } from './routes.js';
import { type ClusterSnapshot, emptySnapshot } from './snapshot.js';

// A small cluster: namespace "shop" with Services web (named port, named
// targetPort), api (unnamed port), ext (ExternalName), manual (no selector);
// two web pods (one crash-looping); nginx controller pods in "ingress".

const controllers: ControllerConfig[] = [
  {
    ingressClass: 'nginx',
    kind: 'ingress-nginx',
    edge: null,
    edgeHttps: null,
    upstream: 'endpoints',
    pods: { namespace: 'ingress', selector: 'app.kubernetes.io/name=ingress-nginx', httpPort: 18080, httpsPort: 18443 },
  },
  {
    ingressClass: 'traefik',
    kind: 'traefik',
    edge: 'http://127.9.0.80:18080',
    edgeHttps: null,
    upstream: 'service',
    pods: { namespace: 'ingress', selector: 'app.kubernetes.io/name=traefik', httpPort: 8000, httpsPort: 8443 },
  },
];

function service(name: string, spec: V1Service['spec']): V1Service {
  return { metadata: { namespace: 'shop', name }, spec };
}

function pod(namespace: string, name: string, labels: Record<string, string>, ip: string, status: Partial<NonNullable<V1Pod['status']>> = {}): V1Pod {
  return {
    metadata: { namespace, name, labels },
    spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }], ...status },
  };
}

const crashLooping: Partial<NonNullable<V1Pod['status']>> = {
  conditions: [{ type: 'Ready', status: 'False' }],
  containerStatuses: [{ name: 'c', image: 'i', imageID: '', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } }],
};

const webSlice: V1EndpointSlice = {
  metadata: { namespace: 'shop', name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9001 }],
  endpoints: [
    { addresses: ['127.9.1.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: 'shop', name: 'web-1' } },
    { addresses: ['127.9.1.2'], conditions: { ready: false }, targetRef: { kind: 'Pod', namespace: 'shop', name: 'web-2' } },
    { addresses: ['127.9.1.3'], conditions: { ready: false, serving: true, terminating: true } },
  ],
};

const apiSlice: V1EndpointSlice = {
  metadata: { namespace: 'shop', name: 'api-abc', labels: { 'kubernetes.io/service-name': 'api' } },
  addressType: 'IPv4',
  ports: [{ port: 8080 }],
  endpoints: [{ addresses: ['127.9.1.20'] }],
};

function cluster(extra: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  const base = emptySnapshot();
  return {
    ...base,
    ingressClasses: [{ metadata: { name: 'nginx', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } }, { metadata: { name: 'traefik' } }],
    namespaces: [{ metadata: { name: 'shop' } }, { metadata: { name: 'ingress', labels: { team: 'platform' } } }],
    services: [
      service('web', { clusterIP: '127.9.2.1', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }),
      service('api', { clusterIP: '127.9.2.2', selector: { app: 'api' }, ports: [{ port: 8080, targetPort: 8080 }] }),
      service('ext', { type: 'ExternalName', externalName: 'api.example.test' }),
      service('manual', { clusterIP: '127.9.2.4', ports: [{ port: 80 }] }),
    ],
    endpointSlices: [webSlice, apiSlice],
    pods: [
      pod('shop', 'web-2', { app: 'web' }, '127.9.1.2', crashLooping),
      pod('shop', 'web-1', { app: 'web' }, '127.9.1.1'),
      pod('shop', 'api-1', { app: 'api' }, '127.9.1.20'),
      pod('ingress', 'nginx-1', { 'app.kubernetes.io/name': 'ingress-nginx' }, '127.9.3.1'),
      pod('ingress', 'traefik-1', { 'app.kubernetes.io/name': 'traefik' }, '127.9.3.5'),
    ],
    ...extra,
  };
}

const svc = (name: string, port: number | string): V1IngressBackend => ({
  service: { name, port: typeof port === 'number' ? { number: port } : { name: port } },
});

function rule(host: string | undefined, ...paths: [string, string, V1IngressBackend][]): V1IngressRule {
  return { host, http: { paths: paths.map(([path, pathType, backend]) => ({ path, pathType, backend })) } };
}

function ingress(name: string, spec: V1IngressSpec, options: { annotations?: Record<string, string>; namespace?: string; lb?: string[] } = {}): V1Ingress {
  return {
    metadata: { namespace: options.namespace ?? 'shop', name, annotations: options.annotations },
    spec,
    status: { loadBalancer: { ingress: (options.lb ?? []).map((ip) => ({ ip })) } },
  };
}

function routes(ingresses: V1Ingress[], extra: Partial<ClusterSnapshot> = {}): Map<string, Route> {
  const found = routesFrom(cluster({ ingresses, ...extra }), controllers, { clusterDomain: 'cluster.local' });
  return new Map(found.map((route) => [routeKey(route), route]));
}

interface Scenario {
  /** What the row shows. */
  name: string;
  /** The Ingresses of the cluster. */
  ingresses: V1Ingress[];
  /** Objects replacing the base cluster's. */
  extra?: Partial<ClusterSnapshot>;
  /** Expected routes by key (partial match); the key set must be exact. */
  expected: Record<string, Record<string, unknown>>;
}

const webPort = { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: null };

const scenarios: Scenario[] = [
  {
    name: 'multi-rule, multi-path Ingress; port by name and by number',
    ingresses: [
      ingress('shop', {
        rules: [
          rule('shop.example.test', ['/', 'Prefix', svc('web', 'http')], ['/api', 'Exact', svc('api', 8080)]),
          rule('blog.example.test', ['/', 'Prefix', svc('web', 80)]),
        ],
      }),
    ],
    expected: {
      'shop/shop shop.example.test /': { backend: { service: 'web', port: 'http' }, servicePort: webPort, pathType: 'Prefix', notProbeable: null },
      'shop/shop shop.example.test /api': {
        backend: { service: 'api', port: 8080 },
        pathType: 'Exact',
        servicePort: { name: null, port: 8080, targetPort: 8080, protocol: 'TCP', appProtocol: null },
        endpoints: [{ address: '127.9.1.20', port: 8080, ready: true, serving: true, terminating: false, pod: null }],
        probe: { path: '/api', hostHeader: 'shop.example.test', expectStatus: null, ignore: false, schedule: null },
      },
      'shop/shop blog.example.test /': { backend: { service: 'web', port: 80 }, servicePort: webPort },
    },
  },
  {
    name: 'defaultBackend alongside a rule',
    ingresses: [ingress('fb', { defaultBackend: svc('web', 80), rules: [rule('shop.example.test', ['/x', 'Prefix', svc('web', 80)])] })],
    expected: {
      'shop/fb (default) /': { host: null, path: '/', pathType: 'Prefix', defaultBackend: true, probe: { path: '/', hostHeader: null } },
      'shop/fb shop.example.test /x': { defaultBackend: false },
    },
  },
  {
    name: 'wildcard host with a wildcard TLS entry; a rule without host',
    ingresses: [
      ingress('wild', {
        tls: [{ hosts: ['*.example.test'] }],
        rules: [rule('*.example.test', ['/', 'Prefix', svc('web', 80)]), rule(undefined, ['/any', 'Prefix', svc('web', 80)])],
      }),
    ],
    expected: {
      'shop/wild *.example.test /': { host: '*.example.test', tls: true, probe: { hostHeader: 'hopwatch-probe.example.test' } },
      'shop/wild (any) /any': { host: null, tls: false, probe: { hostHeader: null } },
    },
  },
  {
    name: 'TLS covers only the listed hosts',
    ingresses: [
      ingress('tls', {
        tls: [{ hosts: ['secure.example.test'], secretName: 's' }],
        rules: [rule('secure.example.test', ['/', 'Prefix', svc('web', 80)]), rule('plain.example.test', ['/', 'Prefix', svc('web', 80)])],
      }),
    ],
    expected: { 'shop/tls secure.example.test /': { tls: true }, 'shop/tls plain.example.test /': { tls: false } },
  },
  {
    name: 'Service missing; port not on the Service',
    ingresses: [ingress('bad', { rules: [rule('a.test', ['/gone', 'Prefix', svc('nosuch', 80)], ['/port', 'Prefix', svc('web', 8080)], ['/name', 'Prefix', svc('web', 'grpc')])] })],
    expected: {
      'shop/bad a.test /gone': { service: null, servicePort: null, endpoints: [], pods: [], policies: [], notProbeable: null },
      'shop/bad a.test /port': { service: { name: 'web' }, servicePort: null, endpoints: [] },
      'shop/bad a.test /name': { service: { name: 'web' }, servicePort: null, endpoints: [] },
    },
  },
  {
    name: 'named targetPort: endpoints of the named slice port only, ready / not ready / terminating; CrashLoopBackOff pod',
    ingresses: [ingress('web', { rules: [rule('shop.example.test', ['/', 'Prefix', svc('web', 'http')])] })],
    expected: {
      'shop/web shop.example.test /': {
        servicePort: { targetPort: 'http' },
        endpoints: [
          { address: '127.9.1.1', port: 8080, ready: true, serving: true, terminating: false, pod: { namespace: 'shop', name: 'web-1' } },
          { address: '127.9.1.2', port: 8080, ready: false, serving: false, terminating: false, pod: { namespace: 'shop', name: 'web-2' } },
          { address: '127.9.1.3', port: 8080, ready: false, serving: true, terminating: true, pod: null },
        ],
        pods: [
          { name: 'web-1', ready: true, restarts: 0, stateReason: null },
          { name: 'web-2', ready: false, restarts: 4, stateReason: 'CrashLoopBackOff' },
        ],
      },
    },
  },
  {
    name: 'ExternalName Service keeps externalName and, declaring no port, takes the backend port number (ingress-nginx); a Service without selector has no pods',
    ingresses: [ingress('x', { rules: [rule('x.test', ['/ext', 'Prefix', svc('ext', 443)], ['/manual', 'Prefix', svc('manual', 80)])] })],
    expected: {
      'shop/x x.test /ext': { service: { type: 'ExternalName', externalName: 'api.example.test', clusterIP: null }, servicePort: { name: null, port: 443, targetPort: 443 }, pods: [] },
      'shop/x x.test /manual': { service: { clusterIP: '127.9.2.4' }, servicePort: { port: 80 }, pods: [] },
    },
  },
  {
    name: 'class: default IngressClass, legacy annotation, spec class without a controller',
    ingresses: [
      ingress('dflt', { rules: [rule('a.test', ['/', 'Prefix', svc('web', 80)])] }, { lb: ['203.0.113.10'] }),
      ingress('legacy', { rules: [rule('b.test', ['/', 'Prefix', svc('web', 80)])] }, { annotations: { 'kubernetes.io/ingress.class': 'traefik' } }),
      ingress('orphan', { ingressClassName: 'haproxy', rules: [rule('c.test', ['/', 'Prefix', svc('web', 80)])] }),
    ],
    expected: {
      'shop/dflt a.test /': {
        ingressClass: 'nginx',
        loadBalancer: ['203.0.113.10'],
        controller: {
          kind: 'ingress-nginx',
          edge: 'http://203.0.113.10:80',
          edgeHttps: 'https://203.0.113.10:443',
          pods: [{ namespace: 'ingress', name: 'nginx-1', ip: '127.9.3.1', ready: true }],
        },
      },
      'shop/legacy b.test /': {
        ingressClass: 'traefik',
        controller: { kind: 'traefik', upstream: 'service', edge: 'http://127.9.0.80:18080', edgeHttps: null, pods: [{ name: 'traefik-1' }] },
      },
      'shop/orphan c.test /': { ingressClass: 'haproxy', controller: null, loadBalancer: [] },
    },
  },
  {
    name: 'no class anywhere: null class, no controller',
    ingresses: [ingress('none', { rules: [rule('a.test', ['/', 'Prefix', svc('web', 80)])] })],
    extra: { ingressClasses: [] },
    expected: { 'shop/none a.test /': { ingressClass: null, controller: null } },
  },
  {
    name: 'regex path without probe-path is not probeable; a literal ImplementationSpecific path is',
    ingresses: [ingress('re', { rules: [rule('a.test', ['/api/(.*)', 'ImplementationSpecific', svc('web', 80)], ['/static', 'ImplementationSpecific', svc('web', 80)])] })],
    expected: {
      'shop/re a.test /api/(.*)': { notProbeable: 'regex path "/api/(.*)" needs the hopwatch.io/probe-path annotation' },
      'shop/re a.test /static': { notProbeable: null, probe: { path: '/static' } },
    },
  },
  {
    name: 'regex path with probe-path; annotations read and copied',
    ingresses: [
      ingress(
        're',
        { rules: [rule('a.test', ['/api/(.*)', 'ImplementationSpecific', svc('web', 80)])] },
        {
          annotations: {
            'hopwatch.io/probe-path': '/api/ping',
            'hopwatch.io/expect-status': '200,204',
            'hopwatch.io/ignore': 'true',
            'hopwatch.io/schedule': '*/10 * * * * *',
            'nginx.ingress.kubernetes.io/use-regex': 'true',
          },
        },
      ),
    ],
    expected: {
      'shop/re a.test /api/(.*)': {
        notProbeable: null,
        probe: { path: '/api/ping', hostHeader: 'a.test', expectStatus: [200, 204], ignore: true, schedule: '*/10 * * * * *' },
        annotations: {
          'hopwatch.io/probe-path': '/api/ping',
          'hopwatch.io/expect-status': '200,204',
          'hopwatch.io/ignore': 'true',
          'hopwatch.io/schedule': '*/10 * * * * *',
          'nginx.ingress.kubernetes.io/use-regex': 'true',
        },
      },
    },
  },
  {
    name: 'bad annotations make every route of the Ingress not probeable, naming the annotation',
    ingresses: [
      ingress('bad', { rules: [rule('a.test', ['/', 'Prefix', svc('web', 80)])] }, { annotations: { 'hopwatch.io/probe-path': 'ping', 'hopwatch.io/expect-status': '2xx,abc' } }),
    ],
    expected: {
      'shop/bad a.test /': {
        probe: { path: '/', expectStatus: null },
        notProbeable:
          'hopwatch.io/probe-path must be a path starting with "/" without spaces, got "ping"; ' +
          'hopwatch.io/expect-status must list status codes like "200", "200,301", "2xx" or "200-299", got "2xx,abc"',
      },
    },
  },
  {
    name: 'resource backend is not probeable',
    ingresses: [
      ingress('res', {
        rules: [rule('a.test', ['/assets', 'Prefix', { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static' } }])],
      }),
    ],
    expected: {
      'shop/res a.test /assets': {
        backend: { service: '', port: 0 },
        service: null,
        notProbeable: 'backend is a resource (StorageBucket/static), not a Service: hopwatch probes Service backends only',
      },
    },
  },
  {
    name: 'NetworkPolicies: deny-all and allow from the controller namespace select the web pods; an api-only policy does not',
    ingresses: [ingress('np', { rules: [rule('a.test', ['/', 'Prefix', svc('web', 'http')])] })],
    extra: {
      networkPolicies: [
        policy('deny-all', { podSelector: {}, policyTypes: ['Ingress'] }),
        policy('from-ingress', {
          podSelector: { matchLabels: { app: 'web' } },
          ingress: [{ _from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress' } } }], ports: [{ port: 'http' }] }],
        }),
        policy('from-monitoring', { podSelector: {}, ingress: [{ _from: [{ namespaceSelector: { matchLabels: { team: 'monitoring' } } }] }] }),
        policy('api-only', { podSelector: { matchLabels: { app: 'api' } } }),
      ],
    },
    expected: {
      'shop/np a.test /': {
        policies: [
          { namespace: 'shop', name: 'deny-all', admitsController: false, admitsProber: null },
          { namespace: 'shop', name: 'from-ingress', admitsController: true, admitsProber: null },
          { namespace: 'shop', name: 'from-monitoring', admitsController: false, admitsProber: null },
        ],
      },
    },
  },
  {
    name: 'NetworkPolicy allowing the controller on another port only',
    ingresses: [ingress('np', { rules: [rule('a.test', ['/', 'Prefix', svc('web', 'http')])] })],
    extra: {
      networkPolicies: [
        policy('metrics-only', { podSelector: {}, ingress: [{ _from: [{ namespaceSelector: { matchLabels: { team: 'platform' } } }], ports: [{ port: 9090 }] }] }),
      ],
    },
    expected: { 'shop/np a.test /': { policies: [{ name: 'metrics-only', admitsController: false }] } },
  },
];

function policy(name: string, spec: V1NetworkPolicy['spec']): V1NetworkPolicy {
  return { metadata: { namespace: 'shop', name }, spec };
}

describe('routesFrom scenarios', () => {
  for (const scenario of scenarios) {
    it(scenario.name, () => {
      const found = routes(scenario.ingresses, scenario.extra);
      expect([...found.keys()].sort()).toEqual(Object.keys(scenario.expected).sort());
      for (const [key, expected] of Object.entries(scenario.expected)) {
        expect(flatView(found.get(key)), key).toMatchObject(expected);
      }
    });
  }
});

describe('routesFrom', () => {
  const spread = [
    ingress('zeta', { rules: [rule('b.test', ['/', 'Prefix', svc('web', 80)]), rule('a.test', ['/y', 'Prefix', svc('web', 80)])] }),
    ingress('alpha', { defaultBackend: svc('web', 80), rules: [rule('b.test', ['/z', 'Prefix', svc('web', 80)], ['/a', 'Prefix', svc('web', 80)]), rule(undefined, ['/', 'Prefix', svc('web', 80)])] }),
    ingress('blog', { rules: [rule('a.test', ['/', 'Prefix', svc('web', 80)])] }, { namespace: 'blog' }),
  ];

  it('orders by namespace, ingress, host (none first), path; the default backend after an equal rule', () => {
    const keys = routesFrom(cluster({ ingresses: spread }), controllers, { clusterDomain: 'cluster.local' }).map(routeKey);
    expect(keys).toEqual([
      'blog/blog a.test /',
      'shop/alpha (any) /',
      'shop/alpha (default) /',
      'shop/alpha b.test /a',
      'shop/alpha b.test /z',
      'shop/zeta a.test /y',
      'shop/zeta b.test /',
    ]);
  });

  it('ids: 12 hex digits, stable across calls and input order, distinct across routes', () => {
    const first = routesFrom(cluster({ ingresses: spread }), controllers, { clusterDomain: 'cluster.local' });
    const second = routesFrom(cluster({ ingresses: [...spread].reverse() }), controllers, { clusterDomain: 'cluster.local' });
    expect(first.map((r) => r.id)).toEqual(second.map((r) => r.id));
    expect(new Set(first.map((r) => r.id)).size).toBe(first.length);
    for (const route of first) expect(route.id).toMatch(/^[0-9a-f]{12}$/);
    expect(first[0]?.id).toBe(routeId({ namespace: 'blog', ingress: 'blog', host: 'a.test', path: '/', pathType: 'Prefix', defaultBackend: false }));
  });

  it('ids differ when only the pathType or default-backend flag differs', () => {
    const base = { namespace: 'shop', ingress: 'web', host: null, path: '/', pathType: 'Prefix' as const, defaultBackend: false };
    const ids = new Set([routeId(base), routeId({ ...base, pathType: 'Exact' }), routeId({ ...base, defaultBackend: true }), routeId({ ...base, host: '' })]);
    expect(ids.size).toBe(4);
  });

  it('a duplicate host+path in one Ingress keeps the first entry', () => {
    const found = routesFrom(
      cluster({ ingresses: [ingress('dup', { rules: [rule('a.test', ['/', 'Prefix', svc('web', 80)]), rule('a.test', ['/', 'Prefix', svc('api', 8080)])] })] }),
      controllers,
      { clusterDomain: 'cluster.local' },
    );
    expect(found.map((r) => r.backends[0]?.ref.service)).toEqual(['web']);
  });

  it('options.namespaces restricts the Ingresses considered', () => {
    const only = (namespaces: string[] | null | undefined): string[] =>
      routesFrom(cluster({ ingresses: spread }), controllers, { clusterDomain: 'cluster.local', namespaces }).map((r) => r.namespace);
    expect(new Set(only(['blog']))).toEqual(new Set(['blog']));
    expect(only(['nowhere'])).toEqual([]);
    expect(only(null)).toHaveLength(7);
    expect(only(undefined)).toHaveLength(7);
  });

  it('Date and string timestamps give the same facts', () => {
    const deleting = (deletionTimestamp: unknown): V1Pod => {
      const base = pod('shop', 'web-1', { app: 'web' }, '127.9.1.1');
      // Raw JSON carries strings where client-node's types say Date.
      return { ...base, metadata: { ...base.metadata, creationTimestamp: deletionTimestamp, deletionTimestamp } as unknown as V1Pod['metadata'] };
    };
    const ingresses = [ingress('web', { rules: [rule('a.test', ['/', 'Prefix', svc('web', 80)])] })];
    const factsWith = (value: unknown): Route | undefined =>
      routesFrom(cluster({ ingresses, pods: [deleting(value)] }), controllers, { clusterDomain: 'cluster.local' })[0];
    const asDate = factsWith(new Date('2025-03-01T10:00:00Z'));
    const asString = factsWith('2025-03-01T10:00:00Z');
    expect(asDate?.backends[0]?.pods[0]?.terminating).toBe(true);
    expect(asString).toEqual(asDate);
  });

  it('does not modify the snapshot and returns fresh objects', () => {
    const snapshot = cluster({ ingresses: spread });
    const before = structuredClone(snapshot);
    const found = routesFrom(snapshot, controllers, { clusterDomain: 'cluster.local' });
    expect(snapshot).toEqual(before);
    const [a, b] = found;
    if (!a || !b) throw new Error('expected routes');
    a.annotations['x'] = 'y';
    expect(b.annotations['x']).toBeUndefined();
  });

  it('a bad configured controller selector is a configuration error', () => {
    const bad: ControllerConfig[] = [{ ...controllers[0]!, pods: { ...controllers[0]!.pods, selector: 'a in (' } }];
    expect(() => routesFrom(cluster(), bad, { clusterDomain: 'cluster.local' })).toThrow(/bad label selector/);
  });
});

describe('routeKey', () => {
  it('readable keys', () => {
    const base = { namespace: 'shop', ingress: 'web', path: '/api' };
    expect(routeKey({ ...base, host: 'a.test', defaultBackend: false })).toBe('shop/web a.test /api');
    expect(routeKey({ ...base, host: null, defaultBackend: false })).toBe('shop/web (any) /api');
    expect(routeKey({ ...base, host: null, path: '/', defaultBackend: true })).toBe('shop/web (default) /');
  });
});
