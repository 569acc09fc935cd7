import { describe, expect, it } from 'vitest';
import { CannotRunError } from '../main.js';
import { extraMethods, pairSelection } from './compare.js';

describe('compare flags', () => {
  it('reads -n, --host, --from and --to', () => {
    expect(pairSelection({ namespace: 'shop', host: 'shop.example.com', from: 'ingress/web', to: 'httproute/web' })).toEqual({
      namespace: 'shop', host: 'shop.example.com',
      from: { kind: 'Ingress', namespace: 'shop', name: 'web' }, to: { kind: 'HTTPRoute', namespace: 'shop', name: 'web' },
    });
    expect(pairSelection({})).toEqual({});
  });

  it.each([
    [{ from: 'ingress/web' }, '--to is missing'],
    [{ to: 'ingress/web' }, '--from is missing'],
    [{ from: 'deployment/web', to: 'ingress/web' }, '--from "deployment/web": expected ingress/NAME or httproute/NAME'],
    [{ host: 'a b' }, '--host "a b": expected a host name'],
    [{ namespace: 'a/b' }, '-n "a/b": expected a namespace name'],
  ])('%j is a usage error: %s', (flags, message) => {
    expect(() => pairSelection(flags)).toThrow(CannotRunError);
    expect(() => pairSelection(flags)).toThrow(message);
  });

  it('--methods: GET and HEAD are always sent; others only from the list hopwatch may send', () => {
    expect(extraMethods(undefined)).toEqual([]);
    expect(extraMethods('get,post, PUT,post')).toEqual(['POST', 'PUT']);
    expect(() => extraMethods('POST,CONNECT')).toThrow('--methods "POST,CONNECT": CONNECT is not one of POST, PUT, PATCH, DELETE, OPTIONS');
  });
});
