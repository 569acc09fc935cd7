// A second lab scenario set, written apart from scenarios.ts to catch tuning to the first one: other
// namespaces, names, ports and timings; apps whose answers look like Go's net/http (no Keep-Alive
// announcement, text/plain); controllers tuned where hopwatch is not told (read timeout 3 s and
// connect 1.5 s in the controllers' own configuration, while the generated hopwatch config declares
// no setting at all, so hopwatch assumes ingress-nginx's 60 s), a per-backend HAProxy timeout set by
// an annotation hopwatch has no reason to read, and HAProxy declared as a proxy of unknown kind
// ('generic'); an Ingress losing its host and path to an older one; an ExternalName without ports. Each app is routed by both controllers: Ingress <name> (class nginx) and
// <name>-hx (class haproxy), hosts under b-lab.example.

import type { HopwatchConfigOptions, LabOptions } from './lab.js';
import { merge } from './scenarios.js';
import type { AppSpec, IngressSpec, LabSpec, ServiceSpec } from './spec.js';

/** The controllers' real proxy timeouts in lab B (hopwatch is not told them). */
export const B_TIMEOUTS = { connectMs: 1500, readMs: 3000, sendMs: 3000 } as const;
/** hopwatch's per-hop deadline in lab B. */
export const B_DEADLINE_MS = 6000;
/** How lab B starts. */
export const B_LAB_OPTIONS: LabOptions = { haproxy: true, timeouts: B_TIMEOUTS, probeTimeoutMs: B_DEADLINE_MS };
/** What lab B's generated hopwatch config declares: no controller setting, HAProxy as a proxy of unknown kind. */
export const B_CONFIG: HopwatchConfigOptions = { declareSettings: false, kinds: { haproxy: 'generic' } };
/** The Ingresses of a Service for both controllers: <name> (nginx) and <name>-hx (haproxy). */
export function ingressPair(namespace: string, name: string, service: string, port: number | string): IngressSpec[] {
  return (['nginx', 'haproxy'] as const).map((flavour) => ({
    namespace,
    name: ingressOf(name, flavour),
    className: flavour,
    rules: [{ host: `${name}.${flavour === 'nginx' ? 'ngx' : 'hx'}.b-lab.example`, paths: [{ path: '/', service, port }] }],
  }));
}

/** The namespace-qualified Ingress names of one app: [nginx, haproxy]. */
export type Flavour = 'nginx' | 'haproxy';

/** A Go-style app on port 9091 named "web", its Service on 7000, routed by both controllers. */
export function goApp(namespace: string, name: string, app: Partial<AppSpec> = {}): LabSpec {
  const service: ServiceSpec = { namespace, name, ports: [{ name: 'api', port: 7000, targetPort: 'web' }] };
  const ingress = (flavour: Flavour): IngressSpec => ({
    namespace,
    name: flavour === 'nginx' ? name : `${name}-hx`,
    className: flavour === 'nginx' ? 'nginx' : 'haproxy',
    rules: [{ host: `${name}.${flavour === 'nginx' ? 'ngx' : 'hx'}.b-lab.example`, paths: [{ path: '/', service: name, port: 'api' }] }],
  });
  return { apps: [{ namespace, name, replicas: 2, containerPort: 9091, portName: 'web', server: 'go', ...app }], services: [service], ingresses: [ingress('nginx'), ingress('haproxy')] };
}

/** The Ingress of an app for a controller. */
export function ingressOf(name: string, flavour: Flavour): string {
  return flavour === 'nginx' ? name : `${name}-hx`;
}

/** Lab B's scenario. */
export function scenarioB(): LabSpec {
  return merge(
    // Healthy, answers like Go: no keep-alive announcement, so nothing to wait for.
    goApp('ledger', 'books'),
    // One pod slower (4.1 s) than the controllers' real read timeout (3 s) that hopwatch was not told.
    goApp('media', 'transcode', { replicas: 1, fault: { mode: 'slow', delayMs: 4100 } }),
    // A per-location tuning hopwatch is not told about: HAProxy's timeout-server for this backend is 2 s
    // (haproxy.org/timeout-server, an annotation a proxy of unknown kind gives hopwatch no reason to
    // read), the pod answers after 2.6 s. nginx (3 s) serves it: no false alarm there.
    (() => {
      const app = goApp('media', 'render', { replicas: 1, fault: { mode: 'slow', delayMs: 2600 } });
      return { ...app, ingresses: (app.ingresses ?? []).map((i) => (i.className === 'haproxy' ? { ...i, annotations: { 'haproxy.org/timeout-server': '2s' } } : i)) };
    })(),
    // Pods answer 200 with a 20 KB header block: over nginx's 4k default and HAProxy's 15 KiB, whose buffer hopwatch does not know (generic).
    goApp('media', 'thumbs', { fault: { mode: 'large-headers', bytes: 20_000 } }),
    // One pod of three answers 500 while Ready (no readinessProbe): the same state every round.
    goApp('telemetry', 'ingest', { replicas: 3, podFaults: { 1: { mode: 'status', status: 500 } } }),
    // Every pod answers 503 and its readinessProbe (/healthz) fails it: not ready, what they answer is said.
    goApp('archive', 'vault', { readinessProbe: true, fault: { mode: 'status', status: 503 } }),
    {
      // An ExternalName Service that declares no port (legal): ingress-nginx uses the Ingress backend's
      // port number. Its name does not resolve: a DNS failure, not a port mismatch.
      services: [{ namespace: 'archive', name: 'mainframe', type: 'ExternalName', externalName: 'mainframe.dc2.invalid', ports: [] }],
      ingresses: (['nginx', 'haproxy'] as const).map((flavour) => ({
        namespace: 'archive',
        name: ingressOf('mainframe', flavour),
        className: flavour,
        rules: [{ host: `mainframe.${flavour === 'nginx' ? 'ngx' : 'hx'}.b-lab.example`, paths: [{ path: '/', service: 'mainframe', port: 8443 }] }],
      })),
    },
    // A Service without selector in front of two "VMs" (lab pods the Service does not select), its
    // EndpointSlice written by hand with an unnamed port while the Service port is named "http":
    // ingress-nginx falls back to the numeric targetPort (getEndpointsFromSlices, ingress-nginx#7390).
    // The second VM answers 500.
    {
      apps: [{ namespace: 'records', name: 'legacy-vm', replicas: 2, labels: { role: 'vm' }, containerPort: 9300, portName: 'svc', server: 'go', podFaults: { 1: { mode: 'status', status: 500 } } }],
      services: [{ namespace: 'records', name: 'legacy', selector: null, ports: [{ name: 'http', port: 8000, targetPort: 9300 }] }],
      endpointSlices: [{ namespace: 'records', name: 'legacy-by-hand', service: 'legacy', ports: [{ port: 9300 }], app: 'legacy-vm' }],
      ingresses: ingressPair('records', 'legacy', 'legacy', 8000),
    },
    // A headless Service (clusterIP None): no Service hop to probe, the controllers still use its
    // endpoints. One pod of two answers 500.
    (() => {
      const app = goApp('records', 'journal', { podFaults: { 1: { mode: 'status', status: 500 } } });
      return { ...app, services: (app.services ?? []).map((svc) => ({ ...svc, clusterIP: 'None' as const })) };
    })(),
    // A named targetPort ("web") that maps to another number on one pod (9092, the other 9091): the
    // EndpointSlice controller writes one slice per number. The pod on 9092 answers 500.
    goApp('records', 'tally', { podPorts: { 1: 9092 }, podFaults: { 1: { mode: 'status', status: 500 } } }),
    // Apps that are themselves proxies (nginx in the pod) whose own upstream fails: every pod of
    // gateway answers nginx's own 502 page, one pod of two of relay nginx's own 504 page. The 5xx
    // comes from the pods, whatever generator its page names.
    goApp('proxies', 'gateway', { fault: { mode: 'proxy-error', status: 502 } }),
    goApp('proxies', 'relay', { podFaults: { 1: { mode: 'proxy-error', status: 504 } } }),
    {
      // A second Ingress, created after ledger/books (or in the same second: then the greater name wins,
      // books), claims books' host and path on nginx for another Service whose pods refuse:
      // ingress-nginx keeps serving ledger/books.
      ...goApp('ledger', 'a-books', { fault: { mode: 'refuse' } }),
      ingresses: [{ namespace: 'ledger', name: 'a-books', className: 'nginx', rules: [{ host: 'books.ngx.b-lab.example', paths: [{ path: '/', service: 'a-books', port: 'api' }] }] }],
    },
  );
}
