// Mergeable aggregates of rounds: what the minute, hour and day tiers store.
//
// Every field merges exactly (sums, min, max, histogram counts), so a day row,
// the sum of its hour rows, the sum of their minute slots and a scan of the raw
// rounds give the same counts, the same average and the same percentile
// estimates. Latencies are kept in the store's time units (integers), so sums
// never drift with floating point.

import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { VerdictHop, VerdictStatus } from '../model.js';
import { ByteReader, ByteWriter, fromUnits } from './codec.js';
import { StoreError } from './errors.js';
import type { Db } from './sqlite.js';

/** Aggregate of a set of rounds. Latency is the edge hop's total time, in store time units. */
export interface Agg {
  /** Rounds counted. */
  rounds: number;
  /** Rounds whose verdict was ok. */
  ok: number;
  /** Rounds whose verdict was degraded. */
  degraded: number;
  /** Rounds whose verdict was failing. */
  failing: number;
  /** Rounds whose verdict was unknown. */
  unknown: number;
  /** Rounds with an edge latency. */
  latN: number;
  /** Sum of edge latencies. */
  latSum: number;
  /** Smallest edge latency (0 when latN is 0). */
  latMin: number;
  /** Largest edge latency (0 when latN is 0). */
  latMax: number;
  /** Log-spaced latency histogram: bucket index -> rounds. */
  hist: Map<number, number>;
  /** Degraded and failing rounds by the verdict's hop ("none" when the verdict names none). */
  byHop: Map<string, number>;
  /** Degraded and failing rounds by cause. */
  byCause: Map<string, number>;
}

/** An aggregate of no rounds. */
export function emptyAgg(): Agg {
  return {
    rounds: 0, ok: 0, degraded: 0, failing: 0, unknown: 0, latN: 0, latSum: 0, latMin: 0, latMax: 0,
    hist: new Map(), byHop: new Map(), byCause: new Map(),
  };
}

/** Histogram buckets per doubling of latency (each bucket ~9% wide). */
const BUCKETS_PER_OCTAVE = 8;

/** The histogram bucket of a latency in units. */
export function histBucket(units: number): number {
  return units <= 0 ? 0 : 1 + Math.floor(Math.log2(units) * BUCKETS_PER_OCTAVE);
}

/** Counts one round into an aggregate; latencyUnits < 0 when the round has no edge latency. */
export function addRound(agg: Agg, status: VerdictStatus, hop: VerdictHop | null, cause: string, latencyUnits: number): void {
  agg.rounds++;
  switch (status) {
    case 'ok':
      agg.ok++;
      break;
    case 'degraded':
      agg.degraded++;
      break;
    case 'failing':
      agg.failing++;
      break;
    case 'unknown':
      agg.unknown++;
      break;
  }
  if (status === 'degraded' || status === 'failing') {
    const h = hop ?? 'none';
    agg.byHop.set(h, (agg.byHop.get(h) ?? 0) + 1);
    agg.byCause.set(cause, (agg.byCause.get(cause) ?? 0) + 1);
  }
  if (latencyUnits >= 0) addLatency(agg, latencyUnits, 1);
}

function addLatency(agg: Agg, units: number, count: number): void {
  if (agg.latN === 0 || units < agg.latMin) agg.latMin = units;
  if (agg.latN === 0 || units > agg.latMax) agg.latMax = units;
  agg.latN += count;
  agg.latSum += units * count;
  const b = histBucket(units);
  agg.hist.set(b, (agg.hist.get(b) ?? 0) + count);
}

/** Adds `from` into `into`. */
export function mergeAgg(into: Agg, from: Agg): void {
  into.rounds += from.rounds;
  into.ok += from.ok;
  into.degraded += from.degraded;
  into.failing += from.failing;
  into.unknown += from.unknown;
  if (from.latN > 0) {
    if (into.latN === 0 || from.latMin < into.latMin) into.latMin = from.latMin;
    if (into.latN === 0 || from.latMax > into.latMax) into.latMax = from.latMax;
    into.latN += from.latN;
    into.latSum += from.latSum;
  }
  mergeCounts(into.hist, from.hist);
  mergeCounts(into.byHop, from.byHop);
  mergeCounts(into.byCause, from.byCause);
}

function mergeCounts<K>(into: Map<K, number>, from: Map<K, number>): void {
  for (const [k, n] of from) into.set(k, (into.get(k) ?? 0) + n);
}

/** Estimated latency quantile q (0..1) in ms from the histogram, clamped to [min, max]; null without latencies. */
export function latencyQuantileMs(agg: Agg, q: number): number | null {
  return agg.latN === 0 ? null : latencyQuantilesMs(agg, [q])[0]!;
}

/** latencyQuantileMs for several quantiles (ascending) with one sort and one walk of the histogram (a timeline asks three per bucket). */
function latencyQuantilesMs(agg: Agg, qs: readonly number[]): number[] {
  // Most buckets of a fine timeline hold one or two rounds: no spread and no sort call for those.
  const buckets: number[] = [];
  for (const b of agg.hist.keys()) buckets.push(b);
  if (buckets.length === 2 && buckets[0]! > buckets[1]!) buckets.reverse();
  else if (buckets.length > 2) buckets.sort((a, b) => a - b);
  const out: number[] = new Array(qs.length);
  let seen = 0;
  let i = 0;
  let lastBucket = -1;
  let lastMs = 0;
  for (let j = 0; j < qs.length; j++) {
    const rank = Math.max(1, Math.ceil(qs[j]! * agg.latN));
    while (seen < rank && i < buckets.length) seen += agg.hist.get(buckets[i++]!)!;
    if (seen < rank) {
      out[j] = fromUnits(agg.latMax);
      continue;
    }
    // The bucket's geometric middle, rounded to the store's resolution (once per bucket: quantiles often share one).
    const b = buckets[i - 1]!;
    if (b !== lastBucket) {
      const mid = b === 0 ? 0 : Math.round(2 ** ((b - 0.5) / BUCKETS_PER_OCTAVE));
      lastBucket = b;
      lastMs = fromUnits(Math.min(agg.latMax, Math.max(agg.latMin, mid)));
    }
    out[j] = lastMs;
  }
  return out;
}

/** Latency summary of an aggregate, in ms; null when no round had an edge latency. */
export interface LatencySummary {
  /** Fastest edge total. */
  minMs: number;
  /** Mean edge total. */
  avgMs: number;
  /** Slowest edge total. */
  maxMs: number;
  /** Median estimate (histogram, ~9% resolution). */
  p50Ms: number;
  /** 95th percentile estimate. */
  p95Ms: number;
  /** 99th percentile estimate. */
  p99Ms: number;
}

/** Summarises an aggregate's latency. */
export function latencySummary(agg: Agg): LatencySummary | null {
  if (agg.latN === 0) return null;
  const [p50Ms, p95Ms, p99Ms] = latencyQuantilesMs(agg, [0.5, 0.95, 0.99]) as [number, number, number];
  return {
    minMs: fromUnits(agg.latMin),
    avgMs: Math.round((fromUnits(agg.latSum) / agg.latN) * 1000) / 1000,
    maxMs: fromUnits(agg.latMax),
    p50Ms, p95Ms, p99Ms,
  };
}

/** A plain-object copy of a count map. */
export function countsRecord(m: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of [...m.keys()].sort()) out[k] = m.get(k)!;
  return out;
}

// --- Encoding -------------------------------------------------------------
// A blob holds one or more aggregates behind a local table of the hop and cause
// names they use. Small latency sets (one or two rounds, the common minute)
// are fully described by min and max, so their histogram is not written.

/** Encodes the latency and failure breakdown of one aggregate (counts live in columns). */
export function encodeDetail(agg: Agg): Buffer {
  const w = new ByteWriter(64);
  const names = nameTable([agg]);
  writeNames(w, names);
  writeBody(w, agg, names.index);
  return w.copy();
}

/** Decodes a detail blob into an aggregate with the given counts. */
export function decodeDetail(blob: Uint8Array, counts: Pick<Agg, 'rounds' | 'ok' | 'degraded' | 'failing' | 'unknown'>): Agg {
  const r = new ByteReader(blob);
  const names = readNames(r);
  // Field by field: spreading the SQL row object would copy every column and is slow on hot reads.
  const agg = emptyAgg();
  agg.rounds = counts.rounds;
  agg.ok = counts.ok;
  agg.degraded = counts.degraded;
  agg.failing = counts.failing;
  agg.unknown = counts.unknown;
  readBody(r, agg, names);
  return agg;
}

const PLAIN = 0;
const DEFLATED = 1;

/** Blobs at least this long are deflated when that makes them smaller. */
const DEFLATE_FROM_BYTES = 96;

/** Encodes sparse slots (e.g. the 60 minutes of an hour), counts included; deflated when that pays. */
export function encodeSlots(slots: ReadonlyMap<number, Agg>): Buffer {
  const w = new ByteWriter(256);
  const ordered = [...slots.keys()].sort((a, b) => a - b);
  const names = nameTable(ordered.map((k) => slots.get(k)!));
  writeNames(w, names);
  w.uint(ordered.length);
  let prev = 0;
  for (const k of ordered) {
    const agg = slots.get(k)!;
    w.uint(k - prev);
    prev = k;
    w.uint(agg.rounds * 2 + (agg.ok === agg.rounds ? 0 : 1));
    if (agg.ok !== agg.rounds) {
      w.uint(agg.degraded);
      w.uint(agg.failing);
      w.uint(agg.unknown);
    }
    writeBody(w, agg, names.index);
  }
  const plain = w.view();
  if (plain.length >= DEFLATE_FROM_BYTES) {
    const packed = deflateRawSync(plain, { level: 9, memLevel: 9 });
    if (packed.length < plain.length) return Buffer.concat([Buffer.of(DEFLATED), packed]);
  }
  return Buffer.concat([Buffer.of(PLAIN), plain]);
}

/** Decodes what encodeSlots wrote. */
export function decodeSlots(blob: Uint8Array): Map<number, Agg> {
  const format = blob[0];
  if (format !== PLAIN && format !== DEFLATED) throw new StoreError('CORRUPT', 'unknown slots format');
  const r = new ByteReader(format === DEFLATED ? inflateRawSync(blob.subarray(1)) : blob.subarray(1));
  const names = readNames(r);
  const n = r.uint();
  const out = new Map<number, Agg>();
  let k = 0;
  for (let i = 0; i < n; i++) {
    k += r.uint();
    const agg = emptyAgg();
    const head = r.uint();
    agg.rounds = Math.floor(head / 2);
    if (head % 2 === 1) {
      agg.degraded = r.uint();
      agg.failing = r.uint();
      agg.unknown = r.uint();
    }
    agg.ok = agg.rounds - agg.degraded - agg.failing - agg.unknown;
    readBody(r, agg, names);
    out.set(k, agg);
  }
  return out;
}

/** Status counts of one slot. */
export type SlotCounts = Pick<Agg, 'rounds' | 'ok' | 'degraded' | 'failing' | 'unknown'>;

/**
 * The counts of each slot encodeSlots wrote, without building its aggregate (no maps, names not
 * decoded): what uptimes need. Same counts as decodeSlots (codec.test.ts).
 */
export function decodeSlotCounts(blob: Uint8Array, visit: (k: number, counts: SlotCounts) => void): void {
  const format = blob[0];
  if (format !== PLAIN && format !== DEFLATED) throw new StoreError('CORRUPT', 'unknown slots format');
  const r = new ByteReader(format === DEFLATED ? inflateRawSync(blob.subarray(1)) : blob.subarray(1));
  for (let names = r.uint(); names > 0; names--) r.bytes(r.uint());
  const n = r.uint();
  let k = 0;
  for (let i = 0; i < n; i++) {
    k += r.uint();
    const head = r.uint();
    const rounds = Math.floor(head / 2);
    const [degraded, failing, unknown] = head % 2 === 1 ? [r.uint(), r.uint(), r.uint()] : [0, 0, 0];
    skipBody(r);
    visit(k, { rounds, ok: rounds - degraded - failing - unknown, degraded, failing, unknown });
  }
}

/** Reads past what writeBody wrote. */
function skipBody(r: ByteReader): void {
  for (let maps = 0; maps < 2; maps++) for (let n = r.uint(); n > 0; n--) r.uint(), r.uint();
  const latN = r.uint();
  const fields = latN >= 3 ? 3 : latN;
  for (let i = 0; i < fields; i++) r.uint();
  if (latN >= 3) for (let n = r.uint(); n > 0; n--) r.uint(), r.uint();
}

interface NameTable {
  list: string[];
  index: Map<string, number>;
}

function nameTable(aggs: readonly Agg[]): NameTable {
  // Sorted, so equal aggregates always encode to equal bytes (the bulk generator relies on it).
  const all = new Set<string>();
  for (const a of aggs) {
    for (const k of a.byHop.keys()) all.add(k);
    for (const k of a.byCause.keys()) all.add(k);
  }
  const list = [...all].sort();
  return { list, index: new Map(list.map((s, i) => [s, i])) };
}

function writeNames(w: ByteWriter, names: NameTable): void {
  w.uint(names.list.length);
  for (const s of names.list) w.str(s);
}

function readNames(r: ByteReader): string[] {
  const n = r.uint();
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.str());
  return out;
}

function writeBody(w: ByteWriter, agg: Agg, names: Map<string, number>): void {
  writeCounts(w, agg.byHop, names);
  writeCounts(w, agg.byCause, names);
  w.uint(agg.latN);
  if (agg.latN >= 1) w.uint(agg.latMin);
  if (agg.latN >= 2) w.uint(agg.latMax - agg.latMin);
  if (agg.latN >= 3) {
    w.uint(agg.latSum - agg.latMin - agg.latMax);
    const buckets = [...agg.hist.keys()].sort((a, b) => a - b);
    w.uint(buckets.length);
    let prev = 0;
    for (const b of buckets) {
      w.uint(b - prev);
      prev = b;
      w.uint(agg.hist.get(b)!);
    }
  }
}

function writeCounts(w: ByteWriter, m: Map<string, number>, names: Map<string, number>): void {
  w.uint(m.size);
  for (const k of [...m.keys()].sort()) {
    w.uint(names.get(k)!);
    w.uint(m.get(k)!);
  }
}

function readBody(r: ByteReader, agg: Agg, names: readonly string[]): void {
  readCounts(r, agg.byHop, names);
  readCounts(r, agg.byCause, names);
  const n = r.uint();
  if (n === 0) return;
  const min = r.uint();
  const max = n >= 2 ? min + r.uint() : min;
  agg.latN = n;
  agg.latMin = min;
  agg.latMax = max;
  if (n === 1) {
    agg.latSum = min;
    agg.hist.set(histBucket(min), 1);
    return;
  }
  if (n === 2) {
    agg.latSum = min + max;
    agg.hist.set(histBucket(min), 1);
    agg.hist.set(histBucket(max), (agg.hist.get(histBucket(max)) ?? 0) + 1);
    return;
  }
  agg.latSum = r.uint() + min + max;
  const buckets = r.uint();
  let b = 0;
  for (let i = 0; i < buckets; i++) {
    b += r.uint();
    agg.hist.set(b, r.uint());
  }
}

function readCounts(r: ByteReader, into: Map<string, number>, names: readonly string[]): void {
  const n = r.uint();
  for (let i = 0; i < n; i++) {
    const name = names[r.uint()];
    if (name === undefined) throw new StoreError('CORRUPT', 'aggregate names an unknown label');
    into.set(name, r.uint());
  }
}

// --- Tiers and rows ---------------------------------------------------------

/** One minute in ms. */
export const MINUTE_MS = 60_000;
/** One hour in ms. */
export const HOUR_MS = 3_600_000;
/** One (UTC) day in ms. */
export const DAY_MS = 86_400_000;

/** A rollup tier. */
export type Tier = 'minute' | 'hour' | 'day';

/** The tier column value of each tier. */
export const TIER_CODE: Readonly<Record<Tier, number>> = { minute: 0, hour: 1, day: 2 };

/** Each tier's bucket width. */
export const TIER_MS: Readonly<Record<Tier, number>> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };

/** The scope of the all-routes rollups (route rollups use the route's rid, always > 0). */
export const ALL_SCOPE = 0;

/** The start of the bucket of width ms holding t. */
export function floorTo(t: number, ms: number): number {
  return Math.floor(t / ms) * ms;
}

/** One rollup row, decoded. */
export interface RollupRow {
  /** Bucket start (ms). */
  bucket: number;
  /** The aggregate. */
  agg: Agg;
  /** Minute slots (minute index within the hour -> aggregate) of a compacted hour row, else null. */
  minutes: Uint8Array | null;
}

interface RawRow {
  bucket: number;
  rounds: number;
  ok: number;
  degraded: number;
  failing: number;
  unknown: number;
  detail: Uint8Array;
  minutes: Uint8Array | null;
}

/** Decodes a rollups row as selected with ROW_COLUMNS. */
export function rowFromSql(r: unknown): RollupRow {
  const row = r as RawRow;
  return { bucket: row.bucket, agg: decodeDetail(row.detail, row), minutes: row.minutes };
}

/** The rollups columns every reader selects. */
export const ROW_COLUMNS = 'bucket, rounds, ok, degraded, failing, unknown, detail, minutes';

/** Prepared reads and writes of rollup rows. */
export class RollupRows {
  private readonly getRow;
  private readonly putRow;
  private readonly putMinutesStmt;

  constructor(db: Db) {
    this.getRow = db.prepare(`SELECT ${ROW_COLUMNS} FROM rollups WHERE scope = ? AND tier = ? AND bucket = ?`);
    // Leaves `minutes` alone on conflict: live writers update counts, compaction owns the minute slots.
    this.putRow = db.prepare(
      `INSERT INTO rollups (scope, tier, bucket, rounds, ok, degraded, failing, unknown, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (scope, tier, bucket) DO UPDATE SET rounds = excluded.rounds, ok = excluded.ok,
         degraded = excluded.degraded, failing = excluded.failing, unknown = excluded.unknown, detail = excluded.detail`,
    );
    this.putMinutesStmt = db.prepare('UPDATE rollups SET minutes = ? WHERE scope = ? AND tier = ? AND bucket = ?');
  }

  /** The row, or undefined. */
  get(scope: number, tier: Tier, bucket: number): RollupRow | undefined {
    const r = this.getRow.get(scope, TIER_CODE[tier], bucket);
    return r === undefined ? undefined : rowFromSql(r);
  }

  /** Writes a row's counts and detail (creating it when absent). */
  put(scope: number, tier: Tier, bucket: number, agg: Agg): void {
    this.putRow.run(scope, TIER_CODE[tier], bucket, agg.rounds, agg.ok, agg.degraded, agg.failing, agg.unknown, encodeDetail(agg));
  }

  /** Adds delta into the row (creating it when absent). */
  merge(scope: number, tier: Tier, bucket: number, delta: Agg): void {
    const row = this.get(scope, tier, bucket);
    if (row === undefined) {
      this.put(scope, tier, bucket, delta);
      return;
    }
    mergeAgg(row.agg, delta);
    this.put(scope, tier, bucket, row.agg);
  }

  /** Adds minute slots (minute index within the hour -> aggregate) into an existing hour row's minutes. */
  mergeMinutes(scope: number, hourBucket: number, slots: Map<number, Agg>): void {
    const row = this.get(scope, 'hour', hourBucket);
    if (row === undefined) throw new StoreError('CORRUPT', `hour row ${scope}/${hourBucket} missing while adding minutes`);
    if (row.minutes !== null) {
      for (const [k, agg] of decodeSlots(row.minutes)) {
        const mine = slots.get(k);
        if (mine === undefined) slots.set(k, agg);
        else mergeAgg(mine, agg);
      }
    }
    this.putMinutesStmt.run(encodeSlots(slots), scope, TIER_CODE.hour, hourBucket);
  }
}
