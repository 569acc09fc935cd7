// The HTTP form of `hopwatch verify`, as plain functions the daemon's server mounts:
//
//   GET  /api/v1/verify?ingress=NS/NAME&duration=30s&...   (Argo Rollouts `web` metric)
//   POST /api/v1/verify            {"ingress": "NS/NAME", ...} (JSON body; query parameters too)
//   POST /api/v1/verify/flagger    Flagger's webhook payload {name, namespace, phase, metadata}
//
// Argo Rollouts' `web` provider counts a non-2xx answer as an error (inconclusive), not as a
// failure: so a verification that ran answers 200 whether the canary passed or not, with
// {"data": {"ok": bool, ...}}, and 5xx means only that hopwatch could not verify. Flagger reads
// nothing but the status: 200 passes, 503 fails, with the reason as the body (Flagger puts it
// in its events).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { CannotVerifyError, VerifyParamError } from './errors.js';
import { parseVerifyParams, type RawParams, type VerifyParams } from './params.js';
import type { VerifyRunner } from './run.js';

/** An answer before it is written. */
export interface HttpAnswer {
  /** Status code. */
  status: number;
  /** Response headers. */
  headers: Record<string, string>;
  /** Body. */
  body: string;
}

/** The paths the handler serves. */
export const VERIFY_PATH = '/api/v1/verify';
/** Flagger's webhook path. */
export const FLAGGER_PATH = '/api/v1/verify/flagger';
/** Largest request body read. */
export const MAX_BODY_BYTES = 64 * 1024;

function json(status: number, value: unknown): HttpAnswer {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body: `${JSON.stringify(value)}\n` };
}

function text(status: number, body: string): HttpAnswer {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, body: `${body}\n` };
}

/** Reads the query string into raw parameters (a repeated key stays an array, which validation rejects). */
export function rawFromQuery(query: URLSearchParams): Record<string, string | string[]> {
  // No prototype: "__proto__" or "toString" in a query are parameter names like any other (and unknown).
  const raw: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const key of new Set(query.keys())) {
    const values = query.getAll(key);
    raw[key] = values.length === 1 ? (values[0] ?? '') : values;
  }
  return raw;
}

/** Query parameters and a JSON body together; a parameter given in both is an error naming it. */
export function rawFromRequest(query: URLSearchParams, body: unknown): RawParams {
  const fromQuery = rawFromQuery(query);
  if (body === undefined || body === null) return fromQuery;
  if (typeof body !== 'object' || Array.isArray(body)) throw new VerifyParamError('body', 'must be a JSON object of parameters');
  for (const key of Object.keys(body)) {
    if (Object.hasOwn(fromQuery, key)) throw new VerifyParamError(key, 'given both in the query string and in the body');
  }
  return { ...fromQuery, ...(body as Record<string, unknown>) };
}

/** Flagger's payload -> parameters: metadata holds hopwatch's parameters; the ingress defaults to the Canary's namespace/name, the canary to app=<name>. */
/** The duration of a Flagger-triggered verification when its metadata gives none: inside Flagger's default 10 s webhook timeout. */
export const FLAGGER_DEFAULT_DURATION = '5s';

export function rawFromFlagger(payload: unknown): RawParams {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new VerifyParamError('body', 'must be Flagger\'s webhook payload (a JSON object)');
  const { name, namespace, metadata } = payload as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') throw new VerifyParamError('name', 'Flagger\'s payload has no canary name');
  if (typeof namespace !== 'string' || namespace === '') throw new VerifyParamError('namespace', 'Flagger\'s payload has no namespace');
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) {
    throw new VerifyParamError('metadata', 'must be an object of strings');
  }
  const raw: Record<string, unknown> = { ...(metadata as Record<string, unknown> | undefined) };
  const ingress = raw['ingress'];
  const httproute = raw['httproute'];
  if (typeof httproute === 'string' && httproute !== '' && ingress === undefined) {
    // Flagger's Gateway API provider shifts an HTTPRoute's backendRef weights: verify that HTTPRoute.
    raw['httproute'] = httproute.includes('/') ? httproute : `${namespace}/${httproute}`;
  } else {
    raw['ingress'] = typeof ingress === 'string' && ingress !== '' ? (ingress.includes('/') ? ingress : `${namespace}/${ingress}`) : `${namespace}/${name}`;
  }
  // Flagger's canary Deployment keeps the target's labels (app=<name>); its primary gets app=<name>-primary.
  // A canary named as a weighted backend of the route (canaryBackend) replaces that default.
  const byBackend = raw['canaryBackend'] !== undefined || raw['canary-backend'] !== undefined;
  if (raw['canary'] === undefined && raw['revision'] === undefined && !byBackend) raw['canary'] = `app=${name}`;
  // Flagger waits 10 s for a webhook unless its `timeout` says otherwise: the verify default of 60 s would always time out.
  if (raw['duration'] === undefined) raw['duration'] = FLAGGER_DEFAULT_DURATION;
  return raw;
}

/** The 400 answer for a bad parameter, naming it. */
export function badParameter(error: VerifyParamError): HttpAnswer {
  return json(400, { error: { code: error.code, parameter: error.parameter, message: error.message } });
}

/**
 * Runs a verification and answers as Argo Rollouts' `web` metric expects: 200 with {data} when it ran,
 * 503 when it could not. Anything else thrown is a bug: it propagates, so the server logs it and
 * answers its generic 500 (docs/api.md: a 500's message never holds details).
 */
export async function answerVerify(raw: RawParams, runner: VerifyRunner, signal: AbortSignal): Promise<HttpAnswer> {
  let params: VerifyParams;
  try {
    params = parseVerifyParams(raw);
  } catch (error) {
    if (error instanceof VerifyParamError) return badParameter(error);
    throw error;
  }
  try {
    return json(200, { data: await runner(params, signal) });
  } catch (error) {
    if (error instanceof CannotVerifyError) return json(503, { error: { code: error.code, message: error.message } });
    throw error;
  }
}

/** Runs a verification for Flagger: 200 to pass, 503 with the reason to fail, 400 for bad metadata, 500 when it could not verify (bugs propagate, as in answerVerify). */
export async function answerFlagger(payload: unknown, runner: VerifyRunner, signal: AbortSignal): Promise<HttpAnswer> {
  let params: VerifyParams;
  try {
    params = parseVerifyParams(rawFromFlagger(payload));
  } catch (error) {
    if (error instanceof VerifyParamError) return text(400, `hopwatch: bad webhook metadata: ${error.message}`);
    throw error;
  }
  try {
    const report = await runner(params, signal);
    return report.ok ? text(200, `hopwatch verify passed: ${report.summary}`) : text(503, `hopwatch verify failed: ${report.summary}`);
  } catch (error) {
    if (error instanceof CannotVerifyError) return text(500, `hopwatch could not verify: ${error.message}`);
    throw error;
  }
}

/** Options of the node:http handler. */
export interface VerifyHandlerOptions {
  /** Largest body read; default MAX_BODY_BYTES. */
  maxBodyBytes?: number;
}

/** A request handler for the verify paths: resolves true when it answered, false for any other path (the server goes on). */
export function createVerifyHandler(runner: VerifyRunner, options: VerifyHandlerOptions = {}): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://hopwatch.invalid');
    if (url.pathname !== VERIFY_PATH && url.pathname !== FLAGGER_PATH) return false;
    const flagger = url.pathname === FLAGGER_PATH;
    const allowed = flagger ? ['POST'] : ['GET', 'POST'];
    if (!allowed.includes(req.method ?? '')) {
      const refused = json(405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${req.method ?? '?'} is not allowed on ${url.pathname}` } });
      write(res, { ...refused, headers: { ...refused.headers, allow: allowed.join(', ') } });
      return true;
    }
    // The verification stops when the caller goes away (Argo's timeoutSeconds, Flagger's timeout).
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    write(res, await answer(req, url, flagger, runner, abort.signal, maxBodyBytes));
    return true;
  };
}

async function answer(req: IncomingMessage, url: URL, flagger: boolean, runner: VerifyRunner, signal: AbortSignal, maxBodyBytes: number): Promise<HttpAnswer> {
  const body = req.method === 'POST' ? await readJson(req, maxBodyBytes) : { ok: true as const, value: undefined };
  if (!body.ok) return flagger ? text(body.answer.status, `hopwatch: ${body.reason}`) : body.answer;
  if (flagger) return answerFlagger(body.value, runner, signal);
  try {
    return await answerVerify(rawFromRequest(url.searchParams, body.value), runner, signal);
  } catch (error) {
    if (error instanceof VerifyParamError) return badParameter(error);
    throw error;
  }
}

type BodyResult = { ok: true; value: unknown } | { ok: false; reason: string; answer: HttpAnswer };

/** Reads a JSON body of at most maxBytes; an empty body is undefined. */
async function readJson(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > maxBytes) {
      const reason = `request body larger than ${maxBytes} bytes`;
      return { ok: false, reason, answer: json(413, { error: { code: 'BODY_TOO_LARGE', message: reason } }) };
    }
    chunks.push(buffer);
  }
  const textBody = Buffer.concat(chunks).toString('utf8').trim();
  if (textBody === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(textBody) as unknown };
  } catch (error) {
    const reason = `request body is not JSON: ${error instanceof Error ? error.message : String(error)}`;
    return { ok: false, reason, answer: json(400, { error: { code: 'BAD_JSON', message: reason } }) };
  }
}

function write(res: ServerResponse, answer: HttpAnswer): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(answer.status, { ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)) });
  res.end(answer.body);
}
