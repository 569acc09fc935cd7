// Batches finished rounds into store transactions, off the probe path: a round is handed over
// and the probe goes on; the batch is written when it is full or a short timer fires.

import type { RouteRound } from '../model.js';

/** Options of the round queue. */
export interface RoundQueueOptions {
  /** Write as soon as this many rounds wait. */
  maxBatch: number;
  /** Write at most this long after the first waiting round. */
  flushMs: number;
  /** Most rounds kept while the store keeps failing; the oldest are dropped beyond it. */
  maxPending?: number;
  /** Log lines. */
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** Rounds waiting to be written. */
export class RoundQueue {
  readonly #write: (rounds: RouteRound[]) => unknown;
  readonly #options: RoundQueueOptions;
  #pending: RouteRound[] = [];
  #timer: NodeJS.Timeout | null = null;
  #failing = false;
  #closed = false;
  #dropped = 0;

  constructor(write: (rounds: RouteRound[]) => unknown, options: RoundQueueOptions) {
    this.#write = write;
    this.#options = options;
  }

  /** Rounds waiting. */
  get size(): number {
    return this.#pending.length;
  }

  /** Rounds dropped because the store kept failing, or because they finished after close(). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Hands a round over; returns at once. After close() the round is dropped (counted). */
  push(round: RouteRound): void {
    // A round that outlived the daemon's stop bound: the store is closing, and a timer armed now
    // would retry against a closed database every second and keep the process from exiting.
    if (this.#closed) {
      this.#dropped++;
      return;
    }
    this.#pending.push(round);
    const max = this.#options.maxPending ?? 100_000;
    if (this.#pending.length > max) {
      this.#dropped += this.#pending.length - max;
      this.#pending.splice(0, this.#pending.length - max);
    }
    if (this.#pending.length >= this.#options.maxBatch) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.#options.flushMs);
  }

  /** Writes everything waiting in one transaction; on failure keeps it for the next try. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    try {
      this.#write(batch);
      if (this.#failing) this.#options.log('info', 'store: writing again');
      this.#failing = false;
    } catch (error) {
      // Keep the rounds (a full disk or a lock may clear); one line per failure streak, not per batch.
      this.#pending = batch.concat(this.#pending);
      if (!this.#failing) this.#options.log('error', `store: cannot write rounds (kept in memory, retrying): ${error instanceof Error ? error.message : String(error)}`);
      this.#failing = true;
      this.#timer = setTimeout(() => this.flush(), Math.max(1000, this.#options.flushMs));
    }
  }

  /** Final flush; no timer is left behind, and later pushes are dropped. */
  close(): void {
    this.flush();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#closed = true;
  }
}
