// The daemon's HTTP server on node:http (a dozen routes need no framework):
// /healthz, /readyz and /metrics (always open), the JSON API under /api/v1 and
// the verify endpoints (behind the optional bearer token), and the dashboard's
// static files at `/`.

import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StoreReader } from '../store/reader.js';
import { createVerifyHandler, FLAGGER_PATH, VERIFY_PATH } from '../verify/http.js';
import type { PairsSource } from './pairs-api.js';
import type { VerifyRunner } from '../verify/run.js';
import { createApi, type ApiAnswer } from './api.js';
import type { Metrics } from './metrics.js';
import { VENDOR_PREFIX, resolveStatic, resolveVendor, safeSegments, sendStatic } from './static.js';

/** What /healthz and /readyz report. */
export interface Health {
  /** The process works (false: /healthz answers 503 and the kubelet restarts it). */
  live(): boolean;
  /** The daemon can answer (discovery synced, store open); false: /readyz answers 503. */
  ready(): boolean;
  /** Details shown by /readyz; a string `reason` field is the 503's message. */
  detail(): Record<string, unknown>;
}

/** Logger: one line per event. */
export type ServerLog = (level: 'info' | 'warn' | 'error', message: string) => void;

/** Everything the server needs. */
export interface ServerDeps {
  /** "host:port" (config server.listen); port 0 picks a free port. */
  listen: string;
  /** Bearer token protecting /api/v1 (config server.token or $HOPWATCH_TOKEN); null: open. */
  token: string | null;
  /** The store reader the API reads through. */
  reader: StoreReader;
  /** The metrics /metrics serves. */
  metrics: Pick<Metrics, 'render' | 'contentType'>;
  /** Liveness and readiness. */
  health: Health;
  /** Runs verifications for /api/v1/verify and /api/v1/verify/flagger; absent: those answer 404. */
  verify?: VerifyRunner | null;
  /** The daemon's pairs for /api/v1/pairs; absent: none. */
  pairs?: PairsSource | null;
  /** Directory of the dashboard's built files, served at `/`; null or absent: no dashboard. */
  dashboardDir?: string | null;
  /** Log lines. */
  log: ServerLog;
  /** Clock (default Date.now). */
  now?: () => number;
  /** Consecutive non-ok rounds that open an incident (config incidents.openAfter), shown while one is opening. */
  incidentOpenAfter?: number;
}

/** A listening server. */
export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  /** The bound host and port. */
  address: { host: string; port: number };
  /** Stops accepting, lets requests in progress finish for up to graceMs (default 2000), then drops the rest. */
  close(graceMs?: number): Promise<void>;
}

/** An error of the listen address (bad config or a port in use). */
export class ServerError extends Error {
  /** Stable code. */
  readonly code: 'BAD_LISTEN' | 'LISTEN_FAILED';

  constructor(code: 'BAD_LISTEN' | 'LISTEN_FAILED', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServerError';
    this.code = code;
  }
}

/** Splits "host:port" or "[v6]:port". */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(listen.trim()) ?? /^([^:[\]]+):(\d{1,5})$/.exec(listen.trim());
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !(port >= 0 && port <= 65535)) throw new ServerError('BAD_LISTEN', `listen address ${JSON.stringify(listen)}: expected host:port like 127.0.0.1:8080`);
  return { host: m[1]!, port };
}

/** Compares a presented bearer token with the expected one in constant time (hashing first hides the length too). */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The bearer token of an Authorization header, null when there is none. */
export function bearerOf(header: string | undefined): string | null {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return m === null ? null : m[1]!;
}

function writeJson(res: ServerResponse, answer: ApiAnswer): void {
  const body = `${answer.json ?? JSON.stringify(answer.body)}\n`;
  res.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...answer.headers,
  });
  res.end(body);
}

function errorJson(status: number, code: string, message: string, headers: Record<string, string> = {}): ApiAnswer {
  return { status, headers, body: { error: { code, message } } };
}

/** 401 unless the request carries the token (always passes when no token is configured). */
function authorize(req: IncomingMessage, token: string | null): ApiAnswer | null {
  if (token === null) return null;
  const presented = bearerOf(req.headers.authorization);
  if (presented === null) return errorJson(401, 'UNAUTHORIZED', 'this API needs a bearer token: send Authorization: Bearer <token>', { 'www-authenticate': 'Bearer realm="hopwatch"' });
  if (!tokenMatches(presented, token)) return errorJson(401, 'UNAUTHORIZED', 'the bearer token is not valid', { 'www-authenticate': 'Bearer realm="hopwatch", error="invalid_token"' });
  return null;
}

/** The request handler: dispatch by path, then one place that turns surprises into a 500 without a stack. */
function handler(deps: ServerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const api = createApi({ reader: deps.reader, now: deps.now ?? Date.now, pairs: deps.pairs ?? null, ...(deps.incidentOpenAfter === undefined ? {} : { incidentOpenAfter: deps.incidentOpenAfter }) });
  const verify = deps.verify ? createVerifyHandler(deps.verify) : null;
  return (req, res) => {
    dispatch(deps, api, verify, req, res).catch((error: unknown) => {
      deps.log('error', `http: ${req.method ?? '?'} ${pathOf(req.url)} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!res.headersSent) writeJson(res, errorJson(500, 'INTERNAL', 'internal error; the hopwatch log has the details'));
      else res.destroy();
    });
  };
}

function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q < 0 ? u : u.slice(0, q);
}

function queryOf(url: string | undefined): URLSearchParams {
  const u = url ?? '';
  const q = u.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : u.slice(q + 1));
}

async function dispatch(
  deps: ServerDeps, api: ReturnType<typeof createApi>, verify: ReturnType<typeof createVerifyHandler> | null, req: IncomingMessage, res: ServerResponse,
): Promise<void> {
  const method = req.method ?? 'GET';
  const path = pathOf(req.url);
  if (path === '/healthz' || path === '/readyz' || path === '/metrics') return openEndpoint(deps, method, path, res);
  if (path === '/api/v1' || path.startsWith('/api/v1/')) {
    const refused = authorize(req, deps.token);
    if (refused !== null) return writeJson(res, refused);
    if (path === VERIFY_PATH || path === FLAGGER_PATH) {
      if (verify === null) return writeJson(res, errorJson(404, 'NOT_FOUND', 'verification is not enabled in this hopwatch'));
      await verify(req, res);
      return;
    }
    const segments = safeApiSegments(path);
    if (segments === null) return writeJson(res, errorJson(400, 'BAD_PATH', 'the path is not valid percent-encoding'));
    const gone = new AbortController();
    const onClose = (): void => {
      if (!res.writableFinished) gone.abort();
    };
    res.once('close', onClose);
    try {
      return writeJson(res, await api(method, segments, queryOf(req.url), gone.signal));
    } finally {
      res.off('close', onClose);
    }
  }
  return staticEndpoint(deps, method, path, res);
}

/** Decoded segments after /api/v1 (a route id may hold an encoded "/"), null when not decodable. */
function safeApiSegments(path: string): string[] | null {
  const out: string[] = [];
  for (const raw of path.slice('/api/v1'.length).split('/').filter((s) => s !== '')) {
    try {
      out.push(decodeURIComponent(raw));
    } catch {
      return null;
    }
  }
  return out;
}

async function openEndpoint(deps: ServerDeps, method: string, path: string, res: ServerResponse): Promise<void> {
  if (method !== 'GET' && method !== 'HEAD') return writeJson(res, errorJson(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here; use GET`, { allow: 'GET, HEAD' }));
  if (path === '/healthz') {
    const live = deps.health.live();
    return writeJson(res, { status: live ? 200 : 503, body: { status: live ? 'ok' : 'failing' } });
  }
  if (path === '/readyz') {
    const detail = deps.health.detail();
    if (deps.health.ready()) return writeJson(res, { status: 200, body: { status: 'ready', detail } });
    const reason = typeof detail['reason'] === 'string' ? detail['reason'] : 'hopwatch is starting';
    return writeJson(res, { status: 503, body: { status: 'not ready', reason, detail } });
  }
  const text = await deps.metrics.render();
  res.writeHead(200, { 'content-type': deps.metrics.contentType, 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store' });
  res.end(text);
}

async function staticEndpoint(deps: ServerDeps, method: string, path: string, res: ServerResponse): Promise<void> {
  const dir = deps.dashboardDir ?? null;
  if (dir === null || safeSegments(path) === null) return writeJson(res, errorJson(404, 'NOT_FOUND', `nothing at ${path}`));
  // The dashboard's libraries come from their npm packages (a fixed mapping, never any other node_modules file).
  const found = path.startsWith(VENDOR_PREFIX) ? await resolveVendor(path) : await resolveStatic(dir, path);
  if (found === null) return writeJson(res, errorJson(404, 'NOT_FOUND', `nothing at ${path}`));
  if (method !== 'GET' && method !== 'HEAD') return writeJson(res, errorJson(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here; use GET`, { allow: 'GET, HEAD' }));
  await sendStatic(found, method, res);
}

function listenOn(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(new ServerError('LISTEN_FAILED', `cannot listen on ${host}:${port} (server.listen, --listen): ${error.message}`, { cause: error }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Starts the server; resolves once it listens. */
export async function startServer(deps: ServerDeps): Promise<RunningServer> {
  const { host, port } = parseListen(deps.listen);
  const server = createServer(handler(deps));
  // Requests are small; a slow client must not hold a socket for long (verify answers still stream for minutes).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const address = await listenOn(server, host, port);
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shown}:${address.port}`;
  deps.log('info', `http: listening on ${url}`);
  return { url, address: { host: address.address, port: address.port }, close: (graceMs = 2000) => closeServer(server, graceMs) };
}

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    // Idle keep-alive sockets would otherwise hold close() open until they time out.
    server.closeIdleConnections();
  });
}
