import { describe, expect, it } from 'vitest';
import type { HopResult, PodDiagnosis, PodFacts, Route, Verdict } from '../model.js';
import {
  controllerFacts,
  endpointFacts,
  healthyRound,
  NGINX_502,
  NGINX_503,
  podFacts,
  REFUSED,
  result,
  routeFixture, primaryOf } from '../../test/fixtures.js';
import { classify } from './classify.js';

interface Row {
  name: string;
  route: Route;
  hops: HopResult[];
  want: Pick<Verdict, 'status' | 'hop' | 'cause'>;
  /** Substrings that must appear in some evidence line. */
  evidence?: string[];
  /** Substrings the summary must contain. */
  summary?: string[];
  /** Extra facts of src/probe/diagnose.ts. */
  diagnoses?: PodDiagnosis[];
}

const base = routeFixture();
const front502 = (r: HopResult): Partial<HopResult> | null => (r.hop === 'edge' || r.hop === 'controller' ? NGINX_502 : null);
const front503 = (r: HopResult): Partial<HopResult> | null => (r.hop === 'edge' || r.hop === 'controller' ? NGINX_503 : null);
const isFront = (r: HopResult): boolean => r.hop === 'edge' || r.hop === 'controller';
const podTargets = ['10.2.0.1:8080', '10.2.0.2:8080', '10.2.0.3:8080'];
/** A diagnosis of every pod of routeFixture(). */
const everyPod = (fields: Partial<PodDiagnosis>): PodDiagnosis[] =>
  podTargets.map((target, i) => ({ target, pod: `shop/web-${i + 1}`, idleTimeout: null, protocol: null, ...fields }));
/** The lab's tuned ingress-nginx (read 2 s, keep-alive 2 s). */
const tuned = routeFixture({ controller: controllerFacts({ settings: { connectTimeoutMs: 1000, readTimeoutMs: 2000, upstreamKeepaliveTimeoutMs: 2000 } }) });
const haproxy = routeFixture({ controller: controllerFacts({ kind: 'haproxy', ingressClass: 'haproxy' }) });
/** A rollout: web-1 and web-2 of ReplicaSet web-old, web-3 and web-4 of web-new; `lagging`: the EndpointSlice still lists every pod ready. */
function rolloutRoute(oldPods: Partial<PodFacts> = {}, lagging = false): Route {
  const old = ['web-1', 'web-2'].map((n, i) => podFacts(n, `10.2.0.${i + 1}`, { replicaSet: 'web-old', templateHash: 'old', ...oldPods }));
  const next = ['web-3', 'web-4'].map((n, i) => podFacts(n, `10.2.0.${i + 3}`, { replicaSet: 'web-new', templateHash: 'new' }));
  const pods = [...old, ...next];
  return routeFixture({ pods, endpoints: pods.map((p) => endpointFacts(p, lagging ? { ready: true, serving: true, terminating: false } : {})) });
}
const oldRefuses = (r: HopResult): Partial<HopResult> | null => (r.pod === 'shop/web-1' || r.pod === 'shop/web-2' ? REFUSED : null);
const HAPROXY_502: Partial<HopResult> = { status: 502, generator: 'haproxy', headers: {} };
const TLS_POD: Partial<HopResult> = { status: null, error: 'tls', errorDetail: 'peer speaks TLS: plain HTTP got closed before headers; a TLS handshake succeeds', generator: null, headerBytes: 0 };
const H2C_POD: Partial<HopResult> = { status: null, error: 'protocol', errorDetail: 'peer speaks HTTP/2 without TLS (h2c) (Response does not match the HTTP/1.1 protocol)', generator: null, headerBytes: 0 };

function crashRoute(): Route {
  const pods = ['web-1', 'web-2'].map((n, i) =>
    podFacts(n, `10.2.0.${i + 1}`, { ready: false, restarts: 7, stateReason: 'CrashLoopBackOff', readinessProbe: 'http-get :8080/healthz' }),
  );
  return routeFixture({ pods, endpoints: pods.map((p) => endpointFacts(p)) });
}

const rows: Row[] = [
  { name: 'every hop answers 200', route: base, hops: healthyRound(base), want: { status: 'ok', hop: null, cause: 'ok' } },
  {
    name: 'all pods refuse: the controller turns it into 502',
    route: base,
    hops: healthyRound(base, (r) => (r.hop === 'pod' || r.hop === 'service' ? REFUSED : front502(r))),
    want: { status: 'failing', hop: 'pod', cause: 'pod.refused' },
    evidence: ['shop/web-1', 'refused'],
  },
  {
    name: 'one pod of three refuses: degraded, the pod named',
    route: base,
    hops: healthyRound(base, (r) => (r.pod === 'shop/web-2' ? REFUSED : null)),
    want: { status: 'degraded', hop: 'pod', cause: 'pod.refused' },
    evidence: ['shop/web-2'],
  },
  {
    name: 'one pod answers 500, another refuses: the share and the cause are one group\'s, the other is named apart',
    route: base,
    hops: healthyRound(base, (r) => (r.pod === 'shop/web-1' ? { status: 500, generator: null } : r.pod === 'shop/web-2' ? REFUSED : front502(r))),
    want: { status: 'degraded', hop: 'pod', cause: 'pod.refused' },
    summary: ['1 of 3 pods refuse connections on their target port: shop/web-2'],
    evidence: ['also failing otherwise: shop/web-1 (500)'],
  },
  {
    name: 'the same mix, with the front passing the app\'s 500 on: the app error comes first',
    route: base,
    hops: healthyRound(base, (r) => (r.pod === 'shop/web-1' ? { status: 500, generator: null } : r.pod === 'shop/web-2' ? REFUSED : isFront(r) ? { status: 500, generator: 'upstream' } : null)),
    want: { status: 'degraded', hop: 'pod', cause: 'pod.app-error' },
    summary: ['1 of 3 pods answer 500 themselves'],
    evidence: ['also failing otherwise: shop/web-2 (refused)'],
  },
  {
    name: 'some pods refuse and the controller runs out of retries: the failure starts at the pods',
    route: base,
    hops: healthyRound(base, (r) => (r.pod === 'shop/web-2' || r.pod === 'shop/web-3' ? REFUSED : front502(r))),
    want: { status: 'degraded', hop: 'pod', cause: 'pod.refused' },
    evidence: ['shop/web-2', 'shop/web-3'],
  },
  {
    name: 'pods refuse on a targetPort no container declares',
    route: routeFixture({ servicePort: { name: 'http', port: 80, targetPort: 9090, protocol: 'TCP', appProtocol: null } }),
    hops: healthyRound(base, (r) => (r.hop === 'pod' || r.hop === 'service' ? REFUSED : front502(r))),
    want: { status: 'failing', hop: 'config', cause: 'config.port-mismatch' },
    evidence: ['targetPort'],
  },
  {
    name: 'Ingress names a port the Service does not have',
    route: routeFixture({ backend: { service: 'web', port: 8080 }, servicePort: null, endpoints: [] }),
    hops: healthyRound(routeFixture({ servicePort: null, endpoints: [], service: null }), front503),
    want: { status: 'failing', hop: 'config', cause: 'config.port-mismatch' },
    evidence: ['has no port 8080'],
  },
  {
    name: 'backend Service does not exist',
    route: routeFixture({ service: null, servicePort: null, endpoints: [], pods: [] }),
    hops: healthyRound(routeFixture({ service: null, endpoints: [] }), front503).filter((r) => r.hop !== 'dns'),
    want: { status: 'failing', hop: 'config', cause: 'config.service-missing' },
    evidence: ['does not exist'],
  },
  {
    name: 'selector matches no pod: no endpoints',
    route: routeFixture({ endpoints: [], pods: [] }),
    hops: healthyRound(routeFixture({ endpoints: [] }), (r) => (r.hop === 'service' ? REFUSED : front503(r))),
    want: { status: 'failing', hop: 'service', cause: 'config.no-endpoints' },
    evidence: ['app=web matches no pod'],
  },
  {
    name: 'ready pods that are no ready endpoint (a lagging EndpointSlice): no endpoints, without claiming the selector matches nothing',
    route: routeFixture({ endpoints: [] }),
    hops: healthyRound(routeFixture({ endpoints: [] }), (r) => (r.hop === 'service' ? REFUSED : front503(r))),
    want: { status: 'failing', hop: 'service', cause: 'config.no-endpoints' },
    summary: ['no ready endpoint although its selector matches 3 ready pods'],
    evidence: ['pod shop/web-1 (10.2.0.1): ready'],
  },
  {
    name: 'pods crash-loop and are never ready',
    route: crashRoute(),
    hops: healthyRound(crashRoute(), (r) => (r.hop === 'pod' || r.hop === 'service' ? REFUSED : front503(r))),
    want: { status: 'failing', hop: 'pod', cause: 'pod.crashloop' },
    evidence: ['CrashLoopBackOff', '7 restarts'],
  },
  {
    name: 'pods answer 500 themselves: the app, not a gateway',
    route: base,
    hops: healthyRound(base, () => ({ status: 500, generator: 'upstream' })),
    want: { status: 'failing', hop: 'pod', cause: 'pod.app-error' },
  },
  {
    name: 'pods answer nginx\'s own 502 page (a proxy inside the pod), passed on by the controller: the pods, not the controller',
    route: base,
    hops: healthyRound(base, (r) => (r.hop === 'pod' || r.hop === 'service' || isFront(r) ? NGINX_502 : null)),
    want: { status: 'failing', hop: 'pod', cause: 'pod.app-error' },
    summary: ["3 of 3 pods answer 502 themselves with nginx's own error page: the app is itself a proxy whose upstream fails"],
    evidence: ["the 502 page at the pod hop is nginx's own, answered inside the pod"],
  },
  {
    name: 'every controller pod 502 while pods answer',
    route: base,
    hops: healthyRound(base, front502),
    want: { status: 'failing', hop: 'controller', cause: 'controller.error' },
    evidence: ['ingress-nginx/ctrl-a', 'shop/web-1'],
  },
  {
    name: 'one controller replica fails, users still served through the other',
    route: base,
    hops: healthyRound(base, (r) => (r.pod === 'ingress-nginx/ctrl-b' ? NGINX_502 : null)),
    want: { status: 'degraded', hop: 'controller', cause: 'controller.replica-divergence' },
    evidence: ['ctrl-b'],
  },
  {
    name: 'one controller replica fails and the edge hit it',
    route: base,
    hops: healthyRound(base, (r) => (r.pod === 'ingress-nginx/ctrl-b' || r.hop === 'edge' ? NGINX_502 : null)),
    want: { status: 'degraded', hop: 'controller', cause: 'controller.replica-divergence' },
  },
  {
    name: 'the edge fails while every controller pod answers',
    route: base,
    hops: healthyRound(base, (r) => (r.hop === 'edge' ? { status: 502, generator: 'aws-alb' } : null)),
    want: { status: 'failing', hop: 'edge', cause: 'edge.error' },
  },
  {
    name: 'ClusterIP fails while pods answer; controller uses endpoints: degraded',
    route: base,
    hops: healthyRound(base, (r) => (r.hop === 'service' ? REFUSED : null)),
    want: { status: 'degraded', hop: 'service', cause: 'service.unreachable' },
  },
  {
    name: 'ClusterIP fails behind an Ingress annotated service-upstream: the controller uses the ClusterIP for this route',
    route: routeFixture({ annotations: { 'nginx.ingress.kubernetes.io/service-upstream': 'true' } }),
    hops: healthyRound(base, (r) => (r.hop === 'service' ? REFUSED : front502(r))),
    want: { status: 'failing', hop: 'service', cause: 'service.unreachable' },
  },
  {
    name: 'ClusterIP fails and the controller proxies to the ClusterIP: failing',
    route: routeFixture({ controller: controllerFacts({ upstream: 'service' }) }),
    hops: healthyRound(base, (r) => (r.hop === 'service' ? REFUSED : front502(r))),
    want: { status: 'failing', hop: 'service', cause: 'service.unreachable' },
  },
  {
    name: 'ExternalName target does not resolve',
    route: routeFixture({
      service: { namespace: 'shop', name: 'legacy', type: 'ExternalName', clusterIP: null, externalName: 'legacy.invalid', ports: [], selector: {} },
      endpoints: [],
      pods: [],
    }),
    hops: healthyRound(routeFixture({ endpoints: [] }), (r) =>
      r.hop === 'dns' ? { error: 'dns', errorDetail: 'ENOTFOUND', addresses: [], target: 'legacy.invalid' } : r.hop === 'service' ? { status: null, error: 'dns' } : front502(r),
    ),
    want: { status: 'failing', hop: 'dns', cause: 'dns.failure' },
    evidence: ['legacy.invalid'],
  },
  {
    name: 'ExternalName target resolves but refuses: the target is named, not a ClusterIP or pods',
    route: routeFixture({
      service: { namespace: 'shop', name: 'legacy', type: 'ExternalName', clusterIP: null, externalName: 'legacy.example.test', ports: [], selector: {} },
      endpoints: [],
      pods: [],
    }),
    hops: healthyRound(routeFixture({ endpoints: [] }), (r) => (r.hop === 'service' ? { ...REFUSED, target: 'legacy.example.test:80' } : front502(r))),
    want: { status: 'failing', hop: 'service', cause: 'service.unreachable' },
    summary: ['the ExternalName target legacy.example.test fails (refused)'],
  },
  {
    name: 'Service name does not resolve but traffic flows: degraded at dns',
    route: base,
    hops: healthyRound(base, (r) => (r.hop === 'dns' ? { error: 'dns', errorDetail: 'ENOTFOUND', addresses: [] } : null)),
    want: { status: 'degraded', hop: 'dns', cause: 'dns.failure' },
  },
  {
    name: 'NetworkPolicy blocks the controller, pods answer hopwatch',
    route: routeFixture({ policies: [{ namespace: 'shop', name: 'deny-all', admitsController: false, admitsProber: null }] }),
    hops: healthyRound(base, (r) => (r.hop === 'edge' || r.hop === 'controller' ? { status: 504, generator: 'nginx' } : null)),
    want: { status: 'failing', hop: 'network', cause: 'network.blocked' },
    evidence: ['shop/deny-all'],
  },
  {
    name: 'a NetworkPolicy that admits the controller is not blamed',
    route: routeFixture({ policies: [{ namespace: 'shop', name: 'allow-ingress', admitsController: true, admitsProber: null }] }),
    hops: healthyRound(base, front502),
    want: { status: 'failing', hop: 'controller', cause: 'controller.error' },
  },
  {
    name: 'a deny-all beside an allow-from-the-controller policy admits the controller: policies add up',
    route: routeFixture({
      policies: [
        { namespace: 'shop', name: 'allow-ingress', admitsController: true, admitsProber: null },
        { namespace: 'shop', name: 'deny-all', admitsController: false, admitsProber: null },
      ],
    }),
    hops: healthyRound(base, front502),
    want: { status: 'failing', hop: 'controller', cause: 'controller.error' },
  },
  {
    name: 'no controller serves the class and nothing fills the status',
    route: routeFixture({ ingressClass: 'traefik', controller: null, loadBalancer: [] }),
    hops: healthyRound(routeFixture({ controller: null })),
    want: { status: 'failing', hop: 'config', cause: 'config.no-controller' },
  },
  {
    name: 'a class served by a controller hopwatch is not configured for is unknown, not failing',
    route: routeFixture({ ingressClass: 'traefik', controller: null, loadBalancer: ['192.0.2.99'] }),
    hops: healthyRound(routeFixture({ controller: null })),
    want: { status: 'unknown', hop: 'config', cause: 'config.no-controller' },
  },
  {
    name: 'controller answers 404 while pods answer 200: routing failure at the controller',
    route: base,
    hops: healthyRound(base, (r) => (r.hop === 'edge' || r.hop === 'controller' ? { status: 404, generator: 'nginx' } : null)),
    want: { status: 'failing', hop: 'controller', cause: 'controller.error' },
  },
  {
    name: 'pods answer 404 and so does the edge: consistent, ok',
    route: base,
    hops: healthyRound(base, () => ({ status: 404 })),
    want: { status: 'ok', hop: null, cause: 'ok' },
  },
  {
    name: 'expect-status 401 makes a 401 healthy',
    route: routeFixture({ probe: { ...base.probe, expectStatus: [401] } }),
    hops: healthyRound(base, () => ({ status: 401 })),
    want: { status: 'ok', hop: null, cause: 'ok' },
  },
  {
    name: 'expect-status 401 answered by the controller itself (its auth) in front of pods answering 200: healthy',
    route: routeFixture({ probe: { ...base.probe, expectStatus: [401] } }),
    hops: healthyRound(base, (r) => (isFront(r) ? { status: 401, generator: 'nginx' } : null)),
    want: { status: 'ok', hop: null, cause: 'ok' },
  },
  {
    name: 'expect-status 200 with the app answering 404 through every hop: the pods answer it',
    route: routeFixture({ probe: { ...base.probe, expectStatus: [200] } }),
    hops: healthyRound(base, (r) => (r.hop === 'dns' ? null : { status: 404, generator: r.hop === 'pod' || r.hop === 'service' ? null : 'upstream' })),
    want: { status: 'failing', hop: 'pod', cause: 'pod.app-error' },
  },
  {
    name: 'unreachable pod IPs (laptop) are unknown, not failures',
    route: base,
    hops: healthyRound(base, (r) => (r.hop === 'pod' || r.hop === 'controller' || r.hop === 'service' ? { status: null, error: 'unreachable' } : null)),
    want: { status: 'ok', hop: null, cause: 'ok' },
  },
  {
    name: 'a not-ready pod that refuses is reported apart and does not degrade the route',
    route: routeFixture({ endpoints: [...primaryOf(base).endpoints, endpointFacts(podFacts('web-4', '10.2.0.4', { ready: false }))] }),
    hops: [
      ...healthyRound(base),
      result('pod', '10.2.0.4:8080', { ...REFUSED, pod: 'shop/web-4', ready: false }),
    ],
    want: { status: 'ok', hop: null, cause: 'ok' },
  },
  // ---------------------------------------------------------------- the hard 502s
  {
    name: 'pods answer 200 with headers larger than ingress-nginx\'s 4 KiB buffer: the controller 502s',
    route: base,
    hops: healthyRound(base, (r) => (r.hop === 'pod' ? { headerBytes: 20_480 } : isFront(r) ? NGINX_502 : null)),
    want: { status: 'failing', hop: 'pod', cause: 'pod.headers-too-large' },
    evidence: ['20480 bytes (20.0 KiB)', 'ingress-nginx proxy-buffer-size: 4096 bytes (4.0 KiB) (ingress-nginx default)', 'shop/web-1'],
  },
  {
    name: 'the same on HAProxy: its limit is bufsize less maxrewrite',
    route: haproxy,
    hops: healthyRound(haproxy, (r) => (r.hop === 'pod' ? { headerBytes: 20_480 } : isFront(r) ? HAPROXY_502 : null)),
    want: { status: 'failing', hop: 'pod', cause: 'pod.headers-too-large' },
    evidence: ['HAProxy tune.bufsize - tune.maxrewrite: 15360 bytes', '502 from haproxy'],
  },
  {
    name: 'headers just under the buffer as hopwatch measures them, over it once kept alive to the controller: still the pods\' headers',
    route: base,
    hops: healthyRound(base, (r) => (r.hop === 'pod' ? { headerBytes: 4086 } : isFront(r) ? NGINX_502 : null)),
    want: { status: 'failing', hop: 'pod', cause: 'pod.headers-too-large' },
    summary: ['4086 bytes (4.0 KiB) header block, within 10 bytes of what ingress-nginx accepts (4096 bytes (4.0 KiB))'],
  },
  {
    name: 'no false alarm: large headers the controller allows, every hop 200',
    route: base,
    hops: healthyRound(base, (r) => (r.hop === 'pod' ? { headerBytes: 3000 } : null)),
    want: { status: 'ok', hop: null, cause: 'ok' },
  },
  {
    name: 'no false alarm either at the very limit while the controller answers',
    route: base,
    hops: healthyRound(base, (r) => (r.hop === 'pod' ? { headerBytes: 4090 } : null)),
    want: { status: 'ok', hop: null, cause: 'ok' },
  },
  {
    name: 'headers within a buffer raised by annotation are not blamed for a 502',
    route: routeFixture({ annotations: { 'nginx.ingress.kubernetes.io/proxy-buffer-size': '16k' } }),
    hops: healthyRound(base, (r) => (r.hop === 'pod' ? { headerBytes: 6000 } : isFront(r) ? NGINX_502 : null)),
    want: { status: 'failing', hop: 'controller', cause: 'controller.error' },
  },
  {
    name: 'pods speak TLS where ingress-nginx speaks plain HTTP',
    route: base,
    hops: healthyRound(base, (r) => (r.hop === 'pod' || r.hop === 'service' ? TLS_POD : isFront(r) ? NGINX_502 : null)),
    diagnoses: everyPod({ protocol: 'tls' }),
    want: { status: 'failing', hop: 'pod', cause: 'pod.protocol-mismatch' },
    summary: ['speak TLS', 'plain HTTP/1.1 (ingress-nginx default)'],
    evidence: ['a request over TLS succeeds'],
  },
  {
    name: 'pods speak h2c where HAProxy speaks HTTP/1.1',
    route: haproxy,
    hops: healthyRound(haproxy, (r) => (r.hop === 'pod' || r.hop === 'service' ? H2C_POD : isFront(r) ? HAPROXY_502 : null)),
    diagnoses: everyPod({ protocol: 'h2c' }),
    want: { status: 'failing', hop: 'pod', cause: 'pod.protocol-mismatch' },
    summary: ['h2c'],
  },
  {
    name: 'the reverse: backend-protocol GRPC to pods that speak only HTTP/1.1',
    route: routeFixture({ annotations: { 'nginx.ingress.kubernetes.io/backend-protocol': 'GRPC' } }),
    hops: healthyRound(base, (r) => (isFront(r) ? NGINX_502 : null)),
    want: { status: 'failing', hop: 'pod', cause: 'pod.protocol-mismatch' },
    summary: ['only HTTP/1.1', 'annotation nginx.ingress.kubernetes.io/backend-protocol: GRPC'],
  },
  {
    name: 'the reverse: appProtocol https pods answer TLS, ingress-nginx speaks plain HTTP to them',
    route: routeFixture({ servicePort: { name: 'https', port: 443, targetPort: 'https', protocol: 'TCP', appProtocol: 'https' } }),
    hops: healthyRound(base, (r) => (r.hop === 'pod' || r.hop === 'service' ? { scheme: 'https' } : isFront(r) ? NGINX_502 : null)),
    want: { status: 'failing', hop: 'pod', cause: 'pod.protocol-mismatch' },
    evidence: ['ingress-nginx does not read appProtocol'],
  },
  {
    name: 'no false alarm: pods that speak TLS to a controller told to speak TLS, though hopwatch sent plain HTTP',
    route: routeFixture({ annotations: { 'haproxy.org/server-ssl': 'true' }, controller: controllerFacts({ kind: 'haproxy' }) }),
    hops: healthyRound(haproxy, (r) => (r.hop === 'pod' || r.hop === 'service' ? TLS_POD : null)),
    diagnoses: everyPod({ protocol: 'tls' }),
    want: { status: 'ok', hop: null, cause: 'ok' },
  },
  {
    name: 'pods answer after the controller\'s read timeout: 504 at the front, time to first byte at each hop',
    route: tuned,
    hops: healthyRound(tuned, (r) =>
      r.hop === 'pod' || r.hop === 'service'
        ? { timings: { connectMs: 0.2, ttfbMs: 3004, totalMs: 3005 } }
        : isFront(r)
          ? { status: 504, generator: 'nginx', timings: { connectMs: 0.2, ttfbMs: 2003, totalMs: 2004 } }
          : null,
    ),
    want: { status: 'failing', hop: 'pod', cause: 'pod.timeout' },
    summary: ['3004 ms', '2000 ms proxy-read-timeout'],
    evidence: ['first byte at 3004 ms', '504 from nginx in 2004 ms, first byte at 2003 ms', 'ingress-nginx proxy-read-timeout: 2000 ms (configured)'],
  },
  {
    name: 'one pod of three answers after the read timeout while the controller retries the others: degraded, not ok',
    route: tuned,
    hops: healthyRound(tuned, (r) =>
      r.pod === 'shop/web-1'
        ? { timings: { connectMs: 0.2, ttfbMs: 3028, totalMs: 3029 } }
        : isFront(r)
          ? { timings: { connectMs: 0.2, ttfbMs: 2015, totalMs: 2016 } }
          : null,
    ),
    want: { status: 'degraded', hop: 'pod', cause: 'pod.timeout' },
    summary: ['1 of 3 pods send their first byte after 3028 ms', '2000 ms proxy-read-timeout', 'get a 504 when they are not retried'],
    evidence: ['shop/web-1', 'first byte at 3028 ms', 'ingress-nginx proxy-read-timeout: 2000 ms (configured)'],
  },
  {
    name: 'every pod slower than the read timeout and the front still retrying when hopwatch gives up: no 504 claimed',
    route: tuned,
    hops: healthyRound(tuned, (r) =>
      r.hop === 'pod' || r.hop === 'service'
        ? { timings: { connectMs: 0.2, ttfbMs: 3004, totalMs: 3005 } }
        : isFront(r)
          ? { status: null, error: 'timeout', errorDetail: 'no response headers within 5000 ms', generator: null }
          : null,
    ),
    want: { status: 'failing', hop: 'pod', cause: 'pod.timeout' },
    summary: ['had not answered when hopwatch gave up'],
  },
  {
    name: 'no false alarm: pods slow but within the read timeout',
    route: tuned,
    hops: healthyRound(tuned, () => ({ timings: { connectMs: 0.2, ttfbMs: 1002, totalMs: 1003 } })),
    want: { status: 'ok', hop: null, cause: 'ok' },
  },
  {
    name: 'pods that send no headers within hopwatch\'s deadline either',
    route: base,
    hops: healthyRound(base, (r) => (r.hop === 'pod' || r.hop === 'service' || isFront(r) ? { status: null, error: 'timeout', errorDetail: 'no response headers within 5000 ms', generator: null } : null)),
    want: { status: 'failing', hop: 'pod', cause: 'pod.timeout' },
    evidence: ['proxy-read-timeout: 60000 ms (ingress-nginx default)'],
  },
  {
    name: 'pods close the connection before headers (FIN): reset, not refused',
    route: base,
    hops: healthyRound(base, (r) =>
      r.hop === 'pod' || r.hop === 'service' ? { status: null, error: 'reset', errorDetail: 'closed before headers (UND_ERR_SOCKET: other side closed)', generator: null } : isFront(r) ? NGINX_502 : null,
    ),
    want: { status: 'failing', hop: 'pod', cause: 'pod.reset' },
    evidence: ['accepted (not refused) and closed (FIN) before any response header'],
  },
  {
    name: 'pods reset the connection (RST) before headers',
    route: base,
    hops: healthyRound(base, (r) =>
      r.hop === 'pod' || r.hop === 'service' ? { status: null, error: 'reset', errorDetail: 'ECONNRESET before headers (read ECONNRESET)', generator: null } : isFront(r) ? NGINX_502 : null,
    ),
    want: { status: 'failing', hop: 'pod', cause: 'pod.reset' },
    evidence: ['reset (RST)'],
  },
  {
    name: 'pods cut the body short after the headers',
    route: base,
    hops: healthyRound(base, (r) => (r.hop === 'pod' || r.hop === 'service' ? { status: 200, error: 'reset', errorDetail: 'closed after headers (UND_ERR_SOCKET: other side closed)' } : isFront(r) ? NGINX_502 : null)),
    want: { status: 'failing', hop: 'pod', cause: 'pod.reset' },
    summary: ['in the middle of the response'],
  },
  {
    name: 'one pod of three resets and HAProxy, which does not retry, fails some requests: the pod, not a replica',
    route: haproxy,
    hops: healthyRound(haproxy, (r) =>
      r.pod === 'shop/web-2' ? { status: null, error: 'reset', errorDetail: 'closed before headers (other side closed)', generator: null } : r.pod === 'ingress-nginx/ctrl-b' || r.hop === 'edge' ? HAPROXY_502 : null,
    ),
    want: { status: 'degraded', hop: 'pod', cause: 'pod.reset' },
    evidence: ['shop/web-2'],
  },
  {
    name: 'pods close idle keep-alive connections before ingress-nginx stops reusing them: degraded before any 502',
    route: base,
    hops: healthyRound(base),
    diagnoses: everyPod({ idleTimeout: { kind: 'closed', afterMs: 5012 } }),
    want: { status: 'degraded', hop: 'pod', cause: 'pod.keepalive-race' },
    summary: ['after 5012 ms', '60000 ms', 'POST'],
    evidence: ['closes an idle keep-alive connection 5012 ms after its response', 'ingress-nginx upstream-keepalive-timeout: 60000 ms (ingress-nginx default)'],
  },
  {
    name: 'no false alarm: pods keep idle connections longer than the controller',
    route: tuned,
    hops: healthyRound(tuned),
    diagnoses: everyPod({ idleTimeout: { kind: 'open', atLeastMs: 2200 } }),
    want: { status: 'ok', hop: null, cause: 'ok' },
  },
  {
    name: 'no false alarm: a pod that closes after the controller\'s window, or never keeps connections',
    route: tuned,
    hops: healthyRound(tuned),
    diagnoses: [
      { target: '10.2.0.1:8080', pod: 'shop/web-1', idleTimeout: { kind: 'closed', afterMs: 2100 }, protocol: null },
      { target: '10.2.0.2:8080', pod: 'shop/web-2', idleTimeout: { kind: 'no-keepalive' }, protocol: null },
    ],
    want: { status: 'ok', hop: null, cause: 'ok' },
  },
  {
    name: 'a controller that never reuses upstream connections cannot race',
    route: routeFixture({ controller: controllerFacts({ settings: { upstreamKeepaliveTimeoutMs: 0 } }) }),
    hops: healthyRound(base),
    diagnoses: everyPod({ idleTimeout: { kind: 'closed', afterMs: 10 } }),
    want: { status: 'ok', hop: null, cause: 'ok' },
  },
  {
    name: 'a keep-alive race next to another failure goes into the evidence',
    route: base,
    hops: healthyRound(base, front502),
    diagnoses: everyPod({ idleTimeout: { kind: 'closed', afterMs: 900 } }),
    want: { status: 'failing', hop: 'controller', cause: 'controller.error' },
    evidence: ['also: 3 of 3 pods close idle keep-alive connections after 900 ms'],
  },
  {
    name: 'a Google front end answering its own 502 while the controllers answer: edge.error, fingerprint named',
    route: base,
    hops: healthyRound(base, (r) => (r.hop === 'edge' ? { status: 502, generator: 'gcp-lb', headers: { server: 'Google Frontend' } } : null)),
    want: { status: 'failing', hop: 'edge', cause: 'edge.error' },
    summary: ['its own gcp-lb error page'],
  },
  {
    name: "an upstream's own 503 passed through the controller is the app's error, not a gateway error",
    route: base,
    hops: healthyRound(base, (r) => (isFront(r) ? { status: 503, generator: 'upstream', headers: { 'content-type': 'application/json' } } : null)),
    want: { status: 'failing', hop: 'pod', cause: 'pod.app-error' },
    summary: ['passed through'],
  },
  {
    name: 'rollout: the old pods are terminating and refuse while the EndpointSlice still lists them ready (nginx retried: degraded)',
    route: rolloutRoute({ terminating: true }, true),
    hops: healthyRound(rolloutRoute({ terminating: true }, true), oldRefuses),
    want: { status: 'degraded', hop: 'pod', cause: 'rollout.drain' },
    summary: ['replacing web-old with web-new', 'shop/web-1'],
    evidence: ['rollout: ReplicaSet web-old (2 pods going away) -> web-new (2 pods answering)', 'no preStop delay', 'window: seen at 2026-01-01T00:00:00.000Z'],
    diagnoses: [],
  },
  {
    name: 'rollout on HAProxy, which retries the same dead server: a 503 burst',
    route: routeFixture({ ...rolloutRoute({ terminating: true }, true), controller: controllerFacts({ kind: 'haproxy' }) }),
    hops: healthyRound(rolloutRoute(), (r) => oldRefuses(r) ?? (r.pod === 'ingress-nginx/ctrl-a' || r.hop === 'edge' ? { status: 503, generator: 'haproxy' } : null)),
    want: { status: 'degraded', hop: 'pod', cause: 'rollout.drain' },
  },
  {
    name: 'no false alarm: a canary whose new pods refuse is a broken version, not a drain',
    route: rolloutRoute(),
    hops: healthyRound(rolloutRoute(), oldRefuses),
    want: { status: 'degraded', hop: 'pod', cause: 'pod.refused' },
  },
  {
    name: 'rollout: terminating endpoints still get traffic from the controller and refuse: 502s while the live pods answer',
    route: rolloutRoute({ terminating: true, ready: false }),
    hops: healthyRound(rolloutRoute({ terminating: true, ready: false }), (r) => oldRefuses(r) ?? (r.pod === 'ingress-nginx/ctrl-b' || r.hop === 'edge' ? NGINX_502 : null)),
    want: { status: 'failing', hop: 'pod', cause: 'rollout.drain' },
    evidence: ['terminating and already refuse while the controller still sends them requests'],
  },
  {
    name: 'no false alarm: a new revision that crash-loops is a broken version, not a drain',
    route: rolloutRoute({ restarts: 4, stateReason: 'Error' }),
    hops: healthyRound(rolloutRoute({ restarts: 4, stateReason: 'Error' }), oldRefuses),
    want: { status: 'degraded', hop: 'pod', cause: 'pod.crashloop' },
  },
  // ---- measured outranks declared (src/classify/measured.ts)
  {
    name: 'a read timeout nobody declared: nginx 504s after ~3 s on both replicas (config says 60 s), pods answer after 4.1 s: pod.timeout',
    route: base,
    hops: healthyRound(base, (r) =>
      r.hop === 'pod' || r.hop === 'service'
        ? { timings: { connectMs: 0.2, ttfbMs: 4100, totalMs: 4101 } }
        : r.hop === 'controller'
          ? { status: 504, generator: 'nginx', timings: { connectMs: 0.2, ttfbMs: r.pod === 'ingress-nginx/ctrl-a' ? 3020 : 3010, totalMs: 3022 } }
          : r.hop === 'edge'
            ? { status: 504, generator: 'nginx', timings: { connectMs: 0.2, ttfbMs: 3030, totalMs: 3031 } }
            : null,
    ),
    want: { status: 'failing', hop: 'pod', cause: 'pod.timeout' },
    summary: ['effective read timeout (≈ 3 s'],
    evidence: ['504 from nginx after 3.02 s on both replicas: effective read timeout ≈ 3 s; pods answer after 4.10 s', 'declared: ingress-nginx proxy-read-timeout: 60000 ms (ingress-nginx default)'],
  },
  {
    name: 'the 504 came after two pods were tried in turn (ingress-nginx retries a timeout): the timeout is half the time to the 504',
    route: base,
    hops: healthyRound(base, (r) =>
      r.hop === 'pod' || r.hop === 'service'
        ? { timings: { ttfbMs: 2500, totalMs: 2501 } }
        : isFront(r)
          ? { status: 504, generator: 'nginx', timings: { ttfbMs: 3000, totalMs: 3001 } }
          : null,
    ),
    want: { status: 'failing', hop: 'pod', cause: 'pod.timeout' },
    evidence: ['after trying 2 pods in turn', 'effective read timeout ≈ 1.5 s'],
  },
  {
    name: 'a proxy of unknown kind (generic) 504s after 1.5 s: its read timeout is measured, pods answering after 2.2 s are the cause',
    route: routeFixture({ controller: controllerFacts({ kind: 'generic' }) }),
    hops: healthyRound(routeFixture({ controller: controllerFacts({ kind: 'generic' }) }), (r) =>
      r.hop === 'pod' || r.hop === 'service'
        ? { timings: { ttfbMs: 2200, totalMs: 2201 } }
        : isFront(r)
          ? { status: 504, generator: 'envoy', timings: { ttfbMs: 1504, totalMs: 1505 } }
          : null,
    ),
    want: { status: 'failing', hop: 'pod', cause: 'pod.timeout' },
    evidence: ['504 from envoy after 1.50 s on both replicas: effective read timeout ≈ 1.5 s; pods answer after 2.20 s', 'read timeout: none (the ingress controller default)'],
  },
  {
    name: 'no false blame: the controller 504s after 3 s but the pods answer in 5 ms: not the pods\' timing',
    route: base,
    hops: healthyRound(base, (r) => (isFront(r) ? { status: 504, generator: 'nginx', timings: { ttfbMs: 3000, totalMs: 3001 } } : null)),
    want: { status: 'failing', hop: 'controller', cause: 'controller.error' },
  },
  {
    name: 'a proxy of unknown kind answers its own 502 while every pod answers 200 with a 12 KiB header block: the block overflows its buffer',
    route: routeFixture({ controller: controllerFacts({ kind: 'generic' }) }),
    hops: healthyRound(routeFixture({ controller: controllerFacts({ kind: 'generic' }) }), (r) => (r.hop === 'pod' || r.hop === 'service' ? { headerBytes: 12_300 } : isFront(r) ? HAPROXY_502 : null)),
    want: { status: 'failing', hop: 'pod', cause: 'pod.headers-too-large' },
    evidence: ['502 from haproxy on both replicas while every pod answers 200 with a 12300 bytes (12.0 KiB)+ header block: effective header buffer < 12300 bytes (12.0 KiB) (its header buffer is not known)'],
  },
  {
    name: 'no false blame: small headers behind a generic proxy\'s 502 are not an overflow',
    route: routeFixture({ controller: controllerFacts({ kind: 'generic' }) }),
    hops: healthyRound(routeFixture({ controller: controllerFacts({ kind: 'generic' }) }), (r) => (isFront(r) ? HAPROXY_502 : null)),
    want: { status: 'failing', hop: 'controller', cause: 'controller.error' },
  },
  // ---- the status is the share measured, not where the one edge request landed (src/classify/share.ts)
  {
    name: 'one pod of three answers 500 and the edge request hit it: degraded, as when it did not',
    route: base,
    hops: healthyRound(base, (r) => (r.pod === 'shop/web-2' ? { status: 500, generator: null } : r.hop === 'edge' ? { status: 500, generator: 'upstream' } : null)),
    want: { status: 'degraded', hop: 'pod', cause: 'pod.app-error' },
    summary: ['1 of 3 pods answer 500'],
  },
  {
    name: 'one pod of three answers 500 and the edge request missed it: degraded',
    route: base,
    hops: healthyRound(base, (r) => (r.pod === 'shop/web-2' ? { status: 500, generator: null } : null)),
    want: { status: 'degraded', hop: 'pod', cause: 'pod.app-error' },
    summary: ['1 of 3 pods answer 500'],
  },
  {
    name: 'every pod answers 500: failing',
    route: base,
    hops: healthyRound(base, (r) => (r.hop === 'pod' || r.hop === 'service' ? { status: 500, generator: null } : isFront(r) ? { status: 500, generator: 'upstream' } : null)),
    want: { status: 'failing', hop: 'pod', cause: 'pod.app-error' },
  },
  // ---- health checks (src/classify/readiness.ts)
  {
    name: 'a Ready pod without a readinessProbe answers 500: Kubernetes keeps sending it traffic',
    route: base,
    hops: healthyRound(base, (r) => (r.pod === 'shop/web-2' ? { status: 500, generator: null } : null)),
    want: { status: 'degraded', hop: 'pod', cause: 'pod.app-error' },
    evidence: ["pod shop/web-2 answers 500 on / while Ready: it has no readinessProbe, so it stays in the Service's endpoints and Kubernetes keeps sending it traffic"],
  },
  {
    name: 'Ready pods whose readinessProbe checks another path refuse on the probed one: the probe is named',
    route: routeFixture({ pods: ['web-1', 'web-2', 'web-3'].map((n, i) => podFacts(n, `10.2.0.${i + 1}`, { readinessProbe: 'http-get :http/healthz' })) }),
    hops: healthyRound(base, (r) => (r.hop === 'pod' || r.hop === 'service' ? REFUSED : front502(r))),
    want: { status: 'failing', hop: 'pod', cause: 'pod.refused' },
    evidence: ["pod shop/web-1 refuses connections on / while Ready: it has readinessProbe http-get :http/healthz, but it checks /healthz, not the failing /, so it stays in the Service's endpoints"],
  },
  {
    name: 'Ready pods whose readinessProbe is a TCP connect answer 503: it checks only the port',
    route: routeFixture({ pods: ['web-1', 'web-2', 'web-3'].map((n, i) => podFacts(n, `10.2.0.${i + 1}`, { readinessProbe: 'tcp :8080' })) }),
    hops: healthyRound(base, (r) => (r.hop === 'pod' || r.hop === 'service' ? { status: 503, generator: null } : isFront(r) ? { status: 503, generator: 'upstream' } : null)),
    want: { status: 'failing', hop: 'pod', cause: 'pod.app-error' },
    evidence: ['it has readinessProbe tcp :8080, but it checks only that the port accepts a connection'],
  },
  (() => {
    const pods = ['web-1', 'web-2'].map((n, i) => podFacts(n, `10.2.0.${i + 1}`, { ready: false, readinessProbe: 'http-get :http/healthz' }));
    const route = routeFixture({ pods, endpoints: pods.map((p) => endpointFacts(p)) });
    return {
      name: 'not-ready pods that answer 503 on the probed path: reported with what they answer, not only as never ready',
      route,
      hops: healthyRound(route, (r) => (r.hop === 'pod' ? { status: 503, generator: null } : isFront(r) ? NGINX_503 : r.hop === 'service' ? { status: null, error: 'refused' as const } : null)),
      want: { status: 'failing', hop: 'pod', cause: 'pod.crashloop' } as Row['want'],
      summary: ['2 of 2 pods never become ready; they answer 503 on /'],
      evidence: ['not ready, out of the endpoints: pod shop/web-1 (10.2.0.1:8080, not ready): 503'],
    };
  })(),
  // ---- two Ingresses claim the same host and path (src/classify/conflict.ts)
  {
    name: 'the losing Ingress of a host and path is config.route-conflict naming the winner, even when the winner\'s backend fails',
    route: routeFixture({ ingress: 'web-v2', conflict: { winner: 'shop/web', rule: 'ingress-nginx serves the oldest Ingress (creationTimestamp)', because: 'created 2026-01-01T00:00:00.000Z, before this one (2026-02-01T00:00:00.000Z)' } }),
    hops: healthyRound(base, front503),
    want: { status: 'failing', hop: 'config', cause: 'config.route-conflict' },
    summary: ['which Ingress shop/web also claims and wins'],
    evidence: ['shop/web wins shop.example.test/: created 2026-01-01', 'ingress-nginx serves the oldest Ingress'],
  },
  {
    name: 'a losing Ingress whose winner answers 200: degraded (its own backend gets no traffic)',
    route: routeFixture({ ingress: 'web-v2', conflict: { winner: 'shop/web', rule: 'r', because: 'b' } }),
    hops: healthyRound(base),
    want: { status: 'degraded', hop: 'config', cause: 'config.route-conflict' },
  },
  {
    name: 'regex path without probe-path cannot be probed',
    route: routeFixture({ notProbeable: 'regex path /api/(.*) needs the hopwatch.io/probe-path annotation' }),
    hops: [],
    want: { status: 'unknown', hop: null, cause: 'route.not-probeable' },
  },
];

describe('classify', () => {
  it.each(rows)('$name', ({ route, hops, want, evidence, summary, diagnoses }) => {
    const verdict = classify(route, hops, diagnoses === undefined ? {} : { diagnoses, at: Date.UTC(2026, 0, 1) });
    expect({ status: verdict.status, hop: verdict.hop, cause: verdict.cause }).toEqual(want);
    expect(verdict.summary.length).toBeGreaterThan(0);
    for (const needle of summary ?? []) expect(verdict.summary).toContain(needle);
    for (const needle of evidence ?? []) {
      expect(verdict.evidence.some((line) => line.includes(needle)), `evidence has "${needle}": ${verdict.evidence.join(' | ')}`).toBe(true);
    }
  });

  it('says what the front answered when pods reset, and claims no 502 when the front retried and answered', () => {
    const reset: Partial<HopResult> = { status: null, error: 'reset', errorDetail: 'closed before headers (other side closed)', generator: null };
    const retried = classify(base, healthyRound(base, (r) => (r.pod === 'shop/web-2' ? reset : null)));
    expect([retried.status, retried.cause]).toEqual(['degraded', 'pod.reset']);
    expect(retried.evidence.filter((line) => line.includes('answers 5'))).toEqual([]);
    const gaveUp = classify(base, healthyRound(base, (r) => (r.hop === 'pod' || r.hop === 'service' ? reset : isFront(r) ? { status: 504, generator: 'nginx' } : null)));
    expect([gaveUp.status, gaveUp.cause]).toEqual(['failing', 'pod.reset']);
    expect(gaveUp.evidence.some((line) => line.includes('closed (FIN) before any response header: ingress-nginx answers 504'))).toBe(true);
  });

  it('names the failing hop from the evidence, not from addresses or names', () => {
    // The same failure pattern with other names, addresses and ports gives the same verdict.
    const other = routeFixture({
      namespace: 'payments',
      ingress: 'api',
      host: 'pay.internal',
      controller: controllerFacts({ kind: 'ingress-nginx', edge: 'http://203.0.113.5:8081', httpPort: 8081 }),
    });
    const verdict = classify(other, healthyRound(other, (r) => (r.hop === 'pod' || r.hop === 'service' ? REFUSED : front502(r))));
    expect([verdict.status, verdict.hop, verdict.cause]).toEqual(['failing', 'pod', 'pod.refused']);
  });
});
