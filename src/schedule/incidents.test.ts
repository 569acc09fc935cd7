import { describe, expect, it } from 'vitest';
import { healthyRound, podFacts, REFUSED, routeFixture } from '../../test/fixtures.js';
import type { RouteRound, Verdict } from '../model.js';
import { IncidentTracker, rolloutUnderWay } from './incidents.js';

const route = routeFixture();
const refusedPod2 = healthyRound(route, (r) => (r.pod === 'shop/web-2' ? REFUSED : null));

function round(at: number, verdict: Partial<Verdict> = {}, hops = healthyRound(route)): RouteRound {
  return {
    route,
    startedAt: at,
    durationMs: 5,
    hops,
    verdict: { status: 'ok', hop: null, cause: 'ok', summary: '', evidence: [], ...verdict },
  };
}

const failing = (at: number, cause: Verdict['cause'] = 'pod.refused', hop: Verdict['hop'] = 'pod') =>
  round(at, { status: 'failing', hop, cause, evidence: [`evidence at ${at}`] }, refusedPod2);
const degraded = (at: number) => round(at, { status: 'degraded', hop: 'pod', cause: 'pod.refused' }, refusedPod2);

describe('IncidentTracker', () => {
  it('opens after two failing rounds, dated from the first, with its evidence and pods', () => {
    const tracker = new IncidentTracker({ openAfter: 2, closeAfter: 2 });
    expect(tracker.observe(failing(1000))).toEqual([]);
    const [action] = tracker.observe(failing(2000));
    expect(action).toMatchObject({
      type: 'open',
      incident: { severity: 'failing', openedAt: 1000, hop: 'pod', cause: 'pod.refused', firstEvidence: ['evidence at 1000'], pods: ['shop/web-2'], failingRounds: 2 },
    });
    expect(tracker.openCount).toBe(1);
  });

  it('names the pods the cause is about: not the controller pods that passed a pod\'s failure on', () => {
    const tracker = new IncidentTracker({ openAfter: 1, closeAfter: 2 });
    const hops = healthyRound(route, (r) => (r.hop === 'controller' ? { status: 502 } : r.pod === 'shop/web-2' ? REFUSED : null));
    const [action] = tracker.observe(round(1000, { status: 'failing', hop: 'pod', cause: 'pod.refused' }, hops));
    expect(action).toMatchObject({ type: 'open', incident: { pods: ['shop/web-2'] } });
  });

  it.each([
    ['dns.failure', 'dns', []],
    ['config.port-mismatch', 'config', []],
    ['service.unreachable', 'service', []],
    ['edge.error', 'edge', []],
    ['controller.error', 'controller', ['ingress-nginx/ctrl-a', 'ingress-nginx/ctrl-b']],
    ['network.blocked', 'network', ['shop/web-1', 'shop/web-2', 'shop/web-3']],
    ['pod.headers-too-large', 'pod', ['shop/web-1', 'shop/web-2', 'shop/web-3']],
  ] as const)('%s lists %j', (cause, hop, pods) => {
    const tracker = new IncidentTracker({ openAfter: 1, closeAfter: 2 });
    // Every controller pod answers 502 (what the edge sees for each of these causes).
    const hops = healthyRound(route, (r) => (r.hop === 'controller' || r.hop === 'edge' ? { status: 502 } : null));
    const [action] = tracker.observe(round(1000, { status: 'failing', hop, cause }, hops));
    expect(action).toMatchObject({ type: 'open', incident: { pods } });
  });

  it('marks the round a degraded incident turns failing as an escalation, once', () => {
    const tracker = new IncidentTracker({ openAfter: 2, closeAfter: 2 });
    tracker.observe(degraded(1000));
    expect(tracker.observe(degraded(2000))).toMatchObject([{ type: 'open', incident: { severity: 'degraded' } }]);
    expect(tracker.observe(degraded(3000))).toMatchObject([{ type: 'update', escalated: false }]);
    expect(tracker.observe(failing(4000))).toMatchObject([{ type: 'update', escalated: true, patch: { severity: 'failing' } }]);
    expect(tracker.observe(failing(5000))).toMatchObject([{ type: 'update', escalated: false }]);
  });

  it('does not open on a single bad round between good ones', () => {
    const tracker = new IncidentTracker({ openAfter: 2, closeAfter: 2 });
    const actions = [round(0), failing(1), round(2), failing(3), round(4)].flatMap((r) => tracker.observe(r));
    expect(actions).toEqual([]);
  });

  it('closes after two ok rounds, dated from the first ok one; one ok between failures does not close', () => {
    const tracker = new IncidentTracker({ openAfter: 2, closeAfter: 2 });
    const actions = [failing(1), failing(2), round(3), failing(4), round(5), round(6)].flatMap((r) => tracker.observe(r));
    expect(actions.map((a) => a.type)).toEqual(['open', 'update', 'close']);
    expect(actions[2]).toMatchObject({ type: 'close', patch: { closedAt: 5 } });
    expect(tracker.openCount).toBe(0);
  });

  it('records hop and cause changes while open and escalates degraded to failing', () => {
    const tracker = new IncidentTracker({ openAfter: 2, closeAfter: 2 });
    const actions = [degraded(1), degraded(2), failing(3, 'controller.error', 'controller')].flatMap((r) => tracker.observe(r));
    expect(actions[0]).toMatchObject({ type: 'open', incident: { severity: 'degraded' } });
    expect(actions[1]).toMatchObject({
      type: 'update',
      patch: { severity: 'failing', failingRounds: 3, changes: [{ at: 3, hop: 'controller', cause: 'controller.error' }] },
    });
  });

  it('ignores unknown rounds either way', () => {
    const tracker = new IncidentTracker({ openAfter: 2, closeAfter: 1 });
    const unknown = (at: number) => round(at, { status: 'unknown', cause: 'route.unexplained' });
    const actions = [failing(1), unknown(2), failing(3)].flatMap((r) => tracker.observe(r));
    expect(actions.map((a) => a.type)).toEqual(['open']);
  });

  it('restores open incidents after a restart and closes them when the route heals', () => {
    const tracker = new IncidentTracker({ openAfter: 2, closeAfter: 1 });
    tracker.restore([
      { id: 7, routeId: route.id, severity: 'failing', openedAt: 1, closedAt: null, hop: 'pod', cause: 'pod.refused', changes: [], pods: [], firstEvidence: [], failingRounds: 4, rollout: false },
    ]);
    expect(tracker.observe(round(10))).toEqual([{ type: 'close', routeId: route.id, patch: { closedAt: 10 } }]);
  });

  it('closes the incident of a route that disappears', () => {
    const tracker = new IncidentTracker({ openAfter: 1, closeAfter: 2 });
    tracker.observe(failing(1));
    expect(tracker.forget(route.id, 99)).toEqual([{ type: 'close', routeId: route.id, patch: { closedAt: 99 } }]);
  });
});

describe('rolloutUnderWay', () => {
  it('sees two revisions or terminating endpoints', () => {
    expect(rolloutUnderWay(route)).toBe(false);
    expect(rolloutUnderWay(routeFixture({ pods: [podFacts('a', '10.0.0.1'), podFacts('b', '10.0.0.2', { templateHash: 'new' })] }))).toBe(true);
    expect(rolloutUnderWay(routeFixture({ endpoints: route.backends[0]!.endpoints.map((e, i) => ({ ...e, terminating: i === 0 })) }))).toBe(true);
  });
});
