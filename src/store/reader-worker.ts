// The StoreReader's worker thread: opens the store read-only and answers query
// requests one at a time, in arrival order (the message port is the queue).
// Started by openStoreReader (src/store/reader.ts); never imported elsewhere.

import { parentPort, workerData } from 'node:worker_threads';
import { StoreError } from './errors.js';
import { READER_OPS, type ReaderOpName } from './reader-ops.js';
import { openStore, type Db } from './sqlite.js';

/** What openStoreReader passes as workerData. */
export interface ReaderWorkerData {
  /** The store file. */
  path: string;
  /** Options of openStore (read-only is forced). */
  busyTimeoutMs?: number;
  /** Page cache size in MiB. */
  cacheMb?: number;
}

/** A message from the main thread: a query, or the request to close the store and exit. */
export type ReaderRequest =
  | {
      /** A query. */
      type: 'query';
      /** Correlates the reply. */
      id: number;
      /** The query's name. */
      op: ReaderOpName;
      /** Its arguments after the connection. */
      args: unknown[];
    }
  | {
      /** Close the connection; the thread then exits (nothing keeps it alive). */
      type: 'close';
    };

/** An error as it crosses the thread boundary (class and custom fields do not survive structured clone). */
export interface WireError {
  /** Error name (StoreError, SqliteError, TypeError, ...). */
  name: string;
  /** The StoreError code, or the error's own string code (SQLITE_BUSY, ...), null when none. */
  code: string | null;
  /** Message. */
  message: string;
  /** Stack, for the log (never sent to HTTP clients). */
  stack: string | null;
  /** True when it is a StoreError. */
  store: boolean;
}

/** A message to the main thread. */
export type ReaderReply =
  | { type: 'ready' }
  | { type: 'failed'; error: WireError }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: WireError };

/** Turns anything thrown into its wire form. */
export function toWireError(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', code: null, message: String(error), stack: null, store: false };
  const code: unknown = (error as { code?: unknown }).code;
  return {
    name: error.name,
    code: typeof code === 'string' ? code : null,
    message: error.message,
    stack: error.stack ?? null,
    store: error instanceof StoreError,
  };
}

function answer(db: Db, req: Extract<ReaderRequest, { type: 'query' }>): ReaderReply {
  const fn = READER_OPS[req.op] as ((db: Db, ...args: unknown[]) => unknown) | undefined;
  if (typeof fn !== 'function') return { type: 'error', id: req.id, error: toWireError(new StoreError('BAD_QUERY', `unknown reader query ${String(req.op)}`)) };
  try {
    return { type: 'result', id: req.id, value: fn(db, ...req.args) };
  } catch (error) {
    return { type: 'error', id: req.id, error: toWireError(error) };
  }
}

function main(): void {
  const port = parentPort;
  if (port === null) throw new Error('reader-worker.js runs only as a worker thread (openStoreReader starts it)');
  const data = workerData as ReaderWorkerData;
  let db: Db;
  try {
    db = openStore(data.path, { readonly: true, busyTimeoutMs: data.busyTimeoutMs ?? 5000, cacheMb: data.cacheMb ?? 64 });
  } catch (error) {
    port.postMessage({ type: 'failed', error: toWireError(error) } satisfies ReaderReply);
    return;
  }
  port.on('message', (req: ReaderRequest) => {
    if (req.type === 'query') {
      port.postMessage(answer(db, req));
      return;
    }
    // Close the file first; with the port closed too, nothing keeps the thread alive and it exits.
    db.close();
    port.close();
  });
  port.postMessage({ type: 'ready' } satisfies ReaderReply);
}

main();
