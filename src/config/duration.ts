// Durations ("250ms", "1m30s", "7d") and time references ("2024-05-01T12:00:00Z",
// "2h" = two hours ago, "now") as typed by users in the config, CLI flags and
// API query parameters. Pure: the current time is always passed in.

/** Milliseconds per duration unit, largest first (the order units must appear in). */
const UNIT_MS: ReadonlyArray<readonly [unit: string, ms: number]> = [
  ['w', 7 * 24 * 3_600_000],
  ['d', 24 * 3_600_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

const DURATION_EXAMPLES = '250ms, 5s, 1m30s, 2h, 7d, 1w';

/** A duration string that does not parse. */
export class DurationError extends Error {
  /** Stable error code. */
  readonly code = 'BAD_DURATION';
  /** The text that was rejected. */
  readonly text: string;
  /** What was wrong with it, without the text. */
  readonly reason: string;

  constructor(text: string, reason: string, options?: ErrorOptions) {
    super(`invalid duration ${JSON.stringify(text)}: ${reason}; expected e.g. ${DURATION_EXAMPLES}`, options);
    this.name = 'DurationError';
    this.text = text;
    this.reason = reason;
  }
}

/** A time reference that does not parse. */
export class TimeRefError extends Error {
  /** Stable error code. */
  readonly code = 'BAD_TIME';
  /** The text that was rejected. */
  readonly text: string;

  constructor(text: string, reason: string, options?: ErrorOptions) {
    super(`invalid time ${JSON.stringify(text)}: ${reason}`, options);
    this.name = 'TimeRefError';
    this.text = text;
  }
}

/**
 * Parses a duration such as "250ms", "5s", "1m30s", "2h", "7d" or "1w" into milliseconds.
 * Whole numbers only; several units may be combined, largest first, each at most once
 * (Prometheus' duration syntax without years). "0" alone means zero.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  if (trimmed === '') throw new DurationError(text, 'empty');
  // "ms" must be tried before "m" and "s", hence the alternation order.
  const part = /(\d+)(ms|w|d|h|m|s)/y;
  let total = 0;
  let lastUnitIndex = -1;
  while (part.lastIndex < trimmed.length) {
    const match = part.exec(trimmed);
    if (match === null) throw new DurationError(text, unparsableReason(trimmed));
    const [, digits, unit] = match as unknown as [string, string, string];
    const unitIndex = UNIT_MS.findIndex(([name]) => name === unit);
    if (unitIndex <= lastUnitIndex) throw new DurationError(text, 'units must go largest first, each at most once (1m30s)');
    lastUnitIndex = unitIndex;
    total += Number(digits) * (UNIT_MS[unitIndex] as readonly [string, number])[1];
  }
  if (!Number.isSafeInteger(total)) throw new DurationError(text, 'too large');
  return total;
}

/** Explains why a duration does not parse, as specifically as the text allows. */
function unparsableReason(text: string): string {
  if (/^\d+$/.test(text)) return 'no unit: add one of w, d, h, m, s, ms';
  if (/\d\.\d/.test(text)) return 'whole numbers only: write 1m30s, not 1.5m';
  if (/^-/.test(text)) return 'negative';
  if (/\s/.test(text)) return 'no spaces allowed: write 30s, 1m30s';
  const units = /^(?:\d+[a-zA-Z]+)+$/.test(text) ? [...text.matchAll(/\d+([a-zA-Z]+)/g)].map((m) => m[1] as string) : [];
  const unknown = units.find((u) => !UNIT_MS.some(([name]) => name === u));
  if (unknown !== undefined) return `unknown unit "${unknown}": use w, d, h, m, s or ms`;
  return 'not a duration';
}

/** Formats milliseconds as the shortest duration string that parseDuration reads back ("1m30s", "250ms", "0"). */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`duration must be a non-negative whole number of ms, got ${ms}`);
  if (ms === 0) return '0';
  let rest = ms;
  let out = '';
  for (const [unit, unitMs] of UNIT_MS) {
    const count = Math.floor(rest / unitMs);
    if (count > 0) out += `${count}${unit}`;
    rest -= count * unitMs;
  }
  return out;
}

// YYYY-MM-DD, optionally followed by a time (T or space) and an offset.
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

const TIME_EXAMPLES = 'an ISO-8601 time (2024-05-01T12:00:00Z), "now", or how long ago (2h, now-30m)';

/**
 * Parses a time reference into ms since the epoch: an ISO-8601 timestamp (a time without
 * an offset is UTC; a date alone is UTC midnight), "now", or a duration meaning that long
 * before `now` ("2h", "now-2h").
 */
export function parseTimeRef(text: string, now: number): number {
  const ms = parseTimeRefUnchecked(text, now);
  if (!(ms >= 0 && ms <= MAX_INSTANT_MS)) throw new TimeRefError(text, 'out of range: times run from 1970 to the end of 9999');
  return ms;
}

/** The latest instant hopwatch reads or writes: the end of year 9999 (what a four-digit ISO-8601 year reaches). */
export const MAX_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function parseTimeRefUnchecked(text: string, now: number): number {
  const trimmed = text.trim();
  if (trimmed === '') throw new TimeRefError(text, `empty; expected ${TIME_EXAMPLES}`);
  if (trimmed.toLowerCase() === 'now') return now;
  const iso = ISO_TIME.exec(trimmed);
  if (iso !== null) return parseIsoTime(text, iso);
  const ago = trimmed.replace(/^now\s*-\s*/i, '');
  try {
    return now - parseDuration(ago);
  } catch (error) {
    if (!(error instanceof DurationError)) throw error;
    // Digits alone or followed by letters ("5", "5x", "1.5h") were meant as "how long ago": say what is wrong with the duration.
    const meantAsDuration = /^\d+(\.\d+)?([a-zA-Z]|$)/.test(ago);
    throw new TimeRefError(text, meantAsDuration ? `${error.reason} (read as how long ago, like 2h)` : `expected ${TIME_EXAMPLES}`, { cause: error });
  }
}

/** Turns a matched ISO-8601 time into ms, rejecting fields out of range (e.g. February 30). */
function parseIsoTime(text: string, match: RegExpExecArray): number {
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone = 'Z'] = match as unknown as string[];
  const fields = [year, month, day, hour, minute, second].map(Number) as [number, number, number, number, number, number];
  const [y, mo, d, h, mi, s] = fields;
  const ms = Number(fraction.padEnd(3, '0').slice(0, 3));
  const utc = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const check = new Date(utc);
  // Date.UTC silently rolls over out-of-range fields; a round trip catches "2024-02-30" and "25:00".
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || check.getUTCHours() !== h || check.getUTCMinutes() !== mi || check.getUTCSeconds() !== s) {
    throw new TimeRefError(text, 'a date or time field is out of range');
  }
  return utc - zoneOffsetMs(text, zone as string);
}

/** Offset of "Z", "+02:00" or "-0530" in ms east of UTC. */
function zoneOffsetMs(text: string, zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4));
  if (hours > 23 || minutes > 59) throw new TimeRefError(text, `offset ${zone} is out of range`);
  return sign * (hours * 60 + minutes) * 60_000;
}
