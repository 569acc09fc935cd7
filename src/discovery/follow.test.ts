// Both front doors from one change feed: the answer equals a full recompute after every change,
// HTTPRoute routes included, and a route nothing touched keeps its object.

import type { KubernetesObject, V1Ingress, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { FollowedRoutes } from './follow.js';
import type { GatewayObject, HttpRouteObject } from './gateway-types.js';
import { routesFromHttpRoutes } from './httproute.js';
import type { ObjectChange, ObjectChanges, ObjectSource } from './incremental.js';
import { routesFrom } from './routes.js';
import { type ClusterSnapshot, emptySnapshot } from './snapshot.js';

const gateway: GatewayObject = {
  metadata: { namespace: 'edge', name: 'public' },
  spec: { gatewayClassName: 'fabric', listeners: [{ name: 'web', port: 80, protocol: 'HTTP' }] },
  status: { addresses: [{ type: 'IPAddress', value: '198.51.100.7' }], conditions: [{ type: 'Programmed', status: 'True', reason: 'Programmed' }] },
};

function httpRoute(name: string, host: string, service: string): HttpRouteObject {
  return {
    metadata: { namespace: 'orders', name, creationTimestamp: '2026-03-01T00:00:00Z' },
    spec: { parentRefs: [{ name: 'public', namespace: 'edge' }], hostnames: [host], rules: [{ backendRefs: [{ name: service, port: 9090 }] }] },
  };
}

function service(name: string): V1Service {
  return { metadata: { namespace: 'orders', name }, spec: { clusterIP: '10.96.0.9', selector: { app: name }, ports: [{ name: 'api', port: 9090, targetPort: 9091 as never }] } };
}

const ingress: V1Ingress = {
  metadata: { namespace: 'orders', name: 'legacy' },
  spec: { ingressClassName: 'nginx', rules: [{ host: 'old.orders.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'ledger', port: { number: 9090 } } } }] } }] },
};

/** An in-memory watch: objects by kind, and the changes since the last take. */
class Feed implements ObjectSource {
  readonly state: ClusterSnapshot = {
    ...emptySnapshot(),
    gatewayClasses: [{ metadata: { name: 'fabric' }, spec: { controllerName: 'gateway.nginx.org/nginx-gateway-controller' } }],
  };
  pending: ObjectChange[] | 'all' = 'all';

  set(kind: keyof ClusterSnapshot, added: KubernetesObject | GatewayObject | HttpRouteObject): void {
    // The Gateway API types carry string timestamps where client-node's carry Dates; the feed does not read them.
    const object = added as KubernetesObject;
    const list = this.state[kind] as KubernetesObject[];
    const at = list.findIndex((o) => o.metadata?.name === object.metadata?.name && o.metadata?.namespace === object.metadata?.namespace);
    if (at >= 0) list[at] = object;
    else list.push(object);
    if (this.pending !== 'all') this.pending.push({ kind, key: `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`, object });
  }

  snapshot(): ClusterSnapshot {
    return structuredClone(this.state);
  }

  takeChanges(): ObjectChanges {
    const taken = this.pending;
    this.pending = [];
    return taken === 'all' ? { all: true } : { all: false, changes: taken };
  }
}

function whole(feed: Feed): string[] {
  const snapshot = feed.snapshot();
  return [...routesFrom(snapshot, [], { clusterDomain: 'cluster.local' }), ...routesFromHttpRoutes(snapshot, [], {})].map((r) => JSON.stringify(r)).sort();
}

describe('FollowedRoutes', () => {
  it('equals a full recompute of both front doors after each change, and keeps untouched HTTPRoute routes', () => {
    const feed = new Feed();
    feed.set('ingresses', ingress);
    feed.set('gateways', gateway);
    feed.set('httpRoutes', httpRoute('checkout', 'pay.orders.test', 'payments'));
    feed.set('httpRoutes', httpRoute('catalog', 'shop.orders.test', 'catalog'));
    const followed = new FollowedRoutes({ controllers: [], gateways: [], clusterDomain: 'cluster.local', namespaces: null });
    const first = followed.delta(feed);
    expect(first.full).toBe(true);
    expect(followed.current().map((r) => JSON.stringify(r)).sort()).toEqual(whole(feed));
    const catalogBefore = followed.current().find((r) => r.name === 'catalog');

    // A Service one HTTPRoute reads: only that route changes.
    feed.set('services', service('payments'));
    const delta = followed.delta(feed);
    expect(delta.full).toBe(false);
    if (delta.full) return;
    expect(delta.upserted.map((r) => r.name)).toEqual(['checkout']);
    expect(followed.current().map((r) => JSON.stringify(r)).sort()).toEqual(whole(feed));
    expect(followed.current().find((r) => r.name === 'catalog')).toBe(catalogBefore);

    // A new HTTPRoute appears; nothing at all changes afterwards: the same answer.
    feed.set('httpRoutes', httpRoute('returns', 'returns.orders.test', 'ledger'));
    followed.delta(feed);
    expect(followed.current().map((r) => r.name).sort()).toEqual(['catalog', 'checkout', 'legacy', 'returns']);
    const same = followed.current();
    const none = followed.delta(feed);
    expect(none).toEqual({ full: false, upserted: [], removed: [] });
    expect(followed.current()).toBe(same);
  });
});
