import { describe, expect, it } from 'vitest';
import { backendFixture, endpointFacts, podFacts, REFUSED, result, routeFixture } from '../../test/fixtures.js';
import { classify } from '../classify/classify.js';
import type { HopResult, Route, RouteRound } from '../model.js';
import { planHops } from '../probe/plan.js';
import { IncidentTracker } from './incidents.js';

// An incident of a split route names the failing backend (with its share) and that backend's pods.

function splitRoute(): Route {
  const base = routeFixture();
  const pods = [podFacts('web-v2-1', '10.2.1.1'), podFacts('web-v2-2', '10.2.1.2')];
  const canary = backendFixture(
    {
      namespace: 'shop', source: 'web-canary', backend: { service: 'web-v2', port: 80 }, pods, policies: [],
      service: { namespace: 'shop', name: 'web-v2', type: 'ClusterIP', clusterIP: '10.3.0.2', externalName: null, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: null }], selector: { app: 'web-v2' } },
      servicePort: { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: null },
      endpoints: pods.map((p) => endpointFacts(p)),
    },
    { weight: 10, share: 0.1, role: 'canary' },
  );
  return { ...base, backends: [{ ...base.backends[0]!, weight: 90, share: 0.9 }, canary] };
}

describe('incidents of a route with weighted backends', () => {
  it('name the failing backend and its share in the evidence, and its pods', () => {
    const route = splitRoute();
    const hops: HopResult[] = planHops(route, { timeoutMs: 1000, dnsServer: null, clusterDomain: 'cluster.local' }).map((h) => {
      const r = result(h.hop, h.target, { pod: h.pod, ready: h.ready, terminating: h.terminating, backend: h.backend ?? null });
      return h.hop === 'pod' && h.backend === 'shop/web-v2:80' ? { ...r, ...REFUSED } : r;
    });
    const round: RouteRound = { route, startedAt: 1000, durationMs: 5, hops, verdict: classify(route, hops) };
    const [action] = new IncidentTracker({ openAfter: 1, closeAfter: 2 }).observe(round);
    expect(action).toMatchObject({ type: 'open', incident: { severity: 'degraded', hop: 'pod', cause: 'pod.refused', pods: ['shop/web-v2-1', 'shop/web-v2-2'] } });
    if (action?.type !== 'open') throw new Error('no incident opened');
    expect(action.incident.firstEvidence[0]).toBe('backend web-v2, 10 % by weight');
  });
});
