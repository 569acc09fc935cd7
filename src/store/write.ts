// The insert path: a batch of rounds in one transaction.
//
// Each round becomes one head row (hops packed, shapes and verdict interned) and
// is counted into the all-routes rollups (minute, hour, day), which are
// aggregated in memory for the batch and written once per bucket. Per-route
// rollups are materialised by compaction (compact.ts) in the same transaction
// that moves the round out of the head; until then readers count head rounds
// directly, so every answer is exact and current. That keeps the insert path
// at one append per round however the batch is spread over routes.

import type { HopResult, Route, RouteRound, Verdict } from '../model.js';
import { ByteWriter, hasShape, shapeOf, toUnits, writeHopResult, type HopShape } from './codec.js';
import { Interner } from './dict.js';
import type { StoredBackend } from './queries.js';
import { ALL_SCOPE, DAY_MS, HOUR_MS, MINUTE_MS, RollupRows, addRound, emptyAgg, floorTo, mergeAgg, type Agg } from './rollup.js';
import type { Db } from './sqlite.js';

/** What a writeRounds call stored. */
export interface WriteResult {
  /** Rounds stored. */
  rounds: number;
  /** Hop results stored. */
  hops: number;
  /** Rounds skipped because the head already holds a round of that route at that startedAt. */
  duplicates: number;
}

/** Writes batches of rounds. One writer per connection; it caches ids between batches. */
export interface StoreWriter {
  /** Stores a batch of rounds (any routes, any order) in one transaction. */
  writeRounds(rounds: readonly RouteRound[]): WriteResult;
}

/** What the writer remembers of a route between batches, to skip lookups when nothing changed. */
interface RouteState {
  rid: number;
  route: Route;
  shapes: { shape: HopShape; id: number }[];
  verdict: Verdict | null;
  verdictId: number;
}

/** The latency a round contributes to rollups: its edge hop's total, in units; -1 when none. */
export function edgeLatencyUnits(hops: readonly HopResult[]): number {
  for (const h of hops) {
    if (h.hop === 'edge') return h.error === 'unreachable' ? -1 : toUnits(h.timings.totalMs);
  }
  return -1;
}

/** Creates the writer for a connection. */
export function createWriter(db: Db): StoreWriter {
  return new RoundWriter(db);
}

/** The writer: prepared statements plus what it remembers between batches. */
class RoundWriter implements StoreWriter {
  private readonly interner: Interner;
  private readonly routes = new Map<string, RouteState>();
  private readonly rows: RollupRows;
  private readonly blob = new ByteWriter(512);
  private readonly insertRound;
  private readonly routeStore;
  private readonly writeBatch;
  private dataVersion = -1;

  constructor(private readonly db: Db) {
    this.interner = new Interner(db);
    this.rows = new RollupRows(db);
    this.insertRound = db.prepare(
      'INSERT OR IGNORE INTO rounds_head (route_rid, started_at, duration, verdict_id, hops) VALUES (?, ?, ?, ?, ?)',
    );
    this.routeStore = routeUpserter(db);
    this.writeBatch = db.transaction((batch: readonly RouteRound[]) => this.store(batch));
  }

  writeRounds(batch: readonly RouteRound[]): WriteResult {
    // Another connection's commit invalidates what we remember of routes (data_version changes only then).
    const dv = this.db.pragma('data_version', { simple: true }) as number;
    if (dv !== this.dataVersion) this.routes.clear();
    this.dataVersion = dv;
    try {
      return this.writeBatch(batch);
    } catch (err) {
      // The ids cached during the failed batch may name rows that were rolled back.
      this.routes.clear();
      this.interner.clear();
      throw err;
    }
  }

  /** The body of the batch transaction: head rows, then the all-routes rollups once per bucket. */
  private store(batch: readonly RouteRound[]): WriteResult {
    const minutes = new Map<number, Agg>();
    let stored = 0;
    let hops = 0;
    for (const round of batch) {
      const startedAt = Math.round(round.startedAt);
      const st = this.stateOf(round.route, startedAt);
      const verdictId = this.verdictIdOf(st, round.verdict);
      const res = this.insertRound.run(st.rid, startedAt, toUnits(round.durationMs), verdictId, this.encodeHops(st, round.hops));
      if (res.changes === 0) continue;
      stored++;
      hops += round.hops.length;
      const m = floorTo(startedAt, MINUTE_MS);
      let agg = minutes.get(m);
      if (agg === undefined) minutes.set(m, (agg = emptyAgg()));
      const v = round.verdict;
      addRound(agg, v.status, v.hop, v.cause, edgeLatencyUnits(round.hops));
    }
    writeAllScope(this.rows, minutes);
    return { rounds: stored, hops, duplicates: batch.length - stored };
  }

  private stateOf(route: Route, at: number): RouteState {
    let st = this.routes.get(route.id);
    if (st !== undefined && sameDescription(st.route, route)) return st;
    const rid = this.routeStore(route, at);
    if (st === undefined) {
      st = { rid, route, shapes: [], verdict: null, verdictId: 0 };
      this.routes.set(route.id, st);
    }
    st.route = route;
    return st;
  }

  private verdictIdOf(st: RouteState, v: Verdict): number {
    if (st.verdict !== null && sameVerdict(st.verdict, v)) return st.verdictId;
    st.verdictId = this.interner.verdictId(v);
    st.verdict = { ...v, evidence: [...v.evidence] };
    return st.verdictId;
  }

  /** Packs a round's hops; each hop is first compared with the route's hop at the same position last time. */
  private encodeHops(st: RouteState, hops: readonly HopResult[]): Buffer {
    const blob = this.blob;
    blob.reset();
    blob.uint(hops.length);
    for (let i = 0; i < hops.length; i++) {
      const hop = hops[i]!;
      let known = st.shapes[i];
      if (known === undefined || !hasShape(hop, known.shape)) {
        const shape = shapeOf(hop);
        known = { shape, id: this.interner.shapeId(shape) };
        st.shapes[i] = known;
      }
      writeHopResult(blob, hop, known.id);
    }
    return blob.view();
  }
}

/** Adds a batch's per-minute aggregates into the all-routes minute, hour and day rows. */
export function writeAllScope(rows: RollupRows, minutes: Map<number, Agg>): void {
  const hours = new Map<number, Agg>();
  const days = new Map<number, Agg>();
  for (const [m, agg] of minutes) {
    rows.merge(ALL_SCOPE, 'minute', m, agg);
    foldInto(hours, floorTo(m, HOUR_MS), agg);
    foldInto(days, floorTo(m, DAY_MS), agg);
  }
  for (const [h, agg] of hours) rows.merge(ALL_SCOPE, 'hour', h, agg);
  for (const [d, agg] of days) rows.merge(ALL_SCOPE, 'day', d, agg);
}

function foldInto(into: Map<number, Agg>, key: number, agg: Agg): void {
  let target = into.get(key);
  if (target === undefined) into.set(key, (target = emptyAgg()));
  mergeAgg(target, agg);
}

function sameDescription(a: Route, b: Route): boolean {
  return (
    a === b ||
    (a.namespace === b.namespace && a.ingress === b.ingress && a.ingressClass === b.ingressClass &&
      a.host === b.host && a.path === b.path && a.pathType === b.pathType && a.tls === b.tls &&
      a.defaultBackend === b.defaultBackend && a.kind === b.kind && a.name === b.name && storedParent(a) === storedParent(b) &&
      storedBackends(a) === storedBackends(b) && a.probe.path === b.probe.path)
  );
}

function sameVerdict(a: Verdict, b: Verdict): boolean {
  if (a.status !== b.status || a.hop !== b.hop || a.cause !== b.cause || a.summary !== b.summary) return false;
  if (a.evidence.length !== b.evidence.length) return false;
  for (let i = 0; i < a.evidence.length; i++) if (a.evidence[i] !== b.evidence[i]) return false;
  return true;
}

/** The backends as the routes table keeps them (JSON, primary first): how they are written and their shares. */
export function storedBackends(route: Route): string {
  const backends: StoredBackend[] = route.backends.map((b) => ({
    namespace: b.ref.namespace, service: b.ref.service, port: b.ref.port, weight: b.weight, share: b.share,
    role: b.role, source: b.source, selector: b.selector,
  }));
  return JSON.stringify(backends);
}

/** The parent as the routes table keeps it (JSON, null for none). */
function storedParent(route: Route): string | null {
  return route.parent === null ? null : JSON.stringify(route.parent);
}

/** Inserts or updates a route's description (as of time `at`) and returns its rid. */
export function registerRoute(db: Db, route: Route, at: number): number {
  return routeUpserter(db)(route, at);
}

/** Returns a function that inserts or updates a route's description (as of time `at`) and returns its rid. */
function routeUpserter(db: Db): (route: Route, at: number) => number {
  const upsert = db.prepare(
    `INSERT INTO routes (id, namespace, ingress, ingress_class, host, path, path_type, tls, default_backend,
       backend_service, backend_port, kind, name, backends, parent, probe_path, first_seen_at, updated_at)
     VALUES (@id, @namespace, @ingress, @ingressClass, @host, @path, @pathType, @tls, @defaultBackend,
       @backendService, @backendPort, @kind, @name, @backends, @parent, @probePath, @now, @now)
     ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, ingress = excluded.ingress,
       ingress_class = excluded.ingress_class, host = excluded.host, path = excluded.path,
       path_type = excluded.path_type, tls = excluded.tls, default_backend = excluded.default_backend,
       backend_service = excluded.backend_service, backend_port = excluded.backend_port,
       kind = excluded.kind, name = excluded.name, backends = excluded.backends, parent = excluded.parent,
       probe_path = excluded.probe_path, updated_at = excluded.updated_at
     WHERE (namespace, ingress, ingress_class, host, path, path_type, tls, default_backend, backend_service,
       backend_port, kind, name, backends, parent, probe_path) IS NOT (excluded.namespace, excluded.ingress, excluded.ingress_class,
       excluded.host, excluded.path, excluded.path_type, excluded.tls, excluded.default_backend,
       excluded.backend_service, excluded.backend_port, excluded.kind, excluded.name, excluded.backends, excluded.parent, excluded.probe_path)`,
  );
  const ridOf = db.prepare('SELECT rid FROM routes WHERE id = ?').pluck();
  return (route, at) => {
    upsert.run({
      id: route.id, namespace: route.namespace, ingress: route.ingress, ingressClass: route.ingressClass,
      host: route.host, path: route.path, pathType: route.pathType, tls: route.tls ? 1 : 0,
      defaultBackend: route.defaultBackend ? 1 : 0, backendService: route.backends[0]?.ref.service ?? '',
      backendPort: JSON.stringify(route.backends[0]?.ref.port ?? 0), kind: route.kind, name: route.name,
      backends: storedBackends(route), parent: storedParent(route), probePath: route.probe.path, now: at,
    });
    return ridOf.get(route.id) as number;
  };
}
