import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteRound, VerdictStatus } from '../model.js';
import { compact } from './compact.js';
import { fixtureRound, fixtureRoute } from './fixtures.js';
import { getRoute, listRoutes, newestRound, roundsOf, uptime } from './queries.js';
import { latestLatencyMs, routePage } from './reader-ops.js';
import { readerFor } from './read.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, addRound, decodeSlotCounts, decodeSlots, emptyAgg, encodeSlots, type Agg } from './rollup.js';
import { openStore, type Db } from './sqlite.js';
import { countWindows, sharedPieces } from './uptime-batch.js';
import { createWriter } from './write.js';

const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const busy = fixtureRoute('shop', 'busy');
const sparse = fixtureRoute('shop', 'sparse');
const gone = fixtureRoute('blog', 'gone');
const fresh = fixtureRoute('blog', 'fresh');
/** The end of the history: the last 80 minutes stay in the head, older rounds are compacted. */
const END = T0 + 3 * DAY_MS + 7 * HOUR_MS + 23 * MINUTE_MS;

/** Rounds with every status, of routes that run to the end, stopped two days in (all compacted), or began in the head. */
function history(): RouteRound[] {
  const out: RouteRound[] = [];
  const statuses: VerdictStatus[] = ['ok', 'ok', 'ok', 'degraded', 'ok', 'failing', 'ok', 'unknown', 'ok', 'ok', 'ok'];
  const plan = [[busy, 30_000, 1_000, END], [sparse, 7 * MINUTE_MS, 11_000, END], [gone, 60_000, 5_500, T0 + 2 * DAY_MS + 13 * MINUTE_MS], [fresh, 45_000, 0, END]] as const;
  for (const [route, every, offset, end] of plan) {
    const start = route === fresh ? END - 50 * MINUTE_MS : T0 + offset;
    for (let i = 0, t = start; t < end; i++, t += every) out.push(fixtureRound(route, t, statuses[(i * 7 + (i >> 4)) % statuses.length]!, 2 + ((i * 7) % 23) + (i % 11) / 10));
  }
  return out.sort((a, b) => a.startedAt - b.startedAt);
}

let db: Db;
let rids: Map<string, number>;

beforeAll(() => {
  db = openStore(':memory:');
  const writer = createWriter(db);
  const rounds = history();
  for (let i = 0; i < rounds.length; i += 500) writer.writeRounds(rounds.slice(i, i + 500));
  while (compact(db, END - 20 * MINUTE_MS).more);
  rids = new Map((db.prepare('SELECT id, rid FROM routes').all() as { id: string; rid: number }[]).map((r) => [r.id, r.rid]));
});

afterAll(() => db?.close());

describe('countWindows', () => {
  const at = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS;
  it.each([
    ['mid-hour, in the head', at(END)],
    ['on an hour boundary', T0 + 3 * DAY_MS + 5 * HOUR_MS],
    ['on a day boundary', T0 + 2 * DAY_MS],
    ['a day and some minutes in', T0 + DAY_MS + 3 * HOUR_MS + 41 * MINUTE_MS],
    ['after the history', END + 3 * HOUR_MS],
  ])('gives the counts uptime() gives for every route and window (%s)', (_name, now) => {
    const windows = [5 * MINUTE_MS, 47 * MINUTE_MS, HOUR_MS, 26 * HOUR_MS + 13 * MINUTE_MS, DAY_MS, 3 * DAY_MS, 7 * DAY_MS].map((ms) => ({ from: at(now - ms), to: now }));
    windows.push({ from: at(now - 2 * HOUR_MS - 7 * MINUTE_MS), to: at(now - 31 * MINUTE_MS) }, { from: at(now - 3 * DAY_MS), to: at(now - DAY_MS + 5 * MINUTE_MS) });
    const ids = [...rids.keys()];
    const got = countWindows(db, [...rids.values(), 999], windows);
    let rounds = 0;
    for (const id of ids) {
      windows.forEach((w, i) => {
        const { from: _f, to: _t, uptime: _u, ...want } = uptime(db, id, w.from, w.to);
        expect(got.get(rids.get(id)!)![i], `${id} window ${i}`).toEqual(want);
        rounds += want.rounds;
      });
    }
    expect(got.get(999)!.every((c) => c.rounds === 0)).toBe(true);
    if (now < END) expect(rounds).toBeGreaterThan(1000);
  });

  it('reads a piece shared by several windows once', () => {
    const now = at(END);
    const pieces = sharedPieces([{ from: now - DAY_MS, to: now }, { from: now - 7 * DAY_MS, to: now }]);
    const tail = pieces.filter((p) => p.windows.length === 2);
    expect(tail.length).toBeGreaterThan(0);
    expect(pieces.length).toBeLessThan(8);
  });
});

describe('decodeSlotCounts', () => {
  it('reads the counts decodeSlots reads, past every shape of slot body', () => {
    let seed = 3;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const statuses: VerdictStatus[] = ['ok', 'degraded', 'failing', 'unknown'];
    for (let i = 0; i < 200; i++) {
      const slots = new Map<number, Agg>();
      for (let k = 0; k < 60; k++) {
        if (rand() < 0.3) continue;
        const agg = emptyAgg();
        const n = Math.floor(rand() * (i % 2 === 0 ? 4 : 40));
        for (let j = 0; j < n; j++) {
          const status = rand() < 0.8 ? 'ok' : statuses[Math.floor(rand() * 4)]!;
          addRound(agg, status, rand() < 0.5 ? null : 'pod', `cause.${Math.floor(rand() * 5)}-\u00e9`, rand() < 0.1 ? -1 : Math.floor(rand() * 90_000));
        }
        slots.set(k, agg);
      }
      const blob = encodeSlots(slots);
      const want = [...decodeSlots(blob)].map(([k, a]) => [k, { rounds: a.rounds, ok: a.ok, degraded: a.degraded, failing: a.failing, unknown: a.unknown }]);
      const got: unknown[] = [];
      decodeSlotCounts(blob, (k, c) => got.push([k, c]));
      expect(got, `case ${i}`).toEqual(want);
    }
  });
});

describe('the routes page from the newest rounds', () => {
  it('has the newest round and latency the single-route queries give, also for a route with all its rounds compacted', () => {
    const reader = readerFor(db);
    const page = routePage(db, { sort: 'name', order: 'asc', limit: 100, now: END });
    expect(page.routes.map((r) => r.id).sort()).toEqual([...rids.keys()].sort());
    for (const row of page.routes) {
      const newest = roundsOf(db, row.id, { limit: 1 }).rounds[0]!;
      expect(row.latest, row.id).toEqual({ startedAt: newest.startedAt, durationMs: newest.durationMs, verdict: newest.verdict });
      expect(row.latencyMs, row.id).toBe(latestLatencyMs(db, row.id));
      expect(row.latest).toEqual(getRoute(db, row.id)!.latest);
      expect(newestRound(reader, rids.get(row.id)!, true)!.startedAt).toBe(newest.startedAt);
    }
    const compacted = page.routes.find((r) => r.id === gone.id)!;
    expect(compacted.latest!.startedAt).toBeLessThan(T0 + 2 * DAY_MS + 13 * MINUTE_MS);
    expect(db.prepare('SELECT count(*) FROM rounds_head WHERE route_rid = ?').pluck().get(rids.get(gone.id))).toBe(0);
    expect(compacted.latencyMs).not.toBeNull();
    expect(listRoutes(db).find((r) => r.id === gone.id)!.latest).toEqual(compacted.latest);
  });
});
