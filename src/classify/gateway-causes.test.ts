// The Gateway API's static facts in classification: each explains a failing front, none is reported
// while the probes pass. One row per cause.

import { describe, expect, it } from 'vitest';
import { healthyRound, routeFixture } from '../../test/fixtures.js';
import type { GatewayRouteFacts, HopResult, Route } from '../model.js';
import { classify } from './classify.js';

const FACTS: GatewayRouteFacts = {
  gatewayClass: 'ngf',
  controllerName: 'gateway.nginx.org/nginx-gateway-controller',
  gatewayFound: true,
  accepted: { status: 'True', reason: 'Accepted', message: '' },
  resolvedRefs: { status: 'True', reason: 'ResolvedRefs', message: '' },
  programmed: { status: 'True', reason: 'Programmed', message: '' },
  addresses: ['192.0.2.10'],
  listenerProtocol: 'HTTP',
  timeouts: { request: null, backendRequest: null },
  conflictWinner: null,
};

function httpRoute(facts: Partial<GatewayRouteFacts>, change: (r: Route) => Route = (r) => r): Route {
  const base = routeFixture();
  return change({
    ...base,
    kind: 'HTTPRoute',
    parent: { kind: 'Gateway', namespace: 'infra', name: 'gw', sectionName: 'http', port: 80 },
    gateway: { ...FACTS, ...facts },
  });
}

/** The front (edge and proxy pods) answers `status` while the service and pods answer 200. */
const frontAnswers = (status: number) => (r: HopResult): Partial<HopResult> | null =>
  r.hop === 'edge' || r.hop === 'controller' ? { status, generator: 'nginx' } : null;

describe('Gateway causes', () => {
  it.each<[string, Partial<GatewayRouteFacts>, number, string, string]>([
    ['Accepted=False (NoMatchingListenerHostname)', { accepted: { status: 'False', reason: 'NoMatchingListenerHostname', message: 'no match' } }, 404, 'config.route-not-accepted', 'NoMatchingListenerHostname'],
    ['ResolvedRefs=False (RefNotPermitted)', { resolvedRefs: { status: 'False', reason: 'RefNotPermitted', message: 'no grant' } }, 500, 'config.ref-not-permitted', 'RefNotPermitted'],
    ['Programmed=False without addresses', { programmed: { status: 'False', reason: 'AddressNotAssigned', message: '' }, addresses: [] }, 502, 'config.gateway-not-programmed', 'AddressNotAssigned'],
    ['a parentRef to no Gateway', { gatewayFound: false }, 404, 'config.route-not-accepted', 'NoMatchingParent'],
  ])('%s explains a failing front', (_name, facts, status, cause, evidence) => {
    const route = httpRoute(facts);
    const verdict = classify(route, healthyRound(route, frontAnswers(status)));
    expect(verdict).toMatchObject({ status: 'failing', hop: 'config', cause });
    expect([verdict.summary, ...verdict.evidence].join('\n')).toContain(evidence);
  });

  it.each<[string, Partial<GatewayRouteFacts>]>([
    ['Accepted=False', { accepted: { status: 'False', reason: 'NotAllowedByListeners', message: '' } }],
    ['ResolvedRefs=False', { resolvedRefs: { status: 'False', reason: 'RefNotPermitted', message: '' } }],
    ['Programmed=False', { programmed: { status: 'False', reason: 'Invalid', message: '' } }],
  ])('%s is never reported while the probes pass (status can lag)', (_name, facts) => {
    const route = httpRoute(facts);
    expect(classify(route, healthyRound(route)).cause).toBe('ok');
  });

  it('a backendRef not permitted names the backend and its share', () => {
    const route = httpRoute({}, (r) => ({ ...r, backends: [{ ...(r.backends[0] as Route['backends'][number]), share: 0.2, problem: 'backendRef to Service store/stock is not permitted: no ReferenceGrant in store allows HTTPRoutes from shop' }] }));
    const verdict = classify(route, healthyRound(route, frontAnswers(500)));
    expect(verdict.cause).toBe('config.ref-not-permitted');
    expect(verdict.evidence.join('\n')).toContain('(20 % of the traffic)');
  });

  it('the loser of HTTPRoute precedence is degraded, naming the winner, even while the winner answers', () => {
    const route = httpRoute({ conflictWinner: 'HTTPRoute shop/old' });
    expect(classify(route, healthyRound(route))).toMatchObject({ status: 'degraded', hop: 'config', cause: 'config.route-conflict', summary: expect.stringContaining('HTTPRoute shop/old') });
  });

  it('an Ingress route is untouched by all of it', () => {
    const route = routeFixture();
    expect(classify(route, healthyRound(route, frontAnswers(502))).cause).not.toMatch(/^config\.(route|ref|gateway)/);
  });
});
