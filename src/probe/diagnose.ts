// Diagnostics that need requests of their own, kept off the probe's hot path (src/probe/http.ts):
// - the pod's keep-alive idle timeout: one GET on a keep-alive connection, then hold it idle and
//   time the pod's close, bounded by the controller's own upstream keep-alive window (a pod that
//   outlives that window cannot race it) and cached per pod, so a long window (60 s) is measured
//   in the background across rounds instead of blocking one;
// - which protocol a pod speaks when the probe's own failed (TLS, h2c prior knowledge, plain
//   HTTP/1.1), or whether a pod that answered HTTP/1.1 also speaks h2c when its controller speaks it.
// Results are data (PodDiagnosis) carried into classification; a failing pod is never an exception.

import { connect as netConnect, type Socket } from 'node:net';
import * as http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect } from 'node:tls';
import { controllerSettings, wireOf } from '../classify/knowledge.js';
import type { HopResult, IdleTimeoutMeasure, PeerProtocol, PodDiagnosis, Route } from '../model.js';
import { USER_AGENT } from '../version.js';
import { formatHostPort, serverNameOf } from './result.js';

/** Where and how to reach a pod for a diagnostic request. */
export interface DiagnosticTarget {
  /** The pod IP. */
  address: string;
  /** The target port. */
  port: number;
  /** Speak TLS (as the probe did). */
  tls: boolean;
  /** Host header (and SNI when it is a name). */
  host: string;
  /** Request path. */
  path: string;
}

/** Head and body bytes a diagnostic reads at most before giving up. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
/** Fewest ms an idle measurement runs (below it a window is noise). */
const MIN_IDLE_BOUND_MS = 50;

/** The end of a response as far as parsed: where it ends, or that it cannot end before the peer closes. */
export type ResponseEnd =
  | { kind: 'incomplete' }
  | { kind: 'complete'; keepAlive: boolean; announcedMs?: number }
  | { kind: 'until-close' }
  | { kind: 'invalid' };

/** Parses what arrived of one HTTP/1.x response to a GET: complete, still incomplete, delimited by close, or not HTTP. */
export function responseEnd(data: Buffer): ResponseEnd {
  let headEnd = data.indexOf('\r\n\r\n');
  let start = 0;
  // Skip interim 1xx responses (100 Continue, 103 Early Hints): the final response follows.
  while (headEnd >= 0 && /^HTTP\/1\.\d 1\d\d/.test(data.subarray(start, start + 12).toString('latin1'))) {
    start = headEnd + 4;
    headEnd = data.indexOf('\r\n\r\n', start);
  }
  if (data.length - start >= 5 && !data.subarray(start, start + 5).toString('latin1').startsWith('HTTP/')) return { kind: 'invalid' };
  if (headEnd < 0) return { kind: 'incomplete' };
  const head = data.subarray(start, headEnd).toString('latin1');
  const lines = head.split('\r\n');
  const status = /^HTTP\/1\.(\d) (\d{3})/.exec(lines[0] ?? '');
  if (status === null) return { kind: 'invalid' };
  const header = (name: string): string | undefined => {
    const line = lines.find((l) => l.toLowerCase().startsWith(`${name}:`));
    return line?.slice(name.length + 1).trim().toLowerCase();
  };
  const connection = header('connection') ?? '';
  const keepAlive = status[1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
  const announcedMs = announcedIdleMs(header('keep-alive'));
  const body = data.subarray(headEnd + 4);
  const code = Number(status[2]);
  const complete: ResponseEnd = { kind: 'complete', keepAlive, ...(announcedMs !== null ? { announcedMs } : {}) };
  if (code === 204 || code === 304) return complete;
  if (/\bchunked\b/.test(header('transfer-encoding') ?? '')) return chunkedEnd(body) ? complete : { kind: 'incomplete' };
  const length = header('content-length');
  if (length === undefined || !/^\d+$/.test(length)) return { kind: 'until-close' };
  return body.length >= Number(length) ? complete : { kind: 'incomplete' };
}

/** True when a chunked body is complete (last chunk and trailers received). */
function chunkedEnd(body: Buffer): boolean {
  let at = 0;
  for (let i = 0; i < 100_000; i++) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd < 0) return false;
    const size = parseInt(body.subarray(at, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) return false;
    if (size === 0) {
      // Trailers end with an empty line: "\r\n" right away, or after trailer lines.
      if (body.subarray(lineEnd + 2, lineEnd + 4).toString('latin1') === '\r\n') return true;
      return body.indexOf('\r\n\r\n', lineEnd) >= 0;
    }
    at = lineEnd + 2 + size + 2;
    if (at > body.length) return false;
  }
  return false;
}

/** The GET every diagnostic sends. */
function requestText(target: DiagnosticTarget, connection: 'keep-alive' | 'close'): string {
  return `GET ${target.path} HTTP/1.1\r\nHost: ${target.host}\r\nUser-Agent: ${USER_AGENT}\r\nAccept: */*\r\nConnection: ${connection}\r\n\r\n`;
}

function dial(target: DiagnosticTarget, tls: boolean): Socket {
  if (!tls) return netConnect({ host: target.address, port: target.port });
  return tlsConnect({ host: target.address, port: target.port, servername: serverNameOf(target.host), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
}

/** What measureIdleTimeout needs besides the target. */
export interface IdleMeasureOptions {
  /** Stop holding the idle connection after this long: the pod keeps it at least that long. */
  boundMs: number;
  /** Deadline for connecting and reading the response. */
  timeoutMs: number;
  /** Monotonic clock in ms; default performance.now. */
  now?: () => number;
  /** Take a `Keep-Alive: timeout=N` response header for the answer instead of waiting (default true). */
  trustAnnouncement?: boolean;
}

/**
 * Sends one GET on a keep-alive connection, then holds the connection idle and times the pod's
 * close (FIN or RST) from the end of the response. null when no complete response came in time.
 * The socket and the idle timer do not keep the process alive: a measurement left running after a
 * round (a long window, measured in the background) never delays a one-shot command's exit.
 */
export function measureIdleTimeout(target: DiagnosticTarget, options: IdleMeasureOptions): Promise<IdleTimeoutMeasure | null> {
  const now = options.now ?? (() => performance.now());
  return new Promise((resolve) => {
    const socket = dial(target, target.tls);
    let received = Buffer.alloc(0);
    let idleSince: number | null = null;
    let timer = setTimeout(() => finish(null), options.timeoutMs);
    const finish = (value: IdleTimeoutMeasure | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const onClosed = (): void => finish(idleSince === null ? null : { kind: 'closed', afterMs: round(now() - idleSince) });
    socket.once(target.tls ? 'secureConnect' : 'connect', () => socket.write(requestText(target, 'keep-alive')));
    socket.on('data', (chunk: Buffer) => {
      if (idleSince !== null) return; // bytes after the response: the pod is not idle, but still open
      received = Buffer.concat([received, chunk]);
      const end = responseEnd(received);
      if (end.kind === 'invalid' || received.length > MAX_RESPONSE_BYTES) return finish(null);
      if (end.kind === 'until-close' || (end.kind === 'complete' && !end.keepAlive)) return finish({ kind: 'no-keepalive' });
      if (end.kind !== 'complete') return;
      // A pod that announces its idle timeout (Keep-Alive: timeout=N) need not be waited for.
      if (end.announcedMs !== undefined && options.trustAnnouncement !== false) return finish({ kind: 'announced', afterMs: end.announcedMs });
      idleSince = now();
      clearTimeout(timer);
      timer = setTimeout(() => finish({ kind: 'open', atLeastMs: options.boundMs }), options.boundMs);
      timer.unref();
      socket.unref();
    });
    socket.once('end', onClosed);
    socket.once('close', onClosed);
    socket.on('error', onClosed);
  });
}

function round(ms: number): number {
  return Math.round(ms);
}

/** True when an HTTP/1.1 GET over `tls` (or plain) gets a status line back within timeoutMs. */
export function answersHttp1(target: DiagnosticTarget, tls: boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dial(target, tls);
    let received = '';
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(finish, timeoutMs, false);
    socket.once(tls ? 'secureConnect' : 'connect', () => socket.write(requestText(target, 'close')));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.length >= 12) finish(/^HTTP\/1\.\d \d{3}/.test(received));
    });
    socket.on('error', () => finish(false));
    socket.once('close', () => finish(/^HTTP\/1\.\d \d{3}/.test(received)));
  });
}

/** True when an HTTP/2 request with prior knowledge (h2c, no TLS) gets response headers within timeoutMs. */
export function answersH2c(target: DiagnosticTarget, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://${formatHostPort(target.address, target.port)}`);
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      session.destroy();
      resolve(ok);
    };
    const timer = setTimeout(finish, timeoutMs, false);
    session.on('error', () => finish(false));
    session.once('close', () => finish(false));
    const stream = session.request({ ':path': target.path, ':authority': target.host, 'user-agent': USER_AGENT });
    stream.on('error', () => finish(false));
    stream.once('response', () => finish(true));
    stream.end();
  });
}

/**
 * Which protocol the pod speaks, trying the alternatives to what failed: after a plain request,
 * TLS then h2c; after a TLS request, plain HTTP/1.1 then h2c. null when none answers. Both
 * alternatives are tried at once (the first in that order wins), so detection takes one
 * timeoutMs at most, not one per alternative: it never stretches a round past its deadline.
 */
export async function detectProtocol(target: DiagnosticTarget, timeoutMs: number): Promise<PeerProtocol | null> {
  const [http1, h2c] = await Promise.all([answersHttp1(target, !target.tls, timeoutMs), answersH2c(target, timeoutMs)]);
  if (http1) return target.tls ? 'http1' : 'tls';
  return h2c ? 'h2c' : null;
}

/** Tuning of PodDiagnostics; every field but timeoutMs has a default. */
export interface PodDiagnosticsOptions {
  /** Deadline of each diagnostic request (the probe's per-hop deadline). */
  timeoutMs: number;
  /** Most a round waits for an idle measurement; a longer one goes on in the background. Default timeoutMs. */
  waitMs?: number;
  /** Longest idle measurement whatever the controller's window; default 120 s. */
  maxIdleBoundMs?: number;
  /** How long a finished idle measurement is reused for the same pod; default 10 min. */
  idleTtlMs?: number;
  /** Idle measurements in flight at most; beyond, pods go unmeasured this round. Default 256. */
  maxInFlight?: number;
  /** Monotonic clock in ms; default performance.now. */
  now?: () => number;
  /** Measures one idle timeout (tests replace it); default measureIdleTimeout. */
  measureIdle?: typeof measureIdleTimeout;
  /** Detects a pod's protocol (tests replace it); default detectProtocol. */
  detect?: typeof detectProtocol;
  /** Checks h2c prior knowledge (tests replace it); default answersH2c. */
  checkH2c?: typeof answersH2c;
  /**
   * 'measure' (default): hold an idle connection to time a pod that does not announce its idle
   * timeout (the daemon, in the background across rounds). 'announced-only': take what the pod
   * announces and say 'not-measured' otherwise, so a one-shot round never holds idle connections.
   */
  idle?: 'measure' | 'announced-only';
}

/** A finished idle measurement. */
interface CachedIdle {
  value: IdleTimeoutMeasure | null;
  at: number;
}

/** Most cached idle measurements kept (oldest dropped first). */
const MAX_CACHED = 10_000;

/**
 * Runs the diagnostics of a round's pods. One instance lives as long as its caller (a one-shot
 * command, or the daemon across rounds): its cache is what lets a long idle window be measured
 * once in the background and reused by later rounds.
 */
export class PodDiagnostics {
  readonly #options: Required<PodDiagnosticsOptions>;
  readonly #cache = new Map<string, CachedIdle>();
  readonly #inFlight = new Map<string, Promise<IdleTimeoutMeasure | null>>();
  /** Per pod target: how many rounds saw it fail. A measurement that spans a failure is discarded. */
  readonly #failures = new Map<string, number>();

  constructor(options: PodDiagnosticsOptions) {
    this.#options = {
      waitMs: options.timeoutMs,
      maxIdleBoundMs: 120_000,
      idleTtlMs: 600_000,
      maxInFlight: 256,
      now: () => performance.now(),
      measureIdle: measureIdleTimeout,
      detect: detectProtocol,
      checkH2c: answersH2c,
      idle: 'measure',
      ...options,
    };
  }

  /**
   * Diagnoses the route's pods from their hop results: one entry per pod something was learned about.
   * budgetMs: what is left of the round's own deadline; no diagnostic runs or is waited for longer.
   */
  async diagnose(route: Route, hops: readonly HopResult[], budgetMs = Number.POSITIVE_INFINITY): Promise<PodDiagnosis[]> {
    const settings = controllerSettings(route);
    if (settings === null) return [];
    const keepalive = settings.upstreamKeepaliveTimeoutMs.value;
    const controllerH2 = wireOf(settings.backendProtocol.value).h2 && !wireOf(settings.backendProtocol.value).tls;
    for (const hop of hops) if (hop.hop === 'pod' && hop.error !== null) this.#noteFailure(hop);
    const pods = hops.filter((h) => h.hop === 'pod' && h.ready !== false && h.terminating !== true && h.error !== 'unreachable');
    const budget = Math.max(0, Math.floor(budgetMs));
    const results = await Promise.all(pods.map((hop) => this.#diagnosePod(route, hop, keepalive, controllerH2, budget)));
    return results.filter((d): d is PodDiagnosis => d !== null);
  }

  async #diagnosePod(route: Route, hop: HopResult, keepalive: number | null, controllerH2: boolean, budgetMs: number): Promise<PodDiagnosis | null> {
    const target: DiagnosticTarget = {
      address: hop.address,
      port: hop.port,
      tls: hop.scheme === 'https',
      host: route.probe.hostHeader ?? formatHostPort(hop.address, hop.port),
      path: route.probe.path,
    };
    const answered = hop.status !== null && hop.error === null;
    const announced = announcedIdleMs(hop.headers['keep-alive']);
    const measureIdle = answered && keepalive !== null && keepalive > 0;
    const [idleTimeout, protocol] = await Promise.all([
      measureIdle ? this.#idleOf(hop, target, keepalive, announced, budgetMs) : Promise.resolve(null),
      this.#protocol(hop, target, answered, controllerH2, budgetMs),
    ]);
    if (idleTimeout === null && protocol === null) return null;
    return { target: hop.target, pod: hop.pod, idleTimeout, protocol };
  }

  /** The pod's idle timeout: announced (Node, Apache and nginx with a second keepalive_timeout argument announce it), measured, or not measured. */
  #idleOf(hop: HopResult, target: DiagnosticTarget, keepaliveMs: number, announced: number | null, budgetMs: number): Promise<IdleTimeoutMeasure | null> {
    if (announced !== null) return Promise.resolve({ kind: 'announced', afterMs: announced });
    if (this.#options.idle === 'announced-only') return Promise.resolve({ kind: 'not-measured' });
    return this.#idle(hop, target, keepaliveMs, budgetMs);
  }

  /** The other protocol the pod speaks: after a TLS or protocol failure, or h2c when the controller speaks it. */
  async #protocol(hop: HopResult, target: DiagnosticTarget, answered: boolean, controllerH2: boolean, budgetMs: number): Promise<PeerProtocol | null> {
    const { detect, checkH2c } = this.#options;
    const timeoutMs = Math.min(this.#options.timeoutMs, budgetMs);
    if (timeoutMs <= 0) return null;
    if (hop.error === 'tls' || hop.error === 'protocol') return detect(target, timeoutMs);
    if (answered && controllerH2 && !target.tls) return (await checkH2c(target, timeoutMs)) ? 'h2c' : null;
    return null;
  }

  /** The pod's idle timeout from the cache, a measurement shared with other rounds, or null while it runs on. */
  async #idle(hop: HopResult, target: DiagnosticTarget, keepaliveMs: number, budgetMs: number): Promise<IdleTimeoutMeasure | null> {
    const { now, idleTtlMs } = this.#options;
    const waitMs = Math.min(this.#options.waitMs, budgetMs);
    // A pod that keeps an idle connection longer than the controller's window cannot race it: stop a little after.
    const boundMs = Math.min(this.#options.maxIdleBoundMs, Math.max(MIN_IDLE_BOUND_MS, Math.round(keepaliveMs * 1.1)));
    const key = `${hop.target}|${hop.pod ?? ''}|${target.tls ? 's' : ''}|${boundMs}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined && now() - cached.at < idleTtlMs) return cached.value;
    const running = this.#inFlight.get(key) ?? this.#start(key, target, boundMs);
    if (running === null) return cached?.value ?? null;
    return waitAtMost(running, waitMs, cached?.value ?? null);
  }

  /**
   * A pod that failed (refused, reset, restarted) may have closed an idle connection being measured
   * for that reason, not its idle timeout: forget what was measured of it, and discard measurements
   * still running.
   */
  #noteFailure(hop: HopResult): void {
    const pod = `${hop.target}|${hop.pod ?? ''}|`;
    this.#failures.set(pod, (this.#failures.get(pod) ?? 0) + 1);
    // Bounded like the cache: a pod target forgotten here only loses the discard of one measurement.
    if (this.#failures.size > MAX_CACHED) this.#failures.delete(this.#failures.keys().next().value ?? pod);
    for (const key of this.#cache.keys()) if (key.startsWith(pod)) this.#cache.delete(key);
  }

  #start(key: string, target: DiagnosticTarget, boundMs: number): Promise<IdleTimeoutMeasure | null> | null {
    if (this.#inFlight.size >= this.#options.maxInFlight) return null;
    const { measureIdle, timeoutMs, now } = this.#options;
    const pod = key.slice(0, key.indexOf('|', key.indexOf('|') + 1) + 1);
    const failuresAtStart = this.#failures.get(pod) ?? 0;
    const running = measureIdle(target, { boundMs, timeoutMs, now }).then((value) => {
      this.#inFlight.delete(key);
      this.#cache.delete(key);
      if ((this.#failures.get(pod) ?? 0) !== failuresAtStart) return null;
      this.#cache.set(key, { value, at: now() });
      if (this.#cache.size > MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value ?? key);
      return value;
    });
    this.#inFlight.set(key, running);
    return running;
  }
}

/** The idle timeout a `Keep-Alive: timeout=N` header announces, in ms; null when absent or unreadable. */
export function announcedIdleMs(header: string | undefined): number | null {
  const match = header === undefined ? null : /(?:^|[,;\s])timeout\s*=\s*(\d+)/i.exec(header);
  return match ? Number(match[1]) * 1000 : null;
}

/** The promise's value, or `fallback` when it has not settled within ms (the promise runs on). */
function waitAtMost<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    void promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
