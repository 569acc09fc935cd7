import { describe, expect, it } from 'vitest';
import { backendFixture, endpointFacts, NGINX_502, podFacts, REFUSED, result, routeFixture } from '../../test/fixtures.js';
import type { Backend, HopResult, Route } from '../model.js';
import { planHops } from '../probe/plan.js';
import { classify } from './classify.js';

// A route split between two backends (STYLE.md "Front doors and backends"): the same walk per
// backend, then combined. The route's backends: shop/web (3 pods, 75 %) and shop/web-v2 (2 pods, 25 %).

function canaryBackend(overrides: Partial<Backend> = {}, missing = false): Backend {
  const pods = [podFacts('web-v2-1', '10.2.1.1', { labels: { app: 'web-v2' } }), podFacts('web-v2-2', '10.2.1.2', { labels: { app: 'web-v2' } })];
  return backendFixture(
    {
      namespace: 'shop', source: 'web-canary', backend: { service: 'web-v2', port: 80 },
      service: missing ? null : {
        namespace: 'shop', name: 'web-v2', type: 'ClusterIP', clusterIP: '10.3.0.2', externalName: null,
        ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: null }], selector: { app: 'web-v2' },
      },
      servicePort: missing ? null : { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: null },
      endpoints: missing ? [] : pods.map((p) => endpointFacts(p)),
      pods: missing ? [] : pods,
      policies: [],
    },
    { weight: 25, share: 0.25, role: 'canary', ...overrides },
  );
}

function split(canary: Backend = canaryBackend()): Route {
  const base = routeFixture();
  const primary = { ...base.backends[0]!, weight: 75, share: 0.75 };
  return { ...base, backends: [primary, canary] };
}

const CANARY = 'shop/web-v2:80';
const PRIMARY = 'shop/web:80';

/** Every planned hop of the route answering 200; `change` rewrites some. */
function round(route: Route, change: (r: HopResult) => Partial<HopResult> | null = () => null): HopResult[] {
  return planHops(route, { timeoutMs: 1000, dnsServer: null, clusterDomain: 'cluster.local' }).map((h) => {
    const r = result(h.hop, h.target, { pod: h.pod, ready: h.ready, terminating: h.terminating, backend: h.backend ?? null });
    return { ...r, ...(change(r) ?? {}) };
  });
}

const canaryPodsRefuse = (r: HopResult): Partial<HopResult> | null => (r.hop === 'pod' && r.backend === CANARY ? REFUSED : null);
const isFront = (r: HopResult): boolean => r.hop === 'edge' || r.hop === 'controller';

describe('classify a route with weighted backends', () => {
  it('a 25 % canary whose pods refuse: degraded, named with its share, its pods in the evidence', () => {
    const verdict = classify(split(), round(split(), canaryPodsRefuse));
    expect([verdict.status, verdict.hop, verdict.cause]).toEqual(['degraded', 'pod', 'pod.refused']);
    expect(verdict.summary).toContain('web-v2, 25 % by weight: 2 of 2 pods refuse');
    expect(verdict.evidence.some((l) => l.includes('shop/web-v2-1'))).toBe(true);
    expect(verdict.evidence.some((l) => l.includes('shop/web-v2-2'))).toBe(true);
  });

  it('the same verdict whichever backend the front request reached (the edge and controllers answered 502 this round)', () => {
    const reachedPrimary = classify(split(), round(split(), canaryPodsRefuse));
    const reachedCanary = classify(split(), round(split(), (r) => canaryPodsRefuse(r) ?? (isFront(r) ? NGINX_502 : null)));
    const someOfBoth = classify(split(), round(split(), (r) => canaryPodsRefuse(r) ?? (r.pod === 'ingress-nginx/ctrl-a' ? NGINX_502 : null)));
    for (const v of [reachedCanary, someOfBoth]) expect([v.status, v.hop, v.cause, v.summary]).toEqual([reachedPrimary.status, reachedPrimary.hop, reachedPrimary.cause, reachedPrimary.summary]);
  });

  it('a missing canary Service: config.service-missing naming it, degraded while the primary answers', () => {
    const route = split(canaryBackend({}, true));
    const verdict = classify(route, round(route));
    expect([verdict.status, verdict.hop, verdict.cause]).toEqual(['degraded', 'config', 'config.service-missing']);
    expect(verdict.summary).toContain('backend Service shop/web-v2 does not exist');
  });

  it('the primary failing while the canary answers: degraded, naming the primary and its 75 %', () => {
    const verdict = classify(split(), round(split(), (r) => (r.hop === 'pod' && r.backend === PRIMARY ? REFUSED : null)));
    expect([verdict.status, verdict.cause]).toEqual(['degraded', 'pod.refused']);
    expect(verdict.summary).toContain('web, 75 % by weight: 3 of 3 pods refuse');
  });

  it('every backend failing: failing', () => {
    const verdict = classify(split(), round(split(), (r) => (r.hop === 'pod' ? REFUSED : isFront(r) ? NGINX_502 : null)));
    expect([verdict.status, verdict.hop, verdict.cause]).toEqual(['failing', 'pod', 'pod.refused']);
  });

  it('both healthy: ok', () => {
    expect(classify(split(), round(split())).status).toBe('ok');
  });

  it('the front failing for every request while every backend answers: the controller, failing', () => {
    const verdict = classify(split(), round(split(), (r) => (r.hop === 'controller' || r.hop === 'edge' ? NGINX_502 : null)));
    expect([verdict.status, verdict.hop, verdict.cause]).toEqual(['failing', 'controller', 'controller.error']);
  });

  it('a header canary: the front probed with the header reaches it; its refusing pods make the route degraded', () => {
    const route = split(canaryBackend({ weight: 0, share: 0, selector: { header: { name: 'X-Canary', value: 'always' }, cookie: null } }));
    const hops = round(route, (r) => canaryPodsRefuse(r) ?? (isFront(r) && r.backend === CANARY ? NGINX_502 : null));
    expect(hops.filter((r) => isFront(r) && r.backend === CANARY)).toHaveLength(3);
    const verdict = classify(route, hops);
    expect([verdict.status, verdict.hop, verdict.cause]).toEqual(['degraded', 'pod', 'pod.refused']);
    expect(verdict.summary).toContain('web-v2, by header X-Canary: always: 2 of 2 pods refuse');
  });

  it('a canary the controller sends nothing to (a second canary of the path) fails nobody', () => {
    const route = split(canaryBackend({ share: 0, problem: 'ingress-nginx sends traffic to the first canary of a path only' }));
    expect(classify(route, round(route, canaryPodsRefuse)).status).toBe('ok');
  });
});
