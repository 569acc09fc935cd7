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
  );
}
