// Leases (coordination.k8s.io/v1) on the lab API server, through the real @kubernetes/client-node
// CoordinationV1Api: create answers 409 AlreadyExists for a taken name, replace answers 409 Conflict
// when its resourceVersion is stale, so of replicas racing from the same read exactly one wins.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabApiServer } from './apiserver.js';
import { writeKubeconfig } from './kubeconfig.js';

// Every address here is 127.218.x.x, every port ephemeral.
const HOST = '127.218.0.1';

let server: LabApiServer;
let leases: k8s.CoordinationV1Api;
let dir: string;

beforeEach(async () => {
  server = await LabApiServer.start({ host: HOST, port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'hopwatch-leases-'));
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(await writeKubeconfig({ path: join(dir, 'kubeconfig'), server: server.url, namespace: 'hopwatch' }));
  leases = kc.makeApiClient(k8s.CoordinationV1Api);
});

afterEach(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

const lease = (holder: string): k8s.V1Lease => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'hopwatch', namespace: 'hopwatch' },
  spec: { holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: new Date(), renewTime: new Date(), leaseTransitions: 0 },
});

describe('Leases over HTTP', () => {
  it('are discovered with their write verbs', async () => {
    const list = (await (await fetch(`${server.url}/apis/coordination.k8s.io/v1`)).json()) as { resources: { name: string; verbs: string[] }[] };
    expect(list.resources).toEqual([expect.objectContaining({ name: 'leases', verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'] })]);
  });

  it('create: 201 with uid and resourceVersion, then 409 AlreadyExists for the same name', async () => {
    const created = await leases.createNamespacedLease({ namespace: 'hopwatch', body: lease('a') });
    expect(created.metadata?.uid).toMatch(/-/);
    expect(created.spec?.holderIdentity).toBe('a');
    await expect(leases.createNamespacedLease({ namespace: 'hopwatch', body: lease('b') })).rejects.toMatchObject({ code: 409 });
    const read = await leases.readNamespacedLease({ namespace: 'hopwatch', name: 'hopwatch' });
    expect(read.spec?.holderIdentity).toBe('a');
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
  });

  it('replace: the current resourceVersion wins and bumps it; a stale one gets 409 Conflict and changes nothing', async () => {
    const created = await leases.createNamespacedLease({ namespace: 'hopwatch', body: lease('a') });
    const renewed = await leases.replaceNamespacedLease({ namespace: 'hopwatch', name: 'hopwatch', body: { ...created, spec: { ...created.spec, renewTime: new Date(Date.now() + 1000) } } });
    expect(Number(renewed.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));
    const stale = { ...created, spec: { ...created.spec, holderIdentity: 'b' } };
    const error = await leases.replaceNamespacedLease({ namespace: 'hopwatch', name: 'hopwatch', body: stale }).then(() => null, (e: unknown) => e);
    expect(error).toMatchObject({ code: 409 });
    const status = JSON.parse(String((error as { body?: unknown }).body)) as { reason: string; message: string };
    expect(status).toMatchObject({ reason: 'Conflict', message: expect.stringContaining('the object has been modified') });
    expect((await leases.readNamespacedLease({ namespace: 'hopwatch', name: 'hopwatch' })).spec?.holderIdentity).toBe('a');
  });

  it('of five replicas replacing from the same read, exactly one wins; the others get 409', async () => {
    const read = await leases.createNamespacedLease({ namespace: 'hopwatch', body: lease('') });
    const attempts = await Promise.allSettled(
      ['r0', 'r1', 'r2', 'r3', 'r4'].map((holder) => leases.replaceNamespacedLease({ namespace: 'hopwatch', name: 'hopwatch', body: { ...read, spec: { ...read.spec, holderIdentity: holder } } })),
    );
    const won = attempts.filter((a) => a.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(attempts.filter((a) => a.status === 'rejected').map((a) => (a as PromiseRejectedResult).reason as { code: number }).map((r) => r.code)).toEqual([409, 409, 409, 409]);
    const holder = (won[0] as PromiseFulfilledResult<k8s.V1Lease>).value.spec?.holderIdentity;
    expect((await leases.readNamespacedLease({ namespace: 'hopwatch', name: 'hopwatch' })).spec?.holderIdentity).toBe(holder);
  });

  it('replace of a missing Lease is 404, a body for another name 400; other kinds stay read-only (405)', async () => {
    await expect(leases.replaceNamespacedLease({ namespace: 'hopwatch', name: 'hopwatch', body: lease('a') })).rejects.toMatchObject({ code: 404 });
    await leases.createNamespacedLease({ namespace: 'hopwatch', body: lease('a') });
    await expect(leases.replaceNamespacedLease({ namespace: 'hopwatch', name: 'hopwatch', body: { ...lease('a'), metadata: { name: 'other', namespace: 'hopwatch' } } })).rejects.toMatchObject({ code: 400 });
    const post = await fetch(`${server.url}/api/v1/namespaces/shop/pods`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(post.status).toBe(405);
  });

  it('list and watch see Lease writes like any kind', async () => {
    const seen: string[] = [];
    const unsubscribe = server.onEvent((e) => seen.push(`${e.type} ${String((e.object['spec'] as { holderIdentity?: string }).holderIdentity)}`));
    const created = await leases.createNamespacedLease({ namespace: 'hopwatch', body: lease('a') });
    await leases.replaceNamespacedLease({ namespace: 'hopwatch', name: 'hopwatch', body: { ...created, spec: { ...created.spec, holderIdentity: 'b' } } });
    unsubscribe();
    expect(seen).toEqual(['ADDED a', 'MODIFIED b']);
    const list = await leases.listNamespacedLease({ namespace: 'hopwatch' });
    expect(list.items.map((l) => l.spec?.holderIdentity)).toEqual(['b']);
    await leases.deleteNamespacedLease({ namespace: 'hopwatch', name: 'hopwatch' });
    expect((await leases.listNamespacedLease({ namespace: 'hopwatch' })).items).toEqual([]);
  });
});
