import { describe, expect, it } from 'vitest';
// client-node 1.4 does not re-export its ObjectSerializer from the package index.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { typeInPlace } from './typed.js';

const MANAGED = [{ manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: '2026-12-06T09:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': {} } }];
const meta = (name: string) => ({
  name, namespace: 'shop', uid: `uid-${name}`, resourceVersion: '42', generation: 3, creationTimestamp: '2026-12-01T08:00:00Z',
  labels: { app: 'web' }, annotations: { 'a/b': 'c' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'u', controller: true }],
  managedFields: MANAGED,
});
const condition = { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'ok', lastTransitionTime: '2026-12-01T08:01:00Z', lastUpdateTime: '2026-12-01T08:02:00Z' };

/** Objects as a real API server sends them, every Date field and renamed field of the watched kinds present. */
const OBJECTS: [string, Record<string, unknown>][] = [
  ['V1Pod', {
    apiVersion: 'v1', kind: 'Pod', metadata: { ...meta('web-1-abc'), deletionTimestamp: '2026-12-06T10:00:00Z', deletionGracePeriodSeconds: 30 },
    spec: { containers: [{ name: 'app', image: 'web:1', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }], readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5 } }], nodeName: 'n1' },
    status: {
      phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }], startTime: '2026-12-01T08:00:05Z',
      conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-12-01T08:00:09Z' }],
      containerStatuses: [{
        name: 'app', ready: true, restartCount: 1, image: 'web:1', imageID: 'sha', started: true,
        state: { running: { startedAt: '2026-12-01T08:00:07Z' } },
        lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: '2026-12-01T07:00:00Z', finishedAt: '2026-12-01T08:00:06Z' } },
      }],
    },
  }],
  ['V1Service', {
    apiVersion: 'v1', kind: 'Service', metadata: meta('web'),
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { port: 81, targetPort: 8081 }], clusterIP: '10.96.0.10', type: 'ClusterIP' },
    status: { loadBalancer: {}, conditions: [{ type: 'X', status: 'True', reason: 'R', message: 'm', lastTransitionTime: '2026-12-01T08:00:00Z' }] },
  }],
  ['V1EndpointSlice', {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: meta('web-x1'), addressType: 'IPv4',
    endpoints: [{ addresses: ['10.0.0.5'], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', name: 'web-1-abc', namespace: 'shop' }, nodeName: 'n1' }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  }],
  ['V1Ingress', {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: meta('web'),
    spec: { ingressClassName: 'nginx', tls: [{ hosts: ['a.test'], secretName: 's' }], rules: [{ host: 'a.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'http' } } } }] } }] },
    status: { loadBalancer: { ingress: [{ ip: '127.0.0.1', ports: [{ port: 80, protocol: 'TCP' }] }] } },
  }],
  ['V1IngressClass', { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: meta('nginx'), spec: { controller: 'k8s.io/ingress-nginx', parameters: { kind: 'C', name: 'p' } } }],
  ['V1NetworkPolicy', {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('allow'),
    spec: {
      podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'nginx' } }, namespaceSelector: { matchExpressions: [{ key: 'k', operator: 'In', values: ['v'] }] } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 'http', protocol: 'TCP' }] }, { ports: [{ port: 9090 }] }],
      egress: [{ to: [{ podSelector: {} }], ports: [{ port: 53, endPort: 60, protocol: 'UDP' }] }],
    },
  }],
  ['V1Deployment', {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('web'),
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' }, creationTimestamp: null }, spec: { containers: [{ name: 'app', image: 'web:1' }] } }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } } },
    status: { replicas: 2, readyReplicas: 2, observedGeneration: 3, conditions: [condition] },
  }],
  ['V1ReplicaSet', {
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta('web-1'),
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'web:1' }] } } },
    status: { replicas: 2, conditions: [{ type: 'ReplicaFailure', status: 'False', lastTransitionTime: '2026-12-01T08:03:00Z' }] },
  }],
  ['V1Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: meta('shop'), status: { phase: 'Active', conditions: [{ type: 'T', status: 'False', lastTransitionTime: '2026-12-01T08:04:00Z' }] } }],
];

/** Pure: a value as plain data to compare: Dates as tagged ISO strings, undefined fields left out, classes as plain objects. */
function canonical(value: unknown): unknown {
  if (value instanceof Date) return { date: value.toISOString() };
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, canonical(v)]));
}

describe('typeInPlace', () => {
  it.each(OBJECTS)('gives %s what client-node ObjectSerializer.deserialize gives, without managedFields', (model, json) => {
    const expected = canonical(ObjectSerializer.deserialize(structuredClone(json), model)) as { metadata: Record<string, unknown> };
    delete expected.metadata.managedFields;
    const input = structuredClone(json);
    const typed = typeInPlace(input, model);
    expect(typed).toBe(input);
    expect(canonical(typed)).toEqual(expected);
  });

  it('converts the Date fields and the renamed field it is meant to', () => {
    const pod = typeInPlace(structuredClone(OBJECTS[0]![1]), 'V1Pod') as { metadata: { creationTimestamp: unknown; managedFields: unknown }; status: { containerStatuses: { lastState: { terminated: { finishedAt: unknown } } }[] } };
    expect(pod.metadata.creationTimestamp).toEqual(new Date('2026-12-01T08:00:00Z'));
    expect(pod.status.containerStatuses[0]!.lastState.terminated.finishedAt).toEqual(new Date('2026-12-01T08:00:06Z'));
    expect(pod.metadata.managedFields).toBeUndefined();
    const policy = typeInPlace(structuredClone(OBJECTS[5]![1]), 'V1NetworkPolicy') as { spec: { ingress: Record<string, unknown>[] } };
    expect(Object.keys(policy.spec.ingress[0]!)).toEqual(['ports', '_from']);
  });

  it('keeps fields the model does not know and leaves null timestamps null', () => {
    const object = typeInPlace({ metadata: { name: 'x', creationTimestamp: null }, futureField: { a: 1 } }, 'V1Service') as Record<string, unknown>;
    expect(object).toEqual({ metadata: { name: 'x', creationTimestamp: null }, futureField: { a: 1 } });
  });
});
