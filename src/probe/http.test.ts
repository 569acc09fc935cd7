import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import { createServer as createH2cServer } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import type { PlannedHop } from '../model.js';
import { USER_AGENT, VERSION } from '../version.js';
import { HttpClientPool, type HttpProbeOptions, probeHttp } from './http.js';

// Block 205 belongs to this file's tests; 127.205.200.x is outside every lab range of the block.
const IP = '127.205.200.1';
const NOBODY = '127.205.200.99';
const HOST = 'app.example.test';

// Self-signed P-256 certificate for app.example.test, valid until 2126 (test fixture, not a secret).
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUYjZUkRKe2Rkm1q1
dAKl0BulhGbJ70P65rul/cWzlrChRANCAARUIWV1cFmw2h93mb3lAXHEtoEG3qRk
YqqNecyQCF3rVNwXZzUCLy+iq6O+n/PGAa/WgNz7SNu6LW3rcAkEEcZP
-----END PRIVATE KEY-----`;
const CERT = `-----BEGIN CERTIFICATE-----
MIIBqzCCAVCgAwIBAgIUY03+uNzkF4RAmYVlGB2B4uUY2wowCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQYXBwLmV4YW1wbGUudGVzdDAgFw0yNjExMjQwNDA2NTlaGA8y
MTI2MTAzMTA0MDY1OVowGzEZMBcGA1UEAwwQYXBwLmV4YW1wbGUudGVzdDBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABFQhZXVwWbDaH3eZveUBccS2gQbepGRiqo15
zJAIXetU3BdnNQIvL6Kro76f88YBr9aA3PtI27otbetwCQQRxk+jcDBuMB0GA1Ud
DgQWBBS2wQrosAnSeCAqvOFO49RWTzIQQjAfBgNVHSMEGDAWgBS2wQrosAnSeCAq
vOFO49RWTzIQQjAPBgNVHRMBAf8EBTADAQH/MBsGA1UdEQQUMBKCEGFwcC5leGFt
cGxlLnRlc3QwCgYIKoZIzj0EAwIDSQAwRgIhAIIRHewVxpcFWtQkxkPFC6DtyaUO
aoYP81xw3wiG8iW6AiEAufZM88wKgXTDWRgUiPQxH7gck/zpMmAqkHfOR4nfoLA=
-----END CERTIFICATE-----`;

// One pool for the whole file: every scenario below also checks that a client reused after any
// kind of failure still serves the next probe correctly.
const clients = new HttpClientPool();
const probe = (hop: PlannedHop, options: HttpProbeOptions = {}) => probeHttp(hop, { clients, ...options });

type AnyServer = NetServer | HttpServer;
const servers: AnyServer[] = [];
const sockets = new Set<Socket>();

/** Starts a server on IP:0, tracking its sockets so afterEach can stop everything. */
async function listen<S extends AnyServer>(server: S): Promise<number> {
  servers.push(server);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => {}); // resets are what several tests provoke
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, IP);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

function hopTo(port: number, overrides: Partial<PlannedHop> & { host?: string | null; timeoutMs?: number; path?: string } = {}): PlannedHop {
  const { host = HOST, timeoutMs = 2000, path = '/healthz?x=1', ...rest } = overrides;
  const address = rest.address ?? IP;
  return {
    hop: 'pod',
    target: `${address}:${port}`,
    address,
    port,
    scheme: 'http',
    pod: 'shop/web-1',
    ready: true,
    terminating: false,
    request: { host, path, timeoutMs },
    dnsServer: null,
    ...rest,
  };
}

/** A TCP server that reads the request and then runs `onRequest` on the socket. */
function rawServer(onRequest: (socket: Socket) => void): NetServer {
  return createNetServer((socket) => socket.once('data', () => onRequest(socket)));
}

describe('probeHttp with a request variant (hopwatch compare)', () => {
  it('sends the method, headers and body asked for, keeps the asked-for headers and cookie names, and hands the body over', async () => {
    let seen: { method: string | undefined; headers: IncomingHttpHeaders; body: string } | null = null;
    const port = await listen(
      createHttpServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          seen = { method: req.method, headers: req.headers, body };
          res.writeHead(201, [['content-type', 'application/json'], ['cache-control', 'no-store'], ['set-cookie', 'sid=secret; Path=/'], ['set-cookie', 'a=1'], ['x-other', 'no']]);
          res.end('0123456789');
        });
      }),
    );
    const chunks: Buffer[] = [];
    const result = await probe(hopTo(port), {
      request: { method: 'POST', headers: [['x_under', '1'], ['accept', 'application/json'], ['content-type', 'application/json']], body: '{"a":1}' },
      keepHeaders: ['cache-control', 'set-cookie'],
      maxBodyBytes: 4,
      onBody: (chunk) => chunks.push(Buffer.from(chunk)),
    });
    expect(seen).toMatchObject({ method: 'POST', body: '{"a":1}', headers: { x_under: '1', accept: 'application/json', host: HOST } });
    expect(result.status).toBe(201);
    expect(result.headers).toMatchObject({ 'content-type': 'application/json', 'cache-control': 'no-store', 'set-cookie': 'a, sid' });
    expect(result.headers['x-other']).toBeUndefined();
    expect(Buffer.concat(chunks).toString()).toBe('0123');
  });

  it('HEAD gets the headers and no body', async () => {
    const port = await listen(createHttpServer((req, res) => (res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' }), res.end(req.method === 'HEAD' ? undefined : 'hello'))));
    const result = await probe(hopTo(port), { request: { method: 'HEAD' } });
    expect(result).toMatchObject({ status: 200, error: null, bytes: 0 });
  });
});

describe('probeHttp', () => {
  it('returns status, phases, size, kept headers and the request it sent', async () => {
    let seen: { headers: IncomingHttpHeaders; url: string | undefined } | null = null;
    const port = await listen(
      createHttpServer((req, res) => {
        seen = { headers: req.headers, url: req.url };
        res.writeHead(200, { 'content-type': 'text/plain', 'x-envoy-upstream-service-time': '3', 'x-secret': 'no' });
        res.end('hello');
      }),
    );
    const result = await probe(hopTo(port));
    expect(result).toMatchObject({ hop: 'pod', pod: 'shop/web-1', target: `${IP}:${port}`, status: 200, error: null, errorDetail: null, bytes: 5 });
    expect(result.headers).toEqual({ 'content-type': 'text/plain', 'x-envoy-upstream-service-time': '*' });
    expect(result.generator).toBe('upstream');
    const { connectMs, ttfbMs, totalMs, tlsMs, dnsMs } = result.timings;
    expect(connectMs).toBeGreaterThanOrEqual(0);
    expect(ttfbMs).toBeGreaterThanOrEqual(connectMs ?? Infinity);
    expect(totalMs).toBeGreaterThanOrEqual(ttfbMs ?? Infinity);
    expect(tlsMs).toBeUndefined();
    expect(dnsMs).toBeUndefined();
    expect(seen).toMatchObject({ url: '/healthz?x=1', headers: { host: HOST, 'user-agent': USER_AGENT, accept: '*/*', connection: 'close' } });
    expect(USER_AGENT).toBe(`hopwatch/${VERSION}`);
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('opens a fresh connection per probe, with a pooled client or without a pool', async () => {
    let connections = 0;
    const server = createHttpServer((_req, res) => res.end('ok'));
    server.on('connection', () => connections++);
    const port = await listen(server);
    const pool = new HttpClientPool();
    for (let i = 0; i < 3; i++) expect(await probeHttp(hopTo(port), { clients: pool })).toMatchObject({ status: 200, error: null });
    expect(pool.size).toBe(1);
    expect(await probeHttp(hopTo(port))).toMatchObject({ status: 200, error: null });
    expect(connections).toBe(4);
  });

  it('sends the target as Host when the route has no host', async () => {
    let host: string | undefined;
    const port = await listen(createHttpServer((req, res) => ((host = req.headers.host), res.end())));
    await probe(hopTo(port, { host: null }));
    expect(host).toBe(`${IP}:${port}`);
  });

  it('reports refused when nothing listens', async () => {
    const closed = createNetServer();
    const port = await listen(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await probe(hopTo(port, { address: NOBODY }));
    expect(result).toMatchObject({ status: null, error: 'refused', bytes: 0, headerBytes: 0, generator: null });
    expect(result.errorDetail).toContain('ECONNREFUSED');
    expect(result.timings.connectMs).toBeUndefined();
  });

  it('reports reset (ECONNRESET) when the peer resets before headers', async () => {
    const port = await listen(rawServer((socket) => socket.resetAndDestroy()));
    const result = await probe(hopTo(port));
    expect(result).toMatchObject({ status: null, error: 'reset' });
    expect(result.errorDetail).toMatch(/^ECONNRESET before headers/);
  });

  it('reports reset (closed) when the peer closes before headers', async () => {
    const port = await listen(rawServer((socket) => socket.end()));
    const result = await probe(hopTo(port));
    expect(result).toMatchObject({ status: null, error: 'reset' });
    expect(result.errorDetail).toMatch(/^closed before headers/);
  });

  it('reports reset with the status when the body is cut short', async () => {
    const head = 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n';
    const port = await listen(rawServer((socket) => socket.write(`${head}0123456789`, () => socket.resetAndDestroy())));
    const result = await probe(hopTo(port));
    expect(result).toMatchObject({ status: 200, error: 'reset', bytes: 10 });
    expect(result.errorDetail).toContain('after headers');
  });

  it('reports timeout when no headers come before the deadline, and stops at the deadline', async () => {
    const port = await listen(rawServer(() => {}));
    const result = await probe(hopTo(port, { timeoutMs: 300 }));
    expect(result).toMatchObject({ status: null, error: 'timeout', errorDetail: 'no response headers within 300 ms' });
    expect(result.timings.connectMs).toBeDefined();
  });

  it('reports timeout with the status when the body does not finish', async () => {
    const port = await listen(rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc')));
    const result = await probe(hopTo(port, { timeoutMs: 1000 }));
    expect(result).toMatchObject({ status: 200, error: 'timeout', bytes: 3 });
    expect(result.errorDetail).toMatch(/^body not complete within 1000 ms/);
  });

  it('reports a stalled TLS handshake as a timeout after connect', async () => {
    const port = await listen(createNetServer(() => {}));
    const result = await probe(hopTo(port, { scheme: 'https', timeoutMs: 300 }));
    expect(result).toMatchObject({ status: null, error: 'timeout', errorDetail: 'TLS handshake not complete within 300 ms' });
    expect(result.timings.connectMs).toBeDefined();
    expect(result.timings.tlsMs).toBeUndefined();
  });

  it('reports tls when a TLS-only server is probed over plain HTTP (closed without a byte, then a handshake succeeds)', async () => {
    const port = await listen(createTlsServer({ key: KEY, cert: CERT }, (s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n')));
    const result = await probe(hopTo(port));
    expect(result).toMatchObject({ status: null, error: 'tls' });
    expect(result.errorDetail).toMatch(/^peer speaks TLS: plain HTTP got closed before headers/);
    const unsniffed = await probe(hopTo(port), { sniffTls: false });
    expect(unsniffed).toMatchObject({ status: null, error: 'reset' });
  });

  it('reports tls when a plain-HTTP server is probed over HTTPS', async () => {
    const port = await listen(createHttpServer((_req, res) => res.end('plain')));
    const result = await probe(hopTo(port, { scheme: 'https' }));
    expect(result).toMatchObject({ status: null, error: 'tls' });
    expect(result.errorDetail).toMatch(/SSL|TLS|socket disconnected/);
  });

  it("reports tls with the status for nginx's 400 to plain HTTP on an HTTPS port", async () => {
    const body = '<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>The plain HTTP request was sent to HTTPS port</center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n';
    const port = await listen(createHttpServer((_req, res) => (res.writeHead(400, { server: 'nginx/1.22.1', 'content-type': 'text/html' }), res.end(body))));
    const result = await probe(hopTo(port));
    expect(result).toMatchObject({ status: 400, error: 'tls', generator: 'nginx' });
    expect(result.errorDetail).toContain('The plain HTTP request was sent to HTTPS port');
  });

  it('reports protocol when an h2c-only server is probed over HTTP/1.1', async () => {
    const server = createH2cServer((_req, res) => res.end('h2'));
    const port = await listen(server as unknown as NetServer);
    const result = await probe(hopTo(port));
    expect(result).toMatchObject({ status: null, error: 'protocol' });
    expect(result.errorDetail).toContain('h2c');
  });

  it('reports protocol for a binary answer', async () => {
    const port = await listen(rawServer((socket) => socket.end(Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))));
    const result = await probe(hopTo(port));
    expect(result).toMatchObject({ status: null, error: 'protocol' });
    expect(result.errorDetail).toContain('HTTP/1.1 protocol');
  });

  it('sees a 10 KiB header block with status 200 and measures it as on the wire', async () => {
    const filler = Array.from({ length: 10 }, (_, i) => `x-filler-${i}: ${'a'.repeat(1000)}\r\n`).join('');
    const head = `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n${filler}connection: close\r\n\r\n`;
    const port = await listen(rawServer((socket) => socket.end(`${head}ok`)));
    const result = await probe(hopTo(port));
    expect(result).toMatchObject({ status: 200, error: null, bytes: 2 });
    expect(result.headerBytes).toBe(Buffer.byteLength(head));
    expect(result.headerBytes).toBeGreaterThan(10 * 1000);
    const small = await probe(hopTo(port), { maxHeaderBytes: 4096 });
    expect(small).toMatchObject({ status: null, error: 'headers-too-large' });
  });

  it('dials the IP as the route host over TLS: SNI and Host are the host', async () => {
    let servername: string | false | null | undefined;
    let host: string | undefined;
    const server = createHttpsServer({ key: KEY, cert: CERT }, (req, res) => ((host = req.headers.host), res.end('secure')));
    server.on('secureConnection', (tls) => (servername = tls.servername));
    const port = await listen(server);
    const result = await probe(hopTo(port, { scheme: 'https' }));
    expect(result).toMatchObject({ status: 200, error: null, bytes: 6, scheme: 'https' });
    expect(servername).toBe(HOST);
    expect(host).toBe(HOST);
    expect(result.timings.tlsMs).toBeGreaterThan(0);
    expect(result.timings.ttfbMs).toBeGreaterThan((result.timings.connectMs ?? 0) + (result.timings.tlsMs ?? 0) - 0.001);
  });

  it('counts a large body up to the cap and reads the whole body when the cap allows', async () => {
    const body = Buffer.alloc(1024 * 1024, 'b');
    const port = await listen(createHttpServer((_req, res) => res.end(body)));
    const capped = await probe(hopTo(port));
    expect(capped).toMatchObject({ status: 200, error: null });
    expect(capped.bytes).toBeGreaterThanOrEqual(64 * 1024);
    expect(capped.bytes).toBeLessThan(body.length);
    const whole = await probe(hopTo(port), { maxBodyBytes: 2 * body.length });
    expect(whole).toMatchObject({ status: 200, error: null, bytes: body.length });
  });

  it("recognises a gateway's error page and keeps the app's own 500 apart", async () => {
    const nginx502 = '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
    const port = await listen(
      createHttpServer((req, res) => {
        if (req.url === '/gw') res.writeHead(502, { server: 'nginx', 'content-type': 'text/html' }).end(nginx502);
        else res.writeHead(500, { server: 'nginx', 'content-type': 'application/json' }).end('{"error":"db down"}');
      }),
    );
    expect(await probe(hopTo(port, { path: '/gw' }))).toMatchObject({ status: 502, error: null, generator: 'nginx' });
    expect(await probe(hopTo(port, { path: '/app' }))).toMatchObject({ status: 500, error: null, generator: 'upstream' });
  });

  it('rejects with the reason when its signal aborts, and closes the connection', async () => {
    const port = await listen(rawServer(() => {}));
    const controller = new AbortController();
    const pending = probe(hopTo(port, { timeoutMs: 5000 }), { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    await expect(pending).rejects.toThrow('shutting down');
    await waitFor(() => sockets.size === 0);
  });

  it('leaks no sockets or timers over many probes', async () => {
    const ok = await listen(createHttpServer((_req, res) => res.end('ok')));
    const slow = await listen(rawServer(() => {}));
    const before = handleCounts();
    // The counter does see a probe's socket while it is open.
    const inFlight = probe(hopTo(slow, { timeoutMs: 50 }));
    await waitFor(() => handleCounts().sockets > before.sockets);
    await inFlight;
    for (let i = 0; i < 60; i++) {
      const results = await Promise.all([probe(hopTo(ok)), probe(hopTo(ok, { address: NOBODY })), probe(hopTo(slow, { timeoutMs: 30 }))]);
      // On a loaded machine the 30 ms deadline may even beat the TCP connect: either way it must end.
      expect(results.map((r) => (r.error === 'connect-timeout' ? 'timeout' : r.error))).toEqual([null, 'refused', 'timeout']);
    }
    await waitFor(() => sockets.size === 0);
    const after = handleCounts();
    expect(after.sockets).toBe(before.sockets);
    // Every probe arms a deadline timer: one leaked per probe would show as 180 here.
    expect(after.timers).toBeLessThanOrEqual(before.timers);
  });
});

/** Open sockets and timers of this process. */
function handleCounts(): { sockets: number; timers: number } {
  const info = process.getActiveResourcesInfo();
  return { sockets: info.filter((r) => r === 'TCPSocketWrap').length, timers: info.filter((r) => r === 'Timeout').length };
}

/** Waits (bounded) until the condition holds; server-side closes trail the client's by a tick. */
async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
