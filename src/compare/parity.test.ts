import { describe, expect, it } from 'vitest';
import { controllerFacts, result, routeFixture } from '../../test/fixtures.js';
import type { HopResult, Route, RouteRound, Verdict } from '../model.js';
import { pairEndpoint, pairsEndpoint } from '../server/pairs-api.js';
import { HISTORY_MAX, ParityTracker } from './parity.js';

const nginx = routeFixture({ id: 'aaa', name: 'web', ingress: 'web' });
const haproxy = routeFixture({
  id: 'bbb', name: 'web-hp', ingress: 'web-hp', ingressClass: 'haproxy',
  parent: { kind: 'IngressClass', namespace: null, name: 'haproxy', sectionName: null, port: null },
  controller: controllerFacts({ ingressClass: 'haproxy', kind: 'haproxy' }),
});
const lonely = routeFixture({ id: 'ccc', host: 'alone.example.test' });
const OK: Verdict = { status: 'ok', hop: null, cause: 'ok', summary: 'ok', evidence: [] };

function round(route: Route, at: number, edgeStatus: number): RouteRound {
  const hops: HopResult[] = [result('edge', '192.0.2.10:80', { status: edgeStatus }), result('controller', '10.1.0.1:80', { status: edgeStatus, pod: 'ingress-nginx/ctrl-a' })];
  const verdict: Verdict = edgeStatus === 200 ? OK : { status: 'failing', hop: 'controller', cause: 'controller.error', summary: 'x', evidence: [] };
  return { route, startedAt: at, durationMs: 1, hops, verdict };
}

describe('ParityTracker', () => {
  it('pending until both sides have a round; then each round is compared with its twin\'s latest; since moves on a change only', () => {
    const routes3 = [nginx, haproxy, lonely];
    const tracker = new ParityTracker(() => routes3);
    expect(tracker.list().map((p) => [p.id, p.outcome])).toEqual([['aaa..bbb', 'pending']]);
    tracker.observe(round(nginx, 1000, 200));
    expect(tracker.get('aaa..bbb')?.outcome).toBe('pending');
    tracker.observe(round(haproxy, 2000, 200));
    tracker.observe(round(nginx, 3000, 200));
    expect(tracker.get('aaa..bbb')).toMatchObject({ outcome: 'alike', since: 2000, lastComparedAt: 3000 });
    tracker.observe(round(haproxy, 4000, 502));
    const different = tracker.get('aaa..bbb');
    expect(different).toMatchObject({ outcome: 'different', since: 4000 });
    expect(different?.differences.find((d) => d.kind === 'status')).toMatchObject({ old: expect.stringMatching(/^200 after/), new: expect.stringMatching(/^502 after/), matters: true });
    expect(different?.history.map((p) => p.outcome)).toEqual(['alike', 'alike', 'different']);
    // A route that is in no pair is not kept.
    tracker.observe(round(lonely, 5000, 200));
    expect(tracker.list()).toHaveLength(1);
  });

  it('keeps at most HISTORY_MAX comparisons and forgets pairs whose routes went away', () => {
    let routes = [nginx, haproxy];
    const tracker = new ParityTracker(() => routes);
    tracker.observe(round(nginx, 0, 200));
    for (let i = 1; i <= HISTORY_MAX + 5; i++) tracker.observe(round(haproxy, i, 200));
    expect(tracker.get('aaa..bbb')?.history).toHaveLength(HISTORY_MAX);
    // A new list (a route went away) is paired again at once.
    routes = [nginx];
    expect(tracker.list()).toEqual([]);
    expect(tracker.get('aaa..bbb')).toBeUndefined();
  });
});

describe('ParityTracker pairing', () => {
  it('pairs again only when the route list is another array: the same array is not paired again, a new one at once', () => {
    const same = [nginx, haproxy];
    let list: Route[] = same;
    let calls = 0;
    const tracker = new ParityTracker(() => (calls++, list));
    expect(tracker.list().map((p) => p.id)).toEqual(['aaa..bbb']);
    // The same array, mutated behind the tracker's back: not paired again (no change was announced).
    same.push({ ...haproxy, id: 'ddd', name: 'web-hp2' } as Route);
    tracker.observe(round(nginx, 1000, 200));
    expect(tracker.list().map((p) => p.id)).toEqual(['aaa..bbb']);
    // A new list (what discovery hands out after a change): paired again on the next read.
    list = [nginx, haproxy, { ...haproxy, id: 'eee', name: 'web-gw', parent: { kind: 'Gateway', namespace: 'infra', name: 'gw', sectionName: 'http', port: 80 } } as Route];
    expect(tracker.list().map((p) => p.id)).toEqual(['aaa..bbb', 'aaa..eee']);
    expect(calls).toBe(4);
  });
});

describe('/api/v1/pairs', () => {
  const pairRoutes = [nginx, haproxy];
  const tracker = new ParityTracker(() => pairRoutes);
  tracker.observe(round(nginx, Date.UTC(2026, 0, 1), 200));
  tracker.observe(round(haproxy, Date.UTC(2026, 0, 1, 0, 1), 200));

  it('lists pairs with their parity (instants in ISO-8601), filtered by outcome', () => {
    const answer = pairsEndpoint(tracker, new URLSearchParams());
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ pairs: [{ id: 'aaa..bbb', outcome: 'alike', since: '2026-01-01T00:01:00.000Z', parity: { compared: 1, alikeShare: 1, from: '2026-01-01T00:01:00.000Z' } }] });
    expect((answer.body as { pairs: object[] }).pairs[0]).not.toHaveProperty('history');
    expect(pairsEndpoint(tracker, new URLSearchParams('outcome=different')).body).toEqual({ pairs: [] });
  });

  it('a bad outcome is a 400 naming the parameter; an unknown pair a 404; one pair carries its history', () => {
    expect(pairsEndpoint(tracker, new URLSearchParams('outcome=same'))).toMatchObject({ status: 400, body: { error: { code: 'BAD_PARAMETER', parameter: 'outcome' } } });
    expect(pairEndpoint(tracker, 'x..y').status).toBe(404);
    expect(pairEndpoint(tracker, 'aaa..bbb').body).toMatchObject({ history: [{ at: '2026-01-01T00:01:00.000Z', outcome: 'alike', differences: 0 }] });
  });
});
