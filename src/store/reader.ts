// The store's read side for the daemon's HTTP API: the query functions of
// reader-ops.ts behind promises, run on a read-only connection in a worker
// thread, so a heavy query (a 30-day timeline of every route) never stalls
// the event loop that schedules probes. One worker is enough: SQLite answers
// one query at a time per connection anyway. Requests queue on this side, one
// in the worker at a time (quick queries ahead of timelines), so a queued
// request can still be dropped: when its
// caller goes away (an HTTP client that hung up: its AbortSignal) or when it has
// waited maxWaitMs behind others (READER_BUSY, which the API answers with 503 and
// Retry-After), and the queue is bounded by maxPending. An in-process
// implementation of the same interface serves `:memory:` stores in tests and the
// event-loop comparison.

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
  /** The same reader, its requests dropped from the queue when `signal` aborts before they reach the connection. */
  withSignal(signal: AbortSignal): StoreReader;
  /** Rejects new requests, fails pending ones with READER_CLOSED, and releases the connection (or the worker). */
  close(): Promise<void>;
};

/** Stable codes of reader errors (errors of the queries themselves keep their StoreError code). */
export type ReaderErrorCode =
  | 'READER_CLOSED' // the reader was closed
  | 'READER_BUSY' // maxPending requests are already waiting, or this one waited maxWaitMs
  | 'ABORTED' // the caller's signal aborted while the request was queued
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
  /** Longest a request waits in the queue before it is rejected with READER_BUSY (default 10000). */
  maxWaitMs?: number;
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

/** Queries that may take long; the others go ahead of them in the queue. */
const HEAVY_OPS: ReadonlySet<ReaderOpName> = new Set(['timeline', 'timelineAnswer']);

/** One request function behind every query method. */
type RequestFn = (op: ReaderOpName, args: unknown[], signal: AbortSignal | null) => Promise<unknown>;

/** Builds a reader from one request function: the query methods, pending, close, and withSignal. */
function readerOf(request: RequestFn, pending: () => number, close: () => Promise<void>, signal: AbortSignal | null = null): StoreReader {
  const methods = {} as Record<ReaderOpName, (...args: unknown[]) => Promise<unknown>>;
  for (const op of Object.keys(READER_OPS) as ReaderOpName[]) methods[op] = (...args: unknown[]) => request(op, args, signal);
  return Object.freeze({
    ...methods,
    get pending() {
      return pending();
    },
    // A scoped reader shares the queue and the connection; closing stays with the owner.
    withSignal: (s: AbortSignal) => readerOf(request, pending, async () => undefined, s),
    close,
  }) as unknown as StoreReader;
}

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** A request waiting on this side of the worker. */
interface Queued extends Waiter {
  id: number;
  op: ReaderOpName;
  args: unknown[];
  /** Rejects it after maxWaitMs. */
  timer: NodeJS.Timeout;
  /** Removes the abort listener. */
  unlisten: () => void;
}

/** The worker-backed reader: one worker, started again after it dies, requests matched to replies by id. */
class WorkerReader {
  #worker: Worker | null = null;
  #starting: Promise<Worker> | null = null;
  #nextId = 1;
  #closed = false;
  /** Requests in the worker (one at a time), by id. */
  readonly #waiting = new Map<number, Waiter>();
  /** Requests not sent yet, oldest first. */
  readonly #queue: Queued[] = [];

  constructor(private readonly data: ReaderWorkerData, private readonly maxPending: number, private readonly maxWaitMs: number) {}

  get pending(): number {
    return this.#waiting.size + this.#queue.length;
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
    this.#pump();
  }

  /** Sends a queued request when the worker is idle: the oldest that is not a timeline, else the oldest timeline. */
  #pump(): void {
    const worker = this.#worker;
    if (worker === null || this.#waiting.size > 0 || this.#queue.length === 0) return;
    // Timelines are the queries that grow with range x routes (up to a second on a month of 1,000 routes); the
    // others answer in milliseconds, so a page's route list or an incident is not kept behind a queue of charts.
    const light = this.#queue.findIndex((q) => !HEAVY_OPS.has(q.op));
    const [next] = this.#queue.splice(light < 0 ? 0 : light, 1) as [Queued];
    clearTimeout(next.timer);
    next.unlisten();
    this.#waiting.set(next.id, next);
    worker.postMessage({ type: 'query', id: next.id, op: next.op, args: next.args } satisfies ReaderRequest);
  }

  /** Takes a request out of the queue (timed out, or its caller went away); false when it was already sent. */
  #drop(id: number, error: Error): boolean {
    const at = this.#queue.findIndex((q) => q.id === id);
    if (at < 0) return false;
    const [q] = this.#queue.splice(at, 1) as [Queued];
    clearTimeout(q.timer);
    q.unlisten();
    q.reject(error);
    return true;
  }

  /** The worker died (a crash, or our own close): fail what it held; the next request starts a new one. */
  #lost(worker: Worker, why: Error): void {
    if (this.#worker !== worker) return;
    this.#worker = null;
    this.#starting = null;
    const code = this.#closed ? 'READER_CLOSED' : 'WORKER_EXITED';
    const error = new ReaderError(code, `reader worker stopped before answering: ${why.message}`, { cause: why });
    for (const [id, waiter] of this.#waiting) {
      this.#waiting.delete(id);
      waiter.reject(error);
    }
    // Queued requests never reached the dead worker: a new one serves them, unless the reader is closing.
    if (this.#closed) for (const q of [...this.#queue]) this.#drop(q.id, error);
    else if (this.#queue.length > 0) void this.start().then(() => this.#pump(), (e: unknown) => this.#failQueue(e));
  }

  #failQueue(e: unknown): void {
    const error = e instanceof Error ? e : new ReaderError('WORKER_EXITED', String(e));
    for (const q of [...this.#queue]) this.#drop(q.id, error);
  }

  async request(op: ReaderOpName, args: unknown[], signal: AbortSignal | null): Promise<unknown> {
    if (this.#closed) throw new ReaderError('READER_CLOSED', 'the store reader is closed');
    if (signal?.aborted) throw new ReaderError('ABORTED', 'the caller went away');
    if (this.pending >= this.maxPending) throw new ReaderError('READER_BUSY', `${this.pending} store queries are already waiting`);
    if (this.#worker === null) await this.start();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => void this.#drop(id, new ReaderError('ABORTED', 'the caller went away'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => this.#drop(id, new ReaderError('READER_BUSY', `waited ${this.maxWaitMs} ms behind other store queries`)), this.maxWaitMs);
      timer.unref();
      this.#queue.push({ id, op, args, resolve, reject, timer, unlisten: () => signal?.removeEventListener('abort', onAbort) });
      this.#pump();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const q of [...this.#queue]) this.#drop(q.id, new ReaderError('READER_CLOSED', 'the store reader is closed'));
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
  const impl = new WorkerReader(data, Math.max(1, options.maxPending ?? 256), Math.max(1, options.maxWaitMs ?? 10_000));
  await impl.start();
  return readerOf((op, args, signal) => impl.request(op, args, signal), () => impl.pending, () => impl.close());
}

/**
 * The same interface on a connection of this thread: each query runs synchronously
 * when called (so it blocks the event loop like any direct query). For `:memory:`
 * stores and tests; close() stops answering but leaves the connection to its owner.
 */
export function createInProcessReader(db: Db): StoreReader {
  let closed = false;
  const request: RequestFn = async (op, args) => {
    if (closed) throw new ReaderError('READER_CLOSED', 'the store reader is closed');
    return (READER_OPS[op] as (db: Db, ...rest: unknown[]) => unknown)(db, ...args);
  };
  return readerOf(request, () => 0, async () => {
    closed = true;
  });
}
