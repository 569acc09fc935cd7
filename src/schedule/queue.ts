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
  #dropped = 0;

  constructor(write: (rounds: RouteRound[]) => unknown, options: RoundQueueOptions) {
    this.#write = write;
    this.#options = options;
  }

  /** Rounds waiting. */
  get size(): number {
    return this.#pending.length;
  }

  /** Rounds dropped because the store kept failing. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Hands a round over; returns at once. */
  push(round: RouteRound): void {
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

  /** Final flush; no timer is left behind. */
  close(): void {
    this.flush();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
