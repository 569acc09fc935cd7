import { describe, expect, it } from 'vitest';
import { controllerFacts, endpointFacts, podFacts, routeFixture } from '../../test/fixtures.js';
import { parseEdge, planHops } from './plan.js';

const options = { timeoutMs: 3000, dnsServer: '127.9.0.53:5353', clusterDomain: 'cluster.local' };

describe('planHops', () => {
  it('plans dns, edge, each controller pod, the service and each endpoint, outermost first', () => {
    const hops = planHops(routeFixture(), options);
    expect(hops.map((h) => `${h.hop} ${h.target}${h.pod ? ` ${h.pod}` : ''}`)).toEqual([
      'dns web.shop.svc.cluster.local',
      'edge 192.0.2.10:80',
      'controller 10.1.0.1:80 ingress-nginx/ctrl-a',
      'controller 10.1.0.2:80 ingress-nginx/ctrl-b',
      'service 10.3.0.1:80',
      'pod 10.2.0.1:8080 shop/web-1',
      'pod 10.2.0.2:8080 shop/web-2',
      'pod 10.2.0.3:8080 shop/web-3',
    ]);
    for (const hop of hops) expect(hop.request).toEqual({ host: hop.hop === 'dns' ? hop.target : 'shop.example.test', path: '/', timeoutMs: 3000 });
    expect(hops[0]).toMatchObject({ scheme: 'dns', dnsServer: '127.9.0.53:5353', port: 5353 });
  });

  it.each([
    ['127.9.0.53:5353', 5353],
    ['10.96.0.10', 53],
    ['fd00::10', 53],
    ['[fd00::10]:5353', 5353],
    [null, 53],
  ])('gives the dns hop the port of DNS server %s', (dnsServer, port) => {
    expect(planHops(routeFixture(), { ...options, dnsServer })[0]).toMatchObject({ hop: 'dns', dnsServer, port });
  });

  it('keeps not-ready and terminating endpoints, marked', () => {
    const pod = podFacts('web-9', '10.2.0.9', { ready: false, terminating: true });
    const hops = planHops(routeFixture({ endpoints: [endpointFacts(pod)] }), options).filter((h) => h.hop === 'pod');
    expect(hops).toHaveLength(1);
    expect(hops[0]).toMatchObject({ ready: false, terminating: true, pod: 'shop/web-9' });
  });

  it('uses https and the https ports for TLS routes', () => {
    const route = routeFixture({ tls: true, controller: controllerFacts({ edgeHttps: 'https://192.0.2.10' }) });
    const front = planHops(route, options).filter((h) => h.hop === 'edge' || h.hop === 'controller');
    expect(front.map((h) => `${h.scheme} ${h.target}`)).toEqual(['https 192.0.2.10:443', 'https 10.1.0.1:443', 'https 10.1.0.2:443']);
  });

  it('speaks TLS to backends the controller reaches over HTTPS', () => {
    const route = routeFixture({ annotations: { 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS' } });
    const back = planHops(route, options).filter((h) => h.hop === 'pod' || h.hop === 'service');
    expect(new Set(back.map((h) => h.scheme))).toEqual(new Set(['https']));
  });

  it('follows what each controller speaks to pods, not one controller\'s annotation', () => {
    const backScheme = (route: ReturnType<typeof routeFixture>) => planHops(route, options).find((h) => h.hop === 'pod')?.scheme;
    const tlsPort = { name: 'https', port: 443, targetPort: 'https', protocol: 'TCP', appProtocol: 'https' };
    // Traefik's serversscheme annotation and Contour's reading of appProtocol mean TLS to the pods.
    expect(backScheme(routeFixture({ controller: controllerFacts({ kind: 'traefik' }), annotations: { 'traefik.ingress.kubernetes.io/service.serversscheme': 'https' } }))).toBe('https');
    expect(backScheme(routeFixture({ controller: controllerFacts({ kind: 'contour' }), servicePort: tlsPort }))).toBe('https');
    // ingress-nginx ignores appProtocol and speaks plain HTTP: so do the pod probes, and the mismatch shows.
    expect(backScheme(routeFixture({ servicePort: tlsPort }))).toBe('http');
    // Without a known controller, appProtocol is all there is.
    expect(backScheme(routeFixture({ controller: null, servicePort: tlsPort }))).toBe('https');
  });

  it('resolves and dials the ExternalName target', () => {
    const route = routeFixture({
      service: { namespace: 'shop', name: 'legacy', type: 'ExternalName', clusterIP: null, externalName: 'legacy.example.test', ports: [], selector: {} },
      servicePort: { name: null, port: 80, targetPort: 80, protocol: 'TCP', appProtocol: null },
      endpoints: [],
    });
    const hops = planHops(route, options);
    expect(hops.find((h) => h.hop === 'dns')?.target).toBe('legacy.example.test');
    expect(hops.find((h) => h.hop === 'service')?.target).toBe('legacy.example.test:80');
  });

  it('a headless Service: neither a dns nor a service hop (the controller uses its endpoints only), its endpoints probed', () => {
    const route = routeFixture({ service: { namespace: 'shop', name: 'web', type: 'ClusterIP', clusterIP: null, externalName: null, ports: [], selector: { app: 'web' } } });
    expect(planHops(route, options).map((h) => h.hop)).toEqual(['edge', 'controller', 'controller', 'pod', 'pod', 'pod']);
  });

  it('plans nothing for ignored or unprobeable routes', () => {
    expect(planHops(routeFixture({ notProbeable: 'regex' }), options)).toEqual([]);
    expect(planHops(routeFixture({ probe: { ...routeFixture().probe, ignore: true } }), options)).toEqual([]);
  });

  it('has no front hops without a controller, and no backend hops without a Service', () => {
    const kinds = (r: ReturnType<typeof routeFixture>) => planHops(r, options).map((h) => h.hop);
    expect(kinds(routeFixture({ controller: null }))).not.toContain('edge');
    expect(kinds(routeFixture({ service: null, servicePort: null, endpoints: [] }))).toEqual(['edge', 'controller', 'controller']);
  });
});

describe('parseEdge', () => {
  it.each([
    ['http://127.0.0.80:18080', { address: '127.0.0.80', port: 18080, scheme: 'http' }],
    ['https://lb.example.test', { address: 'lb.example.test', port: 443, scheme: 'https' }],
    ['http://[::1]:8080', { address: '::1', port: 8080, scheme: 'http' }],
    ['ftp://x', null],
    ['not a url', null],
  ])('%s', (url, want) => expect(parseEdge(url)).toEqual(want));
});
