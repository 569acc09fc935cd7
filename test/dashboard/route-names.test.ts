// How the dashboard names a route and what it hangs off (dashboard/format.js, plain ES module).

import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript without types
import { parentText, routeNames } from '../../dashboard/format.js';

describe('routeNames and parentText', () => {
  it('an HTTPRoute route says its kind and its Gateway listener; an Ingress route reads as before', () => {
    const http = { kind: 'HTTPRoute', namespace: 'shop', name: 'web', ingress: 'web', host: 'web.gw.test', path: '/', parent: { kind: 'Gateway', namespace: 'infra', name: 'gw', sectionName: 'http', port: 80 } };
    expect(routeNames(http)).toEqual({ owner: 'HTTPRoute shop/web', where: 'web.gw.test/' });
    expect(parentText(http)).toBe('Gateway infra/gw · listener http :80');
    const ingress = { kind: 'Ingress', namespace: 'shop', name: 'web', ingress: 'web', host: null, path: '/api', parent: { kind: 'IngressClass', namespace: null, name: 'nginx', sectionName: null, port: null } };
    expect(routeNames(ingress)).toEqual({ owner: 'shop/web', where: '*/api' });
    expect(parentText(ingress)).toBe('IngressClass nginx');
    expect(parentText({ ...ingress, parent: null })).toBe('');
  });
});
