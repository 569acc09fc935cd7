// Where `hopwatch timeline` and `hopwatch incidents` read history from: a local store file
// (`--db`: the API handler run in this process over a read-only connection) or a running
// daemon (`--server`: the same paths over HTTP with the bearer token). Both answer with the
// API's JSON, so one renderer prints the same output from either.

import { existsSync } from 'node:fs';
import { DurationError, TimeRefError, parseDuration, parseTimeRef } from '../config/duration.js';
import { createApi } from '../server/api.js';
import { StoreError } from '../store/errors.js';
import { createInProcessReader } from '../store/reader.js';
import { openStore, type Db } from '../store/sqlite.js';
import type { ApiRouteRef } from './history-format.js';

/** Stable codes of a failed history read. */
export type HistoryErrorCode =
  | 'NO_STORE' // the store file does not exist
  | 'BAD_STORE' // the store file cannot be opened: not a hopwatch store, unreadable, or a schema this hopwatch cannot read
  | 'UNREACHABLE' // the daemon did not answer
  | 'UNAUTHORIZED' // the daemon wants a (valid) token
  | 'NOT_FOUND' // no such route or incident
  | 'BAD_REQUEST' // the API refused a parameter
  | 'FAILED'; // the API failed (5xx) or answered something that is not its JSON

/** A history read that could not be done: reported as one line, exit 2. */
export class HistoryError extends Error {
  /** Stable code. */
  readonly code: HistoryErrorCode;

  constructor(code: HistoryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HistoryError';
    this.code = code;
  }
}

/** Query parameters; undefined values are left out. */
export type HistoryQuery = Readonly<Record<string, string | number | undefined>>;

/** Reads the API's JSON from a store file or a daemon. */
export interface HistorySource {
  /** What is read ("store FILE" or the daemon's URL), for messages. */
  readonly description: string;
  /** GET /api/v1/<segments>?query: the parsed body of a 2xx answer; a HistoryError otherwise. */
  get(segments: readonly string[], query?: HistoryQuery): Promise<unknown>;
  /** Releases the store connection (nothing for a daemon). */
  close(): Promise<void>;
}

/** Options of a daemon source. */
export interface ServerSourceOptions {
  /** fetch, for tests (default the global one). */
  fetch?: typeof fetch;
  /** Per-request deadline (default 60 s). */
  timeoutMs?: number;
}

function searchParams(query: HistoryQuery = {}): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  return params;
}

/** The message of an API error body, or a fallback. */
function apiMessage(body: unknown, fallback: string): string {
  if (typeof body === 'object' && body !== null && 'error' in body) {
    const error: unknown = body.error;
    if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') return error.message;
  }
  return fallback;
}

/** API parameters the commands pass straight from a flag of the same name: their errors name the flag. */
const FLAG_OF_PARAMETER: Readonly<Record<string, string>> = { step: '--step', limit: '--limit' };

/** Maps a non-2xx answer to a HistoryError. */
function answerError(status: number, body: unknown, where: string): HistoryError {
  let message = apiMessage(body, `${where} answered HTTP ${status}`);
  const m = /^parameter "([^"]+)": /.exec(message);
  const flag = m === null ? undefined : FLAG_OF_PARAMETER[m[1]!];
  if (m !== null && flag !== undefined) message = `${flag}: ${message.slice(m[0].length)}`;
  if (status === 401) return new HistoryError('UNAUTHORIZED', `${where}: ${message} (give --token or set HOPWATCH_TOKEN)`);
  if (status === 404) return new HistoryError('NOT_FOUND', message);
  if (status === 400) return new HistoryError('BAD_REQUEST', message);
  return new HistoryError('FAILED', `${where}: ${message}`);
}

/** A source over an open store connection: the API handler in this process (close() leaves the connection open). */
export function connectionSource(db: Db, description: string, now: () => number = Date.now): HistorySource {
  const reader = createInProcessReader(db);
  const api = createApi({ reader, now });
  return {
    description,
    async get(segments, query) {
      const answer = await api('GET', segments, searchParams(query));
      // Through JSON, exactly as an HTTP client would see it (undefined fields dropped); some answers are JSON text already.
      const body: unknown = JSON.parse(answer.json ?? JSON.stringify(answer.body));
      if (answer.status < 200 || answer.status > 299) throw answerError(answer.status, body, description);
      return body;
    },
    close: () => reader.close(),
  };
}

/** A source over a store file, opened read-only. */
export function storeSource(path: string, now: () => number = Date.now): HistorySource {
  if (!existsSync(path)) throw new HistoryError('NO_STORE', `no history store at ${path} (give --db FILE, or --server URL of a running hopwatch)`);
  let db: Db;
  try {
    db = openStore(path, { readonly: true });
  } catch (error) {
    // A user's file (not SQLite, no permission, a schema too old or too new): one line, not a stack.
    if (!(error instanceof StoreError || isSqliteError(error))) throw error;
    throw new HistoryError('BAD_STORE', `cannot read the history store ${path}: ${error.message}`, { cause: error });
  }
  const source = connectionSource(db, `store ${path}`, now);
  return {
    ...source,
    async close() {
      await source.close();
      db.close();
    },
  };
}

/** True for better-sqlite3's errors (code SQLITE_*). */
function isSqliteError(error: unknown): error is Error {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('SQLITE_');
}

/** A source over a running daemon's API. */
export function serverSource(baseUrl: string, token: string | null, options: ServerSourceOptions = {}): HistorySource {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch (error) {
    throw new HistoryError('BAD_REQUEST', `--server ${JSON.stringify(baseUrl)}: expected a URL like http://127.0.0.1:8080`, { cause: error });
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new HistoryError('BAD_REQUEST', `--server ${JSON.stringify(baseUrl)}: expected an http:// or https:// URL`);
  const root = base.href.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  return {
    description: root,
    async get(segments, query) {
      const qs = searchParams(query).toString();
      const url = `${root}/api/v1/${segments.map(encodeURIComponent).join('/')}${qs === '' ? '' : `?${qs}`}`;
      let res: Response;
      try {
        res = await doFetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(options.timeoutMs ?? 60_000) });
      } catch (error) {
        const why = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
        throw new HistoryError('UNREACHABLE', `cannot reach hopwatch at ${root}: ${why}`, { cause: error });
      }
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (error) {
        throw new HistoryError('FAILED', `${root} answered HTTP ${res.status} with something that is not hopwatch's JSON`, { cause: error });
      }
      if (!res.ok) throw answerError(res.status, body, root);
      return body;
    },
    async close() {},
  };
}

/** The `data` of an API answer. */
export function dataOf<T>(body: unknown): T {
  if (typeof body !== 'object' || body === null || !('data' in body)) throw new HistoryError('FAILED', 'the answer has no data: not hopwatch\'s API');
  return body.data as T;
}

/** Every item of a paginated list, following nextCursor until `max` items or the last page. */
export async function allPages<T>(source: HistorySource, segments: readonly string[], query: HistoryQuery, max: number): Promise<{ items: T[]; more: boolean }> {
  const items: T[] = [];
  let cursor: string | undefined;
  // Bounded: at most max items, and never more pages than max allows (limit is at least 1).
  for (let page = 0; page <= max; page++) {
    const body = await source.get(segments, { ...query, limit: Math.min(1000, Math.max(1, max - items.length)), cursor });
    items.push(...dataOf<T[]>(body));
    const next = typeof body === 'object' && body !== null && 'nextCursor' in body ? body.nextCursor : null;
    if (typeof next !== 'string') return { items, more: false };
    if (items.length >= max) return { items, more: true };
    cursor = next;
  }
  return { items, more: true };
}

/** The time flags of a history command. */
export interface RangeFlags {
  /** --since: how far back from now ("24h", "7d"). */
  since?: string;
  /** --from: ISO-8601 or relative. */
  from?: string;
  /** --to: ISO-8601 or relative; default now. */
  to?: string;
}

/** Parses a duration flag, or throws a HistoryError naming the flag. */
export function durationFlag(flag: string, text: string): number {
  try {
    const ms = parseDuration(text);
    if (ms <= 0) throw new HistoryError('BAD_REQUEST', `${flag}: expected a positive duration like 5m or 24h, got ${JSON.stringify(text)}`);
    return ms;
  } catch (error) {
    if (error instanceof DurationError) throw new HistoryError('BAD_REQUEST', `${flag}: ${error.message}`, { cause: error });
    throw error;
  }
}

function timeFlag(flag: string, text: string, now: number): number {
  try {
    return parseTimeRef(text, now);
  } catch (error) {
    if (error instanceof TimeRefError) throw new HistoryError('BAD_REQUEST', `${flag}: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * The [from, to) range of --since | --from/--to, resolved here against this machine's clock,
 * so both sources are asked the same absolute range.
 */
export function resolveRange(flags: RangeFlags, now: number, defaultSinceMs: number): { from: number; to: number } {
  if (flags.since !== undefined && (flags.from !== undefined || flags.to !== undefined)) {
    throw new HistoryError('BAD_REQUEST', 'give --since, or --from and --to, not both');
  }
  const to = flags.to === undefined ? now : timeFlag('--to', flags.to, now);
  const from = flags.from !== undefined ? timeFlag('--from', flags.from, now) : to - (flags.since === undefined ? defaultSinceMs : durationFlag('--since', flags.since));
  if (from >= to) throw new HistoryError('BAD_REQUEST', `--from must be before --to (from ${new Date(from).toISOString()}, to ${new Date(to).toISOString()})`);
  return { from, to };
}

/** The source flags of a history command. */
export interface SourceFlags {
  /** --db FILE. */
  db?: string;
  /** --server URL. */
  server?: string;
  /** --token T. */
  token?: string;
}

/**
 * The source the flags name: --server (token from --token, else $HOPWATCH_TOKEN), else --db,
 * else the configuration's store path (`configStorePath`, called only then).
 */
export function sourceFromFlags(flags: SourceFlags, configStorePath: () => string, env: NodeJS.ProcessEnv = process.env): HistorySource {
  if (flags.server !== undefined && flags.db !== undefined) throw new HistoryError('BAD_REQUEST', 'give --db or --server, not both');
  // Trimmed like the daemon's own $HOPWATCH_TOKEN (a Secret made from a file ends in a newline), so both agree.
  if (flags.server !== undefined) return serverSource(flags.server, flags.token ?? (env['HOPWATCH_TOKEN']?.trim() || null));
  return storeSource(flags.db ?? configStorePath());
}

/** Writes a HistoryError as one line and returns exit code 2; null for any other error. */
export function reportHistoryError(error: unknown, write: (line: string) => void = (line) => process.stderr.write(line)): number | null {
  if (!(error instanceof HistoryError)) return null;
  write(`hopwatch: ${error.message}\n`);
  return 2;
}

/** Whether a route belongs to a routing object (kind and name; an older daemon's routes are all Ingress routes). */
export function ofObject(route: ApiRouteRef | null | undefined, object: RoutingObjectRef): boolean {
  return route != null && (route.kind ?? 'Ingress') === object.kind && (route.name ?? route.ingress) === object.name;
}

/** A routing object named on the command line (--ingress or --httproute NAMESPACE/NAME). */
export interface RoutingObjectRef {
  /** Its namespace. */
  namespace: string;
  /** Its name. */
  name: string;
  /** Ingress or HTTPRoute. */
  kind: 'Ingress' | 'HTTPRoute';
}

/** Reads --ingress or --httproute (at most one given); undefined when neither; throws naming the flag. */
export function routingObjectFlag(flags: { ingress?: string | undefined; httproute?: string | undefined }): RoutingObjectRef | undefined {
  const [flag, text, kind] = flags.httproute !== undefined ? ['--httproute', flags.httproute, 'HTTPRoute' as const] : ['--ingress', flags.ingress, 'Ingress' as const];
  if (text === undefined) return undefined;
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(text);
  if (m === null) throw new HistoryError('BAD_REQUEST', `${flag} ${JSON.stringify(text)}: expected NAMESPACE/NAME`);
  return { namespace: m[1]!, name: m[2]!, kind };
}

