// Discovery that recomputes only what changed. `routesFrom` (routes.ts) stays the pure reference:
// this module never builds a route itself, it calls routesFrom on a small snapshot holding the
// routing objects a change affects and the objects they read, and splices the result into the
// last full answer. The answer is the same as routesFrom on the whole snapshot (the property test
// in incremental.test.ts checks it after random sequences of changes).
//
// The unit of recompute is a group of Ingresses: those a changed object affects (an index from each
// object to the Ingresses that read it: the Service and its EndpointSlices by the Service's name,
// a Pod through the Services selecting it, a NetworkPolicy through its namespace), widened to every
// Ingress sharing a host with one of them (transitively: their other hosts too), so that logic
// across Ingresses of one host (canary Ingresses becoming weighted backends of the main Ingress's
// route, conflicts between Ingresses of the same host and path) sees the whole host. What cannot be attributed that way recomputes
// everything: controller pods (every route of their class), IngressClasses, Namespaces (policies'
// namespaceSelectors), a relist, and any kind this module does not know.

import type { KubernetesObject, V1EndpointSlice, V1Ingress, V1NetworkPolicy, V1Pod, V1Service } from '@kubernetes/client-node';
import type { ControllerConfig } from '../config/types.js';
import type { Route } from '../model.js';
import { type RoutesOptions, routesFrom } from './routes.js';
import { labelSelectorFromMap, matchesLabels, parseLabelSelector, type LabelSelector } from './selectors.js';
import { SERVICE_NAME_LABEL, compareText } from './services.js';
import { emptySnapshot, type ClusterSnapshot } from './snapshot.js';

/** One object added, changed (object set) or deleted (object null), by kind and "namespace/name". */
export interface ObjectChange {
  /** The snapshot list it belongs to. */
  kind: keyof ClusterSnapshot;
  /** "namespace/name" ("/name" for cluster-scoped objects). */
  key: string;
  /** The object now, null when deleted. */
  object: KubernetesObject | null;
}

/** What changed since the last call: the objects, or "everything" (a relist, or more changes than were kept). */
export type ObjectChanges = { all: true } | { all: false; changes: ObjectChange[] };

/** Where the objects come from: a full snapshot, and the changes since the last take. */
export interface ObjectSource {
  /** Every object now (sorted by namespace and name in each list). */
  snapshot(): ClusterSnapshot;
  /** The changes since the last call (the first call: everything). */
  takeChanges(): ObjectChanges;
}

/** Kinds routesFrom does not read (the Gateway API's are follow.ts's): their changes recompute nothing here (the property test changes them too). */
const NOT_READ: ReadonlySet<keyof ClusterSnapshot> = new Set(['replicaSets', 'deployments', 'gatewayClasses', 'gateways', 'httpRoutes', 'grpcRoutes', 'referenceGrants']);

/** What an update changed: every route (a full recompute), or the routes recomputed and the ids gone. */
export type RoutesDelta =
  | { full: true; routes: Route[] }
  | { full: false; upserted: Route[]; removed: string[] };

/** How the last answer was reached, for metrics and the benchmark. */
export interface RecomputeStats {
  /** Full recomputes so far. */
  full: number;
  /** Partial recomputes so far. */
  partial: number;
  /** Ingresses recomputed by the last partial recompute. */
  lastIngresses: number;
}

function keyOf(object: KubernetesObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

function namespaceOf(object: KubernetesObject): string {
  return object.metadata?.namespace ?? '';
}

/** "namespace/service" of the Service an EndpointSlice belongs to (its label). */
function serviceOfSlice(slice: V1EndpointSlice): string {
  return `${namespaceOf(slice)}/${slice.metadata?.labels?.[SERVICE_NAME_LABEL] ?? ''}`;
}

/** Where key is or belongs in keys sorted by compareKeys (binary search). */
export function positionOf(order: readonly string[], key: string): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareKeys(order[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Stores a slice and indexes it by its Service; returns the "namespace/service" it belonged to and
 * belongs to now (a slice's label may change). Shared by both engines (Ingress and HTTPRoute routes).
 */
export function storeSlice(slices: Store<V1EndpointSlice>, byService: Index, key: string, slice: V1EndpointSlice | null): string[] {
  const before = slices.set(key, slice);
  const name = key.slice(key.indexOf('/') + 1);
  const services: string[] = [];
  if (before !== undefined) {
    services.push(serviceOfSlice(before));
    byService.delete(services[0]!, before.metadata?.name ?? name);
  }
  if (slice !== null) {
    services.push(serviceOfSlice(slice));
    byService.add(services[services.length - 1]!, slice.metadata?.name ?? name);
  }
  return services;
}

/** Hosts of an Ingress as routesFrom keys its routes ("" for no host and the default backend). */
function hostsOf(ingress: V1Ingress): string[] {
  const hosts = (ingress.spec?.rules ?? []).map((rule) => rule.host ?? '');
  if (ingress.spec?.defaultBackend) hosts.push('');
  return hosts;
}

/** "namespace/service" of every Service an Ingress names. */
function servicesOf(ingress: V1Ingress): string[] {
  const ns = ingress.metadata?.namespace ?? 'default';
  const names = new Set<string>();
  for (const rule of ingress.spec?.rules ?? []) for (const p of rule.http?.paths ?? []) if (p.backend.service?.name) names.add(p.backend.service.name);
  if (ingress.spec?.defaultBackend?.service?.name) names.add(ingress.spec.defaultBackend.service.name);
  return [...names].map((name) => `${ns}/${name}`);
}

/** A multimap of string keys to string values; a key with one value holds the string alone (most do: a Set per key would double the heap). */
export class Index {
  readonly #map = new Map<string, string | Set<string>>();

  add(key: string, value: string): void {
    const held = this.#map.get(key);
    if (held === undefined) this.#map.set(key, value);
    else if (typeof held === 'string') {
      if (held !== value) this.#map.set(key, new Set([held, value]));
    } else held.add(value);
  }

  delete(key: string, value: string): void {
    const held = this.#map.get(key);
    if (held === undefined) return;
    if (typeof held === 'string') {
      if (held === value) this.#map.delete(key);
      return;
    }
    held.delete(value);
    if (held.size === 1) this.#map.set(key, held.values().next().value!);
  }

  get(key: string): Iterable<string> {
    const held = this.#map.get(key);
    return held === undefined ? EMPTY : typeof held === 'string' ? [held] : held;
  }
}
const EMPTY: readonly string[] = [];

/**
 * Objects of one kind by namespace, then by name. Keyed by the object's own name string, not the
 * "namespace/name" key: a key string per object held here was most of this module's heap.
 */
export class Store<T extends KubernetesObject> {
  readonly #byNamespace = new Map<string, Map<string, T>>();

  /** Sets (null: deletes) the object of a key; returns what it replaced. */
  set(key: string, object: T | null): T | undefined {
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const name = object?.metadata?.name ?? key.slice(slash + 1);
    let m = this.#byNamespace.get(ns);
    const before = m?.get(name);
    if (object === null) {
      m?.delete(name);
      if (m?.size === 0) this.#byNamespace.delete(ns);
    } else {
      if (m === undefined) this.#byNamespace.set(ns, (m = new Map()));
      m.set(name, object);
    }
    return before;
  }

  get(key: string): T | undefined {
    const slash = key.indexOf('/');
    return this.getIn(key.slice(0, slash), key.slice(slash + 1));
  }

  getIn(ns: string, name: string): T | undefined {
    return this.#byNamespace.get(ns)?.get(name);
  }

  inNamespace(ns: string): Iterable<T> {
    return this.#byNamespace.get(ns)?.values() ?? [];
  }

  /** Every object, namespace by namespace. */
  *all(): Iterable<T> {
    for (const m of this.#byNamespace.values()) yield* m.values();
  }
}

/** Compares "namespace/name" keys as routesFrom orders routes: by namespace, then by name. */
export function compareKeys(a: string, b: string): number {
  const i = a.indexOf('/');
  const j = b.indexOf('/');
  return compareText(a.slice(0, i), b.slice(0, j)) || compareText(a.slice(i + 1), b.slice(j + 1));
}

/** Routes of a snapshot kept up to date by recomputing only the Ingresses a change affects. */
export class IncrementalRoutes {
  readonly #controllers: readonly ControllerConfig[];
  readonly #selectors: { namespace: string; selector: LabelSelector }[];
  readonly #options: RoutesOptions;
  readonly #wanted: ReadonlySet<string> | null;
  #ingresses = new Store<V1Ingress>();
  #services = new Store<V1Service>();
  #slices = new Store<V1EndpointSlice>();
  #pods = new Store<V1Pod>();
  #policies = new Store<V1NetworkPolicy>();
  #snapshot: ClusterSnapshot = emptySnapshot();
  /** Ingress keys by host, and by the "namespace/service" they name. */
  #byHost = new Index();
  #byService = new Index();
  /** Slice names by the "namespace/service" of their label (the slice is in the Service's namespace). */
  #slicesByService = new Index();
  /** Routes by Ingress key, and the Ingress keys in routesFrom's order. */
  #routes = new Map<string, Route[]>();
  #order: string[] = [];
  /** The whole answer, built again only when asked for after a partial recompute. */
  #answer: Route[] | null = [];
  #ready = false;
  /** How answers were reached. */
  readonly stats: RecomputeStats = { full: 0, partial: 0, lastIngresses: 0 };

  constructor(controllers: readonly ControllerConfig[], options: RoutesOptions) {
    this.#controllers = controllers;
    // Throws LabelSelectorError as routesFrom does for a bad configured selector.
    this.#selectors = controllers.map((c) => ({ namespace: c.pods.namespace, selector: parseLabelSelector(c.pods.selector) }));
    this.#options = options;
    this.#wanted = options.namespaces ? new Set(options.namespaces) : null;
  }

  /** The routes after the source's changes (the same array when nothing that routes read changed). */
  update(source: ObjectSource): Route[] {
    this.updateDelta(source);
    return this.routes();
  }

  /** The routes now, in routesFrom's order. */
  routes(): Route[] {
    if (this.#answer === null) this.#answer = this.#order.flatMap((key) => this.#routes.get(key)!);
    return this.#answer;
  }

  /** Takes the source's changes and tells what they changed: for a caller keeping its own view (the run loop), no pass over every route. */
  updateDelta(source: ObjectSource): RoutesDelta {
    const taken = source.takeChanges();
    if (!this.#ready || taken.all) return { full: true, routes: this.#full(source.snapshot()) };
    const affected = new Set<string>();
    for (const change of taken.changes) {
      if (this.#apply(change, affected) === 'all') return { full: true, routes: this.#full(source.snapshot()) };
    }
    return affected.size > 0 ? this.#recompute(affected) : { full: false, upserted: [], removed: [] };
  }

  /** Everything from a snapshot. */
  #full(snapshot: ClusterSnapshot): Route[] {
    this.#snapshot = snapshot;
    this.#ingresses = new Store();
    this.#services = new Store();
    this.#slices = new Store();
    this.#pods = new Store();
    this.#policies = new Store();
    this.#byHost = new Index();
    this.#byService = new Index();
    this.#slicesByService = new Index();
    for (const o of snapshot.ingresses) this.#setIngress(keyOf(o), o);
    for (const o of snapshot.services) this.#services.set(keyOf(o), o);
    for (const o of snapshot.endpointSlices) this.#setSlice(keyOf(o), o);
    for (const o of snapshot.pods) this.#pods.set(keyOf(o), o);
    for (const o of snapshot.networkPolicies) this.#policies.set(keyOf(o), o);
    const routes = routesFrom(snapshot, this.#controllers, this.#options);
    this.#routes = new Map();
    for (const route of routes) {
      const key = `${route.namespace}/${route.ingress}`;
      const list = this.#routes.get(key);
      if (list === undefined) this.#routes.set(key, [route]);
      else list.push(route);
    }
    this.#order = [...this.#routes.keys()];
    this.#answer = routes;
    this.#ready = true;
    this.stats.full++;
    return routes;
  }

  /** Records one change and the Ingresses it affects; 'all' when it cannot be attributed. */
  #apply(change: ObjectChange, affected: Set<string>): 'all' | 'some' {
    const { kind, key, object } = change;
    if (NOT_READ.has(kind)) return 'some';
    const ns = key.slice(0, key.indexOf('/'));
    switch (kind) {
      case 'ingresses': {
        const before = this.#setIngress(key, object as V1Ingress | null);
        affected.add(key);
        // The hosts it had: an Ingress leaving a host changes what the others of that host make.
        for (const host of before === undefined ? [] : hostsOf(before)) for (const k of this.#byHost.get(host)) affected.add(k);
        return 'some';
      }
      case 'services':
        this.#services.set(key, object as V1Service | null);
        for (const k of this.#byService.get(key)) affected.add(k);
        return 'some';
      case 'endpointSlices': {
        for (const svc of this.#setSlice(key, object as V1EndpointSlice | null)) for (const k of this.#byService.get(svc)) affected.add(k);
        return 'some';
      }
      case 'pods': {
        const before = this.#pods.set(key, object as V1Pod | null);
        const labels = [before?.metadata?.labels, object?.metadata?.labels];
        if (this.#selectors.some((c) => c.namespace === ns && labels.some((l) => matchesLabels(c.selector, l)))) return 'all';
        for (const service of this.#services.inNamespace(ns)) {
          const selector = labelSelectorFromMap(service.spec?.selector ?? {});
          if (selector.length === 0 || !labels.some((l) => matchesLabels(selector, l))) continue;
          for (const k of this.#byService.get(keyOf(service))) affected.add(k);
        }
        return 'some';
      }
      case 'networkPolicies':
        this.#policies.set(key, object as V1NetworkPolicy | null);
        for (const ingress of this.#ingresses.inNamespace(ns)) affected.add(keyOf(ingress));
        return 'some';
      default:
        // IngressClasses, Namespaces, and any kind added later: everything.
        return 'all';
    }
  }

  #setIngress(key: string, ingress: V1Ingress | null): V1Ingress | undefined {
    const before = this.#ingresses.set(key, ingress);
    if (before !== undefined) {
      for (const host of hostsOf(before)) this.#byHost.delete(host, key);
      for (const svc of servicesOf(before)) this.#byService.delete(svc, key);
    }
    if (ingress !== null) {
      for (const host of hostsOf(ingress)) this.#byHost.add(host, key);
      for (const svc of servicesOf(ingress)) this.#byService.add(svc, key);
    }
    return before;
  }

  #setSlice(key: string, slice: V1EndpointSlice | null): string[] {
    return storeSlice(this.#slices, this.#slicesByService, key, slice);
  }

  /** Recomputes the affected Ingresses (widened to their hosts, transitively) with routesFrom on a snapshot of what they read. */
  #recompute(affected: Set<string>): RoutesDelta {
    // Closed over shared hosts: an Ingress pulled in for one host has its routes on its other hosts
    // recomputed too, and those need every Ingress of those hosts (a canary there, a conflict).
    const group = new Set<string>(affected);
    const queue = [...affected];
    for (let key = queue.pop(); key !== undefined; key = queue.pop()) {
      const ingress = this.#ingresses.get(key);
      if (ingress === undefined) continue;
      for (const host of hostsOf(ingress)) {
        for (const k of this.#byHost.get(host)) {
          if (group.has(k)) continue;
          group.add(k);
          queue.push(k);
        }
      }
    }
    const routes = routesFrom(this.#partOf(group), this.#controllers, this.#options);
    const fresh = new Map<string, Route[]>();
    for (const route of routes) {
      const key = `${route.namespace}/${route.ingress}`;
      const list = fresh.get(key);
      if (list === undefined) fresh.set(key, [route]);
      else list.push(route);
    }
    const upserted: Route[] = [];
    const removed: string[] = [];
    for (const key of new Set([...group, ...fresh.keys()])) {
      const now = fresh.get(key) ?? [];
      const ids = new Set(now.map((r) => r.id));
      for (const route of this.#routes.get(key) ?? []) if (!ids.has(route.id)) removed.push(route.id);
      upserted.push(...now);
      this.#place(key, now);
    }
    this.#answer = null;
    this.stats.partial++;
    this.stats.lastIngresses = group.size;
    return { full: false, upserted, removed };
  }

  /** Puts an Ingress's routes in place (none: it leaves the order). */
  #place(key: string, routes: Route[]): void {
    const had = this.#routes.has(key);
    if (routes.length === 0) {
      if (!had) return;
      this.#routes.delete(key);
      this.#order.splice(positionOf(this.#order, key), 1);
      return;
    }
    this.#routes.set(key, routes);
    if (!had) this.#order.splice(positionOf(this.#order, key), 0, key);
  }


  /** A snapshot of the group's Ingresses and everything their routes read. */
  #partOf(group: ReadonlySet<string>): ClusterSnapshot {
    const part = emptySnapshot();
    part.ingressClasses = this.#snapshot.ingressClasses;
    part.namespaces = this.#snapshot.namespaces;
    const namespaces = new Set<string>(this.#selectors.map((c) => c.namespace));
    const services = new Set<string>();
    for (const key of group) {
      const ingress = this.#ingresses.get(key);
      if (ingress === undefined) continue;
      if (this.#wanted !== null && !this.#wanted.has(ingress.metadata?.namespace ?? 'default')) continue;
      part.ingresses.push(ingress);
      namespaces.add(ingress.metadata?.namespace ?? 'default');
      for (const svc of servicesOf(ingress)) services.add(svc);
    }
    for (const svc of services) {
      const service = this.#services.get(svc);
      if (service !== undefined) part.services.push(service);
    }
    for (const svc of services) {
      const ns = svc.slice(0, svc.indexOf('/'));
      for (const name of this.#slicesByService.get(svc)) part.endpointSlices.push(this.#slices.getIn(ns, name)!);
    }
    for (const ns of namespaces) {
      part.pods.push(...this.#pods.inNamespace(ns));
      part.networkPolicies.push(...this.#policies.inNamespace(ns));
    }
    // In the watch's order (namespace/name), which routesFrom's output order and endpoint order follow.
    for (const list of [part.ingresses, part.services, part.endpointSlices, part.pods, part.networkPolicies] as KubernetesObject[][]) list.sort(compareObjects);
    return part;
  }
}

/** The watch's order of objects: by "namespace/name" (src/discovery/informers.ts). */
export function compareObjects(a: KubernetesObject, b: KubernetesObject): number {
  const ka = keyOf(a);
  const kb = keyOf(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
