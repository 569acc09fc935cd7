// The whole lab, end to end: real nginx in front of lab pods, reached through the edge with a Host
// header, each pod fault giving the signature a real ingress-nginx gives.

import { Resolver } from 'node:dns/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './lab.js';
import type { PodFault } from './spec.js';

const FAULTS: { name: string; fault: PodFault; status: number }[] = [
  { name: 'not listening', fault: { mode: 'refuse' }, status: 502 },
  { name: 'crash-looping (no ready endpoint)', fault: { mode: 'crashloop' }, status: 503 },
  { name: 'slower than the read timeout', fault: { mode: 'slow', delayMs: 3000 }, status: 504 },
  { name: 'headers over the 4k buffer', fault: { mode: 'large-headers', bytes: 8192 }, status: 502 },
  { name: 'reset before headers', fault: { mode: 'reset' }, status: 502 },
  { name: 'TLS only', fault: { mode: 'tls' }, status: 502 },
  { name: 'the app answers 500', fault: { mode: 'status', status: 500 }, status: 500 },
];

const app = (name: string, fault: PodFault = { mode: 'healthy' }) => ({ namespace: 'shop', name, replicas: 2, fault });
const service = (name: string) => ({ namespace: 'shop', name, ports: [{ name: 'http', port: 8000, targetPort: 'http' }] });
const ingress = (name: string, host: string) => ({ namespace: 'shop', name, rules: [{ host, paths: [{ path: '/', service: name, port: 'http' }] }] });

let lab: Lab;

async function get(host: string, path = '/'): Promise<{ status: number; body: string; pod: string | undefined }> {
  const res = await request(`${lab.edgeUrl}${path}`, { headers: { host }, reset: true, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const body = await res.body.text();
  const pod = res.headers['x-lab-pod'];
  return { status: res.statusCode, body, pod: typeof pod === 'string' ? pod : undefined };
}

beforeAll(async () => {
  const names = ['web', ...FAULTS.map((_, i) => `f${i}`)];
  lab = await startLab({
    apps: [app('web'), ...FAULTS.map((f, i) => app(`f${i}`, f.fault))],
    services: names.map(service),
    ingresses: names.map((n) => ingress(n, `${n}.shop.test`)),
  });
}, 60_000);

afterAll(async () => {
  await lab?.stop();
});

describe('the lab', () => {
  it('routes a request through the edge and nginx, by Host header, to a pod of the right Service', async () => {
    const answer = await get('web.shop.test', '/hello');
    expect(answer.status).toBe(200);
    expect(answer.pod).toMatch(/^web-/);
    expect(JSON.parse(answer.body)).toMatchObject({ path: '/hello', host: 'web.shop.test' });
  });

  it('answers 404 from the default server for an unknown host', async () => {
    const answer = await get('nobody.shop.test');
    expect(answer.status).toBe(404);
    expect(answer.body).toContain('nginx');
  });

  it.each(FAULTS.map((f, i) => ({ ...f, index: i })))('a pod fault "$name" gives $status through nginx', async ({ index, status }) => {
    const answer = await get(`f${index}.shop.test`);
    expect(answer.status).toBe(status);
    if (status !== 500) expect(answer.body).toContain('<center>nginx</center>');
    else expect(answer.body).toContain('boom');
  });

  it('serves DNS names of Services from a real DNS server', async () => {
    const resolver = new Resolver();
    resolver.setServers([lab.dnsServer]);
    const web = lab.api.get({ apiVersion: 'v1', kind: 'Service', namespace: 'shop', name: 'web' });
    const spec = web?.['spec'] as { clusterIP: string };
    expect(await resolver.resolve4('web.shop.svc.cluster.local')).toEqual([spec.clusterIP]);
    await expect(resolver.resolve4('nothing.shop.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('follows run-time changes: a healed pod serves again, a new Ingress routes', async () => {
    await lab.setAppFault('shop', 'f0', { mode: 'healthy' });
    await lab.addIngress(ingress('f0', 'again.shop.test'));
    await lab.settle();
    expect((await get('again.shop.test')).status).toBe(200);
    await lab.setAppFault('shop', 'f0', { mode: 'refuse' });
    await lab.settle();
    expect((await get('again.shop.test')).status).toBe(502);
  });

  it('stages controller replica faults: one replica down, one with broken upstreams', async () => {
    const [first, second] = lab.controller.replicas;
    if (!first || !second) throw new Error('two controller replicas expected');
    await lab.setControllerFault(1, 'bad-upstream');
    const direct = async (ip: string) => (await request(`http://${ip}:${first.port}/`, { headers: { host: 'web.shop.test' }, reset: true })).statusCode;
    expect(await direct(first.ip)).toBe(200);
    expect(await direct(second.ip)).toBe(502);
    await lab.setControllerFault(1, 'down');
    await expect(direct(second.ip)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await lab.setControllerFault(1, 'healthy');
    expect(await direct(second.ip)).toBe(200);
  });
});

describe('stop', () => {
  it('leaves no lab process behind', async () => {
    const other = await startLab({ apps: [app('web')], services: [service('web')], ingresses: [ingress('web', 'web.shop.test')] });
    const nginx = other.controller.replicas.flatMap((r) => [r.nginx?.pid ?? 0, ...(r.nginx?.workerPids ?? [])]);
    const pids = [...nginx, other.dns.pid].filter((p) => p > 0);
    expect(pids.length).toBeGreaterThanOrEqual(5);
    await other.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});
