// The lab's ingress controller: one real nginx per controller pod, its config rendered from the API
// server's Ingresses, Services and EndpointSlices (as ingress-nginx does), re-rendered and reloaded
// whenever one of those changes.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1EndpointSlice, V1Ingress, V1Service } from '@kubernetes/client-node';
import type { LabApiServer, LabEvent, LabObject } from './apiserver.js';
import { type NginxConfigInput, type ProxyTimeouts, renderNginxConfig } from './nginx-config.js';
import { type NginxInstance, nginxWorkerUser, startNginx } from './nginx.js';

/** How one controller replica misbehaves. */
export type ControllerFault =
  | 'healthy'
  /** The replica's nginx is stopped: its pod IP refuses. */
  | 'down'
  /** The replica's upstreams point at a port nothing listens on (a stale or broken config): 502 for every route. */
  | 'bad-upstream';

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
  /** The running nginx, null while down. */
  nginx: NginxInstance | null;
}

/** Options of the lab controller. */
export interface LabControllerOptions {
  /** The lab's API server (objects are read in-process). */
  api: LabApiServer;
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
  /** The lab's DNS "ip:port", for ExternalName backends. */
  resolver: string;
  /** Directory for the nginx prefixes. */
  dir: string;
}

const RENDER_KINDS = new Set(['Ingress', 'Service', 'EndpointSlice']);
// Nothing listens on port 1 of a pod IP: a replica whose upstreams point there answers 502.
const DEAD_PORT = 1;

function breakUpstreams(slices: V1EndpointSlice[]): V1EndpointSlice[] {
  return slices.map((s) => ({ ...s, ports: (s.ports ?? []).map((p) => ({ ...p, port: DEAD_PORT })) }));
}

/** The ingress controller of the lab. */
export class LabController {
  /** The replicas, in index order. */
  readonly replicas: ControllerReplica[];
  readonly #options: LabControllerOptions;
  #queue: Promise<void> = Promise.resolve();
  #dirty = false;
  #unsubscribe: () => void = () => undefined;

  private constructor(options: LabControllerOptions) {
    this.#options = options;
    this.replicas = options.replicas.map((r) => ({ ...r, port: options.port, fault: 'healthy', nginx: null }));
  }

  /** Starts every replica with the current objects and follows changes. */
  static async start(options: LabControllerOptions): Promise<LabController> {
    const controller = new LabController(options);
    await Promise.all(controller.replicas.map((r) => controller.#startReplica(r)));
    controller.#unsubscribe = options.api.onEvent((event: LabEvent) => {
      if (RENDER_KINDS.has(event.object.kind)) controller.#schedule();
    });
    return controller;
  }

  #input(): NginxConfigInput {
    const { api, ingressClass, isDefaultClass } = this.#options;
    // The lab stores plain JSON; the renderer reads the same fields client-node's types name.
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
    const dir = join(this.#options.dir, replica.name);
    return renderNginxConfig(
      { ...input, endpointSlices: slices },
      {
        listen: { address: replica.ip, port: replica.port },
        dir,
        timeouts: this.#options.timeouts,
        resolver: this.#options.resolver,
        workerUser: nginxWorkerUser(),
        workerShutdownTimeoutMs: 1000,
        sourceAddress: replica.ip,
      },
    );
  }

  async #startReplica(replica: ControllerReplica): Promise<void> {
    const dir = join(this.#options.dir, replica.name);
    await mkdir(dir, { recursive: true });
    replica.nginx = await startNginx({ name: replica.name, dir, config: this.#render(replica), listen: { address: replica.ip, port: replica.port } });
  }

  /** Coalesces bursts of changes into one render per replica. */
  #schedule(): void {
    if (this.#dirty) return;
    this.#dirty = true;
    this.#queue = this.#queue.then(async () => {
      // Let the rest of a burst of synchronous writes land before rendering.
      await new Promise((resolve) => setTimeout(resolve, 10));
      this.#dirty = false;
      await Promise.all(this.replicas.map((r) => (r.nginx ? r.nginx.reload(this.#render(r)) : undefined)));
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
    if (fault === 'down') {
      await replica.nginx?.stop();
      replica.nginx = null;
    } else if (replica.nginx) {
      await replica.nginx.reload(this.#render(replica));
    } else {
      await this.#startReplica(replica);
    }
  }

  /** Stops every nginx. */
  async stop(): Promise<void> {
    this.#unsubscribe();
    await this.#queue.catch(() => undefined);
    await Promise.all(this.replicas.map((r) => r.nginx?.stop()));
    for (const r of this.replicas) r.nginx = null;
  }
}
