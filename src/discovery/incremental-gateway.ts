// HTTPRoute and GRPCRoute routes that recompute only what changed, as incremental.ts does for
// Ingresses. `routesFromHttpRoutes` (httproute.ts) stays the pure reference: this module never builds
// a route itself, it calls routesFromHttpRoutes on a small snapshot holding the routing objects a
// change affects and everything they read, and splices the result into the last answer. The answer
// is the same as routesFromHttpRoutes on the whole snapshot (incremental-gateway.test.ts checks it
// after random sequences of changes).
//
// The unit of recompute is a routing object's "namespace/name" (its HTTPRoute and GRPCRoute of that
// name together: their routes interleave in the answer's order). A change affects: the routing object
// itself; those naming a Service in a backendRef (the Service, its EndpointSlices, a Pod it selects);
// those with a backend in a namespace (its NetworkPolicies), or a backend reached across namespaces
// (the ReferenceGrants of the target namespace); those attached to a Gateway (the Gateway, its
// GatewayClass, its data-plane pods, and a Service selecting them: its targetPort is the listener's
// container port). The group is then widened to every object holding a route on the same Gateway,
// port and host (before or after the change), since precedence between HTTPRoutes (markConflicts)
// names the winner on the losers. Namespaces (NetworkPolicy namespaceSelectors), a relist and any kind
// this module does not know recompute everything. While the cluster has no HTTPRoute or GRPCRoute,
// nothing is held: the first one recomputes everything from the snapshot.

import { isDeepStrictEqual } from 'node:util';
import type { KubernetesObject, V1EndpointSlice, V1Namespace, V1Pod, V1Service } from '@kubernetes/client-node';
import type { GatewayConfig } from '../config/types.js';
import type { Route } from '../model.js';
import { dataPlaneSelector, gatewayIdentity, isDataPlanePod } from './gateways.js';
import type { GatewayClassObject, GatewayObject, GrpcRouteObject, HttpRouteObject } from './gateway-types.js';
import { type HttpRouteOptions, routesFromHttpRoutes } from './httproute.js';
import { compareObjects, Index, type ObjectChange, type ObjectChanges, positionOf, Store, storeSlice } from './incremental.js';
import { type LabelSelector, labelSelectorFromMap, matchesLabels } from './selectors.js';
import { SERVICE_NAME_LABEL } from './services.js';
import { emptySnapshot, type ClusterSnapshot } from './snapshot.js';

/** What an update changed: the routes recomputed that differ from before (new objects), and the ids gone. */
export interface GatewayRoutesDelta {
  /** Routes added or changed. */
  upserted: Route[];
  /** Ids of routes gone. */
  removed: string[];
}

/** How the answers were reached, for tests and the benchmark. */
export interface GatewayRecomputeStats {
  /** Full recomputes so far. */
  full: number;
  /** Partial recomputes so far. */
  partial: number;
  /** Routing objects ("namespace/name") recomputed by the last partial recompute. */
  lastObjects: number;
}

/** Kinds routesFromHttpRoutes does not read: their changes recompute nothing here. */
const NOT_READ: ReadonlySet<keyof ClusterSnapshot> = new Set(['ingresses', 'ingressClasses', 'replicaSets', 'deployments']);

/** Where a Gateway's data-plane pods are and the labels that pick them (gateways.ts). */
type Picker = { selector: LabelSelector; where: string } | null;

/** Gateway API objects carry string timestamps where client-node's carry Dates; the stores read neither. */
type Obj = KubernetesObject;

function keyOf(object: { metadata?: { namespace?: string; name?: string } }): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

function namespaceOfKey(key: string): string {
  return key.slice(0, key.indexOf('/'));
}

/** The routes of one routing object share this key: "namespace/name". */
function routeObjectKey(route: Route): string {
  return `${route.namespace}/${route.name}`;
}

/** Routes that precedence can set against each other share this (markConflicts' group, without the match: coarser is safe). */
function conflictKey(route: Route): string {
  return `${route.parent?.namespace ?? ''}/${route.parent?.name ?? ''}:${route.parent?.port ?? ''}|${route.host ?? ''}`;
}

/** HTTPRoute or GRPCRoute: what the indices read of both. */
type RoutingObject = HttpRouteObject | GrpcRouteObject;

/** HTTPRoute and GRPCRoute routes of a snapshot kept up to date by recomputing only the routing objects a change affects. */
export class IncrementalGatewayRoutes {
  readonly #configs: readonly GatewayConfig[];
  readonly #options: HttpRouteOptions;
  #ready = false;
  /** False while the cluster has no routing object: nothing is held then. */
  #active = false;
  #httpRoutes = new Store<Obj>();
  #grpcRoutes = new Store<Obj>();
  #gateways = new Store<Obj>();
  #classes = new Store<Obj>();
  #services = new Store<V1Service>();
  #slices = new Store<V1EndpointSlice>();
  #pods = new Store<V1Pod>();
  #policies = new Store<Obj>();
  #grants = new Store<Obj>();
  #namespaces: V1Namespace[] = [];
  /** Routing object keys by the Gateway their parentRefs name, the Service a backendRef names, a backend's namespace, and a backend namespace reached across namespaces. */
  #byGateway = new Index();
  #byService = new Index();
  #byBackendNamespace = new Index();
  #byGrantNamespace = new Index();
  /** Slice names by the "namespace/service" of their label. */
  #slicesByService = new Index();
  /** Routing object keys by the conflict key of their routes. */
  #byConflict = new Index();
  /** Per Gateway: its data-plane picker, and its data-plane pods (sorted by key); cleared by what changes them. */
  #pickers = new Map<string, Picker>();
  #dataPlane = new Map<string, V1Pod[]>();
  /** Routes by routing object key, and the keys in the answer's order. */
  #routes = new Map<string, Route[]>();
  #order: string[] = [];
  #answer: Route[] | null = [];
  /** How answers were reached. */
  readonly stats: GatewayRecomputeStats = { full: 0, partial: 0, lastObjects: 0 };

  constructor(configs: readonly GatewayConfig[], options: HttpRouteOptions) {
    this.#configs = configs;
    this.#options = options;
  }

  /** The routes now, in routesFromHttpRoutes' order. */
  routes(): Route[] {
    if (this.#answer === null) this.#answer = this.#order.flatMap((key) => this.#routes.get(key)!);
    return this.#answer;
  }

  /** Applies the changes (taken by the caller from its source) and tells which routes changed; a route equal to the one before keeps its object. */
  update(taken: ObjectChanges, snapshot: () => ClusterSnapshot): GatewayRoutesDelta {
    if (!this.#ready || taken.all) return this.#full(snapshot());
    if (!this.#active) {
      const appeared = taken.changes.some((c) => (c.kind === 'httpRoutes' || c.kind === 'grpcRoutes') && c.object !== null);
      return appeared ? this.#full(snapshot()) : { upserted: [], removed: [] };
    }
    const affected = new Set<string>();
    for (const change of taken.changes) {
      if (this.#apply(change, affected) === 'all') return this.#full(snapshot());
    }
    return affected.size > 0 ? this.#recompute(affected) : { upserted: [], removed: [] };
  }

  /** Everything from a snapshot; the stores are filled only when it has routing objects. */
  #full(snapshot: ClusterSnapshot): GatewayRoutesDelta {
    const fresh = routesFromHttpRoutes(snapshot, this.#configs, this.#options);
    this.#active = snapshot.httpRoutes.length + snapshot.grpcRoutes.length > 0;
    this.#reset();
    if (this.#active) this.#fill(snapshot);
    const byKey = groupByObject(fresh);
    const delta: GatewayRoutesDelta = { upserted: [], removed: [] };
    for (const key of this.#routes.keys()) if (!byKey.has(key)) for (const route of this.#routes.get(key)!) delta.removed.push(route.id);
    const before = this.#routes;
    this.#routes = new Map();
    this.#byConflict = new Index();
    // routesFromHttpRoutes sorts by namespace, then name: the keys come in the answer's order.
    for (const [key, routes] of byKey) this.#settle(key, before.get(key) ?? [], routes, delta);
    this.#order = [...byKey.keys()];
    this.#answer = null;
    this.#ready = true;
    this.stats.full++;
    return delta;
  }

  #reset(): void {
    this.#httpRoutes = new Store();
    this.#grpcRoutes = new Store();
    this.#gateways = new Store();
    this.#classes = new Store();
    this.#services = new Store();
    this.#slices = new Store();
    this.#pods = new Store();
    this.#policies = new Store();
    this.#grants = new Store();
    this.#namespaces = [];
    this.#byGateway = new Index();
    this.#byService = new Index();
    this.#byBackendNamespace = new Index();
    this.#byGrantNamespace = new Index();
    this.#slicesByService = new Index();
    this.#pickers = new Map();
    this.#dataPlane = new Map();
  }

  #fill(snapshot: ClusterSnapshot): void {
    for (const o of snapshot.httpRoutes) this.#setRouting(this.#httpRoutes, keyOf(o), o as Obj);
    for (const o of snapshot.grpcRoutes) this.#setRouting(this.#grpcRoutes, keyOf(o), o as Obj);
    for (const o of snapshot.gateways) this.#gateways.set(keyOf(o), o as Obj);
    for (const o of snapshot.gatewayClasses) this.#classes.set(keyOf(o), o as Obj);
    for (const o of snapshot.services) this.#services.set(keyOf(o), o);
    for (const o of snapshot.endpointSlices) this.#setSlice(keyOf(o), o);
    for (const o of snapshot.pods) this.#pods.set(keyOf(o), o);
    for (const o of snapshot.networkPolicies) this.#policies.set(keyOf(o), o);
    for (const o of snapshot.referenceGrants) this.#grants.set(keyOf(o), o as Obj);
    this.#namespaces = snapshot.namespaces;
  }

  /** Records one change and the routing objects it affects; 'all' when it cannot be attributed. */
  #apply(change: ObjectChange, affected: Set<string>): 'all' | 'some' {
    const { kind, key, object } = change;
    if (NOT_READ.has(kind)) return 'some';
    const ns = namespaceOfKey(key);
    const add = (keys: Iterable<string>): void => {
      for (const k of keys) affected.add(k);
    };
    switch (kind) {
      case 'httpRoutes':
      case 'grpcRoutes':
        this.#setRouting(kind === 'httpRoutes' ? this.#httpRoutes : this.#grpcRoutes, key, object);
        affected.add(key);
        return 'some';
      case 'gateways':
        this.#gateways.set(key, object);
        this.#pickers.delete(key);
        this.#dataPlane.delete(key);
        add(this.#byGateway.get(key));
        return 'some';
      case 'gatewayClasses':
        this.#applyClass(key, object, add);
        return 'some';
      case 'services':
        this.#applyService(key, object as V1Service | null, add);
        return 'some';
      case 'endpointSlices':
        for (const svc of this.#setSlice(key, object as V1EndpointSlice | null)) add(this.#byService.get(svc));
        return 'some';
      case 'pods':
        this.#applyPod(key, object as V1Pod | null, add);
        return 'some';
      case 'networkPolicies':
        this.#policies.set(key, object);
        add(this.#byBackendNamespace.get(ns));
        return 'some';
      case 'referenceGrants':
        this.#grants.set(key, object);
        add(this.#byGrantNamespace.get(ns));
        return 'some';
      default:
        // Namespaces (policies' namespaceSelectors), and any kind added later: everything.
        return 'all';
    }
  }

  /** A GatewayClass decides the implementation of every Gateway of that class (its data-plane pods, its facts). */
  #applyClass(key: string, object: Obj | null, add: (keys: Iterable<string>) => void): void {
    this.#classes.set(key, object);
    const name = key.slice(key.indexOf('/') + 1);
    for (const gateway of this.#gateways.all() as Iterable<GatewayObject>) {
      if (gateway.spec?.gatewayClassName !== name) continue;
      const gk = keyOf(gateway);
      this.#pickers.delete(gk);
      this.#dataPlane.delete(gk);
      add(this.#byGateway.get(gk));
    }
  }

  /** A Service: the routing objects naming it, and the Gateways whose data-plane pods it selects (its targetPort is a listener's container port). */
  #applyService(key: string, service: V1Service | null, add: (keys: Iterable<string>) => void): void {
    const before = this.#services.set(key, service);
    add(this.#byService.get(key));
    const ns = namespaceOfKey(key);
    const selectors = [before, service].map((s) => labelSelectorFromMap(s?.spec?.selector ?? {})).filter((s) => s.length > 0);
    if (selectors.length === 0) return;
    for (const gk of this.#gatewayKeys()) {
      const pods = this.#dataPlanePods(gk);
      if (pods.some((pod) => pod.metadata?.namespace === ns && selectors.some((s) => matchesLabels(s, pod.metadata?.labels)))) add(this.#byGateway.get(gk));
    }
  }

  /** A Pod: the Gateways whose data plane it is or was, and the routing objects naming a Service that selects it or did. */
  #applyPod(key: string, pod: V1Pod | null, add: (keys: Iterable<string>) => void): void {
    const before = this.#pods.set(key, pod);
    const ns = namespaceOfKey(key);
    const labels = [before?.metadata?.labels, pod?.metadata?.labels];
    for (const gk of this.#gatewayKeys()) {
      const picker = this.#pickerOf(gk);
      if (picker === null || !labels.some((l) => isDataPlanePod(picker, ns, l))) continue;
      this.#dataPlane.delete(gk);
      add(this.#byGateway.get(gk));
    }
    for (const service of this.#services.inNamespace(ns)) {
      const selector = labelSelectorFromMap(service.spec?.selector ?? {});
      if (selector.length === 0 || !labels.some((l) => matchesLabels(selector, l))) continue;
      add(this.#byService.get(keyOf(service)));
    }
  }

  #gatewayKeys(): string[] {
    return [...this.#gateways.all()].map(keyOf);
  }

  #pickerOf(gatewayKey: string): Picker {
    if (this.#pickers.has(gatewayKey)) return this.#pickers.get(gatewayKey)!;
    const gateway = this.#gateways.get(gatewayKey) as GatewayObject | undefined;
    let picker: Picker = null;
    if (gateway !== undefined) {
      const controllerNameOf = (name: string): string | null => (this.#classes.getIn('', name) as GatewayClassObject | undefined)?.spec?.controllerName ?? null;
      const { kind, namespace, name, config } = gatewayIdentity(gateway, controllerNameOf, this.#configs);
      picker = dataPlaneSelector(kind, namespace, name, config);
    }
    this.#pickers.set(gatewayKey, picker);
    return picker;
  }

  /** A Gateway's data-plane pods, sorted by key (resolveGateways picks them again from the part). */
  #dataPlanePods(gatewayKey: string): V1Pod[] {
    let pods = this.#dataPlane.get(gatewayKey);
    if (pods !== undefined) return pods;
    const picker = this.#pickerOf(gatewayKey);
    const candidates = picker === null ? [] : picker.where === '*' ? this.#pods.all() : this.#pods.inNamespace(picker.where);
    pods = picker === null ? [] : [...candidates].filter((pod) => isDataPlanePod(picker, pod.metadata?.namespace, pod.metadata?.labels)).sort(compareObjects);
    this.#dataPlane.set(gatewayKey, pods);
    return pods;
  }

  /** Stores a routing object and indexes what its key reads (of its HTTPRoute and GRPCRoute both: they share the key). */
  #setRouting(store: Store<Obj>, key: string, object: Obj | null): void {
    const before = store.set(key, object);
    if (before !== undefined) for (const [index, k] of this.#readsOf(before as RoutingObject)) index.delete(k, key);
    for (const o of [this.#httpRoutes.get(key), this.#grpcRoutes.get(key)]) {
      if (o !== undefined) for (const [index, k] of this.#readsOf(o as RoutingObject)) index.add(k, key);
    }
  }

  /** The index entries of a routing object: its Gateways, backend Services and their namespaces. */
  *#readsOf(object: RoutingObject): Iterable<[Index, string]> {
    const ns = object.metadata?.namespace ?? 'default';
    for (const ref of object.spec?.parentRefs ?? []) if (ref.name) yield [this.#byGateway, `${ref.namespace ?? ns}/${ref.name}`];
    for (const rule of object.spec?.rules ?? []) {
      for (const ref of rule.backendRefs ?? []) {
        const target = ref.namespace ?? ns;
        yield [this.#byService, `${target}/${ref.name ?? ''}`];
        yield [this.#byBackendNamespace, target];
        if (target !== ns) yield [this.#byGrantNamespace, target];
      }
    }
  }

  /** Stores a slice; returns the "namespace/service" it belonged to and belongs to now. */
  #setSlice(key: string, slice: V1EndpointSlice | null): string[] {
    return storeSlice(this.#slices, this.#slicesByService, key, slice);
  }

  /** Recomputes the affected routing objects, widened (before and after) to those sharing a Gateway, port and host with them. */
  #recompute(affected: Set<string>): GatewayRoutesDelta {
    const group = new Set<string>(affected);
    this.#widen(group, [...affected]);
    for (;;) {
      const fresh = routesFromHttpRoutes(this.#partOf(group), this.#configs, this.#options);
      // A route now on a host other objects hold: they must be decided together (precedence).
      const more: string[] = [];
      for (const route of fresh) {
        if (route.kind !== 'HTTPRoute') continue;
        for (const k of this.#byConflict.get(conflictKey(route))) if (!group.has(k)) (group.add(k), more.push(k));
      }
      if (more.length === 0) return this.#splice(group, groupByObject(fresh));
      this.#widen(group, more);
    }
  }

  /** Adds every routing object holding a route on a Gateway, port and host the queued ones' routes hold (transitively). */
  #widen(group: Set<string>, queue: string[]): void {
    for (let key = queue.pop(); key !== undefined; key = queue.pop()) {
      for (const route of this.#routes.get(key) ?? []) {
        if (route.kind !== 'HTTPRoute') continue;
        for (const k of this.#byConflict.get(conflictKey(route))) if (!group.has(k)) (group.add(k), queue.push(k));
      }
    }
  }

  #splice(group: ReadonlySet<string>, fresh: Map<string, Route[]>): GatewayRoutesDelta {
    const delta: GatewayRoutesDelta = { upserted: [], removed: [] };
    for (const key of new Set([...group, ...fresh.keys()])) {
      const had = this.#routes.has(key);
      const now = this.#settle(key, this.#routes.get(key) ?? [], fresh.get(key) ?? [], delta);
      if (now.length === 0) {
        this.#routes.delete(key);
        if (had) this.#order.splice(positionOf(this.#order, key), 1);
      } else if (!had) this.#order.splice(positionOf(this.#order, key), 0, key);
    }
    this.#answer = null;
    this.stats.partial++;
    this.stats.lastObjects = group.size;
    return delta;
  }

  /** Puts an object's fresh routes in place of the old ones: an equal route keeps its old object; the conflict index follows. */
  #settle(key: string, old: readonly Route[], fresh: readonly Route[], delta: GatewayRoutesDelta): Route[] {
    const before = new Map(old.map((r) => [r.id, r]));
    const now = fresh.map((route) => {
      const was = before.get(route.id);
      before.delete(route.id);
      if (was !== undefined && isDeepStrictEqual(was, route)) return was;
      delta.upserted.push(route);
      return route;
    });
    delta.removed.push(...before.keys());
    for (const route of old) if (route.kind === 'HTTPRoute') this.#byConflict.delete(conflictKey(route), key);
    for (const route of now) if (route.kind === 'HTTPRoute') this.#byConflict.add(conflictKey(route), key);
    if (now.length > 0) this.#routes.set(key, now);
    return now;
  }


  /** A snapshot of the group's routing objects and everything their routes read. */
  #partOf(group: ReadonlySet<string>): ClusterSnapshot {
    const part = emptySnapshot();
    part.namespaces = this.#namespaces;
    part.gatewayClasses = [...this.#classes.all()] as GatewayClassObject[];
    const { gateways, services, namespaces } = this.#routingPart(group, part);
    const pods = new Set<V1Pod>();
    const serviceObjects = new Set<V1Service>();
    for (const gk of gateways) {
      const gateway = this.#gateways.get(gk);
      if (gateway === undefined) continue;
      part.gateways.push(gateway as GatewayObject);
      for (const pod of this.#dataPlanePods(gk)) {
        pods.add(pod);
        // The Service selecting the data plane maps listener ports to container ports (listenerContainerPort).
        for (const service of this.#services.inNamespace(pod.metadata?.namespace ?? '')) serviceObjects.add(service);
      }
    }
    for (const svc of services) {
      const service = this.#services.get(svc);
      if (service !== undefined) serviceObjects.add(service);
      const ns = namespaceOfKey(svc);
      for (const name of this.#slicesByService.get(svc)) part.endpointSlices.push(this.#slices.getIn(ns, name)!);
    }
    for (const ns of namespaces) {
      for (const pod of this.#pods.inNamespace(ns)) pods.add(pod);
      part.networkPolicies.push(...this.#policies.inNamespace(ns));
      part.referenceGrants.push(...(this.#grants.inNamespace(ns) as Iterable<never>));
    }
    part.pods = [...pods];
    part.services = [...serviceObjects];
    // In the watch's order (namespace/name), which routesFromHttpRoutes' output and endpoint order follow.
    for (const list of Object.values(part) as Obj[][]) if (list !== part.namespaces) list.sort(compareObjects);
    return part;
  }

  /** Puts the group's routing objects in the part; returns the Gateways, Services ("namespace/name") and backend namespaces they name. */
  #routingPart(group: ReadonlySet<string>, part: ClusterSnapshot): { gateways: Set<string>; services: Set<string>; namespaces: Set<string> } {
    const gateways = new Set<string>();
    const services = new Set<string>();
    const namespaces = new Set<string>();
    for (const key of group) {
      const http = this.#httpRoutes.get(key) as HttpRouteObject | undefined;
      const grpc = this.#grpcRoutes.get(key) as GrpcRouteObject | undefined;
      if (http !== undefined) part.httpRoutes.push(http);
      if (grpc !== undefined) part.grpcRoutes.push(grpc);
      for (const object of [http, grpc]) {
        if (object === undefined) continue;
        const ns = object.metadata?.namespace ?? 'default';
        for (const ref of object.spec?.parentRefs ?? []) if (ref.name) gateways.add(`${ref.namespace ?? ns}/${ref.name}`);
        for (const rule of object.spec?.rules ?? []) for (const ref of rule.backendRefs ?? []) (services.add(`${ref.namespace ?? ns}/${ref.name ?? ''}`), namespaces.add(ref.namespace ?? ns));
      }
    }
    return { gateways, services, namespaces };
  }
}

/** Routes by routing object key, in their order. */
function groupByObject(routes: readonly Route[]): Map<string, Route[]> {
  const out = new Map<string, Route[]>();
  for (const route of routes) {
    const key = routeObjectKey(route);
    const list = out.get(key);
    if (list === undefined) out.set(key, [route]);
    else list.push(route);
  }
  return out;
}
