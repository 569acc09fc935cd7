// Each pod fault seen from real clients (undici 7, node:http, raw sockets) on 127.202.1.x.
//
// What the clients really report (undici 7.30, Node 20), which the probe and the
// classifier rely on:
//   refuse / crashloop / loopback-only (at the pod IP):
//       undici  Error code ECONNREFUSED        node:http  Error code ECONNREFUSED
//   close (FIN before any byte):
//       undici  SocketError code UND_ERR_SOCKET "other side closed"
//       node:http Error code ECONNRESET "socket hang up"        (same code as a reset!)
//   reset (RST before any byte):
//       undici  Error code ECONNRESET "read ECONNRESET"
//       node:http Error code ECONNRESET "read ECONNRESET"
//   tls, asked in plain HTTP: Node's TLS server closes without a byte (no alert, no 400),
//       so it looks exactly like `close`: undici UND_ERR_SOCKET "other side closed".
//   h2c, asked in HTTP/1.1: the server's SETTINGS frame arrives first:
//       undici  HTTPParserError, code undefined (undici 7 maps llhttp codes wrongly),
//               message "Response does not match the HTTP/1.1 protocol (Expected HTTP/, RTSP/ or ICE/)"
//       node:http Error code HPE_INVALID_CONSTANT
//   large-headers beyond the client's limit (16 KiB by default):
//       undici  HeadersOverflowError code UND_ERR_HEADERS_OVERFLOW   node:http  HPE_HEADER_OVERFLOW

import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Client, errors, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { LabAddresses } from './addresses.js';
import { paddingHeaders, startPod, type LabPod } from './pods.js';
import type { PodFault } from './spec.js';
import { canBind, expectNoTcpLeft, Started, waitFor } from './testing.js';

const lab = new LabAddresses(202);
const started = new Started();
let nextPod = 0;

/** A pod on a fresh 127.202.1.x address (indices 0..99 belong to this file). */
async function pod(fault: PodFault): Promise<LabPod> {
  return started.add(await startPod({ name: `pod-${nextPod}`, ip: lab.pod(nextPod++), port: 0, fault }));
}

afterEach(() => started.stopAll());

/** The error an undici request fails with (fails the test if it succeeds). */
async function undiciError(url: string, options: { headersTimeout?: number } = {}): Promise<Error & { code?: string }> {
  const error = await request(url, { ...options, reset: true }).then(
    async (res) => {
      await res.body.dump();
      throw new Error(`expected a failure, got ${res.statusCode}`);
    },
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('undici rejected with a non-Error');
  return error;
}

/** The error a node:http request fails with, or null if it got a response. */
function nodeHttpError(ip: string, port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const req = http.get({ host: ip, port, path: '/', agent: false }, (res) => {
      res.resume();
      resolve(null);
    });
    req.on('error', resolve);
  });
}

/** What a raw socket receives after sending one GET: the bytes, and how the connection ended. */
function rawExchange(ip: string, port: number, head = 'GET / HTTP/1.1\r\nHost: raw.example\r\n\r\n'): Promise<{ bytes: Buffer; ending: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: ip, port }, () => socket.write(head));
    let ending = 'close';
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => (ending = 'fin'));
    socket.on('error', (e: NodeJS.ErrnoException) => (ending = e.code ?? e.message));
    socket.on('close', () => resolve({ bytes: Buffer.concat(chunks), ending }));
  });
}

function urlOf(p: LabPod, path = '/'): string {
  return `http://${p.ip}:${p.port}${path}`;
}

describe('healthy pod', () => {
  it('answers 200 JSON naming itself, with x-lab-pod, on any path including /healthz', async () => {
    const p = await pod({ mode: 'healthy' });
    for (const path of ['/orders?id=1', '/healthz']) {
      const res = await request(urlOf(p, path), { headers: { host: 'shop.example' } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.headers['x-lab-pod']).toBe(p.name);
      expect(await res.body.json()).toEqual({ pod: p.name, ip: p.ip, path, host: 'shop.example' });
    }
    expect(p.requests).toBe(2);
    expect(p.boundAddress).toEqual({ ip: p.ip, port: p.port });
  });

  it('keeps connections alive like a plain Node server', async () => {
    const p = await pod({ mode: 'healthy' });
    const { bytes } = await rawExchange(p.ip, p.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const text = bytes.toString('latin1');
    // Two answers on one connection: the first one kept it open.
    expect(text.match(/^HTTP\/1\.1 200 OK/gm)).toHaveLength(2);
    expect(text).toMatch(/\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n/);
  });
});

describe('faults that refuse', () => {
  it.each<PodFault>([{ mode: 'refuse' }, { mode: 'crashloop' }])('$mode: nothing listens on ip:port', async (fault) => {
    const p = await pod(fault);
    expect(p.boundAddress).toBeNull();
    expect((await undiciError(urlOf(p))).code).toBe('ECONNREFUSED');
    expect((await nodeHttpError(p.ip, p.port))?.code).toBe('ECONNREFUSED');
  });

  it('loopback-only: the pod IP refuses, 127.0.0.1 on another port answers', async () => {
    const p = await pod({ mode: 'loopback-only' });
    expect((await undiciError(urlOf(p))).code).toBe('ECONNREFUSED');
    const bound = p.boundAddress;
    expect(bound?.ip).toBe('127.0.0.1');
    expect(bound?.port).not.toBe(p.port);
    const res = await request(`http://127.0.0.1:${bound?.port}/x`);
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toMatchObject({ pod: p.name });
  });
});

describe('faults that answer', () => {
  it('status: every path, /healthz included, gets the status with a small app JSON body', async () => {
    const p = await pod({ mode: 'status', status: 500 });
    for (const path of ['/', '/healthz']) {
      const res = await request(urlOf(p, path));
      expect(res.statusCode).toBe(500);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.headers.server).toBeUndefined();
      const body = await res.body.text();
      expect(JSON.parse(body)).toMatchObject({ error: 'boom' });
      expect(body).not.toMatch(/<html|nginx/i);
    }
  });

  it('echo: healthy, and the body lists the client\'s header names, not the ones proxies add', async () => {
    const p = await pod({ mode: 'echo' });
    const res = await request(urlOf(p, '/x'), { headers: { host: 'shop.example', x_tenant: 'a', 'x-forwarded-for': '1.2.3.4', 'x-request-id': 'r', accept: '*/*' } });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ pod: p.name, ip: p.ip, path: '/x', host: 'shop.example', headers: ['accept', 'x_tenant'] });
  });

  it('slow: headers come after delayMs (a short headers timeout fails, a long one succeeds)', async () => {
    const p = await pod({ mode: 'slow', delayMs: 1000 });
    const early = await undiciError(urlOf(p), { headersTimeout: 100 });
    expect(early).toBeInstanceOf(errors.HeadersTimeoutError);
    expect(early.code).toBe('UND_ERR_HEADERS_TIMEOUT');
    const started = performance.now();
    const res = await request(urlOf(p), { headersTimeout: 30_000 });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    // A lower bound only: a timer never fires early, however loaded the machine.
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('large-headers: 200 with x-lab-pad-N lines of at most 1 KiB adding up to about `bytes`', async () => {
    const p = await pod({ mode: 'large-headers', bytes: 12_000 });
    const { bytes } = await rawExchange(p.ip, p.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const head = bytes.toString('latin1').split('\r\n\r\n')[0] ?? '';
    expect(head).toMatch(/^HTTP\/1\.1 200 OK/);
    const padLines = head.split('\r\n').filter((line) => line.startsWith('x-lab-pad-'));
    const padBytes = padLines.reduce((sum, line) => sum + line.length + 2, 0);
    expect(padBytes).toBeGreaterThan(12_000 - 64);
    expect(padBytes).toBeLessThanOrEqual(12_000);
    for (const line of padLines) expect(line.length + 2).toBeLessThanOrEqual(1024);
    // The whole head is past nginx's default proxy_buffer_size (4k/8k) but within a client's 16 KiB.
    expect((await request(urlOf(p))).statusCode).toBe(200);
  });

  it('large-headers past 16 KiB overflow undici and node:http', async () => {
    const p = await pod({ mode: 'large-headers', bytes: 20_000 });
    const error = await undiciError(urlOf(p));
    expect(error).toBeInstanceOf(errors.HeadersOverflowError);
    expect(error.code).toBe('UND_ERR_HEADERS_OVERFLOW');
    expect((await nodeHttpError(p.ip, p.port))?.code).toBe('HPE_HEADER_OVERFLOW');
  });

  it('paddingHeaders sizes the block it is asked for', () => {
    for (const bytes of [0, 10, 100, 1024, 5000, 40_000]) {
      const lines = Object.entries(paddingHeaders(bytes)).map(([k, v]) => `${k}: ${v}\r\n`);
      const total = lines.reduce((sum, line) => sum + line.length, 0);
      expect(total).toBeLessThanOrEqual(bytes);
      expect(total).toBeGreaterThan(bytes - 20);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(1024);
    }
  });
});

describe('faults that break the connection before any header', () => {
  it('close: the request is read, then a FIN with no byte', async () => {
    const p = await pod({ mode: 'close' });
    const raw = await rawExchange(p.ip, p.port);
    expect(raw).toEqual({ bytes: Buffer.alloc(0), ending: 'fin' });
    const error = await undiciError(urlOf(p));
    expect(error).toBeInstanceOf(errors.SocketError);
    expect(error.code).toBe('UND_ERR_SOCKET');
    expect(error.message).toBe('other side closed');
    const nodeError = await nodeHttpError(p.ip, p.port);
    expect(nodeError?.code).toBe('ECONNRESET');
    expect(nodeError?.message).toBe('socket hang up');
    expect(p.requests).toBe(3);
  });

  it('close waits for a Content-Length body before closing', async () => {
    const p = await pod({ mode: 'close' });
    const body = 'x'.repeat(5000);
    const raw = await rawExchange(p.ip, p.port, `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    // Unread data would have turned the close into an RST.
    expect(raw).toEqual({ bytes: Buffer.alloc(0), ending: 'fin' });
  });

  it('reset: the request is read, then an RST with no byte', async () => {
    const p = await pod({ mode: 'reset' });
    const raw = await rawExchange(p.ip, p.port);
    expect(raw).toEqual({ bytes: Buffer.alloc(0), ending: 'ECONNRESET' });
    const error = await undiciError(urlOf(p));
    expect(error).not.toBeInstanceOf(errors.SocketError);
    expect(error.code).toBe('ECONNRESET');
    const nodeError = await nodeHttpError(p.ip, p.port);
    expect(nodeError?.code).toBe('ECONNRESET');
    expect(nodeError?.message).toBe('read ECONNRESET');
    expect(p.requests).toBe(3);
  });
});

describe('protocol faults', () => {
  it('tls: speaks HTTPS with a self-signed cert; a plain request is closed without a byte', async () => {
    const p = await pod({ mode: 'tls' });
    const raw = await rawExchange(p.ip, p.port);
    expect(raw.bytes.length).toBe(0);
    expect(raw.ending).toBe('fin');
    const error = await undiciError(urlOf(p));
    expect(error.code).toBe('UND_ERR_SOCKET');
    const verified = await new Promise<string>((resolve) => {
      https.get({ host: p.ip, port: p.port, agent: false }, () => resolve('ok')).on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? ''));
    });
    expect(verified).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.get({ host: p.ip, port: p.port, path: '/tls', agent: false, rejectUnauthorized: false }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve(`${res.statusCode} ${text}`));
      });
      req.on('error', reject);
    });
    expect(body).toBe(`200 ${JSON.stringify({ pod: p.name, ip: p.ip, path: '/tls', host: `${p.ip}:${p.port}` })}`);
  });

  it('h2c: HTTP/2 prior knowledge works; HTTP/1.1 gets a SETTINGS frame and a parse error', async () => {
    const p = await pod({ mode: 'h2c' });
    const raw = await rawExchange(p.ip, p.port);
    // An HTTP/2 frame header: 3 bytes length, then type 0x04 (SETTINGS).
    expect(raw.bytes[3]).toBe(0x04);
    const error = await undiciError(urlOf(p));
    expect(error.name).toBe('HTTPParserError');
    expect(error.message).toMatch(/Expected HTTP\//);
    expect((await nodeHttpError(p.ip, p.port))?.code).toBe('HPE_INVALID_CONSTANT');
    const session = http2.connect(`http://${p.ip}:${p.port}`);
    session.on('error', () => undefined);
    const answer = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ':path': '/h2', ':authority': 'h2.example' });
      let status = 0;
      let text = '';
      stream.on('response', (headers) => (status = Number(headers[':status'])));
      stream.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve(`${status} ${text}`)).on('error', reject);
    });
    session.close();
    expect(answer).toBe(`200 ${JSON.stringify({ pod: p.name, ip: p.ip, path: '/h2', host: 'h2.example' })}`);
  });

  it('keepalive: the pod closes an idle connection after idleMs, while a healthy pod keeps its own open', async () => {
    const idleMs = 300;
    const short = await pod({ mode: 'keepalive', idleMs });
    const normal = await pod({ mode: 'healthy' });
    // Raw sockets: undici would close first itself, obeying the `Keep-Alive: timeout=0` hint Node sends.
    const shortIdle = idleAfterOneRequest(short);
    const normalIdle = idleAfterOneRequest(normal);
    const first = await Promise.race([shortIdle.closed.then(() => 'short'), normalIdle.closed.then(() => 'normal')]);
    expect(first).toBe('short');
    const idle = (await shortIdle.closed) - (await shortIdle.answered);
    expect(idle).toBeGreaterThanOrEqual(idleMs / 2);
    expect(idle).toBeLessThan(idleMs * 10);
    expect(await shortIdle.head).toMatch(/\r\nKeep-Alive: timeout=0\r\n/);
    expect(await normalIdle.head).toMatch(/\r\nKeep-Alive: timeout=5\r\n/);
    normalIdle.socket.destroy();
  });
});

/** Sends one keep-alive request on a raw socket; times when the answer came and when the server closed. */
function idleAfterOneRequest(p: LabPod): { socket: net.Socket; head: Promise<string>; answered: Promise<number>; closed: Promise<number> } {
  const socket = net.connect({ host: p.ip, port: p.port }, () => socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
  socket.on('error', () => undefined);
  let text = '';
  const head = new Promise<string>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n\r\n')) resolve(text);
    });
  });
  const answered = head.then(() => performance.now());
  const closed = new Promise<number>((resolve) => socket.once('end', () => resolve(performance.now())));
  return { socket, head, answered, closed };
}

describe('NetworkPolicy admission', () => {
  it('holds a refused source unanswered, as a dropped packet, while other sources get answers', async () => {
    const blocked = lab.pod(98);
    const p = started.add(await startPod({ name: 'pod-admit', ip: lab.pod(99), port: 0, admit: (source) => source !== blocked }));
    const fromAllowed = await request(`http://${p.ip}:${p.port}/`, { reset: true });
    expect(fromAllowed.statusCode).toBe(200);
    await fromAllowed.body.dump();
    const outcome = await new Promise<string>((resolve) => {
      const req = http.get({ host: p.ip, port: p.port, path: '/', localAddress: blocked, agent: false, timeout: 400 }, () => resolve('answered'));
      req.on('timeout', () => {
        req.destroy();
        resolve('timeout');
      });
      req.on('error', (error) => resolve(`error ${String(error)}`));
    });
    expect(outcome).toBe('timeout');
    expect(p.requests).toBe(1);
  });
});

describe('switching faults at run time', () => {
  it('refuse -> healthy -> status -> reset -> healthy on the same ip:port', async () => {
    const p = await pod({ mode: 'refuse' });
    const port = p.port;
    expect((await undiciError(urlOf(p))).code).toBe('ECONNREFUSED');
    await p.setFault({ mode: 'healthy' });
    expect(p.port).toBe(port);
    expect((await request(urlOf(p))).statusCode).toBe(200);
    await p.setFault({ mode: 'status', status: 503 });
    expect((await request(urlOf(p))).statusCode).toBe(503);
    await p.setFault({ mode: 'reset' });
    expect((await undiciError(urlOf(p))).code).toBe('ECONNRESET');
    await p.setFault({ mode: 'healthy' });
    expect((await request(urlOf(p))).statusCode).toBe(200);
    expect(p.fault).toEqual({ mode: 'healthy' });
  });

  it('same transport keeps keep-alive connections, which see the new answer; a new transport drops them', async () => {
    const p = await pod({ mode: 'healthy' });
    const client = new Client(urlOf(p));
    let disconnects = 0;
    client.on('disconnect', () => disconnects++);
    try {
      await (await client.request({ path: '/', method: 'GET' })).body.dump();
      await p.setFault({ mode: 'status', status: 500 });
      const res = await client.request({ path: '/', method: 'GET' });
      await res.body.dump();
      expect(res.statusCode).toBe(500);
      expect(disconnects).toBe(0);
      await p.setFault({ mode: 'crashloop' });
      await waitFor(() => disconnects === 1, 5000);
    } finally {
      await client.destroy();
    }
  });

  it('rejects bad faults and non-loopback addresses as configuration errors', async () => {
    const p = await pod({ mode: 'healthy' });
    await expect(p.setFault({ mode: 'status', status: 42 })).rejects.toMatchObject({ code: 'LAB_BAD_FAULT' });
    await expect(startPod({ name: 'x', ip: '10.0.0.1', port: 0 })).rejects.toMatchObject({ code: 'LAB_BAD_ADDRESS' });
    expect((await request(urlOf(p))).statusCode).toBe(200);
  });
});

describe('stop', () => {
  const faults: PodFault[] = [
    { mode: 'healthy' },
    { mode: 'slow', delayMs: 60_000 },
    { mode: 'close' },
    { mode: 'reset' },
    { mode: 'tls' },
    { mode: 'h2c' },
    { mode: 'keepalive', idleMs: 60_000 },
    { mode: 'loopback-only' },
  ];

  it.each(faults)('$mode: resolves with connections open and frees the port', async (fault) => {
    const p = await pod(fault);
    const bound = p.boundAddress;
    if (!bound) throw new Error('expected a listener');
    // A connection held open mid-request: stop must destroy it, not wait for it.
    const socket = net.connect({ host: bound.ip, port: bound.port });
    socket.on('error', () => undefined);
    // Flowing, so whatever the server sent (h2c's SETTINGS) does not hold back the EOF.
    socket.resume();
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET / HTTP/1.1\r\nHost: a\r\n');
    const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await Promise.all([p.stop(), p.stop()]);
    expect(p.boundAddress).toBeNull();
    await socketClosed;
    expect(await canBind(bound.ip, bound.port)).toBe(true);
    await expect(p.setFault({ mode: 'healthy' })).rejects.toMatchObject({ code: 'LAB_STOPPED' });
  });

  it('clears pending slow answers', async () => {
    const p = await pod({ mode: 'slow', delayMs: 60_000 });
    const pending = undiciError(urlOf(p), { headersTimeout: 120_000 });
    await waitFor(() => p.requests === 1, 5000);
    await p.stop();
    expect((await pending).code).toBe('UND_ERR_SOCKET');
    expect(await canBind(p.ip, p.port)).toBe(true);
  });
});

describe('after every test', () => {
  it('leaves no TCP listener or socket open in this process', expectNoTcpLeft);
});
