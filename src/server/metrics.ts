// Prometheus metrics of the daemon: a projection of rounds, schedule and
// discovery state onto prom-client series, in a registry of its own (never the
// global one). Cardinality is bounded by the routes: label values are
// namespaces, ingresses, hosts, paths, hop kinds, phases, verdict statuses,
// causes and result classes, never pod IPs or pod names.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { HopKind, HopResult, Route, RouteRound } from '../model.js';
import { VERSION } from '../version.js';

/** The labels that name a route. */
export interface RouteLabels {
  /** Namespace of the Ingress. */
  namespace: string;
  /** Name of the Ingress. */
  ingress: string;
  /** The rule's host; "(any)" for a rule without host, "(default)" for the default backend. */
  host: string;
  /** The path. */
  path: string;
  /** The routing object's kind, only when it is not an Ingress (HTTPRoute, GRPCRoute): an HTTPRoute named like an
   * Ingress of its namespace, serving the same host and path (a migration), or one HTTPRoute's several matches on a
   * path, would otherwise share one series and flap; Ingress series keep the labels they always had. */
  kind?: string;
}

/** The phases of hop_duration_seconds. */
export type PhaseLabel = 'dns' | 'connect' | 'tls' | 'ttfb' | 'total';

/** What one round changes in the metrics: a pure function of the round. */
export interface RoundProjection {
  /** The route's labels. */
  route: RouteLabels;
  /** hopwatch_route_up: 1 ok or degraded (the route answers), 0 failing, null unknown (no series: nothing was judged). */
  up: 0 | 1 | null;
  /** hopwatch_route_verdict's extra labels (hop "none" when the verdict names none). */
  verdict: { status: string; hop: string; cause: string };
  /** hopwatch_route_edge_status_code: the highest status the route's edge hops answered, 0 when none answered, null when no edge hop was probed (no series). */
  edgeStatus: number | null;
  /** hopwatch_hop_requests_total increments, one entry per (hop, result). */
  hopRequests: { hop: HopKind; result: string; count: number }[];
  /** hopwatch_hop_duration_seconds observations (none for hops hopwatch cannot reach from where it runs). */
  durations: { hop: HopKind; phase: PhaseLabel; seconds: number }[];
}

/** The load figures the daemon can report at scrape time. */
export interface LoadFigures {
  /** Rounds probing now. */
  roundsInFlight: number;
  /** Hop probes holding a concurrency slot. */
  probesActive: number;
  /** Hop probes waiting for a slot. */
  probesQueued: number;
  /** Rounds waiting to be written to the store. */
  writesPending: number;
}

/** The route labels of a route. */
export function routeLabels(route: Pick<Route, 'namespace' | 'ingress' | 'host' | 'path' | 'defaultBackend'> & Partial<Pick<Route, 'kind'>>): RouteLabels {
  const host = route.defaultBackend ? '(default)' : (route.host ?? '(any)');
  const labels: RouteLabels = { namespace: route.namespace, ingress: route.ingress, host, path: route.path };
  if (route.kind !== undefined && route.kind !== 'Ingress') labels.kind = route.kind;
  return labels;
}

/** The result label of a hop: ok, its error code, or its status class (4xx, 5xx, 1xx). */
export function hopResultLabel(hop: Pick<HopResult, 'status' | 'error'>): string {
  if (hop.error !== null) return hop.error;
  if (hop.status === null || (hop.status >= 200 && hop.status < 400)) return 'ok';
  return `${Math.floor(hop.status / 100)}xx`;
}

const PHASES: readonly [PhaseLabel, keyof HopResult['timings']][] = [
  ['dns', 'dnsMs'],
  ['connect', 'connectMs'],
  ['tls', 'tlsMs'],
  ['ttfb', 'ttfbMs'],
  ['total', 'totalMs'],
];

/** Projects a round onto metric updates. */
export function projectRound(round: RouteRound): RoundProjection {
  const { verdict } = round;
  const counts = new Map<string, { hop: HopKind; result: string; count: number }>();
  const durations: RoundProjection['durations'] = [];
  for (const hop of round.hops) {
    const result = hopResultLabel(hop);
    const key = `${hop.hop}\0${result}`;
    const entry = counts.get(key);
    if (entry === undefined) counts.set(key, { hop: hop.hop, result, count: 1 });
    else entry.count++;
    // An unreachable hop's timings measure hopwatch's own vantage point, not the route.
    if (hop.error === 'unreachable') continue;
    for (const [phase, field] of PHASES) {
      const ms = hop.timings[field];
      if (ms !== undefined && Number.isFinite(ms) && ms >= 0) durations.push({ hop: hop.hop, phase, seconds: ms / 1000 });
    }
  }
  return {
    route: routeLabels(round.route),
    edgeStatus: edgeStatusOf(round.hops),
    up: verdict.status === 'unknown' ? null : verdict.status === 'failing' ? 0 : 1,
    verdict: { status: verdict.status, hop: verdict.hop ?? 'none', cause: verdict.cause },
    hopRequests: [...counts.values()],
    durations,
  };
}

/** The status the edge answered a round with: the highest of its edge hops (http and https), 0 when none answered, null when no edge hop ran or none could be reached from where hopwatch runs. */
export function edgeStatusOf(hops: readonly Pick<HopResult, 'hop' | 'status' | 'error'>[]): number | null {
  const edges = hops.filter((h) => h.hop === 'edge' && h.error !== 'unreachable');
  if (edges.length === 0) return null;
  return Math.max(0, ...edges.map((h) => h.status ?? 0));
}

/** Where this replica stands in leader election (src/ha/lease.ts); a lone replica without a Lease leads. */
export interface LeaderFigures {
  /** This replica's identity (the Lease holder name it writes). */
  identity: string;
  /** Whether it holds the Lease (sends incident alerts) now. */
  leader: boolean;
}

/** One alert receiver's counters, as the alerter keeps them (src/alerts/webhooks.ts ReceiverStats). */
export interface AlertReceiverFigures {
  /** "slack webhook #1 (hooks.slack.com)". */
  receiver: string;
  /** Alerts waiting. */
  queued: number;
  /** Alerts the receiver accepted. */
  delivered: number;
  /** Alerts given up (rejected, or out of attempts). */
  failed: number;
  /** Alerts dropped from a full queue. */
  dropped: number;
}

/** Options of createMetrics. */
export interface MetricsOptions {
  /** Add prom-client's process and Node.js metrics (default true; tests may turn them off). */
  defaultMetrics?: boolean;
  /** Constant labels on every series (metrics.labels of the config, e.g. { cluster: "prod-eu" }). */
  labels?: Readonly<Record<string, string>>;
}

/** The daemon's metrics: the registry and the methods the run loop calls (src/schedule/daemon.ts LoopMetrics). */
export interface Metrics {
  /** The registry /metrics serves. */
  readonly registry: Registry;
  /** Records a finished round. */
  observeRound(round: RouteRound): void;
  /** Removes every series of a route that disappeared. */
  forgetRoute(routeId: string): void;
  /** Counts a skipped slot. */
  roundLate(reason: string): void;
  /** Records how late a round started after its slot. */
  scheduleLateness(ms: number): void;
  /** Records discovery's state. */
  setDiscovery(state: { routes: number; lastSyncMs: number | null; state: string }): void;
  /** Records the number of open incidents. */
  setIncidentsOpen(count: number): void;
  /** Reads load figures at each scrape from this source (missing figures are left out). */
  trackLoad(source: () => Partial<LoadFigures>): void;
  /** Reads the alert receivers' counters at each scrape from this source. */
  trackAlerts(source: () => readonly AlertReceiverFigures[]): void;
  /** Reads the replica's leader state at each scrape (without a source: identity "", leader). */
  trackLeader(source: () => LeaderFigures): void;
  /** The exposition text. */
  render(): Promise<string>;
  /** The exposition's content type. */
  readonly contentType: string;
}

/** Creates the metrics in a registry of their own. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.labels !== undefined && Object.keys(options.labels).length > 0) registry.setDefaultLabels({ ...options.labels });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return new DaemonMetrics(registry);
}

const ROUTE_LABELS = ['namespace', 'ingress', 'host', 'path', 'kind'] as const;

/** The series and the state needed to remove a route's series later. */
class DaemonMetrics implements Metrics {
  readonly #routeUp: Gauge<string>;
  readonly #routeVerdict: Gauge<string>;
  readonly #edgeStatus: Gauge<string>;
  readonly #hopRequests: Counter<string>;
  readonly #hopDuration: Histogram<string>;
  readonly #rounds: Counter<string>;
  readonly #late: Counter<string>;
  readonly #lateness: Histogram<string>;
  readonly #discoveryRoutes: Gauge<string>;
  readonly #lastSync: Gauge<string>;
  readonly #discoveryState: Gauge<string>;
  readonly #incidentsOpen: Gauge<string>;
  /** The labels each route's current series carry. */
  readonly #routes = new Map<string, { labels: RouteLabels; verdict: Record<string, string> }>();
  /** Routes per ingress, and the hop/result series each ingress has: removed with its last route. */
  readonly #ingresses = new Map<string, { routes: Set<string>; results: Set<string> }>();
  readonly #states = new Set<string>();
  #load: (() => Partial<LoadFigures>) | null = null;
  #alerts: (() => readonly AlertReceiverFigures[]) | null = null;
  #leader: (() => LeaderFigures) | null = null;

  constructor(readonly registry: Registry) {
    const registers = [registry];
    const loadGauge = (name: string, help: string, field: keyof LoadFigures): void => {
      const self = this;
      new Gauge({ name, help, registers, collect() {
        const value = self.#load?.()[field];
        if (value !== undefined) this.set(value);
      } });
    };
    this.#routeUp = new Gauge({ name: 'hopwatch_route_up', help: 'Whether the route answers users: 1 ok or degraded, 0 failing (absent while unknown).', labelNames: ROUTE_LABELS, registers });
    this.#routeVerdict = new Gauge({ name: 'hopwatch_route_verdict', help: "The route's current verdict: one series per route, value 1.", labelNames: [...ROUTE_LABELS, 'status', 'hop', 'cause'], registers });
    this.#edgeStatus = new Gauge({ name: 'hopwatch_route_edge_status_code', help: "The HTTP status the edge answered the route's last probe with (the highest of its edge hops; 0: no answer).", labelNames: ROUTE_LABELS, registers });
    this.#hopRequests = new Counter({ name: 'hopwatch_hop_requests_total', help: 'Hop probes by result: ok, an error code, or a status class (4xx, 5xx).', labelNames: ['namespace', 'ingress', 'kind', 'hop', 'result'], registers });
    this.#hopDuration = new Histogram({ name: 'hopwatch_hop_duration_seconds', help: 'Phase timings of hop probes.', labelNames: ['hop', 'phase'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers });
    this.#rounds = new Counter({ name: 'hopwatch_rounds_total', help: 'Rounds finished, by verdict status.', labelNames: ['status'], registers });
    this.#late = new Counter({ name: 'hopwatch_rounds_late_total', help: 'Scheduled rounds skipped, by reason (overlap: the previous round still runs; behind: too late after its slot).', labelNames: ['reason'], registers });
    // Both reasons exported from the start at 0: rate() and the dashboard see a series before the first skip.
    for (const reason of ['overlap', 'behind']) this.#late.inc({ reason }, 0);
    this.#lateness = new Histogram({ name: 'hopwatch_schedule_lateness_seconds', help: 'How late rounds started after their slot.', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers });
    this.#discoveryRoutes = new Gauge({ name: 'hopwatch_discovery_routes', help: 'Routes discovered and scheduled.', registers });
    this.#lastSync = new Gauge({ name: 'hopwatch_discovery_last_sync_timestamp_seconds', help: 'When discovery last completed a full sync (Unix seconds).', registers });
    this.#discoveryState = new Gauge({ name: 'hopwatch_discovery_state', help: "Discovery's state: 1 for the current one.", labelNames: ['state'], registers });
    this.#incidentsOpen = new Gauge({ name: 'hopwatch_incidents_open', help: 'Incidents open now.', registers });
    loadGauge('hopwatch_rounds_in_flight', 'Rounds probing now.', 'roundsInFlight');
    loadGauge('hopwatch_probes_active', 'Hop probes holding a concurrency slot.', 'probesActive');
    loadGauge('hopwatch_probes_queued', 'Hop probes waiting for a concurrency slot.', 'probesQueued');
    loadGauge('hopwatch_store_writes_pending', 'Rounds waiting to be written to the store.', 'writesPending');
    new Gauge({ name: 'hopwatch_build_info', help: 'hopwatch version.', labelNames: ['version'], registers }).set({ version: VERSION }, 1);
    const self = this;
    // The alerter keeps the counts; each scrape copies them (a reset and an add in one synchronous step).
    new Counter({ name: 'hopwatch_alerts_total', help: 'Incident alerts by receiver and outcome: delivered, failed (rejected or out of attempts), dropped (queue full).', labelNames: ['receiver', 'outcome'], registers, collect() {
      const figures = self.#alerts?.() ?? [];
      this.reset();
      for (const f of figures) for (const outcome of ['delivered', 'failed', 'dropped'] as const) this.inc({ receiver: f.receiver, outcome }, f[outcome]);
    } });
    new Gauge({ name: 'hopwatch_leader', help: 'Whether this replica holds the Lease and sends incident alerts: 1 leader, 0 standby (a lone replica without a Lease: 1).', labelNames: ['identity'], registers, collect() {
      const figures = self.#leader?.() ?? { identity: '', leader: true };
      this.reset();
      this.set({ identity: figures.identity }, figures.leader ? 1 : 0);
    } });
    new Gauge({ name: 'hopwatch_alerts_queued', help: 'Incident alerts waiting for their receiver.', labelNames: ['receiver'], registers, collect() {
      this.reset();
      for (const f of self.#alerts?.() ?? []) this.set({ receiver: f.receiver }, f.queued);
    } });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  observeRound(round: RouteRound): void {
    const p = projectRound(round);
    const id = round.route.id;
    const previous = this.#routes.get(id);
    const verdict = { ...p.route, ...p.verdict };
    if (previous !== undefined && !sameLabels(previous.verdict, verdict)) this.#routeVerdict.remove(previous.verdict);
    if (previous !== undefined && !sameLabels(previous.labels, p.route)) this.#dropRoute(id, previous);
    this.#routes.set(id, { labels: p.route, verdict });
    this.#routeVerdict.set(verdict, 1);
    if (p.up === null) this.#routeUp.remove({ ...p.route });
    else this.#routeUp.set({ ...p.route }, p.up);
    if (p.edgeStatus === null) this.#edgeStatus.remove({ ...p.route });
    else this.#edgeStatus.set({ ...p.route }, p.edgeStatus);
    const ingress = this.#ingress(p.route);
    ingress.routes.add(id);
    for (const h of p.hopRequests) {
      ingress.results.add(`${h.hop}\0${h.result}`);
      this.#hopRequests.inc({ ...objectLabels(p.route), hop: h.hop, result: h.result }, h.count);
    }
    for (const d of p.durations) this.#hopDuration.observe({ hop: d.hop, phase: d.phase }, d.seconds);
    this.#rounds.inc({ status: round.verdict.status });
  }

  #ingress(labels: RouteLabels): { routes: Set<string>; results: Set<string> } {
    const key = `${labels.namespace}\0${labels.ingress}\0${labels.kind ?? ''}`;
    let entry = this.#ingresses.get(key);
    if (entry === undefined) this.#ingresses.set(key, (entry = { routes: new Set(), results: new Set() }));
    return entry;
  }

  forgetRoute(routeId: string): void {
    const known = this.#routes.get(routeId);
    if (known === undefined) return;
    this.#routes.delete(routeId);
    this.#routeVerdict.remove(known.verdict);
    this.#dropRoute(routeId, known);
  }

  /** Removes a route's up series (unless another route shares its labels) and its ingress's counters with its last route. */
  #dropRoute(routeId: string, known: { labels: RouteLabels }): void {
    const shared = [...this.#routes].some(([id, r]) => id !== routeId && sameLabels(r.labels, known.labels));
    if (!shared) {
      this.#routeUp.remove({ ...known.labels });
      this.#edgeStatus.remove({ ...known.labels });
    }
    const key = `${known.labels.namespace}\0${known.labels.ingress}\0${known.labels.kind ?? ''}`;
    const ingress = this.#ingresses.get(key);
    if (ingress === undefined) return;
    ingress.routes.delete(routeId);
    if (ingress.routes.size > 0) return;
    for (const k of ingress.results) {
      const [hop, result] = k.split('\0') as [string, string];
      this.#hopRequests.remove({ ...objectLabels(known.labels), hop, result });
    }
    this.#ingresses.delete(key);
  }

  roundLate(reason: string): void {
    this.#late.inc({ reason });
  }

  scheduleLateness(ms: number): void {
    if (Number.isFinite(ms)) this.#lateness.observe(Math.max(0, ms) / 1000);
  }

  setDiscovery(state: { routes: number; lastSyncMs: number | null; state: string }): void {
    this.#discoveryRoutes.set(state.routes);
    if (state.lastSyncMs !== null) this.#lastSync.set(state.lastSyncMs / 1000);
    this.#states.add(state.state);
    for (const s of this.#states) this.#discoveryState.set({ state: s }, s === state.state ? 1 : 0);
  }

  setIncidentsOpen(count: number): void {
    this.#incidentsOpen.set(count);
  }

  trackLoad(source: () => Partial<LoadFigures>): void {
    this.#load = source;
  }

  trackAlerts(source: () => readonly AlertReceiverFigures[]): void {
    this.#alerts = source;
  }

  trackLeader(source: () => LeaderFigures): void {
    this.#leader = source;
  }
}

/** The labels of a route's routing object (hop_requests_total counts per object, not per route). */
function objectLabels(labels: RouteLabels): { namespace: string; ingress: string; kind?: string } {
  return labels.kind === undefined ? { namespace: labels.namespace, ingress: labels.ingress } : { namespace: labels.namespace, ingress: labels.ingress, kind: labels.kind };
}

function sameLabels(a: object, b: object): boolean {
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => x[k] === y[k]);
}
