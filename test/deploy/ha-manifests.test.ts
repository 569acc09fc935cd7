// deploy/kubernetes-ha: two replicas over the base manifests. Its only write access is create/get/
// update on Leases in hopwatch's namespace (a Role), the StatefulSet's pod is the base Deployment's
// pod plus the replica identity and a spread over nodes, a claim per replica, a PodDisruptionBudget,
// and a config that is the base's with leader election on. `kubectl kustomize` renders it whole.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { at, type K8sObject, KUBERNETES_DIR, loadManifests, only } from './manifests.js';

const HA_DIR = join(KUBERNETES_DIR, '..', 'kubernetes-ha');
const base = loadManifests();
const overlay = loadManifests(HA_DIR);
const kubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
const READ_VERBS = new Set(['get', 'list', 'watch']);

describe('deploy/kubernetes-ha files', () => {
  it('the Role grants create, get and update on Leases in hopwatch\'s namespace, bound to hopwatch\'s ServiceAccount', () => {
    const role = only(overlay, 'Role');
    expect(role.metadata.namespace).toBe('hopwatch');
    expect(at<Rule[]>(role, 'rules')).toEqual([{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'get', 'update'] }]);
    const binding = only(overlay, 'RoleBinding');
    expect(at(binding, 'roleRef')).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    expect(at(binding, 'subjects')).toEqual([{ kind: 'ServiceAccount', name: 'hopwatch', namespace: 'hopwatch' }]);
  });

  it('the StatefulSet\'s pod is the base Deployment\'s, plus POD_NAME and a spread of one replica per node', () => {
    const set = only(overlay, 'StatefulSet');
    expect(at(set, 'spec.replicas')).toBe(2);
    const pod = at<Record<string, unknown>>(set, 'spec.template.spec');
    const basePod = at<Record<string, unknown>>(only(base, 'Deployment'), 'spec.template.spec');
    const { topologySpreadConstraints, containers, volumes, ...rest } = pod;
    const { containers: baseContainers, volumes: baseVolumes, ...baseRest } = basePod;
    expect(rest).toEqual(baseRest);
    const [container] = containers as Record<string, unknown>[];
    const [baseContainer] = baseContainers as Record<string, unknown>[];
    const env = at<{ name: string }[]>(container, 'env');
    expect(env[0]).toEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    expect({ ...container, env: env.slice(1) }).toEqual(baseContainer);
    // The claim comes from the template, one per replica; the other volumes are the base's.
    expect(volumes).toEqual((baseVolumes as { name: string }[]).filter((v) => v.name !== 'data'));
    expect(at(set, 'spec.volumeClaimTemplates')).toEqual([expect.objectContaining({ metadata: expect.objectContaining({ name: 'data' }), spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } } })]);
    expect(topologySpreadConstraints).toContainEqual(expect.objectContaining({ topologyKey: 'kubernetes.io/hostname', maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule' }));
    expect(at(set, 'spec.serviceName')).toBe(only(overlay, 'Service', 'hopwatch-replicas').metadata.name);
  });

  it('the PodDisruptionBudget and the per-replica Service select the pods', () => {
    const labels = at<Record<string, string>>(only(overlay, 'StatefulSet'), 'spec.template.metadata.labels');
    expect(labels).toMatchObject(at<Record<string, string>>(only(overlay, 'PodDisruptionBudget'), 'spec.selector.matchLabels'));
    expect(at(only(overlay, 'PodDisruptionBudget'), 'spec.maxUnavailable')).toBe(1);
    const replicas = only(overlay, 'Service', 'hopwatch-replicas');
    expect(labels).toMatchObject(at<Record<string, string>>(replicas, 'spec.selector'));
    expect(at(replicas, 'spec.clusterIP')).toBe('None');
  });

  it('the config is the base\'s with leader election on (the real loader)', () => {
    const text = (m: K8sObject) => at<Record<string, string>>(m, 'data')['hopwatch.yaml'] ?? '';
    const ha = loadConfig({ file: 'configmap-ha.yaml', text: text(only(overlay, 'ConfigMap')) });
    const single = loadConfig({ file: 'configmap.yaml', text: text(only(base, 'ConfigMap')) });
    expect(ha.ha).toMatchObject({ enabled: true, leaseName: 'hopwatch', leaseNamespace: null, identity: null });
    expect(ha.ha.renewEveryMs * 2).toBeLessThanOrEqual(ha.ha.leaseDurationMs);
    expect({ ...ha, ha: single.ha }).toEqual(single);
  });
});

describe.skipIf(!kubectl)('kubectl kustomize deploy/kubernetes-ha', () => {
  const rendered = (): K8sObject[] => {
    const out = spawnSync('kubectl', ['kustomize', HA_DIR], { encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    return parseAllDocuments(out.stdout).map((d) => d.toJS() as K8sObject);
  };

  it('replaces the Deployment and its claim, keeps the rest, and its only write verbs are the Role\'s', () => {
    const objects = rendered();
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual(['ClusterRole/hopwatch', 'ClusterRoleBinding/hopwatch', 'ConfigMap/hopwatch-config', 'Namespace/hopwatch', 'PodDisruptionBudget/hopwatch', 'Role/hopwatch-leader-election', 'RoleBinding/hopwatch-leader-election', 'Service/hopwatch', 'Service/hopwatch-replicas', 'ServiceAccount/hopwatch', 'StatefulSet/hopwatch']);
    const writes = objects
      .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')
      .flatMap((o) => at<Rule[]>(o, 'rules').flatMap((r) => r.verbs.filter((v) => !READ_VERBS.has(v)).map((v) => `${o.kind} ${o.metadata.namespace ?? '-'} ${r.resources.join(',')} ${v}`)));
    expect(writes.sort()).toEqual(['Role hopwatch leases create', 'Role hopwatch leases update']);
    const image = at<{ image: string }[]>(objects.find((o) => o.kind === 'StatefulSet'), 'spec.template.spec.containers')[0]?.image;
    expect(image).toBe(at<{ image: string }[]>(only(base, 'Deployment'), 'spec.template.spec.containers')[0]?.image);
    expect(at<Record<string, string>>(objects.find((o) => o.kind === 'ConfigMap'), 'data')['hopwatch.yaml']).toContain('enabled: true');
  });
});
