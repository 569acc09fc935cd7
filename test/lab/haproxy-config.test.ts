// Rendering haproxy.cfg like the HAProxy Kubernetes Ingress Controller: objects in, rules and
// backends out, and every rendered config passed through the real `haproxy -c`.

import type { V1EndpointSlice, V1Ingress, V1Service } from '@kubernetes/client-node';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HaproxyConfigOptions, haproxyTimeMs, NO_SERVER_BACKEND, DEFAULT_BACKEND, planHaproxy, renderHaproxyConfig } from './haproxy-config.js';
import { testHaproxyConfig } from './haproxy.js';
import type { NginxConfigInput } from './nginx-config.js';

// BLOCK 207: addresses in 127.207.x.x (nothing listens; haproxy -c only parses).
const OPTIONS: HaproxyConfigOptions = { listen: { address: '127.207.3.129', port: 18080 }, timeouts: { connectMs: 1000, readMs: 2000 }, poolPurgeDelayMs: 2000, sourceAddress: '127.207.3.129' };

function ing(name: string, cls: string, rules: { host?: string; paths: { path: string; type?: string; svc: string; port: number | string }[] }[], annotations: Record<string, string> = {}): V1Ingress {
  return {
    metadata: { name, namespace: 'shop', annotations, creationTimestamp: new Date('2024-01-01T00:00:00Z') },
    spec: {
      ingressClassName: cls,
      rules: rules.map((r) => ({
        ...(r.host === undefined ? {} : { host: r.host }),
        http: { paths: r.paths.map((p) => ({ path: p.path, pathType: p.type ?? 'Prefix', backend: { service: { name: p.svc, port: typeof p.port === 'number' ? { number: p.port } : { name: p.port } } } })) },
      })),
    },
  };
}

function svc(name: string): V1Service {
  return { metadata: { name, namespace: 'shop' }, spec: { type: 'ClusterIP', clusterIP: '127.207.2.1', ports: [{ name: 'http', port: 80, targetPort: 'http' }] } };
}

function eps(service: string, ips: { ip: string; ready?: boolean }[]): V1EndpointSlice {
  return {
    metadata: { name: `${service}-abc`, namespace: 'shop', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((e) => ({ addresses: [e.ip], ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }) })),
  };
}

function input(ingresses: V1Ingress[], extra: Partial<NginxConfigInput> = {}): NginxConfigInput {
  return {
    ingresses,
    services: [svc('web'), svc('api'), svc('empty')],
    endpointSlices: [eps('web', [{ ip: '127.207.1.1' }, { ip: '127.207.1.2', ready: false }]), eps('api', [{ ip: '127.207.1.3' }]), eps('empty', [])],
    ingressClass: 'haproxy',
    isDefaultClass: false,
    ...extra,
  };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hopwatch-haproxy-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Renders, checks with the real haproxy -c, returns the text. */
async function renderChecked(objects: NginxConfigInput, options: HaproxyConfigOptions = OPTIONS): Promise<string> {
  const text = renderHaproxyConfig(objects, options);
  const file = join(dir, `haproxy-${Math.random().toString(36).slice(2)}.cfg`);
  await writeFile(file, text);
  await testHaproxyConfig(file);
  return text;
}

describe('planHaproxy', () => {
  it('serves only its own class, one backend per Service port with the ready endpoints', () => {
    const plan = planHaproxy(input([ing('web', 'haproxy', [{ host: 'web.test', paths: [{ path: '/', svc: 'web', port: 'http' }] }]), ing('other', 'nginx', [{ host: 'nginx.test', paths: [{ path: '/', svc: 'api', port: 80 }] }])]));
    expect(plan.backends).toEqual([{ name: 'shop-web-http', servers: ['127.207.1.1:8080'], serverTimeoutMs: null, ssl: false, h2: false }]);
    expect(plan.rules).toEqual([{ backend: 'shop-web-http', conditions: ['{ var(txn.host) -m str web.test }'] }, { backend: DEFAULT_BACKEND, conditions: [] }]);
  });

  it('orders exact hosts before wildcards before the catch-all, longer paths first, Prefix as the path and its subtree', () => {
    const plan = planHaproxy(
      input([
        ing('catch', 'haproxy', [{ paths: [{ path: '/', svc: 'web', port: 80 }] }]),
        ing('wild', 'haproxy', [{ host: '*.blog.test', paths: [{ path: '/', svc: 'web', port: 80 }] }]),
        ing('api', 'haproxy', [{ host: 'web.test', paths: [{ path: '/api', svc: 'api', port: 80 }, { path: '/exact', type: 'Exact', svc: 'api', port: 80 }] }]),
      ]),
    );
    expect(plan.rules.map((r) => r.conditions.join(' '))).toEqual([
      '{ var(txn.host) -m str web.test } { path -m str /exact }',
      '{ var(txn.host) -m str web.test } { path -m beg /api/ }',
      '{ var(txn.host) -m str web.test } { path -m str /api }',
      '{ var(txn.host) -m str web.test }',
      '{ var(txn.host) -m reg ^[^.]+\\.blog\\.test$ }',
      '',
    ]);
  });

  it('sends a Service without ready endpoints or a missing Service to a backend without servers (503)', () => {
    const plan = planHaproxy(input([ing('e', 'haproxy', [{ host: 'e.test', paths: [{ path: '/', svc: 'empty', port: 80 }] }, { host: 'ghost.test', paths: [{ path: '/', svc: 'ghost', port: 80 }] }])]));
    expect(plan.rules.filter((r) => r.conditions.length > 0).map((r) => r.backend)).toEqual([NO_SERVER_BACKEND, NO_SERVER_BACKEND]);
  });

  it('reads haproxy.org annotations per backend', () => {
    const annotations = { 'haproxy.org/timeout-server': '30s', 'haproxy.org/server-ssl': 'true', 'haproxy.org/server-proto': 'h2' };
    const plan = planHaproxy(input([ing('web', 'haproxy', [{ host: 'web.test', paths: [{ path: '/', svc: 'web', port: 80 }] }], annotations)]));
    expect(plan.backends[0]).toMatchObject({ serverTimeoutMs: 30_000, ssl: true, h2: true });
  });

  it.each([
    ['5000', 5000],
    ['5s', 5000],
    ['1m', 60_000],
    ['five', null],
  ])('haproxyTimeMs(%j) is %j', (text, ms) => expect(haproxyTimeMs(text)).toBe(ms));
});

describe('renderHaproxyConfig', () => {
  it('writes the IC defaults with the lab timeouts, the source address, and passes haproxy -c', async () => {
    const text = await renderChecked(input([ing('web', 'haproxy', [{ host: 'web.test', paths: [{ path: '/', svc: 'web', port: 80 }] }], { 'haproxy.org/server-ssl': 'true' })]));
    for (const line of [
      'tune.bufsize 16384',
      'tune.maxrewrite 1024',
      'timeout connect 1s',
      'timeout server 2s',
      'timeout http-keep-alive 1m',
      'default-server pool-purge-delay 2s',
      'bind 127.207.3.129:18080',
      'source 127.207.3.129',
      'server SRV_1 127.207.1.1:8080 ssl verify none',
      'use_backend shop-web-80 if { var(txn.host) -m str web.test }',
    ]) {
      expect(text).toContain(line);
    }
    expect(text).not.toContain('127.207.1.2');
  });

  it('passes haproxy -c with no Ingress at all', async () => {
    expect(await renderChecked(input([]))).toContain(`default_backend ${DEFAULT_BACKEND}`);
  });

  it('refuses to listen or bind off loopback', () => {
    expect(() => renderHaproxyConfig(input([]), { ...OPTIONS, listen: { address: '10.0.0.1', port: 80 } })).toThrow(/loopback/);
    expect(() => renderHaproxyConfig(input([]), { ...OPTIONS, sourceAddress: '10.0.0.1' })).toThrow(/loopback/);
  });
});
