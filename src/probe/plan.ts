// Pure: which hops to probe for a route, and what to send to each.

import { appProtocolOf, controllerSettings, wireOf } from '../classify/knowledge.js';
import type { Backend, HopRequest, PlannedHop, Route } from '../model.js';

/** What planning needs besides the route. */
export interface PlanOptions {
  /** Per-hop deadline. */
  timeoutMs: number;
  /** DNS server for dns hops ("ip:port"), null for the system resolver. */
  dnsServer: string | null;
  /** Cluster DNS domain. */
  clusterDomain: string;
}

/** Formats an address and port as a dial target ("[v6]:port" for IPv6). */
export function formatTarget(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Parses an edge URL into address, port and scheme; null when it is not an http(s) URL. */
export function parseEdge(url: string): { address: string; port: number; scheme: 'http' | 'https' } | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  const scheme = parsed.protocol === 'https:' ? 'https' : 'http';
  const port = parsed.port ? Number(parsed.port) : scheme === 'https' ? 443 : 80;
  return { address: parsed.hostname.replace(/^\[|\]$/g, ''), port, scheme };
}

/**
 * True when the route's controller speaks TLS to its pods, so the pod hops do too: the controller's
 * knowledge (its backend-protocol annotations, whether it reads appProtocol, configured overrides).
 * Without a known controller, the Service port's appProtocol decides.
 */
export function backendSpeaksTls(route: Route, backend: Backend | null = route.backends[0] ?? null): boolean {
  const settings = controllerSettings(route, backend);
  if (settings !== null) return wireOf(settings.backendProtocol.value).tls;
  const app = appProtocolOf({ annotations: route.annotations, servicePort: backend?.servicePort ?? null });
  return app !== null && wireOf(app).tls;
}

function hop(fields: Omit<PlannedHop, 'pod' | 'ready' | 'terminating' | 'dnsServer'> & Partial<PlannedHop>): PlannedHop {
  return { pod: null, ready: null, terminating: null, dnsServer: null, backend: null, ...fields };
}

/** The port of a DNS server as configured ("ip", "ip:port", "[v6]:port", a bare IPv6 address): 53 unless one is given. */
function dnsServerPort(server: string | null): number {
  if (server === null) return 53;
  // A bare IPv6 address has colons but no port; only the bracketed form carries one.
  const port = server.startsWith('[') ? server.slice(server.indexOf(']') + 2) : server.split(':').length === 2 ? server.split(':')[1] : '';
  return port ? Number(port) : 53;
}

function planDns(backend: Backend, request: HopRequest, options: PlanOptions): PlannedHop[] {
  const service = backend.service;
  // A headless Service (clusterIP None) is nowhere on the path: ingress-nginx sends to its endpoints
  // (controller.go serviceEndpoints -> endpointslices.go getEndpointsFromSlices for every type but
  // ExternalName) and never resolves its name, which the cluster DNS answers with the ready pods'
  // addresses or not at all when none is ready. Resolving it would only add noise.
  if (!service || isHeadless(service)) return [];
  const name = service.externalName ?? `${service.name}.${service.namespace}.svc.${options.clusterDomain}`;
  const server = options.dnsServer;
  return [
    hop({
      hop: 'dns',
      target: name,
      address: name,
      port: dnsServerPort(server),
      scheme: 'dns',
      request: { ...request, host: name },
      dnsServer: server,
      backend: backend.key,
    }),
  ];
}

/** A Service of type ClusterIP without an address: headless ("None"). */
function isHeadless(service: NonNullable<Backend['service']>): boolean {
  return service.type !== 'ExternalName' && service.clusterIP === null;
}

function planFront(route: Route, request: HopRequest): PlannedHop[] {
  const controller = route.controller;
  if (!controller) return [];
  const hops: PlannedHop[] = [];
  const edge = parseEdge((route.tls ? controller.edgeHttps : controller.edge) ?? controller.edge ?? '');
  if (edge) hops.push(hop({ hop: 'edge', target: formatTarget(edge.address, edge.port), ...edge, request }));
  const scheme = route.tls ? 'https' : 'http';
  const port = route.tls ? controller.httpsPort : controller.httpPort;
  for (const pod of controller.pods) {
    if (!pod.ip) continue;
    hops.push(
      hop({
        hop: 'controller',
        target: formatTarget(pod.ip, port),
        address: pod.ip,
        port,
        scheme,
        pod: `${pod.namespace}/${pod.name}`,
        ready: pod.ready,
        request,
      }),
    );
  }
  return hops;
}

function planBackend(route: Route, backend: Backend, request: HopRequest, options: PlanOptions): PlannedHop[] {
  const { service, servicePort } = backend;
  if (!service || !servicePort) return [];
  const scheme = backendSpeaksTls(route, backend) ? 'https' : 'http';
  const hops: PlannedHop[] = [];
  const serviceAddress = service.externalName ?? service.clusterIP;
  if (serviceAddress) {
    const target = formatTarget(serviceAddress, servicePort.port);
    // An ExternalName is resolved through the cluster's DNS server, as the controller's pod resolves it.
    const dnsServer = service.externalName !== null && options.dnsServer !== null ? options.dnsServer : null;
    hops.push(hop({ hop: 'service', target, address: serviceAddress, port: servicePort.port, scheme, request, dnsServer, backend: backend.key }));
  }
  for (const endpoint of backend.endpoints) {
    hops.push(
      hop({
        hop: 'pod',
        target: formatTarget(endpoint.address, endpoint.port),
        address: endpoint.address,
        port: endpoint.port,
        scheme,
        pod: endpoint.pod ? `${endpoint.pod.namespace}/${endpoint.pod.name}` : null,
        ready: endpoint.ready,
        terminating: endpoint.terminating,
        request,
        backend: backend.key,
      }),
    );
  }
  return hops;
}

/**
 * The headers that make the front send a request to a backend selected by header or cookie (an
 * ingress-nginx canary-by-header or canary-by-cookie), null for a backend reached by weight only.
 * A header with a value, else "always"; a cookie set to "always" (ingress-nginx balancer.lua).
 */
export function selectingHeaders(backend: Backend): Record<string, string> | null {
  const header = backend.selector?.header ?? null;
  if (header !== null) return { [header.name]: header.value };
  const cookie = backend.selector?.cookie ?? null;
  if (cookie !== null) return { cookie: `${cookie.name}=${cookie.value}` };
  return null;
}

/** The edge and controller hops once more for each backend selected by a header or cookie, marked with that backend. */
function planSelectedFronts(route: Route, request: HopRequest): PlannedHop[] {
  return route.backends.flatMap((backend) => {
    const headers = selectingHeaders(backend);
    if (headers === null) return [];
    return planFront(route, { ...request, headers: { ...(request.headers ?? {}), ...headers } }).map((h) => ({ ...h, backend: backend.key }));
  });
}

/** What the edge and the proxy pods are sent: the route's path, Host, and the method and headers its match requires. */
export function frontRequest(route: Route, timeoutMs: number): HopRequest {
  const { method, headers } = route.probe;
  return {
    host: route.probe.hostHeader,
    path: route.probe.path,
    timeoutMs,
    ...(method === undefined ? {} : { method }),
    ...(headers === undefined ? {} : { headers: { ...headers } }),
  };
}

/** What the Service and pods are sent: the request as the proxy forwards it (rewritten path, Host and headers). */
export function backendRequest(route: Route, front: HopRequest): HopRequest {
  const { backendPath, backendHeaders, backendHost } = route.probe;
  const request: HopRequest = { ...front };
  if (backendPath !== undefined) request.path = backendPath;
  if (backendHost !== undefined) request.host = backendHost;
  if (backendHeaders !== undefined) request.headers = { ...backendHeaders };
  return request;
}

/**
 * Plans every hop of a route, outermost first: each backend's DNS name, the front (and the front
 * again with each canary's selecting header or cookie), then each backend's Service and pods (sent
 * the request as the proxy forwards it). None for routes that are ignored or cannot be probed.
 */
export function planHops(route: Route, options: PlanOptions): PlannedHop[] {
  if (route.notProbeable !== null || route.probe.ignore) return [];
  const request = frontRequest(route, options.timeoutMs);
  const forwarded = backendRequest(route, request);
  return [
    ...route.backends.flatMap((backend) => planDns(backend, request, options)),
    ...planFront(route, request),
    ...planSelectedFronts(route, request),
    ...route.backends.flatMap((backend) => planBackend(route, backend, forwarded, options)),
  ];
}
