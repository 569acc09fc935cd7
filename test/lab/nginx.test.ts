// Real nginx (rendered like ingress-nginx) in front of tiny node:http upstreams on 127.203.1.x,
// asserting on the real answers: the statuses and error pages hopwatch's classifier fingerprints.

import type { V1EndpointSlice, V1Ingress, V1Service } from '@kubernetes/client-node';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabAddresses } from './addresses.js';
import { type LabDns, startDns } from './dns.js';
import { type NginxConfigInput, renderNginxConfig } from './nginx-config.js';
import { type NginxInstance, nginxWorkerUser, parseErrorLogLine, startNginx } from './nginx.js';

const lab = new LabAddresses(203);
// Addresses of this file: controllers 127.203.3.1..3, pods 127.203.1.1..5, DNS 127.203.0.55
// (dns.test.ts uses 127.203.0.53).
const CONTROLLER_IP = lab.controller(0);
const TIMEOUTS = { connectMs: 1000, readMs: 1000, sendMs: 1000 };
const NGINX_PAGE_END = '<hr><center>nginx</center>';

interface Upstream {
  ip: string;
  port: number;
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

const upstreams: Upstream[] = [];
let dir = '';
let listenPort = 0;
let nginx: NginxInstance | null = null;
let dns: LabDns | null = null;

/** A free TCP port on ip (bound then released: nothing else in this file uses the address). */
function freePort(ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, ip, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** An HTTP upstream on ip:0 answering with `handler`. */
async function httpUpstream(ip: string, handler: http.RequestListener): Promise<Upstream> {
  const server = http.createServer(handler);
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, ip, resolve));
  const address = server.address() as net.AddressInfo;
  const upstream = {
    ip,
    port: address.port,
    connections: () => connections,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  upstreams.push(upstream);
  return upstream;
}

/** A TCP upstream that reads the request then resets the connection (RST, no byte sent). */
async function resettingUpstream(ip: string): Promise<Upstream> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', () => socket.resetAndDestroy());
  });
  await new Promise<void>((resolve) => server.listen(0, ip, resolve));
  const upstream = {
    ip,
    port: (server.address() as net.AddressInfo).port,
    connections: () => 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  upstreams.push(upstream);
  return upstream;
}

function service(name: string): V1Service {
  return { metadata: { name, namespace: 'default' }, spec: { clusterIP: lab.service(0), ports: [{ name: 'http', port: 80, targetPort: 'http' }] } };
}

function slice(name: string, endpoints: { ip: string; port: number; ready: boolean }[]): V1EndpointSlice {
  // One slice per port: EndpointSlices carry a single port list for all their endpoints.
  return {
    metadata: { name: `${name}-${endpoints[0]?.port ?? 0}`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: endpoints[0]?.port ?? 8080, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready } })),
  };
}

function ingress(name: string, host: string, serviceName: string): V1Ingress {
  return {
    metadata: { name, namespace: 'default', creationTimestamp: new Date('2024-01-01T00:00:00Z') },
    spec: { ingressClassName: 'nginx', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: serviceName, port: { number: 80 } } } }] } }] },
  };
}

function render(input: Omit<NginxConfigInput, 'ingressClass' | 'isDefaultClass'>): string {
  return renderNginxConfig(
    { ...input, ingressClass: 'nginx', isDefaultClass: true },
    { listen: { address: CONTROLLER_IP, port: listenPort }, dir, timeouts: TIMEOUTS, workerUser: nginxWorkerUser(), resolver: dns?.server ?? null },
  );
}

/** One request through the controller with this Host header; a fresh connection each time. */
function get(host: string, path = '/'): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: CONTROLLER_IP, port: listenPort, path, headers: { host }, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

let okUpstream: Upstream | null = null;
let objects: { ingresses: V1Ingress[]; services: V1Service[]; endpointSlices: V1EndpointSlice[] };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hopwatch-nginx-'));
  listenPort = await freePort(CONTROLLER_IP);
  const ok = await httpUpstream(lab.pod(0), (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-seen-host': req.headers.host ?? '', 'x-seen-connection': req.headers.connection ?? '-' });
    res.end(`hello ${req.url}`);
  });
  okUpstream = ok;
  const slow = await httpUpstream(lab.pod(1), (_req, res) => {
    const timer = setTimeout(() => res.end('late'), 2500);
    res.once('close', () => clearTimeout(timer));
  });
  const big = await httpUpstream(lab.pod(2), (_req, res) => {
    res.writeHead(200, { 'x-big': 'b'.repeat(6000) });
    res.end('big');
  });
  const reset = await resettingUpstream(lab.pod(3));
  const refusedPort = await freePort(lab.pod(4));
  // ExternalName Services resolve through the lab DNS at request time.
  dns = await startDns({ ip: '127.203.0.55', port: 0, dir: join(dir, 'dns'), records: [{ name: 'ok.external.test', address: ok.ip }] });
  const external = (name: string, target: string): V1Service => ({
    metadata: { name, namespace: 'default' },
    spec: { type: 'ExternalName', externalName: target, ports: [{ name: 'http', port: 80, targetPort: ok.port }] },
  });
  const names = ['ok', 'slow', 'big', 'reset', 'refused', 'noep'];
  objects = {
    ingresses: [...names, 'missing', 'external', 'lost'].map((n) => ingress(n, `${n}.example.test`, n)),
    services: [...names.map(service), external('external', 'ok.external.test'), external('lost', 'nowhere.example.net')],
    endpointSlices: [
      slice('ok', [{ ip: ok.ip, port: ok.port, ready: true }]),
      slice('slow', [{ ip: slow.ip, port: slow.port, ready: true }]),
      slice('big', [{ ip: big.ip, port: big.port, ready: true }]),
      slice('reset', [{ ip: reset.ip, port: reset.port, ready: true }]),
      slice('refused', [{ ip: lab.pod(4), port: refusedPort, ready: true }]),
      // A pod that exists but is not ready: no ready endpoint at all.
      slice('noep', [{ ip: ok.ip, port: ok.port, ready: false }]),
    ],
  };
  nginx = await startNginx({ name: 'controller-0', dir, config: render(objects), listen: { address: CONTROLLER_IP, port: listenPort } });
});

afterAll(async () => {
  await nginx?.stop();
  await dns?.stop();
  await Promise.all(upstreams.map((u) => u.close()));
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('nginx in front of lab upstreams', () => {
  it('runs a master with workers', () => {
    expect(nginx?.pid).toBeGreaterThan(0);
    expect(nginx?.workerPids.length).toBe(1);
    expect(nginx?.exited).toBe(false);
  });

  it('passes a 200 from the pod through, with the Host header', async () => {
    const res = await get('ok.example.test', '/hi');
    expect(res.status).toBe(200);
    expect(res.body).toBe('hello /hi');
    expect(res.headers['x-seen-host']).toBe('ok.example.test');
    // server_tokens off: the version is hidden.
    expect(res.headers.server).toBe('nginx');
  });

  it('keeps upstream connections alive (keepalive 320, no Connection header sent upstream)', async () => {
    const before = okUpstream?.connections() ?? 0;
    for (let i = 0; i < 5; i++) {
      const res = await get('ok.example.test');
      expect(res.status).toBe(200);
      expect(res.headers['x-seen-connection']).toBe('-');
    }
    // Five requests on fresh client connections share at most one new upstream connection.
    expect((okUpstream?.connections() ?? 0) - before).toBeLessThanOrEqual(1);
  });

  it.each([
    ['refused', 502, 'Bad Gateway'],
    ['reset', 502, 'Bad Gateway'],
    ['big', 502, 'Bad Gateway'],
    ['slow', 504, 'Gateway Time-out'],
    ['noep', 503, 'Service Temporarily Unavailable'],
    ['missing', 503, 'Service Temporarily Unavailable'],
  ])('%s: nginx answers %i with its own page', async (name, status, title) => {
    const res = await get(`${name}.example.test`);
    expect(res.status).toBe(status);
    expect(res.body).toContain(`<title>${status} ${title}</title>`);
    expect(res.body).toContain(NGINX_PAGE_END);
  });

  it('ExternalName: resolved through the lab DNS; a name that does not resolve is a 502', async () => {
    const res = await get('external.example.test', '/x');
    expect(res.status).toBe(200);
    expect(res.body).toBe('hello /x');
    const lost = await get('lost.example.test');
    expect(lost.status).toBe(502);
    expect(lost.body).toContain(NGINX_PAGE_END);
    expect(await readFile(join(dir, 'error.log'), 'utf8')).toContain('nowhere.example.net could not be resolved (3: Host not found)');
  });

  it('unknown host: the default server answers 404', async () => {
    const res = await get('nobody.example.test');
    expect(res.status).toBe(404);
    expect(res.body).toContain('<title>404 Not Found</title>');
    expect(res.body).toContain(NGINX_PAGE_END);
  });

  it('logs upstream evidence: access log with upstream_addr/status, error log with the reason', async () => {
    await get('ok.example.test', '/evidence');
    await get('big.example.test');
    const ok = objects.endpointSlices[0]?.endpoints[0]?.addresses[0];
    const access = await readFile(join(dir, 'access.log'), 'utf8');
    expect(access).toMatch(new RegExp(`"GET /evidence HTTP/1.1" 200 .*\\[default-ok-80\\] \\[\\] ${ok?.replace(/\./g, '\\.')}:\\d+ \\d+ [\\d.]+ 200 `));
    const errors = await readFile(join(dir, 'error.log'), 'utf8');
    expect(errors).toContain('upstream sent too big header while reading response header from upstream');
    expect(errors).toMatch(/connect\(\) failed \(111: Connection refused\)/);
  });

  it('reload: the new config is live when reload resolves, with new workers', async () => {
    const before = nginx?.workerPids ?? [];
    const ok = objects.endpointSlices[0]?.endpoints[0]?.addresses[0] ?? '';
    const okPort = objects.endpointSlices[0]?.ports?.[0]?.port ?? 0;
    const ready = slice('noep', [{ ip: ok, port: okPort, ready: true }]);
    await nginx?.reload(render({ ...objects, endpointSlices: [...objects.endpointSlices.slice(0, 5), ready] }));
    expect((await get('noep.example.test')).status).toBe(200);
    expect(nginx?.workerPids).not.toEqual(before);
    expect(nginx?.workerPids.length).toBe(1);
  });

  it('reload of a config nginx -t rejects throws LAB_NGINX_CONFIG and keeps serving the old one', async () => {
    await expect(nginx?.reload('events {}\nhttp { server { listen oops; } }\n')).rejects.toMatchObject({ code: 'LAB_NGINX_CONFIG' });
    expect((await get('noep.example.test')).status).toBe(200);
  });
});

describe('parseErrorLogLine', () => {
  it.each([
    ['2026/11/24 04:10:01 [notice] 19166#19166: start worker process 19167', { kind: 'worker-started', pid: 19167 }],
    ['2026/11/24 04:10:02 [notice] 19166#19166: worker process 19167 exited with code 0', { kind: 'worker-exited', pid: 19167 }],
    ['2026/11/24 04:10:02 [notice] 19167#19167: gracefully shutting down', { kind: 'shutting-down', pid: 19167 }],
    ['2026/11/24 04:10:02 [notice] 19166#19166: reconfiguring', { kind: 'reconfiguring' }],
    ['2026/11/24 04:10:02 [notice] 19166#19166: start worker processes', { kind: 'other' }],
    ['garbage', { kind: 'other' }],
  ])('%s', (line, event) => {
    expect(parseErrorLogLine(line)).toEqual(event);
  });

  it('emerg lines are fatal', () => {
    const line = '2026/11/24 04:10:02 [emerg] 1#1: bind() to 127.203.3.1:80 failed (98: Address already in use)';
    expect(parseErrorLogLine(line)).toEqual({ kind: 'fatal', line });
  });
});

describe('stop', () => {
  it('stops the master and its workers; a second stop is a no-op; reload after stop throws', async () => {
    const sub = await mkdtemp(join(tmpdir(), 'hopwatch-nginx-stop-'));
    try {
      const port = await freePort(lab.controller(1));
      const config = renderNginxConfig(
        { ingresses: [], services: [], endpointSlices: [], ingressClass: 'nginx', isDefaultClass: true },
        { listen: { address: lab.controller(1), port }, dir: sub, workerUser: nginxWorkerUser() },
      );
      const instance = await startNginx({ name: 'controller-1', dir: sub, config, listen: { address: lab.controller(1), port } });
      const pids = [instance.pid, ...instance.workerPids];
      await instance.stop();
      await instance.stop();
      expect(instance.exited).toBe(true);
      for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
      await expect(instance.reload(config)).rejects.toMatchObject({ code: 'LAB_NGINX_STOPPED' });
    } finally {
      await rm(sub, { recursive: true, force: true });
    }
  });

  it('a port already taken fails the start with LAB_NGINX_START and the reason nginx gives', async () => {
    const sub = await mkdtemp(join(tmpdir(), 'hopwatch-nginx-busy-'));
    const blocker = net.createServer();
    try {
      await new Promise<void>((resolve) => blocker.listen(0, lab.controller(2), resolve));
      const port = (blocker.address() as net.AddressInfo).port;
      const config = renderNginxConfig(
        { ingresses: [], services: [], endpointSlices: [], ingressClass: 'nginx', isDefaultClass: true },
        { listen: { address: lab.controller(2), port }, dir: sub, workerUser: nginxWorkerUser() },
      );
      await expect(startNginx({ name: 'controller-2', dir: sub, config, startTimeoutMs: 10_000 })).rejects.toMatchObject({
        code: 'LAB_NGINX_START',
        message: expect.stringContaining('Address already in use'),
      });
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
      await rm(sub, { recursive: true, force: true });
    }
  });
});
