// The lab's ingress controllers: one real proxy per controller pod, its config rendered from the API
// server's Ingresses, Services and EndpointSlices, re-rendered and reloaded whenever one of those
// changes. Two flavours render the same objects for their own IngressClass: nginx the way
// ingress-nginx does (nginx-config.ts), HAProxy the way the HAProxy Kubernetes Ingress Controller
// does (haproxy-config.ts).

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1EndpointSlice, V1Ingress, V1Service } from '@kubernetes/client-node';
import type { LabApiServer, LabEvent, LabObject } from './apiserver.js';
import { type LabEdge, startEdge } from './edge.js';
import { renderHaproxyConfig } from './haproxy-config.js';
import { type HaproxyInstance, startHaproxy } from './haproxy.js';
import { type NginxConfigInput, type ProxyTimeouts, renderNginxConfig } from './nginx-config.js';
import { type NginxInstance, nginxWorkerUser, startNginx } from './nginx.js';
import { deploymentObject, ingressClassObject, type KubeObject, namespaceObject, podObject, replicaSetObject, shortHash } from './objects.js';

/** Which proxy a lab controller runs. */
export type ControllerFlavour = 'nginx' | 'haproxy';

/** How one controller replica misbehaves. */
export type ControllerFault =
  | 'healthy'
  /** The replica's proxy is stopped: its pod IP refuses. */
  | 'down'
  /** The replica's upstreams point at a port nothing listens on (a stale or broken config): 502 (nginx) or 503 (HAProxy) for every route. */
  | 'bad-upstream'
  /** The replica keeps the config it has: object changes no longer reach it (a controller whose sync lags behind the EndpointSlices). */
  | 'stale';

/** One controller replica. */
export interface ControllerReplica {
  /** Pod name. */
  name: string;
  /** Pod IP. */
  ip: string;
  /** HTTP port. */
  port: number;
  /** Current fault. */
  fault: ControllerFault;
  /** The running nginx (nginx flavour), null while down. */
  nginx: NginxInstance | null;
  /** The running haproxy (haproxy flavour), null while down. */
  haproxy: HaproxyInstance | null;
}

/** Options of the lab controller. */
export interface LabControllerOptions {
  /** The lab's API server (objects are read in-process). */
  api: LabApiServer;
  /** The proxy to run; default nginx. */
  flavour?: ControllerFlavour;
  /** Replicas: name and IP of each controller pod. */
  replicas: { name: string; ip: string }[];
  /** HTTP port of every replica. */
  port: number;
  /** IngressClass served. */
  ingressClass: string;
  /** Whether the class is the default one. */
  isDefaultClass: boolean;
  /** Proxy timeouts (shortened in the lab). */
  timeouts: ProxyTimeouts;
  /** How long idle upstream connections are kept for reuse (nginx keepalive_timeout, HAProxy pool-purge-delay); default the proxy's own. */
  upstreamKeepaliveTimeoutMs?: number;
  /** The lab's DNS "ip:port", for ExternalName backends (nginx). */
  resolver: string;
  /** Directory for the replicas' files. */
  dir: string;
}

const RENDER_KINDS = new Set(['Ingress', 'Service', 'EndpointSlice']);
// Nothing listens on port 1 of a pod IP: a replica whose upstreams point there answers 502.
const DEAD_PORT = 1;

function breakUpstreams(slices: V1EndpointSlice[]): V1EndpointSlice[] {
  return slices.map((s) => ({ ...s, ports: (s.ports ?? []).map((p) => ({ ...p, port: DEAD_PORT })) }));
}

/** The running proxy of a replica, whichever flavour. */
function proxyOf(replica: ControllerReplica): { reload(config: string): Promise<void>; stop(): Promise<void> } | null {
  return replica.nginx ?? replica.haproxy;
}

/** An ingress controller of the lab. */
export class LabController {
  /** The replicas, in index order. */
  readonly replicas: ControllerReplica[];
  /** The proxy it runs. */
  readonly flavour: ControllerFlavour;
  readonly #options: LabControllerOptions;
  #queue: Promise<void> = Promise.resolve();
  #dirty = false;
  #unsubscribe: () => void = () => undefined;

  private constructor(options: LabControllerOptions) {
    this.#options = options;
    this.flavour = options.flavour ?? 'nginx';
    this.replicas = options.replicas.map((r) => ({ ...r, port: options.port, fault: 'healthy', nginx: null, haproxy: null }));
  }

  /** Starts every replica with the current objects and follows changes. */
  static async start(options: LabControllerOptions): Promise<LabController> {
    const controller = new LabController(options);
    try {
      await Promise.all(controller.replicas.map((r) => controller.#startReplica(r)));
    } catch (error) {
      await controller.stop().catch(() => undefined);
      throw error;
    }
    controller.#unsubscribe = options.api.onEvent((event: LabEvent) => {
      if (RENDER_KINDS.has(event.object.kind)) controller.#schedule();
    });
    return controller;
  }

  /** The upstream keep-alive window the replicas run with (ms), null for the proxy's default. */
  get upstreamKeepaliveTimeoutMs(): number | null {
    return this.#options.upstreamKeepaliveTimeoutMs ?? null;
  }

  /** The proxy timeouts the replicas run with. */
  get timeouts(): ProxyTimeouts {
    return this.#options.timeouts;
  }

  /** The IngressClass served. */
  get ingressClass(): string {
    return this.#options.ingressClass;
  }

  #input(): NginxConfigInput {
    const { api, ingressClass, isDefaultClass } = this.#options;
    // The lab stores plain JSON; the renderers read the same fields client-node's types name.
    const list = <T>(apiVersion: string, kind: string): T[] => api.list(apiVersion, kind) as LabObject[] as unknown as T[];
    return {
      ingresses: list<V1Ingress>('networking.k8s.io/v1', 'Ingress'),
      services: list<V1Service>('v1', 'Service'),
      endpointSlices: list<V1EndpointSlice>('discovery.k8s.io/v1', 'EndpointSlice'),
      ingressClass,
      isDefaultClass,
    };
  }

  #render(replica: ControllerReplica): string {
    const input = this.#input();
    const slices = replica.fault === 'bad-upstream' ? breakUpstreams(input.endpointSlices as V1EndpointSlice[]) : input.endpointSlices;
    const { timeouts, upstreamKeepaliveTimeoutMs } = this.#options;
    const listen = { address: replica.ip, port: replica.port };
    if (this.flavour === 'haproxy') {
      return renderHaproxyConfig(
        { ...input, endpointSlices: slices },
        { listen, timeouts, sourceAddress: replica.ip, ...(upstreamKeepaliveTimeoutMs === undefined ? {} : { poolPurgeDelayMs: upstreamKeepaliveTimeoutMs }) },
      );
    }
    return renderNginxConfig(
      { ...input, endpointSlices: slices },
      {
        listen,
        dir: join(this.#options.dir, replica.name),
        timeouts,
        resolver: this.#options.resolver,
        workerUser: nginxWorkerUser(),
        workerShutdownTimeoutMs: 1000,
        sourceAddress: replica.ip,
        ...(upstreamKeepaliveTimeoutMs === undefined ? {} : { upstreamKeepaliveTimeoutMs }),
      },
    );
  }

  async #startReplica(replica: ControllerReplica): Promise<void> {
    const dir = join(this.#options.dir, replica.name);
    await mkdir(dir, { recursive: true });
    const listen = { address: replica.ip, port: replica.port };
    if (this.flavour === 'haproxy') replica.haproxy = await startHaproxy({ name: replica.name, dir, config: this.#render(replica), listen });
    else replica.nginx = await startNginx({ name: replica.name, dir, config: this.#render(replica), listen });
  }

  /** Coalesces bursts of changes into one render per replica. */
  #schedule(): void {
    if (this.#dirty) return;
    this.#dirty = true;
    this.#queue = this.#queue.then(async () => {
      // Let the rest of a burst of synchronous writes land before rendering.
      await new Promise((resolve) => setTimeout(resolve, 10));
      this.#dirty = false;
      await Promise.all(this.replicas.map((r) => (r.fault === 'stale' ? undefined : proxyOf(r)?.reload(this.#render(r)))));
    });
  }

  /** Resolves once every change seen so far is live in every running replica. */
  async settle(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.#queue;
      await current;
    } while (current !== this.#queue);
  }

  /** Stages a fault on one replica; resolves once it is in effect. */
  async setFault(index: number, fault: ControllerFault): Promise<void> {
    const replica = this.replicas[index];
    if (!replica) throw new RangeError(`no controller replica ${index}`);
    await this.settle();
    replica.fault = fault;
    const proxy = proxyOf(replica);
    if (fault === 'down') {
      await proxy?.stop();
      replica.nginx = null;
      replica.haproxy = null;
    } else if (proxy) {
      // A stale replica keeps what it serves now; any other fault takes the current objects.
      if (fault !== 'stale') await proxy.reload(this.#render(replica));
    } else {
      await this.#startReplica(replica);
    }
  }

  /** Stops every proxy. */
  async stop(): Promise<void> {
    this.#unsubscribe();
    await this.#queue.catch(() => undefined);
    await Promise.all(this.replicas.map((r) => proxyOf(r)?.stop()));
    for (const r of this.replicas) {
      r.nginx = null;
      r.haproxy = null;
    }
  }
}

/** Where a second controller's pods live and what they are called. */
export interface ControllerPodsSpec {
  /** Namespace of the controller's pods. */
  namespace: string;
  /** Deployment name (pods are `<name>-<hash>-<i>`). */
  name: string;
  /** Labels of the pods. */
  labels: Record<string, string>;
  /** IngressClass and its spec.controller. */
  ingressClass: { name: string; controller: string; isDefault: boolean };
  /** The pod IPs, one per replica. */
  ips: string[];
  /** The container port. */
  port: number;
}

/** The HAProxy controller's objects in the lab: namespace and labels as the HAProxy Kubernetes Ingress Controller's chart sets them. */
export const HAPROXY_CONTROLLER = Object.freeze({
  namespace: 'haproxy-controller',
  name: 'haproxy-kubernetes-ingress',
  labels: Object.freeze({ 'app.kubernetes.io/name': 'kubernetes-ingress', 'app.kubernetes.io/instance': 'haproxy-kubernetes-ingress' }),
  controllerName: 'haproxy.org/ingress-controller/haproxy',
});

/**
 * Writes the objects of a controller's pods to the API server (Namespace, IngressClass, Deployment,
 * ReplicaSet, Pods), so discovery finds them as it finds ingress-nginx's; returns the pods' names and IPs.
 */
export function applyControllerObjects(api: LabApiServer, spec: ControllerPodsSpec): { name: string; ip: string }[] {
  const apply = (object: KubeObject): void => void api.apply(object as LabObject);
  if (!api.get({ apiVersion: 'v1', kind: 'Namespace', name: spec.namespace })) apply(namespaceObject(spec.namespace));
  apply(ingressClassObject(spec.ingressClass.name, spec.ingressClass.isDefault, spec.ingressClass.controller));
  const app = { namespace: spec.namespace, name: spec.name, replicas: spec.ips.length, labels: spec.labels, containerPort: spec.port };
  const hash = shortHash(`${spec.namespace}/${spec.name}/1`);
  apply(deploymentObject(app, spec.labels, hash));
  apply(replicaSetObject(app, spec.labels, hash, spec.ips.length, 1));
  return spec.ips.map((ip, i) => {
    const name = `${spec.name}-${hash}-${i}`;
    apply(
      podObject({
        namespace: spec.namespace, name, app: spec.name, ip, port: spec.port, portName: 'http', labels: spec.labels,
        fault: { mode: 'healthy' }, templateHash: hash, readinessProbe: false, restarts: 0, terminating: false,
      }),
    );
    return { name, ip };
  });
}

/** The lab's HAProxy controller with the edge in front of its pods. */
export interface LabHaproxy {
  /** The controller (replicas, faults). */
  readonly controller: LabController;
  /** Its edge (faults). */
  readonly edge: LabEdge;
  /** The address users of class "haproxy" hit, e.g. http://127.7.0.80:18081. */
  readonly edgeUrl: string;
  /** hopwatch's controllers[] entry for it (settings as the lab runs it). */
  hopwatchController(): Record<string, unknown>;
  /** Resolves once every change seen so far is live. */
  settle(): Promise<void>;
  /** Stops the edge and every haproxy. */
  stop(): Promise<void>;
}

/** What startLabHaproxy needs. */
export interface LabHaproxyOptions {
  /** The lab's API server. */
  api: LabApiServer;
  /** IPs of the controller pods, one per replica. */
  ips: string[];
  /** HTTP port of the pods. */
  port: number;
  /** The edge's IP and port. */
  edge: { ip: string; port: number };
  /** Proxy timeouts. */
  timeouts: ProxyTimeouts;
  /** Idle upstream connections kept this long (pool-purge-delay). */
  upstreamKeepaliveTimeoutMs: number;
  /** Directory for the replicas' files. */
  dir: string;
}

/** Starts an HAProxy controller serving IngressClass "haproxy" and an edge in front of it. */
export async function startLabHaproxy(options: LabHaproxyOptions): Promise<LabHaproxy> {
  const { api, port, timeouts, upstreamKeepaliveTimeoutMs } = options;
  const spec = HAPROXY_CONTROLLER;
  const replicas = applyControllerObjects(api, {
    namespace: spec.namespace, name: spec.name, labels: { ...spec.labels }, port, ips: options.ips,
    ingressClass: { name: 'haproxy', controller: spec.controllerName, isDefault: false },
  });
  const controller = await LabController.start({
    api, flavour: 'haproxy', replicas, port, ingressClass: 'haproxy', isDefaultClass: false, timeouts, upstreamKeepaliveTimeoutMs, resolver: '', dir: options.dir,
  });
  let edge: LabEdge;
  try {
    edge = await startEdge({ ip: options.edge.ip, port: options.edge.port, backends: replicas.map((r) => ({ ip: r.ip, port })) });
  } catch (error) {
    await controller.stop();
    throw error;
  }
  const edgeUrl = `http://${edge.ip}:${edge.port}`;
  return {
    controller,
    edge,
    edgeUrl,
    hopwatchController: () => ({
      ingressClass: 'haproxy',
      kind: 'haproxy',
      edge: edgeUrl,
      pods: { namespace: spec.namespace, selector: Object.entries(spec.labels).map(([k, v]) => `${k}=${v}`).join(','), httpPort: port, httpsPort: port + 363 },
      upstream: 'endpoints',
      settings: { connectTimeoutMs: timeouts.connectMs, readTimeoutMs: timeouts.readMs, upstreamKeepaliveTimeoutMs },
    }),
    settle: () => controller.settle(),
    stop: async () => {
      await edge.stop();
      await controller.stop();
    },
  };
}
