import { describe, expect, it } from 'vitest';
import type { V1Ingress, V1Pod } from '@kubernetes/client-node';
import type { ControllerConfig } from '../config/types.js';
import { controllerFacts, controllerForClass, edgeUrl, loadBalancerAddresses, resolveControllers } from './controllers.js';
import { LabelSelectorError } from './selectors.js';

function config(overrides: Partial<ControllerConfig> = {}): ControllerConfig {
  return {
    ingressClass: 'nginx',
    kind: 'ingress-nginx',
    edge: null,
    edgeHttps: null,
    upstream: 'endpoints',
    pods: { namespace: 'ingress', selector: 'app.kubernetes.io/name=ingress-nginx', httpPort: 18080, httpsPort: 18443 },
    ...overrides,
  };
}

function pod(namespace: string, name: string, labels: Record<string, string>, ip: string | undefined, ready: boolean): V1Pod {
  return {
    metadata: { namespace, name, labels },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

const nginx = { 'app.kubernetes.io/name': 'ingress-nginx' };
const pods = [
  pod('ingress', 'nginx-b', nginx, '127.9.3.2', false),
  pod('ingress', 'nginx-a', nginx, '127.9.3.1', true),
  pod('other', 'nginx-x', nginx, '127.9.3.9', true),
  pod('ingress', 'traefik-a', { 'app.kubernetes.io/name': 'traefik' }, '127.9.3.5', true),
  pod('ingress', 'nginx-pending', nginx, undefined, false),
];

const withLb = (status: { ip?: string; hostname?: string }[]): V1Ingress => ({ status: { loadBalancer: { ingress: status } } });

describe('resolveControllers', () => {
  it('pods in the configured namespace matching the selector, sorted by name', () => {
    const [resolved] = resolveControllers([config()], pods);
    expect(resolved?.pods.map((p) => p.metadata?.name)).toEqual(['nginx-a', 'nginx-b', 'nginx-pending']);
  });

  it('a bad configured selector is a coded configuration error', () => {
    expect(() => resolveControllers([config({ pods: { ...config().pods, selector: 'app in (' } })], pods)).toThrow(LabelSelectorError);
  });

  it('controllerForClass finds the controller by class, null otherwise', () => {
    const resolved = resolveControllers([config(), config({ ingressClass: 'traefik', kind: 'traefik' })], pods);
    expect(controllerForClass(resolved, 'traefik')?.config.kind).toBe('traefik');
    expect(controllerForClass(resolved, 'haproxy')).toBeNull();
    expect(controllerForClass(resolved, null)).toBeNull();
  });
});

describe('loadBalancerAddresses', () => {
  it('ip, else hostname, in status order', () => {
    expect(loadBalancerAddresses(withLb([{ ip: '203.0.113.10' }, { hostname: 'lb.example.test' }, {}]))).toEqual(['203.0.113.10', 'lb.example.test']);
    expect(loadBalancerAddresses({})).toEqual([]);
  });
});

describe('controllerFacts', () => {
  const [resolved] = resolveControllers([config()], pods);
  const cases: { name: string; config: Partial<ControllerConfig>; lb: string[]; edge: string | null; edgeHttps: string | null }[] = [
    { name: 'edge from the load balancer IP', config: {}, lb: ['203.0.113.10', '203.0.113.11'], edge: 'http://203.0.113.10:80', edgeHttps: 'https://203.0.113.10:443' },
    { name: 'edge from a load balancer hostname', config: {}, lb: ['lb.example.test'], edge: 'http://lb.example.test:80', edgeHttps: 'https://lb.example.test:443' },
    { name: 'IPv6 load balancer', config: {}, lb: ['2001:db8::1'], edge: 'http://[2001:db8::1]:80', edgeHttps: 'https://[2001:db8::1]:443' },
    { name: 'no status, no config', config: {}, lb: [], edge: null, edgeHttps: null },
    {
      name: 'configured edge wins; https still from status',
      config: { edge: 'http://127.9.0.80:18080' },
      lb: ['203.0.113.10'],
      edge: 'http://127.9.0.80:18080',
      edgeHttps: 'https://203.0.113.10:443',
    },
    { name: 'both configured', config: { edge: 'http://e:1', edgeHttps: 'https://e:2' }, lb: [], edge: 'http://e:1', edgeHttps: 'https://e:2' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (!resolved) throw new Error('no controller resolved');
      const facts = controllerFacts({ ...resolved, config: config(c.config) }, c.lb);
      expect([facts.edge, facts.edgeHttps]).toEqual([c.edge, c.edgeHttps]);
    });
  }

  it('carries kind, upstream, ports and the pods with IP and readiness', () => {
    if (!resolved) throw new Error('no controller resolved');
    expect(controllerFacts(resolved, [])).toEqual({
      ingressClass: 'nginx',
      kind: 'ingress-nginx',
      upstream: 'endpoints',
      edge: null,
      edgeHttps: null,
      httpPort: 18080,
      httpsPort: 18443,
      pods: [
        { namespace: 'ingress', name: 'nginx-a', ip: '127.9.3.1', ready: true },
        { namespace: 'ingress', name: 'nginx-b', ip: '127.9.3.2', ready: false },
        { namespace: 'ingress', name: 'nginx-pending', ip: null, ready: false },
      ],
    });
  });

  it('carries configured settings; none configured leaves the field out', () => {
    if (!resolved) throw new Error('no controller resolved');
    const tuned = controllerFacts({ ...resolved, config: config({ settings: { readTimeoutMs: 2000, upstreamKeepaliveTimeoutMs: 1000 } }) }, []);
    expect(tuned.settings).toEqual({ readTimeoutMs: 2000, upstreamKeepaliveTimeoutMs: 1000 });
    expect('settings' in controllerFacts(resolved, [])).toBe(false);
  });

  it('edgeUrl', () => {
    expect(edgeUrl('https', '::1', 443)).toBe('https://[::1]:443');
  });
});
