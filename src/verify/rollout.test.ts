import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { emptySnapshot } from '../discovery/snapshot.js';
import { isRolledOut, rolloutReadiness } from './rollout.js';

const ns = 'shop';

function deployment(replicas: number): V1Deployment {
  return { metadata: { namespace: ns, name: 'web', generation: 2 }, spec: { replicas, selector: {}, template: {} }, status: { observedGeneration: 2 } };
}

function replicaSet(name: string, revision: string, replicas: number): V1ReplicaSet {
  return {
    metadata: { namespace: ns, name, annotations: { 'deployment.kubernetes.io/revision': revision }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u' }] },
    spec: { replicas, selector: {} },
  };
}

function readyPod(name: string, rs: string): V1Pod {
  return {
    metadata: { namespace: ns, name, labels: { 'pod-template-hash': rs.split('-')[1] ?? '' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: 'u' }] },
    status: { phase: 'Running', podIP: '10.2.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

describe('rolloutReadiness', () => {
  it('is not rolled out while the newest ReplicaSet has fewer ready pods than the Deployment wants (a rolling update in progress)', () => {
    const snapshot = { ...emptySnapshot(), deployments: [deployment(3)], replicaSets: [replicaSet('web-old', '1', 2), replicaSet('web-new', '2', 1)], pods: [readyPod('web-new-0', 'web-new')] };
    const state = rolloutReadiness(snapshot, { namespace: ns, name: 'web' });
    expect(state).toMatchObject({ replicaSet: 'web-new', desired: 3, ready: 1 });
    expect(isRolledOut(state!)).toBe(false);
  });

  it('is rolled out when the newest ReplicaSet has every wanted pod ready', () => {
    const pods = ['a', 'b', 'c'].map((n) => readyPod(`web-new-${n}`, 'web-new'));
    const snapshot = { ...emptySnapshot(), deployments: [deployment(3)], replicaSets: [replicaSet('web-new', '2', 3)], pods };
    expect(isRolledOut(rolloutReadiness(snapshot, { namespace: ns, name: 'web' })!)).toBe(true);
  });
});
