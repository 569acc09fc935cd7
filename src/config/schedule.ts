// Probe schedules: a fixed interval ("30s", "every 30s", "@every 1m") or a node-cron
// expression (5 fields, or 6 with seconds first). Validated here, at start-up, so a
// typo never reaches the scheduler; also gives the nominal period for jitter spreading.

import { validateDetailed, type CronFieldError, type ParsedFields } from 'node-cron';
import type { Schedule } from './types.js';
import { DurationError, parseDuration } from './duration.js';

/** Shortest interval accepted: anything shorter is a typo ("30ms" for "30s") rather than a probe rate. */
export const MIN_INTERVAL_MS = 100;

/** How far ahead fire times are searched: a cron expression that fires less often is rejected. */
const HORIZON_DAYS = 366 * 100;

/** A fixed reference for the "does it ever fire" check, so validation does not depend on the clock. */
const VALIDATION_REFERENCE_MS = Date.UTC(2000, 0, 1);

const DAY_MS = 86_400_000;

const SCHEDULE_EXAMPLES = 'an interval (30s, every 1m, @every 5m) or a cron expression (*/5 * * * *)';

/** A schedule that does not parse. */
export class ScheduleError extends Error {
  /** Stable error code. */
  readonly code = 'BAD_SCHEDULE';
  /** The text that was rejected. */
  readonly text: string;
  /** What was wrong with it, without the text. */
  readonly reason: string;

  constructor(text: string, reason: string, options?: ErrorOptions) {
    super(`invalid schedule ${JSON.stringify(text)}: ${reason}`, options);
    this.name = 'ScheduleError';
    this.text = text;
    this.reason = reason;
  }
}

/** Parses an interval ("30s", "every 30s", "@every 1m") or a node-cron expression (5 or 6 fields, or @daily-style nicknames). */
export function parseSchedule(text: string): Schedule {
  const trimmed = text.trim().replace(/\s+/g, ' ');
  if (trimmed === '') throw new ScheduleError(text, `expected ${SCHEDULE_EXAMPLES}, got an empty string`);
  const every = /^@?every (.*)$/i.exec(trimmed);
  if (every !== null) return parseInterval(text, every[1] as string);
  // A single token that is not a cron nickname can only be meant as an interval.
  if (!trimmed.includes(' ') && !trimmed.startsWith('@')) return parseInterval(text, trimmed);
  return parseCron(text, trimmed);
}

/** Parses the duration of an interval schedule. */
function parseInterval(text: string, duration: string): Schedule {
  let everyMs: number;
  try {
    everyMs = parseDuration(duration);
  } catch (error) {
    if (!(error instanceof DurationError)) throw error;
    throw new ScheduleError(text, `expected ${SCHEDULE_EXAMPLES}; as an interval: ${error.reason}`, { cause: error });
  }
  if (everyMs < MIN_INTERVAL_MS) throw new ScheduleError(text, `an interval must be at least ${MIN_INTERVAL_MS}ms`);
  return { kind: 'interval', everyMs };
}

/** Validates a cron expression with node-cron and checks that it fires at least twice. */
function parseCron(text: string, expression: string): Schedule {
  const result = validateDetailed(expression);
  if (!result.valid || result.fields === undefined) {
    throw new ScheduleError(text, result.errors.map(describeCronError).join('; ') || 'not a valid cron expression');
  }
  if (fireTimes(text, result.fields, VALIDATION_REFERENCE_MS, 2).length < 2) {
    throw new ScheduleError(text, 'the expression (almost) never fires: fewer than two fire times in a century');
  }
  return { kind: 'cron', expression };
}

/** What each cron field accepts, for error messages. */
const FIELD_RANGES: Record<string, [label: string, accepts: string]> = {
  second: ['second', '0-59'],
  minute: ['minute', '0-59'],
  hour: ['hour', '0-23'],
  dayOfMonth: ['day-of-month', '1-31, L, LW, 15W or L-2'],
  month: ['month', '1-12 or JAN-DEC'],
  dayOfWeek: ['day-of-week', '0-7 or SUN-SAT, 1#2 or 5L'],
};

/** Rewrites one node-cron validation error as "<field> field "x" is not valid: expected ...". */
function describeCronError(error: CronFieldError): string {
  const field = FIELD_RANGES[error.field];
  const count = /expected 5 or 6 fields but got (\d+)/.exec(error.message);
  // A wrong field count is as likely a mistyped interval ("5 minutes") as a short cron expression.
  if (count !== null) return `a cron expression has 5 or 6 fields, this has ${count[1]}; an interval is written 30s, 5m or "every 5m"`;
  if (field === undefined) return error.message;
  if (/impossible/.test(error.message)) return `day-of-month "${error.value ?? ''}" never occurs in the months given`;
  return `${field[0]} field "${error.value ?? ''}" is not valid: expected ${field[1]} as a value, list, range or step`;
}

/**
 * The nominal period of a schedule in ms: exact for intervals; for cron, the gap between
 * the next two fire times after `now` (computed in UTC, so daylight-saving shifts do not count).
 */
export function scheduleIntervalMs(schedule: Schedule, now: number = Date.now()): number {
  switch (schedule.kind) {
    case 'interval':
      return schedule.everyMs;
    case 'cron': {
      const result = validateDetailed(schedule.expression);
      if (!result.valid || result.fields === undefined) throw new ScheduleError(schedule.expression, 'not a valid cron expression');
      const [first, second] = fireTimes(schedule.expression, result.fields, now, 2);
      if (first === undefined || second === undefined) throw new ScheduleError(schedule.expression, 'the expression never fires');
      return second - first;
    }
  }
}

/** The next `count` fire times (ms, UTC) of a cron expression strictly after `afterMs`. */
export function cronFireTimes(expression: string, afterMs: number, count: number): number[] {
  const result = validateDetailed(expression);
  if (!result.valid || result.fields === undefined) throw new ScheduleError(expression, result.errors.map(describeCronError).join('; '));
  return fireTimes(expression, result.fields, afterMs, count);
}

/** Walks day by day (bounded by HORIZON_DAYS) collecting fire times after `afterMs`. */
function fireTimes(expression: string, fields: ParsedFields, afterMs: number, count: number): number[] {
  const seconds = sortedNumbers(fields.second);
  const minutes = sortedNumbers(fields.minute);
  const hours = sortedNumbers(fields.hour);
  const firstDay = Math.floor(afterMs / DAY_MS) * DAY_MS;
  const times: number[] = [];
  for (let day = 0; day < HORIZON_DAYS && times.length < count; day++) {
    const dayStart = firstDay + day * DAY_MS;
    if (!dayMatches(expression, fields, new Date(dayStart))) continue;
    for (const hour of hours) {
      for (const minute of minutes) {
        for (const second of seconds) {
          const at = dayStart + hour * 3_600_000 + minute * 60_000 + second * 1_000;
          if (at > afterMs) times.push(at);
          if (times.length === count) return times;
        }
      }
    }
  }
  return times;
}

/** The numeric values of a parsed time field, ascending. */
function sortedNumbers(values: number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** True when month, day of month and day of week all match (node-cron ANDs the two day fields). */
function dayMatches(expression: string, fields: ParsedFields, date: Date): boolean {
  const month = date.getUTCMonth() + 1;
  if (!fields.month.includes(month)) return false;
  const day = { year: date.getUTCFullYear(), month, day: date.getUTCDate(), weekday: date.getUTCDay() };
  return fields.dayOfMonth.some((v) => dayOfMonthMatches(expression, v, day)) && fields.dayOfWeek.some((v) => dayOfWeekMatches(expression, v, day));
}

/** One calendar day, UTC. */
interface CalendarDay {
  year: number;
  month: number;
  day: number;
  weekday: number;
}

/** Last day (28-31) of a month. */
function lastDayOfMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** node-cron's day-of-month tokens: a number, L, LW / 15W (nearest weekday), L-2 (days before the last). */
function dayOfMonthMatches(expression: string, value: number | string, d: CalendarDay): boolean {
  if (typeof value === 'number') return value === d.day;
  const last = lastDayOfMonth(d.year, d.month);
  if (value === 'L') return d.day === last;
  const weekday = /^(\d{1,2}|L)W$/.exec(value);
  if (weekday !== null) return nearestWeekday(d, weekday[1] === 'L' ? last : Number(weekday[1]), last) === d.day;
  const offset = /^L-(\d{1,2})$/.exec(value);
  if (offset !== null) return last - Number(offset[1]) === d.day;
  throw new ScheduleError(expression, `unsupported day-of-month token "${value}"`);
}

/** The weekday (Mon-Fri) nearest to `target` within the month, as cron's "W" defines it. */
function nearestWeekday(d: CalendarDay, target: number, last: number): number {
  if (target < 1 || target > last) return -1;
  const weekday = new Date(Date.UTC(d.year, d.month - 1, target)).getUTCDay();
  if (weekday === 6) return target === 1 ? target + 2 : target - 1;
  if (weekday === 0) return target === last ? target - 2 : target + 1;
  return target;
}

/** node-cron's day-of-week tokens: a number (0 = Sunday), 1#2 (second Monday), 5L (last Friday). */
function dayOfWeekMatches(expression: string, value: number | string, d: CalendarDay): boolean {
  if (typeof value === 'number') return value % 7 === d.weekday;
  const nth = /^([0-7])#([1-5])$/.exec(value);
  if (nth !== null) return Number(nth[1]) % 7 === d.weekday && Math.floor((d.day - 1) / 7) + 1 === Number(nth[2]);
  const lastOf = /^([0-7])L$/i.exec(value);
  if (lastOf !== null) return Number(lastOf[1]) % 7 === d.weekday && d.day + 7 > lastDayOfMonth(d.year, d.month);
  throw new ScheduleError(expression, `unsupported day-of-week token "${value}"`);
}
