// A store with known history, written through the real write path (createWriter, compact) and
// the incident store, for the dashboard's browser tests and the history CLI's tests:
//
// - shop/web: ok every minute for 30 hours;
// - payments/checkout: ok every minute for 30 hours, except [E0, E0 + 1 h) where every round fails
//   at the controller (controller.error: edge and controller 502 from nginx, Service and pods 200),
//   with a closed incident over exactly that span (a rollout was going on);
// - accounts/login: ok, then failing at the pods (pod.refused) for the last 20 minutes, with an
//   open incident;
// - FILLER routes team-N/app-M, ok every 5 minutes for 2 hours (the routes table's paging).
// E0 is 5 hours before the hour of `now`. Rounds older than an hour are compacted into chunks and
// per-route rollups, so answers mix tiers as in a daemon's store.

import { compact } from '../../src/store/compact.js';
import { fixtureRoute } from '../../src/store/fixtures.js';
import { insertIncident, type Incident } from '../../src/store/incidents.js';
import { openStore } from '../../src/store/sqlite.js';
import { createWriter } from '../../src/store/write.js';
import type { HopResult, Route, RouteRound, Verdict } from '../../src/model.js';

/** Filler routes besides the three named ones. */
export const FILLER = 120;

/** What the seeded history holds, for assertions. */
export interface SeededHistory {
  /** The instant the history ends at. */
  now: number;
  /** Start of checkout's controller failure (5 h before the hour of now). */
  e0: number;
  /** End of it (exclusive). */
  e1: number;
  /** Start of login's pod failure (20 min before now, on the minute). */
  loginFrom: number;
  /** The named routes. */
  routes: { web: Route; checkout: Route; login: Route };
  /** The incidents written. */
  incidents: { checkout: Incident; login: Incident };
}

const MINUTE = 60_000;
const HOUR = 3_600_000;

function hop(kind: HopResult['hop'], target: string, status: number | null, extra: Partial<HopResult> = {}): HopResult {
  const [address, port] = target.split(':') as [string, string];
  return {
    hop: kind, target, address, port: Number(port ?? 53), scheme: kind === 'dns' ? 'dns' : 'http', pod: null, ready: null, terminating: null,
    status, error: null, errorDetail: null, timings: { connectMs: 0.6, ttfbMs: 8.4, totalMs: 9.1 }, bytes: status === null ? 0 : 612,
    headerBytes: status === null ? 0 : 180, headers: {}, generator: status === null ? null : 'upstream', addresses: [], ...extra,
  };
}

type Outcome = 'ok' | 'controller.error' | 'pod.refused';

const VERDICTS: Record<Outcome, Verdict> = {
  ok: { status: 'ok', hop: null, cause: 'ok', summary: 'every hop answers 200', evidence: [] },
  'controller.error': {
    status: 'failing', hop: 'controller', cause: 'controller.error', summary: 'the controller answers 502 while the Service and the pods answer 200',
    evidence: ['controller ingress-nginx/ingress-nginx-controller-0: 502 from nginx', 'Service payments/checkout: 200', 'pods: 2 of 2 answer 200'],
  },
  'pod.refused': {
    status: 'failing', hop: 'pod', cause: 'pod.refused', summary: '2 of 2 pods refuse connections on their target port',
    evidence: ['pod accounts/login-5c7d-0 (10.1.0.21:8080): refused', 'pod accounts/login-5c7d-1 (10.1.0.22:8080): refused'],
  },
};

/** The hop results of one round of a route with the given outcome. */
function hopsOf(route: Route, outcome: Outcome, k: number): HopResult[] {
  const jitter = (k % 7) * 0.3;
  const gateway = (): Partial<HopResult> => ({ generator: 'nginx', bytes: 157, headers: { server: 'nginx' } });
  const pods = [0, 1].map((i) => `${route.namespace}/${route.ingress}-5c7d-${i}`);
  const refused: Partial<HopResult> = { status: null, error: 'refused', errorDetail: 'connect ECONNREFUSED', timings: { connectMs: 0.3, totalMs: 0.4 }, generator: null };
  const podHop = (i: number): HopResult => hop('pod', `10.1.0.${21 + i}:8080`, 200, { pod: pods[i]!, ready: true, terminating: false, timings: { connectMs: 0.3, ttfbMs: 4.1 + jitter, totalMs: 4.6 + jitter }, ...(outcome === 'pod.refused' ? refused : {}) });
  return [
    hop('dns', `${route.backends[0]?.ref.service ?? ''}.${route.namespace}.svc.cluster.local`, null, { timings: { dnsMs: 1.2, totalMs: 1.2 }, addresses: ['10.2.0.9'] }),
    hop('edge', '203.0.113.10:443', outcome === 'ok' ? 200 : 502, { scheme: 'https', timings: { connectMs: 1.1, tlsMs: 3.2, ttfbMs: 12.5 + jitter, totalMs: 13.4 + jitter }, ...(outcome === 'ok' ? {} : gateway()) }),
    hop('controller', '10.0.3.1:80', outcome === 'ok' ? 200 : 502, { pod: 'ingress-nginx/ingress-nginx-controller-0', timings: { connectMs: 0.5, ttfbMs: 7.9 + jitter, totalMs: 8.3 + jitter }, ...(outcome === 'ok' ? {} : gateway()) }),
    hop('service', '10.2.0.9:80', 200, { timings: { connectMs: 0.4, ttfbMs: 5.2 + jitter, totalMs: 5.6 + jitter }, ...(outcome === 'pod.refused' ? refused : {}) }),
    podHop(0),
    podHop(1),
  ];
}

function round(route: Route, startedAt: number, outcome: Outcome, k: number): RouteRound {
  const hops = hopsOf(route, outcome, k);
  return { route, startedAt, durationMs: Math.max(...hops.map((h) => h.timings.totalMs)) + 0.5, hops, verdict: VERDICTS[outcome] };
}

/** Writes the known history into a new store at path, ending at now. */
export function seedHistory(path: string, now: number): SeededHistory {
  const routes = { web: fixtureRoute('shop', 'web'), checkout: fixtureRoute('payments', 'checkout'), login: fixtureRoute('accounts', 'login') };
  const e0 = Math.floor(now / HOUR) * HOUR - 5 * HOUR;
  const e1 = e0 + HOUR;
  const loginFrom = Math.floor(now / MINUTE) * MINUTE - 20 * MINUTE;
  const start = Math.floor(now / HOUR) * HOUR - 30 * HOUR;
  const rounds: RouteRound[] = [];
  for (let t = start, k = 0; t < now; t += MINUTE, k++) {
    // Each route at its own second of the minute, as a scheduler with jitter would.
    if (t + 7_000 < now) rounds.push(round(routes.web, t + 7_000, 'ok', k));
    if (t < now) rounds.push(round(routes.checkout, t, t >= e0 && t < e1 ? 'controller.error' : 'ok', k));
    if (t + 31_000 < now) rounds.push(round(routes.login, t + 31_000, t + 31_000 >= loginFrom ? 'pod.refused' : 'ok', k));
  }
  for (let i = 0; i < FILLER; i++) {
    const route = fixtureRoute(`team-${i % 6}`, `app-${String(i).padStart(3, '0')}`);
    for (let t = now - 2 * HOUR + (i % 60) * 1000, k = 0; t < now; t += 5 * MINUTE, k++) rounds.push(round(route, t, 'ok', k));
  }
  rounds.sort((a, b) => a.startedAt - b.startedAt);
  const db = openStore(path);
  try {
    const writer = createWriter(db);
    for (let i = 0; i < rounds.length; i += 1000) writer.writeRounds(rounds.slice(i, i + 1000));
    while (compact(db, now - HOUR).more);
    const checkout = insertIncident(db, {
      routeId: routes.checkout.id, severity: 'failing', openedAt: e0, closedAt: e1, hop: 'controller', cause: 'controller.error',
      firstEvidence: VERDICTS['controller.error'].evidence, pods: ['ingress-nginx/ingress-nginx-controller-0'], failingRounds: 60, rollout: true,
    });
    const login = insertIncident(db, {
      routeId: routes.login.id, severity: 'failing', openedAt: firstAtOrAfter(rounds, routes.login.id, loginFrom), hop: 'pod', cause: 'pod.refused',
      firstEvidence: VERDICTS['pod.refused'].evidence, pods: ['accounts/login-5c7d-0', 'accounts/login-5c7d-1'], failingRounds: 20, rollout: false,
    });
    return { now, e0, e1, loginFrom, routes, incidents: { checkout, login } };
  } finally {
    db.close();
  }
}

function firstAtOrAfter(rounds: readonly RouteRound[], routeId: string, t: number): number {
  const r = rounds.find((x) => x.route.id === routeId && x.startedAt >= t && x.verdict.status !== 'ok');
  if (r === undefined) throw new Error(`no failing round of ${routeId} after ${new Date(t).toISOString()}`);
  return r.startedAt;
}
