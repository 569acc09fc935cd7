// Named lab scenarios shared by the demo, the end-to-end tests and the benchmarks.

import type { AppSpec, IngressSpec, LabSpec, ServiceSpec } from './spec.js';

/** A Deployment + Service + Ingress for one host, the usual shape of a route. */
export function webApp(namespace: string, name: string, host: string, app: Partial<AppSpec> = {}): Required<Pick<LabSpec, 'apps' | 'services' | 'ingresses'>> {
  const service: ServiceSpec = { namespace, name, ports: [{ name: 'http', port: 8000, targetPort: 'http' }] };
  const ingress: IngressSpec = { namespace, name, rules: [{ host, paths: [{ path: '/', service: name, port: 'http' }] }] };
  return { apps: [{ namespace, name, replicas: 2, ...app }], services: [service], ingresses: [ingress] };
}

/** Merges scenario parts. */
export function merge(...parts: LabSpec[]): LabSpec {
  return {
    namespaces: parts.flatMap((p) => p.namespaces ?? []),
    apps: parts.flatMap((p) => p.apps ?? []),
    services: parts.flatMap((p) => p.services ?? []),
    ingresses: parts.flatMap((p) => p.ingresses ?? []),
    networkPolicies: parts.flatMap((p) => p.networkPolicies ?? []),
    ...(parts.some((p) => p.endpointSlices) ? { endpointSlices: parts.flatMap((p) => p.endpointSlices ?? []) } : {}),
    ...(parts.some((p) => p.gatewayApi)
      ? {
          gatewayApi: {
            gateways: parts.flatMap((p) => p.gatewayApi?.gateways ?? []),
            httpRoutes: parts.flatMap((p) => p.gatewayApi?.httpRoutes ?? []),
            referenceGrants: parts.flatMap((p) => p.gatewayApi?.referenceGrants ?? []),
          },
        }
      : {}),
  };
}

/** The demo's Gateway front door: the lab Gateway with a healthy HTTPRoute and HTTPRoutes broken the Gateway API's ways. */
export function demoGateway(): LabSpec {
  const parentRefs = [{ name: 'public', namespace: 'gateway' }];
  const route = (namespace: string, name: string, host: string, backend: { name: string; namespace?: string }) => ({
    namespace,
    name,
    spec: { parentRefs, hostnames: [host], rules: [{ backendRefs: [{ ...backend, port: 8000 }] }] },
  });
  return {
    apps: [{ namespace: 'warehouse', name: 'stock', replicas: 2 }],
    services: [{ namespace: 'warehouse', name: 'stock', ports: [{ name: 'http', port: 8000, targetPort: 'http' }] }],
    gatewayApi: {
      gateways: [{ namespace: 'gateway', name: 'public', listeners: [{ name: 'http', port: 18090, protocol: 'HTTP', hostname: '*.gw.demo.test', allowedRoutes: { namespaces: { from: 'All' } } }] }],
      httpRoutes: [
        route('shop', 'storefront-gateway', 'shop.gw.demo.test', { name: 'storefront' }),
        // The same refusing pods as the checkout Ingress, now behind the Gateway.
        route('payments', 'checkout-gateway', 'pay.gw.demo.test', { name: 'checkout' }),
        // A backendRef to a Service that does not exist: the Gateway answers 500.
        route('catalog', 'search-gateway', 'search.gw.demo.test', { name: 'search-v2' }),
        // Into another namespace without a ReferenceGrant: the Gateway answers 500.
        route('shop', 'inventory', 'stock.gw.demo.test', { name: 'stock', namespace: 'warehouse' }),
        // A hostname the listener does not accept: not attached, 404.
        route('shop', 'storefront-old', 'shop.old.demo.test', { name: 'storefront' }),
      ],
    },
  };
}

/** The demo: healthy routes and routes broken in the common ways. */
export function demoScenario(): LabSpec {
  return merge(
    webApp('shop', 'storefront', 'shop.demo.test', { replicas: 3 }),
    webApp('shop', 'cart', 'cart.demo.test', { replicas: 3, podFaults: { 1: { mode: 'refuse' } } }),
    webApp('payments', 'checkout', 'pay.demo.test', { fault: { mode: 'refuse' } }),
    webApp('accounts', 'login', 'login.demo.test', { fault: { mode: 'crashloop' }, readinessProbe: true }),
    webApp('blog', 'blog', '*.blog.demo.test'),
    {
      // The Ingress names a port the Service does not have.
      apps: [{ namespace: 'catalog', name: 'search', replicas: 2 }],
      services: [{ namespace: 'catalog', name: 'search', ports: [{ name: 'http', port: 8000, targetPort: 'http' }] }],
      ingresses: [{ namespace: 'catalog', name: 'search', rules: [{ host: 'search.demo.test', paths: [{ path: '/', service: 'search', port: 9000 }] }] }],
    },
    {
      // An ExternalName Service whose target does not resolve.
      services: [{ namespace: 'legacy', name: 'billing', type: 'ExternalName', externalName: 'billing.old-dc.invalid', ports: [{ name: 'http', port: 80 }] }],
      ingresses: [{ namespace: 'legacy', name: 'billing', rules: [{ host: 'billing.demo.test', paths: [{ path: '/', service: 'billing', port: 80 }] }] }],
    },
    {
      ...webApp('reports', 'export', 'reports.demo.test'),
      // Default-deny in the namespace: the controller cannot reach the pods.
      networkPolicies: [{ namespace: 'reports', name: 'deny-all', spec: { podSelector: {}, policyTypes: ['Ingress'] } }],
    },
    demoGateway(),
  );
}
