// A FIFO concurrency limiter shared by every route of a round and by the daemon across rounds.

/** Raised when a limiter is built with a limit that is not a positive integer (a configuration bug). */
export class InvalidLimitError extends Error {
  /** Stable error code. */
  readonly code = 'HOPWATCH_INVALID_LIMIT';

  constructor(max: unknown) {
    super(`concurrency limit must be a positive integer, got ${String(max)}`);
    this.name = 'InvalidLimitError';
  }
}

/** Runs tasks with at most `max` in flight; the rest wait in arrival order. */
export interface Limiter {
  /** Runs fn as soon as a slot is free (FIFO); settles as fn settles. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Tasks running now (for metrics). */
  readonly active: number;
  /** Tasks waiting for a slot (for metrics). */
  readonly queued: number;
  /** The limit. */
  readonly max: number;
}

/** A limiter allowing `max` tasks at once. */
export function createLimiter(max: number): Limiter {
  if (!Number.isSafeInteger(max) || max < 1) throw new InvalidLimitError(max);
  let active = 0;
  const waiting: (() => void)[] = [];
  let head = 0; // index of the oldest waiter: shifting a long array per task would be O(n)

  function release(): void {
    if (head < waiting.length) {
      const next = waiting[head];
      waiting[head++] = noop;
      // Compact now and then so a long-lived daemon's queue does not grow without bound.
      if (head > 1024 && head * 2 > waiting.length) {
        waiting.splice(0, head);
        head = 0;
      }
      next?.(); // the slot passes straight to the next task: `active` stays, nobody can barge in
    } else {
      active--;
    }
  }

  async function run<T>(fn: () => Promise<T>): Promise<T> {
    if (active < max) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await fn();
    } finally {
      release();
    }
  }

  return {
    run,
    get active() {
      return active;
    },
    get queued() {
      return waiting.length - head;
    },
    max,
  };
}

function noop(): void {}
