// Pure: ingress-nginx canary Ingresses merged into the routes they split, as ingress-nginx merges them.
// A canary Ingress (nginx.ingress.kubernetes.io/canary: "true") is not a route of its own: its backend
// becomes a weighted (or header/cookie-selected) backend of the main Ingress's route on the same host,
// path and path type. The rules, from kubernetes/ingress-nginx (commit dbb11b9, March 2026):
//
// - internal/ingress/controller/controller.go createServers/createUpstreams skip canary Ingresses
//   ("is marked as Canary, ignoring"): a canary never makes a server or location of its own.
// - controller.go getBackendServers sets canaries aside and, only when some non-canary Ingress exists
//   (nonCanaryIngressExists), calls mergeAlternativeBackends for each: the canary's backend is added to
//   the AlternativeBackends of the location with the same host, path and pathType (any namespace);
//   a canary whose Service is the location's own backend is not merged (altEqualsPri), and a canary
//   that matches no location is deleted: a canary without a main Ingress serves nothing.
// - rootfs/etc/nginx/lua/balancer.lua route_to_alternative_balancer uses only alternative_backends[1]
//   ("TODO: support traffic shaping for n > 1 alternative backends"): of several canaries on one path,
//   the first merged gets traffic (Ingresses are processed oldest first, store.go sortIngressSlice by
//   CreationTimestamp), the others none. Its order of precedence: canary-by-header (a value: exact
//   match; else canary-by-header-pattern: regex; else "always"/"never"), then canary-by-cookie
//   ("always"/"never"), then canary-weight: math.random(total) <= weight, where total is
//   canary-weight-total only when above 100, else 100.
// - internal/ingress/annotations/canary/main.go: canary is a bool, canary-weight an int (0 when
//   invalid), canary-weight-total an int (100 when unset or invalid); canary-* without canary: "true"
//   is an invalid configuration and the Ingress is not a canary.
// - balancer.lua sync_backend: a backend without endpoints has no balancer, so a canary whose Service
//   is missing or has no endpoint gets no traffic ("no alternative balancer"); hopwatch still reports
//   it (config.service-missing naming it), since the split the Ingress asks for is not happening.
// - docs/user-guide/nginx-configuration/annotations.md "Canary": a canary's other annotations are
//   ignored, the main Ingress's apply (so the route keeps the main Ingress's annotations).

import type { Backend, BackendSelector, Route } from '../model.js';

/** The annotations of an ingress-nginx canary. */
const PREFIX = 'nginx.ingress.kubernetes.io/';

/** A canary Ingress's settings, as ingress-nginx parses them. */
export interface CanarySettings {
  /** canary-weight (0 when unset or invalid). */
  weight: number;
  /** The total the weight is out of: canary-weight-total when above 100, else 100 (balancer.lua). */
  total: number;
  /** canary-by-header, null when unset. */
  header: string | null;
  /** canary-by-header-value, null when unset. */
  headerValue: string | null;
  /** canary-by-header-pattern, null when unset. */
  headerPattern: string | null;
  /** canary-by-cookie, null when unset. */
  cookie: string | null;
}

/** Go's strconv.ParseBool, which ingress-nginx's GetBoolAnnotation uses. */
function parseBool(value: string | undefined): boolean {
  return value !== undefined && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value.trim());
}

/** Go's strconv.Atoi for the int annotations; null when not an integer. */
function parseInt10(value: string | undefined): number | null {
  if (value === undefined || !/^[+-]?\d+$/.test(value.trim())) return null;
  return Number(value.trim());
}

function text(annotations: Record<string, string>, key: string): string | null {
  const value = annotations[PREFIX + key];
  return value === undefined || value === '' ? null : value;
}

/** The canary settings of an Ingress's annotations, null when it is not a canary. */
export function canarySettings(annotations: Record<string, string>): CanarySettings | null {
  if (!parseBool(annotations[`${PREFIX}canary`])) return null;
  const weightTotal = parseInt10(annotations[`${PREFIX}canary-weight-total`]) ?? 100;
  return {
    weight: parseInt10(annotations[`${PREFIX}canary-weight`]) ?? 0,
    total: weightTotal > 100 ? weightTotal : 100,
    header: text(annotations, 'canary-by-header'),
    headerValue: text(annotations, 'canary-by-header-value'),
    headerPattern: text(annotations, 'canary-by-header-pattern'),
    cookie: text(annotations, 'canary-by-cookie'),
  };
}

/** The canary's share of the traffic that no header or cookie selected: weight out of total, clamped to 0..1. */
export function canaryShare(settings: CanarySettings): number {
  return Math.min(Math.max(settings.weight, 0), settings.total) / settings.total;
}

/**
 * A header value that selects the canary: canary-by-header-value, else a pattern that is a plain
 * literal (optionally anchored), else "always" when neither is set. null for a pattern hopwatch cannot
 * write a matching value for (it then probes the canary by weight only).
 */
function headerValue(settings: CanarySettings): string | null {
  if (settings.headerValue !== null) return settings.headerValue;
  if (settings.headerPattern === null) return 'always';
  const literal = /^\^?([A-Za-z0-9_.-]+)\$?$/.exec(settings.headerPattern);
  return literal?.[1] ?? null;
}

/** The request that selects the canary regardless of weight, null when none does. */
export function canarySelector(settings: CanarySettings): BackendSelector | null {
  const value = settings.header === null ? null : headerValue(settings);
  const header = settings.header !== null && value !== null ? { name: settings.header, value } : null;
  const cookie = settings.cookie !== null ? { name: settings.cookie, value: 'always' } : null;
  return header === null && cookie === null ? null : { header, cookie };
}

/** What identifies the location a canary merges into: class, host, path and path type. */
function locationKey(route: Route): string {
  return JSON.stringify([route.ingressClass, route.defaultBackend ? null : route.host, route.path, route.pathType, route.defaultBackend]);
}

/** A canary route with its settings and where ingress-nginx processes it (oldest Ingress first). */
interface Canary {
  /** The canary Ingress's route. */
  route: Route;
  /** Its canary settings. */
  settings: CanarySettings;
}

/** True when the route's class is served by a controller that is known not to be ingress-nginx (canary annotations mean nothing to it). */
function otherController(route: Route): boolean {
  return route.controller !== null && route.controller.kind !== 'ingress-nginx' && route.controller.kind !== 'generic';
}

/**
 * Merges canary Ingresses' routes into the main routes they split. `order` gives each Ingress's place
 * in ingress-nginx's processing order ("namespace/name" -> index, oldest first); the result keeps the
 * main routes' order and drops every canary route.
 */
export function mergeCanaries(routes: readonly Route[], order: ReadonlyMap<string, number>): Route[] {
  const canaries: Canary[] = [];
  const mains: Route[] = [];
  for (const route of routes) {
    const settings = otherController(route) ? null : canarySettings(route.annotations);
    if (settings === null) mains.push(route);
    else canaries.push({ route, settings });
  }
  // ingress-nginx merges only when some non-canary Ingress exists; with none, every canary is dropped.
  if (mains.length === 0) return [];
  const place = (route: Route): number => order.get(`${route.namespace}/${route.name}`) ?? Number.MAX_SAFE_INTEGER;
  canaries.sort((a, b) => place(a.route) - place(b.route));
  const byLocation = new Map<string, Route>();
  for (const main of mains) if (!byLocation.has(locationKey(main))) byLocation.set(locationKey(main), main);
  const merged = new Map<Route, Route>();
  for (const canary of canaries) {
    const main = byLocation.get(locationKey(canary.route));
    if (main === undefined) continue;
    const current = merged.get(main) ?? main;
    const next = withCanary(current, canary);
    if (next !== null) merged.set(main, next);
  }
  return mains.map((main) => merged.get(main) ?? main);
}

/** The main route with one more canary backend; null when ingress-nginx would not merge it. */
function withCanary(main: Route, canary: Canary): Route | null {
  const [primary, ...others] = main.backends;
  const backend = canary.route.backends[0];
  // A resource backend is skipped; a canary naming the main's own Service is not merged (altEqualsPri).
  if (primary === undefined || backend === undefined || backend.problem !== null || backend.key === primary.key) return null;
  if (others.some((b) => b.key === backend.key)) return main;
  // Only the first canary of a location gets traffic (balancer.lua reads alternative_backends[1]).
  const first = others.length === 0;
  const share = first ? canaryShare(canary.settings) : 0;
  const added: Backend = {
    ...backend,
    weight: canary.settings.weight,
    share,
    role: 'canary',
    source: { kind: 'Ingress', namespace: canary.route.namespace, name: canary.route.name },
    selector: first ? canarySelector(canary.settings) : null,
    problem: first ? null : `ingress-nginx sends traffic to the first canary of a path only; ${others[0]?.source.name ?? 'another canary'} is first`,
  };
  const rest = first ? [] : others;
  const primaryWeight = Math.max(canary.settings.total - Math.min(Math.max(canary.settings.weight, 0), canary.settings.total), 0);
  const updatedPrimary = first ? { ...primary, weight: primaryWeight, share: 1 - share } : primary;
  return { ...main, backends: [updatedPrimary, ...rest, added] };
}
