import { describe, expect, it } from 'vitest';
import { parseExpectStatus, parseProbePath, readAnnotations } from './annotations.js';

describe('parseExpectStatus', () => {
  const cases: { value: string; codes: number[] | null }[] = [
    { value: '200', codes: [200] },
    { value: '200,301', codes: [200, 301] },
    { value: ' 301 , 200 ,200', codes: [200, 301] },
    { value: '2xx', codes: Array.from({ length: 100 }, (_, i) => 200 + i) },
    { value: '200-204', codes: [200, 201, 202, 203, 204] },
    { value: '200-299', codes: Array.from({ length: 100 }, (_, i) => 200 + i) },
    { value: '3XX,200', codes: [200, ...Array.from({ length: 100 }, (_, i) => 300 + i)] },
    { value: '', codes: null },
    { value: 'ok', codes: null },
    { value: '200,', codes: null },
    { value: '99', codes: null },
    { value: '600', codes: null },
    { value: '6xx', codes: null },
    { value: '299-200', codes: null },
    { value: '2000', codes: null },
  ];
  for (const c of cases) it(JSON.stringify(c.value), () => expect(parseExpectStatus(c.value)).toEqual(c.codes));
});

describe('parseProbePath', () => {
  const cases: { value: string; path: string | null }[] = [
    { value: '/healthz', path: '/healthz' },
    { value: ' /api/v1/ping?x=1 ', path: '/api/v1/ping?x=1' },
    { value: 'healthz', path: null },
    { value: '', path: null },
    { value: '/a b', path: null },
    { value: '/a\u0000', path: null },
  ];
  for (const c of cases) it(JSON.stringify(c.value), () => expect(parseProbePath(c.value)).toBe(c.path));
});

describe('readAnnotations', () => {
  it('no annotations: defaults, no problems', () => {
    expect(readAnnotations({})).toEqual({ probePath: null, expectStatus: null, ignore: false, schedule: null, problems: [] });
  });

  it('all valid', () => {
    expect(
      readAnnotations({
        'hopwatch.io/probe-path': '/healthz',
        'hopwatch.io/expect-status': '200,301',
        'hopwatch.io/ignore': 'true',
        'hopwatch.io/schedule': ' */5 * * * * ',
      }),
    ).toEqual({ probePath: '/healthz', expectStatus: [200, 301], ignore: true, schedule: '*/5 * * * *', problems: [] });
  });

  it('ignore only for "true"', () => {
    expect(readAnnotations({ 'hopwatch.io/ignore': 'TRUE' }).ignore).toBe(true);
    expect(readAnnotations({ 'hopwatch.io/ignore': 'false' }).ignore).toBe(false);
    expect(readAnnotations({ 'hopwatch.io/ignore': 'yes' }).ignore).toBe(false);
  });

  it('bad values become problems naming the annotation and the value', () => {
    const settings = readAnnotations({ 'hopwatch.io/probe-path': 'healthz', 'hopwatch.io/expect-status': 'ok' });
    expect(settings.probePath).toBeNull();
    expect(settings.expectStatus).toBeNull();
    expect(settings.problems).toEqual([
      'hopwatch.io/probe-path must be a path starting with "/" without spaces, got "healthz"',
      'hopwatch.io/expect-status must list status codes like "200", "200,301", "2xx" or "200-299", got "ok"',
    ]);
  });
});
