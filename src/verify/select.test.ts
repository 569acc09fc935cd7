import type { V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { endpointFacts, routeFixture } from '../../test/fixtures.js';
import { podFacts } from '../discovery/pods.js';
import { parseLabelSelector } from '../discovery/selectors.js';
import { emptySnapshot, type ClusterSnapshot } from '../discovery/snapshot.js';
import type { Route } from '../model.js';
import { CannotVerifyError } from './errors.js';
import type { CanarySpec } from './params.js';
import { planVerifyHops } from './plan.js';
import { podsByRole, selectCanary } from './select.js';

function pod(name: string, replicaSet: string | null, ip: string, labels: Record<string, string> = { app: 'web' }): V1Pod {
  return {
    metadata: {
      namespace: 'shop',
      name,
      labels: { ...labels, ...(replicaSet ? { 'pod-template-hash': replicaSet.split('-').pop() ?? '' } : {}) },
      ownerReferences: replicaSet ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: replicaSet, uid: replicaSet, controller: true }] : [],
    },
    spec: { containers: [{ name: 'app', image: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function replicaSet(name: string, owner: { kind: string; name: string }, annotations: Record<string, string>, created = '2026-01-01T00:00:00Z'): V1ReplicaSet {
  return {
    metadata: {
      namespace: 'shop',
      name,
      annotations,
      creationTimestamp: new Date(created),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: owner.name, controller: true }],
    },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } } },
  };
}

const WEB = { kind: 'Deployment', name: 'web' };
const REV = 'deployment.kubernetes.io/revision';

/** A snapshot with these pods and ReplicaSets; the route's Service selects app=web, every such pod an endpoint. */
function world(pods: V1Pod[], sets: V1ReplicaSet[]): { snapshot: ClusterSnapshot; route: Route } {
  const snapshot = { ...emptySnapshot(), pods, replicaSets: sets, deployments: [{ metadata: { namespace: 'shop', name: 'web' } }] };
  const facts = pods.map(podFacts).filter((p) => p.labels['app'] === 'web');
  return { snapshot, route: routeFixture({ pods: facts, endpoints: facts.map((p) => endpointFacts(p)) }) };
}

const REVISION: CanarySpec = { kind: 'revision' };
const names = (pods: { name: string }[]): string[] => pods.map((p) => p.name);

describe('selectCanary by revision', () => {
  it('takes the newest ReplicaSet of the Deployment by revision as the canary, older ones as stable', () => {
    const { snapshot, route } = world(
      [pod('web-old-0', 'web-old', '10.2.0.1'), pod('web-old-1', 'web-old', '10.2.0.2'), pod('web-new-0', 'web-new', '10.2.0.3')],
      // The newer revision was created earlier: the revision decides.
      [replicaSet('web-old', WEB, { [REV]: '9' }, '2026-01-02T00:00:00Z'), replicaSet('web-new', WEB, { [REV]: '10' }, '2026-01-01T00:00:00Z')],
    );
    const selection = selectCanary(snapshot, route, REVISION, null);
    expect(selection).toMatchObject({ canaryReplicaSet: 'web-new', revision: 10, stableReplicaSets: ['web-old'], owner: WEB });
    expect(selection.description).toBe('newest ReplicaSet web-new (revision 10) of Deployment shop/web');
    const roles = podsByRole(selection, snapshot, route);
    expect(names(roles.canary)).toEqual(['web-new-0']);
    expect(names(roles.stable)).toEqual(['web-old-0', 'web-old-1']);
  });

  it('breaks a revision tie (or no annotation) by creation time', () => {
    const { snapshot, route } = world(
      [pod('web-a-0', 'web-a', '10.2.0.1'), pod('web-b-0', 'web-b', '10.2.0.2')],
      [replicaSet('web-a', WEB, {}, '2026-01-01T00:00:00Z'), replicaSet('web-b', WEB, {}, '2026-01-01T00:05:00Z')],
    );
    expect(selectCanary(snapshot, route, REVISION, null)).toMatchObject({ canaryReplicaSet: 'web-b', revision: null, stableReplicaSets: ['web-a'] });
  });

  it('follows an Argo Rollout as the owner, with its own revision annotation', () => {
    const rollout = { kind: 'Rollout', name: 'web' };
    const { snapshot, route } = world(
      [pod('web-1a-0', 'web-1a', '10.2.0.1'), pod('web-2b-0', 'web-2b', '10.2.0.2')],
      [replicaSet('web-1a', rollout, { 'rollout.argoproj.io/revision': '1' }), replicaSet('web-2b', rollout, { 'rollout.argoproj.io/revision': '2' })],
    );
    expect(selectCanary(snapshot, route, REVISION, null)).toMatchObject({ owner: rollout, canaryReplicaSet: 'web-2b', revision: 2 });
  });

  it('uses the --wait-rollout Deployment when given, and says so when it does not exist', () => {
    const { snapshot, route } = world([pod('web-new-0', 'web-new', '10.2.0.1')], [replicaSet('web-new', WEB, { [REV]: '2' })]);
    expect(selectCanary(snapshot, route, REVISION, { namespace: 'shop', name: 'web' }).canaryReplicaSet).toBe('web-new');
    expect(() => selectCanary(snapshot, route, REVISION, { namespace: 'shop', name: 'api' })).toThrow(new CannotVerifyError('NO_DEPLOYMENT', 'Deployment shop/api does not exist'));
  });

  it.each([
    [
      'a newest ReplicaSet without pods',
      [pod('web-old-0', 'web-old', '10.2.0.1')],
      [replicaSet('web-old', WEB, { [REV]: '1' }), replicaSet('web-new', WEB, { [REV]: '2' })],
      'NO_CANARY',
      'no canary pods: newest ReplicaSet web-new (revision 2) of Deployment shop/web has no pods in shop',
    ],
    ['pods without a ReplicaSet', [pod('web-0', null, '10.2.0.1')], [], 'NO_OWNER', 'the pods of Service shop/web are not owned by ReplicaSets of a Deployment: give --canary SELECTOR'],
    ['a Service selecting no pod', [], [], 'NO_OWNER', 'Service shop/web selects no pods: give --canary SELECTOR'],
    [
      'pods of two Deployments',
      [pod('web-a-0', 'web-a', '10.2.0.1'), pod('api-b-0', 'api-b', '10.2.0.2')],
      [replicaSet('web-a', WEB, {}), replicaSet('api-b', { kind: 'Deployment', name: 'api' }, {})],
      'NO_OWNER',
      'the pods of Service shop/web belong to several workloads (Deployment web, Deployment api): give --wait-rollout deployment/NAME or --canary SELECTOR',
    ],
  ])('cannot verify %s', (_, pods, sets, code, message) => {
    const { snapshot, route } = world(pods, sets);
    expect(() => selectCanary(snapshot, route, REVISION, null)).toThrow(message);
    try {
      selectCanary(snapshot, route, REVISION, null);
    } catch (error) {
      expect(error).toMatchObject({ code });
    }
  });
});

describe('selectCanary by selector', () => {
  it('takes matching pods of the namespace as the canary, even outside the Service, and the Service\'s others as stable', () => {
    // Flagger's layout: the Service (app=web) selects the primary; the canary pods are app=web-canary.
    const canaryPods = [pod('web-canary-0', null, '10.2.1.1', { app: 'web-canary', track: 'canary' })];
    const { snapshot, route } = world([pod('web-primary-0', null, '10.2.0.1'), pod('web-primary-1', null, '10.2.0.2'), ...canaryPods], []);
    const selection = selectCanary(snapshot, route, { kind: 'selector', text: 'track=canary', selector: parseLabelSelector('track=canary') }, null);
    expect(selection.description).toBe('selector track=canary');
    const roles = podsByRole(selection, snapshot, route);
    expect(names(roles.canary)).toEqual(['web-canary-0']);
    expect(names(roles.stable)).toEqual(['web-primary-0', 'web-primary-1']);

    const hops = planVerifyHops(route, roles, { timeoutMs: 1000, dnsServer: null, clusterDomain: 'cluster.local' });
    const pods = hops.filter((h) => h.hop.hop === 'pod').map((h) => [h.hop.pod, h.hop.target, h.role]);
    // The canary pod is no endpoint of the Service: planned apart, on the targetPort resolved by name.
    expect(pods).toEqual([
      ['shop/web-primary-0', '10.2.0.1:8080', 'stable'],
      ['shop/web-primary-1', '10.2.0.2:8080', 'stable'],
      ['shop/web-canary-0', '10.2.1.1:8080', 'canary'],
    ]);
    expect(hops.filter((h) => h.hop.hop !== 'pod').map((h) => h.role)).toEqual(['dns', 'edge', 'controller', 'controller', 'service']);
  });

  it('fails with NO_CANARY when the selector matches no pod', () => {
    const { snapshot, route } = world([pod('web-0', null, '10.2.0.1')], []);
    expect(() => selectCanary(snapshot, route, { kind: 'selector', text: 'track=canary', selector: parseLabelSelector('track=canary') }, null)).toThrow(
      'no canary pods: selector track=canary has no pods in shop',
    );
  });
});

describe('planVerifyHops', () => {
  it('marks endpoints that are neither canary nor stable as plain pods, and skips canary pods without the named port', () => {
    const { route } = world([pod('web-0', null, '10.2.0.1')], []);
    const noPort: V1Pod = { ...pod('web-canary-0', null, '10.2.1.1', { track: 'canary' }), spec: { containers: [{ name: 'app', image: 'app', ports: [{ name: 'grpc', containerPort: 9090 }] }] } };
    const roles = { canary: [podFacts(noPort)], stable: [] };
    const hops = planVerifyHops(route, roles, { timeoutMs: 1000, dnsServer: null, clusterDomain: 'cluster.local' });
    expect(hops.filter((h) => h.hop.hop === 'pod').map((h) => [h.hop.pod, h.role])).toEqual([['shop/web-0', 'pod']]);
  });

  it('plans nothing for a route that cannot be probed', () => {
    const route = routeFixture({ notProbeable: 'regex path' });
    expect(planVerifyHops(route, { canary: route.backends[0]!.pods, stable: [] }, { timeoutMs: 1000, dnsServer: null, clusterDomain: 'cluster.local' })).toEqual([]);
  });
});
