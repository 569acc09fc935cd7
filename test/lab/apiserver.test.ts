// The lab API server against the real @kubernetes/client-node 1.4, through a generated kubeconfig.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabApiServer, matchesLabels, parseLabelSelector, type LabObject } from './apiserver.js';
import { renderKubeconfig, writeKubeconfig } from './kubeconfig.js';

// Block 201 is this file's: every address here is 127.201.x.x, every port ephemeral.
const HOST = '127.201.0.1';

let server: LabApiServer;
let kc: k8s.KubeConfig;
let dir: string;
const cleanups: (() => unknown)[] = [];

beforeEach(async () => {
  server = await LabApiServer.start({ host: HOST, port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'hopwatch-apiserver-'));
  const path = await writeKubeconfig({ path: join(dir, 'kubeconfig'), server: server.url, namespace: 'shop' });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(path);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Polls until `probe` returns a truthy value; bounded by `timeoutMs`. */
async function waitFor<T>(probe: () => T | null | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function pod(namespace: string, name: string, labels: Record<string, string> = {}): LabObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace, name, labels }, spec: { containers: [{ name: 'app', image: 'lab' }] } };
}

/** A raw watch through client-node's Watch, recording every event and how it ended. */
function rawWatch(path: string, params: Record<string, string | number | boolean>) {
  const events: { type: string; object: Record<string, unknown> }[] = [];
  const result = { events, done: null as null | { err: unknown }, controller: null as AbortController | null };
  void new k8s.Watch(kc)
    .watch(
      path,
      params,
      (type: string, object: Record<string, unknown>) => events.push({ type, object }),
      (err: unknown) => {
        result.done = { err };
      },
    )
    .then((controller) => {
      result.controller = controller;
    });
  cleanups.push(() => result.controller?.abort());
  return result;
}

function nameOf(object: Record<string, unknown>): string {
  const metadata = object.metadata as { name?: string } | undefined;
  return metadata?.name ?? '';
}

/** Records an informer's callbacks as "verb name" lines. */
function record(informer: k8s.Informer<k8s.KubernetesObject>): string[] {
  const seen: string[] = [];
  for (const verb of [k8s.ADD, k8s.UPDATE, k8s.DELETE] as const) {
    informer.on(verb, (object) => seen.push(`${verb} ${object.metadata?.name ?? ''}`));
  }
  informer.on(k8s.ERROR, (err) => seen.push(`error ${String(err)}`));
  cleanups.push(() => informer.stop());
  return seen;
}

interface KindCase {
  kind: string;
  apiVersion: string;
  path: string;
  namespaced: boolean;
  body: Record<string, unknown>;
  list: () => Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>;
}

function kindCases(): KindCase[] {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
  const networking = kc.makeApiClient(k8s.NetworkingV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'lab' }] } };
  return [
    { kind: 'Namespace', apiVersion: 'v1', path: '/api/v1/namespaces', namespaced: false, body: { spec: {} }, list: () => core.listNamespace() },
    { kind: 'Pod', apiVersion: 'v1', path: '/api/v1/pods', namespaced: true, body: { spec: template.spec }, list: () => core.listPodForAllNamespaces() },
    {
      kind: 'Service',
      apiVersion: 'v1',
      path: '/api/v1/services',
      namespaced: true,
      body: { spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } },
      list: () => core.listServiceForAllNamespaces(),
    },
    {
      kind: 'EndpointSlice',
      apiVersion: 'discovery.k8s.io/v1',
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      namespaced: true,
      body: { addressType: 'IPv4', endpoints: [{ addresses: ['127.201.1.1'], conditions: { ready: true } }], ports: [{ name: 'http', port: 8080 }] },
      list: () => discovery.listEndpointSliceForAllNamespaces(),
    },
    {
      kind: 'Ingress',
      apiVersion: 'networking.k8s.io/v1',
      path: '/apis/networking.k8s.io/v1/ingresses',
      namespaced: true,
      body: { spec: { rules: [{ host: 'shop.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } },
      list: () => networking.listIngressForAllNamespaces(),
    },
    {
      kind: 'IngressClass',
      apiVersion: 'networking.k8s.io/v1',
      path: '/apis/networking.k8s.io/v1/ingressclasses',
      namespaced: false,
      body: { spec: { controller: 'k8s.io/ingress-nginx' } },
      list: () => networking.listIngressClass(),
    },
    {
      kind: 'NetworkPolicy',
      apiVersion: 'networking.k8s.io/v1',
      path: '/apis/networking.k8s.io/v1/networkpolicies',
      namespaced: true,
      body: { spec: { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'nginx' } } }] }] } },
      list: () => networking.listNetworkPolicyForAllNamespaces(),
    },
    {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      path: '/apis/apps/v1/deployments',
      namespaced: true,
      body: { spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template } },
      list: () => apps.listDeploymentForAllNamespaces(),
    },
    {
      kind: 'ReplicaSet',
      apiVersion: 'apps/v1',
      path: '/apis/apps/v1/replicasets',
      namespaced: true,
      body: { spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template } },
      list: () => apps.listReplicaSetForAllNamespaces(),
    },
  ];
}

describe('makeInformer over the lab API server', () => {
  it('sees ADDED, MODIFIED and DELETED for every kind', async () => {
    for (const c of kindCases()) {
      const informer = k8s.makeInformer(kc, c.path, c.list);
      const seen = record(informer);
      await informer.start();
      const metadata = { name: `x-${c.kind.toLowerCase()}`, ...(c.namespaced ? { namespace: 'shop' } : {}) };
      const created = server.apply({ apiVersion: c.apiVersion, kind: c.kind, metadata, ...c.body });
      await waitFor(() => seen.includes(`add ${metadata.name}`), `${c.kind} add`);
      server.apply({ apiVersion: c.apiVersion, kind: c.kind, metadata: { ...metadata, labels: { rev: '2' } }, ...c.body });
      await waitFor(() => seen.includes(`update ${metadata.name}`), `${c.kind} update`);
      expect(informer.get(metadata.name, c.namespaced ? 'shop' : undefined)?.metadata?.labels).toEqual({ rev: '2' });
      const final = server.delete({ apiVersion: c.apiVersion, kind: c.kind, namespace: metadata.namespace, name: metadata.name });
      await waitFor(() => seen.includes(`delete ${metadata.name}`), `${c.kind} delete`);
      expect(Number(final?.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion) + 1);
      expect(informer.list()).toEqual([]);
      expect(seen.filter((line) => line.startsWith('error'))).toEqual([]);
      await informer.stop();
    }
  });

  it('relists after a forced 410 and ends up with the server objects', async () => {
    server.apply(pod('shop', 'keep'));
    server.apply(pod('shop', 'gone'));
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/shop/pods', () => core.listNamespacedPod({ namespace: 'shop' }));
    const seen = record(informer);
    await informer.start();
    expect(server.counters.list).toBe(1);
    // The informer's watch goes silent, so it misses these writes...
    server.hangWatches(true);
    server.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'gone' });
    server.apply(pod('shop', 'new'));
    await sleep(100);
    expect(seen.sort()).toEqual(['add gone', 'add keep']);
    // ...then the watch ends cleanly, its reconnect gets 410, and only a relist can catch up.
    server.expireNextWatches(1);
    server.endWatches();
    await waitFor(() => seen.includes('delete gone') && seen.includes('add new'), 'relist after 410');
    expect(server.counters.list).toBe(2);
    expect(informer.list().map((p) => p.metadata?.name).sort()).toEqual(['keep', 'new']);
    expect(seen.filter((line) => line.startsWith('error'))).toEqual([]);
  });

  it('relists when its resourceVersion fell out of the history (compaction)', async () => {
    server.apply(pod('shop', 'a'));
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/pods', () => core.listPodForAllNamespaces());
    const seen = record(informer);
    await informer.start();
    server.hangWatches(true);
    server.apply(pod('shop', 'b'));
    server.compactHistory();
    server.endWatches();
    // Reconnects hang now; lists do not: the watch from the compacted rv must have forced the relist.
    await waitFor(() => seen.includes('add b'), 'relist after compaction');
    expect(server.counters.list).toBe(2);
  });
});

describe('lists', () => {
  it('serves namespaced and label-selected lists with the current resourceVersion', async () => {
    server.apply(pod('shop', 'web-1', { app: 'web', tier: 'front' }));
    server.apply(pod('shop', 'db-1', { app: 'db' }));
    server.apply(pod('other', 'web-2', { app: 'web' }));
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const namespaced = await core.listNamespacedPod({ namespace: 'shop' });
    expect(namespaced.items.map((p) => p.metadata?.name)).toEqual(['db-1', 'web-1']);
    expect(namespaced.metadata?.resourceVersion).toBe(server.resourceVersion);
    const selected = await core.listPodForAllNamespaces({ labelSelector: 'app in (web),tier!=back' });
    expect(selected.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`)).toEqual(['other/web-2', 'shop/web-1']);
    const byField = await core.listPodForAllNamespaces({ fieldSelector: 'metadata.namespace=shop,metadata.name!=db-1' });
    expect(byField.items.map((p) => p.metadata?.name)).toEqual(['web-1']);
    // Listed objects are typed: client-node turns the timestamps into Dates.
    expect(namespaced.items[0]?.metadata?.creationTimestamp).toBeInstanceOf(Date);
  });

  it('answers bad selectors with a 400 Status', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await expect(core.listPodForAllNamespaces({ labelSelector: 'a in (b' })).rejects.toMatchObject({ code: 400 });
  });

  it('omits apiVersion and kind from list items, as the real server does', async () => {
    server.apply(pod('shop', 'a'));
    const body = await getJson('/api/v1/pods');
    expect(body.status).toBe(200);
    expect(body.contentType).toBe('application/json');
    expect(body.json).toMatchObject({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: server.resourceVersion } });
    expect((body.json as { items: Record<string, unknown>[] }).items[0]).not.toHaveProperty('kind');
  });
});

async function getJson(path: string, headers: Record<string, string> = {}): Promise<{ status: number; contentType: string; json: unknown }> {
  const response = await fetch(`${server.url}${path}`, { headers });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', json: await response.json() };
}

describe('watch', () => {
  it('replays the events after an old resourceVersion, then streams live', async () => {
    server.apply(pod('shop', 'a'));
    const from = server.resourceVersion;
    server.apply(pod('shop', 'b'));
    server.apply(pod('shop', 'a', { changed: 'yes' }));
    server.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'b' });
    const watch = rawWatch('/api/v1/namespaces/shop/pods', { resourceVersion: from });
    await waitFor(() => watch.events.length === 3, 'replay');
    expect(watch.events.map((e) => `${e.type} ${nameOf(e.object)}`)).toEqual(['ADDED b', 'MODIFIED a', 'DELETED b']);
    server.apply(pod('shop', 'c'));
    await waitFor(() => watch.events.length === 4, 'live event');
    expect(watch.events[3]?.object).toMatchObject({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'c', resourceVersion: server.resourceVersion } });
  });

  it('answers a resourceVersion older than the history with an ERROR 410 event and ends', async () => {
    const small = await LabApiServer.start({ host: HOST, port: 0, historyLimit: 2 });
    cleanups.push(() => small.stop());
    small.apply(pod('shop', 'a'));
    small.apply(pod('shop', 'b'));
    small.apply(pod('shop', 'c'));
    small.apply(pod('shop', 'd'));
    // The history holds rv 3 and 4: a watch from 2 can be served, one from 1 cannot.
    const response = await fetch(`${small.url}/api/v1/pods?watch=true&resourceVersion=1`);
    expect(response.status).toBe(200);
    const lines = (await response.text()).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }) }]);
    const ok = await fetch(`${small.url}/api/v1/pods?watch=true&resourceVersion=2&timeoutSeconds=1`);
    const replayed = (await ok.text()).trim().split('\n').map((line) => JSON.parse(line) as { type: string; object: Record<string, unknown> });
    expect(replayed.map((e) => `${e.type} ${nameOf(e.object)}`)).toEqual(['ADDED c', 'ADDED d']);
  });

  it('turns label changes into ADDED and DELETED for a selecting watch', async () => {
    server.apply(pod('shop', 'a', { app: 'web' }));
    const watch = rawWatch('/api/v1/pods', { labelSelector: 'app=web' });
    await waitFor(() => watch.events.length === 1, 'initial ADDED');
    server.apply(pod('shop', 'a', { app: 'db' }));
    server.apply(pod('shop', 'a', { app: 'web' }));
    server.apply(pod('shop', 'other', { app: 'db' }));
    await waitFor(() => watch.events.length === 3, 'selector transitions');
    expect(watch.events.map((e) => e.type)).toEqual(['ADDED', 'DELETED', 'ADDED']);
  });

  it('ends cleanly after timeoutSeconds', async () => {
    const watch = rawWatch('/api/v1/pods', { timeoutSeconds: 1 });
    await waitFor(() => watch.done, 'watch end', 5000);
    expect(watch.done?.err).toBeNull();
    expect(server.openWatches).toBe(0);
  });
});

describe('fault switches', () => {
  it('dropWatches closes open watches abruptly: client-node sees an error', async () => {
    const watch = rawWatch('/api/v1/pods', {});
    await waitFor(() => server.openWatches === 1, 'watch open');
    expect(server.dropWatches()).toBe(1);
    await waitFor(() => watch.done, 'watch end');
    expect(watch.done?.err).toBeInstanceOf(Error);
  });

  it('expireNextWatches answers the next N watches with 410, then serves normally', async () => {
    server.expireNextWatches(2);
    const first = rawWatch('/api/v1/pods', { resourceVersion: '0' });
    const second = rawWatch('/api/v1/pods', {});
    await waitFor(() => first.done && second.done, 'both expired');
    for (const w of [first, second]) {
      expect(w.events).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410 }) }]);
    }
    const third = rawWatch('/api/v1/pods', {});
    server.apply(pod('shop', 'a'));
    await waitFor(() => third.events.length === 1, 'normal watch');
    expect(third.events[0]?.type).toBe('ADDED');
    expect(third.done).toBeNull();
  });

  it('hangWatches silences open and new watches until switched off, which resets them', async () => {
    const open = rawWatch('/api/v1/pods', {});
    await waitFor(() => server.openWatches === 1, 'watch open');
    server.hangWatches(true);
    const fresh = rawWatch('/api/v1/pods', { timeoutSeconds: 1 });
    await waitFor(() => server.openWatches === 2, 'second watch open');
    server.apply(pod('shop', 'a'));
    await sleep(1500);
    // No events, and the 1 s timeout was not honoured.
    expect(open.events).toEqual([]);
    expect(fresh.events).toEqual([]);
    expect(fresh.done).toBeNull();
    server.hangWatches(false);
    await waitFor(() => open.done && fresh.done, 'hung watches reset');
    expect(open.done?.err).toBeInstanceOf(Error);
  });

  it('hangWatches without headers leaves the request unanswered', async () => {
    server.hangWatches(true, { sendHeaders: false });
    const outcome: { status?: number; error?: string } = {};
    const req = http.get(`${server.url}/api/v1/pods?watch=true`, (res) => {
      outcome.status = res.statusCode;
    });
    req.on('error', (err) => {
      outcome.error = err.message;
    });
    await waitFor(() => server.openWatches === 1, 'hung watch held');
    await sleep(200);
    expect(outcome).toEqual({});
    server.hangWatches(false);
    await waitFor(() => outcome.error, 'request reset');
    expect(outcome.status).toBeUndefined();
  });

  it('failRequests answers 500 to every request while on', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    server.failRequests(true);
    await expect(core.listPodForAllNamespaces()).rejects.toMatchObject({ code: 500 });
    const discovery = await getJson('/api');
    expect(discovery).toMatchObject({ status: 500, contentType: 'application/json', json: { kind: 'Status', code: 500 } });
    const watch = rawWatch('/api/v1/pods', {});
    await waitFor(() => watch.done, 'watch refused');
    expect(watch.done?.err).toMatchObject({ statusCode: 500 });
    server.failRequests(false);
    await expect(core.listPodForAllNamespaces()).resolves.toMatchObject({ items: [] });
  });

  it('stopListening refuses connections and kills pending ones; resumeListening serves the same address', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const watch = rawWatch('/api/v1/pods', {});
    await waitFor(() => server.openWatches === 1, 'watch open');
    const port = server.port;
    await server.stopListening();
    await waitFor(() => watch.done, 'watch killed');
    expect(watch.done?.err).toBeInstanceOf(Error);
    await expect(core.listPodForAllNamespaces()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    server.apply(pod('shop', 'during-outage'));
    await server.resumeListening();
    expect(server.port).toBe(port);
    const list = await core.listPodForAllNamespaces();
    expect(list.items.map((p) => p.metadata?.name)).toEqual(['during-outage']);
  });

  it('rejects a bind on a taken address with the EADDRINUSE error', async () => {
    await expect(LabApiServer.start({ host: HOST, port: server.port })).rejects.toMatchObject({ code: 'EADDRINUSE', syscall: 'listen' });
  });
});

describe('HTTP surface', () => {
  it('serves discovery documents', async () => {
    expect((await getJson('/api')).json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await getJson('/apis')).json as { groups: { name: string }[] };
    expect(groups.groups.map((g) => g.name).sort()).toEqual(['apps', 'coordination.k8s.io', 'discovery.k8s.io', 'networking.k8s.io']);
    const core = (await getJson('/api/v1')).json as { resources: { name: string; namespaced: boolean }[] };
    expect(core.resources).toContainEqual(expect.objectContaining({ name: 'pods', namespaced: true, kind: 'Pod' }));
    expect(core.resources).toContainEqual(expect.objectContaining({ name: 'namespaces', namespaced: false }));
    const networking = (await getJson('/apis/networking.k8s.io/v1')).json as { groupVersion: string; resources: { name: string }[] };
    expect(networking.groupVersion).toBe('networking.k8s.io/v1');
    expect(networking.resources.map((r) => r.name).sort()).toEqual(['ingressclasses', 'ingresses', 'networkpolicies']);
    // client-node's own discovery call works too.
    const versions = await kc.makeApiClient(k8s.CoreApi).getAPIVersions();
    expect(versions.versions).toEqual(['v1']);
  });

  it('answers unknown paths and objects with a 404 Status', async () => {
    for (const path of ['/nope', '/api/v1/secrets', '/apis/apps/v1/namespaces/shop/pods', '/api/v1/namespaces/shop/pods/missing']) {
      const answer = await getJson(path);
      expect(answer, path).toMatchObject({ status: 404, contentType: 'application/json', json: { kind: 'Status', code: 404, reason: 'NotFound' } });
    }
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await expect(core.readNamespacedPod({ namespace: 'shop', name: 'missing' })).rejects.toMatchObject({ code: 404 });
  });

  it('GETs one object, namespaced and cluster-scoped', async () => {
    server.apply(pod('shop', 'a'));
    server.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    const core = kc.makeApiClient(k8s.CoreV1Api);
    expect((await core.readNamespacedPod({ namespace: 'shop', name: 'a' })).metadata?.name).toBe('a');
    expect((await core.readNamespace({ name: 'shop' })).metadata?.uid).toBe(server.get({ apiVersion: 'v1', kind: 'Namespace', name: 'shop' })?.metadata.uid);
  });

  it('requires the bearer token when one is configured', async () => {
    const guarded = await LabApiServer.start({ host: HOST, port: 0, token: 'secret' });
    cleanups.push(() => guarded.stop());
    const good = new k8s.KubeConfig();
    good.loadFromString(renderKubeconfig({ server: guarded.url, token: 'secret' }));
    const bad = new k8s.KubeConfig();
    bad.loadFromString(renderKubeconfig({ server: guarded.url, token: 'wrong' }));
    await expect(good.makeApiClient(k8s.CoreV1Api).listNamespace()).resolves.toMatchObject({ items: [] });
    await expect(bad.makeApiClient(k8s.CoreV1Api).listNamespace()).rejects.toMatchObject({ code: 401 });
  });
});

describe('programmatic API', () => {
  it('keeps uid and creationTimestamp, bumps generation only on spec changes, and skips no-op writes', () => {
    const created = server.apply(pod('shop', 'a'));
    expect(created.metadata).toMatchObject({ generation: 1, resourceVersion: '1', namespace: 'shop' });
    const relabelled = server.apply(pod('shop', 'a', { x: 'y' }));
    expect(relabelled.metadata).toMatchObject({ uid: created.metadata.uid, creationTimestamp: created.metadata.creationTimestamp, generation: 1, resourceVersion: '2' });
    const respecced = server.apply({ ...pod('shop', 'a', { x: 'y' }), spec: { containers: [{ name: 'app', image: 'v2' }] } });
    expect(respecced.metadata).toMatchObject({ generation: 2, resourceVersion: '3' });
    expect(server.apply({ ...pod('shop', 'a', { x: 'y' }), spec: { containers: [{ name: 'app', image: 'v2' }] } }).metadata.resourceVersion).toBe('3');
    expect(server.resourceVersion).toBe('3');
  });

  it('patches status by merge, keeps it across applies without status, and reports every write to listeners', () => {
    const events: string[] = [];
    const unsubscribe = server.onEvent((e) => events.push(`${e.type} ${e.object.metadata.name} ${e.object.metadata.resourceVersion}`));
    server.apply(pod('shop', 'a'));
    const patched = server.patchStatus({ apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'a' }, { phase: 'Running', podIP: '127.201.1.1' });
    expect(patched.status).toEqual({ phase: 'Running', podIP: '127.201.1.1' });
    expect(patched.metadata.generation).toBe(1);
    server.patchStatus({ apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'a' }, { podIP: null });
    expect(server.apply(pod('shop', 'a', { v: '2' })).status).toEqual({ phase: 'Running' });
    const final = server.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'a' });
    expect(final?.status).toEqual({ phase: 'Running' });
    expect(server.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'a' })).toBeNull();
    unsubscribe();
    server.apply(pod('shop', 'b'));
    expect(events).toEqual(['ADDED a 1', 'MODIFIED a 2', 'MODIFIED a 3', 'MODIFIED a 4', 'DELETED a 5']);
    expect(server.list('v1', 'Pod').map((p) => p.metadata.name)).toEqual(['b']);
  });

  it('refuses kinds it does not serve', () => {
    expect(() => server.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } })).toThrow(expect.objectContaining({ code: 'unknown-kind' }));
  });
});

describe('selectors', () => {
  const labels = { app: 'web', tier: 'front' };
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app in (db, web)', true],
    ['app notin (web)', false],
    ['missing notin (web)', true],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['app=web,tier in (back)', false],
    ['app=web, tier notin (back), !missing', true],
  ])('%s matches: %s', (selector, expected) => {
    const parsed = parseLabelSelector(selector);
    expect(parsed).not.toBeNull();
    expect(matchesLabels(parsed ?? [], labels)).toBe(expected);
  });

  it.each(['app in (web', 'app=web=x', '=web', 'app in web'])('rejects %s', (selector) => {
    expect(parseLabelSelector(selector)).toBeNull();
  });
});

describe('kubeconfig', () => {
  it('writes a kubeconfig client-node loads, with the context current', async () => {
    const text = await readFile(join(dir, 'kubeconfig'), 'utf8');
    expect(text).toContain('insecure-skip-tls-verify: true');
    expect(kc.getCurrentContext()).toBe('hopwatch-lab');
    expect(kc.getCurrentCluster()?.server).toBe(server.url);
    expect(kc.getContextObject('hopwatch-lab')?.namespace).toBe('shop');
    expect(kc.getCurrentUser()?.token).toBe('hopwatch-lab-token');
  });
});

describe('the Gateway API group', () => {
  const gatewayApi = 'gateway.networking.k8s.io';
  const httpRoute = (name: string): LabObject => ({
    apiVersion: `${gatewayApi}/v1`,
    kind: 'HTTPRoute',
    metadata: { namespace: 'shop', name },
    spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
  });

  it('is absent from discovery and refused until installed', async () => {
    const apis = (await (await fetch(`${server.url}/apis`)).json()) as { groups: { name: string }[] };
    expect(apis.groups.map((g) => g.name)).not.toContain(gatewayApi);
    expect((await fetch(`${server.url}/apis/${gatewayApi}`)).status).toBe(404);
    expect((await fetch(`${server.url}/apis/${gatewayApi}/v1/httproutes`)).status).toBe(404);
    expect(() => server.apply(httpRoute('web'))).toThrow(/does not serve/);
  });

  it('once installed: discovery documents, status subresources, list/watch through client-node, status patches', async () => {
    server.installGatewayApi();
    const apis = (await (await fetch(`${server.url}/apis`)).json()) as { groups: { name: string; versions: { version: string }[] }[] };
    const group = apis.groups.find((g) => g.name === gatewayApi);
    expect(group?.versions.map((v) => v.version)).toEqual(['v1', 'v1beta1']);
    const v1 = (await (await fetch(`${server.url}/apis/${gatewayApi}/v1`)).json()) as { resources: { name: string; kind: string; verbs: string[] }[] };
    expect(v1.resources.filter((r) => !r.name.includes('/')).map((r) => r.kind)).toEqual(['GatewayClass', 'Gateway', 'HTTPRoute', 'GRPCRoute', 'ReferenceGrant']);
    expect(v1.resources.find((r) => r.name === 'httproutes/status')?.verbs).toContain('patch');
    const v1beta1 = (await (await fetch(`${server.url}/apis/${gatewayApi}/v1beta1`)).json()) as { resources: { name: string }[] };
    expect(v1beta1.resources.map((r) => r.name)).toContain('referencegrants');

    const informer = k8s.makeInformer(kc, `/apis/${gatewayApi}/v1/httproutes`, () =>
      kc.makeApiClient(k8s.CustomObjectsApi).listClusterCustomObject({ group: gatewayApi, version: 'v1', plural: 'httproutes' }) as never,
    );
    const seen = record(informer);
    server.apply(httpRoute('before'));
    await informer.start();
    await waitFor(() => seen.includes('add before'), 'the listed HTTPRoute');
    server.apply(httpRoute('after'));
    server.patchStatus({ apiVersion: `${gatewayApi}/v1`, kind: 'HTTPRoute', namespace: 'shop', name: 'after' }, { parents: [{ parentRef: { name: 'gw' } }] });
    await waitFor(() => seen.includes('add after') && seen.includes('update after'), 'the watched HTTPRoute and its status patch');
    const stored = server.get({ apiVersion: `${gatewayApi}/v1`, kind: 'HTTPRoute', namespace: 'shop', name: 'after' });
    expect(stored?.metadata.generation).toBe(1);
    expect(stored?.status).toEqual({ parents: [{ parentRef: { name: 'gw' } }] });
    server.apply({ apiVersion: `${gatewayApi}/v1beta1`, kind: 'ReferenceGrant', metadata: { namespace: 'shop', name: 'g' }, spec: {} });
    expect((await (await fetch(`${server.url}/apis/${gatewayApi}/v1beta1/namespaces/shop/referencegrants`)).json()) as unknown).toMatchObject({ items: [{ metadata: { name: 'g' } }] });
  });

  it('is served from the start with the gatewayApi option', async () => {
    const other = await LabApiServer.start({ host: HOST, port: 0, gatewayApi: true });
    cleanups.push(() => other.stop());
    expect(other.gatewayApiInstalled).toBe(true);
    expect((await fetch(`${other.url}/apis/${gatewayApi}/v1/gateways`)).status).toBe(200);
  });
});
