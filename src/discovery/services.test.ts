import { describe, expect, it } from 'vitest';
import type { V1Endpoint, V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { ServicePortFacts } from '../model.js';
import { compareAddresses, endpointFacts, findServicePort, serviceFacts } from './services.js';

const service: V1Service = {
  metadata: { namespace: 'shop', name: 'web' },
  spec: {
    type: 'ClusterIP',
    clusterIP: '127.9.2.1',
    selector: { app: 'web' },
    ports: [
      { name: 'http', port: 80, targetPort: 'http' },
      { name: 'admin', port: 9000, targetPort: 9001, protocol: 'TCP', appProtocol: 'http' },
      { port: 81 },
    ],
  },
};

describe('serviceFacts', () => {
  it('reduces a ClusterIP Service, defaulting targetPort and protocol', () => {
    expect(serviceFacts(service)).toEqual({
      namespace: 'shop',
      name: 'web',
      type: 'ClusterIP',
      clusterIP: '127.9.2.1',
      externalName: null,
      selector: { app: 'web' },
      ports: [
        { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: null },
        { name: 'admin', port: 9000, targetPort: 9001, protocol: 'TCP', appProtocol: 'http' },
        { name: null, port: 81, targetPort: 81, protocol: 'TCP', appProtocol: null },
      ],
    });
  });

  it('keeps externalName and drops the address of an ExternalName Service', () => {
    const facts = serviceFacts({ metadata: { namespace: 'shop', name: 'ext' }, spec: { type: 'ExternalName', externalName: 'api.example.test' } });
    expect(facts).toMatchObject({ type: 'ExternalName', clusterIP: null, externalName: 'api.example.test', ports: [], selector: {} });
  });

  it('headless Service has no ClusterIP', () => {
    expect(serviceFacts({ metadata: { name: 'h' }, spec: { clusterIP: 'None' } }).clusterIP).toBeNull();
  });
});

describe('findServicePort', () => {
  const facts = serviceFacts(service);
  const cases: { name: string; port: number | string; found: string | null }[] = [
    { name: 'by number', port: 80, found: 'http' },
    { name: 'by name', port: 'admin', found: 'admin' },
    { name: 'unnamed by number', port: 81, found: null },
    { name: 'number not on the Service', port: 8080, found: 'missing' },
    { name: 'name not on the Service', port: 'metrics', found: 'missing' },
    { name: 'the targetPort number is not a Service port', port: 9001, found: 'missing' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const port = findServicePort(facts, c.port);
      if (c.found === 'missing') expect(port).toBeNull();
      else expect(port?.name ?? null).toBe(c.found);
      if (c.found !== 'missing') expect(port).not.toBeNull();
    });
  }
});

describe('findServicePort of an ExternalName Service without ports (ingress-nginx uses the backend port number)', () => {
  const external = serviceFacts({ metadata: { name: 'legacy', namespace: 'shop' }, spec: { type: 'ExternalName', externalName: 'legacy.example.invalid' } });
  it('takes the Ingress backend port number', () => {
    expect(findServicePort(external, 8443)).toEqual({ name: null, port: 8443, targetPort: 8443, protocol: 'TCP', appProtocol: null });
  });
  it('has no port for a port name (ingress-nginx: only numeric ports are allowed)', () => {
    expect(findServicePort(external, 'https')).toBeNull();
  });
  it('keeps the declared ports when there are some', () => {
    const declared = serviceFacts({ metadata: { name: 'legacy' }, spec: { type: 'ExternalName', externalName: 'x.invalid', ports: [{ name: 'http', port: 80 }] } });
    expect(findServicePort(declared, 8443)).toBeNull();
  });
});

function slice(name: string, ports: { name?: string; port?: number }[], endpoints: V1Endpoint[], serviceName = 'web'): V1EndpointSlice {
  return {
    metadata: { namespace: 'shop', name, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports,
    endpoints,
  };
}

const podRef = (name: string): V1Endpoint['targetRef'] => ({ kind: 'Pod', name, namespace: 'shop' });

describe('endpointFacts', () => {
  const http: ServicePortFacts = { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: null };
  const unnamed: ServicePortFacts = { name: null, port: 80, targetPort: 8080, protocol: 'TCP', appProtocol: null };
  const ref = { namespace: 'shop', name: 'web' };

  it('conditions: unset ready counts as ready, serving defaults to ready, terminating false', () => {
    const facts = endpointFacts(
      [
        slice('web-1', [{ name: 'http', port: 8080 }, { name: 'admin', port: 9001 }], [
          { addresses: ['127.9.1.10'], targetRef: podRef('web-a') },
          { addresses: ['127.9.1.2'], conditions: { ready: false }, targetRef: podRef('web-b') },
          { addresses: ['127.9.1.3'], conditions: { ready: false, serving: true, terminating: true } },
          { addresses: ['127.9.1.4'], targetRef: { kind: 'Node', name: 'n1' } },
        ]),
      ],
      ref,
      http,
    );
    expect(facts).toEqual([
      { address: '127.9.1.2', port: 8080, ready: false, serving: false, terminating: false, pod: { namespace: 'shop', name: 'web-b' } },
      { address: '127.9.1.3', port: 8080, ready: false, serving: true, terminating: true, pod: null },
      { address: '127.9.1.4', port: 8080, ready: true, serving: true, terminating: false, pod: null },
      { address: '127.9.1.10', port: 8080, ready: true, serving: true, terminating: false, pod: { namespace: 'shop', name: 'web-a' } },
    ]);
  });

  it('a named Service port takes the slice port of its name; an unnamed one every slice port (ingress-nginx getEndpointsFromSlices)', () => {
    const slices = [
      slice('web-1', [{ name: 'admin', port: 9001 }], [{ addresses: ['127.9.1.1'] }]),
      slice('web-2', [{ name: '', port: 8080 }], [{ addresses: ['127.9.1.2'] }]),
      slice('web-3', [{ port: 8081 }], [{ addresses: ['127.9.1.3'] }]),
      slice('web-4', [{ name: 'http', port: 8082 }], [{ addresses: ['127.9.1.4'] }]),
    ];
    expect(endpointFacts(slices, ref, http).map((e) => `${e.address}:${e.port}`)).toEqual(['127.9.1.4:8082']);
    expect(endpointFacts(slices, ref, unnamed).map((e) => `${e.address}:${e.port}`)).toEqual(['127.9.1.1:9001', '127.9.1.2:8080', '127.9.1.3:8081', '127.9.1.4:8082']);
  });

  it('a hand-written slice whose port name does not match, or without ports, falls back to a numeric targetPort (ingress-nginx#7390)', () => {
    const namedNumeric: ServicePortFacts = { name: 'http', port: 8000, targetPort: 9300, protocol: 'TCP', appProtocol: null };
    const slices = [
      slice('legacy-1', [{ port: 9300 }], [{ addresses: ['127.9.1.1', '127.9.1.2'] }]),
      slice('legacy-2', [], [{ addresses: ['127.9.1.3'] }]),
    ];
    expect(endpointFacts(slices, ref, namedNumeric).map((e) => `${e.address}:${e.port}`)).toEqual(['127.9.1.1:9300', '127.9.1.2:9300', '127.9.1.3:9300']);
    // A named targetPort has no number to fall back to: nothing, as in ingress-nginx.
    expect(endpointFacts(slices, ref, http)).toEqual([]);
  });

  it('named ports resolving to different numbers per pod: one slice per number, each endpoint on its own', () => {
    const slices = [
      slice('web-a', [{ name: 'http', port: 9091 }], [{ addresses: ['127.9.1.1'], targetRef: podRef('web-0') }]),
      slice('web-b', [{ name: 'http', port: 9092 }], [{ addresses: ['127.9.1.2'], targetRef: podRef('web-1') }]),
    ];
    expect(endpointFacts(slices, ref, http).map((e) => `${e.pod?.name} ${e.address}:${e.port}`)).toEqual(['web-0 127.9.1.1:9091', 'web-1 127.9.1.2:9092']);
  });

  it('ignores slices of other Services and namespaces, dedupes address:port across slices', () => {
    const other = slice('api-1', [{ name: 'http', port: 8080 }], [{ addresses: ['127.9.1.9'] }], 'api');
    const elsewhere = { ...slice('web-x', [{ name: 'http', port: 8080 }], [{ addresses: ['127.9.1.8'] }]), metadata: { namespace: 'blog', name: 'web-x', labels: { 'kubernetes.io/service-name': 'web' } } };
    const first = slice('web-a', [{ name: 'http', port: 8080 }], [{ addresses: ['127.9.1.1'], conditions: { ready: true } }]);
    const duplicate = slice('web-b', [{ name: 'http', port: 8080 }], [{ addresses: ['127.9.1.1'], conditions: { ready: false } }]);
    const facts = endpointFacts([duplicate, other, elsewhere, first], ref, http);
    expect(facts).toHaveLength(1);
    // Slices are read in name order, so the first slice by name wins whatever the input order.
    expect(facts[0]).toMatchObject({ address: '127.9.1.1', ready: true });
  });

  it('an endpoint without addresses is skipped', () => {
    expect(endpointFacts([slice('web-1', [{ name: 'http', port: 8080 }], [{ addresses: [] }])], ref, http)).toEqual([]);
  });
});

describe('compareAddresses', () => {
  it('orders IPv4 numerically, then other addresses as text', () => {
    expect(['127.0.0.10', 'fe80::1', '127.0.0.9', '10.0.0.1'].sort(compareAddresses)).toEqual(['10.0.0.1', '127.0.0.9', '127.0.0.10', 'fe80::1']);
  });
});
