// `hopwatch probe` end to end: the real binary, the real client-node over HTTP to the lab's API
// server, real nginx, real sockets. One route per cause in scope, each asserting status, hop, cause.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openCluster, probeOnce } from '../../src/cli/probe.js';
import { startLab, type Lab } from '../lab/lab.js';
import { merge, webApp } from '../lab/scenarios.js';
import { runHopwatch, writeLabConfig } from './cli.js';

const scenario = merge(
  webApp('shop', 'web', 'web.e2e.test', { replicas: 3 }),
  webApp('shop', 'cart', 'cart.e2e.test', { replicas: 3, podFaults: { 1: { mode: 'refuse' } } }),
  webApp('blog', 'blog', '*.blog.e2e.test'),
  webApp('pay', 'checkout', 'checkout.e2e.test', { fault: { mode: 'refuse' } }),
  webApp('auth', 'login', 'login.e2e.test', { fault: { mode: 'crashloop' }, readinessProbe: true }),
  webApp('rep', 'reports', 'reports.e2e.test', { fault: { mode: 'status', status: 500 } }),
  webApp('inv', 'stock', 'stock.e2e.test'),
  {
    ...webApp('sec', 'vault', 'vault.e2e.test'),
    networkPolicies: [{ namespace: 'sec', name: 'deny-all', spec: { podSelector: {}, policyTypes: ['Ingress'] } }],
  },
  {
    // The same pair of policies in front of a real fault: the fault is named, the policies add up to "admitted".
    ...webApp('sec3', 'vault', 'vault3.e2e.test', { fault: { mode: 'large-headers', bytes: 20_000 } }),
    networkPolicies: [
      { namespace: 'sec3', name: 'deny-all', spec: { podSelector: {}, policyTypes: ['Ingress'] } },
      {
        namespace: 'sec3',
        name: 'allow-ingress-nginx',
        spec: { podSelector: { matchLabels: { app: 'vault' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }], ports: [{ port: 'http' }] }] },
      },
    ],
  },
  (() => {
    // ingress-nginx's service-upstream annotation: the controller proxies to the ClusterIP, so a ClusterIP down fails the route.
    const app = webApp('inv2', 'stock', 'stock2.e2e.test');
    return { ...app, ingresses: app.ingresses.map((i) => ({ ...i, annotations: { 'nginx.ingress.kubernetes.io/service-upstream': 'true' } })) };
  })(),
  // One of three pods slower than nginx's read timeout: nginx retries another pod, users of that pod wait (and POSTs get a 504).
  webApp('slow', 'one', 'slowone.e2e.test', { replicas: 3, podFaults: { 0: { mode: 'slow', delayMs: 3000 } } }),
  {
    // Default deny plus an allow from the controller's namespace: healthy, no false alarm.
    ...webApp('sec2', 'vault', 'vault2.e2e.test'),
    networkPolicies: [
      { namespace: 'sec2', name: 'deny-all', spec: { podSelector: {}, policyTypes: ['Ingress'] } },
      {
        namespace: 'sec2',
        name: 'allow-ingress-nginx',
        spec: { podSelector: { matchLabels: { app: 'vault' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }], ports: [{ port: 'http' }] }] },
      },
    ],
  },
  {
    apps: [{ namespace: 'cat', name: 'search', replicas: 2 }, { namespace: 'cat', name: 'wrongport', replicas: 2 }],
    services: [
      { namespace: 'cat', name: 'search', ports: [{ name: 'http', port: 8000, targetPort: 'http' }] },
      // targetPort 9090 while the containers declare (and serve) 8080.
      { namespace: 'cat', name: 'wrongport', ports: [{ name: 'http', port: 8000, targetPort: 9090 }] },
      { namespace: 'cat', name: 'orphan', selector: { app: 'nobody' }, ports: [{ name: 'http', port: 8000, targetPort: 'http' }] },
      { namespace: 'old', name: 'billing', type: 'ExternalName', externalName: 'billing.gone.invalid', ports: [{ name: 'http', port: 80 }] },
      // An ExternalName that resolves, through the cluster's DNS only (this machine's resolver does not know it).
      { namespace: 'old', name: 'alias', type: 'ExternalName', externalName: 'stock.inv.svc.cluster.local', ports: [{ name: 'http', port: 8000 }] },
    ],
    ingresses: [
      { namespace: 'cat', name: 'search', rules: [{ host: 'search.e2e.test', paths: [{ service: 'search', port: 9000 }] }] },
      { namespace: 'cat', name: 'wrongport', rules: [{ host: 'wrongport.e2e.test', paths: [{ service: 'wrongport', port: 8000 }] }] },
      { namespace: 'cat', name: 'orphan', rules: [{ host: 'orphan.e2e.test', paths: [{ service: 'orphan', port: 'http' }] }] },
      { namespace: 'cat', name: 'ghost', rules: [{ host: 'ghost.e2e.test', paths: [{ service: 'ghost', port: 80 }] }] },
      { namespace: 'cat', name: 'other-class', className: 'traefik', rules: [{ host: 'traefik.e2e.test', paths: [{ service: 'search', port: 'http' }] }] },
      { namespace: 'old', name: 'billing', rules: [{ host: 'billing.e2e.test', paths: [{ service: 'billing', port: 80 }] }] },
      { namespace: 'old', name: 'alias', rules: [{ host: 'alias.e2e.test', paths: [{ service: 'alias', port: 8000 }] }] },
    ],
  },
);

interface RouteJson {
  id: string;
  namespace: string;
  ingress: string;
  host: string | null;
  path: string;
  pathType: string;
  backend: { service: string; port: number | string };
  verdict: { status: string; hop: string | null; cause: string; summary: string; evidence: string[] };
  hops: { hop: string; target: string; pod: string | null; status: number | null; error: string | null; timings: { totalMs: number } }[];
}

let lab: Lab;
let configPath: string;

async function probe(...args: string[]): Promise<{ code: number | null; routes: RouteJson[]; stderr: string }> {
  const result = await runHopwatch(['probe', '--config', configPath, '-o', 'json', ...args]);
  const report = JSON.parse(result.stdout || '{"routes":[]}') as { routes: RouteJson[]; startedAt: string; durationMs: number };
  return { code: result.code, routes: report.routes, stderr: result.stderr };
}

function verdictOf(routes: RouteJson[], ns: string, ingress: string): RouteJson['verdict'] {
  const route = routes.find((r) => r.namespace === ns && r.ingress === ingress);
  if (!route) throw new Error(`no route ${ns}/${ingress} in ${routes.map((r) => `${r.namespace}/${r.ingress}`).join(', ')}`);
  return route.verdict;
}

beforeAll(async () => {
  lab = await startLab(scenario);
  configPath = await writeLabConfig(lab);
}, 90_000);

afterAll(async () => {
  await lab?.stop();
});

describe('hopwatch probe against the lab', () => {
  let all: Awaited<ReturnType<typeof probe>>;

  beforeAll(async () => {
    all = await probe();
  }, 60_000);

  it('exits 1 because some routes fail, and prints the JSON contract', () => {
    expect(all.code).toBe(1);
    const web = all.routes.find((r) => r.ingress === 'web');
    expect(web).toMatchObject({ namespace: 'shop', host: 'web.e2e.test', path: '/', pathType: 'Prefix', backend: { service: 'web', port: 'http' } });
    expect(web?.id).toMatch(/^[0-9a-f]{12}$/);
    const kinds = new Set(web?.hops.map((h) => h.hop));
    expect(kinds).toEqual(new Set(['dns', 'edge', 'controller', 'service', 'pod']));
    expect(web?.hops.filter((h) => h.hop === 'pod')).toHaveLength(3);
    expect(web?.hops.filter((h) => h.hop === 'controller')).toHaveLength(2);
    for (const hop of web?.hops ?? []) expect(hop.timings.totalMs).toBeGreaterThan(0);
  });

  it.each([
    ['shop', 'web', 'ok', null, 'ok'],
    ['blog', 'blog', 'ok', null, 'ok'],
    ['shop', 'cart', 'degraded', 'pod', 'pod.refused'],
    ['pay', 'checkout', 'failing', 'pod', 'pod.refused'],
    ['auth', 'login', 'failing', 'pod', 'pod.crashloop'],
    ['rep', 'reports', 'failing', 'pod', 'pod.app-error'],
    ['sec', 'vault', 'failing', 'network', 'network.blocked'],
    ['sec2', 'vault', 'ok', null, 'ok'],
    ['sec3', 'vault', 'failing', 'pod', 'pod.headers-too-large'],
    ['slow', 'one', 'degraded', 'pod', 'pod.timeout'],
    ['cat', 'search', 'failing', 'config', 'config.port-mismatch'],
    ['cat', 'wrongport', 'failing', 'config', 'config.port-mismatch'],
    ['cat', 'orphan', 'failing', 'service', 'config.no-endpoints'],
    ['cat', 'ghost', 'failing', 'config', 'config.service-missing'],
    ['cat', 'other-class', 'failing', 'config', 'config.no-controller'],
    ['old', 'billing', 'failing', 'dns', 'dns.failure'],
    ['old', 'alias', 'ok', null, 'ok'],
  ])('%s/%s is %s at %s: %s', (ns, ingress, status, hop, cause) => {
    expect(verdictOf(all.routes, ns, ingress)).toMatchObject({ status, hop, cause });
  });

  it('names the refusing pod of a partial failure in the evidence', () => {
    const cart = all.routes.find((r) => r.ingress === 'cart');
    const refusing = cart?.hops.find((h) => h.hop === 'pod' && h.error === 'refused');
    expect(refusing?.pod).toMatch(/^shop\/cart-/);
    expect(cart?.verdict.evidence.join('\n')).toContain(refusing?.pod ?? '?');
  });

  it('probes a wildcard host with a concrete Host header', () => {
    const blog = all.routes.find((r) => r.ingress === 'blog');
    expect(blog?.host).toBe('*.blog.e2e.test');
    expect(blog?.hops.find((h) => h.hop === 'edge')?.status).toBe(200);
  });
});

describe('hopwatch probe with staged faults', () => {
  it('exits 0 for a healthy Ingress selected by namespace and name', async () => {
    const result = await probe('--ingress', 'shop/web');
    expect(result.code).toBe(0);
    expect(result.routes.map((r) => r.ingress)).toEqual(['web']);
  });

  it('ClusterIP down while pods answer: degraded at service', async () => {
    await lab.setServiceDown('inv', 'stock', true);
    try {
      const result = await probe('-n', 'inv');
      expect(verdictOf(result.routes, 'inv', 'stock')).toMatchObject({ status: 'degraded', hop: 'service', cause: 'service.unreachable' });
    } finally {
      await lab.setServiceDown('inv', 'stock', false);
    }
  });

  it('ClusterIP down behind a service-upstream Ingress: failing at service, not at the controller', async () => {
    await lab.setServiceDown('inv2', 'stock', true);
    try {
      const result = await probe('-n', 'inv2');
      expect(verdictOf(result.routes, 'inv2', 'stock')).toMatchObject({ status: 'failing', hop: 'service', cause: 'service.unreachable' });
    } finally {
      await lab.setServiceDown('inv2', 'stock', false);
    }
  });

  it('every controller replica broken: controller.error', async () => {
    await lab.setControllerFault(0, 'bad-upstream');
    await lab.setControllerFault(1, 'bad-upstream');
    try {
      const result = await probe('--ingress', 'shop/web');
      expect(verdictOf(result.routes, 'shop', 'web')).toMatchObject({ status: 'failing', hop: 'controller', cause: 'controller.error' });
    } finally {
      await lab.setControllerFault(0, 'healthy');
      await lab.setControllerFault(1, 'healthy');
    }
  });

  it('one controller replica broken: replica divergence naming it', async () => {
    await lab.setControllerFault(1, 'bad-upstream');
    try {
      const result = await probe('--ingress', 'shop/web');
      const verdict = verdictOf(result.routes, 'shop', 'web');
      expect(verdict).toMatchObject({ hop: 'controller', cause: 'controller.replica-divergence' });
      expect(['degraded', 'failing']).toContain(verdict.status);
      expect(verdict.summary).toContain(lab.controller.replicas[1]?.name ?? '?');
    } finally {
      await lab.setControllerFault(1, 'healthy');
    }
  });

  it('the edge answering its own 502 while controllers answer: edge.error', async () => {
    await lab.edge.setFault({ mode: 'bad-gateway' });
    try {
      const result = await probe('--ingress', 'shop/web');
      expect(verdictOf(result.routes, 'shop', 'web')).toMatchObject({ status: 'failing', hop: 'edge', cause: 'edge.error' });
      expect(result.routes[0]?.hops.find((h) => h.hop === 'edge')).toMatchObject({ status: 502 });
    } finally {
      await lab.edge.setFault({ mode: 'healthy' });
    }
  });
});

describe('discovery follows the cluster', () => {
  it('a route added while the informers run appears in the next round', async () => {
    const config = loadConfig({ text: lab.hopwatchConfig() });
    const session = await openCluster(config, 15_000);
    try {
      const before = await probeOnce(config, session.watch, { namespace: 'late' });
      expect(before).toHaveLength(0);
      const late = webApp('late', 'newcomer', 'new.e2e.test');
      await lab.addApp(late.apps[0]!);
      await lab.addService(late.services[0]!);
      await lab.addIngress(late.ingresses[0]!);
      await lab.settle();
      // The watch delivers the new objects within a moment; bounded wait.
      let after = await probeOnce(config, session.watch, { namespace: 'late' });
      for (let i = 0; i < 50 && (after.length === 0 || after[0]?.verdict.status !== 'ok'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        after = await probeOnce(config, session.watch, { namespace: 'late' });
      }
      expect(after.map((r) => [r.route.ingress, r.verdict.status])).toEqual([['newcomer', 'ok']]);
    } finally {
      await session.stop();
    }
  });
});

describe('hopwatch probe cannot run', () => {
  it('exits 2 with one line naming the field for bad configuration', async () => {
    const result = await runHopwatch(['probe', '--config', '/dev/null', '--kubeconfig', '/nonexistent/kubeconfig']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('/nonexistent/kubeconfig');
    expect(result.stdout).toBe('');
  });

  it('exits 2 naming the API server when the cluster does not answer', async () => {
    const config = lab.hopwatchConfig().replace(lab.api.url, 'http://127.0.0.1:1');
    const { writeFile } = await import('node:fs/promises');
    const kubeconfig = `${lab.dir}/dead-kubeconfig`;
    const { readFile } = await import('node:fs/promises');
    await writeFile(kubeconfig, (await readFile(lab.kubeconfigPath, 'utf8')).replace(lab.api.url, 'http://127.0.0.1:1'));
    const path = `${lab.dir}/dead.yaml`;
    await writeFile(path, config.replace(lab.kubeconfigPath, kubeconfig));
    const result = await runHopwatch(['probe', '--config', path, '--sync-timeout', '2']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:1/);
  });

  it('exits 2 naming the filter when no route matches it', async () => {
    const result = await runHopwatch(['probe', '--config', configPath, '--ingress', 'shop/no-such-ingress']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no route of Ingress shop/no-such-ingress was found');
  });

  it('exits 2 for a flag value that is not a number of seconds', async () => {
    const result = await runHopwatch(['probe', '--config', configPath, '--sync-timeout', 'soon']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected a positive number of seconds, got "soon"');
  });

  it('exits 2 for an unknown flag', async () => {
    const result = await runHopwatch(['probe', '--no-such-flag']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown option');
  });
});
