// When each route is probed. Every route has a period and a stable phase inside it (a hash of its
// id), so a thousand routes on the same 30 s schedule spread over the 30 s instead of firing in
// the same millisecond, and keep their slots across restarts. Interval schedules run from one
// timer over a min-heap of due times; cron schedules run from one node-cron task per distinct
// expression, each tick placing its routes at their phase inside the cron's period.
//
// A route never overlaps itself: a slot that comes while its previous round still runs is
// skipped and counted late. A slot that fires more than lateAfterMs behind (a blocked event loop,
// a saturated machine) is skipped and counted late too: rounds are never queued without end.
//
// Admission before allocation: at most maxRunning rounds run at once. A due round beyond that waits
// as a slot in a FIFO (the route and its slot time, nothing else) and is started when a round ends;
// one that waited more than lateAfterMs is skipped as behind. Without it, 5,000 routes new at once
// became 35,000 planned hops with their closures and promises queued in the probe limiter, which
// the heap held (and V8 grew to several times) until the targets had answered them all.

import { createHash } from 'node:crypto';
import type { Schedule } from '../config/types.js';
import type { Route } from '../model.js';
import { MinHeap } from './heap.js';

/** Why a slot was skipped. */
export type LateReason = 'overlap' | 'behind';

/** A running cron task (node-cron's ScheduledTask, reduced to what is used). */
export interface CronTask {
  /** Stops the task. */
  stop(): void | Promise<void>;
}

/** What the scheduler needs from the outside world. */
export interface SchedulerDeps {
  /** Wall clock in ms. */
  now: () => number;
  /** Starts a one-shot timer. */
  setTimer: (fn: () => void, ms: number) => unknown;
  /** Cancels a timer from setTimer. */
  clearTimer: (handle: unknown) => void;
  /** Starts a cron task calling fn on each tick of the expression. */
  cron: (expression: string, fn: () => void) => CronTask;
  /** Nominal period of a cron expression in ms (for phase spreading). */
  cronPeriodMs: (expression: string) => number;
  /** Runs one round of a route; resolves when it is stored (never rejects). */
  runRound: (route: Route) => Promise<void>;
  /** A slot was skipped. */
  onLate: (route: Route, reason: LateReason) => void;
  /** A round started this many ms after its slot. */
  onLateness: (ms: number) => void;
}

/** Scheduler settings. */
export interface SchedulerOptions {
  /** A slot this late is skipped. */
  lateAfterMs: number;
  /** A new or changed route gets its first round within this many ms (when admitted: see maxRunning). */
  firstRoundWithinMs: number;
  /** Most rounds running at once; due rounds beyond it wait their turn (FIFO). Default: no bound. */
  maxRunning?: number;
}

/** A route and the schedule it runs on. */
export interface ScheduledRoute {
  /** The route (its facts are refreshed at every change; the scheduler probes the latest). */
  route: Route;
  /** Its schedule. */
  schedule: Schedule;
  /** A digest of what makes the route "changed" (a change gets a round at once). */
  definition: string;
}

interface Entry {
  scheduled: ScheduledRoute;
  periodMs: number;
  phaseMs: number;
  /** Incremented when the entry is replaced or removed, so stale heap items are ignored. */
  generation: number;
}

interface Due {
  at: number;
  id: string;
  generation: number;
}

/** A due round waiting for admission: what it needs to start, no more (its route is read when it starts). */
interface Waiting {
  id: string;
  slot: number;
}

/** First rounds of new or changed routes are spread this far apart (up to firstRoundWithinMs in all). */
const FIRST_ROUND_SPACING_MS = 1;

/** A stable offset in [0, periodMs) for a route id. */
export function phaseOf(id: string, periodMs: number): number {
  const hash = createHash('sha256').update(id).digest();
  return hash.readUInt32BE(0) % Math.max(1, Math.floor(periodMs));
}

/** The first slot strictly after `after` on the grid k·period + phase. */
export function nextSlot(after: number, periodMs: number, phaseMs: number): number {
  const k = Math.floor((after - phaseMs) / periodMs) + 1;
  return k * periodMs + phaseMs;
}

/** Drives rounds for a changing set of routes. */
export class Scheduler {
  readonly #deps: SchedulerDeps;
  readonly #options: SchedulerOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #heap = new MinHeap<Due>((a, b) => a.at - b.at);
  readonly #cronTasks = new Map<string, { task: CronTask; ids: Set<string> }>();
  readonly #inFlight = new Set<Promise<void>>();
  /** Ids of the routes whose round runs now: by id, not on the entry, since a change mid-round replaces the entry. */
  readonly #running = new Set<string>();
  /** Due rounds waiting for admission (maxRunning), oldest first from #waitingHead. */
  #waiting: Waiting[] = [];
  #waitingHead = 0;
  /** Rounds started and not ended (those waiting for admission are not counted). */
  #started = 0;
  #timer: unknown = null;
  #timerAt = Infinity;
  #stopped = false;

  constructor(deps: SchedulerDeps, options: SchedulerOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  /** Rounds running now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Due rounds waiting for admission (maxRunning). */
  get waiting(): number {
    return this.#waiting.length - this.#waitingHead;
  }

  /** Routes scheduled. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Replaces the set of routes: new ones start within firstRoundWithinMs, removed ones stop, changed
   * ones re-run soon. First rounds are spread about one per millisecond, over at most
   * firstRoundWithinMs: a thousand new routes do not fire in one instant, and one new route (an
   * Ingress just created, a changed EndpointSlice) is probed at once rather than up to a second later.
   */
  setRoutes(routes: readonly ScheduledRoute[]): void {
    if (this.#stopped) return;
    let fresh = 0;
    for (const scheduled of routes) if (!this.#unchanged(scheduled)) fresh++;
    const spreadMs = Math.max(1, Math.min(this.#options.firstRoundWithinMs, fresh * FIRST_ROUND_SPACING_MS));
    const seen = new Set<string>();
    for (const scheduled of routes) {
      seen.add(scheduled.route.id);
      this.#upsert(scheduled, spreadMs);
    }
    for (const [id, entry] of this.#entries) {
      if (seen.has(id)) continue;
      entry.generation++;
      this.#entries.delete(id);
      this.#detachCron(id, entry.scheduled.schedule);
    }
    this.#arm();
  }

  /**
   * The same as setRoutes with the routes it had, those upserted and without those removed: for a
   * caller that knows what changed (a change to one object of 10,000 routes costs what changed).
   */
  updateRoutes(upserted: readonly ScheduledRoute[], removed: readonly string[]): void {
    if (this.#stopped) return;
    let fresh = 0;
    for (const scheduled of upserted) if (!this.#unchanged(scheduled)) fresh++;
    const spreadMs = Math.max(1, Math.min(this.#options.firstRoundWithinMs, fresh * FIRST_ROUND_SPACING_MS));
    for (const scheduled of upserted) this.#upsert(scheduled, spreadMs);
    for (const id of removed) {
      const entry = this.#entries.get(id);
      if (entry === undefined) continue;
      entry.generation++;
      this.#entries.delete(id);
      this.#detachCron(id, entry.scheduled.schedule);
    }
    this.#arm();
  }

  /** True when the route is scheduled already with the same schedule and definition (only its facts may differ). */
  #unchanged(scheduled: ScheduledRoute): boolean {
    const existing = this.#entries.get(scheduled.route.id);
    return existing !== undefined && existing.scheduled.definition === scheduled.definition && scheduleKey(existing.scheduled.schedule) === scheduleKey(scheduled.schedule);
  }

  #upsert(scheduled: ScheduledRoute, spreadMs: number): void {
    const id = scheduled.route.id;
    const existing = this.#entries.get(id);
    if (existing && this.#unchanged(scheduled)) {
      existing.scheduled = scheduled; // fresher facts, same slots
      return;
    }
    if (existing) {
      existing.generation++;
      this.#detachCron(id, existing.scheduled.schedule);
    }
    const periodMs = scheduled.schedule.kind === 'interval' ? scheduled.schedule.everyMs : this.#deps.cronPeriodMs(scheduled.schedule.expression);
    const entry: Entry = { scheduled, periodMs, phaseMs: phaseOf(id, periodMs), generation: (existing?.generation ?? 0) + 1 };
    this.#entries.set(id, entry);
    // New or changed: a first round soon (spread over spreadMs), then the regular slots.
    const soon = this.#deps.now() + (entry.phaseMs % spreadMs);
    this.#push(id, entry, soon);
    if (scheduled.schedule.kind === 'cron') this.#attachCron(id, scheduled.schedule.expression);
  }

  #push(id: string, entry: Entry, at: number): void {
    this.#heap.push({ at, id, generation: entry.generation });
  }

  #attachCron(id: string, expression: string): void {
    let group = this.#cronTasks.get(expression);
    if (!group) {
      const ids = new Set<string>();
      const task = this.#deps.cron(expression, () => this.#onCronTick(ids));
      group = { task, ids };
      this.#cronTasks.set(expression, group);
    }
    group.ids.add(id);
  }

  #detachCron(id: string, schedule: Schedule): void {
    if (schedule.kind !== 'cron') return;
    const group = this.#cronTasks.get(schedule.expression);
    if (!group) return;
    group.ids.delete(id);
    if (group.ids.size === 0) {
      void group.task.stop();
      this.#cronTasks.delete(schedule.expression);
    }
  }

  #onCronTick(ids: Set<string>): void {
    const now = this.#deps.now();
    for (const id of ids) {
      const entry = this.#entries.get(id);
      if (entry) this.#push(id, entry, now + entry.phaseMs);
    }
    this.#arm();
  }

  /** Sets the one timer to the earliest due slot. */
  #arm(): void {
    if (this.#stopped) return;
    const next = this.#heap.peek();
    if (!next) return;
    if (this.#timer !== null && this.#timerAt <= next.at) return;
    if (this.#timer !== null) this.#deps.clearTimer(this.#timer);
    this.#timerAt = next.at;
    this.#timer = this.#deps.setTimer(() => this.#fire(), Math.max(0, next.at - this.#deps.now()));
  }

  #fire(): void {
    this.#timer = null;
    this.#timerAt = Infinity;
    const now = this.#deps.now();
    for (let due = this.#heap.peek(); due && due.at <= now; due = this.#heap.peek()) {
      this.#heap.pop();
      const entry = this.#entries.get(due.id);
      if (!entry || entry.generation !== due.generation) continue;
      this.#dispatch(entry, due.at, now);
      if (entry.scheduled.schedule.kind === 'interval') this.#push(due.id, entry, nextSlot(Math.max(due.at, now), entry.periodMs, entry.phaseMs));
    }
    this.#arm();
  }

  #dispatch(entry: Entry, slot: number, now: number): void {
    const route = entry.scheduled.route;
    if (this.#running.has(route.id)) return this.#deps.onLate(route, 'overlap');
    if (now - slot > this.#options.lateAfterMs) return this.#deps.onLate(route, 'behind');
    // Counted as running from here, also while it waits: a later slot of the route is an overlap.
    this.#running.add(route.id);
    if (this.#started < (this.#options.maxRunning ?? Infinity)) this.#start(route, slot, now);
    else this.#waiting.push({ id: route.id, slot });
  }

  #start(route: Route, slot: number, now: number): void {
    this.#deps.onLateness(now - slot);
    this.#started++;
    const round = this.#deps.runRound(route).finally(() => {
      this.#running.delete(route.id);
      this.#inFlight.delete(round);
      this.#started--;
      this.#admit();
    });
    this.#inFlight.add(round);
  }

  /** Starts waiting rounds while there is room; those waiting beyond lateAfterMs are skipped as behind. */
  #admit(): void {
    const max = this.#options.maxRunning ?? Infinity;
    while (this.#waitingHead < this.#waiting.length && this.#started < max && !this.#stopped) {
      const next = this.#waiting[this.#waitingHead++]!;
      const entry = this.#entries.get(next.id);
      const now = this.#deps.now();
      // A route removed while its round waited is not probed; a changed one is probed with its latest facts.
      if (entry === undefined || now - next.slot > this.#options.lateAfterMs) this.#running.delete(next.id);
      if (entry === undefined) continue;
      if (now - next.slot > this.#options.lateAfterMs) this.#deps.onLate(entry.scheduled.route, 'behind');
      else this.#start(entry.scheduled.route, next.slot, now);
    }
    // Compact now and then, so a long-lived queue does not keep what was taken from it.
    if (this.#waitingHead > 1024 && this.#waitingHead * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#waitingHead);
      this.#waitingHead = 0;
    }
  }

  /** Stops scheduling; waits for rounds in flight at most waitMs. */
  async stop(waitMs: number): Promise<void> {
    this.#stopped = true;
    // Rounds not started are dropped: stopping waits only for the rounds probing now.
    this.#waiting = [];
    this.#waitingHead = 0;
    if (this.#timer !== null) this.#deps.clearTimer(this.#timer);
    this.#timer = null;
    for (const { task } of this.#cronTasks.values()) await task.stop();
    this.#cronTasks.clear();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
    await Promise.race([Promise.allSettled([...this.#inFlight]), bound]);
    clearTimeout(timer);
  }
}

function scheduleKey(schedule: Schedule): string {
  return schedule.kind === 'interval' ? `every ${schedule.everyMs}` : `cron ${schedule.expression}`;
}
