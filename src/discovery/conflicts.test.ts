import type { V1Ingress } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { controllerFacts, routeFixture } from '../../test/fixtures.js';
import type { Route } from '../model.js';
import { markConflicts } from './conflicts.js';

const ingress = (namespace: string, name: string, created: string): V1Ingress => ({ metadata: { namespace, name, creationTimestamp: new Date(created) } });
const route = (namespace: string, name: string, overrides: Partial<Route> = {}): Route => routeFixture({ id: `${namespace}-${name}`, namespace, ingress: name, ...overrides });

describe('markConflicts (ingress-nginx: the oldest Ingress wins a host and path)', () => {
  it('marks the younger Ingress as the loser, naming the winner and the rule; the winner is untouched', () => {
    const routes = markConflicts([route('shop', 'web-v2'), route('shop', 'web')], [ingress('shop', 'web', '2026-01-01T00:00:00Z'), ingress('shop', 'web-v2', '2026-02-01T00:00:00Z')]);
    expect(routes.find((r) => r.ingress === 'web')?.conflict).toBeUndefined();
    expect(routes.find((r) => r.ingress === 'web-v2')?.conflict).toEqual({
      winner: 'shop/web',
      rule: expect.stringContaining('sortIngressSlice'),
      because: 'created 2026-01-01T00:00:00.000Z, before this one (2026-02-01T00:00:00.000Z)',
    });
  });

  it('on the same creation instant, the greater namespace/name wins (sortIngressSlice sorts them descending)', () => {
    const at = '2026-01-01T00:00:00Z';
    const routes = markConflicts([route('a', 'web'), route('b', 'web')], [ingress('a', 'web', at), ingress('b', 'web', at)]);
    expect(routes.find((r) => r.namespace === 'a')?.conflict?.winner).toBe('b/web');
    expect(routes.find((r) => r.namespace === 'b')?.conflict).toBeUndefined();
  });

  it('is no conflict: another path, another host, another class, a canary Ingress, or a controller whose rule is not known', () => {
    const created = [ingress('shop', 'web', '2026-01-01T00:00:00Z'), ingress('shop', 'other', '2026-02-01T00:00:00Z')];
    const none = (other: Partial<Route>) => markConflicts([route('shop', 'web'), route('shop', 'other', other)], created).every((r) => r.conflict === undefined);
    expect(none({ path: '/api' })).toBe(true);
    expect(none({ host: 'other.example.test' })).toBe(true);
    expect(none({ controller: controllerFacts({ ingressClass: 'internal' }) })).toBe(true);
    expect(none({ annotations: { 'nginx.ingress.kubernetes.io/canary': 'true' } })).toBe(true);
    expect(markConflicts([route('shop', 'web', { controller: controllerFacts({ kind: 'haproxy' }) }), route('shop', 'other', { controller: controllerFacts({ kind: 'haproxy' }) })], created).every((r) => r.conflict === undefined)).toBe(true);
  });
});
