import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RouteRound } from '../model.js';
import { compact } from './compact.js';
import { fixtureRound, fixtureRoute } from './fixtures.js';
import { syntheticRound, syntheticWorld } from './generate.js';
import { roundsOf, timeline } from './queries.js';
import { DAY_MS, HOUR_MS, floorTo } from './rollup.js';
import { maintain, prune, usedBytes, type PruneResult } from './retention.js';
import { openStore, type Db } from './sqlite.js';
import { createWriter } from './write.js';

const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const NOW = T0 + 5 * DAY_MS + 20 * 60_000;
const RETENTION = { rawDays: 1, minuteDays: 2, hourDays: 3, dayDays: 4 };
const routes = [fixtureRoute('a', 'one'), fixtureRoute('a', 'two'), fixtureRoute('b', 'three')];

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** 5 days of rounds every 10 minutes (offset per route), compacted as a running daemon would leave them. */
function filledStore(): { db: Db; rounds: RouteRound[] } {
  const db = openStore(':memory:');
  cleanups.push(() => db.close());
  const rounds: RouteRound[] = [];
  routes.forEach((route, r) => {
    for (let t = T0 + r * 61_000; t < NOW; t += 10 * 60_000) rounds.push(fixtureRound(route, t, t % 7 === 0 ? 'failing' : 'ok', 3));
  });
  createWriter(db).writeRounds(rounds);
  while (compact(db, NOW).more);
  return { db, rounds };
}

function pruneAll(db: Db, now: number, batchRows: number): PruneResult[] {
  const calls: PruneResult[] = [];
  for (let i = 0; i < 10_000; i++) {
    const r = prune(db, RETENTION, now, { batchRows });
    calls.push(r);
    if (!r.more) return calls;
  }
  throw new Error('prune never finished');
}

const count = (db: Db, sql: string, ...args: unknown[]): number => (db.prepare(sql).pluck().get(...args) as number) ?? 0;

describe('prune', () => {
  it('removes exactly what each tier has expired, in batches of at most batchRows', () => {
    const { db, rounds } = filledStore();
    const rawCut = NOW - DAY_MS;
    const chunksKept = count(db, 'SELECT count(*) FROM round_chunks WHERE last_at >= ?', rawCut);
    const chunksGone = count(db, 'SELECT count(*) FROM round_chunks WHERE last_at < ?', rawCut);
    const daysKept = count(db, 'SELECT count(*) FROM rollups WHERE tier = 2 AND bucket >= ?', floorTo(NOW - 4 * DAY_MS, DAY_MS));
    expect(chunksGone).toBeGreaterThan(100);

    const calls = pruneAll(db, NOW, 7);
    const rawCalls = calls.filter((c) => c.step === 'raw');
    expect(rawCalls.length).toBe(Math.ceil(chunksGone / 7));
    expect(Math.max(...calls.filter((c) => c.step === 'raw' || c.step === 'hour').map((c) => c.changed))).toBeLessThanOrEqual(7);
    expect(calls.filter((c) => c.step === 'minute').length).toBeGreaterThan(1);

    expect(count(db, 'SELECT count(*) FROM round_chunks WHERE last_at < ?', rawCut)).toBe(0);
    expect(count(db, 'SELECT count(*) FROM round_chunks')).toBe(chunksKept);
    // Raw rounds go by whole route-hour chunk: a round survives when its chunk still holds a round newer than the cutoff.
    for (const route of routes) {
      const mine = rounds.filter((r) => r.route.id === route.id);
      const lastOfHour = new Map<number, number>();
      for (const r of mine) lastOfHour.set(floorTo(r.startedAt, HOUR_MS), r.startedAt);
      const want = mine.filter((r) => lastOfHour.get(floorTo(r.startedAt, HOUR_MS))! >= rawCut).map((r) => r.startedAt);
      expect(roundsOf(db, route.id, { limit: 1000 }).rounds.map((r) => r.startedAt).reverse()).toEqual(want);
    }
    const minuteCut = floorTo(NOW - 2 * DAY_MS, HOUR_MS);
    expect(count(db, 'SELECT count(*) FROM rollups WHERE tier = 1 AND bucket < ? AND minutes IS NOT NULL', minuteCut)).toBe(0);
    // Every closed hour since the cutoff keeps its minutes (the open hour's are still live minute rows).
    expect(count(db, 'SELECT count(*) FROM rollups WHERE tier = 1 AND bucket >= ? AND bucket < ? AND minutes IS NULL', minuteCut, floorTo(NOW, HOUR_MS))).toBe(0);
    expect(count(db, 'SELECT count(*) FROM rollups WHERE tier = 0 AND bucket < ?', NOW - 2 * DAY_MS)).toBe(0);
    expect(count(db, 'SELECT min(bucket) FROM rollups WHERE tier = 1')).toBe(floorTo(NOW - 3 * DAY_MS, HOUR_MS));
    expect(count(db, 'SELECT count(*) FROM rollups WHERE tier = 2')).toBe(daysKept);

    // Older days are still answered, from the day tier.
    const t = timeline(db, { all: true, from: T0, to: T0 + 5 * DAY_MS, stepMs: DAY_MS });
    expect(t.buckets.map((b) => b.rounds)).toEqual([0, 432, 432, 432, 432]);
    expect(prune(db, RETENTION, NOW, { batchRows: 7 })).toEqual({ step: null, changed: 0, more: false });

    // A timeline reaching behind a tier's horizon says where its empty buckets come from.
    const minutes = timeline(db, { routeId: routes[0]!.id, from: NOW - 3 * DAY_MS, to: NOW, stepMs: 15 * 60_000 });
    expect(minutes.tier).toBe('minute');
    expect(minutes.expiredBefore).toBe(minuteCut);
    expect(minutes.buckets.filter((b) => b.start < minuteCut).every((b) => b.rounds === 0)).toBe(true);
    expect(minutes.buckets.find((b) => b.start === minuteCut)!.rounds).toBeGreaterThan(0);
    expect(timeline(db, { routeId: routes[0]!.id, from: minuteCut, to: NOW, stepMs: 15 * 60_000 }).expiredBefore).toBeNull();
    expect(timeline(db, { routeId: routes[0]!.id, from: NOW - 4 * DAY_MS, to: NOW, stepMs: HOUR_MS }).expiredBefore).toBe(floorTo(NOW - 3 * DAY_MS, HOUR_MS));
    expect(timeline(db, { routeId: routes[0]!.id, from: NOW - 2 * DAY_MS, to: NOW, stepMs: HOUR_MS }).expiredBefore).toBeNull();
    expect(timeline(db, { routeId: routes[0]!.id, from: NOW - 3 * HOUR_MS, to: NOW, stepMs: 30_000 }).expiredBefore).toBeNull();
    expect(timeline(db, { routeId: routes[0]!.id, from: NOW - DAY_MS - 3 * HOUR_MS, to: NOW - DAY_MS + HOUR_MS, stepMs: 30_000 }).expiredBefore)
      .toBe(floorTo(NOW - DAY_MS, HOUR_MS));
  });

  it('prunes what expires as time moves on, and keeps everything with null retention', () => {
    const { db } = filledStore();
    pruneAll(db, NOW, 1000);
    const before = count(db, 'SELECT count(*) FROM round_chunks');
    pruneAll(db, NOW + 2 * HOUR_MS, 1000);
    expect(count(db, 'SELECT count(*) FROM round_chunks')).toBe(before - 2 * routes.length);
    const keep = filledStore().db;
    const rows = count(keep, 'SELECT count(*) FROM rollups') + count(keep, 'SELECT count(*) FROM round_chunks');
    const steps = new Set<string | null>();
    for (let i = 0; i < 100; i++) {
      const r = prune(keep, { rawDays: null, minuteDays: null, hourDays: null, dayDays: null }, NOW);
      steps.add(r.step);
      if (!r.more) break;
    }
    expect([...steps].filter((s) => s !== 'vacuum' && s !== null)).toEqual([]);
    expect(count(keep, 'SELECT count(*) FROM rollups') + count(keep, 'SELECT count(*) FROM round_chunks')).toBe(rows);
  });
});

describe('size cap and vacuum', () => {
  it('deletes the oldest raw chunks until the file is under the cap, then returns the space to the file system', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopwatch-retention-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'cap.db');
    const db = openStore(path);
    cleanups.push(() => db.close());
    const world = syntheticWorld(60, 3, 30_000, 7);
    const w = createWriter(db);
    const s0 = Math.floor(T0 / 30_000);
    for (let s = s0; s < s0 + 12 * 120; s += 10) {
      const batch: RouteRound[] = [];
      for (let k = s; k < s + 10; k++) for (let r = 0; r < 60; r++) batch.push(syntheticRound(world, r, k));
      w.writeRounds(batch);
    }
    while (compact(db, T0 + 13 * HOUR_MS).more);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const used = usedBytes(db);
    const fileBefore = statSync(path).size;
    const capMb = used / 2 / 1024 / 1024;
    const lastAts = db.prepare('SELECT last_at FROM round_chunks ORDER BY last_at').pluck().all() as number[];
    const retention = { rawDays: null, minuteDays: null, hourDays: null, dayDays: null };
    const steps: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const r = prune(db, retention, T0 + 13 * HOUR_MS, { batchRows: 200, maxSizeMb: capMb });
      steps.push(String(r.step));
      if (!r.more) break;
    }
    expect(steps).toContain('size');
    expect(steps).toContain('vacuum');
    expect(usedBytes(db)).toBeLessThanOrEqual(capMb * 1024 * 1024);
    const left = db.prepare('SELECT last_at FROM round_chunks ORDER BY last_at').pluck().all() as number[];
    expect(left.length).toBeGreaterThan(0);
    expect(left).toEqual(lastAts.slice(lastAts.length - left.length)); // the newest survive
    const deletedUpTo = lastAts[lastAts.length - left.length - 1]!;
    expect(timeline(db, { all: true, from: T0, to: T0 + 13 * HOUR_MS, stepMs: 30_000, tier: 'raw' }).expiredBefore).toBe(deletedUpTo + 1);
    expect(db.pragma('freelist_count', { simple: true })).toBe(0);
    db.pragma('wal_checkpoint(TRUNCATE)');
    expect(statSync(path).size).toBeLessThan(fileBefore * 0.7);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('maintain compacts closed hours and prunes, one bounded step per call', () => {
    const db = openStore(':memory:');
    cleanups.push(() => db.close());
    const route = fixtureRoute('a', 'b');
    createWriter(db).writeRounds(Array.from({ length: 400 }, (_, i) => fixtureRound(route, T0 + i * 30_000, 'ok', 3)));
    const store = { retention: RETENTION, maxSizeMb: null };
    let compacted = 0;
    for (let i = 0; i < 100; i++) {
      const r = maintain(db, store, T0 + 4 * HOUR_MS, { maxRounds: 50 });
      compacted += r.compacted;
      if (!r.more) break;
    }
    expect(compacted).toBe(360);
    expect(count(db, 'SELECT count(*) FROM rounds_head')).toBe(40);
  });
});
