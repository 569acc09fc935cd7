// The lab: a Kubernetes cluster on loopback that speaks the real wire protocol. An API server, pods
// as HTTP servers, Services as L4 forwarders, real nginx as the ingress controller, an edge load
// balancer and real dnsmasq, all in one 127.B.0.0/16 block. See addresses.ts for the layout.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { API_PORT, candidateBlocks, CONTROLLER_HTTP_PORT, DNS_PORT, EDGE_HTTP_PORT, LabAddresses } from './addresses.js';
import { type LabApiServer, type LabObject, LabApiServer as ApiServer } from './apiserver.js';
import { type FinishRolloutOptions, LabCluster, type RolloutOptions, type RolloutStep } from './cluster.js';
import { type ControllerFault, LabController, type LabHaproxy, startLabHaproxy } from './controller.js';
import { type LabDns, startDns } from './dns.js';
import { type LabEdge, startEdge } from './edge.js';
import { GATEWAY_V1 } from './gateway-api.js';
import { LabGateway } from './gateway.js';
import { writeKubeconfig } from './kubeconfig.js';
import type { ProxyTimeouts } from './nginx-config.js';
import { CONTROLLER_LABELS, CONTROLLER_NAMESPACE, namespaceObject } from './objects.js';
import type { AppSpec, HttpRouteSpec, IngressSpec, LabSpec, NetworkPolicySpec, PodFault, ReferenceGrantSpec, ServiceSpec } from './spec.js';

/** The lab's shortened proxy timeouts (ingress-nginx's defaults are 5 s / 60 s / 60 s). */
export const LAB_TIMEOUTS: Readonly<ProxyTimeouts> = Object.freeze({ connectMs: 1000, readMs: 2000, sendMs: 2000 });
/**
 * How long the lab's controllers keep idle upstream connections (ingress-nginx's default is 60 s): above
 * the ~1.1 s a lab pod in keepalive mode really idles (Node 20 adds 1 s to keepAliveTimeout), below
 * the ~5-6 s of a healthy one, and short enough that measuring it stays cheap.
 */
export const LAB_UPSTREAM_KEEPALIVE_MS = 2000;
/** The HAProxy controller's edge port (beside the nginx edge on the same IP). */
export const HAPROXY_EDGE_PORT = EDGE_HTTP_PORT + 1;

/** The kubeconfig context of every lab. */
export const LAB_CONTEXT = 'hopwatch-lab';

/** What the generated hopwatch configuration tells hopwatch about the lab's controllers. */
export interface HopwatchConfigOptions {
  /** Declare the controllers' timeouts and keep-alive windows (default true); false: hopwatch assumes each kind's defaults, as with a ConfigMap nobody told it about. */
  declareSettings?: boolean;
  /** The kind each IngressClass's controller is declared as (default ingress-nginx for nginx, haproxy for haproxy); 'generic' is a proxy hopwatch knows nothing of. */
  kinds?: Record<string, string>;
}

/** Options of startLab. */
export interface LabOptions {
  /** Proxy timeouts of the controller; default LAB_TIMEOUTS. */
  timeouts?: Partial<ProxyTimeouts>;
  /** Per-hop deadline hopwatch's generated config uses; default 5000 (above nginx's retries across two pods). */
  probeTimeoutMs?: number;
  /** Also run HAProxy as a second controller for IngressClass "haproxy" (pods 127.B.3.129+, edge port 18081); default off. Its timeouts default to nginx's. */
  haproxy?: boolean | { replicas?: number; timeouts?: Partial<ProxyTimeouts> };
}

/** A running lab. */
export interface Lab {
  /** The loopback block and its addresses. */
  readonly addresses: LabAddresses;
  /** Scratch directory (kubeconfig, nginx prefixes, dnsmasq files); removed by stop(). */
  readonly dir: string;
  /** The API server (programmatic API and fault switches). */
  readonly api: LabApiServer;
  /** Path of the generated kubeconfig. */
  readonly kubeconfigPath: string;
  /** The edge users hit, e.g. http://127.7.0.80:18080. */
  readonly edgeUrl: string;
  /** The edge load balancer (fault switches). */
  readonly edge: LabEdge;
  /** The ingress controller (its replicas and fault switches). */
  readonly controller: LabController;
  /** The DNS server "ip:port". */
  readonly dnsServer: string;
  /** The DNS server (records, pid). */
  readonly dns: LabDns;
  /** The controller's proxy timeouts. */
  readonly timeouts: ProxyTimeouts;
  /** Pods, Services and their objects. */
  readonly cluster: LabCluster;
  /** The HAProxy controller and its edge, null unless started with options.haproxy. */
  readonly haproxy: LabHaproxy | null;
  /** The Gateway API implementation (its data planes and fault switches), null unless the spec has gatewayApi. */
  readonly gateway: LabGateway | null;
  /** Adds or replaces an HTTPRoute (the Gateway API must be installed). */
  addHttpRoute(spec: HttpRouteSpec): Promise<void>;
  /** Deletes an HTTPRoute. */
  removeHttpRoute(namespace: string, name: string): Promise<void>;
  /** Adds or replaces a ReferenceGrant (v1beta1). */
  addReferenceGrant(spec: ReferenceGrantSpec): Promise<void>;
  /** Adds a Deployment of pods. */
  addApp(spec: AppSpec): Promise<void>;
  /** Adds a Service (with its forwarder, EndpointSlice and DNS record). */
  addService(spec: ServiceSpec): Promise<void>;
  /** Adds or replaces an Ingress. */
  addIngress(spec: IngressSpec): Promise<void>;
  /** Deletes an Ingress. */
  removeIngress(namespace: string, name: string): Promise<void>;
  /** Adds or replaces a NetworkPolicy. */
  addNetworkPolicy(spec: NetworkPolicySpec): Promise<void>;
  /** Switches one pod's fault (and its readiness, endpoints and status with it). */
  setPodFault(namespace: string, pod: string, fault: PodFault): Promise<void>;
  /** Switches the fault of every pod of an app. */
  setAppFault(namespace: string, app: string, fault: PodFault): Promise<void>;
  /** Breaks (or mends) a Service's ClusterIP forwarding, as when kube-proxy's rules are missing: the ClusterIP refuses. */
  setServiceDown(namespace: string, name: string, down: boolean): Promise<void>;
  /** Stages a fault on one controller replica. */
  setControllerFault(index: number, fault: ControllerFault): Promise<void>;
  /** A canary step: a new ReplicaSet revision of an app beside the old one (both get traffic); resolves once nginx has it. */
  rollout(namespace: string, app: string, options?: RolloutOptions): Promise<RolloutStep>;
  /** Ends a rollout: the old revisions' pods turn terminating, then go; returns their names. */
  finishRollout(namespace: string, app: string, options?: FinishRolloutOptions): Promise<string[]>;
  /** Resolves once nginx and DNS reflect every change made so far. */
  settle(): Promise<void>;
  /** hopwatch's configuration for this lab, as YAML (by default it declares the controllers' real settings). */
  hopwatchConfig(options?: HopwatchConfigOptions): string;
  /** A human description of the lab: addresses and timeouts. */
  describe(): string;
  /** Stops every process and server; removes the scratch directory. */
  stop(): Promise<void>;
}

async function claimBlock(): Promise<{ addresses: LabAddresses; api: LabApiServer }> {
  for (const block of candidateBlocks(process.pid + Math.floor(Math.random() * 1000))) {
    const addresses = new LabAddresses(block);
    try {
      return { addresses, api: await ApiServer.start({ host: addresses.api, port: API_PORT }) };
    } catch (error) {
      // Another lab (another test file, another process) holds this block: try the next one.
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    }
  }
  throw new Error('every lab block 127.1-250.0.0/16 is in use');
}

class RunningLab implements Lab {
  readonly edgeUrl: string;
  readonly dnsServer: string;
  haproxy: LabHaproxy | null = null;
  gateway: LabGateway | null = null;

  constructor(
    readonly addresses: LabAddresses,
    readonly dir: string,
    readonly api: LabApiServer,
    readonly kubeconfigPath: string,
    readonly edge: LabEdge,
    readonly controller: LabController,
    readonly dns: LabDns,
    readonly cluster: LabCluster,
    readonly timeouts: ProxyTimeouts,
    readonly probeTimeoutMs: number,
  ) {
    this.edgeUrl = `http://${addresses.edge}:${EDGE_HTTP_PORT}`;
    this.dnsServer = dns.server;
  }

  addApp(spec: AppSpec): Promise<void> {
    return this.cluster.addApp(spec);
  }

  addService(spec: ServiceSpec): Promise<void> {
    return this.cluster.addService(spec);
  }

  async addIngress(spec: IngressSpec): Promise<void> {
    this.cluster.addIngress(spec);
  }

  async removeIngress(namespace: string, name: string): Promise<void> {
    this.api.delete({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace, name });
  }

  async addNetworkPolicy(spec: NetworkPolicySpec): Promise<void> {
    this.cluster.addNetworkPolicy(spec);
  }

  async addHttpRoute(spec: HttpRouteSpec): Promise<void> {
    applyHttpRoute(this.api, spec);
    await this.settle();
  }

  async removeHttpRoute(namespace: string, name: string): Promise<void> {
    this.api.delete({ apiVersion: GATEWAY_V1, kind: 'HTTPRoute', namespace, name });
    await this.settle();
  }

  async addReferenceGrant(spec: ReferenceGrantSpec): Promise<void> {
    applyReferenceGrant(this.api, spec);
    await this.settle();
  }

  setPodFault(namespace: string, pod: string, fault: PodFault): Promise<void> {
    return this.cluster.setPodFault(namespace, pod, fault);
  }

  setAppFault(namespace: string, app: string, fault: PodFault): Promise<void> {
    return this.cluster.setAppFault(namespace, app, fault);
  }

  setServiceDown(namespace: string, name: string, down: boolean): Promise<void> {
    return this.cluster.setServiceDown(namespace, name, down);
  }

  setControllerFault(index: number, fault: ControllerFault): Promise<void> {
    return this.controller.setFault(index, fault);
  }

  async rollout(namespace: string, app: string, options?: RolloutOptions): Promise<RolloutStep> {
    const step = await this.cluster.rollout(namespace, app, options);
    await this.settle();
    return step;
  }

  async finishRollout(namespace: string, app: string, options?: FinishRolloutOptions): Promise<string[]> {
    const removed = await this.cluster.finishRollout(namespace, app, options);
    await this.settle();
    return removed;
  }

  async settle(): Promise<void> {
    await this.cluster.settle();
    await this.controller.settle();
    await this.haproxy?.settle();
    await this.gateway?.settle();
  }

  hopwatchConfig(options: HopwatchConfigOptions = {}): string {
    const declared = (controller: Record<string, unknown>): Record<string, unknown> => {
      const { settings, ...rest } = controller;
      const kind = options.kinds?.[String(rest['ingressClass'])];
      return { ...rest, ...(kind === undefined ? {} : { kind }), ...(options.declareSettings === false ? {} : { settings }) };
    };
    return stringify({
      cluster: { kubeconfig: this.kubeconfigPath, context: LAB_CONTEXT, clusterDomain: 'cluster.local', dnsServer: this.dnsServer },
      controllers: [
        {
          ingressClass: this.cluster.ingressClass,
          kind: 'ingress-nginx',
          edge: this.edgeUrl,
          pods: {
            namespace: CONTROLLER_NAMESPACE,
            selector: Object.entries(CONTROLLER_LABELS).map(([k, v]) => `${k}=${v}`).join(','),
            httpPort: CONTROLLER_HTTP_PORT,
            httpsPort: CONTROLLER_HTTP_PORT + 363,
          },
          upstream: 'endpoints',
          settings: { connectTimeoutMs: this.timeouts.connectMs, readTimeoutMs: this.timeouts.readMs, upstreamKeepaliveTimeoutMs: LAB_UPSTREAM_KEEPALIVE_MS },
        },
        ...(this.haproxy ? [this.haproxy.hopwatchController()] : []),
      ].map(declared),
      // The Gateways' edges and pods are found without configuration; only the lab's shortened timeouts are told.
      ...(this.gateway ? { gateways: [...this.gateway.planes.values()].map((plane) => ({
        namespace: plane.spec.namespace,
        name: plane.spec.name,
        settings: { connectTimeoutMs: this.timeouts.connectMs, readTimeoutMs: this.timeouts.readMs },
      })) } : {}),
      probe: { timeoutMs: this.probeTimeoutMs, concurrency: 64 },
    });
  }

  describe(): string {
    const t = this.timeouts;
    return [
      `lab block 127.${this.addresses.block}.0.0/16`,
      `  API server   ${this.api.url}   (kubeconfig ${this.kubeconfigPath}, context ${LAB_CONTEXT})`,
      `  edge         ${this.edgeUrl}`,
      `  controllers  ${this.controller.replicas.map((r) => `${r.name} ${r.ip}:${r.port}`).join(', ')} (nginx)`,
      `  DNS          ${this.dnsServer}`,
      `  nginx timeouts: connect ${t.connectMs} ms, read ${t.readMs} ms, send ${t.sendMs} ms (ingress-nginx defaults: 5 s, 60 s, 60 s)`,
      ...(this.haproxy ? [`  haproxy      ${this.haproxy.controller.replicas.map((r) => `${r.name} ${r.ip}:${r.port}`).join(', ')}, edge ${this.haproxy.edgeUrl} (class haproxy)`] : []),
      ...[...(this.gateway?.planes.values() ?? [])].map(
        (p) => `  gateway      ${p.spec.namespace}/${p.spec.name} at ${p.address} (listeners ${p.spec.listeners.map((l) => `${l.name}:${l.port}`).join(', ')}), data plane ${p.replicas.map((r) => `${r.name} ${r.ip}`).join(', ')} (nginx, class lab-nginx)`,
      ),
    ].join('\n');
  }

  async stop(): Promise<void> {
    const steps = [async () => this.gateway?.stop(), async () => this.haproxy?.stop(), () => this.edge.stop(), () => this.controller.stop(), () => this.dns.stop(), () => this.cluster.stop(), () => this.api.stop()];
    const errors: unknown[] = [];
    // Stop everything even when one part fails, so no process is left behind.
    for (const step of steps) await step().catch((error: unknown) => errors.push(error));
    await rm(this.dir, { recursive: true, force: true });
    if (errors.length > 0) throw new AggregateError(errors, 'the lab did not stop cleanly');
  }
}

/** Starts a lab running the scenario; every part on its own loopback address of a free block. */
export async function startLab(spec: LabSpec = {}, options: LabOptions = {}): Promise<Lab> {
  const { addresses, api } = await claimBlock();
  // A cluster has the Gateway API group only when its CRDs are installed.
  if (spec.gatewayApi) api.installGatewayApi();
  const dir = await mkdtemp(join(tmpdir(), `hopwatch-lab-${addresses.block}-`));
  const stops: (() => Promise<unknown>)[] = [() => api.stop(), () => rm(dir, { recursive: true, force: true })];
  try {
    const timeouts = { ...LAB_TIMEOUTS, ...options.timeouts };
    const kubeconfigPath = await writeKubeconfig({ path: join(dir, 'kubeconfig'), server: api.url, context: LAB_CONTEXT });
    const dns = await startDns({ ip: addresses.dns, port: DNS_PORT, dir: join(dir, 'dns'), records: [] });
    stops.unshift(() => dns.stop());
    const cluster = await LabCluster.start({ api, addresses, dns, edgeIp: addresses.edge, edgePort: EDGE_HTTP_PORT, spec });
    stops.unshift(() => cluster.stop());
    const controller = await LabController.start({
      api,
      replicas: cluster.controllerPods(),
      port: CONTROLLER_HTTP_PORT,
      ingressClass: cluster.ingressClass,
      isDefaultClass: cluster.isDefaultClass,
      timeouts,
      upstreamKeepaliveTimeoutMs: LAB_UPSTREAM_KEEPALIVE_MS,
      resolver: dns.server,
      dir: join(dir, 'nginx'),
    });
    stops.unshift(() => controller.stop());
    const backends = controller.replicas.map((r) => ({ ip: r.ip, port: r.port }));
    const edge = await startEdge({ ip: addresses.edge, port: EDGE_HTTP_PORT, backends });
    stops.unshift(() => edge.stop());
    const haproxy = options.haproxy ? await startHaproxyFor(options.haproxy, api, addresses, timeouts, join(dir, 'haproxy')) : null;
    if (haproxy) stops.unshift(() => haproxy.stop());
    const gateway = spec.gatewayApi ? await startGatewayFor(spec, api, addresses, timeouts, join(dir, 'gateway')) : null;
    if (gateway) stops.unshift(() => gateway.stop());
    const lab = new RunningLab(addresses, dir, api, kubeconfigPath, edge, controller, dns, cluster, timeouts, options.probeTimeoutMs ?? 5000);
    lab.haproxy = haproxy;
    lab.gateway = gateway;
    await lab.settle();
    return lab;
  } catch (error) {
    for (const stop of stops) await stop().catch(() => undefined);
    throw error;
  }
}

/** Starts the HAProxy controller on the pod IPs 127.B.3.129 and up. */
function startHaproxyFor(option: true | { replicas?: number; timeouts?: Partial<ProxyTimeouts> }, api: LabApiServer, addresses: LabAddresses, nginxTimeouts: ProxyTimeouts, dir: string): Promise<LabHaproxy> {
  const replicas = option === true ? 2 : (option.replicas ?? 2);
  // Its own timeouts when given (to stage a difference between the two front doors), else nginx's.
  const timeouts = option === true ? nginxTimeouts : { ...nginxTimeouts, ...option.timeouts };
  const ips = Array.from({ length: replicas }, (_, i) => addresses.controller(128 + i));
  const edge = { ip: addresses.edge, port: HAPROXY_EDGE_PORT };
  return startLabHaproxy({ api, ips, port: CONTROLLER_HTTP_PORT, edge, timeouts, upstreamKeepaliveTimeoutMs: LAB_UPSTREAM_KEEPALIVE_MS, dir });
}

/** Installs the lab's Gateway implementation with the spec's Gateways, then the HTTPRoutes and ReferenceGrants. */
async function startGatewayFor(spec: LabSpec, api: LabApiServer, addresses: LabAddresses, timeouts: ProxyTimeouts, dir: string): Promise<LabGateway> {
  const gatewayApi = spec.gatewayApi ?? {};
  for (const grant of gatewayApi.referenceGrants ?? []) applyReferenceGrant(api, grant);
  for (const route of gatewayApi.httpRoutes ?? []) applyHttpRoute(api, route);
  return LabGateway.start({ api, addresses, gateways: gatewayApi.gateways ?? [], timeouts, dir });
}

function ensureNamespace(api: LabApiServer, name: string): void {
  if (!api.get({ apiVersion: 'v1', kind: 'Namespace', name })) api.apply(namespaceObject(name) as LabObject);
}

function applyHttpRoute(api: LabApiServer, spec: HttpRouteSpec): void {
  ensureNamespace(api, spec.namespace);
  api.apply({ apiVersion: GATEWAY_V1, kind: 'HTTPRoute', metadata: { namespace: spec.namespace, name: spec.name }, spec: spec.spec });
}

function applyReferenceGrant(api: LabApiServer, spec: ReferenceGrantSpec): void {
  ensureNamespace(api, spec.namespace);
  api.apply({ apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { namespace: spec.namespace, name: spec.name }, spec: spec.spec });
}

/** Re-exported for tests that stage raw objects. */
export type { LabObject };
/** Re-exported for tests that stage rollouts. */
export type { FinishRolloutOptions, RolloutOptions, RolloutStep };
