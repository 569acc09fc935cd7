import { describe, expect, it } from 'vitest';
import { generateStore, syntheticWorld } from './generate.js';
import { listIncidents } from './incidents.js';
import { roundsOf, timeline } from './queries.js';
import { DAY_MS, HOUR_MS } from './rollup.js';
import { prune } from './retention.js';
import { openStore, type Db } from './sqlite.js';

const NOW = Date.UTC(2026, 0, 8, 6, 0, 0);
const retention = { rawDays: 1, minuteDays: null, hourDays: null, dayDays: null };
const opts = { routes: 6, days: 3, intervalMs: 60_000, now: NOW, retention, namespaces: 2, seed: 5 };

function dump(db: Db, sql: string): unknown[] {
  return db.prepare(sql).raw().all();
}

describe('generateStore', () => {
  it('bulk path leaves the same tables as the real write path, compaction and pruning', () => {
    const bulk = openStore(':memory:');
    const real = openStore(':memory:');
    const stats = generateStore(bulk, opts);
    const realStats = generateStore(real, { ...opts, allRaw: true });
    expect(stats.bulkRounds).toBeGreaterThan(0);
    expect(stats.bulkRounds + stats.rawRounds).toBe(realStats.rawRounds);
    for (let i = 0; i < 1000 && prune(real, retention, NOW, { batchRows: 500 }).more; i++);

    expect(dump(bulk, 'SELECT * FROM rollups ORDER BY scope, tier, bucket')).toEqual(dump(real, 'SELECT * FROM rollups ORDER BY scope, tier, bucket'));
    expect(dump(bulk, 'SELECT * FROM routes ORDER BY rid')).toEqual(dump(real, 'SELECT * FROM routes ORDER BY rid'));
    expect(listIncidents(bulk, { limit: 1000 })).toEqual(listIncidents(real, { limit: 1000 }));
    for (const route of syntheticWorld(6, 2, 60_000, 5).routes) {
      const a = roundsOf(bulk, route.id, { limit: 1000 });
      const b = roundsOf(real, route.id, { limit: 1000 });
      expect(a.rounds.length).toBeGreaterThan(1000 - 60);
      expect(a.rounds).toEqual(b.rounds);
    }
    bulk.close();
    real.close();
  });

  it('makes failure episodes that show in timelines and incidents', () => {
    const db = openStore(':memory:');
    const stats = generateStore(db, { ...opts, routes: 20, days: 2 });
    const t = timeline(db, { all: true, from: NOW - 2 * DAY_MS, to: NOW, stepMs: HOUR_MS });
    expect(t.buckets.reduce((n, b) => n + b.rounds, 0)).toBe(stats.rawRounds + stats.bulkRounds);
    expect(t.buckets.some((b) => b.failing > 0)).toBe(true);
    expect(stats.incidents).toBeGreaterThan(0);
    expect(listIncidents(db, { limit: 1000 }).incidents).toHaveLength(stats.incidents);
    db.close();
  });
});
