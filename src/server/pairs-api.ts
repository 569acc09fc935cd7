// The pairs of `hopwatch run` under /api/v1/pairs: the same host and path through two front doors,
// compared round by round (src/compare/parity.ts). docs/api.md is the reference; keep it in step.

// Imports nothing of api.ts (which routes here): its answers are written in the API's error shape.

import type { PairParity, ParityPoint } from '../compare/parity.js';

/** An answer: status and JSON body (api.ts ApiAnswer). */
interface Answer {
  status: number;
  body: unknown;
}

/** Where the API reads the pairs from (the daemon's ParityTracker). */
export interface PairsSource {
  /** Every pair now. */
  list(): PairParity[];
  /** One pair, undefined when none has this id. */
  get(id: string): PairParity | undefined;
}

const OUTCOMES = ['alike', 'different', 'pending'] as const;

/** The share of comparisons that found the paths alike, null before any comparison. */
export function alikeShare(history: readonly ParityPoint[]): number | null {
  if (history.length === 0) return null;
  return Math.round((history.filter((p) => p.outcome === 'alike').length / history.length) * 10_000) / 10_000;
}

/** A pair as the API shows it: instants as ISO-8601, the parity share over the kept history. */
function shape(pair: PairParity, withHistory: boolean): Record<string, unknown> {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  const { history, since, lastComparedAt, ...rest } = pair;
  return {
    ...rest,
    since: iso(since),
    lastComparedAt: iso(lastComparedAt),
    parity: { compared: history.length, alikeShare: alikeShare(history), from: iso(history[0]?.at ?? null) },
    ...(withHistory ? { history: history.map((p) => ({ ...p, at: new Date(p.at).toISOString() })) } : {}),
  };
}

/** GET /api/v1/pairs[?outcome=alike|different|pending]. */
export function pairsEndpoint(source: PairsSource, query: URLSearchParams): Answer {
  // A misspelt filter (?outcom=different) must not answer every pair as if it had filtered.
  const unknown = [...query.keys()].find((k) => k !== 'outcome');
  if (unknown !== undefined) {
    const message = `parameter "${unknown}": unknown parameter; this endpoint takes outcome`;
    return { status: 400, body: { error: { code: 'BAD_PARAMETER', message, parameter: unknown } } };
  }
  const outcome = query.get('outcome');
  if (outcome !== null && !(OUTCOMES as readonly string[]).includes(outcome)) {
    const message = `parameter "outcome": expected one of ${OUTCOMES.join(', ')}, got ${JSON.stringify(outcome)}`;
    return { status: 400, body: { error: { code: 'BAD_PARAMETER', message, parameter: 'outcome' } } };
  }
  const pairs = source.list().filter((p) => outcome === null || p.outcome === outcome);
  return { status: 200, body: { pairs: pairs.map((p) => shape(p, false)) } };
}

/** GET /api/v1/pairs/{id}: one pair with its comparisons over time. */
export function pairEndpoint(source: PairsSource, id: string): Answer {
  const pair = source.get(id);
  if (pair === undefined) return { status: 404, body: { error: { code: 'NOT_FOUND', message: `no pair ${JSON.stringify(id)} (pairs: GET /api/v1/pairs)` } } };
  return { status: 200, body: shape(pair, true) };
}
