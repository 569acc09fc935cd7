import { describe, expect, it } from 'vitest';
import { routeFixture } from '../../test/fixtures.js';
import { routeFilter, selectRoutes } from './probe.js';

describe('routeFilter', () => {
  it.each([
    [{ ingress: 'web' }, { ingress: 'web' }],
    [{ ingress: 'shop/web' }, { ingress: 'shop/web' }],
    [{ namespace: 'shop', ingress: 'shop/web' }, { namespace: 'shop', ingress: 'shop/web' }],
    [{ namespace: 'shop' }, { namespace: 'shop' }],
    [{}, {}],
    [{ target: 'httproute/web', namespace: 'shop' }, { namespace: 'shop', kind: 'HTTPRoute', name: 'web' }],
    [{ target: 'HTTPRoutes/web' }, { kind: 'HTTPRoute', name: 'web' }],
    [{ target: 'ingress/web' }, { kind: 'Ingress', name: 'web' }],
    [{ target: 'ing/web' }, { kind: 'Ingress', name: 'web' }],
  ])('keeps %j', (flags, want) => {
    expect(routeFilter(flags)).toEqual(want);
  });

  it.each([
    [{ ingress: 'shop/web/extra' }, '--ingress "shop/web/extra": expected NAME or NAMESPACE/NAME'],
    [{ ingress: '/web' }, '--ingress "/web": expected NAME or NAMESPACE/NAME'],
    [{ ingress: 'shop/' }, '--ingress "shop/": expected NAME or NAMESPACE/NAME'],
    [{ namespace: 'payments', ingress: 'shop/web' }, '--ingress shop/web names namespace shop, but -n says payments'],
    [{ namespace: 'a/b' }, '-n "a/b": expected a namespace name'],
    [{ target: 'gateway/gw' }, '"gateway/gw": expected KIND/NAME with KIND ingress or httproute (e.g. httproute/web)'],
    [{ target: 'web' }, '"web": expected KIND/NAME with KIND ingress or httproute (e.g. httproute/web)'],
    [{ target: 'httproute/web', ingress: 'web' }, 'give either httproute/web or --ingress web, not both'],
  ])('refuses %j', (flags, message) => {
    expect(() => routeFilter(flags)).toThrow(expect.objectContaining({ code: 'BAD_FLAG', message }));
  });
});

describe('selectRoutes', () => {
  const routes = [routeFixture({ namespace: 'shop', ingress: 'web' }), routeFixture({ namespace: 'pay', ingress: 'web' }), routeFixture({ namespace: 'shop', ingress: 'api' })];
  const names = (filter: Parameters<typeof selectRoutes>[1]) => selectRoutes(routes, filter).map((r) => `${r.namespace}/${r.ingress}`);

  it('filters by namespace, by Ingress name in every namespace, and by NS/NAME', () => {
    expect(names({ namespace: 'shop' })).toEqual(['shop/web', 'shop/api']);
    expect(names({ ingress: 'web' })).toEqual(['shop/web', 'pay/web']);
    expect(names({ ingress: 'pay/web' })).toEqual(['pay/web']);
  });

  it('filters by kind and name; --ingress names only Ingresses', () => {
    const mixed = [...routes, routeFixture({ namespace: 'shop', ingress: 'web', name: 'web', kind: 'HTTPRoute' })];
    const pick = (filter: Parameters<typeof selectRoutes>[1]) => selectRoutes(mixed, filter).map((r) => `${r.kind} ${r.namespace}/${r.name}`);
    expect(pick({ kind: 'HTTPRoute', name: 'web' })).toEqual(['HTTPRoute shop/web']);
    expect(pick({ kind: 'Ingress', name: 'web', namespace: 'shop' })).toEqual(['Ingress shop/web']);
    expect(pick({ ingress: 'shop/web' })).toEqual(['Ingress shop/web']);
  });
});
