// How far the daemon lets V8 grow its heap between full collections.
//
// Measured (bench/README.md, "Memory without a cap"): at 5,000 routes x 7 hops every 30 s about
// 100 MB is live, and every probe's socket and HTTP parser state outlives a young-generation
// collection or two (it is open while the target answers), so ~10 MB/s is promoted to the old
// generation and dies there. V8 only collects the old generation when it has grown to up to 4x what
// survived the last full collection (its default on a machine with this much memory), so the heap
// swung between ~100 and ~420 MB and the process's RSS peaked at ~600 MB, garbage all but 100 MB.
// A growth of 50 % collects that garbage at ~150 MB instead, for a full collection every few
// seconds (mostly marked concurrently, off the event loop).

import { setFlagsFromString } from 'node:v8';

/** Percent the old generation may grow past what survived the last full collection. */
export const HEAP_GROWING_PERCENT = 50;

/** Node/V8 options with which a user sized or paced the heap themselves: then V8 is left as told. */
const USER_HEAP_OPTION = /--(max[-_]old[-_]space[-_]size|heap[-_]growing[-_]percent|max[-_]heap[-_]size)\b/;

/** The V8 flag the daemon sets, or null when the user's own Node options size the heap (pure). */
export function heapGrowthFlag(execArgv: readonly string[], nodeOptions: string | undefined): string | null {
  if (execArgv.some((a) => USER_HEAP_OPTION.test(a)) || USER_HEAP_OPTION.test(nodeOptions ?? '')) return null;
  return `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

/**
 * Sets the growth for this process (V8 reads it at every full collection, so it applies from the
 * next one on); returns the flag set, or null when the user's options said otherwise.
 */
export function boundHeapGrowth(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env['NODE_OPTIONS']): string | null {
  const flag = heapGrowthFlag(execArgv, nodeOptions);
  if (flag !== null) setFlagsFromString(flag);
  return flag;
}
