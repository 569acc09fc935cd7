// The lab's workloads: pods (HTTP servers with faults), Services (L4 forwarders), and the objects
// that describe them, kept in step the way Kubernetes' own controllers would: a pod's fault decides
// its readiness, readiness decides the EndpointSlice, the EndpointSlice decides the forwarder's
// backends, and every Service gets its DNS name.

import { setTimeout as sleep } from 'node:timers/promises';
import type { LabAddresses } from './addresses.js';
import { CONTROLLER_HTTP_PORT } from './addresses.js';
import type { LabApiServer, LabObject } from './apiserver.js';
import type { DnsRecord, LabDns } from './dns.js';
import { admits, type LabPolicy, type PolicyPod, type PolicyWorld } from './netpol.js';
import {
  CONTROLLER_LABELS,
  CONTROLLER_NAMESPACE,
  deploymentObject,
  endpointSliceObjects,
  manualSliceObject,
  ingressClassObject,
  ingressObject,
  isPodReady,
  type KubeObject,
  type LabPodState,
  namespaceObject,
  networkPolicyObject,
  podObject,
  replicaSetObject,
  serviceObject,
  servicePorts,
  shortHash,
} from './objects.js';
import { type LabPod, startPod } from './pods.js';
import { type ServiceForwarder, startServiceForwarder } from './services.js';
import type { AppSpec, IngressSpec, LabSpec, ManualSliceSpec, NetworkPolicySpec, PodFault, ServiceSpec } from './spec.js';
import { readyEndpoints } from './nginx-config.js';
import type { V1EndpointSlice } from '@kubernetes/client-node';

/** What the cluster needs from the rest of the lab. */
export interface ClusterOptions {
  /** The API server the objects are written to. */
  api: LabApiServer;
  /** The lab's address block. */
  addresses: LabAddresses;
  /** The DNS server to keep in step with the Services. */
  dns: LabDns;
  /** The edge's IP, written into Ingress status. */
  edgeIp: string;
  /** The edge's port, written into Ingress status. */
  edgePort: number;
  /** The initial scenario. */
  spec: LabSpec;
}

interface PodEntry {
  state: LabPodState;
  server: LabPod;
}

/** A Deployment of the lab and its revisions. */
interface AppEntry {
  /** The spec it was added with (replicas: of the current revision). */
  spec: AppSpec;
  /** Pod labels (without pod-template-hash). */
  labels: Record<string, string>;
  /** Current revision (1 when added). */
  revision: number;
  /** pod-template-hash of the current revision. */
  hash: string;
  /** Every revision's hash and replicas, oldest first. */
  revisions: { revision: number; hash: string; replicas: number }[];
}

/** A new revision of an app's pods (a canary step): what `rollout` changes. */
export interface RolloutOptions {
  /** Pods of the new ReplicaSet; default the app's replicas. */
  replicas?: number;
  /** Fault of every new pod; default healthy (or slow when slowMs is given). */
  fault?: PodFault;
  /** Per-pod faults of the new pods by index, overriding `fault`. */
  podFaults?: Record<number, PodFault>;
  /** The new pods answer after this delay (a slower version): shorthand for fault { mode: 'slow', delayMs }. */
  slowMs?: number;
}

/** How the old pods go away at the end of a rollout. */
export interface FinishRolloutOptions {
  /** Time between the old pods turning terminating (endpoints ready: false) and their removal; default 0. */
  drainMs?: number;
  /**
   * When the old pods' servers stop: 'after-drain' (default; a preStop delay: the endpoint update goes
   * first, so controllers stop sending before the app exits) or 'first' (no preStop: the app exits at
   * once, while the EndpointSlice still lists it ready for endpointLagMs: the 502 burst of a drain).
   */
  serverStops?: 'after-drain' | 'first';
  /** With serverStops 'first': how long the stopped pods stay listed as ready; default 0. */
  endpointLagMs?: number;
  /**
   * The drain window also lasts until this settles (after drainMs): a test that probes inside the
   * window holds it open until it has probed, rather than racing a timer it cannot control under load.
   */
  holdUntil?: Promise<unknown>;
}

/** A revision created by `rollout`. */
export interface RolloutStep {
  /** The new revision number (deployment.kubernetes.io/revision). */
  revision: number;
  /** Its pod-template-hash. */
  templateHash: string;
  /** The new ReplicaSet's name. */
  replicaSet: string;
  /** The new pods' names. */
  pods: string[];
}

interface ServiceEntry {
  spec: ServiceSpec;
  clusterIP: string | null;
  forwarders: ServiceForwarder[];
  /** kube-proxy's rules are "missing": the forwarders get no backends, so the ClusterIP refuses. */
  down: boolean;
  /** Names of the EndpointSlices last written for it (groups that disappear are deleted). */
  slices: Set<string>;
}

const key = (namespace: string, name: string): string => `${namespace}/${name}`;
/** The kinds the lab's NetworkPolicy enforcement reads. */
const POLICY_INPUTS = new Set(['NetworkPolicy', 'Namespace', 'Pod']);
const CLUSTER_DOMAIN = 'cluster.local';

/** Pods, Services, Ingresses and policies of the lab. */
export class LabCluster {
  /** IngressClass of the lab's controller. */
  readonly ingressClass: string;
  /** Whether that class is the default. */
  readonly isDefaultClass: boolean;
  readonly #options: ClusterOptions;
  readonly #pods = new Map<string, PodEntry>();
  readonly #services = new Map<string, ServiceEntry>();
  readonly #apps = new Map<string, AppEntry>();
  readonly #manualSlices: ManualSliceSpec[] = [];
  readonly #controllerPods: { name: string; ip: string }[] = [];
  #nextPod = 0;
  #nextService = 0;
  #pending: Promise<unknown> = Promise.resolve();
  /** NetworkPolicy inputs, rebuilt after a NetworkPolicy, Namespace or Pod changes. */
  #world: PolicyWorld | null = null;
  readonly #unsubscribe: () => void;

  private constructor(options: ClusterOptions) {
    this.#options = options;
    this.ingressClass = options.spec.controller?.ingressClass ?? 'nginx';
    this.isDefaultClass = options.spec.controller?.isDefaultClass ?? true;
    this.#unsubscribe = options.api.onEvent((event) => {
      if (POLICY_INPUTS.has(event.object.kind)) this.#world = null;
    });
  }

  /** Creates the controller's objects and the scenario's workloads. */
  static async start(options: ClusterOptions): Promise<LabCluster> {
    const cluster = new LabCluster(options);
    const { spec } = options;
    for (const ns of spec.namespaces ?? []) cluster.#ensureNamespace(ns);
    cluster.#createController(spec.controller?.replicas ?? 2);
    for (const app of spec.apps ?? []) await cluster.addApp(app);
    cluster.#manualSlices.push(...(spec.endpointSlices ?? []));
    for (const service of spec.services ?? []) await cluster.addService(service);
    for (const ingress of spec.ingresses ?? []) cluster.addIngress(ingress);
    for (const policy of spec.networkPolicies ?? []) cluster.addNetworkPolicy(policy);
    await cluster.settle();
    return cluster;
  }

  /** The controller pods (name and IP). */
  controllerPods(): { name: string; ip: string }[] {
    return this.#controllerPods.map((p) => ({ ...p }));
  }

  /** The state of every lab pod. */
  pods(): LabPodState[] {
    return [...this.#pods.values()].map((p) => ({ ...p.state }));
  }

  /** The running pod server of a pod. */
  podServer(namespace: string, name: string): LabPod {
    const entry = this.#pods.get(key(namespace, name));
    if (!entry) throw new Error(`no lab pod ${namespace}/${name}`);
    return entry.server;
  }

  #apply(object: KubeObject): LabObject {
    return this.#options.api.apply(object as LabObject);
  }

  #ensureNamespace(name: string): void {
    if (!this.#options.api.get({ apiVersion: 'v1', kind: 'Namespace', name })) this.#apply(namespaceObject(name));
  }

  #createController(replicas: number): void {
    this.#ensureNamespace(CONTROLLER_NAMESPACE);
    this.#apply(ingressClassObject(this.ingressClass, this.isDefaultClass));
    const app: AppSpec = { namespace: CONTROLLER_NAMESPACE, name: 'ingress-nginx-controller', replicas, labels: CONTROLLER_LABELS, containerPort: CONTROLLER_HTTP_PORT };
    const hash = shortHash(`${app.namespace}/${app.name}/1`);
    this.#apply(deploymentObject(app, CONTROLLER_LABELS, hash));
    this.#apply(replicaSetObject(app, CONTROLLER_LABELS, hash, replicas, 1));
    for (let i = 0; i < replicas; i++) {
      const name = `${app.name}-${hash}-${i}`;
      const ip = this.#options.addresses.controller(i);
      this.#controllerPods.push({ name, ip });
      const state: LabPodState = {
        namespace: app.namespace, name, app: app.name, ip, port: CONTROLLER_HTTP_PORT, portName: 'http', labels: CONTROLLER_LABELS,
        fault: { mode: 'healthy' }, templateHash: hash, readinessProbe: false, restarts: 0, terminating: false,
      };
      this.#apply(podObject(state));
    }
    const service = serviceObject({ namespace: app.namespace, name: app.name, selector: CONTROLLER_LABELS, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }, null);
    this.#apply({ ...service, spec: { ...(service.spec as object), type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ ip: this.#options.edgeIp }] } } });
  }

  /** Adds a Deployment: its ReplicaSet, pods (servers on their own IPs) and objects. */
  async addApp(spec: AppSpec): Promise<void> {
    this.#ensureNamespace(spec.namespace);
    const labels = spec.labels ?? { app: spec.name };
    const hash = shortHash(`${spec.namespace}/${spec.name}/1`);
    const entry: AppEntry = { spec, labels, revision: 1, hash, revisions: [{ revision: 1, hash, replicas: spec.replicas }] };
    this.#apps.set(key(spec.namespace, spec.name), entry);
    this.#apply(replicaSetObject(spec, labels, hash, spec.replicas, 1));
    const started: Promise<void>[] = [];
    for (let i = 0; i < spec.replicas; i++) started.push(this.#addPod(spec, labels, hash, i));
    await Promise.all(started);
    this.#applyDeployment(entry);
    this.#refreshServices(spec.namespace);
  }

  /**
   * A canary step: a new ReplicaSet revision (new pod-template-hash, new pods on new IPs) while the
   * old ReplicaSets' pods keep running; the EndpointSlice lists both, so the Service and nginx send
   * traffic to both. The Deployment's revision annotation and status follow, as its controller does.
   */
  async rollout(namespace: string, app: string, options: RolloutOptions = {}): Promise<RolloutStep> {
    const entry = this.#apps.get(key(namespace, app));
    if (!entry) throw new Error(`no lab app ${namespace}/${app}`);
    const revision = entry.revision + 1;
    const hash = shortHash(`${namespace}/${app}/${revision}`);
    const replicas = options.replicas ?? entry.spec.replicas;
    const fault: PodFault = options.fault ?? (options.slowMs !== undefined ? { mode: 'slow', delayMs: options.slowMs } : { mode: 'healthy' });
    const spec: AppSpec = { ...entry.spec, replicas, fault, podFaults: options.podFaults ?? {} };
    Object.assign(entry, { spec, revision, hash });
    entry.revisions.push({ revision, hash, replicas });
    this.#apply(replicaSetObject(spec, entry.labels, hash, replicas, revision));
    await Promise.all(Array.from({ length: replicas }, (_, i) => this.#addPod(spec, entry.labels, hash, i)));
    this.#applyDeployment(entry);
    this.#refreshServices(namespace);
    await this.settle();
    return { revision, templateHash: hash, replicaSet: `${app}-${hash}`, pods: Array.from({ length: replicas }, (_, i) => `${app}-${hash}-${i}`) };
  }

  /**
   * Ends a rollout: the older revisions' pods turn terminating (deletionTimestamp; EndpointSlice
   * ready: false, terminating: true), then after drainMs they are removed and their ReplicaSets
   * scaled to 0. When their servers stop, relative to the endpoint update, is options.serverStops.
   */
  async finishRollout(namespace: string, app: string, options: FinishRolloutOptions = {}): Promise<string[]> {
    const entry = this.#apps.get(key(namespace, app));
    if (!entry) throw new Error(`no lab app ${namespace}/${app}`);
    const old = [...this.#pods.values()].filter((p) => p.state.namespace === namespace && p.state.app === app && p.state.templateHash !== entry.hash);
    if (options.serverStops === 'first') {
      await Promise.all(old.map((p) => p.server.stop()));
      if (options.endpointLagMs) await sleep(options.endpointLagMs);
    }
    for (const pod of old) {
      pod.state.terminating = true;
      this.#apply(podObject(pod.state));
    }
    this.#refreshServices(namespace);
    await this.settle();
    if (options.drainMs) await sleep(options.drainMs);
    if (options.holdUntil) await options.holdUntil.catch(() => undefined);
    await Promise.all(old.map((p) => p.server.stop()));
    for (const pod of old) {
      this.#pods.delete(key(namespace, pod.state.name));
      this.#options.api.delete({ apiVersion: 'v1', kind: 'Pod', namespace, name: pod.state.name });
    }
    for (const r of entry.revisions) {
      if (r.hash !== entry.hash) this.#apply(replicaSetObject({ ...entry.spec, replicas: 0 }, entry.labels, r.hash, 0, r.revision));
    }
    this.#applyDeployment(entry);
    this.#refreshServices(namespace);
    await this.settle();
    return old.map((p) => p.state.name);
  }

  /** The Deployment as its controller keeps it: the template of the current revision, its revision annotation, status counts. */
  #applyDeployment(entry: AppEntry): void {
    const { spec, labels, hash, revision } = entry;
    const base = deploymentObject(spec, labels, hash);
    const baseSpec = base['spec'] as Record<string, unknown>;
    const applied = this.#apply({
      ...base,
      metadata: { ...base.metadata, annotations: { 'deployment.kubernetes.io/revision': String(revision) } },
      // The template changes with each revision (as an image change would), so the generation moves.
      spec: { ...baseSpec, template: { metadata: { labels, annotations: { 'lab.hopwatch.io/template': hash } } } },
    });
    const pods = [...this.#pods.values()].map((p) => p.state).filter((p) => p.namespace === spec.namespace && p.app === spec.name && !p.terminating);
    const ready = pods.filter(isPodReady).length;
    this.#options.api.patchStatus(
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: spec.namespace, name: spec.name },
      { observedGeneration: applied.metadata.generation ?? 1, replicas: pods.length, updatedReplicas: pods.filter((p) => p.templateHash === hash).length, readyReplicas: ready, availableReplicas: ready },
    );
  }

  async #addPod(spec: AppSpec, labels: Record<string, string>, hash: string, index: number): Promise<void> {
    const fault = spec.podFaults?.[index] ?? spec.fault ?? { mode: 'healthy' };
    const ip = this.#options.addresses.pod(this.#nextPod++);
    const state: LabPodState = {
      namespace: spec.namespace, name: `${spec.name}-${hash}-${index}`, app: spec.name, ip, port: spec.podPorts?.[index] ?? spec.containerPort ?? 8080,
      portName: spec.portName ?? 'http', labels, fault, templateHash: hash, readinessProbe: spec.readinessProbe ?? false,
      restarts: fault.mode === 'crashloop' ? 5 : 0, terminating: false,
    };
    const server = await startPod({ name: state.name, ip, port: state.port, fault, server: spec.server ?? 'node', admit: (source, port) => this.#admit(state, source, port) });
    this.#pods.set(key(state.namespace, state.name), { state, server });
    this.#apply(podObject(state));
  }

  /** Adds a Service: its ClusterIP forwarders, EndpointSlice and DNS name. */
  async addService(spec: ServiceSpec): Promise<void> {
    this.#ensureNamespace(spec.namespace);
    const external = spec.type === 'ExternalName';
    // A headless Service has no ClusterIP: nothing forwards for it (clients use the endpoints).
    const clusterIP = external || spec.clusterIP === 'None' ? null : this.#options.addresses.service(this.#nextService++);
    const forwarders = clusterIP ? await Promise.all(servicePorts(spec).map((p) => startServiceForwarder({ ip: clusterIP, port: p.port }))) : [];
    this.#services.set(key(spec.namespace, spec.name), { spec, clusterIP, forwarders, down: false, slices: new Set() });
    this.#apply(serviceObject(spec, clusterIP));
    this.#refreshServices(spec.namespace);
    this.#refreshDns();
  }

  /** Adds or replaces an Ingress, with status pointing at the edge. */
  addIngress(spec: IngressSpec): void {
    this.#ensureNamespace(spec.namespace);
    this.#apply(ingressObject(spec, this.ingressClass, this.#options.edgeIp, this.#options.edgePort));
  }

  /** Adds or replaces a NetworkPolicy (enforced by the pods from then on). */
  addNetworkPolicy(spec: NetworkPolicySpec): void {
    this.#ensureNamespace(spec.namespace);
    this.#apply(networkPolicyObject(spec));
  }

  /** Switches one pod's fault, then its status, endpoints and forwarders follow. */
  async setPodFault(namespace: string, name: string, fault: PodFault): Promise<void> {
    const entry = this.#pods.get(key(namespace, name));
    if (!entry) throw new Error(`no lab pod ${namespace}/${name}`);
    entry.state.fault = fault;
    if (fault.mode === 'crashloop') entry.state.restarts = Math.max(entry.state.restarts, 5);
    await entry.server.setFault(fault);
    this.#apply(podObject(entry.state));
    this.#refreshServices(namespace);
    const app = this.#apps.get(key(namespace, entry.state.app));
    if (app) this.#applyDeployment(app);
  }

  /** Breaks or mends a Service's ClusterIP (its EndpointSlice stays as it is). */
  async setServiceDown(namespace: string, name: string, down: boolean): Promise<void> {
    const entry = this.#services.get(key(namespace, name));
    if (!entry) throw new Error(`no lab service ${namespace}/${name}`);
    entry.down = down;
    this.#refreshServices(namespace);
    await this.settle();
  }

  /** Switches the fault of every pod of an app. */
  async setAppFault(namespace: string, app: string, fault: PodFault): Promise<void> {
    const names = [...this.#pods.values()].filter((p) => p.state.namespace === namespace && p.state.app === app).map((p) => p.state.name);
    if (names.length === 0) throw new Error(`no lab app ${namespace}/${app}`);
    for (const name of names) await this.setPodFault(namespace, name, fault);
  }

  /** Rewrites the EndpointSlices of a namespace's Services and re-points their forwarders. */
  #refreshServices(namespace: string): void {
    const pods = [...this.#pods.values()].map((p) => p.state);
    for (const entry of this.#services.values()) {
      if (entry.spec.namespace !== namespace || entry.spec.type === 'ExternalName') continue;
      const slices = this.#writeSlices(entry, pods);
      const ports = servicePorts(entry.spec);
      entry.forwarders.forEach((forwarder, i) => {
        const port = ports[i];
        if (!port || entry.down) return this.#track(forwarder.setBackends([]));
        // kube-proxy forwards to the ready endpoints of the slices, as ingress-nginx reads them.
        const servicePort = { name: port.name ?? '', port: port.port, targetPort: port.targetPort, protocol: 'TCP' };
        const backends = readyEndpoints(slices as unknown as V1EndpointSlice[], namespace, entry.spec.name, servicePort).map((target) => {
          const [ip, number] = target.split(':');
          return { ip: ip ?? '', port: Number(number) };
        });
        this.#track(forwarder.setBackends(backends));
      });
    }
  }

  /** The Service's slices: the controller's for a selector, the hand-written ones without; stale ones deleted. */
  #writeSlices(entry: ServiceEntry, pods: LabPodState[]): KubeObject[] {
    const { spec } = entry;
    const slices = spec.selector === null
      ? this.#manualSlices.filter((m) => m.namespace === spec.namespace && m.service === spec.name).map((m) => manualSliceObject(m, pods))
      : endpointSliceObjects(spec, pods);
    const names = new Set(slices.map((slice) => String((slice.metadata as { name: string }).name)));
    for (const stale of entry.slices) {
      if (!names.has(stale)) this.#options.api.delete({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', namespace: spec.namespace, name: stale });
    }
    for (const slice of slices) this.#apply(slice);
    entry.slices = names;
    return slices;
  }

  #refreshDns(): void {
    // A headless Service's name would resolve to its pods' addresses; the lab's hops never ask for it.
    const named = [...this.#services.values()].filter(({ spec }) => spec.clusterIP !== 'None');
    const records: DnsRecord[] = named.map(({ spec, clusterIP }) => {
      const name = `${spec.name}.${spec.namespace}.svc.${CLUSTER_DOMAIN}`;
      return clusterIP ? { name, address: clusterIP } : { name, cname: spec.externalName ?? 'missing.invalid' };
    });
    this.#track(this.#options.dns.setRecords(records));
  }

  #track(work: Promise<unknown>): void {
    this.#pending = Promise.all([this.#pending, work]);
  }

  /** Resolves once forwarders and DNS reflect every change so far. */
  async settle(): Promise<void> {
    let current: Promise<unknown>;
    do {
      current = this.#pending;
      await current;
    } while (current !== this.#pending);
  }

  /** The policy world, built once per change of the objects it reads (a pod request must not list the cluster). */
  #policyWorld(): PolicyWorld {
    this.#world ??= this.#buildPolicyWorld();
    return this.#world;
  }

  #buildPolicyWorld(): PolicyWorld {
    const { api } = this.#options;
    const policies = api.list('networking.k8s.io/v1', 'NetworkPolicy').map((p) => ({ namespace: p.metadata.namespace ?? 'default', spec: p['spec'] }) as LabPolicy);
    const namespaceLabels = Object.fromEntries(api.list('v1', 'Namespace').map((n) => [n.metadata.name, n.metadata.labels ?? {}]));
    const podsByIp = new Map<string, PolicyPod>();
    for (const { state } of this.#pods.values()) podsByIp.set(state.ip, { namespace: state.namespace, labels: state.labels, ip: state.ip, ports: { [state.portName]: state.port } });
    for (const c of this.#controllerPods) podsByIp.set(c.ip, { namespace: CONTROLLER_NAMESPACE, labels: CONTROLLER_LABELS, ip: c.ip, ports: {} });
    // Pods other parts of the lab run (the HAProxy controller's), known by the IP of their Pod objects.
    for (const p of api.list('v1', 'Pod')) {
      const ip = (p['status'] as { podIP?: string } | undefined)?.podIP;
      if (ip && !podsByIp.has(ip)) podsByIp.set(ip, { namespace: p.metadata.namespace ?? 'default', labels: p.metadata.labels ?? {}, ip, ports: {} });
    }
    return { policies, namespaceLabels, podsByIp };
  }

  #admit(pod: LabPodState, sourceIp: string, port: number): boolean {
    const target: PolicyPod = { namespace: pod.namespace, labels: pod.labels, ip: pod.ip, ports: { [pod.portName]: pod.port } };
    return admits(this.#policyWorld(), target, sourceIp, port);
  }

  /** Stops every pod and forwarder. */
  async stop(): Promise<void> {
    this.#unsubscribe();
    await this.settle().catch(() => undefined);
    const servers = [...this.#pods.values()].map((p) => p.server.stop());
    const forwarders = [...this.#services.values()].flatMap((s) => s.forwarders.map((f) => f.stop()));
    await Promise.all([...servers, ...forwarders]);
  }
}
