// The Gateway API objects as the lab stores them (gateway.networking.k8s.io/v1 JSON), reduced to the
// fields the lab's Gateway implementation reads, and the spec's rules every implementation applies
// the same way: hostname intersection between a listener and a route, parentRef matching,
// allowedRoutes, ReferenceGrant. Kept apart from hopwatch's own discovery (src/discovery) on purpose:
// the lab is the reference hopwatch is tested against, so it must not share hopwatch's code.

/** The API group of the Gateway API. */
export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** apiVersion of the v1 kinds. */
export const GATEWAY_V1 = `${GATEWAY_GROUP}/v1`;

/** metadata of a Gateway API object. */
export interface GwMeta {
  /** Name. */
  name: string;
  /** Namespace (absent for GatewayClass). */
  namespace?: string;
  /** Set by the API server. */
  generation?: number;
  /** Set by the API server (RFC 3339). */
  creationTimestamp?: string;
  /** Labels. */
  labels?: Record<string, string>;
}

/** A Gateway listener. */
export interface GwListener {
  /** Listener name (sectionName). */
  name: string;
  /** Port. */
  port: number;
  /** HTTP or HTTPS (the lab serves HTTP). */
  protocol: string;
  /** Hostname the listener accepts, absent: any. */
  hostname?: string;
  /** Which routes may attach. */
  allowedRoutes?: { namespaces?: { from?: 'Same' | 'All' | 'Selector'; selector?: { matchLabels?: Record<string, string> } } };
}

/** A Gateway. */
export interface GwGateway {
  /** metadata. */
  metadata: GwMeta;
  /** spec. */
  spec: { gatewayClassName: string; listeners: GwListener[] };
  /** status (written by the implementation). */
  status?: Record<string, unknown>;
}

/** A parentRef of a route. */
export interface GwParentRef {
  /** Group, default the Gateway API's. */
  group?: string;
  /** Kind, default Gateway. */
  kind?: string;
  /** Namespace, default the route's. */
  namespace?: string;
  /** Gateway name. */
  name: string;
  /** Listener name. */
  sectionName?: string;
  /** Listener port. */
  port?: number;
}

/** An HTTP header or query match. */
export interface GwValueMatch {
  /** Exact (default) or RegularExpression. */
  type?: 'Exact' | 'RegularExpression';
  /** Header or query parameter name. */
  name: string;
  /** Value. */
  value: string;
}

/** One match of an HTTPRoute rule. */
export interface GwMatch {
  /** Path match, default PathPrefix "/". */
  path?: { type?: 'PathPrefix' | 'Exact' | 'RegularExpression'; value?: string };
  /** Header matches (all must hold). */
  headers?: GwValueMatch[];
  /** Query parameter matches (all must hold). */
  queryParams?: GwValueMatch[];
  /** Method. */
  method?: string;
}

/** A header modifier filter. */
export interface GwHeaderModifier {
  /** Headers set (replacing). */
  set?: { name: string; value: string }[];
  /** Headers added. */
  add?: { name: string; value: string }[];
  /** Header names removed. */
  remove?: string[];
}

/** A path modifier of RequestRedirect / URLRewrite. */
export interface GwPathModifier {
  /** ReplaceFullPath or ReplacePrefixMatch. */
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  /** For ReplaceFullPath. */
  replaceFullPath?: string;
  /** For ReplacePrefixMatch. */
  replacePrefixMatch?: string;
}

/** An HTTPRoute filter. */
export interface GwFilter {
  /** Filter type. */
  type: 'RequestHeaderModifier' | 'ResponseHeaderModifier' | 'RequestRedirect' | 'URLRewrite' | string;
  /** RequestHeaderModifier. */
  requestHeaderModifier?: GwHeaderModifier;
  /** ResponseHeaderModifier. */
  responseHeaderModifier?: GwHeaderModifier;
  /** RequestRedirect. */
  requestRedirect?: { scheme?: string; hostname?: string; port?: number; statusCode?: number; path?: GwPathModifier };
  /** URLRewrite. */
  urlRewrite?: { hostname?: string; path?: GwPathModifier };
}

/** A backendRef. */
export interface GwBackendRef {
  /** Group, default core. */
  group?: string;
  /** Kind, default Service. */
  kind?: string;
  /** Service name. */
  name: string;
  /** Namespace, default the route's. */
  namespace?: string;
  /** Service port. */
  port?: number;
  /** Weight, default 1. */
  weight?: number;
}

/** One HTTPRoute rule. */
export interface GwRule {
  /** Matches, default one PathPrefix "/". */
  matches?: GwMatch[];
  /** Filters. */
  filters?: GwFilter[];
  /** Backends. */
  backendRefs?: GwBackendRef[];
  /** Timeouts (Go durations). */
  timeouts?: { request?: string; backendRequest?: string };
}

/** An HTTPRoute. */
export interface GwHttpRoute {
  /** metadata. */
  metadata: GwMeta;
  /** spec. */
  spec: { parentRefs?: GwParentRef[]; hostnames?: string[]; rules?: GwRule[] };
}

/** A ReferenceGrant. */
export interface GwReferenceGrant {
  /** metadata. */
  metadata: GwMeta;
  /** spec. */
  spec: { from: { group: string; kind: string; namespace: string }[]; to: { group: string; kind: string; name?: string }[] };
}

/**
 * The hostname a request must carry for a route hostname to be served by a listener, null when they do
 * not intersect (spec: HTTPRoute.spec.hostnames, "Hostnames"): equal names; a listener wildcard
 * "*.example.com" takes any name below it; a route wildcard takes a listener name below it.
 */
export function intersectHostname(listener: string | undefined, route: string | undefined): string | null {
  if (listener === undefined || listener === '') return route ?? '';
  if (route === undefined || route === '') return listener;
  if (listener === route) return route;
  if (listener.startsWith('*.') && route.endsWith(listener.slice(1))) return route;
  if (route.startsWith('*.') && listener.endsWith(route.slice(1))) return listener;
  return null;
}

/** The hostnames an HTTPRoute is served with on a listener ("" for any host); empty when none intersect. */
export function routeHostnames(listener: GwListener, route: GwHttpRoute): string[] {
  const names = route.spec.hostnames ?? [];
  const hosts = names.length === 0 ? [intersectHostname(listener.hostname, undefined)] : names.map((h) => intersectHostname(listener.hostname, h));
  return [...new Set(hosts.filter((h): h is string => h !== null))];
}

/** True when a listener's allowedRoutes admits routes from the namespace (default: Same). */
export function listenerAllows(listener: GwListener, gatewayNamespace: string, routeNamespace: string, namespaceLabels: Record<string, string>): boolean {
  const from = listener.allowedRoutes?.namespaces?.from ?? 'Same';
  if (from === 'All') return true;
  if (from === 'Same') return gatewayNamespace === routeNamespace;
  const wanted = listener.allowedRoutes?.namespaces?.selector?.matchLabels ?? {};
  return Object.entries(wanted).every(([k, v]) => namespaceLabels[k] === v);
}

/** True when a ReferenceGrant in the target namespace lets HTTPRoutes of `fromNamespace` refer to the Service. */
export function referencePermitted(grants: readonly GwReferenceGrant[], fromNamespace: string, toNamespace: string, service: string): boolean {
  if (fromNamespace === toNamespace) return true;
  return grants.some(
    (grant) =>
      (grant.metadata.namespace ?? 'default') === toNamespace &&
      grant.spec.from.some((f) => f.group === GATEWAY_GROUP && f.kind === 'HTTPRoute' && f.namespace === fromNamespace) &&
      grant.spec.to.some((t) => (t.group ?? '') === '' && t.kind === 'Service' && (t.name === undefined || t.name === service)),
  );
}

/** Go durations as the Gateway API writes them ("1s", "500ms", "1m30s"); null when it does not parse. */
export function gwDurationMs(value: string | undefined): number | null {
  if (value === undefined) return null;
  const parts = [...value.matchAll(/(\d+)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) return null;
  const factor: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  return parts.reduce((sum, p) => sum + Number(p[1]) * (factor[p[2] ?? 's'] ?? 0), 0);
}
