// Rounds by status of many routes over several windows, in a handful of SQL statements whatever
// the number of routes: what the routes table needs for its uptime columns.
//
// Why not uptime() per route and window: each call runs one statement per tier piece plus one for
// the head, and every row better-sqlite3 hands to JS costs an object (a blob a Buffer). A page of
// 100 routes x 3 windows was ~1,500 statements. Here every distinct piece (windows ending at the
// same instant share their last pieces) is one statement over all the routes, summed in SQL, and
// the head is one GROUP BY. The counts are integer sums of the same rows uptime() reads, so the
// answer is the same (reader.test.ts compares them).

import { decodeSlotCounts, HOUR_MS, MINUTE_MS, TIER_CODE, type Tier } from './rollup.js';
import { tierPieces } from './queries.js';
import { readerFor } from './read.js';
import type { Db } from './sqlite.js';

/** Rounds counted by status. */
export interface StatusCounts {
  /** Rounds counted. */
  rounds: number;
  /** ok rounds. */
  ok: number;
  /** degraded rounds. */
  degraded: number;
  /** failing rounds. */
  failing: number;
  /** unknown rounds. */
  unknown: number;
}

/** A window [from, to) in ms, both on minute boundaries (as uptime() floors them). */
export interface CountWindow {
  /** Start (ms). */
  from: number;
  /** End (ms, exclusive). */
  to: number;
}

/** No rounds. */
export function zeroCounts(): StatusCounts {
  return { rounds: 0, ok: 0, degraded: 0, failing: 0, unknown: 0 };
}

function addInto(into: StatusCounts, c: StatusCounts): void {
  into.rounds += c.rounds;
  into.ok += c.ok;
  into.degraded += c.degraded;
  into.failing += c.failing;
  into.unknown += c.unknown;
}

/** A rollup piece read once for every window that holds it. */
interface Piece {
  tier: Tier;
  a: number;
  b: number;
  windows: number[];
}

/** The distinct tier pieces of the windows (uptime()'s split of each), each with the windows it belongs to. */
export function sharedPieces(windows: readonly CountWindow[]): Piece[] {
  const byKey = new Map<string, Piece>();
  windows.forEach((w, i) => {
    for (const [tier, a, b] of tierPieces(w.from, w.to)) {
      const key = `${tier}:${a}:${b}`;
      let piece = byKey.get(key);
      if (piece === undefined) byKey.set(key, (piece = { tier, a, b, windows: [] }));
      piece.windows.push(i);
    }
  });
  return [...byKey.values()];
}

const COUNT_SUMS = 'sum(rounds) AS rounds, sum(ok) AS ok, sum(degraded) AS degraded, sum(failing) AS failing, sum(unknown) AS unknown';
const IN_RIDS = 'IN (SELECT value FROM json_each(?))';

/** The statements of one connection, prepared once (preparing costs as much as running them here). */
class BatchStatements {
  readonly sumRows;
  readonly minuteSlots;
  readonly headCounts;

  constructor(db: Db) {
    this.sumRows = db.prepare(`SELECT scope, ${COUNT_SUMS} FROM rollups WHERE scope ${IN_RIDS} AND tier = ? AND bucket >= ? AND bucket < ? GROUP BY scope`);
    this.minuteSlots = db.prepare(`SELECT scope, bucket, minutes FROM rollups WHERE scope ${IN_RIDS} AND tier = ? AND bucket >= ? AND bucket < ? AND minutes IS NOT NULL`);
    this.headCounts = db.prepare(`SELECT route_rid AS rid, verdict_id AS vid, count(*) AS n FROM rounds_head WHERE route_rid ${IN_RIDS} AND started_at >= ? AND started_at < ? GROUP BY route_rid, verdict_id`);
  }
}

const statements = new WeakMap<Db, BatchStatements>();

function statementsFor(db: Db): BatchStatements {
  let s = statements.get(db);
  if (s === undefined) statements.set(db, (s = new BatchStatements(db)));
  return s;
}

/**
 * Rounds by status of each route (by rid) in each window: the sums uptime() makes per route and
 * window (rollup pieces of minute, hour and day, plus the head), read in one snapshot.
 */
export function countWindows(db: Db, rids: readonly number[], windows: readonly CountWindow[]): Map<number, StatusCounts[]> {
  const out = new Map<number, StatusCounts[]>(rids.map((rid) => [rid, windows.map(zeroCounts)]));
  if (rids.length === 0 || windows.length === 0) return out;
  const ridsJson = JSON.stringify([...out.keys()]);
  const s = statementsFor(db);
  // One snapshot: a compaction committing between statements would move rounds from the head into rollups.
  db.transaction(() => {
    for (const p of sharedPieces(windows)) {
      if (p.tier === 'minute') addMinutePiece(s, ridsJson, p, out);
      else addSums(s.sumRows.all(ridsJson, TIER_CODE[p.tier], p.a, p.b) as SumRow[], p.windows, out);
    }
    addHead(db, s, ridsJson, windows, out);
  })();
  return out;
}

interface SumRow extends StatusCounts {
  scope: number;
}

function addSums(rows: readonly SumRow[], windows: readonly number[], out: Map<number, StatusCounts[]>): void {
  for (const row of rows) {
    const counts = out.get(row.scope);
    if (counts !== undefined) for (const w of windows) addInto(counts[w]!, row);
  }
}

/** A minute piece [a, b): the slots of compacted hour rows inside it, and minute rows not yet folded into their hour. */
function addMinutePiece(s: BatchStatements, ridsJson: string, p: Piece, out: Map<number, StatusCounts[]>): void {
  const slotsFrom = Math.floor(p.a / HOUR_MS) * HOUR_MS;
  for (const raw of s.minuteSlots.all(ridsJson, TIER_CODE.hour, slotsFrom, p.b)) {
    const row = raw as { scope: number; bucket: number; minutes: Uint8Array };
    const counts = out.get(row.scope);
    if (counts === undefined) continue;
    const sum = zeroCounts();
    decodeSlotCounts(row.minutes, (k, c) => {
      const t = row.bucket + k * MINUTE_MS;
      if (t >= p.a && t < p.b) addInto(sum, c);
    });
    for (const w of p.windows) addInto(counts[w]!, sum);
  }
  addSums(s.sumRows.all(ridsJson, TIER_CODE.minute, p.a, p.b) as SumRow[], p.windows, out);
}

/**
 * Head rounds (not in any rollup yet) of each window, counted by verdict in SQL and mapped to
 * statuses here. The time axis is cut at every window's ends and each part counted once (one
 * statement each): a head row is then read once however many windows hold it (each read is a
 * table lookup from the index, most of this query's time).
 */
function addHead(db: Db, s: BatchStatements, ridsJson: string, windows: readonly CountWindow[], out: Map<number, StatusCounts[]>): void {
  const dict = readerFor(db).dict;
  const cuts = [...new Set(windows.flatMap((w) => [w.from, w.to]))].sort((a, b) => a - b);
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [a, b] = [cuts[i]!, cuts[i + 1]!];
    const holders = windows.flatMap((w, k) => (w.from <= a && b <= w.to ? [k] : []));
    if (holders.length === 0) continue;
    for (const raw of s.headCounts.all(ridsJson, a, b)) {
      const row = raw as { rid: number; vid: number; n: number };
      const counts = out.get(row.rid);
      if (counts === undefined) continue;
      const status = dict.verdict(row.vid).status;
      for (const k of holders) {
        counts[k]!.rounds += row.n;
        counts[k]![status] += row.n;
      }
    }
  }
}
