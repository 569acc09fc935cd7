// Service forwarders: an L4 (TCP) forwarder per Service port, as kube-proxy gives a
// ClusterIP. Each accepted connection goes to the next backend, round-robin, and
// bytes, half-closes and resets cross it both ways. It knows nothing of Services or
// EndpointSlices: the orchestrator gives it the ready endpoints.
//
// Where it differs from kube-proxy's DNAT: the forwarder accepts before it dials, so a
// dead backend shows up as a reset after connect (ECONNRESET), not as ECONNREFUSED.
// With no backends at all it closes its listener, so the kernel refuses (kube-proxy's
// REJECT rule answers ICMP port-unreachable, which clients also report as ECONNREFUSED).

import * as net from 'node:net';
import {
  LabDataPlaneError,
  closedPromise,
  listen,
  requireLoopback,
  requirePort,
  reservePort,
  StepQueue,
  type SocketAddress,
} from './pods.js';

/** What startServiceForwarder needs. */
export interface ServiceForwarderOptions {
  /** The ClusterIP (loopback). */
  ip: string;
  /** The Service port; 0 picks a free port once, kept while the forwarder lives. */
  port: number;
  /** Initial backends (ready endpoints); default none (refusing). */
  backends?: readonly SocketAddress[];
}

/** A running forwarder for one Service port. */
export interface ServiceForwarder {
  /** The ClusterIP. */
  readonly ip: string;
  /** The Service port (the real one when started with 0). */
  readonly port: number;
  /** The current backends. */
  readonly backends: readonly SocketAddress[];
  /** True while the ClusterIP:port accepts connections (there are backends). */
  readonly listening: boolean;
  /** Client connections accepted so far. */
  readonly connections: number;
  /** Client connections still open. */
  readonly activeConnections: number;
  /** Replaces the backends; resolves once the listener is open (some) or closed (none). Calls apply in order. */
  setBackends(backends: readonly SocketAddress[]): Promise<void>;
  /** Closes the listener and every connection; resolves when all are closed (later calls share the first). */
  stop(): Promise<void>;
}

/** Starts a forwarder; resolves once it listens (with backends) or has its port (without). */
export async function startServiceForwarder(options: ServiceForwarderOptions): Promise<ServiceForwarder> {
  requireLoopback(options.ip);
  requirePort(options.port);
  const port = options.port !== 0 ? options.port : await reservePort(options.ip);
  const forwarder = new Forwarder(options.ip, port);
  await forwarder.setBackends(options.backends ?? []);
  return forwarder;
}

/** Every socket of a TCP relay, so it can be torn down and awaited as a whole. */
export class SocketRegistry {
  /** Open sockets (clients and upstreams). */
  readonly sockets = new Set<net.Socket>();

  /** Adds a socket until it closes. */
  add(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** Destroys every socket; resolves when all have emitted 'close'. */
  async destroyAll(): Promise<void> {
    const sockets = [...this.sockets];
    const closed = sockets.map((socket) => closedPromise(socket));
    for (const socket of sockets) socket.destroy();
    await Promise.all(closed);
  }
}

/** Sends an RST (once): how the relay propagates a reset or a failed dial. */
export function resetSocket(socket: net.Socket): void {
  // resetAndDestroy on a destroyed socket would destroy it again with ERR_SOCKET_CLOSED.
  if (!socket.destroyed) socket.resetAndDestroy();
}

/**
 * Joins an accepted client socket (made with allowHalfOpen) to a new connection to
 * `target`: bytes both ways, a FIN on one side becomes a FIN on the other, and an
 * error on either side (refused dial, RST) becomes an RST on the other.
 */
export function spliceConnection(client: net.Socket, target: SocketAddress, registry: SocketRegistry): void {
  // Keep the client's source address, as kube-proxy's DNAT does, so the pod's NetworkPolicy sees the real peer.
  const source = client.remoteAddress;
  const localAddress = source && /^127\./.test(source) ? source : undefined;
  const upstream = net.connect({ host: target.ip, port: target.port, allowHalfOpen: true, localAddress });
  registry.add(upstream);
  upstream.on('error', () => resetSocket(client));
  client.on('error', () => resetSocket(upstream));
  // pipe() ends the destination when the source ends, which is the half-close we want;
  // writes made while the dial is pending are buffered by the socket.
  client.pipe(upstream);
  upstream.pipe(client);
}

/** A closable listener plus the connections it accepted (which outlive it when it closes). */
export class RelayListener {
  #server: net.Server | null = null;
  readonly #closing = new Set<Promise<void>>();

  constructor(
    private readonly at: SocketAddress,
    private readonly registry: SocketRegistry,
    private readonly onClient: (client: net.Socket) => void,
  ) {}

  /** True while listening. */
  get open(): boolean {
    return this.#server !== null;
  }

  /** Opens the listener if closed. */
  async openIfClosed(): Promise<void> {
    if (this.#server) return;
    const server = net.createServer({ allowHalfOpen: true }, (client) => {
      this.registry.add(client);
      this.onClient(client);
    });
    await listen(server, this.at);
    this.#server = server;
  }

  /** Stops accepting at once (the kernel refuses from now on); open connections live on. */
  close(): void {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    // The callback waits for the accepted connections; stop() awaits it after destroying them.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.#closing.add(closed);
    void closed.then(() => this.#closing.delete(closed));
  }

  /** Closes the listener and every connection; resolves when all are closed. */
  async closeAll(): Promise<void> {
    this.close();
    await this.registry.destroyAll();
    await Promise.all(this.#closing);
  }
}

/**
 * What a Service forwarder and the edge share: a round-robin TCP relay on ip:port whose
 * listener closes and reopens, and whose steps (backend changes, faults, stop) run in order.
 * A subclass decides what an accepted connection gets (`accept`) and what a backend change
 * does to the listener (`backendsChanged`).
 */
export abstract class RoundRobinRelay {
  /** The listening address. */
  readonly ip: string;
  /** The listening port. */
  readonly port: number;
  /** Every socket of the relay, clients and upstreams. */
  protected readonly registry = new SocketRegistry();
  /** The listener, handing each accepted client to `accept`. */
  protected readonly listener: RelayListener;
  /** Backend changes, fault changes and stop, one after another. */
  protected readonly queue: StepQueue;
  #backends: readonly SocketAddress[];
  #next = 0;
  #connections = 0;

  /** `what` names the relay in errors; `backends` must come from copyBackends. */
  constructor(ip: string, port: number, what: string, backends: readonly SocketAddress[]) {
    this.ip = ip;
    this.port = port;
    this.#backends = backends;
    this.listener = new RelayListener({ ip, port }, this.registry, (client) => {
      this.#connections++;
      this.accept(client);
    });
    this.queue = new StepQueue(`${what} ${ip}:${port}`);
  }

  /** The current backends. */
  get backends(): readonly SocketAddress[] {
    return this.#backends;
  }

  /** True while ip:port accepts connections. */
  get listening(): boolean {
    return this.listener.open;
  }

  /** Client connections accepted so far. */
  get connections(): number {
    return this.#connections;
  }

  /** Replaces the backends (in order with the other steps); open connections keep theirs. */
  async setBackends(backends: readonly SocketAddress[]): Promise<void> {
    const copy = copyBackends(backends);
    return this.queue.run(async () => {
      this.#backends = copy;
      await this.backendsChanged(copy);
    });
  }

  /** Closes the listener and every connection; resolves when all are closed (later calls share the first). */
  stop(): Promise<void> {
    return this.queue.run(() => this.listener.closeAll(), true);
  }

  /** What an accepted client connection gets. */
  protected abstract accept(client: net.Socket): void;

  /** Runs inside the step that set new backends; by default the listener stays as it is. */
  protected async backendsChanged(_backends: readonly SocketAddress[]): Promise<void> {}

  /** The next backend in turn; undefined when there are none. */
  protected pick(): SocketAddress | undefined {
    if (this.#backends.length === 0) return undefined;
    const target = this.#backends[this.#next % this.#backends.length];
    this.#next = (this.#next + 1) % this.#backends.length;
    return target;
  }

  /** Relays the client to `target`, or resets it when there is no target. */
  protected forward(client: net.Socket, target: SocketAddress | undefined): void {
    if (!target) return resetSocket(client);
    spliceConnection(client, target, this.registry);
  }
}

class Forwarder extends RoundRobinRelay implements ServiceForwarder {
  readonly #clients = new Set<net.Socket>();

  constructor(ip: string, port: number) {
    super(ip, port, 'service forwarder', []);
  }

  get activeConnections(): number {
    return this.#clients.size;
  }

  protected override async backendsChanged(backends: readonly SocketAddress[]): Promise<void> {
    // No backends: the kernel refuses, as kube-proxy's REJECT rule makes clients see.
    if (backends.length === 0) this.listener.close();
    else await this.listener.openIfClosed();
  }

  protected override accept(client: net.Socket): void {
    this.#clients.add(client);
    client.once('close', () => this.#clients.delete(client));
    // The list may have emptied between the kernel's accept and this callback: forward() then resets.
    this.forward(client, this.pick());
  }
}

/** Validates and freezes a backend list (the lab never dials outside loopback). */
export function copyBackends(backends: readonly SocketAddress[]): readonly SocketAddress[] {
  return Object.freeze(
    backends.map((b) => {
      requireLoopback(b.ip);
      requirePort(b.port);
      if (b.port === 0) throw new LabDataPlaneError('LAB_BAD_ADDRESS', `backend ${b.ip} has port 0`);
      return Object.freeze({ ip: b.ip, port: b.port });
    }),
  );
}
