import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { selfSignedTls } from '../../test/lab/pods.js';
import { controllerFacts, result, routeFixture } from '../../test/fixtures.js';
import type { IdleTimeoutMeasure } from '../model.js';
import { answersH2c, detectProtocol, type DiagnosticTarget, measureIdleTimeout, PodDiagnostics, responseEnd } from './diagnose.js';

// BLOCK 207: every server of this file listens on 127.207.5.x, port 0.
const IP = '127.207.5.1';
const servers: net.Server[] = [];

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen({ host: IP, port: 0 }, resolve));
  return (server.address() as net.AddressInfo).port;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    if ('closeAllConnections' in server && typeof server.closeAllConnections === 'function') server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

const target = (port: number, tls = false): DiagnosticTarget => ({ address: IP, port, tls, host: 'shop.example.test', path: '/' });

async function httpServer(keepAliveMs: number, answer: (res: http.ServerResponse) => void = (res) => res.end('ok')): Promise<number> {
  const server = http.createServer((_req, res) => answer(res));
  server.keepAliveTimeout = keepAliveMs;
  return listen(server);
}

describe('responseEnd', () => {
  const b = (text: string) => Buffer.from(text, 'latin1');
  it.each([
    ['content-length complete', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', { kind: 'complete', keepAlive: true }],
    ['content-length short', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok', { kind: 'incomplete' }],
    ['connection close', 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', { kind: 'complete', keepAlive: false }],
    ['HTTP/1.0 without keep-alive', 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n', { kind: 'complete', keepAlive: false }],
    ['chunked complete', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', { kind: 'complete', keepAlive: true }],
    ['chunked with trailers', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n', { kind: 'complete', keepAlive: true }],
    ['chunked incomplete', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n', { kind: 'incomplete' }],
    ['delimited by close', 'HTTP/1.1 200 OK\r\n\r\nbody', { kind: 'until-close' }],
    ['interim 100 then final', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n', { kind: 'complete', keepAlive: true }],
    ['not HTTP', '\x00\x00\x12\x04\x00\x00\x00\x00\x00', { kind: 'invalid' }],
  ])('%s', (_name, text, want) => expect(responseEnd(b(text))).toEqual(want));
});

describe('measureIdleTimeout', () => {
  it('times the close of a pod that drops idle connections early', async () => {
    const port = await httpServer(150);
    const measure = await measureIdleTimeout(target(port), { boundMs: 5000, timeoutMs: 5000, trustAnnouncement: false });
    expect(measure?.kind).toBe('closed');
    // The pod closes ~150 ms after its response (Node 20 adds up to 1 s to keepAliveTimeout): the
    // measurement is that, never the 5 s bound (which would read as 'open') nor an instant close.
    const afterMs = (measure as Extract<IdleTimeoutMeasure, { kind: 'closed' }>).afterMs;
    expect(afterMs).toBeGreaterThanOrEqual(100);
    expect(afterMs).toBeLessThan(2500);
  });

  it('stops at the bound when the pod keeps the connection longer', async () => {
    const port = await httpServer(30_000);
    expect(await measureIdleTimeout(target(port), { boundMs: 200, timeoutMs: 5000, trustAnnouncement: false })).toEqual({ kind: 'open', atLeastMs: 200 });
  });

  it('takes the idle timeout a pod announces (Keep-Alive: timeout=N) without waiting for it', async () => {
    const port = await httpServer(3000);
    expect(await measureIdleTimeout(target(port), { boundMs: 60_000, timeoutMs: 5000 })).toEqual({ kind: 'announced', afterMs: 3000 });
  });

  it('says no-keepalive when the pod answers Connection: close', async () => {
    const port = await httpServer(30_000, (res) => {
      res.setHeader('connection', 'close');
      res.end('bye');
    });
    expect(await measureIdleTimeout(target(port), { boundMs: 2000, timeoutMs: 5000 })).toEqual({ kind: 'no-keepalive' });
  });

  it('reads a chunked body to its end before timing', async () => {
    const port = await httpServer(150, (res) => {
      res.write('part one');
      res.end('part two');
    });
    expect((await measureIdleTimeout(target(port), { boundMs: 5000, timeoutMs: 5000, trustAnnouncement: false }))?.kind).toBe('closed');
  });

  it('measures over TLS when the pod speaks TLS', async () => {
    const server = https.createServer(await selfSignedTls(), (_req, res) => res.end('ok'));
    server.keepAliveTimeout = 150;
    const port = await listen(server);
    expect((await measureIdleTimeout(target(port, true), { boundMs: 5000, timeoutMs: 5000, trustAnnouncement: false }))?.kind).toBe('closed');
  });

  it('is null when no response arrives', async () => {
    const port = await listen(net.createServer((socket) => socket.on('data', () => socket.end())));
    expect(await measureIdleTimeout(target(port), { boundMs: 2000, timeoutMs: 2000 })).toBeNull();
  });
});

describe('detectProtocol', () => {
  it('finds TLS behind a failed plain request', async () => {
    const port = await listen(https.createServer(await selfSignedTls(), (_req, res) => res.end('ok')));
    expect(await detectProtocol(target(port), 3000)).toBe('tls');
  });

  it('finds h2c prior knowledge', async () => {
    const server = http2.createServer();
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    const port = await listen(server);
    expect(await detectProtocol(target(port), 3000)).toBe('h2c');
  });

  it('finds plain HTTP/1.1 behind a failed TLS request', async () => {
    const port = await httpServer(5000);
    expect(await detectProtocol(target(port, true), 3000)).toBe('http1');
  });

  it('finds nothing on a pod that closes every connection', async () => {
    const port = await listen(net.createServer((socket) => socket.on('data', () => socket.end())));
    expect(await detectProtocol(target(port), 1000)).toBeNull();
  });

  it('answersH2c is false for an HTTP/1.1-only pod', async () => {
    expect(await answersH2c(target(await httpServer(5000)), 2000)).toBe(false);
  });
});

describe('PodDiagnostics', () => {
  const route = routeFixture({ controller: controllerFacts({ settings: { upstreamKeepaliveTimeoutMs: 1000 } }) });
  const pod = (overrides = {}) => result('pod', '10.2.0.1:8080', { pod: 'shop/web-1', ready: true, terminating: false, ...overrides });

  it('measures each answering pod once and reuses the measurement in later rounds', async () => {
    const calls: number[] = [];
    const diagnostics = new PodDiagnostics({
      timeoutMs: 1000,
      measureIdle: async (_t, o) => (calls.push(o.boundMs), { kind: 'closed', afterMs: 300 }),
    });
    const first = await diagnostics.diagnose(route, [pod()]);
    const second = await diagnostics.diagnose(route, [pod()]);
    expect(first).toEqual([{ target: '10.2.0.1:8080', pod: 'shop/web-1', idleTimeout: { kind: 'closed', afterMs: 300 }, protocol: null }]);
    expect(second).toEqual(first);
    // Bounded a little past the controller's 1000 ms window.
    expect(calls).toEqual([1100]);
  });

  it('does not block a round past waitMs: the measurement goes on and a later round gets it', async () => {
    let finish: (value: IdleTimeoutMeasure) => void = () => undefined;
    const diagnostics = new PodDiagnostics({ timeoutMs: 1000, waitMs: 20, measureIdle: () => new Promise((resolve) => (finish = resolve)) });
    expect(await diagnostics.diagnose(route, [pod()])).toEqual([]);
    finish({ kind: 'open', atLeastMs: 1100 });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect((await diagnostics.diagnose(route, [pod()]))[0]?.idleTimeout).toEqual({ kind: 'open', atLeastMs: 1100 });
  });

  it('discards a measurement that spans a failure of the pod (a restart closes idle connections too) and forgets older ones', async () => {
    const finishers: ((value: IdleTimeoutMeasure) => void)[] = [];
    const diagnostics = new PodDiagnostics({ timeoutMs: 1000, waitMs: 0, measureIdle: () => new Promise((resolve) => finishers.push(resolve)) });
    await diagnostics.diagnose(route, [pod()]);
    await diagnostics.diagnose(route, [pod({ status: null, error: 'refused' })]);
    finishers[0]?.({ kind: 'closed', afterMs: 400 });
    await new Promise((resolve) => setTimeout(resolve, 0));
    // The early close came from the pod going away: not cached, a new measurement starts.
    expect(await diagnostics.diagnose(route, [pod()])).toEqual([]);
    expect(finishers).toHaveLength(2);
    finishers[1]?.({ kind: 'open', atLeastMs: 1100 });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect((await diagnostics.diagnose(route, [pod()]))[0]?.idleTimeout).toEqual({ kind: 'open', atLeastMs: 1100 });
    await diagnostics.diagnose(route, [pod({ status: null, error: 'reset' })]);
    expect(await diagnostics.diagnose(route, [pod()])).toEqual([]);
  });

  it("says 'not-measured' without holding a connection when asked for announced timeouts only, and takes an announced one", async () => {
    let measured = 0;
    const diagnostics = new PodDiagnostics({ timeoutMs: 1000, idle: 'announced-only', measureIdle: async () => (measured++, { kind: 'open', atLeastMs: 1100 }) });
    const silent = await diagnostics.diagnose(route, [pod()]);
    const announcing = await diagnostics.diagnose(route, [pod({ headers: { 'keep-alive': 'timeout=4' } })]);
    expect(silent[0]?.idleTimeout).toEqual({ kind: 'not-measured' });
    expect(announcing[0]?.idleTimeout).toEqual({ kind: 'announced', afterMs: 4000 });
    expect(measured).toBe(0);
  });

  it('waits for a measurement no longer than the round budget left, whatever waitMs says', async () => {
    const diagnostics = new PodDiagnostics({ timeoutMs: 60_000, waitMs: 60_000, measureIdle: () => new Promise(() => undefined) });
    const started = Date.now();
    expect(await diagnostics.diagnose(route, [pod()], 30)).toEqual([]);
    // Bounded by the 30 ms budget, not the 60 s wait: anything under the wait proves it.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('detects a protocol within the budget left: none is tried with no budget', async () => {
    let asked = 0;
    const diagnostics = new PodDiagnostics({ timeoutMs: 1000, measureIdle: async () => null, detect: async (_t, ms) => (asked = ms, 'tls') });
    const tlsPod = pod({ status: null, error: 'tls', target: '10.2.0.1:8443', port: 8443 });
    expect((await diagnostics.diagnose(route, [tlsPod], 250))[0]?.protocol).toBe('tls');
    expect(asked).toBe(250);
    expect(await diagnostics.diagnose(route, [tlsPod], 0)).toEqual([]);
  });

  it('skips pods that failed, are out of rotation, or sit behind a controller that never reuses connections', async () => {
    let measured = 0;
    const measureIdle = async (): Promise<IdleTimeoutMeasure> => (measured++, { kind: 'no-keepalive' });
    const diagnostics = new PodDiagnostics({ timeoutMs: 1000, measureIdle });
    await diagnostics.diagnose(route, [pod({ status: null, error: 'refused' }), pod({ ready: false, target: '10.2.0.9:8080' })]);
    const noReuse = routeFixture({ controller: controllerFacts({ settings: { upstreamKeepaliveTimeoutMs: 0 } }) });
    await diagnostics.diagnose(noReuse, [pod()]);
    expect(measured).toBe(0);
  });

  it('asks which protocol a pod speaks after a TLS or protocol failure, and h2c when the controller speaks it', async () => {
    const asked: string[] = [];
    const diagnostics = new PodDiagnostics({
      timeoutMs: 1000,
      measureIdle: async () => null,
      detect: async (t) => (asked.push(`detect ${t.port}`), 'tls'),
      checkH2c: async (t) => (asked.push(`h2c ${t.port}`), false),
    });
    const tlsPod = pod({ status: null, error: 'tls', target: '10.2.0.1:8443', port: 8443 });
    expect((await diagnostics.diagnose(route, [tlsPod]))[0]?.protocol).toBe('tls');
    const grpc = routeFixture({ annotations: { 'nginx.ingress.kubernetes.io/backend-protocol': 'GRPC' }, controller: controllerFacts({ settings: { upstreamKeepaliveTimeoutMs: 0 } }) });
    expect(await diagnostics.diagnose(grpc, [pod()])).toEqual([]);
    expect(asked).toEqual(['detect 8443', 'h2c 8080']);
  });
});
