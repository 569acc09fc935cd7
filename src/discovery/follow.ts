// Both front doors, kept up to date from a watch's change feed: Ingress routes (incremental.ts) and
// HTTPRoute/GRPCRoute routes (incremental-gateway.ts) each recomputed only where a change lands. A
// recomputed route equal to the one before keeps the old object, so the run loop reschedules only
// what really changed. A relist recomputes everything, from one snapshot for both.

import type { ControllerConfig, GatewayConfig } from '../config/types.js';
import type { Route } from '../model.js';
import { IncrementalGatewayRoutes } from './incremental-gateway.js';
import { IncrementalRoutes, type ObjectChanges, type ObjectSource, type RoutesDelta } from './incremental.js';
import type { ClusterSnapshot } from './snapshot.js';

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
  readonly #gateway: IncrementalGatewayRoutes;
  /** Both front doors in one list, built again only when asked for after a change. */
  #current: Route[] | null = [];

  constructor(options: FollowOptions) {
    this.#engine = new IncrementalRoutes(options.controllers, { clusterDomain: options.clusterDomain, namespaces: options.namespaces });
    this.#gateway = new IncrementalGatewayRoutes(options.gateways, { namespaces: options.namespaces });
  }

  /** The routes after the last delta, without taking changes (for readers beside the run loop). */
  current(): Route[] {
    if (this.#current === null) this.#current = [...this.#engine.routes(), ...this.#gateway.routes()];
    return this.#current;
  }

  /** Takes the source's changes and tells what they changed, Ingress and HTTPRoute routes alike. */
  delta(source: ObjectSource): RoutesDelta {
    let taken: ObjectChanges = { all: false, changes: [] };
    // One snapshot for both engines when both need it (a relist): it lists and sorts every object.
    let snapshot: ClusterSnapshot | null = null;
    const once = (): ClusterSnapshot => (snapshot ??= source.snapshot());
    const seen: ObjectSource = { snapshot: once, takeChanges: () => (taken = source.takeChanges()) };
    const ingress = this.#engine.updateDelta(seen);
    const gateway = this.#gateway.update(taken, once);
    if (ingress.full) {
      this.#current = null;
      return { full: true, routes: this.current() };
    }
    if (gateway.upserted.length === 0 && gateway.removed.length === 0 && ingress.upserted.length === 0 && ingress.removed.length === 0) return ingress;
    this.#current = null;
    return { full: false, upserted: [...ingress.upserted, ...gateway.upserted], removed: [...ingress.removed, ...gateway.removed] };
  }
}
