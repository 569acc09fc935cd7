// The HTTP form's contract, through a real node:http server that mounts the handler: what Argo
// Rollouts' `web` metric reads (200 + {data: {ok, successPercent, failingHop, cause, summary}},
// 5xx only when hopwatch cannot verify) and what Flagger's webhook reads (200 pass, 503 fail).

import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CannotVerifyError } from './errors.js';
import type { CheckFailure } from './evaluate.js';
import { createVerifyHandler } from './http.js';
import type { VerifyParams } from './params.js';
import { buildReport, type VerifyReport } from './report.js';
import type { VerifyRunner } from './run.js';

const REFUSED: CheckFailure = {
  routeId: 'r1',
  check: 'failure-ratio',
  group: 'canary',
  hop: 'pod',
  cause: 'pod.refused',
  summary: 'canary pods: 2 of 2 requests failed (100%, max 0%): shop/web-7c9-0 refused in 1 of 1; shop/web-7c9-1 refused in 1 of 1',
  pods: ['shop/web-7c9-0', 'shop/web-7c9-1'],
  figures: { samples: 2, failures: 2, failureRatio: 1, maxFailureRatio: 0 },
};

function reportFor(params: VerifyParams, failures: CheckFailure[]): VerifyReport {
  return buildReport({ params, startedAt: Date.UTC(2026, 0, 1), durationMs: 1200, ticks: 1, plannedTicks: 30, stoppedEarly: failures.length > 0, targets: [], groups: [], failures, wait: null, notes: [] });
}

/** Answers by the Ingress name: pass, fail, gone (cannot verify), bug (throws), hang (until aborted). */
const seen: VerifyParams[] = [];
let aborted: Promise<void> = Promise.resolve();
const runner: VerifyRunner = async (params, signal) => {
  seen.push(params);
  switch (params.ingress.name) {
    case 'fail':
      return reportFor(params, [REFUSED]);
    case 'gone':
      throw new CannotVerifyError('NO_INGRESS', `Ingress ${params.ingress.namespace}/gone does not exist`);
    case 'bug':
      throw new TypeError('x is undefined');
    case 'hang':
      aborted = new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      await aborted;
      throw new CannotVerifyError('ABORTED', 'verification aborted');
    default:
      return reportFor(params, []);
  }
};

let server: Server;
let base: string;

beforeAll(async () => {
  const handle = createVerifyHandler(runner, { maxBodyBytes: 1024 });
  server = createServer((req, res) => {
    // As src/server/server.ts does: what the handler throws is a bug, answered with a generic 500.
    handle(req, res).then(
      (handled) => {
        if (!handled) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      },
      () => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"INTERNAL","message":"internal error"}}\n'),
    );
  });
  // Non-lab test servers use block 206.
  server.listen(0, '127.206.0.2');
  await once(server, 'listening');
  base = `http://127.206.0.2:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function get(path: string): Promise<{ status: number; type: string; body: unknown }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.json() };
}

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

describe('GET /api/v1/verify (Argo Rollouts web metric)', () => {
  it('answers 200 with {data: report} for a passing canary, the fields Argo reads typed as promised', async () => {
    const res = await get('/api/v1/verify?ingress=shop/web&duration=30s&canary=rollouts-pod-template-hash%3D7c9');
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json; charset=utf-8');
    const data = (res.body as { data: VerifyReport }).data;
    expect(data).toMatchObject({ ok: true, failingHop: null, cause: null, ingress: 'shop/web' });
    expect(typeof data.successPercent).toBe('number');
    expect(typeof data.summary).toBe('string');
    expect(seen.at(-1)).toMatchObject({ durationMs: 30_000, canary: { kind: 'selector', text: 'rollouts-pod-template-hash=7c9' } });
  });

  it('answers 200, not an error, for a failing canary: ok false with the hop, cause and pods', async () => {
    const res = await get('/api/v1/verify?ingress=shop/fail');
    expect(res.status).toBe(200);
    const data = (res.body as { data: VerifyReport }).data;
    expect(data).toMatchObject({ ok: false, failingHop: 'pod', cause: 'pod.refused', stoppedEarly: true });
    expect(data.summary).toBe(`fails at hop pod (pod.refused): ${REFUSED.summary}`);
    expect(data.failures).toEqual([REFUSED]);
  });

  it('answers 400 naming the parameter for bad ones', async () => {
    expect(await get('/api/v1/verify')).toMatchObject({
      status: 400,
      body: { error: { code: 'BAD_PARAMETER', parameter: 'ingress', message: 'parameter "ingress": required: NAMESPACE/NAME of the Ingress (or httproute: NAMESPACE/NAME of the HTTPRoute)' } },
    });
    expect(await get('/api/v1/verify?ingress=shop/web&maxFailureRatio=lots')).toMatchObject({ status: 400, body: { error: { parameter: 'maxFailureRatio' } } });
    expect(await get('/api/v1/verify?ingress=shop/web&ingress=shop/api')).toMatchObject({ status: 400, body: { error: { parameter: 'ingress', message: 'parameter "ingress": given more than once' } } });
    expect(await get('/api/v1/verify?ingress=shop/web&durration=30s')).toMatchObject({ status: 400, body: { error: { parameter: 'durration' } } });
  });

  it('treats names of Object.prototype as unknown parameters, in the query and in a body', async () => {
    expect(await get('/api/v1/verify?ingress=shop/web&__proto__=x')).toMatchObject({ status: 400, body: { error: { parameter: '__proto__' } } });
    expect(await get('/api/v1/verify?ingress=shop/web&__proto__=x&__proto__=y')).toMatchObject({ status: 400, body: { error: { parameter: '__proto__' } } });
    const body = await post('/api/v1/verify', { ingress: 'shop/web', toString: 'x' });
    expect(await body.json()).toMatchObject({ error: { parameter: 'toString', message: expect.stringContaining('unknown parameter') } });
  });

  it('answers 503 when hopwatch cannot verify; its own bugs reach the server (a generic 500, details only in the log)', async () => {
    expect(await get('/api/v1/verify?ingress=shop/gone')).toEqual({
      status: 503,
      type: 'application/json; charset=utf-8',
      body: { error: { code: 'NO_INGRESS', message: 'Ingress shop/gone does not exist' } },
    });
    expect(await get('/api/v1/verify?ingress=shop/bug')).toMatchObject({ status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } });
  });
});

describe('POST /api/v1/verify', () => {
  it('takes the parameters as a JSON body, numbers as numbers', async () => {
    const res = await post('/api/v1/verify', { ingress: 'shop/web', maxFailureRatio: 0.01, maxP95Ms: 250, duration: '10s' });
    expect(res.status).toBe(200);
    expect(seen.at(-1)).toMatchObject({ durationMs: 10_000, thresholds: { maxFailureRatio: 0.01, maxP95Ms: 250 } });
  });

  it('rejects a parameter given both in the query and the body, bad JSON, a body that is not an object, and a large body', async () => {
    const both = await fetch(`${base}/api/v1/verify?duration=5s`, { method: 'POST', body: JSON.stringify({ ingress: 'shop/web', duration: '10s' }) });
    expect(both.status).toBe(400);
    expect(await both.json()).toEqual({ error: { code: 'BAD_PARAMETER', parameter: 'duration', message: 'parameter "duration": given both in the query string and in the body' } });
    const notJson = await post('/api/v1/verify', '{ingress: shop/web}');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe('BAD_JSON');
    const list = await post('/api/v1/verify', ['shop/web']);
    expect(list.status).toBe(400);
    expect(((await list.json()) as { error: { parameter: string } }).error.parameter).toBe('body');
    const big = await post('/api/v1/verify', { ingress: 'shop/web', host: 'x'.repeat(2000) });
    expect(big.status).toBe(413);
  });

  it('answers 405 with Allow for other methods', async () => {
    const put = await fetch(`${base}/api/v1/verify?ingress=shop/web`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST');
    const getFlagger = await fetch(`${base}/api/v1/verify/flagger`);
    expect(getFlagger.status).toBe(405);
    expect(getFlagger.headers.get('allow')).toBe('POST');
  });

  it('leaves other paths to the server', async () => {
    const res = await fetch(`${base}/api/v1/verify/other`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('not found\n');
  });
});

describe('POST /api/v1/verify/flagger', () => {
  const payload = (name: string, metadata?: Record<string, string>) => ({ name, namespace: 'test', phase: 'Progressing', checksum: 'abc', ...(metadata ? { metadata } : {}) });

  it('answers 200 to pass, with the ingress and canary taken from the Canary by default', async () => {
    const res = await post('/api/v1/verify/flagger', payload('podinfo'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toMatch(/^hopwatch verify passed: /);
    // 5 s unless the metadata says otherwise: inside Flagger's default 10 s webhook timeout.
    expect(seen.at(-1)).toMatchObject({ ingress: { namespace: 'test', name: 'podinfo' }, canary: { kind: 'selector', text: 'app=podinfo' }, durationMs: 5000 });
  });

  it('answers 503 with the reason to fail', async () => {
    const res = await post('/api/v1/verify/flagger', payload('podinfo', { ingress: 'fail', duration: '30s' }));
    expect(res.status).toBe(503);
    expect(await res.text()).toBe(`hopwatch verify failed: fails at hop pod (pod.refused): ${REFUSED.summary}\n`);
    expect(seen.at(-1)).toMatchObject({ ingress: { namespace: 'test', name: 'fail' }, durationMs: 30_000 });
  });

  it('answers 400 for bad metadata or payload, 500 when it cannot verify', async () => {
    const bad = await post('/api/v1/verify/flagger', payload('podinfo', { interval: 'often' }));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/^hopwatch: bad webhook metadata: parameter "interval": /);
    const noName = await post('/api/v1/verify/flagger', { namespace: 'test' });
    expect(noName.status).toBe(400);
    expect(await noName.text()).toBe('hopwatch: bad webhook metadata: parameter "name": Flagger\'s payload has no canary name\n');
    const gone = await post('/api/v1/verify/flagger', payload('gone'));
    expect(gone.status).toBe(500);
    expect(await gone.text()).toBe('hopwatch could not verify: Ingress test/gone does not exist\n');
    const notJson = await post('/api/v1/verify/flagger', 'not json');
    expect(notJson.status).toBe(400);
    expect(await notJson.text()).toMatch(/^hopwatch: request body is not JSON/);
  });
});

describe('a caller that goes away', () => {
  it('aborts the verification (Argo\'s timeoutSeconds, Flagger\'s timeout)', async () => {
    const url = new URL(`${base}/api/v1/verify?ingress=shop/hang`);
    const req = request({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}` });
    req.on('error', () => undefined);
    req.end();
    for (let i = 0; i < 100 && seen.at(-1)?.ingress.name !== 'hang'; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen.at(-1)?.ingress.name).toBe('hang');
    req.destroy();
    await expect(aborted).resolves.toBeUndefined();
  });
});
