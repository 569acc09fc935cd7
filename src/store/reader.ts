// The store's read side for the daemon's HTTP API: the query functions of
// reader-ops.ts behind promises, run on a read-only connection in a worker
// thread, so a heavy query (a 30-day timeline of every route) never stalls
// the event loop that schedules probes. One worker is enough: SQLite answers
// one query at a time per connection anyway; requests queue in the worker's
// message port, bounded by maxPending. An in-process implementation of the same
// interface serves `:memory:` stores in tests and the event-loop comparison.

import type { Worker } from 'node:worker_threads';
import { StoreError, type StoreErrorCode } from './errors.js';
import { READER_OPS, type ReaderOpArgs, type ReaderOpName, type ReaderOpResult } from './reader-ops.js';
import type { ReaderReply, ReaderRequest, ReaderWorkerData, WireError } from './reader-worker.js';
import type { Db } from './sqlite.js';
import { startModuleWorker } from './worker-thread.js';

/** Every reader query as an async method, plus close(). */
export type StoreReader = {
  readonly [K in ReaderOpName]: (...args: ReaderOpArgs<K>) => Promise<ReaderOpResult<K>>;
} & {
  /** Requests sent and not answered yet. */
  readonly pending: number;
  /** Rejects new requests, fails pending ones with READER_CLOSED, and releases the connection (or the worker). */
  close(): Promise<void>;
};

/** Stable codes of reader errors (errors of the queries themselves keep their StoreError code). */
export type ReaderErrorCode =
  | 'READER_CLOSED' // the reader was closed
  | 'READER_BUSY' // maxPending requests are already waiting
  | 'WORKER_EXITED' // the worker thread stopped before answering (it is restarted at the next request)
  | 'OPEN_FAILED' // the worker could not open the store (missing file, no permission), other than a StoreError
  | 'QUERY_FAILED'; // a query failed with something other than a StoreError (a bug, or SQLite itself)

/** An error of the reader machinery, or an unexpected failure of a query. */
export class ReaderError extends Error {
  /** Stable code. */
  readonly code: ReaderErrorCode;

  constructor(code: ReaderErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReaderError';
    this.code = code;
  }
}

/** Options of openStoreReader. */
export interface StoreReaderOptions {
  /** Most requests waiting at once; more are rejected with READER_BUSY (default 256). */
  maxPending?: number;
  /** How long a query waits for the writer's lock (default 5000). */
  busyTimeoutMs?: number;
  /** The reader connection's page cache in MiB (default 64). */
  cacheMb?: number;
}

/** Rebuilds an error that crossed the thread boundary: StoreErrors keep their class and code. */
export function fromWireError(e: WireError, code: ReaderErrorCode = 'QUERY_FAILED'): Error {
  if (e.store) return new StoreError(e.code as StoreErrorCode, e.message);
  const cause = new Error(e.message);
  cause.name = e.name;
  if (e.stack !== null) cause.stack = e.stack;
  return new ReaderError(code, `${e.name}${e.code === null ? '' : ` ${e.code}`}: ${e.message}`, { cause });
}

/** Builds the method table of a reader from one request function. */
function readerMethods(request: (op: ReaderOpName, args: unknown[]) => Promise<unknown>): Record<ReaderOpName, (...args: unknown[]) => Promise<unknown>> {
  const methods = {} as Record<ReaderOpName, (...args: unknown[]) => Promise<unknown>>;
  for (const op of Object.keys(READER_OPS) as ReaderOpName[]) methods[op] = (...args: unknown[]) => request(op, args);
  return methods;
}

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** The worker-backed reader: one worker, started again after it dies, requests matched to replies by id. */
class WorkerReader {
  #worker: Worker | null = null;
  #starting: Promise<Worker> | null = null;
  #nextId = 1;
  #closed = false;
  readonly #waiting = new Map<number, Waiter>();

  constructor(private readonly data: ReaderWorkerData, private readonly maxPending: number) {}

  get pending(): number {
    return this.#waiting.size;
  }

  /** Starts the worker and waits for its connection to open (a failure to open rejects with the store's error). */
  start(): Promise<Worker> {
    this.#starting ??= new Promise<Worker>((resolve, reject) => {
      const worker = startModuleWorker(import.meta.url, 'reader-worker', { workerData: { ...this.data } });
      const fail = (error: Error): void => {
        worker.off('message', onBoot);
        worker.off('exit', onExit);
        worker.off('error', onError);
        this.#starting = null;
        void worker.terminate();
        reject(error);
      };
      const onExit = (code: number): void => fail(new ReaderError('WORKER_EXITED', `reader worker exited with code ${code} before its store was open`));
      const onError = (error: Error): void => fail(new ReaderError('WORKER_EXITED', `reader worker failed to start: ${error.message}`, { cause: error }));
      const onBoot = (reply: ReaderReply): void => {
        worker.off('exit', onExit);
        worker.off('error', onError);
        if (reply.type !== 'ready') {
          fail(reply.type === 'failed' ? fromWireError(reply.error, 'OPEN_FAILED') : new ReaderError('WORKER_EXITED', 'reader worker answered before it was ready'));
          return;
        }
        worker.off('message', onBoot);
        this.#adopt(worker);
        resolve(worker);
      };
      worker.on('message', onBoot);
      worker.once('exit', onExit);
      worker.once('error', onError);
    });
    return this.#starting;
  }

  #adopt(worker: Worker): void {
    this.#worker = worker;
    worker.on('message', (reply: ReaderReply) => this.#settle(reply));
    worker.on('error', (error) => this.#lost(worker, error));
    worker.on('exit', (code) => this.#lost(worker, new Error(`exit code ${code}`)));
  }

  #settle(reply: ReaderReply): void {
    if (reply.type !== 'result' && reply.type !== 'error') return;
    const waiter = this.#waiting.get(reply.id);
    if (waiter === undefined) return;
    this.#waiting.delete(reply.id);
    if (reply.type === 'result') waiter.resolve(reply.value);
    else waiter.reject(fromWireError(reply.error));
  }

  /** The worker died (a crash, or our own close): fail what it held; the next request starts a new one. */
  #lost(worker: Worker, why: Error): void {
    if (this.#worker !== worker) return;
    this.#worker = null;
    this.#starting = null;
    const code = this.#closed ? 'READER_CLOSED' : 'WORKER_EXITED';
    for (const [id, waiter] of this.#waiting) {
      this.#waiting.delete(id);
      waiter.reject(new ReaderError(code, `reader worker stopped before answering: ${why.message}`, { cause: why }));
    }
  }

  async request(op: ReaderOpName, args: unknown[]): Promise<unknown> {
    if (this.#closed) throw new ReaderError('READER_CLOSED', 'the store reader is closed');
    if (this.#waiting.size >= this.maxPending) throw new ReaderError('READER_BUSY', `${this.#waiting.size} store queries are already waiting`);
    const worker = this.#worker ?? (await this.start());
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      worker.postMessage({ type: 'query', id, op, args } satisfies ReaderRequest);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker ?? (await this.#starting?.catch(() => null)) ?? null;
    if (worker === null) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Ask the worker to close its connection and exit; terminate only if it does not within a few seconds.
    worker.postMessage({ type: 'close' } satisfies ReaderRequest);
    const timer = setTimeout(() => void worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Opens a reader of the store at path: a worker thread with a read-only connection.
 * Resolves once the connection is open; rejects with the StoreError of opening it
 * (SCHEMA_OUTDATED when the store was never opened read-write by this version, ...).
 * The file must exist: open the writer first.
 */
export async function openStoreReader(path: string, options: StoreReaderOptions = {}): Promise<StoreReader> {
  if (path === ':memory:') throw new StoreError('BAD_QUERY', 'a worker cannot share a :memory: store: use createInProcessReader(db)');
  const data: ReaderWorkerData = { path, busyTimeoutMs: options.busyTimeoutMs ?? 5000, cacheMb: options.cacheMb ?? 64 };
  const impl = new WorkerReader(data, Math.max(1, options.maxPending ?? 256));
  await impl.start();
  return Object.freeze({
    ...readerMethods((op, args) => impl.request(op, args)),
    get pending() {
      return impl.pending;
    },
    close: () => impl.close(),
  }) as unknown as StoreReader;
}

/**
 * The same interface on a connection of this thread: each query runs synchronously
 * when called (so it blocks the event loop like any direct query). For `:memory:`
 * stores and tests; close() stops answering but leaves the connection to its owner.
 */
export function createInProcessReader(db: Db): StoreReader {
  let closed = false;
  const request = async (op: ReaderOpName, args: unknown[]): Promise<unknown> => {
    if (closed) throw new ReaderError('READER_CLOSED', 'the store reader is closed');
    return (READER_OPS[op] as (db: Db, ...rest: unknown[]) => unknown)(db, ...args);
  };
  return Object.freeze({
    ...readerMethods(request),
    pending: 0,
    close: async () => {
      closed = true;
    },
  }) as unknown as StoreReader;
}
