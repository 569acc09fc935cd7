// The lab's Gateway API implementation: for each Gateway of its GatewayClass, a data plane of real
// nginx replicas (pods on 127.B.4.x) behind their own edge (the Gateway's address), rendered from the
// Gateway, its HTTPRoutes, ReferenceGrants, Services and EndpointSlices by gateway-config.ts, and
// re-rendered on every change of those. It writes what an implementation writes: GatewayClass
// Accepted, Gateway Accepted/Programmed with status.addresses and listener conditions, HTTPRoute
// status.parents[] Accepted/ResolvedRefs; and its generated Service and pods carry the GEP-1762 label
// gateway.networking.k8s.io/gateway-name, as NGINX Gateway Fabric 2.x provisions them
// (a Deployment and a LoadBalancer Service named <gateway>-<gatewayclass> in the Gateway's namespace).

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { LabAddresses } from './addresses.js';
import type { LabApiServer, LabEvent, LabObject } from './apiserver.js';
import { type LabEdge, startEdge } from './edge.js';
import { GATEWAY_V1, type GwGateway, type GwHttpRoute, type GwListener, type GwReferenceGrant } from './gateway-api.js';
import { type GatewayPlan, planGateway, renderGatewayNginx } from './gateway-config.js';
import type { ProxyTimeouts } from './nginx-config.js';
import { type NginxInstance, nginxWorkerUser, startNginx } from './nginx.js';
import { deploymentObject, type KubeObject, namespaceObject, podObject, replicaSetObject, shortHash } from './objects.js';

/** The lab's GatewayClass. */
export const LAB_GATEWAY_CLASS = 'lab-nginx';
/** The controllerName NGINX Gateway Fabric registers (its GatewayClass spec.controllerName). */
export const LAB_GATEWAY_CONTROLLER = 'gateway.nginx.org/nginx-gateway-controller';
/** The GEP-1762 label on the Service and pods an implementation generates for a Gateway. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** A Gateway of the lab's class. */
export interface GatewaySpec {
  /** Namespace. */
  namespace: string;
  /** Name. */
  name: string;
  /** Listeners (HTTP); default one listener "http" on port 18090. */
  listeners?: GwListener[];
  /** Data-plane replicas; default 2. */
  replicas?: number;
}

/** How one data-plane replica misbehaves. */
export type GatewayReplicaFault = 'healthy' | 'stale' | 'down';

/** One data-plane replica. */
export interface GatewayReplica {
  /** Pod name. */
  name: string;
  /** Pod IP. */
  ip: string;
  /** Current fault. */
  fault: GatewayReplicaFault;
  /** The running nginx, null while down. */
  nginx: NginxInstance | null;
}

/** One Gateway's data plane. */
export interface GatewayDataPlane {
  /** The Gateway's spec. */
  spec: Required<GatewaySpec>;
  /** The address the Gateway's status names (its edge IP). */
  address: string;
  /** Its replicas. */
  replicas: GatewayReplica[];
  /** One edge per listener port. */
  edges: Map<number, LabEdge>;
  /** False while the not-programmed fault is on. */
  programmed: boolean;
  /** The last plan (status and servers). */
  plan: GatewayPlan | null;
}

/** What startLabGateway needs. */
export interface LabGatewayOptions {
  /** The lab's API server (with the Gateway API installed). */
  api: LabApiServer;
  /** The lab's address block. */
  addresses: LabAddresses;
  /** Gateways to create. */
  gateways: GatewaySpec[];
  /** Proxy timeouts when a rule sets none. */
  timeouts: ProxyTimeouts;
  /** Directory for the replicas' files. */
  dir: string;
}

const RENDER_KINDS = new Set(['Gateway', 'HTTPRoute', 'ReferenceGrant', 'Service', 'EndpointSlice', 'Namespace']);
/** The default listener of a lab Gateway. */
export const LAB_GATEWAY_PORT = 18090;

/** The lab's Gateway implementation. */
export class LabGateway {
  /** The data planes by "namespace/name". */
  readonly planes = new Map<string, GatewayDataPlane>();
  readonly #options: LabGatewayOptions;
  #queue: Promise<void> = Promise.resolve();
  #dirty = false;
  #unsubscribe: () => void = () => undefined;

  private constructor(options: LabGatewayOptions) {
    this.#options = options;
  }

  /** Writes the GatewayClass and Gateways, starts every data plane, and follows changes. */
  static async start(options: LabGatewayOptions): Promise<LabGateway> {
    const gateway = new LabGateway(options);
    const { api } = options;
    api.apply({ apiVersion: GATEWAY_V1, kind: 'GatewayClass', metadata: { name: LAB_GATEWAY_CLASS }, spec: { controllerName: LAB_GATEWAY_CONTROLLER } });
    api.patchStatus({ apiVersion: GATEWAY_V1, kind: 'GatewayClass', name: LAB_GATEWAY_CLASS }, {
      conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'GatewayClass is accepted', observedGeneration: 1 }],
    });
    try {
      for (const [index, spec] of options.gateways.entries()) await gateway.#addGateway(spec, index);
    } catch (error) {
      await gateway.stop().catch(() => undefined);
      throw error;
    }
    gateway.#unsubscribe = api.onEvent((event) => {
      if (RENDER_KINDS.has(event.object.kind) && !statusOnly(event)) gateway.#schedule();
    });
    await gateway.#sync();
    return gateway;
  }

  /** The data plane of a Gateway. */
  plane(namespace: string, name: string): GatewayDataPlane {
    const plane = this.planes.get(`${namespace}/${name}`);
    if (!plane) throw new RangeError(`no lab Gateway ${namespace}/${name}`);
    return plane;
  }

  /** The URL users hit for a Gateway listener port, e.g. http://127.7.0.100:18090. */
  edgeUrl(namespace: string, name: string, port: number = LAB_GATEWAY_PORT): string {
    return `http://${this.plane(namespace, name).address}:${port}`;
  }

  async #addGateway(input: GatewaySpec, index: number): Promise<void> {
    const { api, addresses } = this.#options;
    const spec: Required<GatewaySpec> = {
      replicas: 2,
      listeners: [{ name: 'http', port: LAB_GATEWAY_PORT, protocol: 'HTTP' }],
      ...input,
    };
    if (!api.get({ apiVersion: 'v1', kind: 'Namespace', name: spec.namespace })) api.apply(namespaceObject(spec.namespace) as LabObject);
    api.apply({ apiVersion: GATEWAY_V1, kind: 'Gateway', metadata: { namespace: spec.namespace, name: spec.name }, spec: { gatewayClassName: LAB_GATEWAY_CLASS, listeners: spec.listeners } });
    const replicas = applyDataPlaneObjects(api, spec, index, addresses);
    const plane: GatewayDataPlane = { spec, address: addresses.gatewayEdge(index), replicas, edges: new Map(), programmed: true, plan: null };
    this.planes.set(`${spec.namespace}/${spec.name}`, plane);
    plane.plan = planGateway(this.#input(plane));
    await Promise.all(replicas.map((r) => this.#startReplica(plane, r)));
    for (const port of new Set(spec.listeners.map((l) => l.port))) {
      plane.edges.set(port, await startEdge({ ip: plane.address, port, backends: replicas.map((r) => ({ ip: r.ip, port })) }));
    }
  }

  #input(plane: GatewayDataPlane): Parameters<typeof planGateway>[0] {
    const { api } = this.#options;
    const list = <T>(apiVersion: string, kind: string): T[] => api.list(apiVersion, kind) as LabObject[] as unknown as T[];
    const gateway = api.get({ apiVersion: GATEWAY_V1, kind: 'Gateway', namespace: plane.spec.namespace, name: plane.spec.name }) as unknown as GwGateway;
    const namespaceLabels = new Map(api.list('v1', 'Namespace').map((ns) => [ns.metadata.name, ns.metadata.labels ?? {}]));
    return {
      gateway,
      routes: list<GwHttpRoute>(GATEWAY_V1, 'HTTPRoute'),
      grants: [...list<GwReferenceGrant>(GATEWAY_V1, 'ReferenceGrant'), ...list<GwReferenceGrant>('gateway.networking.k8s.io/v1beta1', 'ReferenceGrant')],
      services: list<V1Service>('v1', 'Service'),
      endpointSlices: list<V1EndpointSlice>('discovery.k8s.io/v1', 'EndpointSlice'),
      namespaceLabels,
    };
  }

  #render(plane: GatewayDataPlane, replica: GatewayReplica): string {
    const plan = plane.plan ?? planGateway(this.#input(plane));
    return renderGatewayNginx(plan, {
      address: replica.ip,
      dir: join(this.#options.dir, replica.name),
      timeouts: this.#options.timeouts,
      workerUser: nginxWorkerUser(),
      unprogrammed: !plane.programmed,
    });
  }

  async #startReplica(plane: GatewayDataPlane, replica: GatewayReplica): Promise<void> {
    const dir = join(this.#options.dir, replica.name);
    await mkdir(dir, { recursive: true });
    // An unprogrammed data plane listens on nothing: wait for no port then.
    const port = plane.spec.listeners[0]?.port;
    const listen = plane.programmed && port !== undefined && plane.plan !== null && plane.plan.servers.size > 0 ? { address: replica.ip, port } : undefined;
    replica.nginx = await startNginx({ name: replica.name, dir, config: this.#render(plane, replica), ...(listen ? { listen } : {}) });
  }

  /** Re-plans every Gateway, writes status, reloads every replica that is not stale. */
  async #sync(): Promise<void> {
    for (const plane of this.planes.values()) {
      plane.plan = planGateway(this.#input(plane));
      this.#writeStatus(plane, plane.plan);
      await Promise.all(plane.replicas.map((r) => (r.fault === 'healthy' ? r.nginx?.reload(this.#render(plane, r)) : undefined)));
    }
  }

  #schedule(): void {
    if (this.#dirty) return;
    this.#dirty = true;
    this.#queue = this.#queue.then(async () => {
      // Let the rest of a burst of synchronous writes land before rendering.
      await new Promise((resolve) => setTimeout(resolve, 10));
      this.#dirty = false;
      await this.#sync();
    });
  }

  #writeStatus(plane: GatewayDataPlane, plan: GatewayPlan): void {
    const { api } = this.#options;
    writeGatewayStatus(api, plane, plan);
    for (const [key, parents] of plan.routeParents) {
      const [namespace, name] = key.split('/') as [string, string];
      const current = api.get({ apiVersion: GATEWAY_V1, kind: 'HTTPRoute', namespace, name });
      if (!current) continue;
      const others = ((current.status as { parents?: { controllerName?: string; parentRef?: { name?: string } }[] } | undefined)?.parents ?? [])
        .filter((p) => p.controllerName !== LAB_GATEWAY_CONTROLLER || p.parentRef?.name !== plane.spec.name);
      const ours = parents.map((p) => ({ parentRef: p.parentRef, controllerName: LAB_GATEWAY_CONTROLLER, conditions: p.conditions.map(stamped) }));
      api.patchStatus({ apiVersion: GATEWAY_V1, kind: 'HTTPRoute', namespace, name }, { parents: [...others, ...ours] });
    }
  }

  /** Resolves once every change seen so far is live in every running replica that is not stale. */
  async settle(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.#queue;
      await current;
    } while (current !== this.#queue);
  }

  /** Stages a fault on one replica of a Gateway's data plane; resolves once it is in effect. */
  async setReplicaFault(namespace: string, name: string, index: number, fault: GatewayReplicaFault): Promise<void> {
    const plane = this.plane(namespace, name);
    const replica = plane.replicas[index];
    if (!replica) throw new RangeError(`no replica ${index} of Gateway ${namespace}/${name}`);
    await this.settle();
    replica.fault = fault;
    if (fault === 'down') {
      await replica.nginx?.stop();
      replica.nginx = null;
    } else if (replica.nginx === null) {
      await this.#startReplica(plane, replica);
    } else if (fault === 'healthy') {
      await replica.nginx.reload(this.#render(plane, replica));
    }
  }

  /**
   * Takes a Gateway out of (or back into) the programmed state, as when its address cannot be assigned:
   * status Programmed=False (AddressNotAssigned) without addresses, the data plane serves no listener
   * and the edge refuses.
   */
  async setProgrammed(namespace: string, name: string, programmed: boolean): Promise<void> {
    const plane = this.plane(namespace, name);
    await this.settle();
    plane.programmed = programmed;
    for (const edge of plane.edges.values()) await edge.setFault(programmed ? { mode: 'healthy' } : { mode: 'refuse' });
    this.#schedule();
    await this.settle();
  }

  /** Stops every edge and nginx. */
  async stop(): Promise<void> {
    this.#unsubscribe();
    await this.#queue.catch(() => undefined);
    for (const plane of this.planes.values()) {
      for (const edge of plane.edges.values()) await edge.stop().catch(() => undefined);
      await Promise.all(plane.replicas.map((r) => r.nginx?.stop()));
      for (const r of plane.replicas) r.nginx = null;
    }
  }
}

/** A write that changed only the status of a Gateway or HTTPRoute (the implementation's own writes). */
function statusOnly(event: LabEvent): boolean {
  if (event.type !== 'MODIFIED' || event.previous === null) return false;
  if (event.object.kind !== 'Gateway' && event.object.kind !== 'HTTPRoute') return false;
  return event.previous.metadata.generation === event.object.metadata.generation;
}

function stamped<T extends object>(condition: T): T & { lastTransitionTime: string } {
  return { ...condition, lastTransitionTime: '2026-01-01T00:00:00Z' };
}

function writeGatewayStatus(api: LabApiServer, plane: GatewayDataPlane, plan: GatewayPlan): void {
  const ref = { apiVersion: GATEWAY_V1, kind: 'Gateway', namespace: plane.spec.namespace, name: plane.spec.name };
  const generation = api.get(ref)?.metadata.generation ?? 1;
  const cond = (type: string, ok: boolean, reason: string, message: string) =>
    stamped({ type, status: ok ? 'True' : 'False', reason, message, observedGeneration: generation });
  const programmed = plane.programmed
    ? cond('Programmed', true, 'Programmed', 'The Gateway is programmed')
    : cond('Programmed', false, 'AddressNotAssigned', 'No address could be assigned to the Gateway');
  api.patchStatus(ref, {
    addresses: plane.programmed ? [{ type: 'IPAddress', value: plane.address }] : null,
    conditions: [cond('Accepted', true, 'Accepted', 'The Gateway is accepted'), programmed],
    listeners: plane.spec.listeners.map((listener) => ({
      name: listener.name,
      supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }],
      attachedRoutes: plan.attachedRoutes.get(listener.name) ?? 0,
      conditions: [
        cond('Accepted', true, 'Accepted', 'The listener is accepted'),
        plane.programmed ? cond('Programmed', true, 'Programmed', 'The listener is programmed') : cond('Programmed', false, 'Invalid', 'The Gateway is not programmed'),
        cond('ResolvedRefs', true, 'ResolvedRefs', 'All references are resolved'),
        cond('Conflicted', false, 'NoConflicts', 'No conflicts'),
      ],
    })),
  });
}

/**
 * The objects NGINX Gateway Fabric provisions for a Gateway: a Deployment, its ReplicaSet and pods, and
 * a LoadBalancer Service (listener port -> the same container port), all labelled with the GEP-1762
 * gateway-name label; returns the replicas.
 */
function applyDataPlaneObjects(api: LabApiServer, spec: Required<GatewaySpec>, index: number, addresses: LabAddresses): GatewayReplica[] {
  const name = `${spec.name}-${LAB_GATEWAY_CLASS}`;
  const labels = { [GATEWAY_NAME_LABEL]: spec.name, 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': 'ngf' };
  const port = spec.listeners[0]?.port ?? LAB_GATEWAY_PORT;
  const app = { namespace: spec.namespace, name, replicas: spec.replicas, labels, containerPort: port };
  const hash = shortHash(`${spec.namespace}/${name}/1`);
  const apply = (object: KubeObject): void => void api.apply(object as LabObject);
  apply(deploymentObject(app, labels, hash));
  apply(replicaSetObject(app, labels, hash, spec.replicas, 1));
  apply({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: spec.namespace, name, labels },
    spec: {
      type: 'LoadBalancer',
      clusterIP: null,
      selector: labels,
      ports: [...new Set(spec.listeners.map((l) => l.port))].map((p) => ({ name: `port-${p}`, port: p, targetPort: p, protocol: 'TCP' })),
    },
    status: { loadBalancer: { ingress: [{ ip: addresses.gatewayEdge(index) }] } },
  });
  return Array.from({ length: spec.replicas }, (_, i) => {
    const pod = `${name}-${hash}-${i}`;
    const ip = addresses.gatewayPod(index, i);
    apply(podObject({ namespace: spec.namespace, name: pod, app: name, ip, port, portName: 'http', labels, fault: { mode: 'healthy' }, templateHash: hash, readinessProbe: false, restarts: 0, terminating: false }));
    return { name: pod, ip, fault: 'healthy' as const, nginx: null };
  });
}
