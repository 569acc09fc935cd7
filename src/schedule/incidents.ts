// Pure: turns each route's stream of verdicts into incidents. An incident opens after `openAfter`
// consecutive non-ok rounds (dated from the first of them) and closes after `closeAfter`
// consecutive ok rounds (dated from the first of those). 'unknown' rounds (could not probe) count
// neither way. Degraded routes open incidents of severity 'degraded'; a failing round while open
// raises the severity to 'failing'.

import type { IncidentConfig } from '../config/types.js';
import type { Cause, HopResult, Route, RouteRound, VerdictHop } from '../model.js';
import type { Incident, IncidentChange, IncidentPatch, IncidentSeverity, NewIncident } from '../store/incidents.js';

/** What the daemon must do after a round: write the incident and send alerts on open and close. */
export type IncidentAction =
  | { type: 'open'; routeId: string; incident: NewIncident }
  | { type: 'update'; routeId: string; patch: IncidentPatch; escalated: boolean }
  | { type: 'close'; routeId: string; patch: IncidentPatch & { closedAt: number } };

interface OpenState {
  severity: IncidentSeverity;
  hop: VerdictHop | null;
  cause: Cause;
  changes: IncidentChange[];
  pods: Set<string>;
  failingRounds: number;
  rollout: boolean;
}

interface RouteState {
  /** Consecutive non-ok rounds before an incident opens. */
  streak: RouteRound[];
  /** Consecutive ok rounds while open: the first one dates the close. */
  okSince: number | null;
  okCount: number;
  open: OpenState | null;
}

/** True when a backend of the route is in a rollout: two ReplicaSet revisions, or endpoints terminating. */
export function rolloutUnderWay(route: Route): boolean {
  return route.backends.some((backend) => {
    const hashes = new Set(backend.pods.map((p) => p.templateHash).filter((h) => h !== null));
    return hashes.size > 1 || backend.endpoints.some((e) => e.terminating);
  });
}

/**
 * The pods a round's cause is about, for an incident's PODS: the failing backend pods for a pod
 * cause (all the backend pods when none failed outright: a header block too large, a keep-alive
 * race), the failing controller pods for a controller cause, the backend pods a policy keeps the
 * controller from for network.blocked, and none for a cause about no pod (dns, config, Service,
 * edge). Controller pods that passed a pod's failure on are not listed: they are not the fault,
 * and they made "+N" count pods that have nothing wrong.
 */
export function podsInvolved(round: RouteRound): string[] {
  const hop = round.verdict.hop;
  if (hop === null) return [];
  const failed = (h: HopResult): boolean => h.error !== null || (h.status !== null && h.status >= 500);
  const named = (kind: HopResult['hop']): HopResult[] => round.hops.filter((h) => h.hop === kind && h.pod !== null);
  const names = (hops: HopResult[]): string[] => hops.map((h) => h.pod as string);
  switch (hop) {
    case 'pod': {
      const failing = named('pod').filter(failed);
      return names(failing.length > 0 ? failing : named('pod'));
    }
    case 'controller':
      return names(named('controller').filter(failed));
    case 'network':
      return names(named('pod'));
    case 'dns':
    case 'edge':
    case 'service':
    case 'config':
      return [];
  }
}

/** Tracks incidents of every route. */
export class IncidentTracker {
  readonly #config: IncidentConfig;
  readonly #routes = new Map<string, RouteState>();

  constructor(config: IncidentConfig) {
    this.#config = config;
  }

  /** Picks up incidents still open in the store (after a restart). */
  restore(open: readonly Incident[]): void {
    for (const i of open) {
      this.#routes.set(i.routeId, {
        streak: [],
        okSince: null,
        okCount: 0,
        open: { severity: i.severity, hop: i.hop, cause: i.cause, changes: [...i.changes], pods: new Set(i.pods), failingRounds: i.failingRounds, rollout: i.rollout },
      });
    }
  }

  /** Routes with an open incident. */
  get openCount(): number {
    let count = 0;
    for (const state of this.#routes.values()) if (state.open) count++;
    return count;
  }

  /** Forgets a route that no longer exists; returns the close action when it had an open incident. */
  forget(routeId: string, now: number): IncidentAction[] {
    const state = this.#routes.get(routeId);
    this.#routes.delete(routeId);
    if (!state?.open) return [];
    return [{ type: 'close', routeId, patch: { closedAt: now } }];
  }

  /** Feeds one round; returns what to write. */
  observe(round: RouteRound): IncidentAction[] {
    const { status } = round.verdict;
    if (status === 'unknown') return [];
    const id = round.route.id;
    let state = this.#routes.get(id);
    if (!state) {
      state = { streak: [], okSince: null, okCount: 0, open: null };
      this.#routes.set(id, state);
    }
    return status === 'ok' ? this.#ok(id, state, round) : this.#notOk(id, state, round);
  }

  #ok(id: string, state: RouteState, round: RouteRound): IncidentAction[] {
    state.streak = [];
    if (!state.open) return [];
    state.okSince ??= round.startedAt;
    state.okCount++;
    if (state.okCount < this.#config.closeAfter) return [];
    const closedAt = state.okSince;
    state.open = null;
    state.okSince = null;
    state.okCount = 0;
    return [{ type: 'close', routeId: id, patch: { closedAt } }];
  }

  #notOk(id: string, state: RouteState, round: RouteRound): IncidentAction[] {
    state.okSince = null;
    state.okCount = 0;
    if (state.open) {
      // A degraded incident whose route now fails outright is worth a second page.
      const was = state.open.severity;
      const patch = this.#continue(state.open, round);
      return [{ type: 'update', routeId: id, patch, escalated: was === 'degraded' && patch.severity === 'failing' }];
    }
    state.streak.push(round);
    if (state.streak.length < this.#config.openAfter) return [];
    const first = state.streak[0] as RouteRound;
    const open: OpenState = {
      severity: state.streak.some((r) => r.verdict.status === 'failing') ? 'failing' : 'degraded',
      hop: first.verdict.hop,
      cause: first.verdict.cause,
      changes: [],
      pods: new Set(state.streak.flatMap(podsInvolved)),
      failingRounds: state.streak.length,
      rollout: state.streak.some((r) => rolloutUnderWay(r.route)),
    };
    for (const r of state.streak.slice(1)) noteChange(open, r);
    state.open = open;
    state.streak = [];
    const incident: NewIncident = {
      routeId: id,
      severity: open.severity,
      openedAt: first.startedAt,
      hop: open.hop,
      cause: open.cause,
      firstEvidence: first.verdict.evidence,
      summary: first.verdict.summary,
      changes: open.changes,
      pods: [...open.pods],
      failingRounds: open.failingRounds,
      rollout: open.rollout,
    };
    return [{ type: 'open', routeId: id, incident }];
  }

  #continue(open: OpenState, round: RouteRound): IncidentPatch {
    open.failingRounds++;
    if (round.verdict.status === 'failing') open.severity = 'failing';
    for (const pod of podsInvolved(round)) open.pods.add(pod);
    open.rollout ||= rolloutUnderWay(round.route);
    noteChange(open, round);
    return { severity: open.severity, changes: open.changes, pods: [...open.pods], failingRounds: open.failingRounds, rollout: open.rollout };
  }
}

/** Records a change of hop or cause against the latest known one. */
function noteChange(open: OpenState, round: RouteRound): void {
  const last = open.changes[open.changes.length - 1] ?? { hop: open.hop, cause: open.cause };
  if (last.hop === round.verdict.hop && last.cause === round.verdict.cause) return;
  open.changes.push({ at: round.startedAt, hop: round.verdict.hop, cause: round.verdict.cause });
}
