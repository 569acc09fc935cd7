// Prints ingest rates and stored sizes on a small workload. Figures only: timings
// are never asserted (shared machine); what is asserted is that the work was done.
// The full-scale figures (30 days x 1,000 routes) come from generate.ts.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RouteRound } from '../model.js';
import { compact } from './compact.js';
import { syntheticRound, syntheticWorld } from './generate.js';
import { HOUR_MS } from './rollup.js';
import { openStore, type Db } from './sqlite.js';
import { createWriter } from './write.js';

const ROUTES = 1000;
const BATCHES = 30;
const BATCH = 1000;
const S0 = Math.floor(Date.UTC(2026, 0, 5) / 30_000);
const dir = mkdtempSync(join(tmpdir(), 'hopwatch-perf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function timed(fn: () => void): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

function batches(): RouteRound[][] {
  const world = syntheticWorld(ROUTES, 40, 30_000, 11);
  const out: RouteRound[][] = [];
  for (let b = 0, k = 0; b < BATCHES; b++) {
    const batch: RouteRound[] = [];
    for (let i = 0; i < BATCH; i++, k++) batch.push(syntheticRound(world, k % ROUTES, S0 + Math.floor(k / ROUTES)));
    out.push(batch);
  }
  return out;
}

function plainInserts(db: Db, sql: string, rows: unknown[][]): number {
  const ins = db.prepare(sql);
  const tx = db.transaction((part: unknown[][]) => {
    for (const r of part) ins.run(r);
  });
  return timed(() => {
    for (let i = 0; i < rows.length; i += BATCH) tx(rows.slice(i, i + BATCH));
  });
}

describe('store performance figures', () => {
  it('ingests through the real path, compared with plain batched inserts', () => {
    const work = batches();
    const hops = work.flat().reduce((n, r) => n + r.hops.length, 0);
    const timedHops = hops - work[0]!.reduce((n, r) => n + r.hops.length, 0);
    const timedRounds = (BATCHES - 1) * BATCH;
    const db = openStore(join(dir, 'real.db'));
    const writer = createWriter(db);
    // The first batch registers the 1,000 routes and interns their shapes, as a daemon does once at start: not timed.
    let stored = writer.writeRounds(work[0]!).rounds;
    const real = timed(() => {
      for (const b of work.slice(1)) stored += writer.writeRounds(b).rounds;
    });
    expect(stored).toBe(BATCHES * BATCH);
    const headRows = db.prepare('SELECT route_rid, started_at, duration, verdict_id, hops FROM rounds_head ORDER BY id').raw().all() as unknown[][];

    const same = openStore(join(dir, 'same.db'));
    const sql = 'INSERT INTO rounds_head (route_rid, started_at, duration, verdict_id, hops) VALUES (?, ?, ?, ?, ?)';
    plainInserts(same, sql, headRows.slice(0, BATCH));
    const sameRows = plainInserts(same, sql, headRows.slice(BATCH));
    const flat = openStore(join(dir, 'flat.db'));
    flat.exec('CREATE TABLE hop_rows (route INTEGER, started_at INTEGER, hop INTEGER, status INTEGER, connect REAL, ttfb REAL, total REAL, bytes INTEGER)');
    const hopRows = work.flat().flatMap((r, k) => r.hops.map((h, i) => [k % ROUTES, r.startedAt, i, h.status, h.timings.connectMs ?? null, h.timings.ttfbMs ?? null, h.timings.totalMs, h.bytes]));
    const flatRows = plainInserts(flat, 'INSERT INTO hop_rows VALUES (?, ?, ?, ?, ?, ?, ?, ?)', hopRows.slice(hops / BATCHES));

    let moved = 0;
    const compaction = timed(() => {
      for (let r = compact(db, S0 * 30_000 + 3 * HOUR_MS); ; r = compact(db, S0 * 30_000 + 3 * HOUR_MS)) {
        moved += r.rounds;
        if (!r.more) break;
      }
    });
    expect(moved).toBe(BATCHES * BATCH);
    const chunkBytes = db.prepare('SELECT sum(length(data)) FROM round_chunks').pluck().get() as number;
    const chunkPages = db.prepare("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'round_chunks%'").pluck().get() as number;
    const rate = (n: number, s: number): string => `${Math.round(n / s / 1000)}k/s`;
    console.log(
      [
        `ingest, ${BATCHES} batches of ${BATCH} rounds (${hops} hop results), one round per route per batch:`,
        `  real path (encode + head insert + all-routes rollups): ${rate(timedHops, real)} hop results, ${rate(timedRounds, real)} rounds`,
        `  plain inserts of the same head rows:                   ${rate(timedHops, sameRows)} hop results (real/plain ${(sameRows / real).toFixed(2)})`,
        `  plain inserts of one row per hop result (no index):    ${rate(timedHops, flatRows)} rows (real/plain ${(flatRows / real).toFixed(2)})`,
        `  compaction into chunks + route rollups:                ${rate(moved, compaction)} rounds`,
        `  chunk payload: ${(chunkBytes / moved).toFixed(1)} B/round, ${(chunkBytes / hops).toFixed(2)} B/hop; with pages: ${(chunkPages / moved).toFixed(1)} B/round`,
      ].join('\n'),
    );
    for (const d of [db, same, flat]) d.close();
  });
});
