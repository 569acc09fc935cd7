// Retention: prunes each tier past its age, in small batches, and enforces the
// optional size cap. Each prune call does one batch in one short transaction
// and says whether more remains, so the daemon can call it between probes.
//
// What "expired" means, per tier (cutoff = now - days):
// - raw: a chunk (one route-hour) goes when all its rounds are older than the
//   cutoff, so raw rounds live between rawDays and rawDays + 1 hour;
// - minute: an hour's minute slots go when the whole hour is older; all-routes
//   minute rows go when the minute is older;
// - hour and day: a row goes when its whole bucket is older.
//
// Each prune records its tier's horizon in store_meta (`<tier>.horizon`, never
// moving back): data before it is gone or going, so a timeline read from that
// tier says its buckets before the horizon are expired, not empty.

import type { StoreConfig } from '../config/types.js';
import { compact, type CompactOptions } from './compact.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, TIER_CODE, floorTo, type Tier } from './rollup.js';
import type { Db } from './sqlite.js';

/** Retention per tier in days; null keeps forever. */
export type Retention = StoreConfig['retention'];

/** The defaults: raw 7 days, minute 30 days, hour 365 days, day forever. */
export const DEFAULT_RETENTION: Readonly<Retention> = { rawDays: 7, minuteDays: 30, hourDays: 365, dayDays: null };

/** Prune settings. */
export interface PruneOptions {
  /** Most rows (or route scopes visited) in one batch. */
  batchRows?: number;
  /** Size cap of the database in MiB; over it, the oldest raw chunks are deleted regardless of age. */
  maxSizeMb?: number | null;
  /** Most free pages returned to the file system per call. */
  vacuumPages?: number;
}

/** What one prune call did. */
export interface PruneResult {
  /** Which step ran: a tier, the size cap, the incremental vacuum, or null when nothing was due. */
  step: 'raw' | 'minute' | 'hour' | 'day' | 'size' | 'vacuum' | null;
  /** Rows deleted or changed (pages released, for vacuum). */
  changed: number;
  /** True when work may remain: call again. */
  more: boolean;
}

/** The database's size in bytes, excluding free pages (what the size cap compares). */
export function usedBytes(db: Db): number {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  return (pages - free) * pageSize;
}

/** Runs the first due step of retention, one batch of it. */
export function prune(db: Db, retention: Retention, now: number, options: PruneOptions = {}): PruneResult {
  const batch = Math.max(1, Math.floor(options.batchRows ?? 1000));
  const steps: [PruneResult['step'], () => number | { changed: number; more: boolean }][] = [
    ['raw', () => pruneRaw(db, retention.rawDays, now, batch)],
    ['minute', () => pruneMinutes(db, retention.minuteDays, now, batch)],
    ['hour', () => pruneTier(db, 'hour', retention.hourDays, now, batch)],
    ['day', () => pruneTier(db, 'day', retention.dayDays, now, batch)],
    ['size', () => pruneForSize(db, options.maxSizeMb ?? null, batch)],
    ['vacuum', () => vacuum(db, options.vacuumPages ?? 2048)],
  ];
  for (const [step, run] of steps) {
    const r = run();
    const { changed, more } = typeof r === 'number' ? { changed: r, more: r > 0 } : r;
    if (changed > 0 || more) return { step, changed, more: true };
  }
  return { step: null, changed: 0, more: false };
}

function cutoffOf(days: number | null, now: number): number | null {
  return days === null ? null : now - days * DAY_MS;
}

function pruneRaw(db: Db, days: number | null, now: number, batch: number): number {
  const cutoff = cutoffOf(days, now);
  if (cutoff === null) return 0;
  // A chunk goes when its last round is older: rounds up to an hour older than the cutoff may remain.
  advanceHorizon(db, 'raw', floorTo(cutoff, HOUR_MS));
  return db
    .prepare('DELETE FROM round_chunks WHERE id IN (SELECT id FROM round_chunks WHERE last_at < ? ORDER BY last_at LIMIT ?)')
    .run(cutoff, batch).changes;
}

function pruneForSize(db: Db, maxSizeMb: number | null, batch: number): number {
  if (maxSizeMb === null || usedBytes(db) <= maxSizeMb * 1024 * 1024) return 0;
  // Oldest raw data first; rollups are never dropped for size. A smaller batch: each chunk is ~2 KB.
  const limit = Math.max(1, Math.ceil(batch / 4));
  return db.transaction(() => {
    const last = db.prepare('SELECT max(last_at) FROM (SELECT last_at FROM round_chunks ORDER BY last_at LIMIT ?)').pluck().get(limit);
    if (typeof last === 'number') advanceHorizon(db, 'raw', last + 1);
    return db.prepare('DELETE FROM round_chunks WHERE id IN (SELECT id FROM round_chunks ORDER BY last_at LIMIT ?)').run(limit).changes;
  })();
}

function vacuum(db: Db, pages: number): number {
  const free = db.pragma('freelist_count', { simple: true }) as number;
  if (free === 0) return 0;
  db.pragma(`incremental_vacuum(${Math.max(1, Math.floor(pages))})`);
  return free - (db.pragma('freelist_count', { simple: true }) as number);
}

function pruneMinutes(db: Db, days: number | null, now: number, batch: number): { changed: number; more: boolean } {
  const cutoff = cutoffOf(days, now);
  if (cutoff === null) return { changed: 0, more: false };
  advanceHorizon(db, 'minute', floorTo(cutoff, HOUR_MS));
  const allRows = db
    .prepare('DELETE FROM rollups WHERE scope = 0 AND tier = ? AND bucket IN (SELECT bucket FROM rollups WHERE scope = 0 AND tier = ? AND bucket < ? LIMIT ?)')
    .run(TIER_CODE.minute, TIER_CODE.minute, floorTo(cutoff, MINUTE_MS), batch).changes;
  if (allRows > 0) return { changed: allRows, more: true };
  const clear = db.prepare(
    `UPDATE rollups SET minutes = NULL WHERE scope = ? AND tier = ? AND bucket IN
       (SELECT bucket FROM rollups WHERE scope = ? AND tier = ? AND bucket >= ? AND bucket < ? AND minutes IS NOT NULL LIMIT ?)`,
  );
  return scopedPass(db, 'minute', floorTo(cutoff, HOUR_MS), batch, (scope, a, b, limit) => clear.run(scope, TIER_CODE.hour, scope, TIER_CODE.hour, a, b, limit).changes);
}

function pruneTier(db: Db, tier: Tier, days: number | null, now: number, batch: number): { changed: number; more: boolean } {
  const cutoff = cutoffOf(days, now);
  if (cutoff === null) return { changed: 0, more: false };
  advanceHorizon(db, tier, floorTo(cutoff, tier === 'hour' ? HOUR_MS : DAY_MS));
  const del = db.prepare(
    `DELETE FROM rollups WHERE scope = ? AND tier = ? AND bucket IN
       (SELECT bucket FROM rollups WHERE scope = ? AND tier = ? AND bucket >= ? AND bucket < ? LIMIT ?)`,
  );
  const width = tier === 'hour' ? HOUR_MS : DAY_MS;
  return scopedPass(db, tier, floorTo(cutoff, width), batch, (scope, a, b, limit) => del.run(scope, TIER_CODE[tier], scope, TIER_CODE[tier], a, b, limit).changes);
}

/**
 * One batch of a pass over every scope (all routes, then each route by rid)
 * applying a range change [done, cutoff). Rollups are keyed by scope first, so
 * a pass seeks each scope's range instead of scanning the table. Progress is
 * kept in store_meta, so a pass spans calls and survives restarts.
 */
function scopedPass(
  db: Db, key: string, cutoff: number, batch: number, apply: (scope: number, from: number, to: number, limit: number) => number,
): { changed: number; more: boolean } {
  return db.transaction(() => {
    const done = meta(db, `${key}.done`) ?? 0;
    let target = meta(db, `${key}.target`);
    if (target === null) {
      if (cutoff <= done) return { changed: 0, more: false };
      target = cutoff;
      setMeta(db, `${key}.target`, target);
      setMeta(db, `${key}.last`, -1);
    }
    // last: the last scope done in this pass; -1 before the all-routes scope (0), then route rids (> 0).
    let last = meta(db, `${key}.last`) ?? -1;
    const nextRid = db.prepare('SELECT min(rid) FROM routes WHERE rid > ?').pluck();
    let changed = 0;
    let budget = batch;
    let finished = false;
    while (budget > 0) {
      const scope = last < 0 ? 0 : (nextRid.get(last) as number | null);
      if (scope === null) {
        finished = true;
        break;
      }
      const n = apply(scope, done, target, budget);
      changed += n;
      // A scope that used the whole budget may hold more: the next call resumes at it.
      if (n >= budget) break;
      budget -= Math.max(1, n);
      last = scope;
    }
    if (finished) {
      setMeta(db, `${key}.done`, target);
      db.prepare('DELETE FROM store_meta WHERE key IN (?, ?)').run(`${key}.target`, `${key}.last`);
    } else {
      setMeta(db, `${key}.last`, last);
    }
    return { changed, more: !finished };
  })();
}

/** Records that the tier's data before `t` is gone or going (the horizon never moves back). */
function advanceHorizon(db: Db, tier: 'raw' | Tier, t: number): void {
  db.prepare(
    `INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`,
  ).run(`${tier}.horizon`, t);
}

/** The time before which the tier's data has expired, null when nothing has. */
export function tierHorizon(db: Db, tier: 'raw' | Tier): number | null {
  return meta(db, `${tier}.horizon`);
}

/** The meta read of each connection, prepared once: every timeline reads its tier's horizon, and preparing cost more than the read. */
const metaReads = new WeakMap<Db, ReturnType<Db['prepare']>>();

function meta(db: Db, key: string): number | null {
  let read = metaReads.get(db);
  if (read === undefined) metaReads.set(db, (read = db.prepare('SELECT value FROM store_meta WHERE key = ?').pluck()));
  const v = read.get(key);
  return typeof v === 'number' ? v : null;
}

function setMeta(db: Db, key: string, value: number): void {
  db.prepare('INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}

/** What one maintenance step did. */
export interface MaintainResult {
  /** Rounds compacted. */
  compacted: number;
  /** The prune step that ran. */
  pruned: PruneResult;
  /** True when work remains: call again between probes. */
  more: boolean;
}

/**
 * One bounded step of the store's upkeep for the daemon: compaction of closed
 * hours, then one prune batch. Call it between probes until `more` is false,
 * then again every few minutes.
 */
export function maintain(db: Db, store: Pick<StoreConfig, 'retention' | 'maxSizeMb'>, now: number, options: CompactOptions & PruneOptions = {}): MaintainResult {
  const c = compact(db, now, { maxRounds: 5_000, ...options });
  const p = prune(db, store.retention, now, { ...options, maxSizeMb: store.maxSizeMb });
  return { compacted: c.rounds, pruned: p, more: c.more || p.more };
}
