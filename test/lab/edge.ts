// The lab's edge: the "load balancer" users hit, in front of the ingress controller
// pods. Healthy, it is an L4 round-robin TCP balancer (like a cloud NLB); its faults
// stage what a broken load balancer looks like from outside. It knows nothing of
// Kubernetes: the orchestrator gives it the controller pods' addresses.

import * as http from 'node:http';
import type * as net from 'node:net';
import { LabDataPlaneError, requireLoopback, requirePort, reservePort, type SocketAddress } from './pods.js';
import { RoundRobinRelay, copyBackends, resetSocket } from './services.js';

/** How the edge misbehaves; switchable at run time. */
export type EdgeFault =
  /** Round-robin over every backend (no backends: each connection is reset). */
  | { mode: 'healthy' }
  /** Not listening: connections are refused. */
  | { mode: 'refuse' }
  /** Accepts, reads the first bytes of the request, then resets (RST) before any byte. */
  | { mode: 'reset' }
  /** Answers every HTTP request itself with an AWS ALB's 502 page (server: awselb/2.0). */
  | { mode: 'bad-gateway' }
  /** Sends every connection to the backend with this index (reset when there is none). */
  | { mode: 'only-backend'; index: number };

/** What startEdge needs. */
export interface EdgeOptions {
  /** The edge address (loopback). */
  ip: string;
  /** The edge port; 0 picks a free port once, kept while the edge lives. */
  port: number;
  /** The controller pods' addresses. */
  backends: readonly SocketAddress[];
  /** Initial fault; default healthy. */
  fault?: EdgeFault;
  /** Clock for the Date header of the edge's own answers; default Date.now. */
  now?: () => number;
}

/** A running edge. */
export interface LabEdge {
  /** The edge address. */
  readonly ip: string;
  /** The edge port (the real one when started with 0). */
  readonly port: number;
  /** The current fault. */
  readonly fault: EdgeFault;
  /** The current backends. */
  readonly backends: readonly SocketAddress[];
  /** True while ip:port accepts connections. */
  readonly listening: boolean;
  /** Client connections accepted so far. */
  readonly connections: number;
  /** Replaces the backends (new connections use them; open ones keep theirs, as with an NLB). */
  setBackends(backends: readonly SocketAddress[]): Promise<void>;
  /** Switches the fault; a change closes every open connection so pooled clients see it at once. */
  setFault(fault: EdgeFault): Promise<void>;
  /** Closes the listener and every connection; resolves when all are closed (later calls share the first). */
  stop(): Promise<void>;
}

/** The body an AWS ALB sends with its own 502 (122 bytes, CRLF lines). */
export const ALB_502_BODY =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n';

/** How long the edge's own HTTP answers keep an idle connection (an ALB's default idle timeout). */
const ALB_IDLE_TIMEOUT_MS = 60_000;

/** Starts the edge; resolves once it listens (or, for `refuse`, has its port). */
export async function startEdge(options: EdgeOptions): Promise<LabEdge> {
  requireLoopback(options.ip);
  requirePort(options.port);
  const port = options.port !== 0 ? options.port : await reservePort(options.ip);
  const edge = new Edge(options.ip, port, copyBackends(options.backends), options.now ?? Date.now);
  await edge.setFault(options.fault ?? { mode: 'healthy' });
  return edge;
}

class Edge extends RoundRobinRelay implements LabEdge {
  #fault: EdgeFault | null = null;
  readonly #badGateway: http.Server;

  constructor(ip: string, port: number, backends: readonly SocketAddress[], now: () => number) {
    super(ip, port, 'edge', backends);
    this.#badGateway = albErrorServer(now);
  }

  get fault(): EdgeFault {
    return this.#fault ?? { mode: 'healthy' };
  }

  async setFault(fault: EdgeFault): Promise<void> {
    validateEdgeFault(fault);
    const copy = { ...fault };
    return this.queue.run(async () => {
      const changed = JSON.stringify(copy) !== JSON.stringify(this.#fault);
      // A pooled keep-alive connection would otherwise keep the old behaviour. The drop
      // happens in the same tick as the switch, so no connection of the new fault is caught.
      const dropped = changed ? this.registry.destroyAll() : Promise.resolve();
      this.#fault = copy;
      if (copy.mode === 'refuse') this.listener.close();
      else await this.listener.openIfClosed();
      await dropped;
    });
  }

  protected override accept(client: net.Socket): void {
    const fault = this.fault;
    switch (fault.mode) {
      case 'healthy':
        return this.forward(client, this.pick());
      case 'only-backend':
        return this.forward(client, this.backends[fault.index]);
      case 'reset':
        return resetOnFirstBytes(client);
      case 'bad-gateway':
        // The edge's own HTTP server takes over the socket, as an ALB answers by itself.
        client.on('error', () => undefined);
        this.#badGateway.emit('connection', client);
        return;
      case 'refuse':
        // Accepted just before the listener closed: refuse as well as one can now.
        return resetSocket(client);
    }
  }
}

/** Reads until the client has sent something, then RSTs: the client always sees ECONNRESET, never EPIPE. */
function resetOnFirstBytes(client: net.Socket): void {
  client.on('error', () => undefined);
  client.once('data', () => resetSocket(client));
  // A client that half-closes without sending gets its reset too.
  client.once('end', () => resetSocket(client));
}

/** An HTTP server (never listening: sockets are handed to it) answering everything like an ALB's own 502. */
function albErrorServer(now: () => number): http.Server {
  const server = http.createServer((req, res) => {
    // Header order and names as an ALB sends them; no Keep-Alive header (keepAliveTimeout 0 drops it).
    res.setHeader('Server', 'awselb/2.0');
    res.setHeader('Date', new Date(now()).toUTCString());
    res.setHeader('Content-Type', 'text/html');
    res.setHeader('Content-Length', Buffer.byteLength(ALB_502_BODY));
    res.writeHead(502, 'Bad Gateway');
    res.end(req.method === 'HEAD' ? undefined : ALB_502_BODY);
  });
  server.keepAliveTimeout = 0;
  server.timeout = ALB_IDLE_TIMEOUT_MS;
  return server;
}

function validateEdgeFault(fault: EdgeFault): void {
  if (fault.mode === 'only-backend' && !(Number.isInteger(fault.index) && fault.index >= 0)) {
    throw new LabDataPlaneError('LAB_BAD_FAULT', `edge fault only-backend needs a non-negative integer index, got ${fault.index}`);
  }
}
