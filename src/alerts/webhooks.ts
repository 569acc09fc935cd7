// Delivers incident alerts to webhook receivers, off the probe path: `notify` renders the body and
// queues it, and returns. Each receiver has its own bounded queue and one delivery at a time, in
// order; each attempt has its own deadline; network errors, 429 and 5xx are retried with
// exponential backoff and jitter (or the receiver's Retry-After); other answers are final.
// A slow or dead receiver only ever delays its own queue.

import { Agent, request as undiciRequest } from 'undici';
import type { AlertConfig, WebhookConfig } from '../config/types.js';
import { USER_AGENT } from '../version.js';
import { type AlertEvent, renderPayload } from './payloads.js';

export type { AlertEvent, AlertRoute } from './payloads.js';

/** What one delivery attempt sends. */
export interface AlertRequestOptions {
  /** Always POST. */
  method: 'POST';
  /** content-type, user-agent and the receiver's configured headers. */
  headers: Record<string, string>;
  /** The JSON body. */
  body: string;
  /** Aborts at the attempt's deadline or on stop(). */
  signal: AbortSignal;
}

/** The part of an undici response the alerter reads. */
export interface AlertResponse {
  /** HTTP status. */
  statusCode: number;
  /** Response headers (lower-case names). */
  headers: Record<string, string | string[] | undefined>;
  /** The body: iterated for a short snippet on errors, dumped otherwise. */
  body: AsyncIterable<Uint8Array | string> & { dump(): Promise<void> };
}

/** undici's `request`, or anything shaped like it. */
export type AlertRequest = (url: string, options: AlertRequestOptions) => Promise<AlertResponse>;

/** Tuning of delivery; every field has a default. */
export interface AlertLimits {
  /** Events kept waiting per receiver; beyond it the oldest is dropped. */
  queueSize: number;
  /** Deadline of one attempt (connect, send, response headers and body). */
  attemptTimeoutMs: number;
  /** Attempts per event before giving up. */
  maxAttempts: number;
  /** Backoff before the second attempt; doubles after each failure. */
  backoffBaseMs: number;
  /** Longest backoff. */
  backoffMaxMs: number;
  /** Longest wait a receiver's Retry-After can impose. */
  retryAfterMaxMs: number;
}

/** The defaults of AlertLimits. */
export const DEFAULT_ALERT_LIMITS: Readonly<AlertLimits> = Object.freeze({
  queueSize: 1000,
  attemptTimeoutMs: 10_000,
  // With the backoff capped at a minute: about 14 minutes of retries, so a receiver's restart or a
  // short outage does not eat an alert. Give-ups are counted (hopwatch_alerts_total{outcome="failed"}).
  maxAttempts: 20,
  backoffBaseMs: 1000,
  backoffMaxMs: 60_000,
  retryAfterMaxMs: 60_000,
});

/** What the alerter needs from the outside. */
export interface AlerterDeps {
  /** HTTP client; default: undici `request` through an Agent the alerter owns (closed by stop()). */
  request?: AlertRequest;
  /** Clock in ms (Retry-After given as an HTTP date). */
  now: () => number;
  /** Waits between attempts; must settle promptly when the signal aborts (stop()). */
  delay: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Jitter source in [0, 1). */
  random: () => number;
  /** Log lines. */
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Dashboard link put in every alert; null or absent: none. */
  dashboardUrl?: string | null;
  /** Tuning; absent fields keep DEFAULT_ALERT_LIMITS. */
  limits?: Partial<AlertLimits>;
  /** The cluster named in JSON alerts and their dedupKey (metrics.labels.cluster); null or absent: none. */
  cluster?: string | null;
}

/** Counters of one receiver. */
export interface ReceiverStats {
  /** "slack webhook #1 (hooks.slack.com)": kind, position in the config, host (never the path: it may hold a token). */
  receiver: string;
  /** Payload kind. */
  kind: WebhookConfig['kind'];
  /** Events waiting (not counting the one in flight). */
  queued: number;
  /** True while an event is being delivered (attempting or backing off). */
  inFlight: boolean;
  /** Events the receiver accepted (2xx). */
  delivered: number;
  /** Events given up: rejected (4xx other than 429, 3xx) or out of attempts. */
  failed: number;
  /** Events dropped because the queue was full. */
  dropped: number;
  /** Attempts retried. */
  retries: number;
}

/** Counters of every receiver. */
export interface AlerterStats {
  /** One entry per configured webhook, in config order. */
  receivers: ReceiverStats[];
}

/** The alerter the daemon holds. */
export interface Alerter {
  /**
   * Queues an alert for every receiver; returns at once, never throws. `onSettled` is called once
   * every receiver has accepted it or finally refused it (given up, rejected, dropped), never for
   * an alert abandoned by stop(): the daemon's outbox sends those again at its next start.
   */
  notify(event: AlertEvent, onSettled?: (allDelivered: boolean) => void): void;
  /** Waits until every queue is empty and nothing is in flight, at most timeoutMs. */
  flush(timeoutMs: number): Promise<void>;
  /** Abandons what is queued, aborts what is in flight, closes connections. Later notify calls are ignored. */
  stop(): Promise<void>;
  /** Counters. */
  stats(): AlerterStats;
}

/** Stable codes of alerter errors (bad configuration only: delivery failures are logged and counted). */
export type AlertErrorCode = 'BAD_WEBHOOK_URL';

/** An error of the alerter's configuration. */
export class AlertError extends Error {
  /** Stable code. */
  readonly code: AlertErrorCode;

  constructor(code: AlertErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AlertError';
    this.code = code;
  }
}

/** One queued delivery. */
interface Pending {
  /** The rendered body. */
  body: string;
  /** "incident 12 opened (shop/web)", for logs. */
  what: string;
  /** Told how this receiver settled the alert (true: delivered). */
  settle: (delivered: boolean) => void;
}

/** One settle function per receiver; `done` runs when the last of them has been called. */
function countdown(count: number, done: ((allDelivered: boolean) => void) | undefined): (delivered: boolean) => void {
  let left = count;
  let all = true;
  return (delivered) => {
    all &&= delivered;
    if (--left === 0) done?.(all);
  };
}

/** How one attempt ended. */
type Outcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; reason: string; retryAfterMs: number | null }
  | { kind: 'rejected'; reason: string }
  | { kind: 'stopped' };

/** Everything a receiver's queue shares with the alerter. */
interface Shared {
  request: AlertRequest;
  deps: AlerterDeps;
  limits: AlertLimits;
  stop: AbortSignal;
}

/** Builds the alerter of a validated alert config. */
export function createAlerter(config: AlertConfig, deps: AlerterDeps): Alerter {
  const limits: AlertLimits = { ...DEFAULT_ALERT_LIMITS, ...deps.limits };
  const stopping = new AbortController();
  // Our own Agent, so stop() can close the keep-alive connections to receivers.
  const agent = deps.request === undefined && config.webhooks.length > 0 ? new Agent({ keepAliveTimeout: 30_000 }) : null;
  const request: AlertRequest = deps.request ?? ((url, options) => undiciRequest(url, { ...options, dispatcher: agent ?? undefined }));
  const shared: Shared = { request, deps, limits, stop: stopping.signal };
  const receivers = config.webhooks.map((webhook, i) => new ReceiverQueue(webhook, i, shared));
  const dashboardUrl = deps.dashboardUrl ?? null;
  return {
    notify(event, onSettled) {
      if (stopping.signal.aborted) return;
      try {
        const bodies = new Map<WebhookConfig['kind'], string>();
        const settle = countdown(receivers.length, onSettled);
        if (receivers.length === 0) onSettled?.(true);
        for (const receiver of receivers) {
          const body = bodies.get(receiver.kind) ?? JSON.stringify(renderPayload(receiver.kind, event, dashboardUrl, deps.cluster ?? null));
          bodies.set(receiver.kind, body);
          receiver.push({ body, what: `incident ${event.incident.id} ${event.kind} (${event.route.namespace}/${event.route.ingress})`, settle });
        }
      } catch (error) {
        // A bug in rendering must not break the daemon's incident bookkeeping, which calls us.
        deps.log('error', `alerts: incident ${event.incident.id} not queued: ${describeError(error)}`);
      }
    },
    flush: (timeoutMs) => flushAll(receivers, timeoutMs, deps),
    async stop() {
      stopping.abort();
      await Promise.all(receivers.map((r) => r.abandon()));
      await agent?.destroy();
    },
    stats: () => ({ receivers: receivers.map((r) => r.stats()) }),
  };
}

/** Waits for every receiver to go idle, bounded by timeoutMs; logs what is left. */
async function flushAll(receivers: readonly ReceiverQueue[], timeoutMs: number, deps: AlerterDeps): Promise<void> {
  const deadline = AbortSignal.timeout(Math.max(0, timeoutMs));
  const expired = new Promise<void>((resolve) => deadline.addEventListener('abort', () => resolve(), { once: true }));
  // New events may arrive while flushing: go round until every queue is idle or time is up.
  while (!deadline.aborted && receivers.some((r) => r.busy)) {
    await Promise.race([Promise.all(receivers.map((r) => r.idle())), expired]);
  }
  const left = receivers.reduce((sum, r) => sum + r.backlog, 0);
  if (left > 0) deps.log('warn', `alerts: ${left} alert(s) not delivered within ${timeoutMs} ms`);
}

/** The queue and delivery loop of one receiver. */
class ReceiverQueue {
  readonly kind: WebhookConfig['kind'];
  readonly #url: string;
  readonly #label: string;
  readonly #headers: Record<string, string>;
  readonly #shared: Shared;
  #queue: Pending[] = [];
  #running: Promise<void> | null = null;
  #inFlight = false;
  #dropping = false;
  #counts = { delivered: 0, failed: 0, dropped: 0, retries: 0 };

  constructor(webhook: WebhookConfig, index: number, shared: Shared) {
    this.kind = webhook.kind;
    this.#url = webhook.url;
    this.#label = `${webhook.kind} webhook #${index + 1} (${hostOf(webhook.url)})`;
    this.#headers = requestHeaders(webhook.headers);
    this.#shared = shared;
  }

  /** True while events wait or one is in flight. */
  get busy(): boolean {
    return this.#running !== null;
  }

  /** Events waiting plus the one in flight. */
  get backlog(): number {
    return this.#queue.length + (this.#inFlight ? 1 : 0);
  }

  /** Queues an event, dropping the oldest when full; starts the loop when idle. */
  push(item: Pending): void {
    if (this.#queue.length >= this.#shared.limits.queueSize) {
      this.#queue.shift()?.settle(false);
      this.#counts.dropped++;
      if (!this.#dropping) {
        // One line per burst: the burst ends when the queue next runs empty.
        this.#dropping = true;
        this.#shared.deps.log('warn', `alerts: ${this.#label}: queue full (${this.#shared.limits.queueSize}), dropping the oldest alerts (${this.#counts.dropped} dropped so far)`);
      }
    }
    this.#queue.push(item);
    this.#running ??= this.#drain();
  }

  /** Resolves when the loop is idle. */
  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  /** Drops what waits and waits for the loop to notice the stop signal. */
  async abandon(): Promise<void> {
    this.#queue = [];
    await this.idle();
  }

  /** Counters. */
  stats(): ReceiverStats {
    return { receiver: this.#label, kind: this.kind, queued: this.#queue.length, inFlight: this.#inFlight, ...this.#counts };
  }

  async #drain(): Promise<void> {
    // Start after notify's caller has moved on: no network work inside notify.
    await Promise.resolve();
    try {
      for (;;) {
        const item = this.#queue.shift();
        if (item === undefined || this.#shared.stop.aborted) return;
        if (this.#queue.length === 0) this.#dropping = false;
        this.#inFlight = true;
        try {
          await this.#deliver(item);
        } catch (error) {
          // A bug, not a receiver failure (those are outcomes): log it and keep the queue moving.
          this.#shared.deps.log('error', `alerts: ${this.#label}: ${item.what} not delivered: ${describeError(error)}`);
        } finally {
          this.#inFlight = false;
        }
      }
    } finally {
      // Cleared in the same turn as the last empty-queue check, so a push can never find a loop that is ending.
      this.#running = null;
    }
  }

  /** Attempts one event until it is delivered, rejected, out of attempts or stopped. */
  async #deliver(item: Pending): Promise<void> {
    const { limits, deps, stop } = this.#shared;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#attempt(item);
      if (outcome.kind === 'stopped') return;
      if (outcome.kind === 'delivered') {
        this.#counts.delivered++;
        item.settle(true);
        return;
      }
      if (outcome.kind === 'rejected' || attempt >= limits.maxAttempts) {
        this.#counts.failed++;
        item.settle(false);
        const why = outcome.kind === 'rejected' ? `rejected, not retried: ${outcome.reason}` : `gave up after ${attempt} attempts: ${outcome.reason}`;
        deps.log('warn', `alerts: ${this.#label}: ${item.what} ${why}`);
        return;
      }
      this.#counts.retries++;
      const waitMs = outcome.retryAfterMs ?? backoffMs(attempt, limits, deps.random);
      try {
        await deps.delay(waitMs, stop);
      } catch {
        // The only expected rejection is the stop signal aborting the wait.
        return;
      }
      if (stop.aborted) return;
    }
  }

  /** One POST with its own deadline. */
  async #attempt(item: Pending): Promise<Outcome> {
    const { request, limits, deps, stop } = this.#shared;
    const deadline = attemptSignal(limits.attemptTimeoutMs, stop);
    try {
      const res = await request(this.#url, { method: 'POST', headers: this.#headers, body: item.body, signal: deadline.signal });
      if (res.statusCode >= 200 && res.statusCode < 300) {
        // Delivered whatever happens to the rest of the body; dump frees the connection.
        await res.body.dump().catch(() => undefined);
        return { kind: 'delivered' };
      }
      const reason = `HTTP ${res.statusCode}${await bodySnippet(res.body)}`;
      if (res.statusCode === 429 || res.statusCode >= 500) {
        return { kind: 'retry', reason, retryAfterMs: retryAfterMs(res.headers['retry-after'], deps.now(), limits.retryAfterMaxMs) };
      }
      return { kind: 'rejected', reason };
    } catch (error) {
      if (stop.aborted) return { kind: 'stopped' };
      const reason = isTimeout(error) ? `no answer within ${limits.attemptTimeoutMs} ms` : describeError(error);
      return { kind: 'retry', reason, retryAfterMs: null };
    } finally {
      deadline.done();
    }
  }
}

/**
 * A signal that aborts after timeoutMs (reason: a TimeoutError) or when `stop` aborts; call done() after the attempt.
 * Not AbortSignal.any: on Node 20 every signal combined with a long-lived one stays referenced by it.
 */
function attemptSignal(timeoutMs: number, stop: AbortSignal): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const onStop = (): void => controller.abort(stop.reason);
  const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  // The deadline alone must not keep the process alive.
  timer.unref();
  if (stop.aborted) onStop();
  else stop.addEventListener('abort', onStop, { once: true });
  return {
    signal: controller.signal,
    done: () => {
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
    },
  };
}

/** The backoff before attempt `attempt + 1`: base * 2^(attempt-1), capped, with "equal jitter" (half fixed, half random). */
export function backoffMs(attempt: number, limits: Pick<AlertLimits, 'backoffBaseMs' | 'backoffMaxMs'>, random: () => number): number {
  const ceiling = Math.min(limits.backoffMaxMs, limits.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * Math.min(1, Math.max(0, random())));
}

/** A Retry-After header (delay-seconds or HTTP-date) in ms, capped; null when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, nowMs: number, maxMs: number): number | null {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (value === undefined || value === '') return null;
  if (/^\d+$/.test(value)) return Math.min(maxMs, Number(value) * 1000);
  // An HTTP date always has a month or day name; this keeps Date.parse from reading "-5" as a year.
  const at = /[a-z]/i.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) return null;
  return Math.min(maxMs, Math.max(0, at - nowMs));
}

/** The request headers of a receiver: JSON and hopwatch's User-Agent, then the configured ones (which win). */
function requestHeaders(configured: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': USER_AGENT };
  // Lower-case names, so a configured Content-Type replaces ours instead of being sent twice.
  for (const [name, value] of Object.entries(configured)) headers[name.toLowerCase()] = value;
  return headers;
}

/** The host of a receiver URL, for logs (the path of a Slack webhook is its secret). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch (error) {
    throw new AlertError('BAD_WEBHOOK_URL', 'alerts.webhooks: a receiver URL is not a valid URL', { cause: error });
  }
}

/** ": <first 200 chars of the body>" of an error answer, "" when empty or unreadable. */
async function bodySnippet(body: AlertResponse['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      chunks.push(buf);
      size += buf.length;
      // Enough to name the problem; leaving the loop closes the stream (and that connection).
      if (size >= 512) break;
    }
  } catch {
    return '';
  }
  const text = Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200);
  return text === '' ? '' : `: ${text}`;
}

/** True for the rejection of an aborted attempt whose deadline passed. */
function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}

/** "ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9" from anything thrown. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = 'code' in error && typeof error.code === 'string' ? error.code : null;
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${code === null ? error.name : code}: ${error.message}${cause}`;
}
