// The HTTP prober: one GET over a fresh connection to one hop, timed phase by phase.
//
// Edge, controller, service and pod hops all come through here: only the address dialled and the
// Host header / SNI differ. Timing follows blackbox_exporter's roundTripTrace: the connector (TCP
// connect, TLS secureConnect) and the dispatch handler (first byte, headers, end) only stamp
// timestamps; phases are computed once at the end. undici's diagnostics_channel events are not
// used: they are process-wide, so every probe would have to find its own events among all others.
// A failing target is data (HopResult.error), never an exception.

import { isIP, connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect } from 'node:tls';
import { Client, type Dispatcher, type buildConnector } from 'undici';
import { recogniseGenerator } from '../classify/fingerprints.js';
import type { ErrorCode, HopResult, Phases, PlannedHop } from '../model.js';
import { USER_AGENT } from '../version.js';
import { errorCodeOf, errorMessageOf, formatHostPort, resultFor, serverNameOf } from './result.js';

/** Default cap on body bytes read; the probe stops reading there. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
/** Default response header limit: far above any controller's buffer, so a pod's large header block is seen. */
export const DEFAULT_MAX_HEADER_BYTES = 256 * 1024;
/** Body bytes kept for fingerprinting. */
const SNIPPET_BYTES = 4 * 1024;
/** Kept header values are cut to this many characters. */
const HEADER_VALUE_CHARS = 200;
/** A TLS sniff is not started with less deadline left than this. */
const MIN_SNIFF_MS = 20;
/** Idle clients a pool keeps by default. */
const DEFAULT_POOL_IDLE = 64;

/** Tuning of one HTTP probe; every field has a default. */
export interface HttpProbeOptions {
  /** Monotonic clock in fractional ms; default performance.now. */
  now?: () => number;
  /** Body bytes read before the probe stops reading (all are counted in `bytes`); default 64 KiB. */
  maxBodyBytes?: number;
  /** Response header block limit; default 256 KiB. */
  maxHeaderBytes?: number;
  /** When a plain-HTTP probe is closed or reset before any byte, try a TLS handshake to tell a TLS-only peer; default true. */
  sniffTls?: boolean;
  /** Cancels the probe (e.g. daemon shutdown): the promise then rejects with the signal's reason, as fetch does. */
  signal?: AbortSignal;
  /** Reusable undici clients (the daemon passes one pool); without it every probe builds its own client. */
  clients?: HttpClientPool;
  /** Another request than the plain GET (`hopwatch compare` sends variants); default GET with no extra header. */
  request?: RequestVariant;
  /** More response headers to keep (lowercase names); set-cookie is kept as the names of the cookies set, never their values. */
  keepHeaders?: readonly string[];
  /** Called with every body chunk read (up to maxBodyBytes), e.g. to digest the body. */
  onBody?: (chunk: Buffer) => void;
}

/** What to send instead of the plain GET. */
export interface RequestVariant {
  /** HTTP method; default GET. */
  method?: string;
  /** Extra request headers, in order (a header the probe sets itself, e.g. accept, is replaced). */
  headers?: readonly (readonly [string, string])[];
  /** A request body (sent with content-length). */
  body?: string;
}

/** Timestamps of one request (performance.now ms); phases are derived at the end. */
interface Trace {
  start: number;
  lookupAt?: number;
  tcpAt?: number;
  tlsAt?: number;
  firstByteAt?: number;
  headersAt?: number;
  endAt?: number;
}

/** Ends a request whose body reached the cap: the probe has read enough (not a failure). */
class BodyCapReached extends Error {
  readonly code = 'HOPWATCH_BODY_CAP';
}

/** The error the probe's own deadline ends a request with. */
class DeadlineError extends Error {
  readonly code = 'HOPWATCH_DEADLINE';
}

/** A socket closed by the peer before the connector could hand it over. */
class ClosedWhileConnectingError extends Error {
  readonly code = 'HOPWATCH_CLOSED_WHILE_CONNECTING';
}

/** A connect from a pooled client that no probe is using: a bug, never a target's failure. */
class NoExchangeError extends Error {
  readonly code = 'HOPWATCH_NO_EXCHANGE';
}

/** A failed hop: the stable code and the underlying detail. */
interface Failure {
  code: ErrorCode;
  detail: string;
}

/**
 * An undici Client serving one probe at a time. Its connector dials whatever the current probe
 * says (the origin given to undici is a placeholder), so a client can be reused across hops while
 * every probe still gets a fresh connection (reset: true closes it after the response).
 */
class ClientSlot {
  exchange: Exchange | null = null;
  readonly client: Client;

  constructor(readonly maxHeaderBytes: number) {
    const connect = (_options: buildConnector.Options, callback: buildConnector.Callback): void => {
      if (this.exchange === null) callback(new NoExchangeError('connect without a probe'), null);
      else this.exchange.connect(callback);
    };
    // undici's own timers are off: the probe's single deadline covers connect, headers and body.
    this.client = new Client('http://hopwatch.invalid', { connect, maxHeaderSize: maxHeaderBytes, headersTimeout: 0, bodyTimeout: 0 });
  }
}

/**
 * Idle undici clients kept for reuse: building a Client costs about as much CPU as the rest of a
 * probe. An idle client holds no socket and no timer, so a pool never keeps the process alive.
 */
export class HttpClientPool {
  private readonly idle = new Map<number, ClientSlot[]>();

  /** A pool keeping at most maxIdle idle clients per header limit. */
  constructor(readonly maxIdle: number = DEFAULT_POOL_IDLE) {}

  /** An idle client with this header limit, or a new one. */
  acquire(maxHeaderBytes: number): ClientSlot {
    return this.idle.get(maxHeaderBytes)?.pop() ?? new ClientSlot(maxHeaderBytes);
  }

  /** Takes a client back after its probe ended. */
  release(slot: ClientSlot): void {
    slot.exchange = null;
    let list = this.idle.get(slot.maxHeaderBytes);
    if (list === undefined) this.idle.set(slot.maxHeaderBytes, (list = []));
    if (list.length < this.maxIdle) list.push(slot);
  }

  /** Idle clients held now. */
  get size(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }
}

/** One request in flight: dispatch handler, connector and deadline, stamping the trace. */
class Exchange implements Dispatcher.DispatchHandler {
  readonly trace: Trace;
  readonly https: boolean;
  status: number | null = null;
  statusMessage = '';
  rawHeaders: readonly (Buffer | string)[] = [];
  bytes = 0;
  /** The first body bytes, as received (views of undici's chunks: nothing is copied). */
  snippet: Buffer[] = [];
  snippetLength = 0;
  failure: unknown = null;
  deadlineHit = false;
  socket: Socket | null = null;
  /** Why the request was ended before undici finished it; null when undici finished it. */
  cutShort: Error | null = null;
  private settled = false;
  private timer: NodeJS.Timeout | null = null;
  private resolveDone: () => void = noop;

  constructor(
    readonly hop: PlannedHop,
    readonly sni: string | undefined,
    private readonly now: () => number,
    private readonly maxBodyBytes: number,
    private readonly variant: RequestVariant | undefined = undefined,
    private readonly onBody: ((chunk: Buffer) => void) | undefined = undefined,
  ) {
    this.https = hop.scheme === 'https';
    this.trace = { start: now() };
  }

  /** Sends the request on the slot's client; resolves once it ended one way or another. */
  run(slot: ClientSlot, host: string): Promise<void> {
    const done = new Promise<void>((resolve) => (this.resolveDone = resolve));
    this.timer = setTimeout(onDeadline, this.hop.request.timeoutMs, this);
    slot.exchange = this;
    const own = this.variant === undefined ? ['host', host, 'user-agent', USER_AGENT, 'accept', '*/*'] : variantHeaders(host, this.variant);
    // The route's own request headers (a header match, the header or cookie that selects a canary backend), never hop-by-hop ones.
    const extra = Object.entries(this.hop.request.headers ?? {}).filter(([name]) => !['host', 'connection', 'content-length', 'transfer-encoding'].includes(name.toLowerCase()));
    const headers = [...own, ...extra.flat()];
    const method = this.variant?.method ?? this.hop.request.method ?? 'GET';
    const body = this.variant?.body;
    // reset: true sends "connection: close" and closes the socket after the response: one connection per probe.
    slot.client.dispatch({ method, path: this.hop.request.path, headers, reset: true, ...(body === undefined ? {} : { body }) }, this);
    return done;
  }

  /** Ends the request now (deadline, cancellation, enough body); the caller tears the client down. */
  abort(reason: unknown): void {
    if (this.settled) return;
    if (!(reason instanceof BodyCapReached)) this.failure ??= reason;
    this.cutShort = reason instanceof Error ? reason : new Error(String(reason));
    this.settle();
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    this.trace.endAt = this.now();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.resolveDone();
  }

  /** Dials the hop's address itself, so TCP connect and TLS handshake are timed apart. */
  connect(callback: buildConnector.Callback): void {
    const { address, port } = this.hop;
    const socket = this.https
      ? tlsConnect({ host: address, port, servername: this.sni, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] })
      : netConnect({ host: address, port });
    this.socket = socket;
    let handedOver = false;
    const hand = (err: Error | null): void => {
      if (handedOver) return;
      handedOver = true;
      if (err === null) callback(null, socket);
      else callback(err, null);
    };
    socket.setNoDelay(true);
    if (isIP(address) === 0) socket.once('lookup', () => (this.trace.lookupAt = this.now()));
    socket.once('connect', () => {
      this.trace.tcpAt = this.now();
      if (!this.https) hand(null);
    });
    if (this.https) socket.once('secureConnect', () => ((this.trace.tlsAt = this.now()), hand(null)));
    // `on`, not `once`: a second error after a destroy must not go unhandled.
    socket.on('error', hand);
    socket.once('close', () => handedOver || hand(new ClosedWhileConnectingError('socket closed while connecting')));
  }

  onRequestStart(): void {}

  /** Called by undici at the first byte of a response. */
  onResponseStarted(): void {
    this.trace.firstByteAt ??= this.now();
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, _headers: unknown, statusMessage?: string): void {
    if (this.settled) return;
    this.trace.headersAt = this.now();
    this.status = statusCode;
    this.statusMessage = statusMessage ?? '';
    const raw = controller.rawHeaders;
    this.rawHeaders = Array.isArray(raw) ? raw : [];
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.bytes += chunk.length;
    if (this.onBody !== undefined) {
      // Only the bytes up to the cap: the rest of the chunk is counted, not read.
      const room = this.maxBodyBytes - (this.bytes - chunk.length);
      if (room > 0) this.onBody(room >= chunk.length ? chunk : chunk.subarray(0, room));
    }
    if (this.snippetLength < SNIPPET_BYTES) {
      const part = chunk.length <= SNIPPET_BYTES - this.snippetLength ? chunk : chunk.subarray(0, SNIPPET_BYTES - this.snippetLength);
      this.snippet.push(part);
      this.snippetLength += part.length;
    }
    // Enough to fingerprint and to tell the body flows: stop reading and close the connection.
    if (this.bytes >= this.maxBodyBytes) this.abort(new BodyCapReached('body cap reached'));
  }

  onResponseEnd(): void {
    // Close the connection here rather than let undici do it: undici closes it with an error object
    // whose stack trace Node formats, which costs more CPU than the rest of the probe's bookkeeping.
    this.socket?.destroy();
    this.settle();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    if (this.settled) return;
    this.failure = err;
    this.settle();
  }

  /** The body bytes kept for fingerprinting, as text. */
  bodyText(): string {
    const [first] = this.snippet;
    if (first === undefined) return '';
    return (this.snippet.length === 1 ? first : Buffer.concat(this.snippet, this.snippetLength)).toString('utf8');
  }
}

/** The probe's own headers with a variant's on top (a variant's header replaces the probe's of the same name). */
function variantHeaders(host: string, variant: RequestVariant): string[] {
  const own: [string, string][] = [['host', host], ['user-agent', USER_AGENT], ['accept', '*/*']];
  const extra = variant.headers ?? [];
  const replaced = new Set(extra.map(([name]) => name.toLowerCase()));
  return [...own.filter(([name]) => name === 'host' || !replaced.has(name)), ...extra].flat();
}

function onDeadline(exchange: Exchange): void {
  exchange.deadlineHit = true;
  exchange.abort(new DeadlineError('deadline'));
}

/** Probes one HTTP(S) hop. Never throws for a failing target; rejects only when options.signal aborts. */
export async function probeHttp(hop: PlannedHop, options: HttpProbeOptions = {}): Promise<HopResult> {
  const signal = options.signal;
  signal?.throwIfAborted();
  const now = options.now ?? performance.now.bind(performance);
  const host = hop.request.host ?? formatHostPort(hop.address, hop.port);
  const sni = hop.scheme === 'https' ? serverNameOf(hop.request.host) : undefined;
  const exchange = new Exchange(hop, sni, now, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, options.request, options.onBody);
  const onAbort = (): void => exchange.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await runExchange(exchange, host, options);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  signal?.throwIfAborted();
  let failure = exchange.failure === null ? plainToTlsPort(exchange) : describeFailure(exchange.failure, exchange);
  if (failure !== null && options.sniffTls !== false) failure = await sniffTlsPeer(exchange, failure, now);
  const result = resultOf(exchange, failure);
  if (options.keepHeaders !== undefined && exchange.status !== null) Object.assign(result.headers, extraHeaders(exchange.rawHeaders, options.keepHeaders));
  return result;
}

/** The asked-for response headers; set-cookie as the sorted names of the cookies set (their values can be secrets). */
function extraHeaders(raw: readonly (Buffer | string)[], names: readonly string[]): Record<string, string> {
  const wanted = new Set(names);
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = String(raw[i]).toLowerCase();
    if (!wanted.has(name)) continue;
    const value = String(raw[i + 1]);
    const text = name === 'set-cookie' ? (value.split('=', 1)[0] ?? '').trim() : value.slice(0, HEADER_VALUE_CHARS);
    values.set(name, [...(values.get(name) ?? []), text]);
  }
  const kept: Record<string, string> = {};
  for (const [name, list] of values) kept[name] = (name === 'set-cookie' ? [...new Set(list)].sort() : list).join(', ');
  return kept;
}

/** Runs the exchange on a pooled (or new) client, then leaves nothing open behind it. */
async function runExchange(exchange: Exchange, host: string, options: HttpProbeOptions): Promise<void> {
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const pool = options.clients;
  const slot = pool?.acquire(maxHeaderBytes) ?? new ClientSlot(maxHeaderBytes);
  await exchange.run(slot, host);
  // A socket still connecting is not the client's yet: close it here so nothing leaks.
  if (exchange.socket !== null && !exchange.socket.destroyed) exchange.socket.destroy();
  if (exchange.cutShort === null) {
    // undici finished the request and closed the socket itself (reset: true): the client is clean.
    pool?.release(slot);
    return;
  }
  // The request is still in undici's hands: tear the client down; it is not reused.
  await slot.client.destroy(exchange.cutShort);
  slot.exchange = null;
}

function resultOf(exchange: Exchange, failure: Failure | null): HopResult {
  const { kept, headerBytes } = exchange.status === null ? { kept: {}, headerBytes: 0 } : summariseHeaders(exchange.rawHeaders, exchange.statusMessage);
  return resultFor(exchange.hop, {
    status: exchange.status,
    error: failure?.code ?? null,
    errorDetail: failure?.detail ?? null,
    timings: phasesOf(exchange.trace),
    bytes: exchange.bytes,
    headerBytes,
    headers: kept,
    generator: exchange.status === null ? null : recogniseGenerator(exchange.status, kept, exchange.bodyText()),
    addresses: [],
  });
}

function ms(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Phases from the trace's timestamps; a phase that did not happen stays absent. */
function phasesOf(trace: Trace): Phases {
  const { start, lookupAt, tcpAt, tlsAt } = trace;
  const phases: Phases = { totalMs: ms((trace.endAt ?? start) - start) };
  if (lookupAt !== undefined) phases.dnsMs = ms(lookupAt - start);
  if (tcpAt !== undefined) phases.connectMs = ms(tcpAt - (lookupAt ?? start));
  if (tlsAt !== undefined && tcpAt !== undefined) phases.tlsMs = ms(tlsAt - tcpAt);
  const firstByte = trace.firstByteAt ?? trace.headersAt;
  if (firstByte !== undefined) phases.ttfbMs = ms(firstByte - start);
  return phases;
}

/** Exact header names kept in results (lowercase). */
const KEPT_HEADERS = new Set(['server', 'via', 'content-type', 'location', 'x-cache', 'x-served-by', 'x-powered-by', 'cf-ray', 'keep-alive']);
/** Header name prefixes kept in results. */
const KEPT_PREFIXES = ['x-envoy-', 'x-kong-', 'x-amzn-'];
/** First letters of every kept name: most headers are skipped without decoding their name. */
const KEPT_FIRST = new Set([...'svclxkSVCLXK'].map((c) => c.charCodeAt(0)));
/** "HTTP/1.1 200 " before the reason phrase, CRLF after it, and the CRLF ending the block. */
const STATUS_LINE_FIXED = 13 + 2 + 2;

/**
 * Kept headers whose value changes with every request (ids, latencies): their presence is kept
 * ("*") but not their value, so the store's dictionary of hop results does not grow each round.
 */
const VOLATILE_HEADERS = new Set([
  'cf-ray',
  'x-amzn-requestid',
  'x-amzn-trace-id',
  'x-amz-cf-id',
  'x-envoy-upstream-service-time',
  'x-kong-request-id',
  'x-kong-upstream-latency',
  'x-kong-proxy-latency',
]);

function isKept(name: string): boolean {
  return KEPT_HEADERS.has(name) || KEPT_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** The allow-listed headers and the size of the header block as on the wire. */
function summariseHeaders(raw: readonly (Buffer | string)[], statusMessage: string): { kept: Record<string, string>; headerBytes: number } {
  const kept: Record<string, string> = {};
  let headerBytes = STATUS_LINE_FIXED + Buffer.byteLength(statusMessage, 'latin1');
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as Buffer | string;
    const value = raw[i + 1] as Buffer | string;
    headerBytes += name.length + 2 + value.length + 2; // "name: value\r\n"
    const first = typeof name === 'string' ? name.charCodeAt(0) : name[0];
    if (first === undefined || !KEPT_FIRST.has(first)) continue;
    const lower = name.toString('latin1').toLowerCase();
    if (!isKept(lower)) continue;
    const text = VOLATILE_HEADERS.has(lower) ? '*' : value.toString('latin1').slice(0, HEADER_VALUE_CHARS);
    const previous = kept[lower];
    kept[lower] = previous === undefined ? text : `${previous}, ${text}`.slice(0, HEADER_VALUE_CHARS);
  }
  return { kept, headerBytes };
}

/** Error codes of a TCP connection that never came up because the network cannot reach the address. */
const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'EADDRNOTAVAIL']);
/** Error codes of a name that did not resolve. */
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);

/** Maps what ended a request to a stable code, keeping the underlying code and message as detail. */
function describeFailure(err: unknown, exchange: Exchange): Failure {
  const { trace } = exchange;
  if (exchange.deadlineHit || err instanceof DeadlineError) return deadlineFailure(exchange);
  const code = errorCodeOf(err) ?? errorCodeOf(firstOf(err)) ?? '';
  const detail = code === '' ? errorMessageOf(err) : `${code}: ${errorMessageOf(err)}`;
  const gotHeaders = exchange.status !== null;
  if (code === 'ECONNREFUSED') return { code: 'refused', detail };
  if (UNREACHABLE.has(code)) return { code: 'unreachable', detail };
  if (DNS_CODES.has(code)) return { code: 'dns', detail };
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return { code: trace.tcpAt === undefined ? 'connect-timeout' : 'timeout', detail };
  // Anything going wrong between TCP connect and the end of the handshake is a TLS failure.
  if (exchange.https && trace.tcpAt !== undefined && trace.tlsAt === undefined) return { code: 'tls', detail };
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO') return { code: 'tls', detail };
  if (code === 'UND_ERR_HEADERS_OVERFLOW') return { code: 'headers-too-large', detail };
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return { code: 'timeout', detail };
  if (err instanceof Error && err.name === 'HTTPParserError') return parserFailure(err, detail);
  if (code === 'UND_ERR_SOCKET' && /^bad (response|upgrade)/.test(errorMessageOf(err))) return { code: 'protocol', detail };
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || err instanceof ClosedWhileConnectingError) {
    return { code: 'reset', detail: resetDetail(code, gotHeaders, errorMessageOf(err)) };
  }
  return { code: 'other', detail };
}

/** The first inner error of an AggregateError (happy-eyeballs connects report one per address). */
function firstOf(err: unknown): unknown {
  return err instanceof AggregateError ? err.errors[0] : undefined;
}

/** Keeps an RST apart from a FIN: "ECONNRESET before headers (...)" or "closed before headers (...)". */
function resetDetail(code: string, gotHeaders: boolean, message: string): string {
  const when = gotHeaders ? 'after headers' : 'before headers';
  const cause = code === '' ? message : `${code}: ${message}`;
  return code === 'ECONNRESET' ? `ECONNRESET ${when} (${message})` : `closed ${when} (${cause})`;
}

function deadlineFailure(exchange: Exchange): Failure {
  const { trace } = exchange;
  const budget = `${exchange.hop.request.timeoutMs} ms`;
  if (trace.tcpAt === undefined) return { code: 'connect-timeout', detail: `no TCP connection within ${budget}` };
  if (exchange.https && trace.tlsAt === undefined) return { code: 'timeout', detail: `TLS handshake not complete within ${budget}` };
  if (exchange.status === null) return { code: 'timeout', detail: `no response headers within ${budget}` };
  return { code: 'timeout', detail: `body not complete within ${budget} (${exchange.bytes} bytes read)` };
}

/** A peer that does not speak HTTP/1.x: name what it does speak when the first bytes tell. */
function parserFailure(err: Error, detail: string): Failure {
  const data: unknown = 'data' in err ? err.data : undefined;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.isBuffer(data) ? data : null;
  if (bytes !== null && bytes.length >= 3 && (bytes[0] === 0x15 || bytes[0] === 0x16) && bytes[1] === 0x03) {
    return { code: 'tls', detail: `peer answered with a TLS record (${detail})` };
  }
  if (bytes !== null && looksLikeHttp2Frame(bytes)) return { code: 'protocol', detail: `peer speaks HTTP/2 without TLS (h2c) (${detail})` };
  return { code: 'protocol', detail };
}

/** An HTTP/2 frame header: 24-bit length, a known type (0..9), flags, stream id 0 for SETTINGS/GOAWAY. */
function looksLikeHttp2Frame(bytes: Buffer): boolean {
  if (bytes.length < 9) return false;
  const type = bytes[3] ?? 0xff;
  return (type === 0x04 || type === 0x07) && bytes.readUInt32BE(5) === 0;
}

/** Answers that mean "this port speaks TLS": nginx's and Go's replies to plain HTTP on a TLS port. */
const PLAIN_TO_TLS = /The plain HTTP request was sent to HTTPS port|Client sent an HTTP request to an HTTPS server/;

/** A 400 saying plain HTTP hit a TLS port is a protocol mismatch, though a response arrived. */
function plainToTlsPort(exchange: Exchange): Failure | null {
  if (exchange.https || exchange.status !== 400) return null;
  const match = PLAIN_TO_TLS.exec(exchange.bodyText());
  return match === null ? null : { code: 'tls', detail: `peer expects TLS: answered 400 "${match[0]}"` };
}

/**
 * A TLS-only peer given plain HTTP usually closes or resets without a byte, which looks like a reset.
 * Tell the two apart with a TLS handshake to the same address, within what is left of the deadline.
 */
async function sniffTlsPeer(exchange: Exchange, failure: Failure, now: () => number): Promise<Failure> {
  if (exchange.https || failure.code !== 'reset' || exchange.status !== null) return failure;
  if (exchange.socket === null || exchange.socket.bytesRead > 0) return failure;
  const left = exchange.hop.request.timeoutMs - (now() - exchange.trace.start);
  if (left < MIN_SNIFF_MS) return failure;
  const { address, port } = exchange.hop;
  if (!(await completesTlsHandshake(address, port, serverNameOf(exchange.hop.request.host), left))) return failure;
  return { code: 'tls', detail: `peer speaks TLS: plain HTTP got ${failure.detail}; a TLS handshake succeeds` };
}

/** True when a TLS handshake with address:port completes within timeoutMs. */
function completesTlsHandshake(address: string, port: number, servername: string | undefined, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: address, port, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(finish, timeoutMs, false);
    socket.once('secureConnect', () => finish(true));
    socket.on('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}

function noop(): void {}
