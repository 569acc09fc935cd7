// Real receivers (node:http on 127.209.200.1, ephemeral ports) and the real undici client; the
// backoff waits go through an injected delay that records and returns at once.

import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertConfig, WebhookConfig } from '../config/types.js';
import type { Incident } from '../store/incidents.js';
import { type AlertEvent, jsonPayload, slackPayload } from './payloads.js';
import { type Alerter, type AlerterDeps, type AlertLimits, backoffMs, createAlerter, retryAfterMs } from './webhooks.js';

const HOST = '127.209.200.1';

/** One request a receiver got. */
interface Hit {
  path: string;
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Resolves true when the client closed the request before any answer was written. */
  abortedEarly: Promise<boolean>;
}

/** What a receiver does with its n-th request (0-based); answering is up to it. */
type Handler = (hit: Hit, res: ServerResponse, n: number) => void;

interface Receiver {
  url: (path?: string) => string;
  hits: Hit[];
  close(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startReceiver(handler: Handler): Promise<Receiver> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const abortedEarly = new Promise<boolean>((resolve) => res.on('close', () => resolve(!res.headersSent)));
      const hit: Hit = { path: req.url ?? '', method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), abortedEarly };
      hits.push(hit);
      handler(hit, res, hits.length - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: Receiver = {
    url: (path = '/hook') => `http://${HOST}:${port}${path}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  cleanups.push(() => receiver.close());
  return receiver;
}

function answer(res: ServerResponse, status: number, headers: Record<string, string> = {}, body = ''): void {
  res.writeHead(status, headers).end(body);
}

/** Test deps: a delay that records and returns at once, fixed jitter, collected logs. */
function testDeps(limits: Partial<AlertLimits> = {}): AlerterDeps & { delays: number[]; logs: string[] } {
  const delays: number[] = [];
  const logs: string[] = [];
  return {
    delays,
    logs,
    now: Date.now,
    delay: async (ms, signal) => {
      delays.push(ms);
      signal.throwIfAborted();
    },
    random: () => 0.5,
    log: (level, message) => logs.push(`${level} ${message}`),
    dashboardUrl: 'http://hopwatch.example.test/',
    limits: { attemptTimeoutMs: 5000, backoffBaseMs: 100, ...limits },
  };
}

function start(webhooks: WebhookConfig[], deps: AlerterDeps): Alerter {
  const config: AlertConfig = { webhooks, dashboardUrl: null };
  const alerter = createAlerter(config, deps);
  cleanups.push(() => alerter.stop());
  return alerter;
}

function eventOf(id: number, kind: AlertEvent['kind'] = 'opened'): AlertEvent {
  const incident: Incident = {
    id,
    routeId: 'shop/web/shop.example.test/',
    severity: 'failing',
    openedAt: Date.UTC(2025, 0, 2, 3, 4, 5),
    closedAt: kind === 'closed' ? Date.UTC(2025, 0, 2, 3, 8, 15) : null,
    hop: 'pod',
    cause: 'pod.refused',
    changes: [],
    pods: ['shop/web-1'],
    firstEvidence: ['pod shop/web-1 127.0.1.1:8080: refused'],
    failingRounds: 3,
    rollout: false,
  };
  return { kind, incident, route: { id: incident.routeId, namespace: 'shop', ingress: 'web', host: 'shop.example.test', path: '/' } };
}

/** The incident id in a JSON alert body. */
function idOf(hit: Hit): number {
  return (JSON.parse(hit.body) as { incident: { id: number } }).incident.id;
}

/** Polls until `check` holds; the timeout only bounds the wait. */
async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('delivery', () => {
  it('posts the JSON and the Slack payloads with the configured headers', async () => {
    const json = await startReceiver((_hit, res) => answer(res, 204));
    const slack = await startReceiver((_hit, res) => answer(res, 200, {}, 'ok'));
    const deps = testDeps();
    const alerter = start(
      [
        { url: json.url('/hook'), kind: 'json', headers: { 'X-Token': 'abc' } },
        { url: slack.url('/services/T0/B0/s3cret'), kind: 'slack', headers: { Authorization: 'Bearer xyz' } },
      ],
      deps,
    );
    const opened = eventOf(7);
    const closed = eventOf(7, 'closed');
    alerter.notify(opened);
    alerter.notify(closed);
    await alerter.flush(10_000);

    expect(json.hits.map((h) => [h.method, h.path])).toEqual([['POST', '/hook'], ['POST', '/hook']]);
    expect(json.hits[0]?.headers).toMatchObject({ 'content-type': 'application/json', 'x-token': 'abc', 'user-agent': expect.stringMatching(/^hopwatch\//) });
    expect(json.hits.map((h) => JSON.parse(h.body))).toEqual([jsonPayload(opened, 'http://hopwatch.example.test/'), jsonPayload(closed, 'http://hopwatch.example.test/')]);

    expect(slack.hits.map((h) => h.path)).toEqual(['/services/T0/B0/s3cret', '/services/T0/B0/s3cret']);
    expect(slack.hits[0]?.headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer xyz' });
    expect(slack.hits[0]?.headers['x-token']).toBeUndefined();
    expect(slack.hits.map((h) => JSON.parse(h.body))).toEqual([slackPayload(opened, 'http://hopwatch.example.test/'), slackPayload(closed, 'http://hopwatch.example.test/')]);

    expect(alerter.stats().receivers.map((r) => [r.receiver, r.delivered, r.failed, r.retries])).toEqual([
      [`json webhook #1 (${HOST}:${new URL(json.url()).port})`, 2, 0, 0],
      [`slack webhook #2 (${HOST}:${new URL(slack.url()).port})`, 2, 0, 0],
    ]);
    expect(deps.logs).toEqual([]);
  });

  it('lets a configured Content-Type replace the default instead of sending two', async () => {
    const receiver = await startReceiver((_hit, res) => answer(res, 200));
    const alerter = start([{ url: receiver.url(), kind: 'json', headers: { 'Content-Type': 'application/json; charset=utf-8' } }], testDeps());
    alerter.notify(eventOf(1));
    await alerter.flush(10_000);
    expect(receiver.hits[0]?.headers['content-type']).toBe('application/json; charset=utf-8');
  });
});

describe('retries', () => {
  it('a receiver answering 500 twice then 200 gets the event after two backoffs', async () => {
    const receiver = await startReceiver((_hit, res, n) => answer(res, n < 2 ? 500 : 200));
    const deps = testDeps({ backoffBaseMs: 100 });
    const alerter = start([{ url: receiver.url(), kind: 'json', headers: {} }], deps);
    alerter.notify(eventOf(1));
    await alerter.flush(10_000);
    expect(receiver.hits).toHaveLength(3);
    expect(new Set(receiver.hits.map((h) => h.body)).size).toBe(1);
    // base 100 doubling, equal jitter with random() = 0.5: 50 + 25, then 100 + 50.
    expect(deps.delays).toEqual([75, 150]);
    expect(alerter.stats().receivers[0]).toMatchObject({ delivered: 1, failed: 0, retries: 2, queued: 0, inFlight: false });
    expect(deps.logs).toEqual([]);
  });

  it('429 waits what Retry-After asks, capped at retryAfterMaxMs', async () => {
    const receiver = await startReceiver((_hit, res, n) => {
      if (n === 0) answer(res, 429, { 'retry-after': '7' });
      else if (n === 1) answer(res, 429, { 'retry-after': '3600' });
      else answer(res, 200);
    });
    const deps = testDeps({ retryAfterMaxMs: 60_000 });
    const alerter = start([{ url: receiver.url(), kind: 'slack', headers: {} }], deps);
    alerter.notify(eventOf(1));
    await alerter.flush(10_000);
    expect(receiver.hits).toHaveLength(3);
    expect(deps.delays).toEqual([7000, 60_000]);
    expect(alerter.stats().receivers[0]).toMatchObject({ delivered: 1, retries: 2 });
  });

  it('a 400 is not retried, and the log names the answer but not the secret URL path', async () => {
    const receiver = await startReceiver((_hit, res) => answer(res, 400, { 'content-type': 'text/plain' }, 'invalid_payload'));
    const deps = testDeps();
    const alerter = start([{ url: receiver.url('/services/T0/B0/s3cret'), kind: 'slack', headers: {} }], deps);
    alerter.notify(eventOf(3));
    await alerter.flush(10_000);
    expect(receiver.hits).toHaveLength(1);
    expect(deps.delays).toEqual([]);
    expect(alerter.stats().receivers[0]).toMatchObject({ delivered: 0, failed: 1, retries: 0 });
    expect(deps.logs).toHaveLength(1);
    expect(deps.logs[0]).toMatch(/^warn alerts: slack webhook #1 \(127\.209\.200\.1:\d+\): incident 3 opened \(shop\/web\) rejected, not retried: HTTP 400: invalid_payload$/);
    expect(deps.logs[0]).not.toContain('s3cret');
  });

  it('gives up after maxAttempts with one log line', async () => {
    const receiver = await startReceiver((_hit, res) => answer(res, 503));
    const deps = testDeps({ maxAttempts: 3 });
    const alerter = start([{ url: receiver.url(), kind: 'json', headers: {} }], deps);
    alerter.notify(eventOf(4));
    await alerter.flush(10_000);
    expect(receiver.hits).toHaveLength(3);
    expect(deps.delays).toHaveLength(2);
    expect(alerter.stats().receivers[0]).toMatchObject({ delivered: 0, failed: 1, retries: 2 });
    expect(deps.logs).toEqual([expect.stringMatching(/^warn alerts: json webhook #1 .*: incident 4 opened \(shop\/web\) gave up after 3 attempts: HTTP 503$/)]);
  });

  it('tells the caller once every receiver has settled an alert, and never for one abandoned by stop', async () => {
    const ok = await startReceiver((_hit, res) => answer(res, 204));
    const refusing = await startReceiver((_hit, res) => answer(res, 400));
    const settled: boolean[] = [];
    const both = start([{ url: ok.url(), kind: 'json', headers: {} }, { url: refusing.url(), kind: 'slack', headers: {} }], testDeps());
    both.notify(eventOf(6), (all) => settled.push(all));
    await both.flush(10_000);
    expect(settled).toEqual([false]);
    const one = start([{ url: ok.url(), kind: 'json', headers: {} }], testDeps());
    one.notify(eventOf(7), (all) => settled.push(all));
    await one.flush(10_000);
    expect(settled).toEqual([false, true]);
    // A receiver that never answers in time: the alert is abandoned at stop, not settled (the outbox keeps it).
    const silent = await startReceiver(() => undefined);
    const stuck = start([{ url: silent.url(), kind: 'json', headers: {} }], testDeps({ attemptTimeoutMs: 60_000 }));
    stuck.notify(eventOf(8), (all) => settled.push(all));
    stuck.notify(eventOf(9), (all) => settled.push(all));
    await stuck.stop();
    expect(settled).toEqual([false, true]);
  });

  it('retries a connection reset', async () => {
    const receiver = await startReceiver((hit, res, n) => {
      if (n === 0) res.socket?.destroy();
      else answer(res, 200);
    });
    const deps = testDeps();
    const alerter = start([{ url: receiver.url(), kind: 'json', headers: {} }], deps);
    alerter.notify(eventOf(5));
    await alerter.flush(10_000);
    expect(receiver.hits).toHaveLength(2);
    expect(alerter.stats().receivers[0]).toMatchObject({ delivered: 1, retries: 1 });
  });
});

describe('a slow or dead receiver', () => {
  it('does not delay notify, and each attempt is aborted at its deadline', async () => {
    const dead = await startReceiver(() => undefined);
    const deps = testDeps({ attemptTimeoutMs: 150, maxAttempts: 2 });
    const alerter = start([{ url: dead.url(), kind: 'json', headers: {} }], deps);
    const returned = alerter.notify(eventOf(1)) as unknown;
    const hitsWhenReturned = dead.hits.length;
    // notify is synchronous (no promise to await) and returned before the receiver got anything.
    expect(returned).toBeUndefined();
    expect(hitsWhenReturned).toBe(0);
    await until(() => deps.logs.length > 0, 'the give-up log line');
    expect(dead.hits).toHaveLength(2);
    // The client hung up on both requests before any answer: the deadline aborted them.
    expect(await Promise.all(dead.hits.map((h) => h.abortedEarly))).toEqual([true, true]);
    expect(deps.logs).toEqual([expect.stringMatching(/gave up after 2 attempts: no answer within 150 ms$/)]);
  });

  it('only delays its own queue: a healthy receiver gets its events meanwhile', async () => {
    const dead = await startReceiver(() => undefined);
    const healthy = await startReceiver((_hit, res) => answer(res, 200));
    const deps = testDeps({ attemptTimeoutMs: 60_000 });
    const alerter = start(
      [
        { url: dead.url(), kind: 'json', headers: {} },
        { url: healthy.url(), kind: 'json', headers: {} },
      ],
      deps,
    );
    for (let id = 1; id <= 5; id++) alerter.notify(eventOf(id));
    await until(() => healthy.hits.length === 5 && alerter.stats().receivers[1]?.delivered === 5, 'the healthy receiver');
    expect(healthy.hits.map(idOf)).toEqual([1, 2, 3, 4, 5]);
    expect(dead.hits).toHaveLength(1);
    expect(alerter.stats().receivers[0]).toMatchObject({ inFlight: true, queued: 4, delivered: 0 });
  });

  it('overflow drops the oldest waiting events, with one log line per burst', async () => {
    let release = (): void => undefined;
    const receiver = await startReceiver((_hit, res, n) => {
      if (n === 0) release = () => answer(res, 200);
      else answer(res, 200);
    });
    const deps = testDeps({ queueSize: 3 });
    const alerter = start([{ url: receiver.url(), kind: 'json', headers: {} }], deps);
    alerter.notify(eventOf(1));
    await until(() => receiver.hits.length === 1, 'the first request');
    for (let id = 2; id <= 7; id++) alerter.notify(eventOf(id));
    expect(alerter.stats().receivers[0]).toMatchObject({ queued: 3, dropped: 3, inFlight: true });
    expect(deps.logs).toEqual([expect.stringMatching(/^warn alerts: json webhook #1 .*: queue full \(3\), dropping the oldest alerts/)]);
    release();
    await alerter.flush(10_000);
    expect(receiver.hits.map(idOf)).toEqual([1, 5, 6, 7]);
    expect(alerter.stats().receivers[0]).toMatchObject({ delivered: 4, dropped: 3, queued: 0 });
  });

  it('keeps order per receiver, one delivery at a time, a retried event holding the rest back', async () => {
    let active = 0;
    let maxActive = 0;
    const receiver = await startReceiver((hit, res, n) => {
      active++;
      maxActive = Math.max(maxActive, active);
      // Answer on a later turn, so overlapping deliveries would be seen as two active at once.
      setImmediate(() => {
        active--;
        answer(res, n === 1 ? 500 : 200);
      });
    });
    const alerter = start([{ url: receiver.url(), kind: 'json', headers: {} }], testDeps());
    for (let id = 1; id <= 5; id++) alerter.notify(eventOf(id));
    await alerter.flush(10_000);
    expect(receiver.hits.map(idOf)).toEqual([1, 2, 2, 3, 4, 5]);
    expect(maxActive).toBe(1);
  });
});

describe('flush and stop', () => {
  it('flush waits for the queue to drain', async () => {
    const answers: (() => void)[] = [];
    const receiver = await startReceiver((_hit, res) => answers.push(() => answer(res, 200)));
    const alerter = start([{ url: receiver.url(), kind: 'json', headers: {} }], testDeps());
    alerter.notify(eventOf(1));
    alerter.notify(eventOf(2));
    let flushed = false;
    const flushing = alerter.flush(10_000).then(() => {
      flushed = true;
    });
    await until(() => answers.length === 1, 'the first request');
    answers[0]?.();
    await until(() => answers.length === 2, 'the second request');
    expect(flushed).toBe(false);
    answers[1]?.();
    await flushing;
    expect(alerter.stats().receivers[0]).toMatchObject({ delivered: 2, queued: 0, inFlight: false });
  });

  it('delivers events notified after the queue went idle, and during a flush', async () => {
    const receiver = await startReceiver((_hit, res) => answer(res, 200));
    const alerter = start([{ url: receiver.url(), kind: 'json', headers: {} }], testDeps());
    alerter.notify(eventOf(1));
    await alerter.flush(10_000);
    alerter.notify(eventOf(2));
    const flushing = alerter.flush(10_000);
    alerter.notify(eventOf(3));
    await flushing;
    expect(receiver.hits.map(idOf)).toEqual([1, 2, 3]);
    expect(alerter.stats().receivers[0]).toMatchObject({ delivered: 3, queued: 0, inFlight: false });
  });

  it('flush is bounded; stop abandons the rest and aborts the attempt in flight', async () => {
    const dead = await startReceiver(() => undefined);
    const deps = testDeps({ attemptTimeoutMs: 60_000 });
    const alerter = start([{ url: dead.url(), kind: 'json', headers: {} }], deps);
    alerter.notify(eventOf(1));
    alerter.notify(eventOf(2));
    await alerter.flush(100);
    expect(alerter.stats().receivers[0]).toMatchObject({ delivered: 0, inFlight: true, queued: 1 });
    expect(deps.logs).toEqual(['warn alerts: 2 alert(s) not delivered within 100 ms']);
    await until(() => dead.hits.length === 1, 'the request');
    await alerter.stop();
    expect(await dead.hits[0]?.abortedEarly).toBe(true);
    expect(alerter.stats().receivers[0]).toMatchObject({ inFlight: false, queued: 0, delivered: 0 });
    alerter.notify(eventOf(3));
    expect(alerter.stats().receivers[0]).toMatchObject({ queued: 0, inFlight: false });
  });

  it('with no receivers, notify, flush and stop do nothing', async () => {
    const deps = testDeps();
    const alerter = start([], deps);
    alerter.notify(eventOf(1));
    await alerter.flush(1000);
    await alerter.stop();
    expect(alerter.stats()).toEqual({ receivers: [] });
    expect(deps.logs).toEqual([]);
  });
});

describe('backoffMs and retryAfterMs', () => {
  const limits = { backoffBaseMs: 1000, backoffMaxMs: 60_000 };
  const backoffs: [number, number, number][] = [
    [1, 0, 500],
    [1, 0.999999, 1000],
    [2, 0.5, 1500],
    [5, 0, 8000],
    [7, 1, 60_000],
    [30, 0, 30_000],
  ];
  it.each(backoffs)('attempt %d, random %d -> %d ms', (attempt, random, ms) => {
    expect(backoffMs(attempt, limits, () => random)).toBe(ms);
  });

  const now = Date.parse('2025-01-02T03:04:05Z');
  const afters: [string, string | string[] | undefined, number | null][] = [
    ['absent', undefined, null],
    ['empty', '', null],
    ['seconds', '7', 7000],
    ['zero', '0', 0],
    ['capped', '86400', 120_000],
    ['first of several', ['3', '9'], 3000],
    ['HTTP date', 'Thu, 02 Jan 2025 03:04:35 GMT', 30_000],
    ['HTTP date in the past', 'Thu, 02 Jan 2025 03:00:00 GMT', 0],
    ['garbage', 'soon', null],
    ['negative', '-5', null],
  ];
  it.each(afters)('Retry-After %s', (_name, header, ms) => {
    expect(retryAfterMs(header, now, 120_000)).toBe(ms);
  });
});
