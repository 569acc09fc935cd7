// Pure: rounds -> the JSON contract of `hopwatch probe -o json`, and a readable table.

import type { Backend, HopResult, RouteRound, VerdictHop, VerdictStatus } from '../model.js';

/** One round report: the `-o json` contract (fields may be added, never renamed). */
export interface ProbeReport {
  /** When the round started (ISO-8601). */
  startedAt: string;
  /** Wall time of the round. */
  durationMs: number;
  /** Every route's verdict and hop results. */
  routes: ReturnType<typeof routeJson>[];
}

function hopJson(hop: HopResult) {
  return {
    hop: hop.hop,
    target: hop.target,
    pod: hop.pod,
    ready: hop.ready,
    terminating: hop.terminating,
    status: hop.status,
    error: hop.error,
    errorDetail: hop.errorDetail,
    timings: hop.timings,
    bytes: hop.bytes,
    headerBytes: hop.headerBytes,
    generator: hop.generator,
    headers: hop.headers,
    backend: hop.backend ?? null,
    ...(hop.hop === 'dns' ? { addresses: hop.addresses } : {}),
  };
}

/**
 * One backend of a route with its own results: its dns, service and pod hops, and the front hops
 * probed with its selecting header or cookie (a hop of the plain front request belongs to none).
 */
function backendJson(backend: Backend, hops: readonly HopResult[]) {
  return {
    key: backend.key,
    namespace: backend.ref.namespace,
    service: backend.ref.service,
    port: backend.ref.port,
    weight: backend.weight,
    share: backend.share,
    role: backend.role,
    source: backend.source,
    selector: backend.selector,
    problem: backend.problem,
    hops: hops.filter((h) => h.backend === backend.key).map(hopJson),
  };
}

/** One route's part of the report. */
export function routeJson(round: RouteRound) {
  const { route } = round;
  return {
    id: route.id,
    kind: route.kind,
    namespace: route.namespace,
    name: route.name,
    // Kept for Ingress routes so scripts written before `name` keep working.
    ...(route.kind === 'Ingress' ? { ingress: route.ingress } : {}),
    parent: route.parent,
    ingressClass: route.ingressClass,
    host: route.host,
    path: route.path,
    pathType: route.pathType,
    // The primary backend, as before backends[] (scripts read it).
    backend: { service: route.backends[0]?.ref.service ?? '', port: route.backends[0]?.ref.port ?? 0 },
    backends: route.backends.map((b) => backendJson(b, round.hops)),
    verdict: round.verdict,
    durationMs: round.durationMs,
    hops: round.hops.map(hopJson),
    // What the diagnostics learned of each pod: its keep-alive idle timeout ('not-measured' in a
    // one-shot probe when the pod does not announce it) and the protocol it speaks.
    diagnoses: (round.diagnoses ?? []).map((d) => ({ target: d.target, pod: d.pod, idleTimeout: d.idleTimeout, protocol: d.protocol })),
  };
}

/** The whole report for a round. */
export function probeReport(rounds: RouteRound[], startedAt: number, durationMs: number): ProbeReport {
  return { startedAt: new Date(startedAt).toISOString(), durationMs: Math.round(durationMs), routes: rounds.map(routeJson) };
}

const RESET = '\x1b[0m';
const STATUS_COLOUR: Record<VerdictStatus, string> = { ok: '\x1b[32m', degraded: '\x1b[33m', failing: '\x1b[31m', unknown: '\x1b[90m' };
const HOP_COLOUR: Record<VerdictHop, string> = {
  dns: '\x1b[35m',
  edge: '\x1b[36m',
  controller: '\x1b[34m',
  service: '\x1b[33m',
  pod: '\x1b[31m',
  config: '\x1b[95m',
  network: '\x1b[91m',
};

/** Colours text when colour is on. */
export function paint(text: string, colour: string, on: boolean): string {
  return on ? `${colour}${text}${RESET}` : text;
}

/** The ANSI colour of a verdict status. */
export function statusColour(status: VerdictStatus): string {
  return STATUS_COLOUR[status];
}

/** The ANSI colour of a hop. */
export function hopColour(hop: VerdictHop): string {
  return HOP_COLOUR[hop];
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** "shop/web shop.example.test/api". */
export function routeLabel(round: RouteRound): string {
  const { route } = round;
  return `${route.namespace}/${route.ingress} ${route.host ?? '*'}${route.path}`;
}

/** A table of verdicts, one route a line, with the summary; evidence under failing routes when verbose. */
export function renderTable(rounds: RouteRound[], options: { colour: boolean; evidence: boolean }): string {
  const header = ['STATUS', 'ROUTE', 'HOP', 'CAUSE', 'SUMMARY'];
  const rows = rounds.map((r) => [r.verdict.status, routeLabel(r), r.verdict.hop ?? '-', r.verdict.cause, r.verdict.summary]);
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length))));
  const lines = [header.map((h, i) => pad(h, widths[i] ?? 0)).join('  ')];
  rounds.forEach((round, index) => {
    const row = rows[index] ?? [];
    const cells = row.map((cell, i) => (i < row.length - 1 ? pad(cell, widths[i] ?? 0) : cell));
    cells[0] = paint(cells[0] ?? '', statusColour(round.verdict.status), options.colour);
    if (round.verdict.hop) cells[2] = paint(cells[2] ?? '', hopColour(round.verdict.hop), options.colour);
    lines.push(cells.join('  '));
    if (options.evidence && round.verdict.status !== 'ok') {
      for (const line of round.verdict.evidence) lines.push(`    ${paint('·', '\x1b[90m', options.colour)} ${line}`);
    }
  });
  return lines.join('\n');
}

/** Exit code of a round: 0 when every route is ok, 1 when any is degraded or failing. */
export function exitCodeOf(rounds: RouteRound[]): 0 | 1 {
  return rounds.some((r) => r.verdict.status === 'degraded' || r.verdict.status === 'failing') ? 1 : 0;
}
