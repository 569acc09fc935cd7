// The generated history store the query and size benchmarks read: N routes probed every 30 s for
// D days under the default retention (src/store/generate.ts: the last rawDays through the real write
// path and compaction, older days straight into the rollups). The full store (30 days x 1,000
// routes, ~0.6 GB, ~8 minutes to generate on this machine) is kept in bench/data/ (gitignored) with
// a JSON sidecar and reused by later runs; quick and tiny runs generate a scaled-down store in the
// run's scratch directory in seconds.

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { StoreConfig } from '../src/config/types.js';
import { generateStore } from '../src/store/generate.js';
import { DEFAULT_RETENTION } from '../src/store/retention.js';
import { MINUTE_MS } from '../src/store/rollup.js';
import { openStore } from '../src/store/sqlite.js';
import type { BenchContext, BenchMode } from './harness.js';

/** What a generated store holds. */
export interface StoreFixture {
  /** The SQLite file. */
  path: string;
  /** Routes. */
  routes: number;
  /** Days of history. */
  days: number;
  /** Probe interval. */
  intervalMs: number;
  /** The end of the history (ms since epoch): "now" for queries. */
  now: number;
  /** The retention it was generated under. */
  retention: StoreConfig['retention'];
  /** Seconds the generation took when it ran in this run; null when an earlier run's store was reused. */
  generatedSec: number | null;
  /** True when smaller than the issue's 30 days x 1,000 routes. */
  scaled: boolean;
}

/** Sidecar format version: bump when the generator's output changes, so stale stores are rebuilt. */
const FIXTURE_VERSION = 1;

const SCALE: Record<BenchMode, { routes: number; days: number; retention: StoreConfig['retention'] }> = {
  full: { routes: 1000, days: 30, retention: { ...DEFAULT_RETENTION } },
  // Scaled down: one raw day of two, so both the real write path and the bulk rollups are exercised.
  quick: { routes: 120, days: 2, retention: { ...DEFAULT_RETENTION, rawDays: 1 } },
  tiny: { routes: 20, days: 2, retention: { ...DEFAULT_RETENTION, rawDays: 1 } },
};
/** The dashboard's store outside full runs: its 1,000 routes (what the page shows) with an hour of history. */
const ROUTES_SCALE: Record<BenchMode, { routes: number; days: number; retention: StoreConfig['retention'] }> = {
  full: SCALE.full,
  quick: { routes: 1000, days: 1 / 24, retention: { ...DEFAULT_RETENTION, rawDays: 1 } },
  tiny: { routes: 100, days: 1 / 24, retention: { ...DEFAULT_RETENTION, rawDays: 1 } },
};
const INTERVAL_MS = 30_000;

/**
 * The store for this mode: reused from bench/data/ (full) when its sidecar matches, else generated.
 * `routes`: the dashboard's variant (all its routes, short history) outside full runs.
 */
export function storeFixture(ctx: BenchContext, kind: 'history' | 'routes' = 'history'): StoreFixture {
  const scale = (kind === 'routes' ? ROUTES_SCALE : SCALE)[ctx.mode];
  const full = ctx.mode === 'full';
  const dir = full ? join(ctx.root, 'bench', 'data') : join(ctx.tmpDir, 'store');
  mkdirSync(dir, { recursive: true });
  const name = `store-${Math.round(scale.days * 24) % 24 === 0 ? `${scale.days}d` : `${Math.round(scale.days * 24)}h`}-${scale.routes}r-${INTERVAL_MS / 1000}s`;
  const path = join(dir, `${name}.db`);
  const sidecar = join(dir, `${name}.json`);
  // Full: an earlier run's store; quick and tiny: the one another benchmark of this run generated.
  const reused = readSidecar(sidecar, path, !full);
  if (reused !== null) {
    // Opened read-write once: a migration added since it was generated is applied (readers refuse an outdated schema).
    openStore(path).close();
    ctx.log(`reusing ${path} (generated ${new Date(reused.now).toISOString()})`);
    return { ...reused, path, generatedSec: null, scaled: !full };
  }
  const now = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  ctx.log(`generating ${scale.days} days x ${scale.routes} routes at ${INTERVAL_MS / 1000} s into ${path}${full ? ' (once; about 8 minutes here)' : ''}`);
  const partial = `${path}.partial`;
  for (const f of [partial, `${partial}-wal`, `${partial}-shm`]) rmSync(f, { force: true });
  const t0 = performance.now();
  const db = openStore(partial);
  let lastLog = 0;
  generateStore(db, {
    routes: scale.routes, days: scale.days, intervalMs: INTERVAL_MS, now, retention: scale.retention,
    onProgress: (phase, done) => {
      if (performance.now() - lastLog < 30_000) return;
      lastLog = performance.now();
      ctx.log(`  ${phase} ${(done * 100).toFixed(0)} %`);
    },
  });
  // Everything into the main file: the size figure is the file, and readers open it read-only.
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  rmSync(path, { force: true });
  renameSync(partial, path);
  const fixture: StoreFixture = { path, routes: scale.routes, days: scale.days, intervalMs: INTERVAL_MS, now, retention: scale.retention, generatedSec: (performance.now() - t0) / 1000, scaled: !full };
  ctx.log(`generated in ${fixture.generatedSec!.toFixed(1)} s`);
  writeFileSync(sidecar, `${JSON.stringify({ version: FIXTURE_VERSION, ...fixture }, null, 2)}\n`);
  return fixture;
}

/** The sidecar of a store generated earlier, when it matches this version and its file is there. */
function readSidecar(sidecar: string, path: string, scaled: boolean): Omit<StoreFixture, 'path' | 'generatedSec'> | null {
  if (!existsSync(sidecar) || !existsSync(path) || statSync(path).size === 0) return null;
  try {
    const data = JSON.parse(readFileSync(sidecar, 'utf8')) as Partial<StoreFixture> & { version?: number };
    if (data.version !== FIXTURE_VERSION || typeof data.now !== 'number' || typeof data.routes !== 'number' || typeof data.days !== 'number' || data.retention === undefined) return null;
    return { routes: data.routes, days: data.days, intervalMs: data.intervalMs ?? INTERVAL_MS, now: data.now, retention: data.retention, scaled };
  } catch {
    // A damaged sidecar: generate again.
    return null;
  }
}
