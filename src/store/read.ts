// Low-level readers shared by the queries: a route's raw rounds (head rows and
// chunks) and its rollup rows, visited in storage order.

import type { HopResult, VerdictHop, VerdictStatus } from '../model.js';
import { decodeChunk, readHeadHops, unpackHop, type PackedRound } from './codec.js';
import { packedEdgeLatency } from './compact.js';
import { Dictionaries } from './dict.js';
import { HOUR_MS, MINUTE_MS, TIER_CODE, decodeDetail, decodeSlots, type Agg, type Tier } from './rollup.js';
import type { Db } from './sqlite.js';

/** A chunk row as selected by the readers. */
export interface ChunkRow {
  /** Chunk id. */
  id: number;
  /** First round's startedAt. */
  first_at: number;
  /** Last round's startedAt. */
  last_at: number;
  /** The packed rounds. */
  data: Buffer;
}

interface HeadRow {
  started_at: number;
  duration: number;
  verdict_id: number;
  hops: Buffer;
}

/** Visits a round's verdict and latency without building its hop results. */
export type RoundVisitor = (startedAt: number, status: VerdictStatus, hop: VerdictHop | null, cause: string, latencyUnits: number) => void;

/** Visits one rollup aggregate starting at t; the aggregate is the visitor's to keep (decoded for this visit, never shared). */
export type AggVisitor = (t: number, agg: Agg) => void;

// The visits read many small rows (a route's head rounds, its hour rows over a month) as one string:
// better-sqlite3 builds an object per row and a Buffer per blob, which cost more than the rest of a
// route's timeline (~5 us a row on this machine; one group_concat string with the blobs in hex is
// 2-3x faster for a route's hour of head rounds). Fields are ':'-separated, rows ','-separated; the
// visits do not depend on row order.
const PACKED_HEAD = "group_concat(started_at || ':' || verdict_id || ':' || hex(hops), ',')";
const PACKED_ROWS = "group_concat(bucket || ':' || rounds || ':' || ok || ':' || degraded || ':' || failing || ':' || unknown || ':' || hex(detail), ',')";
const PACKED_MINUTES = "group_concat(bucket || ':' || hex(minutes), ',')";

/** The fields of each row of a packed answer (none for NULL: no rows). */
function unpackRows(text: unknown): string[][] {
  return typeof text === 'string' && text !== '' ? text.split(',').map((row) => row.split(':')) : [];
}

/** A blob written by hex(). */
function hexBytes(hex: string): Buffer {
  return Buffer.from(hex, 'hex');
}

/**
 * One Reader per connection, kept: its dictionaries only ever grow (ids never change meaning), so
 * shapes and verdicts parsed for one query serve every later one, and statements are prepared once.
 */
const readers = new WeakMap<Db, Reader>();

/** The connection's shared Reader. */
export function readerFor(db: Db): Reader {
  let reader = readers.get(db);
  if (reader === undefined) {
    reader = new Reader(db);
    readers.set(db, reader);
  }
  return reader;
}

/** Prepared statements and dictionaries for reading one database. */
export class Reader {
  /** Shape and verdict dictionaries. */
  readonly dict: Dictionaries;
  private readonly headIn;
  private readonly headNewest;
  private readonly headNewestMeta;
  private readonly ridById;
  private readonly chunkNewest;
  private readonly chunksIn;
  private readonly chunksDesc;
  private readonly headPacked;
  private readonly rowsPacked;
  private readonly minutesPacked;

  constructor(db: Db) {
    this.dict = new Dictionaries(db);
    this.headIn = db.prepare(
      'SELECT started_at, duration, verdict_id, hops FROM rounds_head WHERE route_rid = ? AND started_at >= ? AND started_at < ? ORDER BY started_at DESC LIMIT ?',
    );
    this.headNewest = db.prepare('SELECT started_at, duration, verdict_id, hops FROM rounds_head WHERE route_rid = ? ORDER BY started_at DESC LIMIT 1');
    this.ridById = db.prepare('SELECT rid FROM routes WHERE id = ?').pluck();
    this.headNewestMeta = db.prepare('SELECT started_at, duration, verdict_id FROM rounds_head WHERE route_rid = ? ORDER BY started_at DESC LIMIT 1');
    this.chunkNewest = db.prepare(
      'SELECT id, first_at, last_at, data FROM round_chunks WHERE route_rid = ? AND last_at >= ? AND first_at < ? ORDER BY last_at DESC, id DESC LIMIT 1',
    );
    this.chunksIn = db.prepare('SELECT id, first_at, last_at, data FROM round_chunks WHERE route_rid = ? AND last_at >= ? AND first_at < ?');
    this.chunksDesc = db.prepare(
      'SELECT id, first_at, last_at, data FROM round_chunks WHERE route_rid = ? AND last_at >= ? AND first_at < ? ORDER BY last_at DESC, id DESC',
    );
    this.headPacked = db.prepare(`SELECT ${PACKED_HEAD} FROM rounds_head WHERE route_rid = ? AND started_at >= ? AND started_at < ?`).pluck();
    // Without the minutes blob: hour and day reads skip those bytes.
    this.rowsPacked = db.prepare(`SELECT ${PACKED_ROWS} FROM rollups WHERE scope = ? AND tier = ? AND bucket >= ? AND bucket < ?`).pluck();
    this.minutesPacked = db.prepare(`SELECT ${PACKED_MINUTES} FROM rollups WHERE scope = ? AND tier = ? AND bucket >= ? AND bucket < ? AND minutes IS NOT NULL`).pluck();
  }

  /** The rid of a stored route id. */
  ridOf(routeId: string): number | undefined {
    return this.ridById.get(routeId) as number | undefined;
  }

  /** Head rounds of a route in [from, to), newest first, at most limit. */
  headRounds(rid: number, from: number, to: number, limit = -1): PackedRound[] {
    return (this.headIn.all(rid, from, to, limit) as HeadRow[]).map((r) => this.unpackHead(r));
  }

  /** The route's newest head round, or null. */
  newestHead(rid: number): PackedRound | null {
    const r = this.headNewest.get(rid) as HeadRow | undefined;
    return r === undefined ? null : this.unpackHead(r);
  }

  /** The route's newest head round without its hops (a Buffer per row is what reads cost), or null. */
  newestHeadMeta(rid: number): Omit<PackedRound, 'hops'> | null {
    const r = this.headNewestMeta.get(rid) as Omit<HeadRow, 'hops'> | undefined;
    return r === undefined ? null : { startedAt: r.started_at, duration: r.duration, verdict: r.verdict_id };
  }

  /** The first of chunksNewestFirst(rid, from, +inf), or undefined. */
  newestChunk(rid: number, from: number): ChunkRow | undefined {
    return this.chunkNewest.get(rid, from, Number.MAX_SAFE_INTEGER) as ChunkRow | undefined;
  }

  /** Chunks of a route overlapping [from, to), newest last_at first. */
  chunksNewestFirst(rid: number, from: number, to: number): IterableIterator<ChunkRow> {
    return this.chunksDesc.iterate(rid, from, to) as IterableIterator<ChunkRow>;
  }

  /** The rounds of a chunk, oldest first. */
  chunkRounds(c: ChunkRow): PackedRound[] {
    return decodeChunk(c.data, c.first_at, this.dict.maskOf);
  }

  private unpackHead(r: HeadRow): PackedRound {
    return { startedAt: r.started_at, duration: r.duration, verdict: r.verdict_id, hops: readHeadHops(r.hops, this.dict.maskOf) };
  }

  /** Hop results of a packed round. */
  hopsOf(r: PackedRound): HopResult[] {
    return r.hops.map((h) => unpackHop(h, this.dict.shape(h.shape)));
  }

  /** Visits every raw round (chunks and head) of a route in [from, to). */
  visitRaw(rid: number, from: number, to: number, visit: RoundVisitor): void {
    for (const c of this.chunksIn.iterate(rid, from, to) as IterableIterator<ChunkRow>) {
      for (const r of this.chunkRounds(c)) if (r.startedAt >= from && r.startedAt < to) this.visitRound(r, visit);
    }
    this.visitHead(rid, from, to, visit);
  }

  /** Visits a route's head rounds in [from, to) (the rounds its rollups do not hold yet), in no particular order. */
  visitHead(rid: number, from: number, to: number, visit: RoundVisitor): void {
    for (const [at, verdict, hops] of unpackRows(this.headPacked.get(rid, from, to))) {
      this.visitRound({ startedAt: Number(at), duration: 0, verdict: Number(verdict), hops: readHeadHops(hexBytes(hops!), this.dict.maskOf) }, visit);
    }
  }

  private visitRound(r: PackedRound, visit: RoundVisitor): void {
    const v = this.dict.verdict(r.verdict);
    visit(r.startedAt, v.status, v.hop, v.cause, packedEdgeLatency(r, (id) => this.dict.shape(id)));
  }

  /** Visits rollup aggregates of a scope and tier whose bucket starts in [from, to), in no particular order. */
  visitRows(scope: number, tier: Tier, from: number, to: number, visit: AggVisitor): void {
    // Minute rows are only those not yet folded into their hour (all-routes scope only); the rest are the hour rows' slots.
    if (tier === 'minute') this.visitMinuteSlots(scope, from, to, visit);
    for (const [bucket, rounds, ok, degraded, failing, unknown, detail] of unpackRows(this.rowsPacked.get(scope, TIER_CODE[tier], from, to))) {
      const counts = { rounds: Number(rounds), ok: Number(ok), degraded: Number(degraded), failing: Number(failing), unknown: Number(unknown) };
      visit(Number(bucket), decodeDetail(hexBytes(detail!), counts));
    }
  }

  private visitMinuteSlots(scope: number, from: number, to: number, visit: AggVisitor): void {
    for (const [bucketText, minutes] of unpackRows(this.minutesPacked.get(scope, TIER_CODE.hour, Math.floor(from / HOUR_MS) * HOUR_MS, to))) {
      const bucket = Number(bucketText);
      for (const [k, agg] of decodeSlots(hexBytes(minutes!))) {
        const t = bucket + k * MINUTE_MS;
        if (t >= from && t < to) visit(t, agg);
      }
    }
  }
}
