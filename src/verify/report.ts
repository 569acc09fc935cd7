// Pure: a finished verification -> its report (the `-o json` and HTTP contract), a table for the
// terminal, and the one-line progress of a running verification.

import { primaryRef } from '../discovery/backends.js';
import type { Route, VerdictHop } from '../model.js';
import { type CheckFailure, type GroupStats, groupLabel, ms, pct, type VerifyCause } from './evaluate.js';
import type { Thresholds, VerifyKind, VerifyParams } from './params.js';
import type { RolloutWait } from './rollout.js';
import type { VerifyProgress } from './run.js';
import type { CanarySelection } from './select.js';

/** A route being verified and how its canary was chosen. */
export interface RouteTarget {
  /** The route as it was when verification started. */
  route: Route;
  /** The canary choice, fixed for the whole verification. */
  selection: CanarySelection;
}

/** One route's part of the report. */
export interface RouteReport {
  /** Route id. */
  id: string;
  /** Host of the rule (may be a wildcard), null for none. */
  host: string | null;
  /** The Host header sent. */
  hostHeader: string | null;
  /** Path. */
  path: string;
  /** Backend Service "namespace/name". */
  service: string;
  /** The canary: how it was chosen and the pods probed. */
  canary: { description: string; replicaSet: string | null; revision: number | null; pods: string[] };
  /** The stable pods probed and their ReplicaSets. */
  stable: { replicaSets: string[]; pods: string[] };
  /** Figures per group, inner groups first. */
  groups: GroupStats[];
}

/** The verification report: `hopwatch verify -o json` and the `data` of GET /api/v1/verify (fields may be added, never renamed). */
export interface VerifyReport {
  /** True when every check passed. */
  ok: boolean;
  /** Successful share of the judged requests to the canary pods, the Service, the controller pods and the edge, 0..100. */
  successPercent: number;
  /** Where the first failure starts, null when ok. */
  failingHop: VerdictHop | null;
  /** Its cause (a classifier cause id, or verify.slow / verify.slower-than-stable / verify.not-ready), null when ok. */
  cause: VerifyCause | null;
  /** One line for humans. */
  summary: string;
  /** The routing object's "namespace/name" (an Ingress, or the HTTPRoute when kind says so). */
  ingress: string;
  /** The routing object's kind. */
  kind: VerifyKind;
  /** When verification started (ISO-8601). */
  startedAt: string;
  /** Wall time, including the rollout wait. */
  durationMs: number;
  /** Ticks run. */
  ticks: number;
  /** Ticks planned (duration / interval). */
  plannedTicks: number;
  /** True when it stopped before the duration because a check could no longer pass. */
  stoppedEarly: boolean;
  /** The parameters it ran with. */
  parameters: { durationMs: number; intervalMs: number; thresholds: Thresholds; canary: string; waitRollout: string | null; waitTimeoutMs: number };
  /** Every route verified. */
  routes: RouteReport[];
  /** The rollout wait, null without --wait-rollout. */
  rollout: RolloutWait | null;
  /** Every failed check, the one that decides failingHop and cause first. */
  failures: CheckFailure[];
  /** Things worth knowing that are not failures (stable pods failing, routes gone mid-run). */
  notes: string[];
}

/** What buildReport needs. */
export interface ReportInput {
  /** The parameters. */
  params: VerifyParams;
  /** Start (ms since epoch). */
  startedAt: number;
  /** Wall time. */
  durationMs: number;
  /** Ticks run. */
  ticks: number;
  /** Ticks planned. */
  plannedTicks: number;
  /** Stopped before the duration. */
  stoppedEarly: boolean;
  /** Routes and canary choices. */
  targets: readonly RouteTarget[];
  /** Figures. */
  groups: GroupStats[];
  /** Failed checks, sorted. */
  failures: CheckFailure[];
  /** The rollout wait. */
  wait: RolloutWait | null;
  /** Notes gathered while running. */
  notes: string[];
}

const SUCCESS_GROUPS = new Set(['canary', 'service', 'controller', 'edge']);

/** Builds the report. */
export function buildReport(input: ReportInput): VerifyReport {
  const { params, groups, failures } = input;
  const counted = groups.filter((g) => SUCCESS_GROUPS.has(g.group));
  const samples = counted.reduce((n, g) => n + g.samples, 0);
  const failed = counted.reduce((n, g) => n + g.failures, 0);
  const first = failures[0];
  const notes = [...input.notes, ...stableNotes(groups)];
  return {
    ok: first === undefined,
    successPercent: samples === 0 ? 0 : Math.round(((samples - failed) / samples) * 10_000) / 100,
    failingHop: first?.hop ?? null,
    cause: first?.cause ?? null,
    summary: first ? failSummary(failures) : passSummary(input, samples, failed),
    ingress: `${params.ingress.namespace}/${params.ingress.name}`,
    kind: params.kind,
    startedAt: new Date(input.startedAt).toISOString(),
    durationMs: Math.round(input.durationMs),
    ticks: input.ticks,
    plannedTicks: input.plannedTicks,
    stoppedEarly: input.stoppedEarly,
    parameters: {
      durationMs: params.durationMs,
      intervalMs: params.intervalMs,
      thresholds: params.thresholds,
      canary: params.canary.kind === 'selector' ? params.canary.text : 'revision latest',
      waitRollout: params.waitRollout ? `${params.waitRollout.namespace}/deployment/${params.waitRollout.name}` : null,
      waitTimeoutMs: params.waitTimeoutMs,
    },
    routes: input.targets.map((t) => routeReport(t, groups.filter((g) => g.routeId === t.route.id))),
    rollout: input.wait,
    failures,
    notes,
  };
}

/** Text about a single ReplicaSet's pods: "pods" and "the only ReplicaSet", not "canary pods" and "newest ReplicaSet". */
function withoutCanary(text: string): string {
  return text.replace(/\bcanary pods\b/g, 'pods').replace(/\bnewest ReplicaSet\b/g, 'the only ReplicaSet');
}

function routeReport(target: RouteTarget, groups: GroupStats[]): RouteReport {
  const { route, selection } = target;
  const podsOf = (group: string): string[] => groups.filter((g) => g.group === group).flatMap((g) => g.targets.map((t) => t.pod ?? t.target));
  return {
    id: route.id,
    host: route.host,
    hostHeader: route.probe.hostHeader,
    path: route.path,
    service: `${route.namespace}/${primaryRef(route).service}`,
    canary: { description: selection.description, replicaSet: selection.canaryReplicaSet, revision: selection.revision, pods: podsOf('canary') },
    stable: { replicaSets: selection.stableReplicaSets, pods: podsOf('stable') },
    groups,
  };
}

function stableNotes(groups: GroupStats[]): string[] {
  return groups
    .filter((g) => (g.group === 'stable' || g.group === 'pod') && g.failures > 0)
    .map((g) => `${groupLabel(g.group)} failed ${g.failures} of ${g.samples} requests (${g.targets.filter((t) => t.failures > 0).map((t) => t.pod ?? t.target).join(', ')}): not held against the canary`);
}

function failSummary(failures: CheckFailure[]): string {
  const [first] = failures;
  if (!first) return '';
  const more = failures.length > 1 ? ` (and ${failures.length - 1} more failed check${failures.length > 2 ? 's' : ''})` : '';
  return `fails at hop ${first.hop} (${first.cause}): ${first.summary}${more}`;
}

function passSummary(input: ReportInput, samples: number, failed: number): string {
  const canary = input.groups.filter((g) => g.group === 'canary');
  const stable = input.groups.filter((g) => g.group === 'stable');
  const pods = new Set(canary.flatMap((g) => g.targets.map((t) => t.pod ?? t.target)));
  const p95 = (gs: GroupStats[]): string => ms(Math.max(...gs.map((g) => g.p95Ms ?? 0)));
  const latency = `canary p95 ${p95(canary)}${stable.length > 0 ? `, stable p95 ${p95(stable)}` : ''}`;
  const what = input.targets[0]?.selection.description ?? 'the canary';
  const share = failed === 0 ? `all ${samples} requests ok` : `${samples - failed} of ${samples} requests ok, within the thresholds`;
  return `${what} (${pods.size} pod${pods.size === 1 ? '' : 's'}) answers through every hop: ${share} over ${input.ticks} ticks; ${latency}`;
}

const RESET = '\x1b[0m';
const RED = '\x1b[31m';
const GREEN = '\x1b[32m';
const GREY = '\x1b[90m';

function paint(text: string, colour: string, on: boolean): string {
  return on ? `${colour}${text}${RESET}` : text;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** The report as text for the terminal: the answer first, the figures per group under it. */
export function renderReport(report: VerifyReport, options: { colour: boolean }): string {
  // A Deployment with one ReplicaSet has no canary beside a stable version: its pods are the backend.
  // The terminal says so; the JSON keeps its group ids and summary (the contract Argo and Flagger read).
  const single = report.routes.length > 0 && report.routes.every((r) => r.canary.replicaSet !== null && r.stable.replicaSets.length === 0);
  const text = single ? withoutCanary : (t: string): string => t;
  const verdict = report.ok ? paint('PASS', GREEN, options.colour) : paint('FAIL', RED, options.colour);
  const dot = paint('·', GREY, options.colour);
  const object = report.kind === 'HTTPRoute' ? `httproute/${report.ingress}` : report.ingress;
  const lines = [`${verdict}  ${object}  ${text(report.summary)}`];
  lines.push(...alsoLines(report.failures).map((l) => `  ${dot} ${text(l)}`));
  for (const note of report.notes) lines.push(`  ${dot} note: ${text(note)}`);
  for (const route of report.routes) {
    const pods = single ? `pods of ${withoutCanary(route.canary.description)} (no older version to compare with)` : `canary: ${route.canary.description}`;
    lines.push('', `route ${route.host ?? '*'}${route.path} -> ${route.service}; ${pods}`);
    lines.push(...groupTable(route.groups, single));
  }
  const early = report.stoppedEarly ? ' (stopped early: the thresholds could no longer be met)' : '';
  const took = report.durationMs < 1000 ? `${report.durationMs} ms` : `${(report.durationMs / 1000).toFixed(1)} s`;
  lines.push('', `${report.ticks} of ${report.plannedTicks} ticks in ${took}${early}; ${report.successPercent}% of judged requests succeeded`);
  return lines.join('\n');
}

/**
 * The failed checks after the first: those with the first's hop and cause are the same failure seen
 * from further out (refusing pods make the Service, the controllers and the edge fail too), so they
 * share one line; any other failure keeps its own.
 */
function alsoLines(failures: readonly CheckFailure[]): string[] {
  const [first, ...rest] = failures;
  if (!first) return [];
  const same = rest.filter((f) => f.hop === first.hop && f.cause === first.cause);
  const other = rest.filter((f) => !same.includes(f));
  const count = (f: CheckFailure): string => {
    const { failures: n, samples } = f.figures;
    return n !== undefined && n !== null && samples !== undefined && samples !== null ? ` ${n} of ${samples} failed` : '';
  };
  const seen = same.length > 0 ? [`the same failure further out: ${same.map((f) => `${groupLabel(f.group)}${count(f)}`).join(', ')}`] : [];
  return [...seen, ...other.map((f) => `also: hop ${f.hop} (${f.cause}): ${f.summary}`)];
}

/** A group's latency figure: that of the requests that answered; where every request failed there is none, and it says so. */
function latencyCell(g: GroupStats, value: number | null): string {
  if (value !== null) return ms(value);
  return g.samples > 0 && g.failures === g.samples ? 'none answered' : '-';
}

function groupTable(groups: GroupStats[], single: boolean): string[] {
  const header = ['GROUP', 'TARGETS', 'REQUESTS', 'FAILED', 'P50', 'P95'];
  const rows = groups.map((g) => [
    single && g.group === 'canary' ? 'pods' : groupLabel(g.group),
    String(g.targets.length),
    String(g.samples + g.unknown),
    g.failureRatio === null ? '-' : `${g.failures} (${pct(g.failureRatio)})`,
    latencyCell(g, g.p50Ms),
    latencyCell(g, g.p95Ms),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const table = [header, ...rows].map((row) => `  ${row.map((cell, i) => pad(cell, widths[i] ?? 0)).join('  ')}`.trimEnd());
  const why = '  (P50 and P95 are the latency of the requests that got an answer: "none answered" means every request failed)';
  return rows.some((r) => r[4] === 'none answered') ? [...table, why] : table;
}

/** One line of progress: "tick 3/12  canary 9/9 ok  stable 6/6 ok  ...". */
export function progressLine(progress: VerifyProgress): string {
  if (progress.kind === 'waiting') {
    return `waiting for ${progress.deployment}: ${progress.ready}/${progress.desired} pods of ${progress.replicaSet ?? '(no ReplicaSet yet)'} ready`;
  }
  const groups = progress.groups.map((g) => `${g.group} ${g.samples - g.failures}/${g.samples} ok`).join('  ');
  return `tick ${progress.tick}/${progress.ticks}  ${groups}${progress.failed ? '  -> failed' : ''}`;
}
