// Weighted backends end to end: ingress-nginx canary Ingresses in the lab's real nginx, probed by the
// real binary. A canary is a backend of the main route (never a route of its own), every backend is
// probed, and the failing one is named with its share, the same every round.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../lab/lab.js';
import type { LabSpec, PodFault } from '../lab/spec.js';
import { merge } from '../lab/scenarios.js';
import { runHopwatch, writeLabConfig } from './cli.js';

/** A main Ingress on web and a canary Ingress on web-v2 (faulty or not) in one namespace. */
function split(namespace: string, host: string, canary: Record<string, string>, v2: PodFault | null): LabSpec {
  const service = (name: string) => ({ namespace, name, ports: [{ name: 'http', port: 8000, targetPort: 'http' }] });
  const rule = (svc: string) => [{ host, paths: [{ path: '/', service: svc, port: 'http' }] }];
  return {
    apps: [{ namespace, name: 'web', replicas: 2 }, ...(v2 === null ? [] : [{ namespace, name: 'web-v2', replicas: 2, fault: v2 }])],
    services: [service('web'), ...(v2 === null ? [] : [service('web-v2')])],
    ingresses: [
      { namespace, name: 'web', rules: rule('web') },
      { namespace, name: 'web-canary', annotations: { 'nginx.ingress.kubernetes.io/canary': 'true', ...canary }, rules: rule('web-v2') },
    ],
  };
}

const WEIGHT_25 = { 'nginx.ingress.kubernetes.io/canary-weight': '25' };
const scenario = merge(
  split('weighted', 'weighted.e2e.test', WEIGHT_25, { mode: 'refuse' }),
  split('header', 'header.e2e.test', { 'nginx.ingress.kubernetes.io/canary-by-header': 'X-Canary' }, { mode: 'status', status: 500 }),
  split('missing', 'missing.e2e.test', WEIGHT_25, null),
  split('healthy', 'healthy.e2e.test', { 'nginx.ingress.kubernetes.io/canary-weight': '50' }, { mode: 'healthy' }),
);

interface HopJson { hop: string; pod: string | null; status: number | null; error: string | null; backend: string | null }
interface RouteJson {
  id: string; kind: string; namespace: string; name: string; ingress?: string;
  backends: { key: string; service: string; weight: number; share: number; role: string; source: { name: string }; hops: HopJson[] }[];
  verdict: { status: string; hop: string | null; cause: string; summary: string; evidence: string[] };
  hops: HopJson[];
}

let lab: Lab;
let configPath: string;

async function probe(...args: string[]): Promise<RouteJson[]> {
  const result = await runHopwatch(['probe', '--config', configPath, '-o', 'json', ...args]);
  return (JSON.parse(result.stdout || '{"routes":[]}') as { routes: RouteJson[] }).routes;
}

function only(routes: RouteJson[], namespace: string): RouteJson {
  const found = routes.filter((r) => r.namespace === namespace);
  expect(found.map((r) => r.name)).toEqual(['web']);
  return found[0]!;
}

beforeAll(async () => {
  lab = await startLab(scenario);
  configPath = await writeLabConfig(lab);
}, 90_000);

afterAll(async () => {
  await lab?.stop();
});

describe('hopwatch probe with canary Ingresses', () => {
  it('a weight-25 canary whose pods refuse: degraded at pod, pod.refused, its pods named, the same 5 rounds in a row', async () => {
    const rounds: RouteJson[] = [];
    for (let i = 0; i < 5; i++) rounds.push(only(await probe('-n', 'weighted'), 'weighted'));
    for (const route of rounds) {
      expect(route.verdict).toMatchObject({ status: 'degraded', hop: 'pod', cause: 'pod.refused' });
      expect(route.verdict.summary).toContain('web-v2, 25 % by weight: 2 of 2 pods refuse');
    }
    const route = rounds[0]!;
    const canaryPods = route.hops.filter((h) => h.hop === 'pod' && h.backend === 'weighted/web-v2:http').map((h) => h.pod);
    expect(canaryPods).toHaveLength(2);
    for (const pod of canaryPods) expect(route.verdict.evidence.join('\n')).toContain(pod ?? '?');
    expect(route).toMatchObject({ kind: 'Ingress', name: 'web', ingress: 'web' });
    expect(route.backends.map((b) => [b.service, b.weight, b.share, b.role, b.source.name])).toEqual([
      ['web', 75, 0.75, 'primary', 'web'],
      ['web-v2', 25, 0.25, 'canary', 'web-canary'],
    ]);
    expect(route.backends[1]?.hops.filter((h) => h.hop === 'pod').every((h) => h.error === 'refused')).toBe(true);
  }, 120_000);

  it('a header canary with failing pods: found through the front with the header', async () => {
    const route = only(await probe('-n', 'header'), 'header');
    const selected = route.hops.filter((h) => (h.hop === 'edge' || h.hop === 'controller') && h.backend === 'header/web-v2:http');
    expect(selected.length).toBeGreaterThanOrEqual(2);
    for (const hop of selected) expect(hop.status).toBe(500);
    const plain = route.hops.filter((h) => (h.hop === 'edge' || h.hop === 'controller') && h.backend === null);
    for (const hop of plain) expect(hop.status).toBe(200);
    expect(route.verdict).toMatchObject({ status: 'degraded', hop: 'pod', cause: 'pod.app-error' });
    expect(route.verdict.summary).toContain('web-v2, by header X-Canary: always');
  }, 60_000);

  it('a canary whose Service is missing: config.service-missing naming the canary', async () => {
    const route = only(await probe('-n', 'missing'), 'missing');
    expect(route.verdict).toMatchObject({ status: 'degraded', hop: 'config', cause: 'config.service-missing' });
    expect(route.verdict.summary).toContain('missing/web-v2');
  }, 60_000);

  it('both healthy: ok, one route, no separate or conflicting route for the canary', async () => {
    const routes = await probe('-n', 'healthy');
    const route = only(routes, 'healthy');
    expect(route.verdict).toMatchObject({ status: 'ok', cause: 'ok' });
    expect(route.backends.map((b) => [b.service, b.share])).toEqual([['web', 0.5], ['web-v2', 0.5]]);
    expect(route.hops.filter((h) => h.hop === 'pod')).toHaveLength(4);
  }, 60_000);

  it('verify with a weighted canary backend: chosen automatically, passes a healthy one', async () => {
    const result = await runHopwatch(['verify', '--config', configPath, '-o', 'json', '--ingress', 'healthy/web', '--duration', '2s', '--interval', '250ms']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; routes: { canary: { description: string; pods: string[] }; stable: { pods: string[] } }[] };
    expect(report.ok).toBe(true);
    const route = report.routes[0]!;
    expect(route.canary.description).toContain('canary backend Service healthy/web-v2 (50 % by weight');
    expect(route.canary.pods).toHaveLength(2);
    for (const pod of route.canary.pods) expect(pod).toMatch(/^healthy\/web-v2-/);
    for (const pod of route.stable.pods) expect(pod).toMatch(/^healthy\/web-(?!v2)/);
  }, 60_000);

  it('verify --canary-backend fails a refusing canary backend at its pods', async () => {
    const result = await runHopwatch(['verify', '--config', configPath, '-o', 'json', '--ingress', 'weighted/web', '--canary-backend', 'web-v2', '--duration', '2s', '--interval', '250ms']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { ok: boolean; failingHop: string; cause: string; failures: { group: string; pods: string[] }[] };
    expect(report).toMatchObject({ ok: false, failingHop: 'pod', cause: 'pod.refused' });
    expect(report.failures[0]?.group).toBe('canary');
    for (const pod of report.failures[0]?.pods ?? []) expect(pod).toMatch(/^weighted\/web-v2-/);
  }, 60_000);

  it('verify --canary-backend naming no backend of the route cannot verify (exit 2, naming the backends)', async () => {
    const result = await runHopwatch(['verify', '--config', configPath, '--ingress', 'weighted/web', '--canary-backend', 'nope', '--duration', '1s']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('has no canary backend nope (its canary backends: web-v2)');
  }, 60_000);
});
