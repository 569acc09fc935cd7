// The cluster watch against the lab API server: real client-node informers over HTTP.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, V1NetworkPolicy, V1Pod, type KubernetesObject } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabApiServer, type LabObject } from '../../test/lab/apiserver.js';
import { writeKubeconfig } from '../../test/lab/kubeconfig.js';
import { backoffMs, describeWatchError, startClusterWatch, type ClusterWatch, type ClusterWatchOptions } from './informers.js';
import type { ClusterSnapshot } from './snapshot.js';

// Block 201 is this engineer's: every address here is 127.201.x.x, every port ephemeral.
const HOST = '127.201.0.2';
const KINDS_WATCHED = 9;

let server: LabApiServer;
let kubeConfig: KubeConfig;
let dir: string;
let logs: string[];
const watches: ClusterWatch[] = [];

beforeEach(async () => {
  server = await LabApiServer.start({ host: HOST, port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'hopwatch-informers-'));
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(await writeKubeconfig({ path: join(dir, 'kubeconfig'), server: server.url }));
  logs = [];
});

afterEach(async () => {
  for (const watch of watches.splice(0)) await watch.stop();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

function start(overrides: Partial<ClusterWatchOptions> = {}): ClusterWatch {
  const watch = startClusterWatch({
    kubeConfig,
    namespaces: null,
    watchIdleRestartMs: 60_000,
    maxBackoffMs: 200,
    initialBackoffMs: 20,
    debounceMs: 5,
    log: (level, message) => logs.push(`${level} ${message}`),
    ...overrides,
  });
  watches.push(watch);
  return watch;
}

/** Polls until `probe` returns a truthy value; bounded by `timeoutMs`. */
async function waitFor<T>(probe: () => T | null | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function names(objects: readonly KubernetesObject[]): string[] {
  return objects.map((o) => `${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name ?? ''}`);
}

function podNames(watch: ClusterWatch): string[] {
  return names(watch.snapshot().pods);
}

function pod(namespace: string, name: string, labels: Record<string, string> = {}): LabObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    // Server-side apply's bookkeeping, as a real API server sends it: dropped by the watch.
    metadata: { namespace, name, labels, managedFields: [{ manager: 'kubectl', operation: 'Apply', time: '2026-12-06T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': {} } }] },
    spec: { containers: [{ name: 'app', image: 'lab', ports: [{ containerPort: 8080 }] }] },
    status: { phase: 'Running', startTime: '2026-12-06T10:00:01Z', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-12-06T10:00:02Z' }] },
  };
}

function policy(namespace: string, name: string): LabObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace, name },
    spec: { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'nginx' } } }] }] },
  };
}

/** One object of every kind in namespace `ns` (plus the cluster-scoped ones). */
function seed(ns: string): void {
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'lab' }] } };
  server.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  server.apply({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: `class-${ns}` }, spec: { controller: 'k8s.io/ingress-nginx' } });
  server.apply(pod(ns, 'web-1', { app: 'web' }));
  server.apply({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } });
  server.apply({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: ns, name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['127.201.1.1'], conditions: { ready: true } }],
    ports: [{ port: 8080 }],
  });
  const backend = { service: { name: 'web', port: { number: 80 } } };
  server.apply({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { namespace: ns, name: 'web' }, spec: { rules: [{ host: `${ns}.test`, http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }] } });
  server.apply(policy(ns, 'allow-nginx'));
  server.apply({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace: ns, name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, template } });
  server.apply({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { namespace: ns, name: 'web-abc' }, spec: { selector: { matchLabels: { app: 'web' } }, template } });
}

function counts(snapshot: ClusterSnapshot): Record<string, number> {
  return Object.fromEntries(Object.entries(snapshot).map(([key, list]: [string, unknown[]]) => [key, list.length]));
}

/** Every field the typed form promises: Date timestamps, apiVersion/kind, the renamed `_from`, no managedFields. */
function expectTyped(p: V1Pod | undefined, np: V1NetworkPolicy | undefined): void {
  expect(p?.metadata?.creationTimestamp).toBeInstanceOf(Date);
  expect(p?.status?.startTime).toEqual(new Date('2026-12-06T10:00:01Z'));
  expect(p?.status?.conditions?.[0]?.lastTransitionTime).toEqual(new Date('2026-12-06T10:00:02Z'));
  expect(p?.metadata?.managedFields).toBeUndefined();
  expect(p).toMatchObject({ apiVersion: 'v1', kind: 'Pod' });
  expect(p?.spec?.containers[0]?.ports?.[0]?.containerPort).toBe(8080);
  expect(np?.spec?.ingress?.[0]?._from?.[0]?.podSelector?.matchLabels).toEqual({ app: 'nginx' });
  expect(np?.spec?.ingress?.[0]).not.toHaveProperty('from');
}

describe('startClusterWatch', () => {
  it('tells which objects changed since the last take: everything at first, then each object with its new form or null', async () => {
    seed('shop');
    const watch = start();
    await watch.synced;
    expect(watch.takeChanges!()).toEqual({ all: true });
    expect(watch.takeChanges!()).toEqual({ all: false, changes: [] });
    server.apply(pod('shop', 'new', { app: 'web' }));
    await waitFor(() => podNames(watch).includes('shop/new'), 'the new pod');
    server.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web-1' });
    await waitFor(() => !podNames(watch).includes('shop/web-1'), 'the deletion');
    const taken = watch.takeChanges!();
    expect(taken.all).toBe(false);
    const changes = taken.all ? [] : taken.changes;
    expect(changes.map((c) => [c.kind, c.key, c.object === null ? null : c.object.metadata?.name])).toEqual([['pods', 'shop/new', 'new'], ['pods', 'shop/web-1', null]]);
    // The object handed over is the watch's own typed form.
    expect(changes[0]!.object).toBe(watch.snapshot().pods.find((p) => p.metadata?.name === 'new'));
  });

  it('syncs every kind and gives listed and watched objects one typed form', async () => {
    seed('shop');
    seed('other');
    const watch = start();
    expect(watch.state).toBe('connecting');
    await watch.synced;
    expect(watch.state).toBe('synced');
    const snapshot = watch.snapshot();
    expect(counts(snapshot)).toEqual({
      ingresses: 2, ingressClasses: 2, services: 2, endpointSlices: 2, pods: 2, networkPolicies: 2, namespaces: 2, replicaSets: 2, deployments: 2,
      gatewayClasses: 0, gateways: 0, httpRoutes: 0, grpcRoutes: 0, referenceGrants: 0,
    });
    expect(names(snapshot.pods)).toEqual(['other/web-1', 'shop/web-1']);
    expectTyped(snapshot.pods[0], snapshot.networkPolicies[0]);
    // Now objects that arrive through the watch, not the list.
    server.apply(pod('shop', 'watched'));
    server.apply(policy('shop', 'watched'));
    await waitFor(() => watch.snapshot().networkPolicies.length === 3 && podNames(watch).includes('shop/watched'), 'watched objects');
    const later = watch.snapshot();
    expectTyped(later.pods.find((p) => p.metadata?.name === 'watched'), later.networkPolicies.find((p) => p.metadata?.name === 'watched'));
    expect(logs.filter((line) => line.startsWith('warn'))).toEqual([]);
    expect(logs).toContainEqual(expect.stringMatching(/^info cluster watch synced: 9 watches, 18 objects/));
  });

  it('shows adds, modifications and deletions in the snapshot and calls onChange', async () => {
    const watch = start();
    await watch.synced;
    let changes = 0;
    watch.onChange(() => changes++);
    server.apply(pod('shop', 'a', { v: '1' }));
    await waitFor(() => podNames(watch).includes('shop/a'), 'add');
    await waitFor(() => changes === 1, 'onChange after add');
    server.apply(pod('shop', 'a', { v: '2' }));
    await waitFor(() => watch.snapshot().pods[0]?.metadata?.labels?.v === '2', 'modify');
    await waitFor(() => changes === 2, 'onChange after modify');
    server.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'a' });
    await waitFor(() => watch.snapshot().pods.length === 0, 'delete');
    await waitFor(() => changes === 3, 'onChange after delete');
  });

  it('watches namespaced kinds only in the given namespaces, cluster-scoped kinds everywhere', async () => {
    seed('shop');
    seed('other');
    seed('third');
    const watch = start({ namespaces: ['shop', 'third'] });
    await watch.synced;
    const snapshot = watch.snapshot();
    expect(names(snapshot.pods)).toEqual(['shop/web-1', 'third/web-1']);
    expect(names(snapshot.ingresses)).toEqual(['shop/web', 'third/web']);
    expect(names(snapshot.namespaces)).toEqual(['other', 'shop', 'third']);
    expect(snapshot.ingressClasses).toHaveLength(3);
    server.apply(pod('other', 'ignored'));
    server.apply(pod('third', 'seen'));
    await waitFor(() => podNames(watch).includes('third/seen'), 'pod in a watched namespace');
    expect(podNames(watch)).not.toContain('other/ignored');
  });

  it('rejects synced when stopped before the first sync', async () => {
    server.failRequests(true);
    const watch = start();
    await waitFor(() => server.counters.failed >= KINDS_WATCHED, 'first failed lists');
    await watch.stop();
    await expect(watch.synced).rejects.toMatchObject({ code: 'stopped' });
  });

  it('refuses bad options', () => {
    expect(() => start({ watchIdleRestartMs: 0 })).toThrow(expect.objectContaining({ code: 'bad-options' }));
    expect(() => start({ namespaces: [] })).toThrow(expect.objectContaining({ code: 'bad-options' }));
  });
});

describe('recovery', () => {
  async function synced(overrides: Partial<ClusterWatchOptions> = {}): Promise<ClusterWatch> {
    seed('shop');
    const watch = start(overrides);
    await watch.synced;
    // synced means listed; the faults below act on open watches.
    await waitFor(() => server.openWatches === KINDS_WATCHED && watch.state === 'synced', 'every watch open');
    return watch;
  }

  /** Log lines of one kind of event: exactly one per watch unit, whatever the number of retries. */
  function linesMatching(pattern: RegExp): string[] {
    return logs.filter((line) => pattern.test(line));
  }

  it('recovers after every watch is dropped mid-stream', async () => {
    const watch = await synced();
    expect(server.dropWatches()).toBe(KINDS_WATCHED);
    server.apply(pod('shop', 'after-drop'));
    server.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web-1' });
    await waitFor(() => podNames(watch).join() === 'shop/after-drop', 'objects changed during the drop');
    await waitFor(() => watch.state === 'synced' && server.openWatches === KINDS_WATCHED, 'watches back');
    server.apply(pod('shop', 'after-recovery'));
    await waitFor(() => podNames(watch).includes('shop/after-recovery'), 'live events again');
  });

  it('relists on 410 without counting it as a failure', async () => {
    const watch = await synced();
    const states: string[] = [];
    watch.onState((state) => states.push(state));
    const listsBefore = server.counters.list;
    server.hangWatches(true);
    server.apply(pod('shop', 'missed'));
    server.expireNextWatches(KINDS_WATCHED);
    server.endWatches();
    await waitFor(() => podNames(watch).includes('shop/missed'), 'relisted object');
    await waitFor(() => server.counters.list === listsBefore + KINDS_WATCHED, 'one relist per kind');
    expect(states).toEqual([]);
    expect(linesMatching(/^warn/)).toEqual([]);
  });

  it('keeps the last objects through a run of 500s, retries with backoff, logs once per state change', async () => {
    const watch = await synced();
    const states: string[] = [];
    watch.onState((state) => states.push(state));
    server.failRequests(true);
    server.dropWatches();
    server.apply(pod('shop', 'during-500'));
    await waitFor(() => watch.state === 'degraded', 'degraded');
    // Several retries per watch unit, each answered 500.
    await waitFor(() => server.counters.failed >= 3 * KINDS_WATCHED, 'retries');
    expect(podNames(watch)).toEqual(['shop/web-1']);
    server.failRequests(false);
    await waitFor(() => watch.state === 'synced', 'synced again');
    expect(podNames(watch)).toEqual(['shop/during-500', 'shop/web-1']);
    expect(states).toEqual(['degraded', 'synced']);
    expect(linesMatching(/^warn pods in all namespaces: watch failed/)).toHaveLength(1);
    expect(linesMatching(/: watch failed/)).toHaveLength(KINDS_WATCHED);
    expect(linesMatching(/: watch recovered after \d+ restarts?/)).toHaveLength(KINDS_WATCHED);
    expect(linesMatching(/^warn cluster watch degraded/)).toHaveLength(1);
    expect(linesMatching(/^info cluster watch recovered/)).toHaveLength(1);
  });

  it('recovers when the API server stops listening and comes back on the same address', async () => {
    const watch = await synced();
    await server.stopListening();
    server.apply(pod('shop', 'during-outage'));
    await waitFor(() => watch.state === 'degraded', 'degraded');
    expect(linesMatching(/ECONNREFUSED|Premature close|socket hang up/).length).toBeGreaterThan(0);
    await server.resumeListening();
    await waitFor(() => watch.state === 'synced' && podNames(watch).includes('shop/during-outage'), 'recovered');
  });

  for (const sendHeaders of [true, false]) {
    it(`restarts silently hung watches (${sendHeaders ? 'after' : 'before'} response headers) and sees objects created meanwhile`, async () => {
      const watch = await synced({ watchIdleRestartMs: 300 });
      server.hangWatches(true, { sendHeaders });
      server.apply(pod('shop', 'during-hang'));
      await waitFor(() => podNames(watch).includes('shop/during-hang'), 'object seen through an idle restart');
      // Restarted watches hang too: only idle restarts can have brought it in, one log line per unit.
      await waitFor(() => server.counters.list >= 3 * KINDS_WATCHED, 'several idle restarts');
      expect(linesMatching(/^info pods in all namespaces: no watch event for 300 ms/)).toHaveLength(1);
      server.hangWatches(false);
      server.apply(pod('shop', 'after-hang'));
      await waitFor(() => podNames(watch).includes('shop/after-hang') && watch.state === 'synced', 'live again');
    });
  }

  it('asks the injected delay for capped, growing backoffs', async () => {
    const requested: number[] = [];
    server.failRequests(true);
    seed('shop');
    const watch = start({
      random: () => 1,
      delay: (ms) => {
        requested.push(ms);
        return new Promise((resolve) => setTimeout(resolve, 1));
      },
    });
    await waitFor(() => requested.length >= 8 * KINDS_WATCHED, 'retries');
    server.failRequests(false);
    await watch.synced;
    expect(new Set(requested)).toEqual(new Set([20, 40, 80, 160, 200]));
    expect(linesMatching(/: watch failed \(HTTP 500\)/)).toHaveLength(KINDS_WATCHED);
  });
});

describe('helpers', () => {
  it('backoffMs doubles from the initial delay, caps at the maximum, and jitters the upper half', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map((attempt) => backoffMs(attempt, 100, 1000, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(backoffMs(3, 100, 1000, () => 0)).toBe(200);
  });

  it('describes client-node errors briefly', () => {
    const apiException = Object.assign(new Error('HTTP-Code: 500\nMessage: Unknown API Status Code!\nBody: {}'), { code: 500 });
    expect(describeWatchError(apiException)).toBe('HTTP 500');
    expect(describeWatchError(Object.assign(new Error('Gone'), { statusCode: 410 }))).toBe('HTTP 410 Gone');
    expect(describeWatchError(Object.assign(new Error('connect ECONNREFUSED 127.201.0.2:1'), { code: 'ECONNREFUSED' }))).toBe(
      'ECONNREFUSED: connect ECONNREFUSED 127.201.0.2:1',
    );
  });
});

describe('the Gateway API', () => {
  const route = (namespace: string, name: string): LabObject => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { namespace, name },
    spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
  });

  it('without it, syncs the other kinds, says so in one line, and picks it up once installed', async () => {
    seed('shop');
    const watch = start({ gatewayApiRecheckMs: 50 });
    await watch.synced;
    expect(watch.state).toBe('synced');
    expect(logs.filter((line) => line.includes('Gateway API'))).toEqual([
      'info Gateway API not installed (API discovery lists no gateway.networking.k8s.io): watching Ingress routes only, asking again every 0 s',
    ]);
    expect(server.counters.failed).toBe(0);
    server.installGatewayApi();
    server.apply(route('shop', 'web'));
    await waitFor(() => watch.snapshot().httpRoutes.length === 1, 'the HTTPRoute once the Gateway API is installed');
    expect(logs.filter((line) => line.includes('Gateway API found'))).toEqual([
      'info Gateway API found: watching GatewayClass gateway.networking.k8s.io/v1, Gateway gateway.networking.k8s.io/v1, HTTPRoute gateway.networking.k8s.io/v1, '
        + 'GRPCRoute gateway.networking.k8s.io/v1, ReferenceGrant gateway.networking.k8s.io/v1',
    ]);
    // Watched objects of CRDs stay plain JSON, with the status an implementation writes.
    server.patchStatus({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', namespace: 'shop', name: 'web' }, { parents: [{ parentRef: { name: 'gw' }, conditions: [{ type: 'Accepted', status: 'False' }] }] });
    await waitFor(() => watch.snapshot().httpRoutes[0]?.status?.parents?.[0]?.conditions?.[0]?.status === 'False', 'the status update');
    expect(watch.snapshot().httpRoutes[0]).toMatchObject({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web' } });
  });

  it('with it installed from the start, lists its kinds before synced resolves', async () => {
    server.installGatewayApi();
    seed('shop');
    server.apply(route('shop', 'web'));
    server.apply({ apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { namespace: 'shop', name: 'g' }, spec: { from: [], to: [] } });
    const watch = start();
    await watch.synced;
    expect(names(watch.snapshot().httpRoutes as KubernetesObject[])).toEqual(['shop/web']);
    // The lab serves ReferenceGrant in v1 and v1beta1: the v1 list is watched (the same objects in a real cluster).
    expect(logs.filter((line) => line.includes('Gateway API'))).toHaveLength(1);
  });
});
