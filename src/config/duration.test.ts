import { describe, expect, test } from 'vitest';
import { DurationError, TimeRefError, formatDuration, parseDuration, parseTimeRef } from './duration.js';

describe('parseDuration', () => {
  test.each([
    ['250ms', 250],
    ['5s', 5_000],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['1w', 604_800_000],
    ['1h30m15s250ms', 5_415_250],
    ['0', 0],
    ['0s', 0],
    [' 30s ', 30_000],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each([
    ['', 'invalid duration "": empty; expected e.g. 250ms, 5s, 1m30s, 2h, 7d, 1w'],
    ['5', 'invalid duration "5": no unit: add one of w, d, h, m, s, ms; expected e.g. 250ms, 5s, 1m30s, 2h, 7d, 1w'],
    ['1.5m', 'invalid duration "1.5m": whole numbers only: write 1m30s, not 1.5m; expected e.g. 250ms, 5s, 1m30s, 2h, 7d, 1w'],
    ['30s1m', 'invalid duration "30s1m": units must go largest first, each at most once (1m30s); expected e.g. 250ms, 5s, 1m30s, 2h, 7d, 1w'],
    ['1h1h', 'invalid duration "1h1h": units must go largest first, each at most once (1m30s); expected e.g. 250ms, 5s, 1m30s, 2h, 7d, 1w'],
    ['5sec', 'invalid duration "5sec": unknown unit "sec": use w, d, h, m, s or ms; expected e.g. 250ms, 5s, 1m30s, 2h, 7d, 1w'],
    ['2y', 'invalid duration "2y": unknown unit "y": use w, d, h, m, s or ms; expected e.g. 250ms, 5s, 1m30s, 2h, 7d, 1w'],
    ['30 s', 'invalid duration "30 s": no spaces allowed: write 30s, 1m30s; expected e.g. 250ms, 5s, 1m30s, 2h, 7d, 1w'],
    ['-5s', 'invalid duration "-5s": negative; expected e.g. 250ms, 5s, 1m30s, 2h, 7d, 1w'],
    ['soon', 'invalid duration "soon": not a duration; expected e.g. 250ms, 5s, 1m30s, 2h, 7d, 1w'],
    ['99999999999999w', 'invalid duration "99999999999999w": too large; expected e.g. 250ms, 5s, 1m30s, 2h, 7d, 1w'],
  ])('%j is rejected', (text, message) => {
    const error = captureError(() => parseDuration(text));
    expect(error).toBeInstanceOf(DurationError);
    expect(error).toMatchObject({ code: 'BAD_DURATION', text, message });
  });

  test.each([0, 1, 250, 1_000, 90_000, 5_415_250, 694_861_001])('formatDuration(%d) reads back', (ms) => {
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });

  test('formatDuration picks the largest units', () => {
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(604_800_000 + 3_600_000)).toBe('1w1h');
  });
});

describe('parseTimeRef', () => {
  const now = Date.UTC(2024, 4, 3, 12, 0, 0);

  test.each([
    ['now', now],
    ['NOW', now],
    ['2h', now - 7_200_000],
    ['now-30m', now - 1_800_000],
    ['now - 1d', now - 86_400_000],
    ['2024-05-01T12:00:00Z', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T12:00:00.250Z', Date.UTC(2024, 4, 1, 12, 0, 0, 250)],
    ['2024-05-01T12:00:00+02:00', Date.UTC(2024, 4, 1, 10)],
    ['2024-05-01T12:00:00-0530', Date.UTC(2024, 4, 1, 17, 30)],
    ['2024-05-01T12:00', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01 12:00:00', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01', Date.UTC(2024, 4, 1)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
  ])('%j', (text, expected) => {
    expect(parseTimeRef(text, now)).toBe(expected);
  });

  test.each([
    ['', 'invalid time "": empty; expected an ISO-8601 time (2024-05-01T12:00:00Z), "now", or how long ago (2h, now-30m)'],
    ['yesterday', 'invalid time "yesterday": expected an ISO-8601 time (2024-05-01T12:00:00Z), "now", or how long ago (2h, now-30m)'],
    ['2023-02-29', 'invalid time "2023-02-29": a date or time field is out of range'],
    ['2024-05-01T25:00:00Z', 'invalid time "2024-05-01T25:00:00Z": a date or time field is out of range'],
    ['2024-05-01T12:00:00+25:00', 'invalid time "2024-05-01T12:00:00+25:00": offset +25:00 is out of range'],
    ['5x', 'invalid time "5x": unknown unit "x": use w, d, h, m, s or ms (read as how long ago, like 2h)'],
    ['05/01/2024', 'invalid time "05/01/2024": expected an ISO-8601 time (2024-05-01T12:00:00Z), "now", or how long ago (2h, now-30m)'],
    ['9000000000000000ms', 'invalid time "9000000000000000ms": out of range: times run from 1970 to the end of 9999'],
    ['1960-01-01', 'invalid time "1960-01-01": out of range: times run from 1970 to the end of 9999'],
  ])('%j is rejected', (text, message) => {
    const error = captureError(() => parseTimeRef(text, now));
    expect(error).toBeInstanceOf(TimeRefError);
    expect(error).toMatchObject({ code: 'BAD_TIME', text, message });
  });
});

/** Runs fn and returns what it threw (fails the test when it throws nothing). */
function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, none was thrown');
}
