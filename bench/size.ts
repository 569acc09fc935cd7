// 7. Database size after a simulated 30 days x 1,000 routes under the default retention (the
// generated store of store-fixture.ts: raw rounds of the last 7 days in per-route chunks, minute
// rollups for 30 days, hour and day rollups, incidents). Baseline, measured in this run: the
// naive design, one row per hop result with no index and no rollups, keeping only the raw days;
// its bytes per row are measured on a table of synthetic results and multiplied out.
// Quick and tiny runs read a scaled-down store and extrapolate: its raw rounds (chunks and head,
// with their indexes) per route-day times 7 raw days x 1,000 routes, plus everything else
// (rollups, incidents, dictionaries) per route-day times 30 days x 1,000 routes.

import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticRound, syntheticWorld } from '../src/store/generate.js';
import { DAY_MS } from '../src/store/rollup.js';
import { DEFAULT_RETENTION } from '../src/store/retention.js';
import { openStore } from '../src/store/sqlite.js';
import { type BenchContext, type Benchmark, type Figure, figure } from './harness.js';
import { mb } from './load.js';
import { storeFixture } from './store-fixture.js';

const FULL = { routes: 1000, days: 30 };

/** Bytes per row of the naive table (pages in the file), over `rounds` synthetic rounds. */
function naiveBytesPerRow(dir: string, rounds: number): { bytesPerRow: number; hopsPerRound: number } {
  mkdirSync(dir, { recursive: true });
  const db = openStore(join(dir, 'naive.db'));
  try {
    db.exec('CREATE TABLE hop_rows (route INTEGER, started_at INTEGER, hop INTEGER, status INTEGER, connect REAL, ttfb REAL, total REAL, bytes INTEGER)');
    const ins = db.prepare('INSERT INTO hop_rows VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const world = syntheticWorld(1000, 40, 30_000, 3);
    const slot0 = Math.floor(Date.UTC(2026, 0, 5) / 30_000);
    let rows = 0;
    db.transaction(() => {
      for (let k = 0; k < rounds; k++) {
        const r = syntheticRound(world, k % 1000, slot0 + Math.floor(k / 1000));
        r.hops.forEach((h, i) => ins.run(k % 1000, r.startedAt, i, h.status, h.timings.connectMs ?? null, h.timings.ttfbMs ?? null, h.timings.totalMs, h.bytes));
        rows += r.hops.length;
      }
    })();
    const bytes = db.prepare("SELECT sum(pgsize) FROM dbstat WHERE name = 'hop_rows'").pluck().get() as number;
    return { bytesPerRow: bytes / rows, hopsPerRound: rows / rounds };
  } finally {
    db.close();
  }
}

async function measure(ctx: BenchContext): Promise<Figure[]> {
  const f = storeFixture(ctx);
  const db = openStore(f.path, { readonly: true });
  let tables: { name: string; bytes: number }[];
  try {
    tables = db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all() as { name: string; bytes: number }[];
  } finally {
    db.close();
  }
  const fileBytes = statSync(f.path).size;
  const rawDays = f.retention.rawDays ?? f.days;
  const rawBytes = tables.filter((t) => /^(round_chunks|rounds_head)/.test(t.name)).reduce((n, t) => n + t.bytes, 0);
  const fullRawDays = DEFAULT_RETENTION.rawDays ?? FULL.days;
  const value = f.scaled
    ? (rawBytes / (f.routes * Math.min(rawDays, f.days))) * FULL.routes * fullRawDays + ((fileBytes - rawBytes) / (f.routes * f.days)) * FULL.routes * FULL.days
    : fileBytes;
  const factor = (FULL.routes * FULL.days) / (f.routes * f.days);
  const naive = naiveBytesPerRow(join(ctx.tmpDir, 'size'), ctx.mode === 'tiny' ? 5000 : 50_000);
  const naiveBytes = naive.bytesPerRow * naive.hopsPerRound * (DAY_MS / f.intervalMs) * (f.scaled ? fullRawDays : Math.min(rawDays, f.days)) * FULL.routes;
  const biggest = tables.slice(0, 4).map((t) => `${t.name} ${mb(t.bytes).toFixed(0)} MB`).join(', ');
  const note = f.scaled
    ? `extrapolated from a ${f.days} d x ${f.routes}-route store of ${mb(fileBytes).toFixed(1)} MB (raw ${rawDays} d): raw part per route-day x ${fullRawDays} d, the rest per route-day x ${FULL.days} d (x${factor.toFixed(0)})`
    : `${f.days} d x ${f.routes} routes at ${f.intervalMs / 1000} s, default retention; largest: ${biggest}`;
  return [
    figure({
      bench: 'size', name: `database size, ${FULL.days} d x ${FULL.routes} routes${f.scaled ? ' (extrapolated)' : ''}`, value: mb(value), unit: 'MB',
      baseline: { name: `one row per hop result, ${f.scaled ? fullRawDays : rawDays} raw days only, no rollups (${naive.bytesPerRow.toFixed(1)} B/row measured)`, value: mb(naiveBytes) }, aim: { of: 'value', max: 1000 }, runs: 1, note,
    }),
  ];
}

/** The benchmark. */
export const sizeBench: Benchmark = { id: 'size', title: '7. Database size', run: measure };
