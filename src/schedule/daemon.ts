// The run loop of `hopwatch run`: discovery -> schedule -> probe -> classify -> store, incidents,
// metrics and alerts. I/O objects come in as parameters (built by src/main.ts).

import type { AlertEvent, AlertRoute } from '../alerts/payloads.js';
import type { Config } from '../config/types.js';
import { parseSchedule, ScheduleError } from '../config/schedule.js';
import type { Schedule } from '../config/types.js';
import type { RoutesDelta } from '../discovery/incremental.js';
import type { ClusterWatch } from '../discovery/informers.js';
import type { Route, RouteRound } from '../model.js';
import { probeRoute, type RoundDeps } from '../probe/round.js';
import { getIncident, type Incident, insertIncident, listIncidents, updateIncident } from '../store/incidents.js';
import { addToOutbox, oldestOutboxEntry, outboxEntries, removeFromOutbox, removeOutboxBefore } from '../store/outbox.js';
import { getRoute, markRoutePresence, markRoutesChanged } from '../store/queries.js';
import type { Db } from '../store/sqlite.js';
import type { StoreWriter } from '../store/write.js';
import { IncidentTracker, type IncidentAction } from './incidents.js';
import { RoundQueue } from './queue.js';
import { type ScheduledRoute, Scheduler, type SchedulerDeps } from './scheduler.js';

/** What the loop reports to the metrics. */
export interface LoopMetrics {
  /** A round finished. */
  observeRound(round: RouteRound): void;
  /** A route disappeared. */
  forgetRoute(routeId: string): void;
  /** A slot was skipped. */
  roundLate(reason: 'overlap' | 'behind'): void;
  /** A round started this late after its slot. */
  scheduleLateness(ms: number): void;
  /** Discovery state. */
  setDiscovery(state: { routes: number; lastSyncMs: number | null; state: string }): void;
  /** Open incidents. */
  setIncidentsOpen(count: number): void;
}

/** Where incident alerts go. */
export interface LoopAlerter {
  /** Queues an alert; returns at once. onSettled: every receiver accepted or finally refused it. */
  notify(event: AlertEvent, onSettled?: (allDelivered: boolean) => void): void;
  /** Its receivers (none: nothing goes to the outbox). */
  stats(): { receivers: readonly unknown[] };
}

/** Logger: one line per event. */
export type LoopLog = (level: 'info' | 'warn' | 'error', message: string) => void;

/** Everything the loop needs. */
export interface LoopDeps {
  /** Validated configuration. */
  config: Readonly<Config>;
  /** The cluster watch (started, maybe not synced yet). */
  watch: ClusterWatch;
  /** Computes routes from the watch's snapshot. */
  routes: () => Route[];
  /** What changed in the routes since the last call (src/discovery/incremental.ts); when given, used instead of routes. */
  routesDelta?: () => RoutesDelta;
  /** The store (main connection, for incidents). */
  db: Db;
  /** The store's round writer. */
  writer: StoreWriter;
  /** Probing deps (prober, shared limit, clocks). */
  round: RoundDeps;
  /** Metrics. */
  metrics: LoopMetrics;
  /** Alerts. */
  alerter: LoopAlerter;
  /** Scheduler timers and cron (injected for tests). */
  timers: Pick<SchedulerDeps, 'setTimer' | 'clearTimer' | 'cron' | 'cronPeriodMs'>;
  /** Log lines. */
  log: LoopLog;
  /** Called with every finished round (after it is queued for the store). */
  onRound?: (round: RouteRound) => void;
  /** Start as a standby (leader election decides later, src/ha/lease.ts); default: leading. */
  standby?: boolean;
}

/**
 * A digest of what makes a route "changed": a change gets a round at once, not at its next slot.
 * It includes the addresses of the route's own backend (endpoints with their conditions, the
 * Service's ClusterIP) and its edge: a pod added in a rollout is probed within a moment of the
 * change, not up to a period later. The controller's pods are left out on purpose: they are shared
 * by every route, and a controller rollout would otherwise re-probe every route in the same second.
 */
export function routeDefinition(route: Route): string {
  const c = route.controller;
  return JSON.stringify([
    route.probe, route.notProbeable, c?.ingressClass ?? null, c?.edge ?? null,
    route.backends.map((b) => [
      b.ref, b.weight, b.selector, b.service?.name ?? null, b.service?.clusterIP ?? null, b.servicePort?.port ?? null,
      b.endpoints.map((e) => [e.address, e.port, e.ready, e.terminating]),
    ]),
  ]);
}

/**
 * Rounds probing at once: twice the probe concurrency. A round has 5-7 hops, so these rounds' hops
 * keep every probe slot busy even while some rounds wait on a slow hop; further due rounds wait
 * as a slot (route id and time) until one ends, instead of as planned hops queued in the limiter.
 */
export function maxRoundsRunning(config: Readonly<Config>): number {
  return 2 * config.probe.concurrency;
}

/** The schedule of a route: its annotation, else the first matching override, else the default. */
export function scheduleOf(route: Route, config: Readonly<Config>, warn: (message: string) => void): Schedule {
  if (route.probe.schedule !== null) {
    try {
      return parseSchedule(route.probe.schedule);
    } catch (error) {
      if (!(error instanceof ScheduleError)) throw error;
      warn(`route ${route.namespace}/${route.ingress}: hopwatch.io/schedule ${error.reason}; using the default schedule`);
    }
  }
  const override = config.schedule.overrides.find(
    (o) => (o.match.namespace === null || o.match.namespace === route.namespace) && (o.match.ingress === null || o.match.ingress === route.ingress),
  );
  return override?.schedule ?? config.schedule.default;
}

/** The daemon's loop. */
export class RunLoop {
  readonly #deps: LoopDeps;
  readonly #scheduler: Scheduler;
  readonly #tracker: IncidentTracker;
  readonly #queue: RoundQueue;
  readonly #openIds = new Map<string, number>();
  readonly #warned = new Set<string>();
  /** The last known description of every scheduled route, for alerts of routes that disappear. */
  #known = new Map<string, Route>();
  #unsubscribe: (() => void)[] = [];
  #lastSyncMs: number | null = null;
  #presenceMarked = false;
  #restoredChecked = false;
  /** Whether this replica sends alerts (a lone replica always; with ha, while it holds the Lease). */
  #leading = true;
  /** Outbox entries handed to the alerter and not settled yet: never handed over twice. */
  readonly #inFlight = new Set<number>();
  /** The last answer of deps.routes(): the same array again means nothing changed. */
  #lastAnswer: Route[] | null = null;

  constructor(deps: LoopDeps) {
    this.#deps = deps;
    this.#leading = deps.standby !== true;
    this.#tracker = new IncidentTracker(deps.config.incidents);
    this.#queue = new RoundQueue((rounds) => deps.writer.writeRounds(rounds), { maxBatch: 500, flushMs: 200, log: deps.log });
    this.#scheduler = new Scheduler(
      {
        ...deps.timers,
        now: deps.round.now,
        runRound: (route) => this.#runRound(route),
        onLate: (_route, reason) => deps.metrics.roundLate(reason),
        onLateness: (ms) => deps.metrics.scheduleLateness(ms),
      },
      { lateAfterMs: deps.config.schedule.lateAfterMs, firstRoundWithinMs: 1000, maxRunning: maxRoundsRunning(deps.config) },
    );
  }

  /** Due rounds waiting for admission (more due at once than maxRoundsRunning: a start, a backlog). */
  get roundsWaiting(): number {
    return this.#scheduler.waiting;
  }

  /** Rounds probing now. */
  get inFlight(): number {
    return this.#scheduler.inFlight;
  }

  /** Rounds waiting to be written. */
  get writesPending(): number {
    return this.#queue.size;
  }

  /** Routes scheduled. */
  get routeCount(): number {
    return this.#scheduler.size;
  }

  /** Restores open incidents and starts following the cluster. */
  start(): void {
    const open: Incident[] = [];
    // Every open incident, page by page: a route whose incident is not restored would open a second one.
    for (let cursor: string | undefined, page = 0; page < 10_000; page++) {
      const found = listIncidents(this.#deps.db, { state: 'open', limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
      open.push(...found.incidents);
      if (found.nextCursor === null) break;
      cursor = found.nextCursor;
    }
    this.#tracker.restore(open);
    for (const incident of open) this.#openIds.set(incident.routeId, incident.id);
    this.#deps.metrics.setIncidentsOpen(this.#tracker.openCount);
    try {
      this.#resendOutbox();
    } catch (error) {
      this.#deps.log('error', `alerts: cannot read the outbox: ${error instanceof Error ? error.message : String(error)}`);
    }
    const { watch } = this.#deps;
    this.#unsubscribe.push(watch.onChange(() => this.#refresh()));
    this.#unsubscribe.push(watch.onState((state) => this.#onState(state)));
    void watch.synced.then(() => this.#onState('synced')).catch(() => undefined);
  }

  #onState(state: string): void {
    if (state === 'synced') {
      this.#lastSyncMs = this.#deps.round.now();
      this.#refresh();
    }
    this.#deps.metrics.setDiscovery({ routes: this.#scheduler.size, lastSyncMs: this.#lastSyncMs, state });
  }

  /**
   * Recomputes routes from the watch and hands what changed to the scheduler (the last known plan
   * stays when the cluster is away). Discovery hands back the same Route objects for what a change
   * did not touch: only new objects are scheduled again, so a change to one object of 10,000 routes
   * costs a few passes over the list, not a schedule and a definition per route.
   */
  #refresh(): void {
    const state = this.#deps.watch.state;
    if (state === 'connecting') return;
    let answer: Route[];
    if (this.#deps.routesDelta !== undefined) {
      const delta = this.#deps.routesDelta();
      if (!delta.full) return this.#applyDelta(delta.upserted, delta.removed, state);
      answer = delta.routes;
    } else answer = this.#deps.routes();
    if (answer === this.#lastAnswer && (this.#restoredChecked || state !== 'synced')) {
      this.#deps.metrics.setDiscovery({ routes: this.#known.size, lastSyncMs: this.#lastSyncMs, state });
      return;
    }
    this.#lastAnswer = answer;
    const current = new Map<string, Route>();
    const upserted: ScheduledRoute[] = [];
    const added: string[] = [];
    for (const route of answer) {
      if (route.probe.ignore) continue;
      current.set(route.id, route);
      const known = this.#known.get(route.id);
      if (known === route) continue;
      if (known === undefined) added.push(route.id);
      upserted.push({ route, schedule: scheduleOf(route, this.#deps.config, (m) => this.#warnOnce(m)), definition: routeDefinition(route) });
    }
    const removed: string[] = [];
    for (const [id, route] of this.#known) {
      if (current.has(id)) continue;
      removed.push(id);
      this.#deps.metrics.forgetRoute(id);
      this.#apply(this.#tracker.forget(id, this.#deps.round.now()), route, 'route-removed');
    }
    this.#scheduler.updateRoutes(upserted, removed);
    if (state === 'synced') this.#closeRestoredOfGoneRoutes(current);
    if (current.size !== this.#known.size) this.#deps.log('info', `discovery: ${current.size} routes scheduled`);
    this.#markPresence(current, added, removed);
    this.#known = current;
    this.#deps.metrics.setDiscovery({ routes: current.size, lastSyncMs: this.#lastSyncMs, state });
  }

  /** #refresh for a known change: the routes recomputed (some maybe ignored now) and the ids gone. */
  #applyDelta(upserted: readonly Route[], gone: readonly string[], state: string): void {
    const scheduled: ScheduledRoute[] = [];
    const added: string[] = [];
    const present = new Set<string>();
    const removed: string[] = [];
    for (const route of upserted) {
      const known = this.#known.get(route.id);
      if (route.probe.ignore) {
        if (known !== undefined) removed.push(route.id);
        continue;
      }
      present.add(route.id);
      if (known === route) continue;
      if (known === undefined) added.push(route.id);
      scheduled.push({ route, schedule: scheduleOf(route, this.#deps.config, (m) => this.#warnOnce(m)), definition: routeDefinition(route) });
      this.#known.set(route.id, route);
    }
    for (const id of gone) if (!present.has(id) && this.#known.has(id)) removed.push(id);
    for (const id of removed) {
      const route = this.#known.get(id)!;
      this.#known.delete(id);
      this.#deps.metrics.forgetRoute(id);
      this.#apply(this.#tracker.forget(id, this.#deps.round.now()), route, 'route-removed');
    }
    this.#scheduler.updateRoutes(scheduled, removed);
    if (state === 'synced') this.#closeRestoredOfGoneRoutes(this.#known);
    if (added.length !== removed.length) this.#deps.log('info', `discovery: ${this.#known.size} routes scheduled`);
    this.#markPresence(this.#known, added, removed);
    this.#deps.metrics.setDiscovery({ routes: this.#known.size, lastSyncMs: this.#lastSyncMs, state });
  }

  /** A route no longer discovered, as the store last knew it, for its alerts. */
  #storedRoute(routeId: string): AlertRoute {
    return getRoute(this.#deps.db, routeId) ?? { id: routeId, namespace: '?', ingress: '?', host: null, path: '?' };
  }

  /**
   * Once, at the first full sync after a start: an incident restored from the store whose route no
   * longer exists (removed while hopwatch was down) is closed, or it would stay open for ever.
   */
  #closeRestoredOfGoneRoutes(current: Map<string, Route>): void {
    if (this.#restoredChecked) return;
    this.#restoredChecked = true;
    for (const routeId of [...this.#openIds.keys()]) {
      if (current.has(routeId)) continue;
      this.#apply(this.#tracker.forget(routeId, this.#deps.round.now()), this.#storedRoute(routeId), 'route-removed');
    }
  }

  /** Tells the store which routes exist (removed ones leave the routes list, their history stays): all at first, then what changed. */
  #markPresence(current: Map<string, Route>, added: readonly string[], removed: readonly string[]): void {
    if (this.#presenceMarked && added.length === 0 && removed.length === 0) return;
    try {
      if (this.#presenceMarked) markRoutesChanged(this.#deps.db, added, removed, this.#deps.round.now());
      else markRoutePresence(this.#deps.db, [...current.keys()], this.#deps.round.now());
      this.#presenceMarked = true;
    } catch (error) {
      this.#deps.log('error', `store: cannot record route presence: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #warnOnce(message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    this.#deps.log('warn', message);
  }

  async #runRound(route: Route): Promise<void> {
    try {
      const round = await probeRoute(route, this.#deps.round);
      this.#queue.push(round);
      this.#deps.metrics.observeRound(round);
      this.#apply(this.#tracker.observe(round), route);
      this.#deps.onRound?.(round);
    } catch (error) {
      // A bug, not a failing target (those are data): log it and keep the loop alive.
      this.#deps.log('error', `round of ${route.namespace}/${route.ingress} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  #apply(actions: IncidentAction[], route: AlertRoute, closeReason: AlertEvent['reason'] = 'recovered'): void {
    const { db, alerter } = this.#deps;
    for (const action of actions) {
      try {
        const incident = this.#write(db, action);
        if (incident && action.type === 'open') this.#send({ kind: 'opened', incident, route });
        if (incident && action.type === 'update' && action.escalated) this.#send({ kind: 'escalated', incident, route });
        if (incident && action.type === 'close') this.#send({ kind: 'closed', incident, route, reason: closeReason });
      } catch (error) {
        this.#deps.log('error', `incident of route ${action.routeId} not stored: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    this.#deps.metrics.setIncidentsOpen(this.#tracker.openCount);
  }

  /** Whether this replica sends alerts now. */
  get leading(): boolean {
    return this.#leading;
  }

  /**
   * Leader election's answer. A standby writes its alerts to the outbox and holds them; when it
   * starts leading, it sends what it holds (what the old leader may not have delivered).
   */
  setLeading(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    if (!leading) return;
    try {
      this.#resendOutbox();
    } catch (error) {
      this.#deps.log('error', `alerts: cannot read the outbox: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** A standby drops the alerts it holds that were written before `beforeMs` (the leader settled their twins); returns how many. */
  dropHeldBefore(beforeMs: number): number {
    if (this.#leading || !Number.isFinite(beforeMs)) return 0;
    try {
      return removeOutboxBefore(this.#deps.db, beforeMs);
    } catch (error) {
      this.#deps.log('warn', `alerts: held alerts not pruned: ${error instanceof Error ? error.message : String(error)}`);
      return 0;
    }
  }

  /** Every alert of this replica written before this time is settled (the watermark a leader publishes in the Lease). */
  settledBefore(): number {
    try {
      return oldestOutboxEntry(this.#deps.db) ?? this.#deps.round.now();
    } catch {
      // Unknown: claim nothing, so standbys keep what they hold.
      return 0;
    }
  }

  /** Sends an alert through the outbox: written first, deleted once every receiver has settled it (a standby only writes it). */
  #send(event: AlertEvent, outboxId: number | null = null): void {
    const { db, alerter } = this.#deps;
    if (alerter.stats().receivers.length === 0) return;
    const id = outboxId ?? addToOutbox(db, { incidentId: event.incident.id, event: event.kind, reason: event.reason ?? null, createdAt: this.#deps.round.now() });
    if (!this.#leading || this.#inFlight.has(id)) return;
    this.#inFlight.add(id);
    alerter.notify(event, () => {
      this.#inFlight.delete(id);
      try {
        removeFromOutbox(db, id);
      } catch (error) {
        // The store is closing or failing: at worst the alert is sent once more at the next start.
        this.#deps.log('warn', `alerts: outbox entry ${id} not cleared: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  }

  /** Alerts a previous run wrote and did not see settled (a stop or a crash during an outage): sent again. */
  #resendOutbox(): void {
    const { db } = this.#deps;
    const entries = outboxEntries(db);
    const noReceivers = this.#deps.alerter.stats().receivers.length === 0;
    for (const entry of entries) {
      const incident = getIncident(db, entry.incidentId);
      // No receiver configured any more, or the incident is gone: nothing to send it to, or about.
      if (incident === null || noReceivers) {
        removeFromOutbox(db, entry.id);
        continue;
      }
      const route = this.#storedRoute(incident.routeId);
      this.#send({ kind: entry.event, incident, route, ...(entry.reason === null ? {} : { reason: entry.reason }) }, entry.id);
    }
    if (entries.length > 0 && !noReceivers && this.#leading) this.#deps.log('info', `alerts: sending ${entries.length} alert(s) not known to be delivered (from the last run, or held while standing by)`);
  }

  #write(db: Db, action: IncidentAction): Incident | null {
    if (action.type === 'open') {
      const incident = insertIncident(db, action.incident);
      this.#openIds.set(action.routeId, incident.id);
      return incident;
    }
    const id = this.#openIds.get(action.routeId);
    if (id === undefined) return null;
    if (action.type === 'close') this.#openIds.delete(action.routeId);
    return updateIncident(db, id, action.patch);
  }

  /** Stops scheduling, lets rounds in flight finish (at most waitMs), writes what is queued. */
  async stop(waitMs: number): Promise<void> {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    await this.#scheduler.stop(waitMs);
    this.#queue.close();
  }
}
