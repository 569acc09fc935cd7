import { describe, expect, it } from 'vitest';
import type { V1Ingress, V1IngressClass, V1IngressTLS } from '@kubernetes/client-node';
import { ingressEntries, looksLikeRegex, probeHostHeader, resolveIngressClass, tlsCovers } from './ingress.js';

function ingressClass(name: string, isDefault?: string): V1IngressClass {
  return {
    metadata: { name, annotations: isDefault === undefined ? {} : { 'ingressclass.kubernetes.io/is-default-class': isDefault } },
    spec: { controller: 'k8s.io/ingress-nginx' },
  };
}

describe('resolveIngressClass', () => {
  const classes = [ingressClass('nginx', 'true'), ingressClass('traefik')];
  const cases: { name: string; ingress: V1Ingress; classes: V1IngressClass[]; resolved: string | null }[] = [
    { name: 'spec.ingressClassName', ingress: { spec: { ingressClassName: 'traefik' } }, classes, resolved: 'traefik' },
    {
      name: 'spec wins over the legacy annotation',
      ingress: { metadata: { annotations: { 'kubernetes.io/ingress.class': 'haproxy' } }, spec: { ingressClassName: 'traefik' } },
      classes,
      resolved: 'traefik',
    },
    { name: 'legacy annotation', ingress: { metadata: { annotations: { 'kubernetes.io/ingress.class': 'haproxy' } }, spec: {} }, classes, resolved: 'haproxy' },
    { name: 'default IngressClass', ingress: { spec: {} }, classes, resolved: 'nginx' },
    { name: 'no default class', ingress: { spec: {} }, classes: [ingressClass('nginx', 'false'), ingressClass('traefik')], resolved: null },
    { name: 'several defaults: the first by name', ingress: { spec: {} }, classes: [ingressClass('zeta', 'true'), ingressClass('alpha', 'true')], resolved: 'alpha' },
    { name: 'no classes at all', ingress: {}, classes: [], resolved: null },
  ];
  for (const c of cases) it(c.name, () => expect(resolveIngressClass(c.ingress, c.classes)).toBe(c.resolved));
});

describe('ingressEntries', () => {
  it('every rule x path, then the default backend', () => {
    const ingress: V1Ingress = {
      spec: {
        defaultBackend: { service: { name: 'fallback', port: { number: 80 } } },
        rules: [
          {
            host: 'shop.example.test',
            http: {
              paths: [
                { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'http' } } } },
                { path: '/api', pathType: 'Exact', backend: { service: { name: 'api', port: { number: 8080 } } } },
              ],
            },
          },
          { http: { paths: [{ pathType: 'ImplementationSpecific', backend: { service: { name: 'web', port: { number: 80 } } } }] } },
          { host: 'nopaths.example.test' },
          { host: 'odd.example.test', http: { paths: [{ path: '/x', pathType: 'Weird', backend: { service: { name: 'web' } } }] } },
        ],
      },
    };
    expect(ingressEntries(ingress).map((e) => [e.host, e.path, e.pathType, e.defaultBackend, e.backend.service?.name])).toEqual([
      ['shop.example.test', '/', 'Prefix', false, 'web'],
      ['shop.example.test', '/api', 'Exact', false, 'api'],
      [null, '/', 'ImplementationSpecific', false, 'web'],
      ['odd.example.test', '/x', 'ImplementationSpecific', false, 'web'],
      [null, '/', 'Prefix', true, 'fallback'],
    ]);
  });
});

describe('tlsCovers', () => {
  const ingress = (tls: V1IngressTLS[]): V1Ingress => ({ spec: { tls } });
  const cases: { name: string; tls: V1IngressTLS[]; host: string | null; covered: boolean }[] = [
    { name: 'exact host', tls: [{ hosts: ['shop.example.test'] }], host: 'shop.example.test', covered: true },
    { name: 'case-insensitive', tls: [{ hosts: ['Shop.Example.Test'] }], host: 'shop.example.test', covered: true },
    { name: 'another host', tls: [{ hosts: ['blog.example.test'] }], host: 'shop.example.test', covered: false },
    { name: 'second tls entry', tls: [{ hosts: ['blog.example.test'] }, { hosts: ['shop.example.test'] }], host: 'shop.example.test', covered: true },
    { name: 'wildcard covers one label', tls: [{ hosts: ['*.example.test'] }], host: 'shop.example.test', covered: true },
    { name: 'wildcard does not cover two labels', tls: [{ hosts: ['*.example.test'] }], host: 'a.shop.example.test', covered: false },
    { name: 'wildcard does not cover the apex', tls: [{ hosts: ['*.example.test'] }], host: 'example.test', covered: false },
    { name: 'wildcard route host, same wildcard', tls: [{ hosts: ['*.example.test'] }], host: '*.example.test', covered: true },
    { name: 'wildcard route host, concrete tls host', tls: [{ hosts: ['a.example.test'] }], host: '*.example.test', covered: false },
    { name: 'no tls', tls: [], host: 'shop.example.test', covered: false },
    { name: 'no host, tls with hosts', tls: [{ hosts: ['shop.example.test'] }], host: null, covered: false },
    { name: 'tls entry without hosts covers everything', tls: [{}], host: null, covered: true },
  ];
  for (const c of cases) it(c.name, () => expect(tlsCovers(ingress(c.tls), c.host)).toBe(c.covered));
});

describe('probeHostHeader and looksLikeRegex', () => {
  it('wildcard hosts get the hopwatch-probe label', () => {
    expect(probeHostHeader('*.example.test')).toBe('hopwatch-probe.example.test');
    expect(probeHostHeader('shop.example.test')).toBe('shop.example.test');
    expect(probeHostHeader(null)).toBeNull();
  });

  const regex: [string, boolean][] = [
    ['/', false],
    ['/api/v1', false],
    ['/static/app.js', false],
    ['/api/(.*)', true],
    ['/users/[0-9]+', true],
    ['/a*', true],
    ['/a+', true],
    ['/a?', true],
    ['/end$', true],
    ['^/start', true],
    ['/a|/b', true],
    ['/a\\d', true],
    ['/a{2}', true],
  ];
  for (const [path, isRegex] of regex) it(`${path} regex: ${isRegex}`, () => expect(looksLikeRegex(path)).toBe(isRegex));
});
