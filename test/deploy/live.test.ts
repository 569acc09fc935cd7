// The shipped manifests against a running hopwatch: `hopwatch run` with the ConfigMap's own config
// (cluster and controllers pointed at a lab) serves the Deployment's probe paths; every metric and
// label that the PrometheusRule and the Grafana dashboard use is in its live /metrics; and every
// request it makes to the Kubernetes API, recorded by a proxy in front of the lab's API server, is
// allowed by the ClusterRole (and the ClusterRole grants nothing it does not use, events apart).

import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { renderKubeconfig } from '../lab/kubeconfig.js';
import { LAB_CONTEXT, startLab, type Lab } from '../lab/lab.js';
import { merge, webApp } from '../lab/scenarios.js';
import { type DaemonProcess, eventually, startDaemonProcess } from '../e2e/daemon.js';
import { at, KUBERNETES_DIR, loadManifests, only } from './manifests.js';
import { type ExpressionNames, type Exposition, namesInExpression, namesInGrafanaQuery, parseExposition } from './promql.js';

/** Labels Prometheus itself attaches to scraped series (the Prometheus Operator's target labels and `le` of buckets). */
const TARGET_LABELS = new Set(['job', 'instance', 'namespace', 'pod', 'service', 'container', 'endpoint']);
const PROXY_HOST = '127.211.0.40';

const manifests = loadManifests();
const RECORDED = new Set(at<{ rules: { record?: string }[] }[]>(only(manifests, 'PrometheusRule'), 'spec.groups').flatMap((g) => g.rules.flatMap((r) => (r.record === undefined ? [] : [r.record]))));
let lab: Lab;
let proxy: { server: Server; url: string; requests: { method: string; url: string }[] };
let daemon: DaemonProcess;
let exposition: Exposition;

/** An HTTP proxy in front of the lab's API server that records every request (watches stream through). */
async function startRecordingProxy(target: URL): Promise<typeof proxy> {
  const requests: { method: string; url: string }[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, PROXY_HOST, resolve));
  return { server, url: `http://${PROXY_HOST}:${(server.address() as AddressInfo).port}`, requests };
}

beforeAll(async () => {
  lab = await startLab({
    ...merge(
      webApp('shop', 'web', 'web.live.test'),
      webApp('pay', 'checkout', 'pay.live.test', { fault: { mode: 'refuse' } }),
      webApp('cart', 'cart', 'cart.live.test', { replicas: 2, podFaults: { 1: { mode: 'refuse' } } }),
    ),
    // The Gateway API with one HTTPRoute: hopwatch's reads of its kinds go past the ClusterRole too,
    // and the route series carry the kind label the rules group by.
    gatewayApi: {
      gateways: [{ namespace: 'edge', name: 'public', listeners: [{ name: 'http', port: 18090, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] }],
      httpRoutes: [{ namespace: 'shop', name: 'web-gw', spec: { parentRefs: [{ name: 'public', namespace: 'edge' }], hostnames: ['web.gw.live.test'], rules: [{ backendRefs: [{ name: 'web', port: 8000 }] }] } }],
    },
  });
  proxy = await startRecordingProxy(new URL(lab.api.url));
  const kubeconfig = join(lab.dir, 'proxied-kubeconfig');
  await writeFile(kubeconfig, renderKubeconfig({ server: proxy.url }));
  // The ConfigMap's configuration as shipped, with only the cluster, controllers and store moved to the lab.
  const configMap = only(manifests, 'ConfigMap', 'hopwatch-config');
  const shipped = parse(at<Record<string, string>>(configMap, 'data')['hopwatch.yaml'] ?? '') as Record<string, Record<string, unknown>>;
  const labConfig = parse(lab.hopwatchConfig()) as Record<string, Record<string, unknown>>;
  const config = {
    ...shipped,
    cluster: { ...shipped['cluster'], kubeconfig, context: LAB_CONTEXT, dnsServer: labConfig['cluster']?.['dnsServer'] },
    controllers: labConfig['controllers'],
    probe: labConfig['probe'],
    schedule: { default: '1s' },
    // The cluster label as hopwatch's config sets it (the rules and dashboard group by it).
    metrics: { labels: { cluster: 'live-lab' } },
    // Leader election as deploy/kubernetes-ha runs it (its Role is checked against the Lease requests below).
    ha: { enabled: true, leaseNamespace: 'hopwatch', identity: 'hopwatch-0', leaseDurationMs: '3s', renewEveryMs: '1s' },
    store: { ...shipped['store'], path: join(lab.dir, 'live.db') },
  };
  const configPath = join(lab.dir, 'live.yaml');
  await writeFile(configPath, stringify(config));
  daemon = await startDaemonProcess(configPath);
  // Every route judged (one failing, one degraded, one ok) and hop timings recorded.
  const text = await eventually(async () => {
    const body = await (await fetch(`${daemon.url}/metrics`)).text();
    const statuses = ['ok', 'degraded', 'failing'].every((s) => body.includes(`status="${s}"`));
    return statuses && body.includes('hopwatch_hop_duration_seconds_bucket') ? body : undefined;
  }, 30_000, async () => daemon.log().slice(-2000));
  exposition = parseExposition(text);
}, 120_000);

afterAll(async () => {
  await daemon?.stop('SIGTERM');
  if (proxy) {
    proxy.server.closeAllConnections();
    await new Promise((resolve) => proxy.server.close(resolve));
  }
  await lab?.stop();
});

/** What is wrong with an expression's use of names and labels, against the live exposition. */
function problemsOf(names: ExpressionNames): string[] {
  const problems: string[] = [];
  const known = (metric: string) => exposition.labels.get(metric) ?? new Map<string, Set<string>>();
  // Names with a colon are recording rules: they must be recorded by the PrometheusRule, not exported.
  for (const metric of names.metrics) {
    if (metric.includes(':')) {
      if (!RECORDED.has(metric)) problems.push(`recording rule ${metric} is not in the PrometheusRule`);
    } else if (!exposition.names.has(metric)) problems.push(`metric ${metric} is not exported`);
  }
  // A metric without samples yet (a counter that never counted, e.g. no round was ever late) shows no
  // labels: its label names cannot be checked live.
  const unseen = names.metrics.filter((m) => (exposition.names.has(m) && !exposition.labels.has(m)) || m.includes(':'));
  for (const selector of names.selectors) {
    if (selector.metric === null || unseen.includes(selector.metric)) continue;
    const labels = known(selector.metric);
    for (const matcher of selector.matchers) {
      if (!labels.has(matcher.label) && !TARGET_LABELS.has(matcher.label)) problems.push(`${selector.metric} has no label ${matcher.label}`);
      // Values compared for (in)equality must be values hopwatch really writes (the lab has ok, degraded and failing routes).
      const seen = labels.get(matcher.label);
      if (seen === undefined || matcher.value === '' || matcher.value === '.*') continue;
      const values = matcher.op.includes('~') ? matcher.value.split('|') : [matcher.value];
      for (const value of values) if (!seen.has(value)) problems.push(`${selector.metric}{${matcher.label}} never takes the value "${value}" (seen: ${[...seen].join(', ')})`);
    }
  }
  const available = new Set([...TARGET_LABELS, ...names.metrics.flatMap((m) => [...known(m).keys()])]);
  if (unseen.length === 0) for (const label of names.groupingLabels) if (!available.has(label)) problems.push(`grouping label ${label} is on none of ${names.metrics.join(', ')}`);
  return problems;
}

describe('the Deployment\'s probes against the real server', () => {
  it('readiness and liveness paths answer 200 once synced', async () => {
    const container = at<Record<string, unknown>[]>(only(manifests, 'Deployment'), 'spec.template.spec.containers')[0];
    for (const probe of ['readinessProbe', 'livenessProbe']) {
      const path = at<string>(container, `${probe}.httpGet.path`);
      const res = await fetch(`${daemon.url}${path}`);
      expect(res.status, `${probe} ${path}`).toBe(200);
    }
    const monitorPath = at<{ path: string }[]>(only(manifests, 'ServiceMonitor'), 'spec.endpoints')[0]?.path;
    expect((await fetch(`${daemon.url}${monitorPath}`)).headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});

describe('PromQL against the live /metrics', () => {
  const rules = at<{ rules: { alert?: string; record?: string; expr: string }[] }[]>(only(manifests, 'PrometheusRule'), 'spec.groups').flatMap((g) => g.rules);
  it.each(rules.map((r) => [r.alert ?? r.record ?? '', r.expr] as const))('PrometheusRule %s uses only exported metrics, labels and values', (_alert, expr) => {
    const names = namesInExpression(expr);
    expect(names.metrics.length).toBeGreaterThan(0);
    expect(problemsOf(names)).toEqual([]);
  });

  const dashboard = JSON.parse(readFileSync(join(KUBERNETES_DIR, 'monitoring', 'grafana-dashboard.json'), 'utf8')) as {
    panels: { title: string; targets?: { expr: string }[] }[];
    templating: { list: { name: string; type: string; query?: unknown }[] };
  };
  const queries = [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => [`panel "${p.title}"`, t.expr] as const)),
    ...dashboard.templating.list.filter((v) => v.type === 'query').map((v) => [`variable $${v.name}`, at<string>(v.query, 'query')] as const),
  ];
  it.each(queries)('Grafana %s uses only exported metrics, labels and values', (_where, query) => {
    const names = namesInGrafanaQuery(query);
    expect(names.metrics.length).toBeGreaterThan(0);
    expect(problemsOf(names)).toEqual([]);
  });

  it('the check itself catches a misspelt metric, label and value', () => {
    expect(problemsOf(namesInExpression('sum by (hop, oops) (rate(hopwatch_hop_request_total[5m])) + hopwatch_route_verdict{status="broken", sttaus="ok"}'))).toEqual([
      'metric hopwatch_hop_request_total is not exported',
      `hopwatch_route_verdict{status} never takes the value "broken" (seen: ${[...(exposition.labels.get('hopwatch_route_verdict')?.get('status') ?? [])].join(', ')})`,
      'hopwatch_route_verdict has no label sttaus',
      'grouping label oops is on none of hopwatch_hop_request_total, hopwatch_route_verdict',
    ]);
  });
});

describe('RBAC against what hopwatch really asks the API server', () => {
  /** The RBAC attributes of a request: group, resource, verb and namespace, or a non-resource path. */
  function attributes(method: string, raw: string): { group: string; resource: string; verb: string; namespace: string | null } | { path: string } {
    const url = new URL(raw, 'http://api');
    const parts = url.pathname.split('/').filter((p) => p !== '');
    let group: string;
    let rest: string[];
    if (parts[0] === 'api' && parts.length > 2) [group, rest] = ['', parts.slice(2)];
    else if (parts[0] === 'apis' && parts.length > 3) [group, rest] = [parts[1] as string, parts.slice(3)];
    else return { path: url.pathname };
    let namespace: string | null = null;
    if (rest[0] === 'namespaces' && rest.length >= 3) [namespace, rest] = [rest[1] as string, rest.slice(2)];
    const watch = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
    const writeVerbs: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
    const verb = method !== 'GET' ? (writeVerbs[method] ?? method.toLowerCase()) : watch ? 'watch' : rest.length > 1 ? 'get' : 'list';
    return { group, resource: rest[0] as string, verb, namespace };
  }

  type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
  const grants = (rules: readonly Rule[], a: { group: string; resource: string; verb: string }) => rules.some((r) => r.apiGroups.includes(a.group) && r.resources.includes(a.resource) && r.verbs.includes(a.verb));
  const haRole = loadManifests(join(KUBERNETES_DIR, '..', 'kubernetes-ha')).find((m) => m.object.kind === 'Role')?.object;

  it('leader election\'s requests are allowed by deploy/kubernetes-ha\'s Role, in hopwatch\'s namespace only, and use all of it', async () => {
    // The first renewal (an update) comes one renewEveryMs after the create.
    await eventually(async () => proxy.requests.some((r) => r.method === 'PUT' && r.url.includes('/leases/')), 15_000);
    const roleRules = at<Rule[]>(haRole, 'rules');
    const leases = proxy.requests.map((r) => attributes(r.method, r.url)).filter((a) => 'resource' in a && a.resource === 'leases');
    expect(leases.length).toBeGreaterThan(0);
    for (const a of leases) {
      if (!('resource' in a)) continue;
      expect(a.namespace, JSON.stringify(a)).toBe(haRole?.metadata.namespace);
      expect(grants(roleRules, a), JSON.stringify(a)).toBe(true);
    }
    const used = new Set(leases.map((a) => ('verb' in a ? a.verb : '')));
    expect([...used].sort()).toEqual([...roleRules.flatMap((r) => r.verbs)].sort());
  });

  it('every request is allowed by the ClusterRole, and every grant but events is used', () => {
    const rules = at<Rule[]>(only(manifests, 'ClusterRole', 'hopwatch'), 'rules');
    const allowed = (a: { group: string; resource: string; verb: string }) => grants(rules, a);
    // Leases are the Role's (the test above); everything else must be the read-only ClusterRole's.
    const seen = proxy.requests.map((r) => attributes(r.method, r.url)).filter((a) => !('resource' in a) || a.resource !== 'leases');
    expect(seen.length).toBeGreaterThan(0);
    // API discovery documents (/api, /apis, /apis/GROUP/VERSION) and /version: every authenticated
    // user may read them (the built-in system:discovery ClusterRole), so hopwatch's role needs no grant.
    const discovery = (path: string) => ['/api', '/apis', '/version'].includes(path) || /^\/apis\/[^/]+\/[^/]+$/.test(path);
    const denied = seen.filter((a) => ('path' in a ? !discovery(a.path) : !allowed(a)));
    expect(denied).toEqual([]);
    const used = new Set(seen.flatMap((a) => ('path' in a ? [] : [`${a.group}/${a.resource}`])));
    const granted = rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res}`)));
    // events: granted for "what changed then?" in incident timelines; hopwatch does not read them yet.
    expect(granted.filter((g) => !used.has(g))).toEqual(['/events']);
  });
});
