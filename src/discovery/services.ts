// A route's backend Service: its facts, the port the Ingress names, and the
// endpoints of that port from the Service's EndpointSlices.

import type { V1EndpointSlice, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { EndpointFacts, ObjectRef, ServiceFacts, ServicePortFacts } from '../model.js';

/** The label EndpointSlices carry naming their Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

const SERVICE_TYPES: readonly ServiceFacts['type'][] = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];

/** Reduces a Service to ServiceFacts. */
export function serviceFacts(service: V1Service): ServiceFacts {
  const spec = service.spec ?? {};
  const type = SERVICE_TYPES.find((known) => known === spec.type) ?? 'ClusterIP';
  const clusterIP = spec.clusterIP;
  return {
    namespace: service.metadata?.namespace ?? '',
    name: service.metadata?.name ?? '',
    type,
    // ExternalName Services and headless ones ("None") have no address to probe.
    clusterIP: type === 'ExternalName' || !clusterIP || clusterIP === 'None' ? null : clusterIP,
    externalName: type === 'ExternalName' ? (spec.externalName ?? null) : null,
    ports: (spec.ports ?? []).map(servicePortFacts),
    selector: { ...(spec.selector ?? {}) },
  };
}

/** Reduces one Service port; targetPort defaults to the port, as the API server does. */
export function servicePortFacts(port: V1ServicePort): ServicePortFacts {
  return {
    name: port.name || null,
    port: port.port,
    targetPort: port.targetPort ?? port.port,
    protocol: port.protocol ?? 'TCP',
    appProtocol: port.appProtocol ?? null,
  };
}

/**
 * The Service port an Ingress backend names: by number, or by name; null when the Service has none such.
 * An ExternalName Service may declare no port at all: ingress-nginx then uses the Ingress backend's
 * port number for the ExternalName target (internal/ingress/controller/controller.go serviceEndpoints,
 * "Ingress with an ExternalName Service and no port defined"; a port name gives no upstream), so the
 * port is that number, not a mismatch.
 */
export function findServicePort(service: ServiceFacts, backendPort: number | string): ServicePortFacts | null {
  if (service.type === 'ExternalName' && service.ports.length === 0 && typeof backendPort === 'number') {
    return { name: null, port: backendPort, targetPort: backendPort, protocol: 'TCP', appProtocol: null };
  }
  const found = service.ports.find((port) =>
    typeof backendPort === 'number' ? port.port === backendPort : port.name === backendPort,
  );
  return found ?? null;
}

/**
 * The endpoints of one Service port, as ingress-nginx reads them (internal/ingress/controller/
 * endpointslices.go getEndpointsFromSlices): every endpoint of every slice labelled with the
 * Service's name, on each slice port of the Service port's protocol whose name equals the Service
 * port's name; an unnamed Service port takes every slice port ("port.Name is optional if there is
 * only one port"); a slice port whose name does not match, or a slice without ports, falls back to
 * a numeric targetPort (ingress-nginx#7390). That last rule is what hand-written EndpointSlices of
 * a Service without selector lean on (an unnamed slice port behind a named Service port). Every
 * address of an endpoint counts. Deduplicated by address:port, sorted by address. Not-ready
 * endpoints are kept (with ready false): the controller skips them, hopwatch still probes them.
 */
export function endpointFacts(
  slices: readonly V1EndpointSlice[],
  service: ObjectRef,
  servicePort: ServicePortFacts,
): EndpointFacts[] {
  const byTarget = new Map<string, EndpointFacts>();
  const ownSlices = slices
    .filter((slice) => sliceBelongsTo(slice, service))
    .sort((a, b) => compareText(a.metadata?.name ?? '', b.metadata?.name ?? ''));
  for (const slice of ownSlices) {
    for (const facts of sliceEndpoints(slice, servicePort)) {
      const key = `${facts.address}|${facts.port}`;
      if (!byTarget.has(key)) byTarget.set(key, facts);
    }
  }
  return [...byTarget.values()].sort(
    (a, b) => compareAddresses(a.address, b.address) || a.port - b.port,
  );
}

function sliceBelongsTo(slice: V1EndpointSlice, service: ObjectRef): boolean {
  return slice.metadata?.namespace === service.namespace && slice.metadata?.labels?.[SERVICE_NAME_LABEL] === service.name;
}

/** The port numbers one slice gives a Service port (getEndpointsFromSlices' port loop). */
export function slicePortNumbers(slice: V1EndpointSlice, servicePort: ServicePortFacts): number[] {
  const numericTarget = typeof servicePort.targetPort === 'number' ? servicePort.targetPort : 0;
  const declared = slice.ports ?? [];
  if (declared.length === 0) return numericTarget > 0 ? [numericTarget] : [];
  const numbers: number[] = [];
  for (const port of declared) {
    if ((port.protocol ?? 'TCP') !== servicePort.protocol) continue;
    const named = servicePort.name === null || servicePort.name === (port.name ?? '');
    const number = (named ? (port.port ?? 0) : 0) || numericTarget;
    if (number > 0 && !numbers.includes(number)) numbers.push(number);
  }
  return numbers;
}

/** One slice's endpoints on the port numbers it gives the Service port. */
function sliceEndpoints(slice: V1EndpointSlice, servicePort: ServicePortFacts): EndpointFacts[] {
  const ports = slicePortNumbers(slice, servicePort);
  const namespace = slice.metadata?.namespace ?? '';
  const facts: EndpointFacts[] = [];
  for (const endpoint of slice.endpoints ?? []) {
    // Kubernetes: an unset ready counts as ready, serving defaults to ready.
    const ready = endpoint.conditions?.ready ?? true;
    const serving = endpoint.conditions?.serving ?? ready;
    const terminating = endpoint.conditions?.terminating ?? false;
    const ref = endpoint.targetRef;
    const pod = ref?.kind === 'Pod' && ref.name ? { namespace: ref.namespace ?? namespace, name: ref.name } : null;
    for (const port of ports) {
      for (const address of endpoint.addresses ?? []) facts.push({ address, port, ready, serving, terminating, pod });
    }
  }
  return facts;
}

/** Plain code-unit comparison (locale-independent, so output order is the same everywhere). */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Orders IPv4 addresses numerically (127.0.0.9 before 127.0.0.10), anything else as text after them. */
export function compareAddresses(a: string, b: string): number {
  const octetsA = ipv4Octets(a);
  const octetsB = ipv4Octets(b);
  if (octetsA && octetsB) {
    for (let i = 0; i < 4; i += 1) {
      const diff = (octetsA[i] ?? 0) - (octetsB[i] ?? 0);
      if (diff !== 0) return diff;
    }
    return 0;
  }
  if (octetsA) return -1;
  if (octetsB) return 1;
  return compareText(a, b);
}

function ipv4Octets(address: string): number[] | null {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) return null;
  return address.split('.').map(Number);
}
