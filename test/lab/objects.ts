// Pure: the lab's Kubernetes objects, built from its state the way the real controllers would
// (Deployment -> ReplicaSet -> Pods, Service + Pods -> EndpointSlice, Ingress status).

import { createHash } from 'node:crypto';
import type { AppSpec, IngressSpec, ManualSliceSpec, NetworkPolicySpec, PodFault, ServiceSpec } from './spec.js';

/** A plain JSON Kubernetes object as the lab's API server stores it. */
export type KubeObject = { apiVersion: string; kind: string; metadata: Record<string, unknown> } & Record<string, unknown>;

/** What the lab knows about one of its pods. */
export interface LabPodState {
  /** Namespace. */
  namespace: string;
  /** Pod name. */
  name: string;
  /** Owning Deployment (app) name. */
  app: string;
  /** Pod IP on loopback. */
  ip: string;
  /** Container port. */
  port: number;
  /** Container port name. */
  portName: string;
  /** Labels. */
  labels: Record<string, string>;
  /** Current fault. */
  fault: PodFault;
  /** pod-template-hash of its ReplicaSet. */
  templateHash: string;
  /** Whether the container declares an HTTP readiness probe. */
  readinessProbe: boolean;
  /** Restart count shown in the status. */
  restarts: number;
  /** Being deleted (deletionTimestamp set). */
  terminating: boolean;
}

/** The namespace of the lab's ingress controller. */
export const CONTROLLER_NAMESPACE = 'ingress-nginx';
/** Labels of the controller's pods (ingress-nginx's usual ones). */
export const CONTROLLER_LABELS = { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' };

function meta(name: string, namespace?: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return namespace === undefined ? { name, ...extra } : { name, namespace, ...extra };
}

/** A short stable hash, like pod-template-hash. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 10);
}

/** A Namespace with its kubernetes.io/metadata.name label. */
export function namespaceObject(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: meta(name, undefined, { labels: { 'kubernetes.io/metadata.name': name } }) };
}

/** An IngressClass for the lab's controller. */
export function ingressClassObject(name: string, isDefault: boolean, controller = 'k8s.io/ingress-nginx'): KubeObject {
  const annotations = isDefault ? { 'ingressclass.kubernetes.io/is-default-class': 'true' } : {};
  return { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: meta(name, undefined, { annotations }), spec: { controller } };
}

/** True when a pod with this fault fails an HTTP readiness probe on its port. */
export function failsReadiness(fault: PodFault): boolean {
  switch (fault.mode) {
    case 'healthy':
    case 'large-headers':
    case 'keepalive':
    case 'echo':
      return false;
    case 'status':
    case 'proxy-error':
      return fault.status < 200 || fault.status >= 400;
    case 'slow':
      return fault.delayMs >= 1000; // the kubelet's default probe timeout is 1 s
    case 'refuse':
    case 'loopback-only':
    case 'close':
    case 'reset':
    case 'tls':
    case 'h2c':
    case 'crashloop':
      return true;
  }
}

/** Whether the pod is Ready: a crash-looping container never is; a readiness probe excludes faults that fail it. */
export function isPodReady(pod: LabPodState): boolean {
  if (pod.terminating || pod.fault.mode === 'crashloop') return false;
  return !(pod.readinessProbe && failsReadiness(pod.fault));
}

function containerStatus(pod: LabPodState, ready: boolean): Record<string, unknown> {
  const crashing = pod.fault.mode === 'crashloop';
  const state = crashing
    ? { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } }
    : { running: { startedAt: '2026-01-01T00:00:00Z' } };
  const lastState = crashing || pod.restarts > 0 ? { terminated: { exitCode: 1, reason: 'Error' } } : {};
  return { name: 'app', ready, restartCount: pod.restarts, started: !crashing, image: 'lab/app:1', imageID: '', state, lastState };
}

/** The Pod object of a lab pod. */
export function podObject(pod: LabPodState): KubeObject {
  const ready = isPodReady(pod);
  const probe = pod.readinessProbe ? { readinessProbe: { httpGet: { path: '/healthz', port: pod.portName }, periodSeconds: 5 } } : {};
  const rs = `${pod.app}-${pod.templateHash}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta(pod.name, pod.namespace, {
      labels: { ...pod.labels, 'pod-template-hash': pod.templateHash },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: shortHash(`${pod.namespace}/${rs}`), controller: true }],
      ...(pod.terminating ? { deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 30 } : {}),
    }),
    spec: {
      containers: [{ name: 'app', image: 'lab/app:1', ports: [{ name: pod.portName, containerPort: pod.port, protocol: 'TCP' }], ...probe }],
    },
    status: {
      phase: 'Running',
      podIP: pod.ip,
      podIPs: [{ ip: pod.ip }],
      conditions: [
        { type: 'Ready', status: ready ? 'True' : 'False' },
        { type: 'ContainersReady', status: ready ? 'True' : 'False' },
      ],
      containerStatuses: [containerStatus(pod, ready)],
    },
  };
}

/** The Deployment of an app. */
export function deploymentObject(app: AppSpec, labels: Record<string, string>, templateHash: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(app.name, app.namespace, { labels }),
    spec: { replicas: app.replicas, selector: { matchLabels: labels }, template: { metadata: { labels } } },
    status: { replicas: app.replicas, observedGeneration: 1, labels: { 'pod-template-hash': templateHash } },
  };
}

/** The ReplicaSet of one revision of an app. */
export function replicaSetObject(app: AppSpec, labels: Record<string, string>, templateHash: string, replicas: number, revision: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: meta(`${app.name}-${templateHash}`, app.namespace, {
      labels: { ...labels, 'pod-template-hash': templateHash },
      annotations: { 'deployment.kubernetes.io/revision': String(revision) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: app.name, uid: shortHash(`${app.namespace}/${app.name}`), controller: true }],
    }),
    spec: { replicas, selector: { matchLabels: { ...labels, 'pod-template-hash': templateHash } } },
    status: { replicas, readyReplicas: replicas },
  };
}

/** The default selector of a ClusterIP Service. */
export function serviceSelector(spec: ServiceSpec): Record<string, string> {
  if (spec.selector === null) return {};
  return spec.selector ?? (spec.type === 'ExternalName' ? {} : { app: spec.name });
}

/** Service ports with the lab's defaults (one port 80 -> "http"). */
export function servicePorts(spec: ServiceSpec): { name?: string; port: number; targetPort: number | string; appProtocol?: string }[] {
  const ports = spec.ports ?? [{ name: 'http', port: 80, targetPort: 'http' }];
  return ports.map((p) => ({ ...p, targetPort: p.targetPort ?? p.port }));
}

/** The Service object. */
export function serviceObject(spec: ServiceSpec, clusterIP: string | null): KubeObject {
  const ports = servicePorts(spec).map((p) => ({ protocol: 'TCP', ...p }));
  if (spec.type === 'ExternalName') {
    return { apiVersion: 'v1', kind: 'Service', metadata: meta(spec.name, spec.namespace), spec: { type: 'ExternalName', externalName: spec.externalName, ports } };
  }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(spec.name, spec.namespace),
    spec: {
      type: 'ClusterIP',
      // A headless Service says so with clusterIP "None"; a Service without selector has no selector field.
      clusterIP: spec.clusterIP === 'None' ? 'None' : clusterIP,
      clusterIPs: spec.clusterIP === 'None' ? ['None'] : clusterIP ? [clusterIP] : [],
      ...(spec.selector === null ? {} : { selector: serviceSelector(spec) }),
      ports,
    },
  };
}

/** True when every selector label is on the pod. */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

/** The container port a Service port's targetPort resolves to on a pod, null when the name is unknown. */
export function resolveTargetPort(targetPort: number | string, pod: LabPodState): number | null {
  if (typeof targetPort === 'number') return targetPort;
  return targetPort === pod.portName ? pod.port : null;
}

/**
 * The EndpointSlices of a Service, as the EndpointSlice controller writes them: one slice per
 * distinct set of resolved port numbers (pods whose named targetPort maps to different numbers land
 * in different slices, kubernetes pkg/controller/endpointslice reconciler: slices are keyed by their
 * ports). The first group is "<service>-lab", the others "<service>-lab-<ports>". No group: one empty slice.
 */
export function endpointSliceObjects(spec: ServiceSpec, pods: LabPodState[]): KubeObject[] {
  const selector = serviceSelector(spec);
  const members = pods.filter((p) => p.namespace === spec.namespace && selects(selector, p.labels));
  const groups = new Map<string, LabPodState[]>();
  for (const member of members) {
    const numbers = servicePorts(spec).map((p) => resolveTargetPort(p.targetPort, member));
    // Pods whose named targetPort cannot be resolved are left out, as the real controller does.
    if (numbers.some((n) => n === null)) continue;
    const group = numbers.join('-');
    groups.set(group, [...(groups.get(group) ?? []), member]);
  }
  if (groups.size === 0) return [sliceObject(spec, `${spec.name}-lab`, [], [])];
  return [...groups.values()].map((group, index) => {
    const first = group[0] as LabPodState;
    const ports = servicePorts(spec).map((p) => ({ name: p.name ?? '', port: resolveTargetPort(p.targetPort, first) as number, protocol: 'TCP' }));
    const name = index === 0 ? `${spec.name}-lab` : `${spec.name}-lab-${ports.map((p) => p.port).join('-')}`;
    return sliceObject(spec, name, ports, group.map((m) => sliceEndpoint(m, true)));
  });
}

/** A hand-written EndpointSlice of a Service without selector: the app's pod addresses, no targetRef. */
export function manualSliceObject(spec: ManualSliceSpec, pods: LabPodState[]): KubeObject {
  const members = pods.filter((p) => p.namespace === spec.namespace && p.app === spec.app);
  const ports = spec.ports.map((p) => ({ ...(p.name !== undefined ? { name: p.name } : {}), port: p.port, protocol: 'TCP' }));
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: meta(spec.name, spec.namespace, { labels: { 'kubernetes.io/service-name': spec.service, 'endpointslice.kubernetes.io/managed-by': 'staff' } }),
    addressType: 'IPv4',
    endpoints: members.map((m) => sliceEndpoint(m, false)),
    ports,
  };
}

function sliceEndpoint(m: LabPodState, withRef: boolean): Record<string, unknown> {
  return {
    addresses: [m.ip],
    conditions: { ready: isPodReady(m), serving: m.fault.mode !== 'crashloop' && !(m.readinessProbe && failsReadiness(m.fault)), terminating: m.terminating },
    ...(withRef ? { targetRef: { kind: 'Pod', namespace: m.namespace, name: m.name } } : {}),
  };
}

function sliceObject(service: { namespace: string; name: string }, name: string, ports: unknown[], endpoints: unknown[]): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: meta(name, service.namespace, { labels: { 'kubernetes.io/service-name': service.name, 'endpointslice.kubernetes.io/managed-by': 'lab' } }),
    addressType: 'IPv4',
    endpoints: ports.length > 0 ? endpoints : [],
    ports,
  };
}

/** The Ingress object; when the lab's controller serves its class, status.loadBalancer points at the lab's edge. */
export function ingressObject(spec: IngressSpec, labClass: string, edgeIp: string, edgePort: number): KubeObject {
  const className = spec.className === undefined ? labClass : spec.className;
  const served = className === labClass;
  const backend = (b: { service: string; port: number | string }) => ({
    service: { name: b.service, port: typeof b.port === 'number' ? { number: b.port } : { name: b.port } },
  });
  const rules = (spec.rules ?? []).map((rule) => ({
    ...(rule.host ? { host: rule.host } : {}),
    http: { paths: rule.paths.map((p) => ({ path: p.path ?? '/', pathType: p.pathType ?? 'Prefix', backend: backend(p) })) },
  }));
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: meta(spec.name, spec.namespace, { annotations: spec.annotations ?? {} }),
    spec: {
      ...(className !== null ? { ingressClassName: className } : {}),
      ...(spec.defaultBackend ? { defaultBackend: backend(spec.defaultBackend) } : {}),
      ...(spec.tls ? { tls: spec.tls } : {}),
      rules,
    },
    // Only the controller serving the class writes the status: an Ingress of another class stays without address.
    status: { loadBalancer: served ? { ingress: [{ ip: edgeIp, ports: [{ port: edgePort, protocol: 'TCP' }] }] } : {} },
  };
}

/** The NetworkPolicy object. */
export function networkPolicyObject(spec: NetworkPolicySpec): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta(spec.name, spec.namespace), spec: spec.spec };
}
