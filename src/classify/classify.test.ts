import { describe, expect, it } from 'vitest';
import type { HopResult, Route, Verdict } from '../model.js';
import {
  controllerFacts,
  endpointFacts,
  healthyRound,
  NGINX_502,
  NGINX_503,
  podFacts,
  REFUSED,
  result,
  routeFixture,
} from '../../test/fixtures.js';
import { classify } from './classify.js';

interface Row {
  name: string;
  route: Route;
  hops: HopResult[];
  want: Pick<Verdict, 'status' | 'hop' | 'cause'>;
  /** Substrings that must appear in some evidence line. */
  evidence?: string[];
}

const base = routeFixture();
const front502 = (r: HopResult): Partial<HopResult> | null => (r.hop === 'edge' || r.hop === 'controller' ? NGINX_502 : null);
const front503 = (r: HopResult): Partial<HopResult> | null => (r.hop === 'edge' || r.hop === 'controller' ? NGINX_503 : null);

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
    want: { status: 'failing', hop: 'controller', cause: 'controller.replica-divergence' },
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
    name: 'unreachable pod IPs (laptop) are unknown, not failures',
    route: base,
    hops: healthyRound(base, (r) => (r.hop === 'pod' || r.hop === 'controller' || r.hop === 'service' ? { status: null, error: 'unreachable' } : null)),
    want: { status: 'ok', hop: null, cause: 'ok' },
  },
  {
    name: 'a not-ready pod that refuses is reported apart and does not degrade the route',
    route: routeFixture({ endpoints: [...base.endpoints, endpointFacts(podFacts('web-4', '10.2.0.4', { ready: false }))] }),
    hops: [
      ...healthyRound(base),
      result('pod', '10.2.0.4:8080', { ...REFUSED, pod: 'shop/web-4', ready: false }),
    ],
    want: { status: 'ok', hop: null, cause: 'ok' },
  },
  {
    name: 'regex path without probe-path cannot be probed',
    route: routeFixture({ notProbeable: 'regex path /api/(.*) needs the hopwatch.io/probe-path annotation' }),
    hops: [],
    want: { status: 'unknown', hop: null, cause: 'route.not-probeable' },
  },
];

describe('classify', () => {
  it.each(rows)('$name', ({ route, hops, want, evidence }) => {
    const verdict = classify(route, hops);
    expect({ status: verdict.status, hop: verdict.hop, cause: verdict.cause }).toEqual(want);
    expect(verdict.summary.length).toBeGreaterThan(0);
    for (const needle of evidence ?? []) {
      expect(verdict.evidence.some((line) => line.includes(needle)), `evidence has "${needle}": ${verdict.evidence.join(' | ')}`).toBe(true);
    }
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
