// Both front doors, kept up to date from a watch's change feed: Ingress routes recomputed only
// where a change lands (incremental.ts), HTTPRoute routes recomputed whole when anything changed
// while the Gateway API has routes (they are few next to Ingresses; incremental.ts does not cover
// them yet). A recomputed HTTPRoute route equal to the one before keeps the old object, so the run
// loop reschedules only what really changed.

import { isDeepStrictEqual } from 'node:util';
import type { ControllerConfig, GatewayConfig } from '../config/types.js';
import type { Route } from '../model.js';
import { routesFromHttpRoutes } from './httproute.js';
import { IncrementalRoutes, type ObjectChanges, type ObjectSource, type RoutesDelta } from './incremental.js';
import type { ClusterSnapshot } from './snapshot.js';

/** The Gateway API's lists in the snapshot: a change to one of them may change HTTPRoute routes. */
const GATEWAY_KINDS: ReadonlySet<keyof ClusterSnapshot> = new Set(['gatewayClasses', 'gateways', 'httpRoutes', 'grpcRoutes', 'referenceGrants']);

/** What discovery needs to know. */
export interface FollowOptions {
  /** Configured ingress controllers. */
  controllers: readonly ControllerConfig[];
  /** Configured Gateway overrides. */
  gateways: readonly GatewayConfig[];
  /** Cluster DNS domain. */
  clusterDomain: string;
  /** Only these namespaces; null: all. */
  namespaces: string[] | null;
}

/** Routes of both front doors from one change feed, for one consumer of deltas plus any readers of `current`. */
export class FollowedRoutes {
  readonly #engine: IncrementalRoutes;
  readonly #options: FollowOptions;
  #gatewayRoutes: Route[] = [];
  #current: Route[] = [];

  constructor(options: FollowOptions) {
    this.#options = options;
    this.#engine = new IncrementalRoutes(options.controllers, { clusterDomain: options.clusterDomain, namespaces: options.namespaces });
  }

  /** The routes after the last delta, without taking changes (for readers beside the run loop). */
  current(): Route[] {
    return this.#current;
  }

  /** Takes the source's changes and tells what they changed, Ingress and HTTPRoute routes alike. */
  delta(source: ObjectSource): RoutesDelta {
    let taken: ObjectChanges = { all: false, changes: [] };
    const seen: ObjectSource = { snapshot: () => source.snapshot(), takeChanges: () => (taken = source.takeChanges()) };
    const ingress = this.#engine.updateDelta(seen);
    const gatewayTouched = taken.all || taken.changes.some((c) => GATEWAY_KINDS.has(c.kind));
    const changed = taken.all || taken.changes.length > 0;
    const gateway = changed && (gatewayTouched || this.#gatewayRoutes.length > 0) ? this.#recomputeGateway(source.snapshot()) : null;
    if (ingress.full) {
      this.#current = [...ingress.routes, ...this.#gatewayRoutes];
      return { full: true, routes: this.#current };
    }
    if (gateway === null && ingress.upserted.length === 0 && ingress.removed.length === 0) return ingress;
    this.#current = [...this.#engine.routes(), ...this.#gatewayRoutes];
    return { full: false, upserted: [...ingress.upserted, ...(gateway?.upserted ?? [])], removed: [...ingress.removed, ...(gateway?.removed ?? [])] };
  }

  /** HTTPRoute routes anew; those equal to the ones before keep their old objects. */
  #recomputeGateway(snapshot: ClusterSnapshot): { upserted: Route[]; removed: string[] } {
    const before = new Map(this.#gatewayRoutes.map((r) => [r.id, r]));
    const fresh = routesFromHttpRoutes(snapshot, this.#options.gateways, { namespaces: this.#options.namespaces });
    const upserted: Route[] = [];
    this.#gatewayRoutes = fresh.map((route) => {
      const old = before.get(route.id);
      before.delete(route.id);
      if (old !== undefined && isDeepStrictEqual(old, route)) return old;
      upserted.push(route);
      return route;
    });
    return { upserted, removed: [...before.keys()] };
  }
}
