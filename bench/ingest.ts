// 3. Ingest: hop results per second through the store's real insert path (createWriter().writeRounds:
// hops encoded, verdicts and shapes interned, one head row per round, all-routes minute/hour/day
// rollups merged in the same transaction) against plain batched inserts of the very same rows into
// the same table, and against the naive design (one row per hop result, no index). Each run uses
// fresh files (better-sqlite3, WAL, synchronous=NORMAL, batches of 1,000 rounds); the first batch,
// which registers every route as a daemon does once at start, is not timed. Then compaction
// (per-route chunks and rollups, as maintenance does each hour) and the bytes each result takes.

import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RouteRound } from '../src/model.js';
import { compact } from '../src/store/compact.js';
import { syntheticRound, syntheticWorld } from '../src/store/generate.js';
import { HOUR_MS } from '../src/store/rollup.js';
import { openStore, type Db } from '../src/store/sqlite.js';
import { createWriter } from '../src/store/write.js';
import { type BenchContext, type Benchmark, type Figure, figure, median, paired } from './harness.js';

const ROUTES = 1000;
const BATCH = 1000;
const INTERVAL_MS = 30_000;
/** Batches per run (the first is not timed) and runs. */
const SCALE = { full: { batches: 31, runs: 5 }, quick: { batches: 11, runs: 3 }, tiny: { batches: 3, runs: 1 } };
const HEAD_SQL = 'INSERT INTO rounds_head (route_rid, started_at, duration, verdict_id, hops) VALUES (?, ?, ?, ?, ?)';
const FLAT_SQL = 'INSERT INTO hop_rows VALUES (?, ?, ?, ?, ?, ?, ?, ?)';

/** Batches of rounds: one round per route per batch, consecutive slots, as a daemon's queue delivers them. */
function workload(batches: number, slot0: number): RouteRound[][] {
  const world = syntheticWorld(ROUTES, 40, INTERVAL_MS, 11);
  const out: RouteRound[][] = [];
  for (let b = 0, k = 0; b < batches; b++) {
    const batch: RouteRound[] = [];
    for (let i = 0; i < BATCH; i++, k++) batch.push(syntheticRound(world, k % ROUTES, slot0 + Math.floor(k / ROUTES)));
    out.push(batch);
  }
  return out;
}

function timed(fn: () => void): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

/** Plain batched inserts of rows, BATCH per transaction; seconds taken for all but the first batch. */
function plainInserts(db: Db, sql: string, rows: unknown[][], perBatch: number): number {
  const ins = db.prepare(sql);
  const tx = db.transaction((part: unknown[][]) => {
    for (const r of part) ins.run(r);
  });
  tx(rows.slice(0, perBatch));
  return timed(() => {
    for (let i = perBatch; i < rows.length; i += perBatch) tx(rows.slice(i, i + perBatch));
  });
}

/** Bytes of a table and its indexes in the file (pages, not payload). */
function tableBytes(db: Db, like: string): number {
  return (db.prepare('SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE ?').pluck().get(like) as number) ?? 0;
}

interface RunFigures {
  real: number;
  plain: number;
  flat: number;
  compaction: number;
  headBytesPerHop: number;
  chunkBytesPerHop: number;
  flatBytesPerHop: number;
}

/** One run in fresh files: the real path, the same rows plainly, the naive flat table, then compaction. */
function oneRun(dir: string, work: RouteRound[][], slot0: number): RunFigures {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const hopsPerBatch = work[1]!.reduce((n, r) => n + r.hops.length, 0);
  const timedHops = hopsPerBatch * (work.length - 1);
  const db = openStore(join(dir, 'real.db'));
  const same = openStore(join(dir, 'same.db'));
  const flat = openStore(join(dir, 'flat.db'));
  try {
    const writer = createWriter(db);
    writer.writeRounds(work[0]!);
    const real = timed(() => {
      for (const b of work.slice(1)) writer.writeRounds(b);
    });
    const headRows = db.prepare('SELECT route_rid, started_at, duration, verdict_id, hops FROM rounds_head ORDER BY id').raw().all() as unknown[][];
    const headBytes = tableBytes(db, 'rounds_head%');
    const plain = plainInserts(same, HEAD_SQL, headRows, BATCH);
    flat.exec('CREATE TABLE hop_rows (route INTEGER, started_at INTEGER, hop INTEGER, status INTEGER, connect REAL, ttfb REAL, total REAL, bytes INTEGER)');
    const hopRows = work.flat().flatMap((r, k) => r.hops.map((h, i) => [k % ROUTES, r.startedAt, i, h.status, h.timings.connectMs ?? null, h.timings.ttfbMs ?? null, h.timings.totalMs, h.bytes]));
    const flatSecs = plainInserts(flat, FLAT_SQL, hopRows, hopsPerBatch);
    const allHops = hopsPerBatch * work.length;
    const flatBytes = tableBytes(flat, 'hop_rows%');
    let moved = 0;
    const end = slot0 * INTERVAL_MS + 3 * HOUR_MS + Math.ceil(work.length / 120) * HOUR_MS;
    const compaction = timed(() => {
      for (let r = compact(db, end); ; r = compact(db, end)) {
        moved += r.rounds;
        if (!r.more) break;
      }
    });
    const chunkBytes = tableBytes(db, 'round_chunks%');
    return {
      real: timedHops / real, plain: timedHops / plain, flat: timedHops / flatSecs, compaction: moved / compaction,
      headBytesPerHop: headBytes / allHops, chunkBytesPerHop: chunkBytes / allHops, flatBytesPerHop: flatBytes / allHops,
    };
  } finally {
    for (const d of [db, same, flat]) d.close();
  }
}

async function measure(ctx: BenchContext): Promise<Figure[]> {
  const scale = SCALE[ctx.mode];
  const slot0 = Math.floor(Date.UTC(2026, 0, 5) / INTERVAL_MS);
  const work = workload(scale.batches, slot0);
  const runs: RunFigures[] = [];
  for (let r = 0; r < scale.runs; r++) {
    runs.push(oneRun(join(ctx.tmpDir, 'ingest'), work, slot0));
    const x = runs.at(-1)!;
    ctx.log(`run ${r + 1}/${scale.runs}: real ${Math.round(x.real / 1000)}k, plain ${Math.round(x.plain / 1000)}k, flat ${Math.round(x.flat / 1000)}k hop results/s`);
    // Let the event loop breathe between runs (nothing else runs, but logs flush).
    await new Promise((resolve) => setImmediate(resolve));
  }
  rmSync(join(ctx.tmpDir, 'ingest'), { recursive: true, force: true });
  const col = (k: keyof RunFigures): number[] => runs.map((x) => x[k]);
  const vsPlain = paired(col('real'), col('plain'));
  const vsFlat = paired(col('real'), col('flat'));
  const base = { bench: 'ingest', runs: scale.runs };
  const hops = work[1]!.reduce((n, r) => n + r.hops.length, 0) / BATCH;
  const note = `${ROUTES} routes, ${scale.batches - 1} timed batches of ${BATCH} rounds (${hops} hop results each)`;
  return [
    figure({ ...base, name: 'real insert path, rollups on', value: vsFlat.value, unit: 'results/s', baseline: { name: 'plain batched inserts, one row per result, no index', value: vsFlat.baseline }, ratio: vsFlat.ratio, aim: { of: 'ratio', min: 0.9 }, note }),
    figure({ ...base, name: 'real insert path vs its own rows inserted plainly', value: vsPlain.value, unit: 'results/s', baseline: { name: 'plain inserts of the same packed rows, same table', value: vsPlain.baseline }, ratio: vsPlain.ratio, note: 'what encoding, interning and rollups cost on top of the SQLite inserts themselves' }),
    figure({ ...base, name: 'compaction into per-route chunks + rollups', value: median(col('compaction')), unit: 'rounds/s', baseline: { name: 'rounds ingested per s', value: vsPlain.value / hops } }),
    figure({ ...base, name: 'bytes per stored result (chunks, with pages)', value: median(col('chunkBytesPerHop')), unit: 'B', baseline: { name: 'one row per result, no index', value: median(col('flatBytesPerHop')) }, aim: { of: 'value', max: 32 } }),
    figure({ ...base, name: 'bytes per result in the head (before compaction)', value: median(col('headBytesPerHop')), unit: 'B', baseline: { name: 'one row per result, no index', value: median(col('flatBytesPerHop')) } }),
  ];
}

/** The benchmark. */
export const ingestBench: Benchmark = { id: 'ingest', title: '3. Ingest', run: measure };
