import { describe, expect, it } from 'vitest';
import {
  type ApiBucket, type ApiIncident, dominantHop, humanDuration, renderIncidents, renderRuler, renderStrip, renderTimeline, stripChar, timelineJson,
} from './history-format.js';

function bucket(start: string, over: Partial<ApiBucket> = {}): ApiBucket {
  return { start, rounds: 10, ok: 10, degraded: 0, failing: 0, unknown: 0, failuresByHop: {}, failuresByCause: {}, latency: { minMs: 1, avgMs: 2, maxMs: 3, p50Ms: 2, p95Ms: 3, p99Ms: 3 }, ...over };
}

const fail = (hops: Record<string, number>, n = Object.values(hops).reduce((a, b) => a + b, 0)): Partial<ApiBucket> => ({
  ok: 10 - n, failing: n, failuresByHop: hops, failuresByCause: Object.fromEntries(Object.keys(hops).map((h) => [`${h}.x`, hops[h]!])),
});

describe('strip', () => {
  it.each([
    ['no rounds', { rounds: 0, ok: 0 }, '·'],
    ['all ok', {}, '▁'],
    ['unknown only', { ok: 0, unknown: 10 }, '?'],
    ['pod failures', fail({ pod: 3 }), 'p'],
    ['controller failures', fail({ controller: 10 }), 'c'],
    ['config', fail({ config: 1 }), 'C'],
    ['a tie goes to the outer hop', fail({ pod: 2, edge: 2 }), 'e'],
    ['the larger count wins', fail({ pod: 3, edge: 2 }), 'p'],
  ])('%s without colour', (_name, over, char) => {
    expect(stripChar(bucket('2026-01-31T00:00:00.000Z', over), false)).toBe(char);
  });

  it('with colour, the height is the failed share and the colour the hop', () => {
    expect(stripChar(bucket('x', fail({ pod: 1 })), true)).toBe('\x1b[31m▂\x1b[0m');
    expect(stripChar(bucket('x', fail({ controller: 10 })), true)).toBe('\x1b[34m█\x1b[0m');
    expect(stripChar(bucket('x', fail({ dns: 5 })), true)).toBe('\x1b[35m▅\x1b[0m');
    expect(stripChar(bucket('x'), true)).toBe('\x1b[32m▁\x1b[0m');
  });

  it('names the dominant hop', () => {
    expect(dominantHop({ failuresByHop: {} })).toBeNull();
    expect(dominantHop({ failuresByHop: { service: 4, pod: 4 } })).toBe('service');
  });
});

describe('ruler', () => {
  it('labels aligned ticks without overlap, one label every few hours for a day', () => {
    const buckets = Array.from({ length: 96 }, (_, i) => bucket(new Date(Date.UTC(2026, 0, 31) + i * 900_000).toISOString()));
    const ruler = renderRuler(buckets, 900_000);
    expect(ruler.startsWith('|00:00')).toBe(true);
    expect(ruler.length).toBeLessThanOrEqual(96);
    expect([...ruler.matchAll(/\|(\d\d:\d\d)/g)].map((m) => m[1])).toEqual(['00:00', '03:00', '06:00', '09:00', '12:00', '15:00', '18:00', '21:00']);
    expect(ruler.indexOf('|03:00')).toBe(12);
  });
});

describe('renderTimeline', () => {
  const starts = Array.from({ length: 8 }, (_, i) => new Date(Date.UTC(2026, 0, 31, 10) + i * 900_000).toISOString());
  const web = { id: 'shop/web/w/', namespace: 'shop', ingress: 'web', host: 'w', path: '/' };
  const api = { id: 'shop/api/a/', namespace: 'shop', ingress: 'api', host: 'a', path: '/' };
  const apiBuckets = starts.map((s, i) => bucket(s, i >= 2 && i < 4 ? fail({ pod: 10 }) : {}));
  const webBuckets = starts.map((s) => bucket(s));
  const scope = starts.map((s, i) => bucket(s, { rounds: 20, ok: i >= 2 && i < 4 ? 10 : 20, ...(i >= 2 && i < 4 ? { failing: 10, failuresByHop: { pod: 10 }, failuresByCause: { 'pod.refused': 10 } } : {}) }));
  const report = {
    timeline: { scope: { namespace: 'shop' }, from: starts[0]!, to: '2026-01-31T12:00:00.000Z', stepMs: 900_000, tier: 'minute', expiredBefore: null, buckets: scope },
    routes: [{ route: web, buckets: webBuckets }, { route: api, buckets: apiBuckets }],
  };

  it('shows totals, a strip per failing route, the quiet ones counted, and the failing buckets', () => {
    const text = renderTimeline(report, { colour: false });
    expect(text).toContain('timeline of namespace shop, 2026-01-31 10:00 to 2026-01-31 12:00 UTC, one bucket per 15m (8 buckets, from the minute rollups)');
    expect(text).toContain('rounds 160, ok 140, degraded 0, failing 20, unknown 0; uptime 87.50%; edge p95 up to 3 ms');
    expect(text).toContain('failed rounds by hop: pod 20; by cause: pod.refused 20');
    expect(text).toMatch(/^shop\/api a\/\s+20\s+75\.00%\s+▁▁pp▁▁▁▁$/m);
    expect(text).not.toMatch(/^shop\/web/m);
    expect(text).toContain('and 1 route without failures (--all-routes lists them)');
    expect(text).toMatch(/^2026-01-31 10:30\s+20\s+10\s+pod 10\s+pod\.refused 10\s+2 ms\s+3 ms$/m);
    expect(renderTimeline(report, { colour: false, allRoutes: true })).toMatch(/^shop\/web w\/\s+0\s+100\.00%\s+▁{8}$/m);
    expect(text).not.toContain('expired');
  });

  it('says when buckets are empty because the tier read has expired, and which step reads further back', () => {
    const expired = { ...report, timeline: { ...report.timeline, expiredBefore: '2026-01-31T11:00:00.000Z' } };
    expect(renderTimeline(expired, { colour: false })).toContain(
      'note: the minute rollups before 2026-01-31 11:00 UTC have expired (store.retention), so those buckets are empty: a step of 1h or more reads a tier kept longer',
    );
  });

  it('-o json carries every bucket and per route its totals and strip', () => {
    const json = timelineJson(report);
    expect(json.buckets).toHaveLength(8);
    expect(json.routes.map((r) => [r.id, r.rounds, r.failed, r.uptime, r.strip])).toEqual([
      ['shop/web/w/', 80, 0, 1, '▁'.repeat(8)],
      ['shop/api/a/', 80, 20, 0.75, '▁▁pp▁▁▁▁'],
    ]);
    expect(json.routes[1]!.failuresByCause).toEqual({ 'pod.x': 20 });
  });
});

describe('incidents', () => {
  const incident: ApiIncident = {
    id: 7, routeId: 'pay/checkout/pay.test/', route: { id: 'pay/checkout/pay.test/', namespace: 'pay', ingress: 'checkout', host: 'pay.test', path: '/' },
    state: 'open', severity: 'failing', openedAt: '2026-01-31T10:41:57.998Z', closedAt: null, durationMs: 3_725_000, hop: 'pod', cause: 'pod.refused',
    changes: [], pods: ['pay/checkout-0', 'pay/checkout-1'], firstEvidence: ['pay/checkout-0 refused'], failingRounds: 120, rollout: true,
  };

  it('renders a row per incident with route, start, duration, hop, cause, pods and rollout', () => {
    const text = renderIncidents([incident, { ...incident, id: 12, route: null, state: 'closed', closedAt: 'x', durationMs: 45_000, pods: [] }], { colour: false, more: true });
    const lines = text.split('\n');
    expect(lines[1]).toMatch(/^ 7\s+open\/failing\s+pay\/checkout pay\.test\/\s+2026-01-31 10:41\s+1h 02m\+\s+pod\s+pod\.refused\s+checkout-0 \+1\s+yes$/);
    expect(lines[2]).toMatch(/^12\s+closed\s+pay\/checkout\/pay\.test\/ \(removed\)\s+2026-01-31 10:41\s+45s\s+pod\s+pod\.refused\s+-\s+yes$/);
    expect(lines[3]).toContain('more incidents match');
    expect(renderIncidents([], { colour: false, more: false })).toBe('no incidents in this range');
  });

  it('formats durations', () => {
    expect([0, 59_400, 60_000, 3_599_000, 3_600_000, 90_061_000].map(humanDuration)).toEqual(['0s', '59s', '1m', '59m', '1h 00m', '1d 1h']);
  });
});

it('renderStrip joins one character per bucket', () => {
  expect(renderStrip([bucket('a'), bucket('b', fail({ edge: 1 })), bucket('c', { rounds: 0, ok: 0 })], false)).toBe('▁e·');
});
