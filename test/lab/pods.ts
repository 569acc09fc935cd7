// Lab pods: one HTTP server per "pod" on its own loopback IP, with every PodFault
// switchable at run time. A pod knows nothing of Kubernetes objects: the lab's
// orchestrator decides names, addresses and faults.
//
// Two layers decide what a client sees: the transport (`listenerKindOf`: nothing,
// HTTP/1.1, a raw socket that drops the request, TLS, h2c) and the app's answer
// (`appAnswer`: status, headers, body, delay). Switching to a fault of the same
// transport keeps the listener and its connections, as an app changing behaviour
// would; switching transport closes the listener and every socket, as a restarted
// container would.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoopback } from './addresses.js';
import type { AppServer, PodFault } from './spec.js';

/** An IP address and TCP port. */
export interface SocketAddress {
  /** IPv4 address (loopback in the lab). */
  ip: string;
  /** TCP port. */
  port: number;
}

/** A PEM private key and its self-signed certificate. */
export interface TlsMaterial {
  /** PEM private key. */
  key: string;
  /** PEM certificate. */
  cert: string;
}

/** A bug or bad configuration of the lab's data plane (never a staged fault). */
export class LabDataPlaneError extends Error {
  /** Stable error code, e.g. LAB_BAD_ADDRESS, LAB_BAD_FAULT, LAB_TLS_CERT, LAB_STOPPED. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabDataPlaneError';
    this.code = code;
  }
}

/** What startPod needs. */
export interface PodOptions {
  /** Pod name, echoed in the body and the x-lab-pod header. */
  name: string;
  /** The pod IP (loopback). */
  ip: string;
  /** The container port; 0 picks a free port once, kept across fault switches. */
  port: number;
  /** Initial fault; default healthy. */
  fault?: PodFault;
  /** Supplies the key/cert of the `tls` fault; default `selfSignedTls` (one pair per process). */
  tlsMaterial?: () => Promise<TlsMaterial>;
  /**
   * NetworkPolicy enforcement (HTTP listeners): called with each request's source IP and the pod
   * port; a refused source's request is never answered, as a dropped packet looks to the sender
   * (the controller then times out: 504). Default: admit everything.
   */
  admit?: (sourceIp: string, port: number) => boolean;
  /** Which server the answers look like (headers, keep-alive announcement); default 'node'. */
  server?: AppServer;
}

/** A running lab pod. */
export interface LabPod {
  /** Pod name. */
  readonly name: string;
  /** The pod IP. */
  readonly ip: string;
  /** The container port (the real one when started with 0). */
  readonly port: number;
  /** The current fault. */
  readonly fault: PodFault;
  /** Where the pod actually listens (127.0.0.1:ephemeral for loopback-only), null when not listening. */
  readonly boundAddress: SocketAddress | null;
  /** Requests handled so far, including those answered by closing or resetting the connection. */
  readonly requests: number;
  /** Switches the fault; resolves once the listener matches it. Calls are applied in order. */
  setFault(fault: PodFault): Promise<void>;
  /** Closes the listener and every connection; resolves when all are closed (later calls share the first). */
  stop(): Promise<void>;
}

/** Which listener a fault needs. */
type ListenerKind = 'none' | 'http' | 'loopback' | 'raw' | 'tls' | 'h2c';

/** An open listener with the sockets it accepted. */
interface Listener {
  kind: ListenerKind;
  server: net.Server;
  address: SocketAddress;
  sockets: Set<net.Socket>;
  sessions: Set<http2.ServerHttp2Session>;
}

/** What the app answers to one request. */
interface AppAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  delayMs: number;
}

const MAX_PAD_BYTES = 1024 * 1024;
const PAD_LINE_MAX = 1024;
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;
const OPENSSL_TIMEOUT_MS = 20_000;

/** Starts a pod with its initial fault; resolves once it listens as that fault requires. */
export async function startPod(options: PodOptions): Promise<LabPod> {
  requireLoopback(options.ip);
  requirePort(options.port);
  const fault = options.fault ?? { mode: 'healthy' };
  validateFault(fault);
  // The pod keeps one port across fault switches, so a requested 0 is resolved once, here.
  const port = options.port !== 0 ? options.port : await reservePort(options.ip);
  const pod = new Pod(options.name, options.ip, port, options.tlsMaterial ?? selfSignedTls, options.admit ?? (() => true), options.server ?? 'node');
  await pod.setFault(fault);
  return pod;
}

/** The listener each fault needs (the transport half of a fault). */
function listenerKindOf(fault: PodFault): ListenerKind {
  switch (fault.mode) {
    case 'healthy':
    case 'status':
    case 'slow':
    case 'large-headers':
    case 'keepalive':
    case 'echo':
    case 'proxy-error':
      return 'http';
    case 'refuse':
    case 'crashloop':
      return 'none';
    case 'loopback-only':
      return 'loopback';
    case 'close':
    case 'reset':
      return 'raw';
    case 'tls':
      return 'tls';
    case 'h2c':
      return 'h2c';
  }
}

/**
 * Request headers an echo app leaves out: the ones proxies add or rewrite on every request
 * (forwarding, ids, connection management), so the echo shows what the client sent.
 */
const PROXY_HEADERS = /^(host|connection|keep-alive|proxy-connection|te|upgrade|via|forwarded|x-forwarded-.*|x-real-ip|x-request-id|x-original-forwarded-for|x-scheme|content-length)$/;

/** The names of the request headers the client sent, sorted (what an echo app shows). */
export function clientHeaderNames(headers: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(headers).map((n) => n.toLowerCase()).filter((n) => !n.startsWith(':') && !PROXY_HEADERS.test(n)).sort();
}

/** What the app answers under a fault (the application half of a fault). */
function appAnswer(fault: PodFault, pod: string, ip: string, path: string, host: string | null, headerNames: readonly string[] = []): AppAnswer {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-lab-pod': pod };
  const healthy = { status: 200, headers, body: JSON.stringify({ pod, ip, path, host }), delayMs: 0 };
  switch (fault.mode) {
    case 'echo':
      return { ...healthy, body: JSON.stringify({ pod, ip, path, host, headers: headerNames }) };
    case 'status':
      // An app's own error: small JSON, its own content-type, nothing like an nginx page.
      return { status: fault.status, headers, body: bodyless(fault.status) ? '' : JSON.stringify({ error: 'boom', pod }), delayMs: 0 };
    case 'proxy-error':
      return { status: fault.status, headers: { 'content-type': 'text/html', server: 'nginx/1.25.3', 'x-lab-pod': pod }, body: nginxErrorPage(fault.status), delayMs: 0 };
    case 'slow':
      return { ...healthy, delayMs: fault.delayMs };
    case 'large-headers':
      return { ...healthy, headers: { ...headers, ...paddingHeaders(fault.bytes) } };
    case 'healthy':
    case 'keepalive':
    case 'loopback-only':
    case 'tls':
    case 'h2c':
    // The transport alone stages these; if a request gets through, the app is healthy.
    case 'refuse':
    case 'crashloop':
    case 'close':
    case 'reset':
      return healthy;
  }
}

/**
 * The answer's headers as the pod's server writes them. A Go-style server sends no Keep-Alive
 * announcement: Node adds `Keep-Alive: timeout=N` only when the app sets no Connection header, so
 * an explicit `Connection: keep-alive` (close when the client asked for it) keeps the connection
 * reusable without announcing how long it stays open, as Go's net/http, Python and nginx do.
 */
function serverHeaders(server: AppServer, headers: Record<string, string>, req: http.IncomingMessage): Record<string, string> {
  switch (server) {
    case 'node':
      return headers;
    case 'go': {
      const { ['content-type']: _type, ...rest } = headers;
      const close = /\bclose\b/i.test(req.headers.connection ?? '');
      return { ...rest, 'content-type': 'text/plain; charset=utf-8', connection: close ? 'close' : 'keep-alive' };
    }
  }
}

const NGINX_TITLES: Record<number, string> = { 502: '502 Bad Gateway', 503: '503 Service Temporarily Unavailable', 504: '504 Gateway Time-out' };

/** nginx's own error page (ngx_http_special_response.c: ngx_http_error_50x_page + ngx_http_msie_padding tail omitted). */
export function nginxErrorPage(status: number): string {
  const title = NGINX_TITLES[status] ?? `${status}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n`;
}

/** Headers x-lab-pad-N (each line at most 1 KiB) whose lines add up to about `bytes` bytes. */
export function paddingHeaders(bytes: number): Record<string, string> {
  const headers: Record<string, string> = {};
  let remaining = bytes;
  for (let i = 1; i <= MAX_PAD_BYTES; i++) {
    const name = `x-lab-pad-${i}`;
    // Each line is `name: value\r\n`.
    const overhead = name.length + 4;
    if (remaining <= overhead) break;
    const valueLength = Math.min(PAD_LINE_MAX - overhead, remaining - overhead);
    headers[name] = 'p'.repeat(valueLength);
    remaining -= overhead + valueLength;
  }
  return headers;
}

function bodyless(status: number): boolean {
  return status === 204 || status === 304;
}

/** Runs async steps one after another; a failed step does not block the next ones. */
export class StepQueue {
  #tail: Promise<void> = Promise.resolve();
  #final: Promise<void> | null = null;
  readonly #what: string;

  constructor(what: string) {
    this.#what = what;
  }

  /** Queues a step; once a final step is queued, further steps reject with LAB_STOPPED and further finals share it. */
  run(step: () => Promise<void>, final = false): Promise<void> {
    if (this.#final) {
      return final ? this.#final : Promise.reject(new LabDataPlaneError('LAB_STOPPED', `${this.#what} is stopped`));
    }
    const run = this.#tail.then(step);
    this.#tail = run.catch(() => undefined);
    if (final) this.#final = run;
    return run;
  }
}

class Pod implements LabPod {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
  #fault: PodFault = { mode: 'crashloop' };
  #listener: Listener | null = null;
  #requests = 0;
  readonly #queue: StepQueue;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #tlsMaterial: () => Promise<TlsMaterial>;
  readonly #admit: (sourceIp: string, port: number) => boolean;
  #defaultKeepAliveMs: number | null = null;
  readonly #server: AppServer;

  constructor(name: string, ip: string, port: number, tlsMaterial: () => Promise<TlsMaterial>, admit: (sourceIp: string, port: number) => boolean, server: AppServer) {
    this.#server = server;
    this.name = name;
    this.ip = ip;
    this.port = port;
    this.#tlsMaterial = tlsMaterial;
    this.#admit = admit;
    this.#queue = new StepQueue(`pod ${name}`);
  }

  get fault(): PodFault {
    return this.#fault;
  }

  get boundAddress(): SocketAddress | null {
    return this.#listener ? { ...this.#listener.address } : null;
  }

  get requests(): number {
    return this.#requests;
  }

  async setFault(fault: PodFault): Promise<void> {
    validateFault(fault);
    // A copy, so a caller mutating its object later cannot change the staged fault.
    const copy: PodFault = { ...fault };
    return this.#queue.run(() => this.#apply(copy));
  }

  stop(): Promise<void> {
    const stopping = async (): Promise<void> => {
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      await this.#closeListener();
    };
    return this.#queue.run(stopping, true);
  }

  async #apply(fault: PodFault): Promise<void> {
    const kind = listenerKindOf(fault);
    this.#fault = fault;
    if (this.#listener?.kind !== kind) {
      await this.#closeListener();
      if (kind !== 'none') this.#listener = await this.#openListener(kind);
    }
    this.#tuneKeepAlive();
  }

  /** keepAliveTimeout is read when a response finishes, so changing it applies to the next idle period. */
  #tuneKeepAlive(): void {
    const server = this.#listener?.server;
    if (!(server instanceof http.Server)) return;
    this.#defaultKeepAliveMs ??= server.keepAliveTimeout;
    server.keepAliveTimeout = this.#fault.mode === 'keepalive' ? this.#fault.idleMs : this.#defaultKeepAliveMs;
  }

  async #closeListener(): Promise<void> {
    const listener = this.#listener;
    this.#listener = null;
    if (listener) await closeListener(listener);
  }

  async #openListener(kind: ListenerKind): Promise<Listener> {
    const sessions = new Set<http2.ServerHttp2Session>();
    const server = await this.#createServer(kind, sessions);
    const listener: Listener = { kind, server, address: { ip: this.ip, port: this.port }, sockets: new Set(), sessions };
    trackSockets(server, listener.sockets);
    const at = kind === 'loopback' ? { ip: '127.0.0.1', port: 0 } : listener.address;
    listener.address = await listen(server, at);
    return listener;
  }

  async #createServer(kind: ListenerKind, sessions: Set<http2.ServerHttp2Session>): Promise<net.Server> {
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => this.#answerHttp(req, res);
    switch (kind) {
      case 'http':
      case 'loopback':
        return http.createServer(onRequest);
      case 'tls':
        return https.createServer(await this.#loadTls(), onRequest);
      case 'raw':
        return net.createServer((socket) => this.#dropAfterRequest(socket));
      case 'h2c': {
        const server = http2.createServer();
        server.on('stream', (stream, headers) => this.#answerH2(stream, headers));
        trackSessions(server, sessions);
        return server;
      }
      case 'none':
        throw new LabDataPlaneError('LAB_BUG', 'no server for listener kind none');
    }
  }

  async #loadTls(): Promise<TlsMaterial> {
    try {
      return await this.#tlsMaterial();
    } catch (cause) {
      throw new LabDataPlaneError('LAB_TLS_CERT', `pod ${this.name}: cannot get a TLS key and certificate`, { cause });
    }
  }

  #answerHttp(req: http.IncomingMessage, res: http.ServerResponse): void {
    // A source the NetworkPolicy refuses gets nothing back, as if its packets were dropped; the
    // socket stays tracked, so stop() still closes it.
    if (!this.#admit(req.socket.remoteAddress ?? '', this.port)) return;
    this.#requests++;
    const answer = appAnswer(this.#fault, this.name, this.ip, req.url ?? '/', req.headers.host ?? null, clientHeaderNames(req.headers));
    this.#after(answer.delayMs, res, () => {
      res.writeHead(answer.status, serverHeaders(this.#server, answer.headers, req));
      res.end(answer.body);
    });
  }

  #answerH2(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    this.#requests++;
    const host = headers[':authority'] ?? headers.host ?? null;
    const answer = appAnswer(this.#fault, this.name, this.ip, headers[':path'] ?? '/', host, clientHeaderNames(headers));
    // A client that goes away mid-stream is the client's business, not a lab crash.
    stream.on('error', () => undefined);
    this.#after(answer.delayMs, stream, () => {
      stream.respond({ ':status': answer.status, ...answer.headers });
      stream.end(answer.body);
    });
  }

  /** Runs `send` after delayMs, unless the exchange closes first (then the timer is dropped). */
  #after(delayMs: number, exchange: NodeJS.EventEmitter, send: () => void): void {
    if (delayMs <= 0) return send();
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      send();
    }, delayMs);
    this.#timers.add(timer);
    exchange.once('close', () => {
      clearTimeout(timer);
      this.#timers.delete(timer);
    });
  }

  /** The close and reset faults: read one whole request, then FIN or RST before any byte. */
  #dropAfterRequest(socket: net.Socket): void {
    let buffered = Buffer.alloc(0);
    let done = false;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      buffered = Buffer.concat([buffered, chunk]);
      if (!requestComplete(buffered)) return;
      done = true;
      this.#requests++;
      // Everything sent was read, so close() sends a FIN, not the RST unread data would cause.
      if (this.#fault.mode === 'reset') socket.resetAndDestroy();
      else socket.end();
    });
  }
}

/** True once the buffer holds a request head and its Content-Length body (both capped). */
export function requestComplete(buffered: Buffer): boolean {
  const headEnd = buffered.indexOf('\r\n\r\n');
  if (headEnd < 0) return buffered.length >= MAX_HEAD_BYTES;
  const head = buffered.subarray(0, headEnd).toString('latin1');
  const match = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
  const bodyBytes = match ? Math.min(Number(match[1]), MAX_BODY_BYTES) : 0;
  return buffered.length >= headEnd + 4 + bodyBytes;
}

/** Adds every accepted socket to `sockets` until it closes. */
export function trackSockets(server: net.Server, sockets: Set<net.Socket>): void {
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
}

function trackSessions(server: http2.Http2Server, sessions: Set<http2.ServerHttp2Session>): void {
  server.on('session', (session) => {
    sessions.add(session);
    // An HTTP/1.1 client or a dropped peer errors the session: that is staged behaviour, not a crash.
    session.on('error', () => undefined);
    session.once('close', () => sessions.delete(session));
  });
}

/** Closes a listener and destroys its sockets; resolves when the server and every socket are closed. */
async function closeListener(listener: Listener): Promise<void> {
  const sockets = [...listener.sockets];
  const socketsClosed = sockets.map((socket) => closedPromise(socket));
  const serverClosed = new Promise<void>((resolve) => listener.server.close(() => resolve()));
  for (const session of listener.sessions) session.destroy();
  for (const socket of sockets) socket.destroy();
  await Promise.all([serverClosed, ...socketsClosed]);
}

/** Resolves when the socket has emitted 'close' (at once if it already has). */
export function closedPromise(socket: net.Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

/** Listens on ip:port and resolves with the address actually bound. */
export function listen(server: net.Server, at: SocketAddress): Promise<SocketAddress> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(new LabDataPlaneError('LAB_LISTEN', `cannot listen on ${at.ip}:${at.port}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen({ host: at.ip, port: at.port, exclusive: true }, () => {
      server.off('error', onError);
      const bound = server.address();
      if (bound === null || typeof bound === 'string') return reject(new LabDataPlaneError('LAB_BUG', 'listener has no TCP address'));
      resolve({ ip: bound.address, port: bound.port });
    });
  });
}

/** Finds a free port on ip by binding port 0 and closing again (for listeners that start closed). */
export async function reservePort(ip: string): Promise<number> {
  const server = net.createServer();
  const bound = await listen(server, { ip, port: 0 });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return bound.port;
}

/** Throws unless the address is inside 127.0.0.0/8: the lab never touches anything else. */
export function requireLoopback(ip: string): void {
  if (!isLoopback(ip)) throw new LabDataPlaneError('LAB_BAD_ADDRESS', `lab address must be in 127.0.0.0/8, got ${ip}`);
}

/** Throws unless the port is an integer 0..65535. */
export function requirePort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new LabDataPlaneError('LAB_BAD_ADDRESS', `port must be 0..65535, got ${port}`);
}

function validateFault(fault: PodFault): void {
  const bad = (why: string): never => {
    throw new LabDataPlaneError('LAB_BAD_FAULT', `bad pod fault ${JSON.stringify(fault)}: ${why}`);
  };
  if (fault.mode === 'status' && (!Number.isInteger(fault.status) || fault.status < 200 || fault.status > 599)) bad('status must be 200..599');
  if (fault.mode === 'slow' && !(fault.delayMs >= 0 && fault.delayMs <= 3_600_000)) bad('delayMs must be 0..3600000');
  if (fault.mode === 'keepalive' && !(Number.isInteger(fault.idleMs) && fault.idleMs > 0)) bad('idleMs must be a positive integer');
  if (fault.mode === 'large-headers' && !(Number.isInteger(fault.bytes) && fault.bytes >= 0 && fault.bytes <= MAX_PAD_BYTES)) {
    bad(`bytes must be 0..${MAX_PAD_BYTES}`);
  }
}

// The one deliberate process-wide cache: generating a pair costs a process spawn, and
// every TLS pod of every lab in this process can share it (it is immutable data).
let tlsCache: Promise<TlsMaterial> | null = null;

/** A self-signed EC key and certificate (CN hopwatch-lab), made once per process with the openssl CLI. */
export function selfSignedTls(): Promise<TlsMaterial> {
  tlsCache ??= generateSelfSignedTls().catch((error: unknown) => {
    tlsCache = null;
    throw error;
  });
  return tlsCache;
}

/** Runs `openssl req -x509` offline in a private temp dir (stdout may be a socket, so no /dev/stdout). */
async function generateSelfSignedTls(): Promise<TlsMaterial> {
  const dir = await mkdtemp(join(tmpdir(), 'hopwatch-lab-tls-'));
  try {
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    const args = [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '30',
      '-subj', '/CN=hopwatch-lab', '-addext', 'subjectAltName=DNS:hopwatch-lab,IP:127.0.0.1',
    ];
    await new Promise<void>((resolve, reject) => {
      execFile('openssl', args, { timeout: OPENSSL_TIMEOUT_MS }, (error) => (error ? reject(error) : resolve()));
    });
    return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8') };
  } catch (cause) {
    throw new LabDataPlaneError('LAB_TLS_CERT', 'openssl req -x509 failed', { cause });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
