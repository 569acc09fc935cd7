// Load helpers shared by the benchmarks: run a request function N times at a concurrency while
// measuring this process's CPU time and the wall time; run it one at a time for latencies; sample
// the event loop's delay and the process's memory.

import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** What one loaded run cost. */
export interface LoadResult {
  /** Requests completed. */
  requests: number;
  /** Wall time (ms). */
  wallMs: number;
  /** CPU time of this process, user + system (µs). */
  cpuMicros: number;
}

/** Runs `one` n times with `concurrency` in flight; every call must resolve (a rejection is a bug and aborts). */
export async function loaded(one: () => Promise<unknown>, n: number, concurrency: number): Promise<LoadResult> {
  let started = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    while (started < n) {
      started++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
  const cpu = process.cpuUsage(cpu0);
  return { requests: n, wallMs: performance.now() - t0, cpuMicros: cpu.user + cpu.system };
}

/** Runs `one` n times one after the other; returns each call's latency (ms). */
export async function sequential(one: () => Promise<unknown>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await one();
    out.push(performance.now() - t);
  }
  return out;
}

/** A running event-loop delay monitor. */
export interface LoopDelay {
  /** Stops and returns the delay quantiles in ms. */
  stop(): { p50: number; p99: number; max: number };
}

/** Starts sampling the event loop's delay (resolution ms). */
export function watchLoopDelay(resolutionMs = 5): LoopDelay {
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  return {
    stop: () => {
      h.disable();
      // The histogram is in ns and includes the sampling period itself.
      const toMs = (ns: number): number => Math.max(0, ns / 1e6 - resolutionMs);
      return { p50: toMs(h.percentile(50)), p99: toMs(h.percentile(99)), max: toMs(h.max) };
    },
  };
}

/** A full garbage collection when the process runs with --expose-gc (bench/run.js starts it so); else nothing. */
export async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return;
  gc();
  // Finalizers and weak callbacks run after a tick; a second pass frees what they released.
  await sleep(10);
  gc();
}

/** Heap used after a full collection, in bytes. */
export async function heapUsedAfterGc(): Promise<number> {
  await collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** Memory at the moment RSS peaked, in bytes. */
export interface MemoryPeak {
  /** Resident set size. */
  rss: number;
  /** V8 heap reserved (used and free). */
  heapTotal: number;
  /** Memory outside the V8 heap that V8 tracks (Buffers, SQLite's and undici's native memory is not all of it). */
  external: number;
}

/** Samples memory every intervalMs until stopped; returns what it was when RSS peaked. */
export function watchRss(intervalMs = 250): { stop(): MemoryPeak } {
  let peak: MemoryPeak = { rss: 0, heapTotal: 0, external: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    if (m.rss > peak.rss) peak = { rss: m.rss, heapTotal: m.heapTotal, external: m.external };
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/** Bytes to MB (10^6, as the aims are written). */
export function mb(bytes: number): number {
  return bytes / 1e6;
}
