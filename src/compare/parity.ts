// The daemon's pairs: every round of a paired route is compared with its twin's latest round
// (the probe request, hop by hop), so parity is tracked over time without extra requests. Kept in
// memory, bounded: pairs follow the current routes, each keeps at most HISTORY_MAX comparisons.

import type { HopResult, Route, RouteRound } from '../model.js';
import { comparePair } from './compare.js';
import { findPairs, frontDoorOf, objectOf } from './pairs.js';
import type { Answer, Difference, Pair, PairComparison, Risk, SideSummary } from './types.js';

/** Comparisons kept per pair (a day of one-minute rounds). */
export const HISTORY_MAX = 1440;

/** One comparison of a pair's rounds. */
export interface ParityPoint {
  /** When (ms since epoch): the later of the two rounds. */
  at: number;
  /** alike or different. */
  outcome: 'alike' | 'different';
  /** Differences that matter. */
  differences: number;
}

/** A pair as the daemon tracks it. */
export interface PairParity {
  /** The pair's id ("<old route id>..<new route id>"). */
  id: string;
  /** Host and path. */
  key: string;
  /** The old side. */
  old: Omit<SideSummary, 'hops'>;
  /** The new side. */
  new: Omit<SideSummary, 'hops'>;
  /** The latest outcome; pending until both routes have a round. */
  outcome: 'alike' | 'different' | 'pending';
  /** Since when the outcome has been what it is (ms since epoch), null while pending. */
  since: number | null;
  /** The latest comparison (ms since epoch), null while pending. */
  lastComparedAt: number | null;
  /** The latest comparison's differences. */
  differences: Difference[];
  /** The risks both sides' settings predict. */
  risks: Risk[];
  /** Comparisons over time, oldest first (at most HISTORY_MAX). */
  history: ParityPoint[];
}

/** The probe request's answers of a round: its edge and proxy-pod hops, as compare reads them. */
export function answersOfRound(hops: readonly HopResult[]): Answer[] {
  return hops.filter((h) => h.hop === 'edge' || h.hop === 'controller').map((h) => ({
    hop: h.hop === 'edge' ? 'edge' : 'controller',
    target: h.target, pod: h.pod, status: h.status, error: h.error, errorDetail: h.errorDetail,
    ms: h.timings.ttfbMs ?? h.timings.totalMs, headers: h.headers, bodyBytes: h.bytes, bodyDigest: null, generator: h.generator,
  }));
}

/** The comparison of two rounds of a pair (bodies are not compared: a round keeps none). */
export function compareRounds(pair: Pair, old: RouteRound, fresh: RouteRound): PairComparison {
  const path = pair.old.probe.path;
  const variant = { name: 'probe', kind: 'probe' as const, method: 'GET', path, headers: [], body: null, summary: `GET ${path}` };
  return comparePair(pair, { variants: [{ variant, old: answersOfRound(old.hops), new: answersOfRound(fresh.hops) }], rounds: { old, new: fresh } }, { ignoreBody: true });
}

/** Tracks the parity of every pair of the current routes. */
export class ParityTracker {
  readonly #routes: () => readonly Route[];
  #pairs = new Map<string, Pair>();
  #byRoute = new Map<string, Pair[]>();
  /** The route list the pairs were made from (null: not paired yet). */
  #pairedFrom: readonly Route[] | null = null;
  readonly #latest = new Map<string, RouteRound>();
  readonly #state = new Map<string, PairParity>();

  /** `routes` returns the same array while nothing changed (discovery's `current`): pairing follows it. */
  constructor(routes: () => readonly Route[]) {
    this.#routes = routes;
  }

  /** A round finished: compare it with its twin's latest, for every pair the route is in. */
  observe(round: RouteRound): void {
    this.#refreshPairs();
    const pairs = this.#byRoute.get(round.route.id);
    if (pairs === undefined) return;
    this.#latest.set(round.route.id, round);
    for (const pair of pairs) {
      const [old, fresh] = [this.#latest.get(pair.old.id), this.#latest.get(pair.new.id)];
      if (old !== undefined && fresh !== undefined) this.#record(pair, compareRounds(pair, old, fresh), Math.max(old.startedAt, fresh.startedAt));
    }
  }

  /** Every pair, by key. */
  list(): PairParity[] {
    this.#refreshPairs();
    return [...this.#pairs.values()].map((p) => this.#state.get(p.id) ?? pending(p)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : 1));
  }

  /** One pair, undefined when no such pair exists now. */
  get(id: string): PairParity | undefined {
    this.#refreshPairs();
    const pair = this.#pairs.get(id);
    return pair === undefined ? undefined : (this.#state.get(id) ?? pending(pair));
  }

  #refreshPairs(): void {
    // Re-paired only when the route list changed: discovery hands out the same array until a change
    // of the cluster makes a new one, so a round costs a reference comparison, not a pairing of every
    // route, and a new or removed twin is paired at the very next round (no period to wait out).
    const routes = this.#routes();
    if (routes === this.#pairedFrom) return;
    this.#pairedFrom = routes;
    this.#pairs = new Map(findPairs(routes, {}).map((p) => [p.id, p]));
    this.#byRoute = new Map();
    for (const pair of this.#pairs.values()) for (const id of [pair.old.id, pair.new.id]) this.#byRoute.set(id, [...(this.#byRoute.get(id) ?? []), pair]);
    // Pairs and rounds of routes no longer paired are forgotten: memory follows the current pairs.
    for (const id of this.#state.keys()) if (!this.#pairs.has(id)) this.#state.delete(id);
    for (const id of this.#latest.keys()) if (!this.#byRoute.has(id)) this.#latest.delete(id);
  }

  #record(pair: Pair, c: PairComparison, at: number): void {
    const outcome = c.outcome === 'different' ? 'different' : 'alike';
    const previous = this.#state.get(pair.id);
    const history = [...(previous?.history ?? []), { at, outcome, differences: c.differences.filter((d) => d.matters).length } satisfies ParityPoint].slice(-HISTORY_MAX);
    const since = previous !== undefined && previous.outcome === outcome ? previous.since : at;
    const side = ({ hops: _hops, ...rest }: SideSummary): Omit<SideSummary, 'hops'> => rest;
    this.#state.set(pair.id, { id: pair.id, key: pair.key, old: side(c.old), new: side(c.new), outcome, since, lastComparedAt: at, differences: c.differences, risks: c.risks, history });
  }
}

function pending(pair: Pair): PairParity {
  const side = (route: Route): Omit<SideSummary, 'hops'> => ({
    route: route.id, object: objectOf(route), frontDoor: frontDoorOf(route),
    verdict: { status: 'unknown', hop: null, cause: 'route.unexplained', summary: 'not probed yet', evidence: [] },
  });
  return { id: pair.id, key: pair.key, old: side(pair.old), new: side(pair.new), outcome: 'pending', since: null, lastComparedAt: null, differences: [], risks: [], history: [] };
}
