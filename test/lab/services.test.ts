// The Service forwarder with real sockets: ClusterIPs on 127.202.2.x, backend pods on
// 127.202.1.101+ (pods.test.ts owns 127.202.1.1..100).

import * as net from 'node:net';
import { Client, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { LabAddresses } from './addresses.js';
import { startPod, type LabPod, type SocketAddress } from './pods.js';
import { startServiceForwarder, type ServiceForwarder } from './services.js';
import type { PodFault } from './spec.js';
import { addressOf, canBind, expectNoTcpLeft, getOnce, Started, waitFor } from './testing.js';

const lab = new LabAddresses(202);
const started = new Started();
let nextPod = 100;
let nextService = 0;

async function pod(fault: PodFault = { mode: 'healthy' }): Promise<LabPod> {
  return started.add(await startPod({ name: `svc-pod-${nextPod}`, ip: lab.pod(nextPod++), port: 0, fault }));
}

async function forwarder(backends: readonly SocketAddress[] = []): Promise<ServiceForwarder> {
  return started.add(await startServiceForwarder({ ip: lab.service(nextService++), port: 0, backends }));
}

/** A plain TCP server on the next backend address, handing each connection to `onSocket`; closed after the test. */
async function rawBackend(options: net.ServerOpts, onSocket: (socket: net.Socket) => void): Promise<SocketAddress> {
  const server = net.createServer(options, onSocket);
  await new Promise<void>((resolve) => server.listen({ host: lab.pod(nextPod++), port: 0 }, () => resolve()));
  started.add({ stop: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('no address');
  return { ip: bound.address, port: bound.port };
}

afterEach(() => started.stopAll());

async function undiciFailure(url: string): Promise<{ name: string; code: string | undefined; message: string }> {
  try {
    const res = await request(url, { reset: true });
    await res.body.dump();
    return { name: 'none', code: String(res.statusCode), message: '' };
  } catch (e) {
    const error = e as Error & { code?: string };
    return { name: error.name, code: error.code, message: error.message };
  }
}

describe('service forwarder', () => {
  it('spreads new connections round-robin across 3 backends and counts them', async () => {
    const pods = [await pod(), await pod(), await pod()];
    const f = await forwarder(pods.map(addressOf));
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await getOnce(f));
    const names = pods.map((p) => `200 ${p.name}`);
    expect(seen).toEqual([...names, ...names]);
    expect(f.connections).toBe(6);
    expect(pods.map((p) => p.requests)).toEqual([2, 2, 2]);
  });

  it('is L4: one keep-alive connection stays on one backend', async () => {
    const pods = [await pod(), await pod()];
    const f = await forwarder(pods.map(addressOf));
    const client = new Client(`http://${f.ip}:${f.port}`);
    try {
      const answered = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const res = await client.request({ path: '/', method: 'GET' });
        await res.body.dump();
        answered.add(String(res.headers['x-lab-pod']));
      }
      expect(answered.size).toBe(1);
      expect(f.connections).toBe(1);
    } finally {
      await client.destroy();
    }
  });

  it('refuses with no backends, keeps established connections, and recovers when backends return', async () => {
    const p = await pod();
    const f = await forwarder([addressOf(p)]);
    const client = new Client(`http://${f.ip}:${f.port}`);
    try {
      await (await client.request({ path: '/', method: 'GET' })).body.dump();
      await f.setBackends([]);
      expect(f.listening).toBe(false);
      expect(await getOnce(f)).toBe('ECONNREFUSED');
      expect((await undiciFailure(`http://${f.ip}:${f.port}/`)).code).toBe('ECONNREFUSED');
      // Like conntrack, a flow set up before the change keeps its backend.
      const res = await client.request({ path: '/', method: 'GET' });
      await res.body.dump();
      expect(res.statusCode).toBe(200);
      await f.setBackends([addressOf(p)]);
      expect(f.listening).toBe(true);
      expect(await getOnce(f)).toBe(`200 ${p.name}`);
    } finally {
      await client.destroy();
    }
  });

  it('starts refusing when started without backends, on a port it keeps', async () => {
    const f = await forwarder();
    expect(f.listening).toBe(false);
    expect(f.port).toBeGreaterThan(0);
    expect(await getOnce(f)).toBe('ECONNREFUSED');
    const p = await pod();
    await f.setBackends([addressOf(p)]);
    expect(await getOnce(f)).toBe(`200 ${p.name}`);
  });

  it('resets the client when the chosen backend refuses, and keeps rotating', async () => {
    const dead = await pod({ mode: 'refuse' });
    const live = await pod();
    const f = await forwarder([addressOf(dead), addressOf(live)]);
    const failure = await undiciFailure(`http://${f.ip}:${f.port}/`);
    expect(failure.code).toBe('ECONNRESET');
    expect(await getOnce(f)).toBe(`200 ${live.name}`);
    expect(await getOnce(f)).toBe('ECONNRESET');
  });

  it("carries the pod's own failure signature: RST stays RST, FIN stays FIN", async () => {
    const resetting = await pod({ mode: 'reset' });
    const closing = await pod({ mode: 'close' });
    const viaReset = await forwarder([addressOf(resetting)]);
    const viaClose = await forwarder([addressOf(closing)]);
    expect((await undiciFailure(`http://${viaReset.ip}:${viaReset.port}/`)).code).toBe('ECONNRESET');
    expect(await undiciFailure(`http://${viaClose.ip}:${viaClose.port}/`)).toEqual({
      name: 'SocketError',
      code: 'UND_ERR_SOCKET',
      message: 'other side closed',
    });
  });

  it('propagates half-close both ways', async () => {
    // A backend that answers only once the client has finished sending (FIN), then closes.
    const backend = await rawBackend({ allowHalfOpen: true }, (socket) => {
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      socket.on('end', () => socket.end(`got ${received}`));
    });
    const f = await forwarder([backend]);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect({ host: f.ip, port: f.port, allowHalfOpen: true }, () => socket.end('hello'));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply).toBe('got hello');
    await waitFor(() => f.activeConnections === 0, 5000);
  });

  it("propagates the client's reset to the backend", async () => {
    let backendSaw = '';
    let backendGot = '';
    const backend = await rawBackend({}, (socket) => {
      socket.on('data', (chunk: Buffer) => (backendGot += chunk.toString()));
      socket.on('error', (e: NodeJS.ErrnoException) => (backendSaw = e.code ?? e.message));
      socket.on('end', () => (backendSaw ||= 'fin'));
    });
    const f = await forwarder([backend]);
    const socket = net.connect({ host: f.ip, port: f.port });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('x');
    // Once the byte is through, the upstream leg exists and the reset has somewhere to go.
    await waitFor(() => backendGot === 'x', 5000);
    socket.resetAndDestroy();
    await waitFor(() => backendSaw !== '', 5000);
    expect(backendSaw).toBe('ECONNRESET');
  });

  it('stop() resolves with connections open, and frees the port', async () => {
    const p = await pod({ mode: 'slow', delayMs: 60_000 });
    const f = await forwarder([addressOf(p)]);
    const pending = undiciFailure(`http://${f.ip}:${f.port}/`);
    await waitFor(() => p.requests === 1, 5000);
    expect(f.activeConnections).toBe(1);
    await f.stop();
    await f.stop();
    expect(f.activeConnections).toBe(0);
    expect((await pending).code).toBe('UND_ERR_SOCKET');
    expect(await canBind(f.ip, f.port)).toBe(true);
    await expect(f.setBackends([])).rejects.toMatchObject({ code: 'LAB_STOPPED' });
  });

  it('rejects backends outside loopback', async () => {
    const f = await forwarder();
    await expect(f.setBackends([{ ip: '192.168.1.1', port: 80 }])).rejects.toMatchObject({ code: 'LAB_BAD_ADDRESS' });
    expect(f.listening).toBe(false);
  });
});

describe('after every test', () => {
  it('leaves no TCP listener or socket open in this process', expectNoTcpLeft);
});
