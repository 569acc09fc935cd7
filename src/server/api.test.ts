import { describe, expect, it } from 'vitest';
import { ApiError, Params, incidentView, timelineStep } from './api.js';
import { bearerOf, parseListen, tokenMatches } from './server.js';
import { safeSegments } from './static.js';

const NOW = Date.UTC(2026, 0, 8, 12, 0, 0);
const params = (query: string, allowed: string[]): Params => new Params(new URLSearchParams(query), allowed);

function badParameterOf(fn: () => unknown): { parameter: string | null; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) return { parameter: error.parameter, message: error.message };
    throw error;
  }
  throw new Error('no error');
}

describe('Params', () => {
  it('reads times in ISO-8601 and relative forms', () => {
    const p = params('from=2h&to=2026-01-08T11:30:00Z&at=now-90m', ['from', 'to', 'at']);
    expect(p.time('from', NOW)).toBe(NOW - 2 * 3_600_000);
    expect(p.time('to', NOW)).toBe(NOW - 30 * 60_000);
    expect(p.time('at', NOW)).toBe(NOW - 90 * 60_000);
    expect(p.time('absent', NOW)).toBeUndefined();
  });

  it.each([
    ['an unknown parameter', 'x=1', () => params('x=1', ['a']), 'x', 'unknown parameter; this endpoint takes a'],
    ['a parameter to an endpoint without any', 'x=1', () => params('x=1', []), 'x', 'this endpoint takes no parameters'],
    ['a repeated parameter', 'a=1&a=2', () => params('a=1&a=2', ['a']), 'a', 'given more than once'],
    ['an empty value', 'a=', () => params('a=', ['a']).text('a'), 'a', 'empty; leave it out instead'],
    ['a bad time', 'from=soon', () => params('from=soon', ['from']).time('from', NOW), 'from', 'invalid time "soon"'],
    ['a zero step', 'step=0', () => params('step=0', ['step']).duration('step'), 'step', 'expected a positive duration'],
    ['a fractional integer', 'limit=2.5', () => params('limit=2.5', ['limit']).int('limit', 1, 10), 'limit', 'expected an integer from 1 to 10, got "2.5"'],
    ['a word outside the set', 'state=half', () => params('state=half', ['state']).oneOf('state', ['open', 'closed']), 'state', 'expected one of open, closed, got "half"'],
    ['a list with a bad item', 's=ok,,bad', () => params('s=ok,,bad', ['s']).listOf('s', ['ok', 'bad']), 's', 'got ""'],
  ])('400 for %s (%s)', (_name, _query, fn, parameter, message) => {
    const e = badParameterOf(fn);
    expect(e.parameter).toBe(parameter);
    expect(e.message).toContain(message);
    expect(e.message.startsWith(`parameter "${parameter}": `)).toBe(true);
  });
});

describe('timelineStep', () => {
  it.each([
    ['1 hour', 3_600_000, 60_000],
    ['24 hours', 86_400_000, 300_000],
    ['7 days', 7 * 86_400_000, 900_000],
    ['30 days', 30 * 86_400_000, 3_600_000],
    ['a year', 365 * 86_400_000, 86_400_000],
  ])('picks the finest step with at most 800 buckets over %s', (_name, range, step) => {
    expect(timelineStep(NOW - range, NOW, undefined)).toBe(step);
  });

  it('keeps a given step', () => {
    expect(timelineStep(0, 86_400_000, 120_000)).toBe(120_000);
  });
});

describe('incidentView', () => {
  it('writes instants as ISO-8601 and an open incident\'s duration up to now', () => {
    const v = incidentView({
      id: 4, routeId: 'r', severity: 'failing', openedAt: NOW - 60_000, closedAt: null, hop: 'pod', cause: 'pod.refused',
      changes: [{ at: NOW - 30_000, hop: 'controller', cause: 'controller.error' }], pods: ['a/b'], firstEvidence: ['x'], failingRounds: 2, rollout: false,
    }, NOW);
    expect(v).toMatchObject({ state: 'open', openedAt: '2026-01-08T11:59:00.000Z', closedAt: null, durationMs: 60_000, changes: [{ at: '2026-01-08T11:59:30.000Z' }] });
  });
});

describe('server helpers', () => {
  it.each([
    ['127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
    ['[::1]:9090', { host: '::1', port: 9090 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
  ])('parses listen %s', (text, want) => {
    expect(parseListen(text)).toEqual(want);
  });

  it.each(['8080', '127.0.0.1', '127.0.0.1:99999', '::1:80', 'host:port'])('refuses listen %s', (text) => {
    expect(() => parseListen(text)).toThrow(expect.objectContaining({ code: 'BAD_LISTEN' }));
  });

  it('reads bearer tokens and compares them exactly', () => {
    expect(bearerOf('Bearer abc.def')).toBe('abc.def');
    expect(bearerOf('bearer  abc ')).toBe('abc');
    expect(bearerOf('Basic abc')).toBeNull();
    expect(bearerOf('Bearer a b')).toBeNull();
    expect(bearerOf(undefined)).toBeNull();
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('ab', 'abc')).toBe(false);
    expect(tokenMatches('abcd', 'abc')).toBe(false);
    expect(tokenMatches('', 'abc')).toBe(false);
  });

  it.each([
    ['/', ['']],
    ['/app.js', ['app.js']],
    ['/a%20b/c.css', ['a b', 'c.css']],
    ['/../x', null],
    ['/%2e%2e/x', null],
    ['/a/.hidden', null],
    ['/a%2fb', null],
    ['/a%5cb', null],
    ['/%00', null],
    ['/%zz', null],
  ])('safeSegments(%s)', (path, want) => {
    expect(safeSegments(path)).toEqual(want);
  });
});
