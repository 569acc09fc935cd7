import { describe, expect, it } from 'vitest';
import { routeFixture } from '../../test/fixtures.js';
import type { Route } from '../model.js';
import { MinHeap } from './heap.js';
import { nextSlot, phaseOf, type ScheduledRoute, Scheduler, type SchedulerDeps, type SchedulerOptions } from './scheduler.js';

/** A fake clock with timers, driven by advance(). */
class FakeTime {
  now = 1_000_000;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;

  setTimer = (fn: () => void, ms: number): number => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.now + ms, fn });
    return id;
  };

  clearTimer = (id: unknown): void => {
    this.#timers.delete(id as number);
  };

  /** Moves time forward, firing due timers in order; settles promises after each. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      await new Promise((resolve) => setImmediate(resolve));
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.now = Math.max(this.now, due[1].at);
      due[1].fn();
    }
    this.now = end;
  }
}

function harness(roundMs = 0, options: Partial<SchedulerOptions> = {}) {
  const time = new FakeTime();
  const rounds: { id: string; at: number }[] = [];
  const running = { now: 0, peak: 0 };
  const late: string[] = [];
  const lateness: number[] = [];
  const deps: SchedulerDeps = {
    now: () => time.now,
    setTimer: time.setTimer,
    clearTimer: time.clearTimer,
    cron: () => ({ stop: () => undefined }),
    cronPeriodMs: () => 60_000,
    runRound: (route: Route) => {
      rounds.push({ id: route.id, at: time.now });
      running.peak = Math.max(running.peak, ++running.now);
      // A round that takes roundMs of fake time: resolved when the clock passes it.
      return new Promise<void>((resolve) => (roundMs === 0 ? resolve() : time.setTimer(resolve, roundMs))).then(() => void running.now--);
    },
    onLate: (route, reason) => late.push(`${route.id} ${reason}`),
    onLateness: (ms) => lateness.push(ms),
  };
  const scheduler = new Scheduler(deps, { lateAfterMs: 5_000, firstRoundWithinMs: 1_000, ...options });
  return { time, rounds, late, lateness, running, scheduler };
}

const every = (id: string, ms: number, definition = 'v1'): ScheduledRoute => ({ route: routeFixture({ id }), schedule: { kind: 'interval', everyMs: ms }, definition });

describe('Scheduler', () => {
  it('runs a new route within a second, then once per period on its stable slot', async () => {
    const h = harness();
    h.scheduler.setRoutes([every('a', 30_000)]);
    await h.time.advance(1_000);
    expect(h.rounds).toHaveLength(1);
    await h.time.advance(90_000);
    const slots = h.rounds.slice(1).map((r) => r.at);
    expect(slots).toHaveLength(3);
    for (const at of slots) expect((at - phaseOf('a', 30_000)) % 30_000).toBe(0);
  });

  it('probes a lone new route at once, and spreads the first rounds of many over up to a second', async () => {
    const h = harness();
    h.scheduler.setRoutes([every('a', 30_000)]);
    await h.time.advance(0);
    expect(h.rounds.map((r) => r.id)).toEqual(['a']);
    h.scheduler.setRoutes([every('a', 30_000), ...Array.from({ length: 2000 }, (_, i) => every(`r${i}`, 30_000))]);
    await h.time.advance(100);
    const early = h.rounds.length - 1;
    await h.time.advance(900);
    // 2,000 new routes: about one first round per millisecond, all within the second.
    expect(early).toBeGreaterThan(0);
    expect(early).toBeLessThan(500);
    expect(new Set(h.rounds.map((r) => r.id)).size).toBe(2001);
  });

  it('updateRoutes schedules what setRoutes would: added, changed and removed routes, the unchanged ones left on their slots', async () => {
    const a = harness();
    const b = harness();
    const start = [every('keep', 30_000), every('change', 30_000), every('gone', 30_000)];
    a.scheduler.setRoutes(start);
    b.scheduler.setRoutes(start);
    await Promise.all([a.time.advance(10_000), b.time.advance(10_000)]);
    a.scheduler.setRoutes([every('keep', 30_000), every('change', 30_000, 'v2'), every('new', 30_000)]);
    b.scheduler.updateRoutes([every('change', 30_000, 'v2'), every('new', 30_000)], ['gone']);
    await Promise.all([a.time.advance(100_000), b.time.advance(100_000)]);
    expect(b.rounds).toEqual(a.rounds);
    expect(b.rounds.filter((r) => r.id === 'gone')).toHaveLength(1);
    expect(b.rounds.filter((r) => r.id === 'new').length).toBeGreaterThan(2);
  });

  it('spreads many routes over the period instead of firing them together', async () => {
    const h = harness();
    h.scheduler.setRoutes(Array.from({ length: 300 }, (_, i) => every(`r${i}`, 30_000)));
    await h.time.advance(1_000); // first rounds
    h.rounds.length = 0;
    await h.time.advance(30_000);
    expect(h.rounds).toHaveLength(300);
    const perSecond = new Map<number, number>();
    for (const r of h.rounds) perSecond.set(Math.floor(r.at / 1000), (perSecond.get(Math.floor(r.at / 1000)) ?? 0) + 1);
    // 300 routes over 30 s: about 10 a second; no second carries a large share.
    expect(Math.max(...perSecond.values())).toBeLessThan(40);
    expect(perSecond.size).toBeGreaterThan(20);
  });

  it('admits at most maxRunning rounds at once: the rest wait and start as rounds end, oldest slot first, their wait counted as lateness', async () => {
    const h = harness(100, { maxRunning: 3 });
    h.scheduler.setRoutes(Array.from({ length: 10 }, (_, i) => every(`r${i}`, 30_000)));
    await h.time.advance(20); // every first round is due (10 routes: spread over 10 ms)
    expect(h.rounds).toHaveLength(3);
    expect(h.scheduler.waiting).toBe(7);
    await h.time.advance(1_000);
    expect(h.rounds).toHaveLength(10);
    expect(h.running.peak).toBe(3);
    expect(h.late).toEqual([]);
    // Started in the order their slots came due.
    const slotOf = (id: string): number => phaseOf(id, 30_000) % 10;
    const order = h.rounds.map((r) => slotOf(r.id));
    expect(order.slice(3)).toEqual([...order.slice(3)].sort((a, b) => a - b));
    // The last ones waited for three rounds of 100 ms before them.
    expect(Math.max(...h.lateness)).toBeGreaterThanOrEqual(290);
  });

  it('skips a round that waited for admission longer than lateAfterMs (behind) instead of starting it late', async () => {
    const h = harness(6_000, { maxRunning: 1 });
    h.scheduler.setRoutes([every('a', 30_000), every('b', 30_000), every('c', 30_000)]);
    await h.time.advance(10);
    expect(h.rounds).toHaveLength(1);
    await h.time.advance(6_000); // the first round ends after the others waited 6 s (> 5 s)
    expect(h.rounds).toHaveLength(1);
    // (A regular slot of a waiting route that came meanwhile is an overlap, as with a running round.)
    expect(h.late.filter((l) => l.endsWith('behind')).sort()).toEqual(['a behind', 'b behind', 'c behind'].filter((l) => !l.startsWith(h.rounds[0]!.id)));
    expect(h.scheduler.waiting).toBe(0);
    // Their next slots run as usual.
    await h.time.advance(40_000);
    expect(new Set(h.rounds.map((r) => r.id))).toEqual(new Set(['a', 'b', 'c']));
  });

  it('does not start a waiting round of a route removed meanwhile', async () => {
    const h = harness(1_000, { maxRunning: 1 });
    h.scheduler.setRoutes([every('a', 30_000), every('b', 30_000)]);
    await h.time.advance(10);
    const [first] = h.rounds.map((r) => r.id);
    const other = first === 'a' ? 'b' : 'a';
    h.scheduler.updateRoutes([], [other]);
    await h.time.advance(2_000);
    expect(h.rounds.map((r) => r.id)).toEqual([first]);
    expect(h.scheduler.waiting).toBe(0);
    expect(h.late).toEqual([]);
  });

  it('never overlaps a route with itself: a slot during a running round is counted late', async () => {
    const h = harness(25_000);
    h.scheduler.setRoutes([every('slow', 10_000)]);
    await h.time.advance(1_000);
    expect(h.rounds).toHaveLength(1);
    await h.time.advance(20_000); // two slots pass while the first round still runs
    expect(h.rounds).toHaveLength(1);
    expect(h.late).toEqual(['slow overlap', 'slow overlap']);
  });

  it('skips a slot that fires far behind, counting it late instead of queueing', async () => {
    const h = harness();
    h.scheduler.setRoutes([every('a', 10_000)]);
    await h.time.advance(1_000);
    // Simulate a blocked event loop: time jumps past several slots before timers can run.
    h.time.now += 35_000;
    await h.time.advance(0);
    expect(h.late).toEqual(['a behind']);
    await h.time.advance(10_000);
    expect(h.rounds).toHaveLength(2);
  });

  it('stops a removed route and restarts a changed one at once', async () => {
    const h = harness();
    h.scheduler.setRoutes([every('a', 30_000), every('b', 30_000)]);
    await h.time.advance(1_000);
    h.rounds.length = 0;
    h.scheduler.setRoutes([every('a', 30_000, 'v2')]);
    await h.time.advance(1_000);
    expect(h.rounds.map((r) => r.id)).toEqual(['a']);
    await h.time.advance(60_000);
    expect(h.rounds.every((r) => r.id === 'a')).toBe(true);
    expect(h.scheduler.size).toBe(1);
  });

  it('keeps probing a route that changed while its round was running', async () => {
    const h = harness(5_000);
    h.scheduler.setRoutes([every('a', 10_000)]);
    await h.time.advance(1_000);
    expect(h.scheduler.inFlight).toBe(1);
    // An EndpointSlice changes mid-round (a rollout): the route is re-planned while its round runs.
    h.scheduler.setRoutes([every('a', 10_000, 'v2')]);
    await h.time.advance(60_000);
    // The changed route's first round overlaps the running one (skipped); its later slots run.
    expect(h.rounds.length).toBeGreaterThanOrEqual(4);
    expect(h.late.filter((l) => l === 'a overlap').length).toBeLessThanOrEqual(1);
  });

  it('keeps slots when only facts change', async () => {
    const h = harness();
    h.scheduler.setRoutes([every('a', 30_000)]);
    await h.time.advance(1_000);
    h.rounds.length = 0;
    h.scheduler.setRoutes([every('a', 30_000)]);
    await h.time.advance(1_000);
    expect(h.rounds.length).toBeLessThanOrEqual(1);
    if (h.rounds[0]) expect((h.rounds[0].at - phaseOf('a', 30_000)) % 30_000).toBe(0);
  });

  it('waits for rounds in flight on stop, at most the bound', async () => {
    const h = harness(1_000_000);
    h.scheduler.setRoutes([every('a', 30_000)]);
    await h.time.advance(1_000);
    expect(h.scheduler.inFlight).toBe(1);
    const started = Date.now();
    await h.scheduler.stop(50);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('nextSlot', () => {
  it.each([
    [0, 10, 3, 3],
    [3, 10, 3, 13],
    [12, 10, 3, 13],
    [13, 10, 3, 23],
  ])('after %d with period %d phase %d is %d', (after, period, phase, want) => {
    expect(nextSlot(after, period, phase)).toBe(want);
  });
});

describe('MinHeap', () => {
  it('pops in order', async () => {
    const heap = new MinHeap<number>((a, b) => a - b);
    const values = Array.from({ length: 500 }, (_, i) => (i * 7919) % 1000);
    for (const v of values) heap.push(v);
    const out: number[] = [];
    for (let v = heap.pop(); v !== undefined; v = heap.pop()) out.push(v);
    expect(out).toEqual([...values].sort((a, b) => a - b));
  });
});
