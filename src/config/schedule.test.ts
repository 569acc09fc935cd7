import { describe, expect, test } from 'vitest';
import { createTask, validate } from 'node-cron';
import { ScheduleError, cronFireTimes, parseSchedule, scheduleIntervalMs } from './schedule.js';

describe('parseSchedule', () => {
  test.each([
    ['30s', { kind: 'interval', everyMs: 30_000 }],
    ['every 30s', { kind: 'interval', everyMs: 30_000 }],
    ['@every 1m', { kind: 'interval', everyMs: 60_000 }],
    ['Every 1m30s', { kind: 'interval', everyMs: 90_000 }],
    ['100ms', { kind: 'interval', everyMs: 100 }],
    ['*/5 * * * *', { kind: 'cron', expression: '*/5 * * * *' }],
    ['  */5   *  * * *  ', { kind: 'cron', expression: '*/5 * * * *' }],
    ['*/10 * * * * *', { kind: 'cron', expression: '*/10 * * * * *' }],
    ['0 9 * * MON-FRI', { kind: 'cron', expression: '0 9 * * MON-FRI' }],
    ['0 0 L * *', { kind: 'cron', expression: '0 0 L * *' }],
    ['@hourly', { kind: 'cron', expression: '@hourly' }],
  ])('%j', (text, expected) => {
    expect(parseSchedule(text)).toEqual(expected);
  });

  test.each([
    ['', 'invalid schedule "": expected an interval (30s, every 1m, @every 5m) or a cron expression (*/5 * * * *), got an empty string'],
    ['30x', 'invalid schedule "30x": expected an interval (30s, every 1m, @every 5m) or a cron expression (*/5 * * * *); as an interval: unknown unit "x": use w, d, h, m, s or ms'],
    ['every', 'invalid schedule "every": expected an interval (30s, every 1m, @every 5m) or a cron expression (*/5 * * * *); as an interval: not a duration'],
    ['every soon', 'invalid schedule "every soon": expected an interval (30s, every 1m, @every 5m) or a cron expression (*/5 * * * *); as an interval: not a duration'],
    ['10ms', 'invalid schedule "10ms": an interval must be at least 100ms'],
    ['0s', 'invalid schedule "0s": an interval must be at least 100ms'],
    ['61 * * * *', 'invalid schedule "61 * * * *": minute field "61" is not valid: expected 0-59 as a value, list, range or step'],
    ['* 24 * * *', 'invalid schedule "* 24 * * *": hour field "24" is not valid: expected 0-23 as a value, list, range or step'],
    ['*/0 * * * *', 'invalid schedule "*/0 * * * *": minute field "*/0" is not valid: expected 0-59 as a value, list, range or step'],
    ['0 0 * 13 *', 'invalid schedule "0 0 * 13 *": month field "13" is not valid: expected 1-12 or JAN-DEC as a value, list, range or step'],
    ['0 0 * * FUNDAY', 'invalid schedule "0 0 * * FUNDAY": day-of-week field "FUNDAY" is not valid: expected 0-7 or SUN-SAT, 1#2 or 5L as a value, list, range or step'],
    ['* * * *', 'invalid schedule "* * * *": a cron expression has 5 or 6 fields, this has 4; an interval is written 30s, 5m or "every 5m"'],
    ['5 minutes', 'invalid schedule "5 minutes": a cron expression has 5 or 6 fields, this has 2; an interval is written 30s, 5m or "every 5m"'],
    ['0 0 31 2 *', 'invalid schedule "0 0 31 2 *": day-of-month "31" never occurs in the months given'],
  ])('%j is rejected', (text, message) => {
    let caught: unknown;
    try {
      parseSchedule(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ScheduleError);
    expect(caught).toMatchObject({ code: 'BAD_SCHEDULE', text, message });
  });

  test('every accepted cron expression is one node-cron itself accepts', () => {
    for (const expression of ['*/5 * * * *', '*/10 * * * * *', '0 9 * * MON-FRI', '0 0 L * *', '0 0 * * 5L', '0 0 * * 1#2', '@daily']) {
      expect(parseSchedule(expression).kind).toBe('cron');
      expect(validate(expression)).toBe(true);
    }
  });
});

describe('scheduleIntervalMs', () => {
  // Friday 2024-05-03 12:00 UTC.
  const now = Date.UTC(2024, 4, 3, 12, 0, 0);

  test.each([
    [{ kind: 'interval', everyMs: 45_000 } as const, 45_000],
    [{ kind: 'cron', expression: '*/5 * * * *' } as const, 300_000],
    [{ kind: 'cron', expression: '*/10 * * * * *' } as const, 10_000],
    [{ kind: 'cron', expression: '0 */2 * * *' } as const, 7_200_000],
    [{ kind: 'cron', expression: '@daily' } as const, 86_400_000],
    // Next fires: Monday 09:00 and Tuesday 09:00 (the weekend gap lies before them).
    [{ kind: 'cron', expression: '0 9 * * MON-FRI' } as const, 86_400_000],
    // Next fires: May 31 and June 30.
    [{ kind: 'cron', expression: '0 0 L * *' } as const, 30 * 86_400_000],
  ])('%j', (schedule, expected) => {
    expect(scheduleIntervalMs(schedule, now)).toBe(expected);
  });

  test('a weekday schedule just before the weekend spans it', () => {
    const fridayMorning = Date.UTC(2024, 4, 3, 8, 0, 0);
    expect(scheduleIntervalMs({ kind: 'cron', expression: '0 9 * * MON-FRI' }, fridayMorning)).toBe(3 * 86_400_000);
  });
});

describe('cronFireTimes', () => {
  const iso = (times: number[]) => times.map((t) => new Date(t).toISOString());

  test('fire times are strictly after the given time', () => {
    expect(iso(cronFireTimes('*/15 * * * *', Date.UTC(2024, 0, 1, 0, 15), 3))).toEqual([
      '2024-01-01T00:30:00.000Z',
      '2024-01-01T00:45:00.000Z',
      '2024-01-01T01:00:00.000Z',
    ]);
  });

  test.each([
    ['0 0 * * 5L', ['2024-01-26T00:00:00.000Z', '2024-02-23T00:00:00.000Z', '2024-03-29T00:00:00.000Z']],
    ['0 0 * * 1#2', ['2024-01-08T00:00:00.000Z', '2024-02-12T00:00:00.000Z', '2024-03-11T00:00:00.000Z']],
    ['0 12 LW * *', ['2024-01-31T12:00:00.000Z', '2024-02-29T12:00:00.000Z', '2024-03-29T12:00:00.000Z']],
    ['0 12 15W * *', ['2024-01-15T12:00:00.000Z', '2024-02-15T12:00:00.000Z', '2024-03-15T12:00:00.000Z']],
    ['0 0 L-1 * *', ['2024-01-30T00:00:00.000Z', '2024-02-28T00:00:00.000Z', '2024-03-30T00:00:00.000Z']],
    ['0 0 29 2 *', ['2024-02-29T00:00:00.000Z', '2028-02-29T00:00:00.000Z', '2032-02-29T00:00:00.000Z']],
  ])('%s', (expression, expected) => {
    expect(iso(cronFireTimes(expression, Date.UTC(2024, 0, 1), 3))).toEqual(expected);
  });
});

describe('cronFireTimes agrees with node-cron', () => {
  test.each(['*/7 * * * *', '15 3 * * 1-5', '0 0 L * *', '0 12 LW * *', '0 0 * * 5L', '0 0 * * 2#3', '30 */20 * * * *', '0 0 1 JAN,JUL *'])('%s', (expression) => {
    // node-cron's own matcher (in UTC) must accept every computed fire time and reject the second before it.
    const task = createTask(expression, () => undefined, { timezone: 'Etc/UTC' });
    try {
      const times = cronFireTimes(expression, Date.UTC(2024, 1, 10, 7, 13, 5), 5);
      expect(times).toHaveLength(5);
      for (const t of times) {
        expect(task.match(new Date(t))).toBe(true);
        expect(task.match(new Date(t - 1_000))).toBe(false);
      }
    } finally {
      void task.destroy();
    }
  });
});
