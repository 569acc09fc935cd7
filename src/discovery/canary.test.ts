import type { V1Ingress, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ControllerConfig } from '../config/types.js';
import type { Route } from '../model.js';
import { canarySelector, canarySettings, canaryShare } from './canary.js';
import { routeId, routeKey, routesFrom } from './routes.js';
import { type ClusterSnapshot, emptySnapshot } from './snapshot.js';

// Merge rules of ingress-nginx canary Ingresses (src/discovery/canary.ts cites the sources): one row each.

const controllers: ControllerConfig[] = [
  {
    ingressClass: 'nginx', kind: 'ingress-nginx', edge: null, edgeHttps: null, upstream: 'endpoints',
    pods: { namespace: 'ingress', selector: 'app=nginx', httpPort: 80, httpsPort: 443 },
  },
  {
    ingressClass: 'haproxy', kind: 'haproxy', edge: null, edgeHttps: null, upstream: 'endpoints',
    pods: { namespace: 'ingress', selector: 'app=haproxy', httpPort: 80, httpsPort: 443 },
  },
];

const CANARY = 'nginx.ingress.kubernetes.io/canary';

function service(namespace: string, name: string): V1Service {
  return { metadata: { namespace, name }, spec: { clusterIP: '127.9.2.1', selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] } };
}

interface IngressOptions {
  /** Annotations. */
  annotations?: Record<string, string>;
  /** Namespace (shop). */
  namespace?: string;
  /** Host (cart.test). */
  host?: string;
  /** Path (/). */
  path?: string;
  /** Path type (Prefix). */
  pathType?: string;
  /** IngressClass (nginx). */
  className?: string;
  /** creationTimestamp, seconds into 2026. */
  createdAt?: number;
}

function ingress(name: string, serviceName: string, options: IngressOptions = {}): V1Ingress {
  return {
    metadata: {
      namespace: options.namespace ?? 'shop', name, annotations: options.annotations,
      creationTimestamp: new Date(Date.UTC(2026, 0, 1) + (options.createdAt ?? 0) * 1000),
    },
    spec: {
      ingressClassName: options.className ?? 'nginx',
      rules: [{ host: options.host ?? 'cart.test', http: { paths: [{ path: options.path ?? '/', pathType: options.pathType ?? 'Prefix', backend: { service: { name: serviceName, port: { number: 80 } } } }] } }],
    },
  };
}

function canary(name: string, serviceName: string, annotations: Record<string, string>, options: IngressOptions = {}): V1Ingress {
  return ingress(name, serviceName, { ...options, annotations: { [CANARY]: 'true', ...annotations } });
}

function routes(ingresses: V1Ingress[]): Route[] {
  const snapshot: ClusterSnapshot = {
    ...emptySnapshot(),
    ingressClasses: [{ metadata: { name: 'nginx' } }, { metadata: { name: 'haproxy' } }],
    services: ['cart', 'cart-v2', 'cart-v3'].map((n) => service('shop', n)),
    ingresses,
  };
  return routesFrom(snapshot, controllers, { clusterDomain: 'cluster.local' });
}

/** [service, weight, share, role, source Ingress, header selector, cookie selector, problem?] per backend. */
function backendsOf(route: Route | undefined): unknown[][] {
  return (route?.backends ?? []).map((b) => [
    b.ref.service, b.weight, b.share, b.role, b.source.name,
    b.selector?.header ? `${b.selector.header.name}=${b.selector.header.value}` : null,
    b.selector?.cookie ? `${b.selector.cookie.name}=${b.selector.cookie.value}` : null,
    b.problem !== null,
  ]);
}

interface Row {
  /** What the row shows. */
  name: string;
  /** The cluster's Ingresses. */
  ingresses: V1Ingress[];
  /** Route keys found. */
  keys: string[];
  /** Backends of the first route. */
  backends?: unknown[][];
}

const rows: Row[] = [
  {
    name: 'weight 25: the canary is a 25 % backend of the main route, which keeps its id; no route of its own',
    ingresses: [ingress('cart', 'cart'), canary('cart-canary', 'cart-v2', { 'nginx.ingress.kubernetes.io/canary-weight': '25' })],
    keys: ['shop/cart cart.test /'],
    backends: [['cart', 75, 0.75, 'primary', 'cart', null, null, false], ['cart-v2', 25, 0.25, 'canary', 'cart-canary', null, null, false]],
  },
  {
    name: 'weight-total 200: weight 50 of 200 is 25 %',
    ingresses: [ingress('cart', 'cart'), canary('cart-canary', 'cart-v2', { 'nginx.ingress.kubernetes.io/canary-weight': '50', 'nginx.ingress.kubernetes.io/canary-weight-total': '200' })],
    keys: ['shop/cart cart.test /'],
    backends: [['cart', 150, 0.75, 'primary', 'cart', null, null, false], ['cart-v2', 50, 0.25, 'canary', 'cart-canary', null, null, false]],
  },
  {
    name: 'weight-total at or below 100 is ignored (balancer.lua uses it only above 100): 30 of 100',
    ingresses: [ingress('cart', 'cart'), canary('cart-canary', 'cart-v2', { 'nginx.ingress.kubernetes.io/canary-weight': '30', 'nginx.ingress.kubernetes.io/canary-weight-total': '50' })],
    keys: ['shop/cart cart.test /'],
    backends: [['cart', 70, 0.7, 'primary', 'cart', null, null, false], ['cart-v2', 30, 0.3, 'canary', 'cart-canary', null, null, false]],
  },
  {
    name: 'a weight above the total sends everything to the canary; an invalid weight is 0',
    ingresses: [ingress('cart', 'cart'), canary('cart-canary', 'cart-v2', { 'nginx.ingress.kubernetes.io/canary-weight': '150' })],
    keys: ['shop/cart cart.test /'],
    backends: [['cart', 0, 0, 'primary', 'cart', null, null, false], ['cart-v2', 150, 1, 'canary', 'cart-canary', null, null, false]],
  },
  {
    name: 'header, cookie and weight together: header and cookie select it, the weight shares the rest',
    ingresses: [
      ingress('cart', 'cart'),
      canary('cart-canary', 'cart-v2', {
        'nginx.ingress.kubernetes.io/canary-weight': '10', 'nginx.ingress.kubernetes.io/canary-by-header': 'X-Canary',
        'nginx.ingress.kubernetes.io/canary-by-header-value': 'yes', 'nginx.ingress.kubernetes.io/canary-by-header-pattern': '^y.*$',
        'nginx.ingress.kubernetes.io/canary-by-cookie': 'beta',
      }),
    ],
    keys: ['shop/cart cart.test /'],
    backends: [['cart', 90, 0.9, 'primary', 'cart', null, null, false], ['cart-v2', 10, 0.1, 'canary', 'cart-canary', 'X-Canary=yes', 'beta=always', false]],
  },
  {
    name: 'header without a value selects with "always"; header only: share 0',
    ingresses: [ingress('cart', 'cart'), canary('cart-canary', 'cart-v2', { 'nginx.ingress.kubernetes.io/canary-by-header': 'X-Canary' })],
    keys: ['shop/cart cart.test /'],
    backends: [['cart', 100, 1, 'primary', 'cart', null, null, false], ['cart-v2', 0, 0, 'canary', 'cart-canary', 'X-Canary=always', null, false]],
  },
  {
    name: 'two canaries on one path: the oldest gets the traffic, the other none (balancer.lua alternative_backends[1])',
    ingresses: [
      ingress('cart', 'cart'),
      canary('cart-b', 'cart-v3', { 'nginx.ingress.kubernetes.io/canary-weight': '40' }, { createdAt: 20 }),
      canary('cart-a', 'cart-v2', { 'nginx.ingress.kubernetes.io/canary-weight': '20' }, { createdAt: 10 }),
    ],
    keys: ['shop/cart cart.test /'],
    backends: [['cart', 80, 0.8, 'primary', 'cart', null, null, false], ['cart-v2', 20, 0.2, 'canary', 'cart-a', null, null, false], ['cart-v3', 40, 0, 'canary', 'cart-b', null, null, true]],
  },
  {
    name: 'a canary without a main Ingress on its host and path serves nothing: no route',
    ingresses: [ingress('cart', 'cart'), canary('orphan', 'cart-v2', { 'nginx.ingress.kubernetes.io/canary-weight': '25' }, { host: 'other.test' })],
    keys: ['shop/cart cart.test /'],
    backends: [['cart', 100, 1, 'primary', 'cart', null, null, false]],
  },
  {
    name: 'no non-canary Ingress at all: nothing is merged, no route',
    ingresses: [canary('orphan', 'cart-v2', { 'nginx.ingress.kubernetes.io/canary-weight': '25' })],
    keys: [],
  },
  {
    name: 'another path type is another location: not merged',
    ingresses: [ingress('cart', 'cart'), canary('cart-canary', 'cart-v2', { 'nginx.ingress.kubernetes.io/canary-weight': '25' }, { pathType: 'Exact' })],
    keys: ['shop/cart cart.test /'],
    backends: [['cart', 100, 1, 'primary', 'cart', null, null, false]],
  },
  {
    name: 'a canary naming the main route\'s own Service is not merged (altEqualsPri)',
    ingresses: [ingress('cart', 'cart'), canary('cart-canary', 'cart', { 'nginx.ingress.kubernetes.io/canary-weight': '25' })],
    keys: ['shop/cart cart.test /'],
    backends: [['cart', 100, 1, 'primary', 'cart', null, null, false]],
  },
  {
    name: 'canary-* without canary: "true" is not a canary: it stays an Ingress of its own',
    ingresses: [ingress('cart', 'cart'), ingress('cart-canary', 'cart-v2', { annotations: { 'nginx.ingress.kubernetes.io/canary-weight': '25' } })],
    keys: ['shop/cart cart.test /', 'shop/cart-canary cart.test /'],
    backends: [['cart', 100, 1, 'primary', 'cart', null, null, false]],
  },
  {
    name: 'a controller that is not ingress-nginx ignores the canary annotations: two routes',
    ingresses: [
      ingress('cart', 'cart', { className: 'haproxy' }),
      canary('cart-canary', 'cart-v2', { 'nginx.ingress.kubernetes.io/canary-weight': '25' }, { className: 'haproxy' }),
    ],
    keys: ['shop/cart cart.test /', 'shop/cart-canary cart.test /'],
  },
];

describe('ingress-nginx canary Ingresses merged into routes', () => {
  for (const row of rows) {
    it(row.name, () => {
      const found = routes(row.ingresses);
      expect(found.map(routeKey)).toEqual(row.keys);
      if (row.backends) expect(backendsOf(found[0])).toEqual(row.backends);
    });
  }

  it('the merged route has the id the main Ingress route had before canaries were merged', () => {
    const [route] = routes([ingress('cart', 'cart'), canary('cart-canary', 'cart-v2', { 'nginx.ingress.kubernetes.io/canary-weight': '25' })]);
    expect(route?.id).toBe(routeId({ namespace: 'shop', ingress: 'cart', host: 'cart.test', path: '/', pathType: 'Prefix', defaultBackend: false }));
    expect(route?.backends[1]?.service?.name).toBe('cart-v2');
    expect(route?.backends[1]?.key).toBe('shop/cart-v2:80');
  });

  it('reads the annotations as ingress-nginx does', () => {
    expect(canarySettings({ [CANARY]: 'false', 'nginx.ingress.kubernetes.io/canary-weight': '5' })).toBeNull();
    const s = canarySettings({ [CANARY]: 'True', 'nginx.ingress.kubernetes.io/canary-weight': 'x', 'nginx.ingress.kubernetes.io/canary-by-header-pattern': 'a|b', 'nginx.ingress.kubernetes.io/canary-by-header': 'H' });
    expect(s).toMatchObject({ weight: 0, total: 100 });
    expect(canaryShare(s!)).toBe(0);
    // A pattern hopwatch cannot write a value for selects nothing it can probe.
    expect(canarySelector(s!)).toBeNull();
    expect(canarySelector({ ...s!, headerPattern: '^beta$' })?.header).toEqual({ name: 'H', value: 'beta' });
  });
});
