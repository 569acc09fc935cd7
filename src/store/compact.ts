// Compaction: moves the rounds of closed hours out of the head block into one
// compressed chunk per route and hour, and materialises that route's hour
// (with its minute slots) and day rollups, in the same transaction as the
// delete, so a round is always counted exactly once: either in the head or in
// a chunk and the route's rollups. It also folds the all-routes minute rows of
// closed hours into their hour row's minute slots.
//
// Like a TSDB head block: the newest rows stay uncompressed (a crash loses no
// committed round: every step is one SQLite transaction), older ones are packed.

import type { HopShape, PackedRound } from './codec.js';
import { encodeChunk, readHeadHops } from './codec.js';
import { Dictionaries } from './dict.js';
import {
  ALL_SCOPE, DAY_MS, HOUR_MS, MINUTE_MS, ROW_COLUMNS, RollupRows, TIER_CODE, addRound, emptyAgg, floorTo, mergeAgg, rowFromSql,
  type Agg,
} from './rollup.js';
import type { Db } from './sqlite.js';

/** Compaction settings. */
export interface CompactOptions {
  /** Rounds stay in the head until their hour ended at least this long ago (late rounds still land in the head). */
  graceMs?: number;
  /** Most rounds moved per call (the call then returns more = true). */
  maxRounds?: number;
  /** Most rounds per transaction, so the write lock is held briefly. */
  roundsPerTransaction?: number;
}

/** What one compact call did. */
export interface CompactResult {
  /** Chunks written. */
  chunks: number;
  /** Rounds moved from the head into chunks. */
  rounds: number;
  /** All-routes minute rows folded into their hour rows. */
  minuteRows: number;
  /** True when work remains: call again. */
  more: boolean;
}

/** The newest instant whose rounds compaction may move at time now. */
export function compactionCutoff(now: number, graceMs: number): number {
  return floorTo(now - graceMs, HOUR_MS);
}

/** Moves rounds older than the cutoff out of the head; bounded by maxRounds per call. */
export function compact(db: Db, now: number, options: CompactOptions = {}): CompactResult {
  const cutoff = compactionCutoff(now, options.graceMs ?? 5 * MINUTE_MS);
  const maxRounds = options.maxRounds ?? 50_000;
  const perTx = options.roundsPerTransaction ?? 5_000;
  const c = new Compactor(db);
  const pending = c.pendingRoutes(cutoff);
  const result: CompactResult = { chunks: 0, rounds: 0, minuteRows: 0, more: false };
  let i = 0;
  while (i < pending.length && result.rounds < maxRounds) {
    db.transaction(() => {
      let inTx = 0;
      while (i < pending.length && inTx < perTx && result.rounds + inTx < maxRounds) {
        const moved = c.compactRoute(pending[i]!, cutoff);
        inTx += moved.rounds;
        result.chunks += moved.chunks;
        i++;
      }
      result.rounds += inTx;
    })();
  }
  if (i < pending.length) {
    result.more = true;
    return result;
  }
  result.minuteRows = db.transaction(() => c.foldAllMinutes(cutoff))();
  return result;
}

/** The statements and dictionaries one compact call uses. */
class Compactor {
  private readonly dict: Dictionaries;
  private readonly rows: RollupRows;
  private readonly routeIds;
  private readonly oldestOf;
  private readonly headOf;
  private readonly insChunk;
  private readonly delHead;
  private readonly allMinutes;
  private readonly delAllMinutes;

  constructor(db: Db) {
    this.dict = new Dictionaries(db);
    this.rows = new RollupRows(db);
    this.routeIds = db.prepare('SELECT rid FROM routes ORDER BY rid').pluck();
    this.oldestOf = db.prepare('SELECT min(started_at) FROM rounds_head WHERE route_rid = ?').pluck();
    this.headOf = db.prepare(
      'SELECT started_at, duration, verdict_id, hops FROM rounds_head WHERE route_rid = ? AND started_at < ? ORDER BY started_at',
    );
    this.insChunk = db.prepare('INSERT INTO round_chunks (route_rid, first_at, last_at, rounds, data) VALUES (?, ?, ?, ?, ?)');
    this.delHead = db.prepare('DELETE FROM rounds_head WHERE route_rid = ? AND started_at < ?');
    this.allMinutes = db.prepare(`SELECT ${ROW_COLUMNS} FROM rollups WHERE scope = ? AND tier = ? AND bucket < ? ORDER BY bucket`);
    this.delAllMinutes = db.prepare('DELETE FROM rollups WHERE scope = ? AND tier = ? AND bucket < ?');
  }

  /** Routes with head rounds older than the cutoff (one index probe per route). */
  pendingRoutes(cutoff: number): number[] {
    const out: number[] = [];
    for (const rid of this.routeIds.all() as number[]) {
      const oldest = this.oldestOf.get(rid) as number | null;
      if (oldest !== null && oldest < cutoff) out.push(rid);
    }
    return out;
  }

  /** Moves one route's head rounds older than the cutoff into hourly chunks and its rollups. */
  compactRoute(rid: number, cutoff: number): { rounds: number; chunks: number } {
    const rounds = (this.headOf.all(rid, cutoff) as HeadRow[]).map((r) => this.unpack(r));
    const days = new Map<number, Agg>();
    let chunks = 0;
    for (let start = 0; start < rounds.length; ) {
      const hour = floorTo(rounds[start]!.startedAt, HOUR_MS);
      let end = start;
      while (end < rounds.length && rounds[end]!.startedAt < hour + HOUR_MS) end++;
      const group = rounds.slice(start, end);
      this.insChunk.run(rid, group[0]!.startedAt, group[group.length - 1]!.startedAt, group.length, encodeChunk(group));
      const { total, slots } = this.aggregate(group, hour);
      this.rows.merge(rid, 'hour', hour, total);
      this.rows.mergeMinutes(rid, hour, slots);
      const day = floorTo(hour, DAY_MS);
      const dayAgg = days.get(day);
      if (dayAgg === undefined) days.set(day, total);
      else mergeAgg(dayAgg, total);
      chunks++;
      start = end;
    }
    for (const [day, agg] of days) this.rows.merge(rid, 'day', day, agg);
    this.delHead.run(rid, cutoff);
    return { rounds: rounds.length, chunks };
  }

  private unpack(r: HeadRow): PackedRound {
    return { startedAt: r.started_at, duration: r.duration, verdict: r.verdict_id, hops: readHeadHops(r.hops, this.dict.maskOf) };
  }

  /** The hour's aggregate and its minute slots (minute index within the hour -> aggregate). */
  private aggregate(group: readonly PackedRound[], hour: number): { total: Agg; slots: Map<number, Agg> } {
    const slots = new Map<number, Agg>();
    for (const r of group) {
      const k = (floorTo(r.startedAt, MINUTE_MS) - hour) / MINUTE_MS;
      let agg = slots.get(k);
      if (agg === undefined) slots.set(k, (agg = emptyAgg()));
      const v = this.dict.verdict(r.verdict);
      addRound(agg, v.status, v.hop, v.cause, packedEdgeLatency(r, (id) => this.dict.shape(id)));
    }
    const total = emptyAgg();
    for (const agg of slots.values()) mergeAgg(total, agg);
    return { total, slots };
  }

  /** Folds all-routes minute rows of closed hours into their hour rows' slots, then deletes them. */
  foldAllMinutes(cutoff: number): number {
    const byHour = new Map<number, Map<number, Agg>>();
    let n = 0;
    for (const raw of this.allMinutes.iterate(ALL_SCOPE, TIER_CODE.minute, cutoff)) {
      const row = rowFromSql(raw);
      const hour = floorTo(row.bucket, HOUR_MS);
      let slots = byHour.get(hour);
      if (slots === undefined) byHour.set(hour, (slots = new Map()));
      slots.set((row.bucket - hour) / MINUTE_MS, row.agg);
      n++;
    }
    for (const [hour, slots] of byHour) this.rows.mergeMinutes(ALL_SCOPE, hour, slots);
    this.delAllMinutes.run(ALL_SCOPE, TIER_CODE.minute, cutoff);
    return n;
  }
}

interface HeadRow {
  started_at: number;
  duration: number;
  verdict_id: number;
  hops: Buffer;
}

/** The edge latency of a packed round, in units (-1 when none); the same rule as the writer's. */
export function packedEdgeLatency(r: PackedRound, shapeOf: (id: number) => HopShape): number {
  for (const h of r.hops) {
    const s = shapeOf(h.shape);
    if (s.hop === 'edge') return s.error === 'unreachable' ? -1 : h.total;
  }
  return -1;
}
