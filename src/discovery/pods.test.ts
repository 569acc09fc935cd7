import { describe, expect, it } from 'vitest';
import type { V1Pod, V1Probe } from '@kubernetes/client-node';
import { isTimestampSet, podFacts, summariseProbe } from './pods.js';

function pod(overrides: { metadata?: V1Pod['metadata']; spec?: V1Pod['spec']; status?: V1Pod['status'] } = {}): V1Pod {
  return {
    metadata: { namespace: 'shop', name: 'web-abc-1', labels: { app: 'web', 'pod-template-hash': 'abc' }, ...overrides.metadata },
    spec: overrides.spec ?? {
      containers: [{ name: 'web', ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 9090, protocol: 'UDP' }] }],
    },
    status: overrides.status ?? {
      phase: 'Running',
      podIP: '127.9.1.1',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'web', image: 'web', imageID: '', ready: true, restartCount: 0, state: { running: {} } }],
    },
  };
}

describe('podFacts', () => {
  it('a healthy pod', () => {
    expect(podFacts(pod())).toEqual({
      namespace: 'shop',
      name: 'web-abc-1',
      ip: '127.9.1.1',
      phase: 'Running',
      ready: true,
      restarts: 0,
      stateReason: null,
      containerPorts: [
        { name: 'http', port: 8080, protocol: 'TCP' },
        { name: null, port: 9090, protocol: 'UDP' },
      ],
      labels: { app: 'web', 'pod-template-hash': 'abc' },
      templateHash: 'abc',
      replicaSet: null,
      terminating: false,
      readinessProbe: null,
    });
  });

  it('CrashLoopBackOff: not ready, restarts summed, waiting reason wins over terminated', () => {
    const facts = podFacts(
      pod({
        status: {
          phase: 'Running',
          podIP: '127.9.1.2',
          conditions: [{ type: 'Ready', status: 'False' }],
          containerStatuses: [
            { name: 'sidecar', image: 's', imageID: '', ready: false, restartCount: 2, state: { terminated: { exitCode: 1, reason: 'Error' } } },
            { name: 'web', image: 'w', imageID: '', ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } } },
          ],
        },
      }),
    );
    expect(facts).toMatchObject({ ready: false, restarts: 7, stateReason: 'CrashLoopBackOff' });
  });

  it('terminated reason when nothing waits', () => {
    const facts = podFacts(
      pod({
        status: {
          phase: 'Failed',
          containerStatuses: [{ name: 'web', image: 'w', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }],
        },
      }),
    );
    expect(facts).toMatchObject({ ip: null, phase: 'Failed', ready: false, stateReason: 'OOMKilled' });
  });

  it('owner ReplicaSet (the controller owner first) and template hash', () => {
    const facts = podFacts(
      pod({
        metadata: {
          ownerReferences: [
            { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: '1' },
            { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-old', uid: '2' },
            { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: '3', controller: true },
          ],
        },
      }),
    );
    expect(facts.replicaSet).toBe('web-abc');
  });

  const timestamps: { name: string; deletionTimestamp: unknown; terminating: boolean }[] = [
    { name: 'Date', deletionTimestamp: new Date('2025-01-01T00:00:00Z'), terminating: true },
    { name: 'string', deletionTimestamp: '2025-01-01T00:00:00Z', terminating: true },
    { name: 'empty string', deletionTimestamp: '', terminating: false },
    { name: 'absent', deletionTimestamp: undefined, terminating: false },
  ];
  for (const t of timestamps) {
    it(`terminating from a deletionTimestamp given as ${t.name}`, () => {
      // Raw JSON objects carry strings where client-node's types say Date.
      const metadata = { deletionTimestamp: t.deletionTimestamp } as unknown as V1Pod['metadata'];
      expect(podFacts(pod({ metadata })).terminating).toBe(t.terminating);
      expect(isTimestampSet(t.deletionTimestamp)).toBe(t.terminating);
    });
  }

  it('readiness probe of the first container declaring one', () => {
    const facts = podFacts(
      pod({
        spec: {
          containers: [
            { name: 'init-like' },
            { name: 'web', readinessProbe: { httpGet: { port: 8080, path: '/healthz' } } },
            { name: 'other', readinessProbe: { exec: { command: ['true'] } } },
          ],
        },
      }),
    );
    expect(facts.readinessProbe).toBe('http-get :8080/healthz');
    expect(facts.containerPorts).toEqual([]);
  });
});

describe('summariseProbe', () => {
  const cases: { name: string; probe: V1Probe; summary: string }[] = [
    { name: 'http', probe: { httpGet: { port: 8080, path: '/healthz' } }, summary: 'http-get :8080/healthz' },
    { name: 'http without path', probe: { httpGet: { port: 'http' } }, summary: 'http-get :http/' },
    { name: 'https', probe: { httpGet: { port: 8443, path: '/ready', scheme: 'HTTPS' } }, summary: 'https-get :8443/ready' },
    { name: 'tcp', probe: { tcpSocket: { port: 8080 } }, summary: 'tcp :8080' },
    { name: 'grpc', probe: { grpc: { port: 9090 } }, summary: 'grpc :9090' },
    { name: 'exec', probe: { exec: { command: ['cat', '/tmp/ready'] } }, summary: 'exec' },
    { name: 'nothing', probe: {}, summary: 'unknown' },
  ];
  for (const c of cases) it(c.name, () => expect(summariseProbe(c.probe)).toBe(c.summary));
});
