// Pure: what `hopwatch demo` prints. The verdict table once, when the first rounds have settled;
// then one timestamped line per route whose verdict changed; now and then a line saying where to
// look; a line when it stops. A terminal that reprinted the whole table every few seconds scrolled
// the URL and the config path away (issue #17).

import type { RouteRound, VerdictHop, VerdictStatus } from '../model.js';
import { paint, routeLabel, statusColour } from './format.js';

/** A verdict as the demo compares it: status, hop and cause. */
export function verdictKey(round: RouteRound): string {
  const v = round.verdict;
  return `${v.status} ${v.hop ?? '-'} ${v.cause}`;
}

/** "07:41:05Z", the time at the start of the demo's lines (UTC, like every time hopwatch prints). */
export function clock(at: number): string {
  return `${new Date(at).toISOString().slice(11, 19)}Z`;
}

function verdictText(status: VerdictStatus, hop: VerdictHop | null, cause: string, colour: boolean): string {
  return `${paint(status, statusColour(status), colour)}${hop ? ` at ${hop}` : ''} (${cause})`;
}

/** One line for a route whose verdict changed since the last line or the table: "07:41:05Z  shop/cart cart.demo.test/  ok -> degraded at pod (pod.refused): summary". */
export function changeLine(at: number, before: RouteRound | undefined, now: RouteRound, colour: boolean): string {
  const v = now.verdict;
  const was = before ? `${verdictText(before.verdict.status, before.verdict.hop, before.verdict.cause, colour)} -> ` : 'new route: ';
  const summary = v.status === 'ok' ? '' : `: ${v.summary}`;
  return `${clock(at)}  ${routeLabel(now)}  ${was}${verdictText(v.status, v.hop, v.cause, colour)}${summary}`;
}

/** Counts of the latest verdicts: "3 failing, 1 degraded, 4 ok". */
export function statusCounts(latest: Iterable<RouteRound>): string {
  const counts = new Map<string, number>();
  for (const r of latest) counts.set(r.verdict.status, (counts.get(r.verdict.status) ?? 0) + 1);
  const order = ['failing', 'degraded', 'unknown', 'ok'];
  const parts = order.filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${s}`);
  return parts.length > 0 ? parts.join(', ') : 'no round yet';
}

/** What a user needs to look at the demo: the dashboard, and the commands to try with the lab's config. */
export interface DemoPlaces {
  /** The dashboard's base URL, without the trailing slash. */
  url: string;
  /** The lab's hopwatch config file (with the demo's store.path). */
  configPath: string;
  /** The directory holding the `hopwatch` command (bin/ of the checkout). */
  binDir: string;
}

/** Quotes a path for a POSIX shell when it needs it. */
export function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The lines printed first: the dashboard, then commands that run as printed in a second terminal. */
export function hintLines(places: DemoPlaces): string[] {
  return [
    `hopwatch dashboard: ${places.url}/   (API ${places.url}/api/v1, metrics ${places.url}/metrics) — Ctrl-C to stop`,
    `hopwatch config for this lab: ${places.configPath}   (its store.path is the demo's history)`,
    '',
    'Try the CLI against the demo in a second terminal (while the demo runs):',
    `  export PATH=${shellQuote(places.binDir)}:"$PATH" HOPWATCH_CONFIG=${shellQuote(places.configPath)}`,
    '  hopwatch probe                                  # one round now; exit 1: routes are failing',
    '  hopwatch verify --ingress payments/checkout --duration 5s   # exit 1: its pods refuse',
    '  hopwatch timeline --since 10m                   # history from the demo\'s store',
    '  hopwatch incidents                              # newest first',
  ];
}

/** The reminder printed now and then, so the URL never scrolls away for long. */
export function reminderLine(at: number, places: DemoPlaces, latest: Iterable<RouteRound>): string {
  return `${clock(at)}  still running: ${statusCounts(latest)} — dashboard ${places.url}/ — config ${places.configPath}`;
}

/** Why the demo stopped. */
export type StopReason = { kind: 'signal' } | { kind: 'for'; forText: string };

/** The last line: why and after how long it stopped, and that the lab went with it. */
export function stopLine(at: number, startedAt: number, reason: StopReason, labDir: string): string {
  const why = reason.kind === 'signal' ? 'stopped (Ctrl-C)' : `stopped: --for ${reason.forText} is over`;
  const s = Math.round((at - startedAt) / 1000);
  const took = s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${clock(at)}  hopwatch demo ${why} after ${took}; the lab's processes are stopped and ${labDir} (config and store) is removed`;
}
