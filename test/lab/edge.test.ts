// The edge with real sockets: the edge on 127.202.0.80, stand-in controller pods on 127.202.3.x.

import * as net from 'node:net';
import { Client, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { LabAddresses } from './addresses.js';
import { ALB_502_BODY, startEdge, type EdgeFault, type LabEdge } from './edge.js';
import { startPod, type LabPod, type SocketAddress } from './pods.js';
import { addressOf, canBind, expectNoTcpLeft, getOnce, Started, waitFor } from './testing.js';

const lab = new LabAddresses(202);
const started = new Started();
let nextController = 0;

/** Stand-ins for the ingress controller pods: lab pods on the controller addresses. */
async function controllers(count: number): Promise<LabPod[]> {
  const pods: LabPod[] = [];
  for (let i = 0; i < count; i++) {
    const index = nextController++;
    pods.push(started.add(await startPod({ name: `ctrl-${index}`, ip: lab.controller(index), port: 0 })));
  }
  return pods;
}

async function edge(backends: readonly SocketAddress[], fault?: EdgeFault, now?: () => number): Promise<LabEdge> {
  return started.add(await startEdge({ ip: lab.edge, port: 0, backends, fault, now }));
}

afterEach(() => started.stopAll());

/** What a raw socket receives for the given bytes, and how the connection ended. */
function rawExchange(e: LabEdge, bytes: string): Promise<{ text: string; ending: string }> {
  return new Promise((resolve) => {
    let text = '';
    let ending = 'close';
    const socket = net.connect({ host: e.ip, port: e.port }, () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('end', () => (ending = 'fin'));
    socket.on('error', (err: NodeJS.ErrnoException) => (ending = err.code ?? err.message));
    socket.on('close', () => resolve({ text, ending }));
  });
}

describe('edge', () => {
  it('healthy: round-robin over the controller pods, one backend per connection', async () => {
    const pods = await controllers(3);
    const e = await edge(pods.map(addressOf));
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await getOnce(e));
    const names = pods.map((p) => `200 ${p.name}`);
    expect(seen).toEqual([...names, ...names]);
    expect(e.connections).toBe(6);
  });

  it('refuse: nothing listens; healthy again listens on the same port', async () => {
    const pods = await controllers(1);
    const e = await edge(pods.map(addressOf), { mode: 'refuse' });
    expect(e.listening).toBe(false);
    expect(await getOnce(e)).toBe('ECONNREFUSED');
    await e.setFault({ mode: 'healthy' });
    expect(e.listening).toBe(true);
    expect(await getOnce(e)).toBe(`200 ${pods[0]?.name}`);
  });

  it('reset: accepts, then RST before any byte', async () => {
    const pods = await controllers(1);
    const e = await edge(pods.map(addressOf), { mode: 'reset' });
    expect(await rawExchange(e, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n')).toEqual({ text: '', ending: 'ECONNRESET' });
    const error = await request(`http://${e.ip}:${e.port}/`).then(
      () => null,
      (err: unknown) => err as Error & { code?: string },
    );
    expect(error?.code).toBe('ECONNRESET');
    expect(pods[0]?.requests).toBe(0);
  });

  it("bad-gateway: the ALB's own 502, byte for byte, on a kept-alive connection", async () => {
    const pods = await controllers(1);
    const e = await edge(pods.map(addressOf), { mode: 'bad-gateway' }, () => Date.UTC(2024, 0, 2, 3, 4, 5));
    const { text } = await rawExchange(e, 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const first = text.slice(0, text.indexOf('</html>\r\n') + '</html>\r\n'.length);
    expect(first).toBe(
      'HTTP/1.1 502 Bad Gateway\r\n' +
        'Server: awselb/2.0\r\n' +
        'Date: Tue, 02 Jan 2024 03:04:05 GMT\r\n' +
        'Content-Type: text/html\r\n' +
        'Content-Length: 122\r\n' +
        'Connection: keep-alive\r\n' +
        '\r\n' +
        ALB_502_BODY,
    );
    expect(Buffer.byteLength(ALB_502_BODY)).toBe(122);
    // The second request on the same connection got its own 502: the edge keeps connections alive.
    expect(text.match(/^HTTP\/1\.1 502 Bad Gateway/gm)).toHaveLength(2);
    const res = await request(`http://${e.ip}:${e.port}/`);
    expect(res.statusCode).toBe(502);
    expect(res.headers.server).toBe('awselb/2.0');
    expect(await res.body.text()).toContain('<title>502 Bad Gateway</title>');
    expect(pods[0]?.requests).toBe(0);
  });

  it('only-backend: every connection goes to one controller pod; a missing index resets', async () => {
    const pods = await controllers(3);
    const e = await edge(pods.map(addressOf), { mode: 'only-backend', index: 1 });
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(await getOnce(e));
    expect([...seen]).toEqual([`200 ${pods[1]?.name}`]);
    await e.setFault({ mode: 'only-backend', index: 7 });
    expect(await getOnce(e)).toBe('ECONNRESET');
    await expect(e.setFault({ mode: 'only-backend', index: -1 })).rejects.toMatchObject({ code: 'LAB_BAD_FAULT' });
  });

  it('healthy with no backends resets each connection; setBackends brings it back', async () => {
    const e = await edge([]);
    expect(await getOnce(e)).toBe('ECONNRESET');
    const pods = await controllers(1);
    await e.setBackends(pods.map(addressOf));
    expect(await getOnce(e)).toBe(`200 ${pods[0]?.name}`);
  });

  it('a fault switch drops pooled connections, so the next request sees the new fault', async () => {
    const pods = await controllers(1);
    const e = await edge(pods.map(addressOf));
    const client = new Client(`http://${e.ip}:${e.port}`);
    let disconnects = 0;
    client.on('disconnect', () => disconnects++);
    try {
      const ok = await client.request({ path: '/', method: 'GET' });
      await ok.body.dump();
      expect(ok.statusCode).toBe(200);
      await e.setFault({ mode: 'bad-gateway' });
      await waitFor(() => disconnects === 1, 5000);
      const bad = await client.request({ path: '/', method: 'GET' });
      await bad.body.dump();
      expect(bad.statusCode).toBe(502);
      expect(e.fault).toEqual({ mode: 'bad-gateway' });
    } finally {
      await client.destroy();
    }
  });

  it.each<EdgeFault>([{ mode: 'healthy' }, { mode: 'reset' }, { mode: 'bad-gateway' }])(
    '$mode: stop() resolves with connections open and frees the port',
    async (fault) => {
      const pods = await controllers(1);
      const e = await edge(pods.map(addressOf), fault);
      const socket = net.connect({ host: e.ip, port: e.port });
      socket.on('error', () => undefined);
      socket.resume();
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      // Half a request keeps healthy and bad-gateway waiting for the rest; reset would act on any byte.
      if (fault.mode !== 'reset') socket.write('GET / HTTP/1.1\r\nHost: a\r\n');
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      await waitFor(() => e.connections === 1, 5000);
      await e.stop();
      await closed;
      expect(e.listening).toBe(false);
      expect(await canBind(e.ip, e.port)).toBe(true);
    },
  );
});

describe('after every test', () => {
  it('leaves no TCP listener or socket open in this process', expectNoTcpLeft);
});
