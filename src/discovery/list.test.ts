// Paged lists against the lab API server, with the kubeconfig's credentials.

import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabApiServer } from '../../test/lab/apiserver.js';
import { writeKubeconfig } from '../../test/lab/kubeconfig.js';
import { ListError, listObjects } from './list.js';

// Every address here is 127.214.x.x, every port ephemeral.
const HOST = '127.214.0.2';

let server: LabApiServer;
let kubeConfig: KubeConfig;
let dir: string;

beforeEach(async () => {
  server = await LabApiServer.start({ host: HOST, port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'hopwatch-list-'));
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(await writeKubeconfig({ path: join(dir, 'kubeconfig'), server: server.url }));
});

afterEach(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

function seedPods(count: number): void {
  for (let i = 0; i < count; i++) {
    server.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: `ns-${i % 3}`, name: `pod-${String(i).padStart(4, '0')}` }, spec: { containers: [{ name: 'app', image: 'lab' }] } });
  }
}

const signal = new AbortController().signal;

describe('listObjects', () => {
  it('reads a list in pages, every object once, with the resourceVersion of its first page', async () => {
    seedPods(1203);
    const rv = server.resourceVersion;
    const before = server.counters.list;
    const list = await listObjects(kubeConfig, '/api/v1/pods', signal, 500);
    expect(server.counters.list - before).toBe(3);
    expect(list.items).toHaveLength(1203);
    expect(new Set(list.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`)).size).toBe(1203);
    expect(list.metadata?.resourceVersion).toBe(rv);
  });

  it('reads one page when the list fits, and an empty list', async () => {
    const empty = await listObjects(kubeConfig, '/api/v1/pods', signal, 500);
    expect(empty.items).toEqual([]);
    seedPods(500);
    const before = server.counters.list;
    expect((await listObjects(kubeConfig, '/api/v1/namespaces/ns-1/pods', signal, 500)).items).toHaveLength(167);
    expect(server.counters.list - before).toBe(1);
  });

  it('fails with the HTTP status and the Status message, 410 for an expired continue token', async () => {
    const missing = await listObjects(kubeConfig, '/apis/example.com/v1/things', signal).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ListError);
    expect((missing as ListError).code).toBe(404);
    // A continue token the server no longer holds (etcd compacted): 410, which client-node's ListWatch relists on.
    const stale = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      http.get(`${server.url}/api/v1/pods?limit=1&continue=gone.1`, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
    expect(stale.status).toBe(410);
    expect(JSON.parse(stale.body)).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
  });

  it('sends the kubeconfig credentials on every page', async () => {
    // A server of its own that records the Authorization header and answers two pages.
    const seen: string[] = [];
    const fake = http.createServer((req, res) => {
      seen.push(`${req.headers.authorization ?? '-'} ${req.url ?? ''}`);
      const url = new URL(req.url ?? '/', 'http://x');
      const more = url.searchParams.get('continue') === null;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '7', ...(more ? { continue: 'next' } : {}) }, items: [{ metadata: { name: more ? 'a' : 'b' } }] }));
    });
    await new Promise<void>((resolve) => fake.listen(0, HOST, resolve));
    try {
      const config = new KubeConfig();
      config.loadFromOptions({
        clusters: [{ name: 'c', server: `http://${HOST}:${(fake.address() as AddressInfo).port}`, skipTLSVerify: true }],
        users: [{ name: 'u', token: 'sekret' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      const list = await listObjects(config, '/api/v1/pods', signal, 1);
      expect(list.items.map((p) => p.metadata?.name)).toEqual(['a', 'b']);
      expect(seen).toEqual(['Bearer sekret /api/v1/pods?limit=1', 'Bearer sekret /api/v1/pods?limit=1&continue=next']);
    } finally {
      await new Promise((resolve) => fake.close(resolve));
    }
  });
});
