// Pure: Kubernetes objects -> Routes. One Route per rule x path of every
// Ingress (and one for spec.defaultBackend), carrying every fact the classifier
// reads: the backend Service and port, endpoints, pods, NetworkPolicies and the
// controller serving the route's class. No I/O; deterministic output order.

import { markConflicts } from './conflicts.js';
import { createHash } from 'node:crypto';
import type { V1EndpointSlice, V1Ingress, V1NetworkPolicy, V1Pod, V1Service } from '@kubernetes/client-node';
import type { ControllerConfig } from '../config/types.js';
import type { Backend, EndpointFacts, PodFacts, PolicyFacts, Route, ServiceFacts, ServicePortFacts } from '../model.js';
import { ANNOTATIONS, type AnnotationSettings, readAnnotations } from './annotations.js';
import {
  type ResolvedController,
  controllerFacts,
  controllerForClass,
  loadBalancerAddresses,
  resolveControllers,
} from './controllers.js';
import { mergeCanaries } from './canary.js';
import { type IngressEntry, ingressEntries, looksLikeRegex, probeHostHeader, resolveIngressClass, tlsCovers } from './ingress.js';
import { podFacts } from './pods.js';
import { namespaceLabelsOf, policyFacts } from './policies.js';
import { labelSelectorFromMap, matchesLabels } from './selectors.js';
import { SERVICE_NAME_LABEL, compareText, endpointFacts, findServicePort, serviceFacts } from './services.js';
import type { ClusterSnapshot } from './snapshot.js';

/** Options of routesFrom. */
export interface RoutesOptions {
  /** Cluster DNS domain (accepted so callers pass cluster settings whole; Service DNS names are built by the planner). */
  clusterDomain: string;
  /** Only Ingresses in these namespaces; null or absent: all namespaces. */
  namespaces?: string[] | null;
}

/** The snapshot's objects indexed for per-route lookups. */
export interface SnapshotIndex {
  /** The snapshot. */
  snapshot: ClusterSnapshot;
  /** Configured controllers with their pods. */
  controllers: ResolvedController[];
  /** Services by "namespace/name". */
  services: Map<string, V1Service>;
  /** Pods by namespace. */
  pods: Map<string, V1Pod[]>;
  /** EndpointSlices by "namespace/service". */
  slices: Map<string, V1EndpointSlice[]>;
  /** NetworkPolicies by namespace. */
  policies: Map<string, V1NetworkPolicy[]>;
  /** Namespace labels by namespace name. */
  namespaceLabels: Map<string, Record<string, string>>;
}

/** What every route of one Ingress shares. */
interface IngressContext {
  /** Namespace of the Ingress. */
  namespace: string;
  /** Name of the Ingress. */
  name: string;
  /** The Ingress object. */
  ingress: V1Ingress;
  /** Resolved class. */
  ingressClass: string | null;
  /** The controller serving the class, null when none. */
  controller: ResolvedController | null;
  /** status.loadBalancer addresses. */
  loadBalancer: string[];
  /** All annotations. */
  annotations: Record<string, string>;
  /** hopwatch.io/* settings. */
  settings: AnnotationSettings;
  /** Backend facts by "service:port", shared by the Ingress's routes (read only): hosts of one Ingress mostly name the same backend. */
  backends: Map<string, BackendFacts>;
  /** Primary backends by key, shared by the Ingress's routes like their facts (read only). */
  primaries: Map<string, Backend>;
  /** What every route of the Ingress carries alike, one object each for all of them (read only). */
  shared: Pick<Route, 'parent' | 'controller' | 'loadBalancer' | 'annotations'>;
}

/** Everything discovery knows about a route's backend. */
export interface BackendFacts {
  /** The Service, null when missing. */
  service: ServiceFacts | null;
  /** The Service port the Ingress names, null when none matches. */
  servicePort: ServicePortFacts | null;
  /** Endpoints of that port. */
  endpoints: EndpointFacts[];
  /** Pods the Service selects. */
  pods: PodFacts[];
  /** Policies isolating those pods. */
  policies: PolicyFacts[];
}

/**
 * Every Route of the snapshot, sorted by namespace, ingress, host, path.
 * Throws LabelSelectorError when a controller's configured pod selector is invalid.
 */
export function routesFrom(
  snapshot: ClusterSnapshot,
  controllers: readonly ControllerConfig[],
  options: RoutesOptions,
): Route[] {
  const index = indexSnapshot(snapshot, controllers);
  const wanted = options.namespaces ? new Set(options.namespaces) : null;
  const routes = snapshot.ingresses
    .filter((ingress) => wanted === null || wanted.has(ingress.metadata?.namespace ?? 'default'))
    .flatMap((ingress) => routesOfIngress(ingress, index));
  // ingress-nginx canary Ingresses are weighted backends of the routes they split, not routes (canary.ts).
  // Two Ingresses claiming one host and path (canaries aside): the loser names the winner (conflicts.ts).
  return markConflicts(mergeCanaries(uniqueById(routes.sort(compareRoutes)), processingOrder(snapshot.ingresses)), snapshot.ingresses);
}

/** "namespace/name" -> place in ingress-nginx's processing order: oldest first (store.go sortIngressSlice), then by name. */
function processingOrder(ingresses: readonly V1Ingress[]): Map<string, number> {
  const created = (ingress: V1Ingress): number => {
    const at = ingress.metadata?.creationTimestamp;
    return at === undefined ? 0 : new Date(at).getTime();
  };
  const keyOf = (ingress: V1Ingress): string => `${ingress.metadata?.namespace ?? 'default'}/${ingress.metadata?.name ?? ''}`;
  const sorted = [...ingresses].sort((a, b) => created(a) - created(b) || compareText(keyOf(a), keyOf(b)));
  return new Map(sorted.map((ingress, i) => [keyOf(ingress), i]));
}

/** The API server accepts duplicate host+path entries; keeping the first (as controllers do) keeps ids unique. */
function uniqueById(routes: readonly Route[]): Route[] {
  const seen = new Set<string>();
  const unique: Route[] = [];
  for (const route of routes) {
    if (seen.has(route.id)) continue;
    seen.add(route.id);
    unique.push(route);
  }
  return unique;
}

/** The readable key of a route: "namespace/ingress host path" ("(any)" for no host, "(default)" for the default backend). */
export function routeKey(route: Pick<Route, 'namespace' | 'ingress' | 'host' | 'path' | 'defaultBackend'>): string {
  const host = route.defaultBackend ? '(default)' : (route.host ?? '(any)');
  return `${route.namespace}/${route.ingress} ${host} ${route.path}`;
}

/** The stable id of a route: the first 12 hex digits of sha256 over its identifying fields. */
export function routeId(
  route: Pick<Route, 'namespace' | 'ingress' | 'host' | 'path' | 'pathType' | 'defaultBackend'>,
): string {
  const { namespace, ingress, host, path, pathType, defaultBackend } = route;
  const canonical = JSON.stringify([namespace, ingress, host, path, pathType, defaultBackend]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}

/** Indexes the snapshot for per-route lookups (Ingress and HTTPRoute routes alike). */
export function indexSnapshot(snapshot: ClusterSnapshot, controllers: readonly ControllerConfig[]): SnapshotIndex {
  const services = new Map<string, V1Service>();
  for (const service of snapshot.services) services.set(objectKey(service.metadata), service);
  const slices = groupBy(snapshot.endpointSlices, (slice) =>
    `${slice.metadata?.namespace ?? ''}/${slice.metadata?.labels?.[SERVICE_NAME_LABEL] ?? ''}`,
  );
  const namespaceLabels = new Map<string, Record<string, string>>();
  for (const namespace of snapshot.namespaces) {
    namespaceLabels.set(namespace.metadata?.name ?? '', { ...(namespace.metadata?.labels ?? {}) });
  }
  return {
    snapshot,
    controllers: resolveControllers(controllers, snapshot.pods),
    services,
    pods: groupBy(snapshot.pods, (pod) => pod.metadata?.namespace ?? ''),
    slices,
    policies: groupBy(snapshot.networkPolicies, (policy) => policy.metadata?.namespace ?? ''),
    namespaceLabels,
  };
}

function routesOfIngress(ingress: V1Ingress, index: SnapshotIndex): Route[] {
  const name = ingress.metadata?.name;
  if (!name) return [];
  const annotations = { ...(ingress.metadata?.annotations ?? {}) };
  const ingressClass = resolveIngressClass(ingress, index.snapshot.ingressClasses);
  const controller = controllerForClass(index.controllers, ingressClass);
  const loadBalancer = loadBalancerAddresses(ingress);
  const context: IngressContext = {
    namespace: ingress.metadata?.namespace ?? 'default',
    name,
    ingress,
    ingressClass,
    controller,
    loadBalancer,
    annotations,
    settings: readAnnotations(annotations),
    backends: new Map(),
    primaries: new Map(),
    shared: {
      parent: ingressClass === null ? null : { kind: 'IngressClass', namespace: null, name: ingressClass, sectionName: null, port: null },
      controller: controller ? controllerFacts(controller, loadBalancer) : null,
      loadBalancer: [...loadBalancer],
      annotations: { ...annotations },
    },
  };
  return ingressEntries(ingress).map((entry) => buildRoute(entry, context, index));
}

function buildRoute(entry: IngressEntry, context: IngressContext, index: SnapshotIndex): Route {
  const backend = backendOf(entry);
  const facts = backend.port === null ? noBackend() : backendFacts(context, backend.service, backend.port, index);
  const identity = {
    namespace: context.namespace,
    ingress: context.name,
    host: entry.host,
    path: entry.path,
    pathType: entry.pathType,
    defaultBackend: entry.defaultBackend,
  };
  const problems = [
    ...(backend.problem ? [backend.problem] : []),
    ...pathProblems(entry, context.settings),
    ...context.settings.problems,
  ];
  const key = `${context.namespace}/${backend.service}:${backend.port ?? 0}`;
  let primary = context.primaries.get(key);
  if (primary === undefined || primary.problem !== backend.problem) {
    primary = {
      key,
      ref: { namespace: context.namespace, service: backend.service, port: backend.port ?? 0 },
      weight: 100,
      share: 1,
      role: 'primary',
      source: { kind: 'Ingress', namespace: context.namespace, name: context.name },
      selector: null,
      problem: backend.problem,
      ...facts,
    };
    context.primaries.set(key, primary);
  }
  return {
    id: routeId(identity),
    kind: 'Ingress',
    name: context.name,
    parent: context.shared.parent,
    backends: [primary],
    ...identity,
    ingressClass: context.ingressClass,
    tls: tlsCovers(context.ingress, entry.host),
    probe: {
      path: context.settings.probePath ?? entry.path,
      hostHeader: probeHostHeader(entry.host),
      expectStatus: context.settings.expectStatus,
      ignore: context.settings.ignore,
      schedule: context.settings.schedule,
    },
    notProbeable: problems.length > 0 ? problems.join('; ') : null,
    controller: context.shared.controller,
    loadBalancer: context.shared.loadBalancer,
    annotations: context.shared.annotations,
  };
}

/** The backend as written: a Service name and port, or a problem (resource backend, port unset). */
function backendOf(entry: IngressEntry): { service: string; port: number | string | null; problem: string | null } {
  const service = entry.backend.service;
  if (!service) {
    const resource = entry.backend.resource;
    const what = resource ? `${resource.kind}/${resource.name}` : 'none';
    const problem = `backend is a resource (${what}), not a Service: hopwatch probes Service backends only`;
    return { service: '', port: null, problem };
  }
  const port = service.port?.number ?? (service.port?.name || null);
  const problem = port === null ? `backend Service "${service.name}" names no port` : null;
  return { service: service.name, port, problem };
}

/** A regex ImplementationSpecific path has no literal request to send unless hopwatch.io/probe-path gives one. */
function pathProblems(entry: IngressEntry, settings: AnnotationSettings): string[] {
  if (entry.pathType !== 'ImplementationSpecific' || !looksLikeRegex(entry.path) || settings.probePath !== null) return [];
  return [`regex path ${JSON.stringify(entry.path)} needs the ${ANNOTATIONS.probePath} annotation`];
}

/** The facts of a backend that names no Service. */
export function noBackend(): BackendFacts {
  return { service: null, servicePort: null, endpoints: [], pods: [], policies: [] };
}

function backendFacts(context: IngressContext, serviceName: string, port: number | string, index: SnapshotIndex): BackendFacts {
  const key = `${serviceName}:${typeof port}:${port}`;
  let facts = context.backends.get(key);
  if (facts === undefined) context.backends.set(key, (facts = serviceBackendFacts(context.namespace, serviceName, port, context.controller?.pods ?? [], index)));
  return facts;
}

/**
 * Everything known behind one Service port: the Service, its port, endpoints, the pods it selects and
 * the NetworkPolicies isolating them (checked against the proxy pods that send to them).
 */
export function serviceBackendFacts(
  namespace: string,
  serviceName: string,
  port: number | string,
  controllerPods: readonly V1Pod[],
  index: SnapshotIndex,
): BackendFacts {
  const context = { namespace, controller: { pods: [...controllerPods] } };
  const object = index.services.get(`${context.namespace}/${serviceName}`);
  if (!object) return noBackend();
  const service = serviceFacts(object);
  const servicePort = findServicePort(service, port);
  const slices = index.slices.get(`${context.namespace}/${serviceName}`) ?? [];
  // A Service without selector has no pods of its own (its endpoints are managed by hand).
  const selector = labelSelectorFromMap(service.selector);
  const backendPods = selector.length === 0
    ? []
    : (index.pods.get(context.namespace) ?? [])
        .filter((pod) => matchesLabels(selector, pod.metadata?.labels))
        .sort((a, b) => compareText(a.metadata?.name ?? '', b.metadata?.name ?? ''));
  const policies = policyFacts(index.policies.get(context.namespace) ?? [], {
    namespace: context.namespace,
    backendPods,
    servicePort,
    controllerPods: context.controller?.pods ?? [],
    namespaceLabels: (namespace) => namespaceLabelsOf(namespace, index.namespaceLabels),
  });
  return {
    service,
    servicePort,
    endpoints: servicePort ? endpointFacts(slices, service, servicePort) : [],
    pods: backendPods.map(podFacts),
    policies,
  };
}

/** Namespace, ingress, host (none first), path, then pathType and rules before the default backend. */
export function compareRoutes(a: Route, b: Route): number {
  return (
    compareText(a.namespace, b.namespace) ||
    compareText(a.ingress, b.ingress) ||
    compareText(a.host ?? '', b.host ?? '') ||
    compareText(a.path, b.path) ||
    compareText(a.pathType, b.pathType) ||
    Number(a.defaultBackend) - Number(b.defaultBackend)
  );
}

function objectKey(metadata: { namespace?: string; name?: string } | undefined): string {
  return `${metadata?.namespace ?? ''}/${metadata?.name ?? ''}`;
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
