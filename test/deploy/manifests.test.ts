// Every manifest in deploy/kubernetes, parsed and checked: real kinds and apiVersions (against
// client-node's API surface and models, so a misspelt field fails too), read-only RBAC without
// Secrets, the restricted Pod Security profile, the Deployment agreeing with the Dockerfile and the
// ConfigMap, the Service/ServiceMonitor wiring, the alerts, the Grafana JSON, and kustomize.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { ROOT } from '../e2e/cli.js';
import { at, dockerfile, type K8sObject, KUBERNETES_DIR, lastOf, loadManifests, only, yamlFiles } from './manifests.js';

const manifests = loadManifests();
const objects = manifests.map((m) => m.object);
const NAMESPACE = 'hopwatch';
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Custom resources hopwatch ships (not in client-node): apiVersion -> kinds, all namespaced. */
const CUSTOM_KINDS: Record<string, string[]> = { 'monitoring.coreos.com/v1': ['ServiceMonitor', 'PrometheusRule'] };

const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** client-node's API class for an apiVersion: v1 -> CoreV1Api, rbac.authorization.k8s.io/v1 -> RbacAuthorizationV1Api. */
function apiClassOf(apiVersion: string): unknown {
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['core', apiVersion];
  const name = `${group.replace(/\.k8s\.io$/, '').split('.').map(pascal).join('')}${pascal(version)}Api`;
  return (k8s as unknown as Record<string, unknown>)[name];
}

/** The scope client-node's API gives a built-in kind, null when the apiVersion/kind pair does not exist. */
function builtInScope(apiVersion: string, kind: string): 'namespaced' | 'cluster' | null {
  const api = apiClassOf(apiVersion);
  if (typeof api !== 'function') return null;
  const proto = api.prototype as Record<string, unknown>;
  if (typeof proto[`createNamespaced${kind}`] === 'function') return 'namespaced';
  if (typeof proto[`create${kind}`] === 'function') return 'cluster';
  return null;
}

interface Attribute {
  baseName: string;
  type: string;
}

/** Fields of `value` that client-node's model `type` does not have, or whose value has the wrong JSON type, as dotted paths. */
function schemaProblems(value: unknown, type: string, path: string): string[] {
  const array = /^Array<(.+)>$/.exec(type);
  if (array !== null) return Array.isArray(value) ? value.flatMap((v, i) => schemaProblems(v, array[1] as string, `${path}[${i}]`)) : [`${path}: expected a list`];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map !== null) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected a mapping`];
    return Object.entries(value).flatMap(([k, v]) => schemaProblems(v, map[1] as string, `${path}.${k}`));
  }
  const primitive: Record<string, (v: unknown) => boolean> = {
    string: (v) => typeof v === 'string',
    number: (v) => typeof v === 'number',
    boolean: (v) => typeof v === 'boolean',
    IntOrString: (v) => typeof v === 'number' || typeof v === 'string',
    Date: (v) => typeof v === 'string',
    any: () => true,
    object: () => true,
  };
  const check = primitive[type];
  if (check !== undefined) return check(value) ? [] : [`${path}: expected ${type}, got ${JSON.stringify(value)}`];
  const model = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] }>)[type];
  if (model?.getAttributeTypeMap === undefined) return [`${path}: unknown model ${type}`];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected a ${type} mapping`];
  const attributes = model.getAttributeTypeMap();
  return Object.entries(value).flatMap(([key, v]) => {
    const attribute = attributes.find((a) => a.baseName === key);
    return attribute === undefined ? [`${path}.${key}: no such field in ${type}`] : schemaProblems(v, attribute.type, `${path}.${key}`);
  });
}

describe('every manifest', () => {
  it('parses, and the set of files is what the kustomizations list', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(9);
    for (const kustomization of yamlFiles(KUBERNETES_DIR).filter((f) => basename(f) === 'kustomization.yaml')) {
      const dir = dirname(kustomization);
      const listed = (parse(readFileSync(kustomization, 'utf8')) as { resources: string[] }).resources;
      const present = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
      expect(listed.slice().sort(), kustomization).toEqual(present.sort());
    }
  });

  it.each(manifests.map((m) => [`${m.file}: ${m.object.kind} ${m.object.metadata?.name}`, m.object] as const))('%s: a real apiVersion/kind, in the right scope', (_name, object) => {
    const custom = CUSTOM_KINDS[object.apiVersion];
    const scope = custom !== undefined ? (custom.includes(object.kind) ? 'namespaced' : null) : builtInScope(object.apiVersion, object.kind);
    expect(scope, `${object.apiVersion} ${object.kind} is not a Kubernetes kind`).not.toBeNull();
    expect(object.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    expect(object.metadata.labels?.['app.kubernetes.io/name']).toBe('hopwatch');
    if (scope === 'namespaced') expect(object.metadata.namespace).toBe(NAMESPACE);
    else expect(object.metadata.namespace).toBeUndefined();
  });

  it.each(manifests.filter((m) => CUSTOM_KINDS[m.object.apiVersion] === undefined).map((m) => [`${m.file}: ${m.object.kind}`, m.object] as const))(
    '%s: every field exists in client-node\'s model of the kind',
    (_name, object) => {
      const version = object.apiVersion.split('/').at(-1) as string;
      expect(schemaProblems(object, `${pascal(version)}${object.kind}`, object.kind)).toEqual([]);
    },
  );
});

describe('RBAC', () => {
  const role = only(manifests, 'ClusterRole', 'hopwatch');
  const rules = at<{ apiGroups: string[]; resources: string[]; verbs: string[]; nonResourceURLs?: string[]; resourceNames?: string[] }[]>(role, 'rules');

  it('has no write verb, no wildcard, no Secrets, no non-resource URLs, and no other Role', () => {
    for (const rule of rules) {
      expect(rule.verbs.every((v) => ['get', 'list', 'watch'].includes(v)), JSON.stringify(rule)).toBe(true);
      expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain('*');
      expect(rule.resources.some((r) => r === 'secrets' || r.startsWith('secrets/')), JSON.stringify(rule)).toBe(false);
      expect(rule.resources.some((r) => r.includes('/')), 'no subresources (pods/exec, pods/log, ...)').toBe(false);
      expect(rule.nonResourceURLs).toBeUndefined();
    }
    expect(objects.filter((o) => ['Role', 'RoleBinding'].includes(o.kind))).toEqual([]);
  });

  it('grants get/list/watch on exactly the kinds hopwatch reads', () => {
    const granted = rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res} ${[...r.verbs].sort().join(',')}`))).sort();
    expect(granted).toEqual(
      [
        '/events', '/namespaces', '/pods', '/services', 'apps/deployments', 'apps/replicasets', 'discovery.k8s.io/endpointslices',
        'networking.k8s.io/ingressclasses', 'networking.k8s.io/ingresses', 'networking.k8s.io/networkpolicies',
        'gateway.networking.k8s.io/gatewayclasses', 'gateway.networking.k8s.io/gateways', 'gateway.networking.k8s.io/grpcroutes',
        'gateway.networking.k8s.io/httproutes', 'gateway.networking.k8s.io/referencegrants',
      ].sort().map((r) => `${r} get,list,watch`),
    );
  });

  it('binds the role to the Deployment\'s service account', () => {
    const binding = only(manifests, 'ClusterRoleBinding', 'hopwatch');
    expect(at(binding, 'roleRef')).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'hopwatch' });
    const account = only(manifests, 'ServiceAccount');
    expect(at(binding, 'subjects')).toEqual([{ kind: 'ServiceAccount', name: account.metadata.name, namespace: account.metadata.namespace }]);
    expect(at(only(manifests, 'Deployment'), 'spec.template.spec.serviceAccountName')).toBe(account.metadata.name);
  });
});

describe('the Deployment', () => {
  const deployment = only(manifests, 'Deployment', 'hopwatch');
  const pod = at<Record<string, unknown>>(deployment, 'spec.template.spec');
  const containers = at<Record<string, unknown>[]>(pod, 'containers');
  const container = containers[0] as Record<string, unknown>;
  const app = dockerfile().get('app');
  if (app === undefined) throw new Error('the Dockerfile has no app stage');
  const containerPort = (name: string) => at<{ name: string; containerPort: number }[]>(container, 'ports').find((p) => p.name === name)?.containerPort;

  it('runs the image as built: no command or args (ENTRYPOINT ["hopwatch"], CMD ["run"]), the image\'s port and user', () => {
    expect(containers).toHaveLength(1);
    expect(container['command']).toBeUndefined();
    expect(container['args']).toBeUndefined();
    expect(JSON.parse(lastOf(app, 'ENTRYPOINT') ?? 'null')).toEqual(['hopwatch']);
    expect(JSON.parse(lastOf(app, 'CMD') ?? 'null')).toEqual(['run']);
    expect(at(container, 'ports')).toEqual([{ name: 'http', containerPort: Number(lastOf(app, 'EXPOSE')), protocol: 'TCP' }]);
    const [uid, gid] = (lastOf(app, 'USER') ?? '').split(':').map(Number);
    expect(at(pod, 'securityContext')).toMatchObject({ runAsUser: uid, runAsGroup: gid, fsGroup: gid });
    expect(at(container, 'image')).toBe(`ghcr.io/hopwatch/hopwatch:${VERSION}`);
  });

  it('probes /readyz (readiness) and /healthz (liveness) on the container port', () => {
    expect(at(container, 'readinessProbe.httpGet')).toEqual({ path: '/readyz', port: 'http' });
    expect(at(container, 'livenessProbe.httpGet')).toEqual({ path: '/healthz', port: 'http' });
    expect(containerPort('http')).toBe(8080);
  });

  it('meets the restricted Pod Security Standard, read-only root, dropped capabilities, seccomp RuntimeDefault', () => {
    expect(at(pod, 'securityContext')).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(at(container, 'securityContext')).toEqual({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    for (const key of ['hostNetwork', 'hostPID', 'hostIPC']) expect(pod[key]).toBeUndefined();
    const volumes = at<Record<string, unknown>[]>(pod, 'volumes');
    for (const volume of volumes) expect(Object.keys(volume).filter((k) => k !== 'name').every((k) => ['configMap', 'emptyDir', 'persistentVolumeClaim', 'secret', 'projected', 'downwardAPI'].includes(k)), JSON.stringify(volume)).toBe(true);
    expect(only(manifests, 'Namespace').metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('sets requests and limits', () => {
    expect(at(container, 'resources')).toMatchObject({ requests: { cpu: expect.any(String), memory: expect.any(String) }, limits: { cpu: expect.any(String), memory: expect.any(String) } });
  });

  it('mounts the claim at /data (the image\'s VOLUME and HOPWATCH_DB), the config where HOPWATCH_CONFIG points, and a writable /tmp', () => {
    const mounts = new Map(at<{ name: string; mountPath: string }[]>(container, 'volumeMounts').map((m) => [m.mountPath, m.name]));
    const volumes = new Map(at<({ name: string } & Record<string, unknown>)[]>(pod, 'volumes').map((v) => [v.name, v]));
    expect(lastOf(app, 'VOLUME')).toBe('["/data"]');
    const claim = at<string>(volumes.get(mounts.get('/data') ?? ''), 'persistentVolumeClaim.claimName');
    expect(only(manifests, 'PersistentVolumeClaim', claim).spec).toMatchObject({ accessModes: ['ReadWriteOnce'] });
    expect(at(volumes.get(mounts.get('/tmp') ?? ''), 'emptyDir')).toBeDefined();
    const env = at<{ name: string; value?: string }[]>(container, 'env');
    const configPath = env.find((e) => e.name === 'HOPWATCH_CONFIG')?.value ?? '';
    const configMap = only(manifests, 'ConfigMap', at<string>(volumes.get(mounts.get(dirname(configPath)) ?? ''), 'configMap.name'));
    expect(Object.keys(at<Record<string, string>>(configMap, 'data'))).toContain(basename(configPath));
    // One writer on a ReadWriteOnce volume: never two pods at once.
    expect(at(deployment, 'spec.replicas')).toBe(1);
    expect(at(deployment, 'spec.strategy')).toEqual({ type: 'Recreate' });
  });

  it('takes the API token from an optional Secret (the kubelet reads it; hopwatch\'s RBAC has no Secret access)', () => {
    const token = at<{ name: string; valueFrom?: unknown }[]>(container, 'env').find((e) => e.name === 'HOPWATCH_TOKEN');
    expect(token?.valueFrom).toEqual({ secretKeyRef: { name: 'hopwatch-token', key: 'token', optional: true } });
  });
});

describe('the ConfigMap', () => {
  const text = at<Record<string, string>>(only(manifests, 'ConfigMap', 'hopwatch-config'), 'data')['hopwatch.yaml'] ?? '';

  it('is a valid hopwatch configuration (the real loader) that listens on the container port and stores on the claim', () => {
    const config = loadConfig({ file: 'configmap.yaml:hopwatch.yaml', text });
    expect(config.server.listen).toBe('0.0.0.0:8080');
    expect(config.store.path).toMatch(/^\/data\//);
    const claim = at<string>(only(manifests, 'PersistentVolumeClaim'), 'spec.resources.requests.storage');
    expect(claim).toMatch(/^\d+Gi$/);
    expect(config.store.maxSizeMb).toBeLessThan(parseInt(claim, 10) * 1024);
    expect(config.controllers).toEqual([expect.objectContaining({ ingressClass: 'nginx', kind: 'ingress-nginx', edge: null })]);
  });
});

describe('Service and ServiceMonitor', () => {
  const service = only(manifests, 'Service', 'hopwatch');
  const deployment = only(manifests, 'Deployment', 'hopwatch');
  const podLabels = at<Record<string, string>>(deployment, 'spec.template.metadata.labels');

  it('the Service selects the pods and targets the named container port', () => {
    expect(podLabels).toMatchObject(at<Record<string, string>>(service, 'spec.selector'));
    expect(at<Record<string, string>>(deployment, 'spec.selector.matchLabels')).toEqual(at(service, 'spec.selector'));
    const port = at<{ name: string; targetPort: string }[]>(service, 'spec.ports')[0];
    expect(port?.targetPort).toBe('http');
  });

  it('the ServiceMonitor scrapes the Service\'s port at /metrics and keeps the route series\' own namespace label', () => {
    const monitor = only(manifests, 'ServiceMonitor');
    expect(service.metadata.labels).toMatchObject(at<Record<string, string>>(monitor, 'spec.selector.matchLabels'));
    expect(at<string[]>(monitor, 'spec.namespaceSelector.matchNames')).toContain(service.metadata.namespace);
    const endpoints = at<Record<string, unknown>[]>(monitor, 'spec.endpoints');
    expect(endpoints).toEqual([expect.objectContaining({ port: at<{ name: string }[]>(service, 'spec.ports')[0]?.name, path: '/metrics', honorLabels: true })]);
  });
});

describe('the PrometheusRule', () => {
  const rules = at<{ rules: Record<string, unknown>[] }[]>(only(manifests, 'PrometheusRule'), 'spec.groups').flatMap((g) => g.rules);

  it('alerts on a failing route, a degraded route, late probes and stale discovery', () => {
    const alerts = rules.map((r) => r['alert']);
    for (const name of ['HopwatchRouteFailing', 'HopwatchRouteDegraded', 'HopwatchProbesLate', 'HopwatchDiscoveryStale']) expect(alerts).toContain(name);
  });

  const alerts = rules.filter((r) => r['alert'] !== undefined);
  const records = rules.filter((r) => r['record'] !== undefined);

  it.each(alerts.map((r) => [String(r['alert']), r] as const))('%s: expr, for, severity, summary and description', (_name, rule) => {
    expect(typeof rule['expr']).toBe('string');
    expect(String(rule['for'])).toMatch(/^\d+[smh]$/);
    expect(['critical', 'warning', 'info']).toContain(at(rule, 'labels.severity'));
    expect(at<string>(rule, 'annotations.summary').length).toBeGreaterThan(10);
    expect(at<string>(rule, 'annotations.description').length).toBeGreaterThan(10);
    // Balanced brackets: a cheap guard against a broken edit of the expression.
    const expr = String(rule['expr']).replace(/"(?:[^"\\]|\\.)*"/g, '');
    for (const [open, close] of ['()', '{}', '[]']) expect(expr.split(open as string).length, `${open} in ${expr}`).toBe(expr.split(close as string).length);
  });

  it.each(records.map((r) => [String(r['record']), r] as const))('recording rule %s: a level:metric:operations name, grouped by cluster', (name, rule) => {
    expect(name).toMatch(/^cluster[a-z_]*:hopwatch_[a-z0-9_]+:[a-z0-9_]+$/);
    // Grouped by cluster itself, or built on a recording rule that is.
    expect(String(rule['expr'])).toMatch(/by \(cluster,|\(cluster[a-z_]*:hopwatch_/);
  });

  it('keys every route alert and recording rule by cluster, and the summaries name it when there is one', () => {
    const routeRules = [...alerts.filter((r) => /^HopwatchRoute/.test(String(r['alert']))), ...records];
    expect(routeRules.length).toBeGreaterThanOrEqual(6);
    for (const rule of routeRules) expect(String(rule['expr']), String(rule['alert'] ?? rule['record'])).toMatch(/ by \(cluster, |\(cluster[a-z_]*:hopwatch_/);
    for (const rule of alerts.filter((r) => String(r['alert']) !== 'HopwatchAbsent')) expect(at<string>(rule, 'annotations.summary'), String(rule['alert'])).toContain('{{ with $labels.cluster }}');
  });
});

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(join(KUBERNETES_DIR, 'monitoring', 'grafana-dashboard.json'), 'utf8')) as {
    uid: string;
    title: string;
    templating: { list: { name: string; type: string }[] };
    panels: { id: number; type: string; title: string; datasource?: { uid: string }; gridPos: { x: number; w: number }; targets?: { expr?: string; datasource?: { uid: string } }[] }[];
  };

  it('selects its Prometheus through a datasource variable, and every panel queries it', () => {
    expect(dashboard).toMatchObject({ uid: 'hopwatch', title: 'hopwatch' });
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource' });
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.expr, panel.title).toMatch(/hopwatch_/);
        expect(target.datasource?.uid).toBe('${datasource}');
      }
    }
  });

  it('shows routes by verdict, failures by hop and cause over time, and hop latency by phase', () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr ?? '');
    expect(exprs.some((e) => /count by \(status\) \(max by \(cluster, namespace, ingress, kind, host, path, status\) \(hopwatch_route_verdict/.test(e))).toBe(true);
    expect(exprs.some((e) => /by \(cluster, hop, cause\) \(max by \(cluster, namespace, ingress, kind, host, path, hop, cause\) \(hopwatch_route_verdict/.test(e))).toBe(true);
    expect(exprs.some((e) => /histogram_quantile\(.*by \(le, hop, phase\) \(rate\(hopwatch_hop_duration_seconds_bucket/.test(e))).toBe(true);
  });
});

describe('the Grafana dashboard in a fleet', () => {
  const dashboard = JSON.parse(readFileSync(join(KUBERNETES_DIR, 'monitoring', 'grafana-dashboard.json'), 'utf8')) as {
    templating: { list: { name: string; type: string; includeAll?: boolean; allValue?: string; query?: { query: string } }[] };
    panels: { title: string; targets?: { expr: string }[] }[];
  };

  it('has a cluster variable whose "All" also matches series without a cluster label', () => {
    const cluster = dashboard.templating.list.find((v) => v.name === 'cluster');
    expect(cluster).toMatchObject({ type: 'query', includeAll: true, allValue: '.*', query: { query: 'label_values(hopwatch_build_info, cluster)' } });
    // ".*" matches the empty value, which is what a missing label is to a matcher.
    expect(new RegExp(`^(?:${cluster?.allValue ?? ''})$`).test('')).toBe(true);
  });

  it('filters every query by the cluster, and counts routes once per cluster whatever the number of replicas', () => {
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        expect(target.expr, panel.title).toContain('cluster=~"$cluster"');
        // A count or sum of route series first takes the max over replicas per route (kind tells an HTTPRoute from a same-named Ingress).
        if (/^(count|sum)\b.*hopwatch_route_verdict/.test(target.expr)) expect(target.expr, panel.title).toMatch(/max by \(cluster, namespace, ingress, kind, host, path/);
      }
    }
    const titles = dashboard.panels.map((p) => p.title);
    expect(titles).toEqual(expect.arrayContaining(['502 at the edge, across clusters', 'Leader (sends incident alerts)']));
  });
});

describe('kustomize', () => {
  const kubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
  const render = (dir: string): K8sObject[] => {
    const out = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    return parseAllDocuments(out.stdout).map((d) => d.toJS() as K8sObject);
  };
  const ids = (list: readonly K8sObject[]) => list.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();

  it('the image entry pins the package version for the Deployment\'s image', () => {
    const kustomization = parse(readFileSync(join(KUBERNETES_DIR, 'kustomization.yaml'), 'utf8')) as { images: { name: string; newTag: string }[] };
    expect(kustomization.images).toEqual([{ name: 'ghcr.io/hopwatch/hopwatch', newTag: VERSION }]);
  });

  it.skipIf(!kubectl)('kubectl kustomize renders both directories to exactly the manifests (plus the dashboard ConfigMap)', () => {
    const base = render(KUBERNETES_DIR);
    const monitoring = render(join(KUBERNETES_DIR, 'monitoring'));
    const inMonitoring = (o: K8sObject) => ['ServiceMonitor', 'PrometheusRule'].includes(o.kind);
    expect(ids(base)).toEqual(ids(objects.filter((o) => !inMonitoring(o))));
    expect(ids(monitoring)).toEqual(ids([...objects.filter(inMonitoring), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hopwatch-grafana-dashboard', namespace: NAMESPACE } }]));
    const generated = monitoring.find((o) => o.kind === 'ConfigMap');
    expect(generated?.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(JSON.parse(at<Record<string, string>>(generated, 'data')['hopwatch.json'] ?? 'null')).toMatchObject({ uid: 'hopwatch' });
  });
});
