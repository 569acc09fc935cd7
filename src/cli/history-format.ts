// Pure: the API's history answers (timeline, incidents, rounds) -> the text that
// `hopwatch timeline` and `hopwatch incidents` print. One renderer for both sources
// (a store file or a daemon), so the output is the same either way. Times are UTC.

import type { VerdictHop, VerdictStatus } from '../model.js';
import type { TimelineBucket } from '../store/queries.js';
import type { LatencySummary } from '../store/rollup.js';
import { hopColour, paint, statusColour } from './format.js';

/** A latency summary as the API writes it (the store's summary, as JSON). */
export type ApiLatency = LatencySummary;

/** A timeline bucket as the API writes it: the store's bucket with its start as ISO-8601. */
export type ApiBucket = Omit<TimelineBucket, 'start'> & {
  /** Bucket start (ISO-8601). */
  start: string;
};

/** GET /api/v1/timeline's data. */
export interface ApiTimeline {
  /** The scope asked for. */
  scope: Record<string, string | boolean>;
  /** First bucket start. */
  from: string;
  /** Last bucket end. */
  to: string;
  /** Bucket width. */
  stepMs: number;
  /** Which store tier answered. */
  tier: string;
  /** Before this time the tier's data has expired (retention): those buckets are empty for that reason; null when none. */
  expiredBefore: string | null;
  /** The buckets, oldest first. */
  buckets: ApiBucket[];
}

/** The names of a route, as lists carry them. */
export interface ApiRouteRef {
  /** Route id. */
  id: string;
  /** Namespace. */
  namespace: string;
  /** Ingress name (for an HTTPRoute route: the HTTPRoute's name). */
  ingress: string;
  /** The routing object's kind; absent from a daemon older than the Gateway API support (then Ingress). */
  kind?: string;
  /** The routing object's name; absent from an older daemon (then `ingress`). */
  name?: string;
  /** Host, null for a rule without one. */
  host: string | null;
  /** Path. */
  path: string;
}

/** An incident as the API writes it. */
export interface ApiIncident {
  /** Incident id. */
  id: number;
  /** Route id. */
  routeId: string;
  /** The route's names, null when the route is no longer stored. */
  route?: ApiRouteRef | null;
  /** open or closed. */
  state: 'open' | 'closed';
  /** failing or degraded. */
  severity: string;
  /** When it opened. */
  openedAt: string;
  /** When it closed, null while open. */
  closedAt: string | null;
  /** Duration (to now while open). */
  durationMs: number;
  /** The hop named when it opened. */
  hop: VerdictHop | null;
  /** The cause named when it opened. */
  cause: string;
  /** Later changes of hop or cause. */
  changes: { at: string; hop: VerdictHop | null; cause: string }[];
  /** Pods involved. */
  pods: string[];
  /** Evidence of the verdict that opened it. */
  firstEvidence: string[];
  /** Non-ok rounds counted while open. */
  failingRounds: number;
  /** Lines up with a rollout. */
  rollout: boolean;
}

/** A hop result as the API writes it. */
export interface ApiHop {
  /** Hop kind. */
  hop: string;
  /** What was dialled. */
  target: string;
  /** The pod, for controller and pod hops. */
  pod: string | null;
  /** HTTP status. */
  status: number | null;
  /** Stable error code. */
  error: string | null;
  /** Error detail. */
  errorDetail: string | null;
  /** Phase timings. */
  timings: { dnsMs?: number; connectMs?: number; tlsMs?: number; ttfbMs?: number; totalMs: number };
  /** Which component generated the answer. */
  generator: string | null;
}

/** A round as the API writes it. */
export interface ApiRound {
  /** Route id. */
  routeId: string;
  /** When it started. */
  startedAt: string;
  /** Wall time. */
  durationMs: number;
  /** The verdict with evidence. */
  verdict: { status: VerdictStatus; hop: VerdictHop | null; cause: string; summary: string; evidence: string[] };
  /** Every hop's result. */
  hops: ApiHop[];
}

/** One route's line of a timeline: its names, totals over the range, and its buckets. */
export interface RouteTimeline {
  /** The route. */
  route: ApiRouteRef;
  /** Its buckets (same range and step as the scope's). */
  buckets: ApiBucket[];
}

/** What `hopwatch timeline` prints: the scope's timeline and each route's. */
export interface TimelineReport {
  /** The scope's timeline. */
  timeline: ApiTimeline;
  /** Per-route timelines, in the order routes were listed. */
  routes: RouteTimeline[];
}

/** Render options. */
export interface RenderOptions {
  /** ANSI colours. */
  colour: boolean;
  /** List routes without failures too. */
  allRoutes?: boolean;
  /** Most failing buckets listed. */
  maxBuckets?: number;
}

const GREY = '\x1b[90m';
const GREEN = '\x1b[32m';
const LEVELS = '▂▃▄▅▆▇█';
/** The letter of a hop in the strip when colours are off. */
export const HOP_LETTER: Readonly<Record<VerdictHop, string>> = { dns: 'd', edge: 'e', controller: 'c', service: 's', pod: 'p', config: 'C', network: 'n' };
const HOPS: readonly VerdictHop[] = ['dns', 'edge', 'controller', 'service', 'pod', 'config', 'network'];

function isHop(text: string): text is VerdictHop {
  return (HOPS as readonly string[]).includes(text);
}

/** Failed (degraded + failing) rounds of buckets. */
export function failuresOf(buckets: readonly Pick<ApiBucket, 'degraded' | 'failing'>[]): number {
  return buckets.reduce((n, b) => n + b.degraded + b.failing, 0);
}

/** The hop with the most failures of a bucket (ties: the outermost), null when none. */
export function dominantHop(b: Pick<ApiBucket, 'failuresByHop'>): string | null {
  let best: string | null = null;
  let most = 0;
  for (const [hop, n] of Object.entries(b.failuresByHop)) {
    const outer = best !== null && isHop(hop) && isHop(best) && HOPS.indexOf(hop) < HOPS.indexOf(best);
    if (n > most || (n === most && outer)) [best, most] = [hop, n];
  }
  return best;
}

/** One strip character of a bucket: · no rounds, ? only unknown, ▁ all ok, else the failed share (▂…█) or the hop letter, coloured by the dominant hop. */
export function stripChar(b: ApiBucket, colour: boolean): string {
  if (b.rounds === 0) return paint('·', GREY, colour);
  const failed = b.degraded + b.failing;
  if (failed === 0) return b.ok > 0 ? paint('▁', GREEN, colour) : paint('?', GREY, colour);
  const hop = dominantHop(b);
  const known = Math.max(1, b.rounds - b.unknown);
  if (!colour) return hop !== null && isHop(hop) ? HOP_LETTER[hop] : 'x';
  const level = LEVELS[Math.min(LEVELS.length - 1, Math.floor((failed / known) * LEVELS.length))]!;
  return hop !== null && isHop(hop) ? paint(level, hopColour(hop), true) : level;
}

/** A strip: one character per bucket. */
export function renderStrip(buckets: readonly ApiBucket[], colour: boolean): string {
  return buckets.map((b) => stripChar(b, colour)).join('');
}

/** "2026-01-31 10:05" (UTC). */
export function shortTime(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

/** A duration for humans: "45s", "17m", "1h 02m", "3d 4h". */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A step for humans: "5m", "1h", "1d". */
export function humanStep(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

/** "shop/web web.example.com/api". */
export function routeName(r: Pick<ApiRouteRef, 'namespace' | 'ingress' | 'host' | 'path'>): string {
  return `${r.namespace}/${r.ingress} ${r.host ?? '*'}${r.path}`;
}

function percent(ratio: number | null): string {
  return ratio === null ? '-' : `${(Math.floor(ratio * 10_000) / 100).toFixed(2)}%`;
}

/** (ok + degraded) / (rounds - unknown), null without a known round. */
export function uptimeOf(buckets: readonly ApiBucket[]): number | null {
  let known = 0;
  let up = 0;
  for (const b of buckets) {
    known += b.rounds - b.unknown;
    up += b.ok + b.degraded;
  }
  return known > 0 ? up / known : null;
}

function pad(text: string, width: number, right = false): string {
  const visible = text.replace(/\x1b\[[0-9;]*m/g, '').length;
  const fill = ' '.repeat(Math.max(0, width - visible));
  return right ? fill + text : text + fill;
}

function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** Lays out rows in columns (the last column unpadded); `right` lists right-aligned columns. */
export function columns(rows: readonly string[][], right: readonly number[] = []): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.replace(/\x1b\[[0-9;]*m/g, '').length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : pad(cell, widths[i] ?? 0, right.includes(i)))).join('  ').trimEnd());
}

/** A ruler above the strips: time labels at aligned ticks, none overlapping. */
export function renderRuler(buckets: readonly ApiBucket[], stepMs: number): string {
  const n = buckets.length;
  if (n === 0) return '';
  const span = n * stepMs;
  const ticks = [900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 172_800_000, 604_800_000];
  const tick = ticks.find((t) => t >= stepMs && t % stepMs === 0 && span / t <= Math.max(2, n / 12)) ?? n * stepMs;
  const line = Array<string>(n).fill(' ');
  let free = 0;
  for (let i = 0; i < n; i++) {
    const t = Date.parse(buckets[i]!.start);
    if (t % tick !== 0 || i < free) continue;
    const label = `|${tick >= 86_400_000 ? buckets[i]!.start.slice(5, 10) : buckets[i]!.start.slice(11, 16)}`;
    if (i + label.length > n) break;
    for (let k = 0; k < label.length; k++) line[i + k] = label[k]!;
    free = i + label.length + 1;
  }
  return line.join('').trimEnd();
}

function countsText(counts: Record<string, number>, colour: boolean, byHop: boolean): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, n]) => `${byHop && isHop(k) ? paint(k, hopColour(k), colour) : k} ${n}`)
    .join(', ');
}

function sumCounts(buckets: readonly ApiBucket[], key: 'failuresByHop' | 'failuresByCause'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of buckets) for (const [k, n] of Object.entries(b[key])) out[k] = (out[k] ?? 0) + n;
  return out;
}

function maxP95(buckets: readonly ApiBucket[]): number | null {
  let max: number | null = null;
  for (const b of buckets) if (b.latency !== null) max = Math.max(max ?? 0, b.latency.p95Ms);
  return max;
}

function ms(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : `${Math.round(value * 10) / 10} ms`;
}

function scopeText(scope: ApiTimeline['scope']): string {
  if (typeof scope['route'] === 'string') return `route ${scope['route']}`;
  if (typeof scope['ingress'] === 'string') return `ingress ${scope['ingress']}`;
  if (typeof scope['namespace'] === 'string') return `namespace ${scope['namespace']}`;
  return 'all routes';
}

/** The header lines of a timeline: scope, range, totals. */
function timelineHeader(t: ApiTimeline): string[] {
  const sum = (k: 'rounds' | 'ok' | 'degraded' | 'failing' | 'unknown'): number => t.buckets.reduce((n, b) => n + b[k], 0);
  return [
    `timeline of ${scopeText(t.scope)}, ${shortTime(t.from)} to ${shortTime(t.to)} UTC, one bucket per ${humanStep(t.stepMs)} (${t.buckets.length} buckets, from the ${t.tier === 'raw' ? 'raw rounds' : `${t.tier} rollups`})`,
    `rounds ${sum('rounds')}, ok ${sum('ok')}, degraded ${sum('degraded')}, failing ${sum('failing')}, unknown ${sum('unknown')}; uptime ${percent(uptimeOf(t.buckets))}; edge p95 up to ${ms(maxP95(t.buckets))}`,
    ...(t.expiredBefore === null ? [] : [expiredNote(t)]),
  ];
}

/** Why the buckets before the tier's horizon are empty, and what to ask instead. */
function expiredNote(t: ApiTimeline): string {
  const what = t.tier === 'raw' ? 'raw rounds' : `${t.tier} rollups`;
  const coarser = t.tier === 'raw' ? '1m' : t.tier === 'minute' ? '1h' : t.tier === 'hour' ? '1d' : null;
  const advice = coarser === null ? '' : `: a step of ${coarser} or more reads a tier kept longer`;
  return `note: the ${what} before ${shortTime(t.expiredBefore ?? t.from)} UTC have expired (store.retention), so those buckets are empty${advice}`;
}

/** The strips block: the scope's strip, then one per route (failing routes first unless all are shown). */
function stripLines(report: TimelineReport, options: RenderOptions): string[] {
  const t = report.timeline;
  const shown = report.routes
    .map((r) => ({ r, failed: failuresOf(r.buckets) }))
    .filter((x) => options.allRoutes === true || x.failed > 0 || report.routes.length === 1);
  if (options.allRoutes !== true) shown.sort((a, b) => b.failed - a.failed);
  const rows: string[][] = [['ROUTE', 'FAILED', 'UPTIME', renderRuler(t.buckets, t.stepMs)]];
  if (report.routes.length !== 1) rows.push([`(${scopeText(t.scope)})`, String(failuresOf(t.buckets)), percent(uptimeOf(t.buckets)), renderStrip(t.buckets, options.colour)]);
  for (const { r, failed } of shown) rows.push([cut(routeName(r.route), 48), String(failed), percent(uptimeOf(r.buckets)), renderStrip(r.buckets, options.colour)]);
  const lines = columns(rows, [1, 2]);
  const hidden = report.routes.length - shown.length;
  if (hidden > 0) lines.push(`and ${hidden} route${hidden === 1 ? '' : 's'} without failures (--all-routes lists them)`);
  return lines;
}

/** The strip's legend. */
export function legend(stepMs: number, colour: boolean): string {
  const hops = HOPS.map((h) => (colour ? paint(h, hopColour(h), true) : `${HOP_LETTER[h]} ${h}`)).join(', ');
  return colour
    ? `one character per ${humanStep(stepMs)}: ▁ all ok, ▂…█ share of failed rounds, coloured by the failing hop (${hops}); · no rounds, ? unknown only`
    : `one character per ${humanStep(stepMs)}: ▁ all ok, a letter where rounds failed, naming the failing hop (${hops}); · no rounds, ? unknown only`;
}

/** What FAILED and UPTIME count, so a degraded route's "6 failed, 100% up" reads right. */
export const COUNTS_NOTE = 'FAILED counts degraded and failing rounds; UPTIME counts degraded rounds as up (the route still answered)';

/** The buckets with failures: when, how many, at which hops, why, and the edge latency. */
function failingBucketLines(t: ApiTimeline, options: RenderOptions): string[] {
  const failing = t.buckets.filter((b) => b.degraded + b.failing > 0);
  if (failing.length === 0) return ['no failed rounds in this range'];
  const max = options.maxBuckets ?? 40;
  const rows = [['BUCKET (UTC)', 'ROUNDS', 'FAILED', 'HOPS', 'CAUSES', 'EDGE P50', 'EDGE P95']];
  for (const b of failing.slice(0, max)) {
    rows.push([shortTime(b.start), String(b.rounds), String(b.degraded + b.failing), countsText(b.failuresByHop, options.colour, true),
      countsText(b.failuresByCause, false, false), ms(b.latency?.p50Ms), ms(b.latency?.p95Ms)]);
  }
  const lines = columns(rows, [1, 2, 5, 6]);
  if (failing.length > max) lines.push(`and ${failing.length - max} more buckets with failures (-o json has them all)`);
  return lines;
}

/** The whole table view of a timeline. */
export function renderTimeline(report: TimelineReport, options: RenderOptions): string {
  const t = report.timeline;
  const causes = sumCounts(t.buckets, 'failuresByCause');
  const hops = sumCounts(t.buckets, 'failuresByHop');
  return [
    ...timelineHeader(t),
    ...(Object.keys(hops).length === 0 ? [] : [`failed rounds by hop: ${countsText(hops, options.colour, true)}; by cause: ${countsText(causes, false, false)}`]),
    '',
    ...stripLines(report, options),
    paint(legend(t.stepMs, options.colour), GREY, options.colour),
    paint(COUNTS_NOTE, GREY, options.colour),
    '',
    ...failingBucketLines(t, options),
  ].join('\n');
}

/** The `-o json` of a timeline: the scope's timeline, and per route its totals and strip. */
export function timelineJson(report: TimelineReport) {
  return {
    ...report.timeline,
    routes: report.routes.map((r) => ({
      ...r.route,
      rounds: r.buckets.reduce((n, b) => n + b.rounds, 0),
      failed: failuresOf(r.buckets),
      uptime: uptimeOf(r.buckets),
      failuresByHop: sumCounts(r.buckets, 'failuresByHop'),
      failuresByCause: sumCounts(r.buckets, 'failuresByCause'),
      strip: renderStrip(r.buckets, false),
    })),
  };
}

// --- Incidents ---------------------------------------------------------------------

function hopText(hop: string | null, colour: boolean): string {
  return hop === null ? '-' : isHop(hop) ? paint(hop, hopColour(hop), colour) : hop;
}

function podsText(pods: readonly string[]): string {
  if (pods.length === 0) return '-';
  const first = pods[0]!.replace(/^[^/]+\//, '');
  return pods.length === 1 ? first : `${first} +${pods.length - 1}`;
}

function incidentRoute(i: ApiIncident): string {
  return i.route ? routeName(i.route) : `${i.routeId} (removed)`;
}

/** The incidents table. */
export function renderIncidents(incidents: readonly ApiIncident[], options: { colour: boolean; more: boolean }): string {
  if (incidents.length === 0) return 'no incidents in this range';
  const rows = [['ID', 'STATE', 'ROUTE', 'STARTED (UTC)', 'DURATION', 'HOP', 'CAUSE', 'PODS', 'ROLLOUT']];
  for (const i of incidents) {
    const state = i.state === 'open' ? paint(`open/${i.severity}`, statusColour(i.severity === 'degraded' ? 'degraded' : 'failing'), options.colour) : 'closed';
    rows.push([String(i.id), state, cut(incidentRoute(i), 48), shortTime(i.openedAt), `${humanDuration(i.durationMs)}${i.state === 'open' ? '+' : ''}`,
      hopText(i.hop, options.colour), i.cause, podsText(i.pods), i.rollout ? 'yes' : 'no']);
  }
  const lines = columns(rows, [0]);
  if (options.more) lines.push('more incidents match: raise --limit or narrow with --since, -n, --route');
  return lines.join('\n');
}

/** A round's hop results as a table. */
export function renderHops(round: ApiRound, colour: boolean): string[] {
  const rows = [['HOP', 'TARGET', 'POD', 'STATUS', 'ERROR', 'GENERATOR', 'CONNECT', 'TLS', 'TTFB', 'TOTAL']];
  for (const h of round.hops) {
    rows.push([hopText(h.hop, colour), h.target, h.pod ?? '-', h.status === null ? '-' : String(h.status), h.error ?? '-', h.generator ?? '-',
      ms(h.timings.connectMs), ms(h.timings.tlsMs), ms(h.timings.ttfbMs), ms(h.timings.totalMs)]);
  }
  return columns(rows, [6, 7, 8, 9]);
}

/** `hopwatch incidents show ID`: the incident, its evidence, and its first failing round's hop results. */
export function renderIncident(i: ApiIncident, firstRound: ApiRound | null, colour: boolean): string {
  const lines = [
    `incident ${i.id}: ${i.state === 'open' ? paint(`open (${i.severity})`, statusColour(i.severity === 'degraded' ? 'degraded' : 'failing'), colour) : `closed (${i.severity})`}`,
    ...columns([
      ['route', `${incidentRoute(i)}  [${i.routeId}]`],
      ['hop', hopText(i.hop, colour)],
      ['cause', i.cause],
      ['opened', i.openedAt],
      ['closed', i.closedAt ?? '- (still open)'],
      ['duration', `${humanDuration(i.durationMs)}${i.state === 'open' ? ' so far' : ''}`],
      ['rounds', `${i.failingRounds} failed rounds`],
      ['rollout', i.rollout ? 'yes: it lines up with a rollout of the backend' : 'no'],
      ['pods', i.pods.length === 0 ? '-' : i.pods.join(', ')],
    ]).map((l) => `  ${l}`),
  ];
  for (const c of i.changes) lines.push(`  then at ${c.at}: ${hopText(c.hop, colour)} ${c.cause}`);
  lines.push('evidence:', ...(i.firstEvidence.length === 0 ? ['  (none recorded)'] : i.firstEvidence.map((e) => `  · ${e}`)));
  if (firstRound === null) {
    lines.push('first failing round: no longer stored (raw rounds are kept for store.retention.rawDays)');
  } else {
    const v = firstRound.verdict;
    lines.push(`first failing round: ${firstRound.startedAt}, ${paint(v.status, statusColour(v.status), colour)} at ${hopText(v.hop, colour)} (${v.cause}): ${v.summary}`);
    lines.push(...renderHops(firstRound, colour).map((l) => `  ${l}`));
  }
  return lines.join('\n');
}

