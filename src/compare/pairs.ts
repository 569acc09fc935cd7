// Pure: which routes are the same host and path served through two front doors. Keys only on the
// Route's own fields (kind, namespace, name, parent, host, path, controller), so a pair can be two
// IngressClasses, or an Ingress and an HTTPRoute, with no code per kind.

import type { Route, RouteKind } from '../model.js';
import type { Pair } from './types.js';

/** A routing object named on the command line (`ingress/NAME`, `httproute/NAME`). */
export interface ObjectName {
  /** Its kind. */
  kind: RouteKind;
  /** Its namespace. */
  namespace: string;
  /** Its name. */
  name: string;
}

/** Which pairs to compare. */
export interface PairSelection {
  /** Only routes of this namespace (either side). */
  namespace?: string;
  /** Only this host. */
  host?: string;
  /** The old side, named. */
  from?: ObjectName;
  /** The new side, named. */
  to?: ObjectName;
}

/** A selection that names nothing that exists, or names it wrongly; `flag` says which flag to fix. */
export class PairSelectionError extends Error {
  constructor(
    /** The flag at fault, e.g. "--from". */
    readonly flag: string,
    message: string,
  ) {
    super(message);
    this.name = 'PairSelectionError';
  }
}

const KINDS: Readonly<Record<string, RouteKind>> = { ingress: 'Ingress', ingresses: 'Ingress', httproute: 'HTTPRoute', httproutes: 'HTTPRoute' };

/** Reads `ingress/NAME`, `httproute/NAME` or `KIND/NS/NAME`; the namespace defaults to -n, else "default". */
export function parseObjectName(flag: string, value: string, namespace: string | undefined): ObjectName {
  const m = /^([A-Za-z]+)\/(?:([^/\s]+)\/)?([^/\s]+)$/.exec(value.trim());
  const kind = m === null ? undefined : KINDS[(m[1] ?? '').toLowerCase()];
  if (m === null || kind === undefined) throw new PairSelectionError(flag, `${flag} ${JSON.stringify(value)}: expected ingress/NAME or httproute/NAME (or KIND/NAMESPACE/NAME)`);
  const ns = m[2] ?? namespace ?? 'default';
  if (m[2] !== undefined && namespace !== undefined && m[2] !== namespace) throw new PairSelectionError(flag, `${flag} ${value} names namespace ${m[2]}, but -n says ${namespace}`);
  return { kind, namespace: ns, name: m[3] ?? '' };
}

/** "shop.example.com/api": what both sides of a pair serve (a wildcard host stays as written). */
export function routeKey(route: Route): string {
  return `${(route.host ?? '*').toLowerCase()}${route.path}`;
}

/** The front door a route comes through: its parent (IngressClass, Gateway listener), else its controller's class. */
export function frontDoorOf(route: Route): string {
  const p = route.parent;
  if (p !== null) return `${p.kind} ${p.namespace === null ? '' : `${p.namespace}/`}${p.name}${p.sectionName === null ? '' : ` listener ${p.sectionName}`}`;
  return route.controller === null ? 'no front door' : `IngressClass ${route.controller.ingressClass}`;
}

/** "Ingress shop/web". */
export function objectOf(route: Route): string {
  return `${route.kind} ${route.namespace}/${route.name}`;
}

/** The pairs to compare: named by from/to, else every host and path served through two front doors. */
export function findPairs(routes: readonly Route[], selection: PairSelection): Pair[] {
  if ((selection.from === undefined) !== (selection.to === undefined)) {
    const missing = selection.from === undefined ? '--from' : '--to';
    throw new PairSelectionError(missing, `${missing} is missing: --from and --to name the two sides together`);
  }
  const wanted = routes.filter((r) => selection.host === undefined || (r.host ?? '').toLowerCase() === selection.host.toLowerCase());
  if (selection.from !== undefined && selection.to !== undefined) return explicitPairs(wanted, selection.from, selection.to);
  const inNamespace = (r: Route): boolean => selection.namespace === undefined || r.namespace === selection.namespace;
  return automaticPairs(wanted).filter((p) => inNamespace(p.old) || inNamespace(p.new));
}

function routesOf(routes: readonly Route[], object: ObjectName, flag: string): Route[] {
  const found = routes.filter((r) => r.kind === object.kind && r.namespace === object.namespace && r.name === object.name);
  if (found.length === 0) throw new PairSelectionError(flag, `${flag} ${object.kind.toLowerCase()}/${object.name}: no route of ${object.kind} ${object.namespace}/${object.name} was found (check the name, the namespace and --host)`);
  return found;
}

function explicitPairs(routes: readonly Route[], from: ObjectName, to: ObjectName): Pair[] {
  const olds = routesOf(routes, from, '--from');
  const news = routesOf(routes, to, '--to');
  const pairs: Pair[] = [];
  for (const old of olds) {
    const twin = news.find((r) => routeKey(r) === routeKey(old));
    if (twin !== undefined && twin.id !== old.id) pairs.push(pairOf(old, twin, 'explicit'));
  }
  if (pairs.length === 0) {
    const keys = (list: Route[]): string => [...new Set(list.map(routeKey))].join(', ');
    throw new PairSelectionError('--to', `--from and --to share no host and path (from: ${keys(olds)}; to: ${keys(news)})`);
  }
  return pairs;
}

/** Every host and path served through two or more front doors: the first by rank is the old side, paired with each other. */
function automaticPairs(routes: readonly Route[]): Pair[] {
  const groups = new Map<string, Route[]>();
  for (const route of routes) {
    if (route.defaultBackend) continue;
    const key = routeKey(route);
    groups.set(key, [...(groups.get(key) ?? []), route]);
  }
  const pairs: Pair[] = [];
  for (const group of groups.values()) {
    const byDoor = new Map<string, Route>();
    for (const route of [...group].sort(oldFirst)) if (!byDoor.has(frontDoorOf(route))) byDoor.set(frontDoorOf(route), route);
    const [old, ...others] = byDoor.values();
    if (old === undefined) continue;
    for (const other of others) pairs.push(pairOf(old, other, 'automatic'));
  }
  return pairs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Which side is being left when nothing says so: an Ingress before an HTTPRoute (teams move to the
 * Gateway API), ingress-nginx before another controller (it was retired in March 2026), then by
 * front door name so the order is stable.
 */
function oldFirst(a: Route, b: Route): number {
  const rank = (r: Route): number => (r.kind === 'Ingress' ? 0 : 2) + (r.controller?.kind === 'ingress-nginx' ? 0 : 1);
  const d = rank(a) - rank(b);
  if (d !== 0) return d;
  const [x, y] = [frontDoorOf(a), frontDoorOf(b)];
  return x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function pairOf(old: Route, twin: Route, origin: Pair['origin']): Pair {
  return { id: `${old.id}..${twin.id}`, old, new: twin, key: routeKey(old), origin };
}
