// IncrementalRoutes against the reference: after every step of random sequences of changes to every
// kind (Ingresses sharing hosts, Services, EndpointSlices moving between Services, backend and
// controller pods changing labels, NetworkPolicies, Namespaces, IngressClasses, ReplicaSets, relists),
// its answer equals routesFrom on the whole snapshot. A seeded generator: a failure names its seed.

import type { KubernetesObject, V1EndpointSlice, V1Ingress, V1NetworkPolicy, V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { FakeSource, rng } from '../../test/fixtures.js';
import type { ControllerConfig } from '../config/types.js';
import { IncrementalRoutes } from './incremental.js';
import { routesFrom } from './routes.js';
import { type ClusterSnapshot, emptySnapshot } from './snapshot.js';

const controllers: ControllerConfig[] = [{
  ingressClass: 'nginx', kind: 'ingress-nginx', edge: 'http://127.9.0.80:18080', edgeHttps: null, upstream: 'endpoints',
  pods: { namespace: 'ingress', selector: 'app=nginx', httpPort: 18080, httpsPort: 18443 },
}];
const options = { clusterDomain: 'cluster.local' };

const NAMESPACES = ['shop', 'blog', 'ingress'];
const HOSTS = ['a.test', 'b.test', 'c.test', null];
const SERVICES = ['web', 'api', 'ext'];
const APPS = ['web', 'api', 'nginx', 'other'];

/** A random object of a kind, named from a small pool so changes hit the same objects again. */
function randomObject(r: ReturnType<typeof rng>, kind: keyof ClusterSnapshot): KubernetesObject {
  const namespace = r.pick(NAMESPACES);
  switch (kind) {
    case 'ingresses': {
      const rules = Array.from({ length: 1 + r.int(2) }, () => ({
        ...(r.pick(HOSTS) === null ? {} : { host: r.pick(HOSTS.filter((h) => h !== null)) as string }),
        http: { paths: [{ path: r.pick(['/', '/x']), pathType: 'Prefix', backend: { service: { name: r.pick(SERVICES), port: { name: 'http' } } } }] },
      }));
      const annotations: Record<string, string> = r.int(4) === 0 ? { 'nginx.ingress.kubernetes.io/canary': 'true' } : {};
      const ingress: V1Ingress = { metadata: { namespace, name: `ing-${r.int(5)}`, annotations }, spec: { ingressClassName: r.pick(['nginx', 'nginx', 'other']), rules } };
      if (r.int(5) === 0) ingress.spec!.defaultBackend = { service: { name: r.pick(SERVICES), port: { number: 80 } } };
      return ingress;
    }
    case 'services': {
      const service: V1Service = { metadata: { namespace, name: r.pick(SERVICES) }, spec: { clusterIP: `10.0.${r.int(9)}.${r.int(9)}`, selector: r.int(4) === 0 ? undefined : { app: r.pick(APPS) }, ports: [{ name: 'http', port: 80, targetPort: 'http' as unknown as never }] } };
      return service;
    }
    case 'endpointSlices': {
      const slice: V1EndpointSlice = {
        metadata: { namespace, name: `slice-${r.int(6)}`, labels: { 'kubernetes.io/service-name': r.pick(SERVICES) } }, addressType: 'IPv4',
        ports: [{ name: 'http', port: 8080 }],
        endpoints: Array.from({ length: r.int(3) }, () => ({ addresses: [`127.9.${r.int(9)}.${r.int(9)}`], conditions: { ready: r.int(3) > 0, terminating: r.int(5) === 0 } })),
      };
      return slice;
    }
    case 'pods': {
      const ns = r.int(3) === 0 ? 'ingress' : namespace;
      const pod: V1Pod = {
        metadata: { namespace: ns, name: `pod-${r.int(6)}`, labels: { app: r.pick(APPS) } },
        spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
        status: { phase: 'Running', podIP: `127.9.${r.int(9)}.${r.int(9)}`, conditions: [{ type: 'Ready', status: r.pick(['True', 'False']) }] },
      };
      return pod;
    }
    case 'networkPolicies': {
      const policy: V1NetworkPolicy = {
        metadata: { namespace, name: `pol-${r.int(3)}` },
        spec: { podSelector: { matchLabels: { app: r.pick(APPS) } }, policyTypes: ['Ingress'], ingress: r.int(2) === 0 ? [] : [{ _from: [{ namespaceSelector: { matchLabels: { team: 'platform' } } }] }] },
      };
      return policy;
    }
    case 'namespaces':
      return { metadata: { name: r.pick(NAMESPACES), labels: r.int(2) === 0 ? { team: 'platform' } : {} } };
    case 'ingressClasses':
      return { metadata: { name: r.pick(['nginx', 'other']), annotations: r.int(2) === 0 ? { 'ingressclass.kubernetes.io/is-default-class': 'true' } : {} }, spec: { controller: 'k8s.io/ingress-nginx' } } as KubernetesObject;
    case 'replicaSets':
    case 'deployments':
      return { metadata: { namespace, name: `rs-${r.int(3)}` }, spec: { replicas: r.int(3) } } as KubernetesObject;
    default:
      // The Gateway API kinds: routesFrom does not read them (follow.ts recomputes HTTPRoute routes).
      return { metadata: { namespace, name: `${kind}-${r.int(3)}` } };
  }
}

const KINDS = Object.keys(emptySnapshot()) as (keyof ClusterSnapshot)[];

function keyOf(o: KubernetesObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** Applies one random change: an add or update (4 in 5), or a delete of an existing object. */
function randomChange(r: ReturnType<typeof rng>, source: FakeSource): void {
  const kind = r.pick(KINDS);
  const existing = [...source.objects.get(kind)!.keys()];
  if (existing.length > 0 && r.int(5) === 0) {
    source.put(kind, null, r.pick(existing));
    return;
  }
  const object = randomObject(r, kind);
  source.put(kind, object, keyOf(object));
}

describe('IncrementalRoutes', () => {
  it('equals routesFrom on the whole snapshot after every step of random change sequences', () => {
    let partial = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(seed);
      const source = new FakeSource();
      for (let i = 0; i < 40; i++) randomChange(r, source);
      const engine = new IncrementalRoutes(controllers, options);
      // What the run loop keeps: routes by id, from the deltas alone.
      const view = new Map<string, unknown>();
      for (let step = 0; step < 60; step++) {
        const changes = 1 + r.int(3);
        for (let c = 0; c < changes; c++) randomChange(r, source);
        // Now and then a relist: everything at once.
        if (r.int(25) === 0) source.pending = 'all';
        const delta = engine.updateDelta(source);
        if (delta.full) view.clear();
        for (const id of delta.full ? [] : delta.removed) view.delete(id);
        for (const route of delta.full ? delta.routes : delta.upserted) view.set(route.id, route);
        const want = routesFrom(source.snapshot(), controllers, options);
        expect(engine.routes(), `seed ${seed}, step ${step}`).toEqual(want);
        expect(view, `seed ${seed}, step ${step}: the deltas`).toEqual(new Map(want.map((route) => [route.id, route])));
      }
      partial += engine.stats.partial;
    }
    // The sequences above must exercise the partial path, not only full recomputes.
    expect(partial).toBeGreaterThan(500);
  });

  it('recomputes only the Ingresses of the changed Service, widened to those sharing a host', () => {
    const source = new FakeSource();
    const ingress = (name: string, host: string, service: string): V1Ingress => ({
      metadata: { namespace: 'shop', name }, spec: { ingressClassName: 'nginx', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }] },
    });
    for (let i = 0; i < 50; i++) source.put('ingresses', ingress(`ing-${i}`, `h${i}.test`, `svc-${i}`), `shop/ing-${i}`);
    source.put('ingresses', ingress('canary', 'h7.test', 'svc-canary'), 'shop/canary');
    const engine = new IncrementalRoutes(controllers, options);
    const first = engine.update(source);
    expect(first).toHaveLength(51);
    source.put('services', { metadata: { namespace: 'shop', name: 'svc-canary' }, spec: { clusterIP: '10.0.0.9', ports: [{ port: 80 }] } } as V1Service, 'shop/svc-canary');
    const second = engine.update(source);
    expect(engine.stats).toMatchObject({ full: 1, partial: 1, lastIngresses: 2 });
    expect(second).toEqual(routesFrom(source.snapshot(), controllers, options));
    // Routes of Ingresses nothing touched are the same objects (the daemon reuses what it derived from them).
    expect(second.filter((route) => first.includes(route))).toHaveLength(49);
    // A controller pod cannot be attributed: everything is recomputed.
    source.put('pods', { metadata: { namespace: 'ingress', name: 'nginx-1', labels: { app: 'nginx' } }, status: { podIP: '127.9.0.2' } } as V1Pod, 'ingress/nginx-1');
    engine.update(source);
    expect(engine.stats.full).toBe(2);
  });
});
