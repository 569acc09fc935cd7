// The Gateway API end to end: `hopwatch probe` (the real binary, client-node over HTTP, real nginx as
// the lab Gateway's data plane) on HTTPRoutes, each row asserting status, hop, cause and evidence.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../lab/lab.js';
import type { HttpRouteSpec, LabSpec } from '../lab/spec.js';
import { runHopwatch, writeLabConfig } from './cli.js';

interface RouteJson {
  id: string;
  kind: string;
  namespace: string;
  name: string;
  ingress: string;
  host: string | null;
  path: string;
  parent: { kind: string; namespace: string | null; name: string; sectionName: string | null; port: number | null } | null;
  backends: { key: string; service: string; weight: number; share: number }[];
  verdict: { status: string; hop: string | null; cause: string; summary: string; evidence: string[] };
  hops: { hop: string; target: string; pod: string | null; status: number | null; error: string | null }[];
}

const parentRefs = [{ name: 'gw', namespace: 'infra' }];
const http = (name: string, spec: Partial<HttpRouteSpec['spec']> & { backend?: string; ns?: string }): HttpRouteSpec => ({
  namespace: 'shop',
  name,
  spec: {
    parentRefs,
    hostnames: [`${name}.gw.test`],
    rules: [{ backendRefs: [{ name: spec.backend ?? name, ...(spec.ns ? { namespace: spec.ns } : {}), port: 8000 }] }],
    ...spec,
  },
});
const app = (name: string, extra: Partial<NonNullable<LabSpec['apps']>[number]> = {}, namespace = 'shop') => ({ namespace, name, replicas: 2, ...extra });
const svc = (name: string, namespace = 'shop') => ({ namespace, name, ports: [{ name: 'http', port: 8000, targetPort: 'http' }] });

const scenario: LabSpec = {
  apps: [
    app('web'),
    app('refuse', { fault: { mode: 'refuse' } }),
    app('stable', { replicas: 2 }),
    app('canary', { replicas: 1, fault: { mode: 'refuse' } }),
    app('slow', { replicas: 1, fault: { mode: 'slow', delayMs: 2500 } }),
    app('stock', {}, 'store'),
    app('stock', {}, 'store2'),
    app('legacy'),
  ],
  services: [svc('web'), svc('refuse'), svc('stable'), svc('canary'), svc('slow'), svc('stock', 'store'), svc('stock', 'store2'), svc('legacy')],
  ingresses: [{ namespace: 'shop', name: 'legacy', rules: [{ host: 'legacy.e2e.test', paths: [{ service: 'legacy', port: 'http' }] }] }],
  gatewayApi: {
    gateways: [{ namespace: 'infra', name: 'gw', listeners: [{ name: 'http', port: 18090, protocol: 'HTTP', hostname: '*.gw.test', allowedRoutes: { namespaces: { from: 'All' } } }] }],
    httpRoutes: [
      http('web', {}),
      http('refuse', {}),
      http('missing', { backend: 'nope' }),
      http('cross', { backend: 'stock', ns: 'store' }),
      http('crossok', { backend: 'stock', ns: 'store2' }),
      http('elsewhere', { backend: 'web', hostnames: ['web.other.test'] }),
      http('split', { rules: [{ backendRefs: [{ name: 'stable', port: 8000, weight: 80 }, { name: 'canary', port: 8000, weight: 20 }] }] }),
      http('slow', { rules: [{ timeouts: { request: '1s' }, backendRefs: [{ name: 'slow', port: 8000 }] }] }),
      http('matched', {
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'x-env', value: 'blue' }] }], backendRefs: [{ name: 'web', port: 8000 }] }],
      }),
    ],
    referenceGrants: [
      { namespace: 'store2', name: 'shop', spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'shop' }], to: [{ group: '', kind: 'Service' }] } },
    ],
  },
};

let lab: Lab;
let configPath: string;

async function probe(...args: string[]): Promise<{ code: number | null; routes: RouteJson[]; stderr: string }> {
  const result = await runHopwatch(['probe', '--config', configPath, '-o', 'json', ...args]);
  const report = JSON.parse(result.stdout || '{"routes":[]}') as { routes: RouteJson[] };
  return { code: result.code, routes: report.routes, stderr: result.stderr };
}

function routeOf(routes: RouteJson[], kind: string, name: string): RouteJson {
  const route = routes.find((r) => r.kind === kind && r.name === name);
  if (!route) throw new Error(`no ${kind} ${name} in ${routes.map((r) => `${r.kind}/${r.name}`).join(', ')}`);
  return route;
}

beforeAll(async () => {
  lab = await startLab(scenario);
  configPath = await writeLabConfig(lab);
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

describe('hopwatch probe on the lab Gateway', () => {
  let all: Awaited<ReturnType<typeof probe>>;

  beforeAll(async () => {
    all = await probe();
  }, 90_000);

  it('finds the HTTPRoutes beside the Ingress, with kind, name and the Gateway listener as parent', () => {
    const web = routeOf(all.routes, 'HTTPRoute', 'web');
    expect(web).toMatchObject({ kind: 'HTTPRoute', namespace: 'shop', name: 'web', host: 'web.gw.test', path: '/', parent: { kind: 'Gateway', namespace: 'infra', name: 'gw', sectionName: 'http', port: 18090 } });
    expect(new Set(web.hops.map((h) => h.hop))).toEqual(new Set(['dns', 'edge', 'controller', 'service', 'pod']));
    // Edge is the Gateway's status address; the controller hops are its two data-plane pods (GEP-1762 label).
    expect(web.hops.find((h) => h.hop === 'edge')?.target).toBe(`${lab.gateway?.plane('infra', 'gw').address}:18090`);
    expect(web.hops.filter((h) => h.hop === 'controller').map((h) => h.pod)).toEqual(lab.gateway?.plane('infra', 'gw').replicas.map((r) => `infra/${r.name}`));
    expect(routeOf(all.routes, 'Ingress', 'legacy').verdict.cause).toBe('ok');
  });

  it.each([
    ['web', 200, 'ok', null, 'ok', []],
    ['refuse', 502, 'failing', 'pod', 'pod.refused', ['shop/refuse-']],
    ['missing', 500, 'failing', 'config', 'config.service-missing', ['BackendNotFound', 'shop/nope']],
    ['cross', 500, 'failing', 'config', 'config.ref-not-permitted', ['RefNotPermitted', 'store/stock']],
    ['crossok', 200, 'ok', null, 'ok', []],
    ['elsewhere', 404, 'failing', 'config', 'config.route-not-accepted', ['NoMatchingListenerHostname']],
    ['slow', 504, 'failing', 'pod', 'pod.timeout', ['timeouts.request: 1s']],
    ['matched', 200, 'ok', null, 'ok', []],
  ])('HTTPRoute %s: the Gateway answers %s; %s at %s: %s', (name, edge, status, hop, cause, evidence) => {
    const route = routeOf(all.routes, 'HTTPRoute', name as string);
    expect(route.hops.find((h) => h.hop === 'edge')?.status).toBe(edge);
    expect(route.verdict).toMatchObject({ status, hop, cause });
    const text = [route.verdict.summary, ...route.verdict.evidence].join('\n');
    for (const needle of evidence as string[]) expect(text).toContain(needle);
  });

  it('weights 80/20 with the 20 % backend refusing: degraded at pod, pod.refused, the share and the pods named', () => {
    const split = routeOf(all.routes, 'HTTPRoute', 'split');
    expect(split.backends.map((b) => [b.service, b.weight, b.share])).toEqual([['stable', 80, 0.8], ['canary', 20, 0.2]]);
    expect(split.verdict).toMatchObject({ status: 'degraded', hop: 'pod', cause: 'pod.refused' });
    expect(split.verdict.summary).toContain('canary, 20 % by weight: 1 of 1 pods refuse');
    const canaryPods = split.hops.filter((h) => h.hop === 'pod' && h.pod?.startsWith('shop/canary-')).map((h) => h.pod);
    expect(canaryPods).toHaveLength(1);
    expect(split.verdict.evidence.join('\n')).toContain(canaryPods[0] ?? '?');
    expect(split.hops.filter((h) => h.hop === 'pod' && h.pod?.startsWith('shop/stable-'))).toHaveLength(2);
  });

  it('sends the header a match requires (the edge answers 200, not the 404 of an unmatched request)', () => {
    const matched = routeOf(all.routes, 'HTTPRoute', 'matched');
    expect(matched.path).toBe('/api');
    expect(matched.hops.find((h) => h.hop === 'edge')?.status).toBe(200);
  });

  it('selects one HTTPRoute kubectl style, and keeps --ingress for Ingresses', async () => {
    const one = await probe('httproute/web', '-n', 'shop');
    expect(one.code).toBe(0);
    expect(one.routes.map((r) => `${r.kind}/${r.name}`)).toEqual(['HTTPRoute/web']);
    const legacy = await probe('ingress/legacy', '-n', 'shop');
    expect(legacy.routes.map((r) => `${r.kind}/${r.name}`)).toEqual(['Ingress/legacy']);
    const flag = await probe('--ingress', 'shop/web');
    expect(flag.code).toBe(2);
    const bad = await runHopwatch(['probe', '--config', configPath, 'gateway/gw']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected KIND/NAME with KIND ingress or httproute');
  });
});

describe('hopwatch verify on an HTTPRoute', () => {
  interface VerifyJson { ok: boolean; kind: string; ingress: string; failingHop: string | null; cause: string | null; failures: { group: string; pods: string[] }[]; routes: { host: string }[] }
  async function verify(...args: string[]): Promise<{ code: number | null; report: VerifyJson | null; stderr: string }> {
    const result = await runHopwatch(['verify', '--config', configPath, '-o', 'json', '--duration', '2s', '--interval', '500ms', ...args]);
    return { code: result.code, report: result.stdout.trim() === '' ? null : (JSON.parse(result.stdout) as VerifyJson), stderr: result.stderr };
  }

  it('the 20 % backendRef as the canary: its pods refuse, verify fails at hop pod naming them (kubectl style and --httproute)', async () => {
    for (const args of [['httproute/split', '-n', 'shop'], ['--httproute', 'shop/split']]) {
      const run = await verify(...args, '--canary', 'app=canary');
      expect(run.code, run.stderr).toBe(1);
      expect(run.report).toMatchObject({ ok: false, kind: 'HTTPRoute', ingress: 'shop/split', failingHop: 'pod', cause: 'pod.refused' });
      expect(run.report?.routes.map((r) => r.host)).toEqual(['split.gw.test']);
      const pods = run.report?.failures[0]?.pods ?? [];
      expect(pods.length).toBeGreaterThan(0);
      expect(pods.every((p) => p.startsWith('shop/canary-'))).toBe(true);
    }
  }, 90_000);

  it('a healthy HTTPRoute passes; a missing one, or one named as an Ingress, cannot be verified (exit 2)', async () => {
    const web = await verify('httproute/web', '-n', 'shop', '--canary', 'app=web');
    expect(web.code, web.stderr).toBe(0);
    expect(web.report).toMatchObject({ ok: true, kind: 'HTTPRoute', ingress: 'shop/web' });
    const missing = await verify('--httproute', 'shop/nothing');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('HTTPRoute shop/nothing does not exist');
    const asIngress = await verify('--ingress', 'shop/split');
    expect(asIngress.code).toBe(2);
    expect(asIngress.stderr).toContain('Ingress shop/split does not exist');
    const noNamespace = await verify('httproute/web');
    expect(noNamespace.code).toBe(2);
    expect(noNamespace.stderr).toContain('httproute/web: give its namespace with -n');
  }, 90_000);
});

describe('hopwatch probe with the lab Gateway staged', () => {
  it('one data-plane replica with a stale config: controller.replica-divergence', async () => {
    await lab.gateway?.setReplicaFault('infra', 'gw', 1, 'stale');
    try {
      await lab.addHttpRoute(http('late', { backend: 'web' }));
      const result = await probe('httproute/late', '-n', 'shop');
      const late = routeOf(result.routes, 'HTTPRoute', 'late');
      expect(late.verdict).toMatchObject({ hop: 'controller', cause: 'controller.replica-divergence' });
      expect(late.verdict.evidence.join('\n')).toContain(lab.gateway?.plane('infra', 'gw').replicas[1]?.name ?? '?');
    } finally {
      await lab.gateway?.setReplicaFault('infra', 'gw', 1, 'healthy');
    }
  });

  it('a Gateway not programmed: config.gateway-not-programmed', async () => {
    await lab.gateway?.setProgrammed('infra', 'gw', false);
    try {
      const result = await probe('httproute/web', '-n', 'shop');
      const web = routeOf(result.routes, 'HTTPRoute', 'web');
      expect(web.verdict).toMatchObject({ status: 'failing', hop: 'config', cause: 'config.gateway-not-programmed' });
      expect(web.verdict.evidence.join('\n')).toContain('AddressNotAssigned');
    } finally {
      await lab.gateway?.setProgrammed('infra', 'gw', true);
    }
  });
});
