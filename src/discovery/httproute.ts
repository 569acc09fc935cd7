// Pure: HTTPRoutes -> Routes. One Route per HTTPRoute x parentRef (a Gateway listener, by sectionName
// and port) x hostname (the route's hostnames intersected with the listener's, wildcards as the spec
// defines) x rule x match, carrying its weighted backendRefs with everything known behind each, the
// request that selects the match (path, query, method, headers), what the pods receive after the
// filters (URLRewrite, header modifiers), a RequestRedirect's expected 3xx, the rule's timeouts, the
// status the implementation wrote, and, for a route that loses a host and match to another by the
// spec's precedence, the winner. No I/O; deterministic output order.

import { createHash } from 'node:crypto';
import type { GatewayConfig } from '../config/types.js';
import type { Backend, GatewayRouteFacts, PathType, Route, RouteProbeSettings } from '../model.js';
import { ANNOTATIONS, readAnnotations } from './annotations.js';
import { conditionOf, gatewayControllerFacts, type ResolvedGateway, resolveGateways } from './gateways.js';
import { GATEWAY_API_GROUP, type BackendRef, type GrpcRouteObject, type HttpRouteMatch, type HttpRouteObject, type HttpRouteRule, type ListenerSpec, type ParentRef, type ReferenceGrantObject } from './gateway-types.js';
import { probeHostHeader } from './ingress.js';
import { compareRoutes, indexSnapshot, noBackend, serviceBackendFacts, type SnapshotIndex } from './routes.js';
import type { ClusterSnapshot } from './snapshot.js';

/** Options of routesFromHttpRoutes. */
export interface HttpRouteOptions {
  /** Only HTTPRoutes in these namespaces; null or absent: all. */
  namespaces?: string[] | null;
}

/** Methods a probe may send: a match on any other method is shown, not probed. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What every route of one HTTPRoute x parent x listener shares. */
interface ParentContext {
  /** The HTTPRoute. */
  route: HttpRouteObject;
  /** Its namespace. */
  namespace: string;
  /** Its name. */
  name: string;
  /** The parentRef. */
  ref: ParentRef;
  /** The Gateway, null when it does not exist. */
  gateway: ResolvedGateway | null;
  /** The listener (a stand-in from the parentRef when the Gateway or listener is missing). */
  listener: ListenerSpec;
  /** The snapshot index. */
  index: SnapshotIndex;
}

/** Every Route of the snapshot's HTTPRoutes, sorted like Ingress routes; precedence losers name their winner. */
export function routesFromHttpRoutes(snapshot: ClusterSnapshot, gateways: readonly GatewayConfig[], options: HttpRouteOptions = {}): Route[] {
  if (snapshot.httpRoutes.length === 0 && snapshot.grpcRoutes.length === 0) return [];
  const index = indexSnapshot(snapshot, []);
  const resolved = resolveGateways(snapshot, gateways);
  const wanted = options.namespaces ? new Set(options.namespaces) : null;
  const precedence = new Map<string, Precedence>();
  const inScope = (o: { metadata?: { name?: string; namespace?: string } }) => Boolean(o.metadata?.name) && (wanted === null || wanted.has(o.metadata?.namespace ?? 'default'));
  const routes = snapshot.httpRoutes
    .filter(inScope)
    .flatMap((route) => parentContexts(route, resolved, index).flatMap((ctx) => routesOfParent(ctx, precedence)));
  const grpc = snapshot.grpcRoutes.filter(inScope).flatMap((route) => grpcRoutes(route, resolved, index));
  return [...markConflicts(unique(routes), precedence), ...unique(grpc)].sort(compareRoutes);
}

/** Why a GRPCRoute route is listed but not probed. */
export const GRPC_NOT_PROBEABLE = 'GRPCRoute: hopwatch probes with HTTP/1.1 requests and has no gRPC health probe (grpc.health.v1) yet, so this route is listed, not probed';

/** A GRPCRoute's routes (one per parent, listener and host), each listed with its backends and not probeable. */
function grpcRoutes(route: GrpcRouteObject, gateways: Map<string, ResolvedGateway>, index: SnapshotIndex): Route[] {
  const asHttp: HttpRouteObject = {
    ...(route.metadata ? { metadata: route.metadata } : {}),
    spec: { parentRefs: route.spec?.parentRefs ?? [], hostnames: route.spec?.hostnames ?? [], rules: (route.spec?.rules ?? []).map((r) => ({ backendRefs: r.backendRefs ?? [] })) },
    ...(route.status ? { status: route.status } : {}),
  };
  return parentContexts(asHttp, gateways, index).flatMap((ctx) =>
    routesOfParent(ctx, new Map()).map((r) => ({
      ...r,
      kind: 'GRPCRoute' as const,
      id: createHash('sha256').update(`GRPCRoute:${r.id}`).digest('hex').slice(0, 12),
      backends: r.backends.map((b) => ({ ...b, source: { ...b.source, kind: 'GRPCRoute' as const } })),
      notProbeable: GRPC_NOT_PROBEABLE,
    })),
  );
}

/** The (parentRef, listener) pairs an HTTPRoute is served through. */
function parentContexts(route: HttpRouteObject, gateways: Map<string, ResolvedGateway>, index: SnapshotIndex): ParentContext[] {
  const namespace = route.metadata?.namespace ?? 'default';
  const name = route.metadata?.name ?? '';
  return (route.spec?.parentRefs ?? [])
    .filter((ref) => (ref.group ?? GATEWAY_API_GROUP) === GATEWAY_API_GROUP && (ref.kind ?? 'Gateway') === 'Gateway' && ref.name)
    .flatMap((ref) => {
      const gateway = gateways.get(`${ref.namespace ?? namespace}/${ref.name ?? ''}`) ?? null;
      return listenersFor(ref, gateway).map((listener) => ({ route, namespace, name, ref, gateway, listener, index }));
    });
}

/**
 * The listeners a parentRef names (sectionName, port). When none does (or the Gateway is missing), the
 * route is still probed through what exists, so the answer users get shows (a 404: NoMatchingParent).
 */
function listenersFor(ref: ParentRef, gateway: ResolvedGateway | null): ListenerSpec[] {
  const standIn: ListenerSpec = { name: ref.sectionName ?? '', port: ref.port ?? 80, protocol: 'HTTP' };
  if (gateway === null) return [standIn];
  const listeners = (gateway.object.spec?.listeners ?? []).filter((l) => l.protocol === 'HTTP' || l.protocol === 'HTTPS');
  const named = listeners.filter((l) => (ref.sectionName === undefined || l.name === ref.sectionName) && (ref.port === undefined || l.port === ref.port));
  if (named.length > 0) return named;
  return listeners.length > 0 ? listeners.slice(0, 1) : [standIn];
}

/**
 * The hostname a listener and a route hostname share, null when none (HTTPRoute spec "hostnames"):
 * equal names; a listener wildcard takes any name below it; a route wildcard takes a listener name
 * below it; of two wildcards, the narrower one.
 */
export function intersectHostnames(listener: string | undefined, route: string | undefined): string | null {
  const l = listener ?? '';
  const r = route ?? '';
  if (l === '') return r;
  if (r === '' || l === r) return l;
  if (l.startsWith('*.') && r.endsWith(l.slice(1))) return r;
  if (r.startsWith('*.') && l.endsWith(r.slice(1))) return l;
  return null;
}

/** The hosts a route is served with on a listener; when none intersects, the route's own (what users send, to show the 404). */
export function hostsOnListener(listenerHostname: string | undefined, routeHostnames: readonly string[]): { hosts: (string | null)[]; intersects: boolean } {
  const names = routeHostnames.length === 0 ? [undefined] : routeHostnames;
  const hosts = [...new Set(names.map((h) => intersectHostnames(listenerHostname, h)).filter((h): h is string => h !== null))];
  if (hosts.length > 0) return { hosts: hosts.map((h) => (h === '' ? null : h)), intersects: true };
  return { hosts: routeHostnames.length > 0 ? [...routeHostnames] : [listenerHostname ?? null], intersects: false };
}

function routesOfParent(ctx: ParentContext, precedence: Map<string, Precedence>): Route[] {
  const { hosts } = hostsOnListener(ctx.listener.hostname, ctx.route.spec?.hostnames ?? []);
  const rules = ctx.route.spec?.rules ?? [];
  const created = String(ctx.route.metadata?.creationTimestamp instanceof Date ? ctx.route.metadata.creationTimestamp.toISOString() : (ctx.route.metadata?.creationTimestamp ?? ''));
  return hosts.flatMap((host) =>
    rules.flatMap((rule, ruleIndex) => {
      const matches = rule.matches && rule.matches.length > 0 ? rule.matches : [{}];
      return matches.map((match, matchIndex) => {
        const route = buildRoute(ctx, host, rule, match);
        // The same match twice in one HTTPRoute (a later rule repeating it): the later one gets a derived id.
        for (let n = 2; precedence.has(route.id); n++) route.id = createHash('sha256').update(`${route.id}#${n}`).digest('hex').slice(0, 12);
        precedence.set(route.id, { created, order: [ruleIndex, matchIndex] });
        return route;
      });
    }),
  );
}

/** The stable id: kind, routing object, parent, host and the match's content (never equal to an Ingress id's input). */
export function httpRouteId(ctx: { namespace: string; name: string; gateway: string; sectionName: string; port: number }, host: string | null, match: string): string {
  const canonical = JSON.stringify(['HTTPRoute', ctx.namespace, ctx.name, ctx.gateway, ctx.sectionName, ctx.port, host, match]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}

/** The match in a canonical form: path, method, headers and query sorted by name. */
export function matchKey(match: HttpRouteMatch): string {
  const sorted = (items: { name?: string; value?: string; type?: string }[] | undefined) =>
    [...(items ?? [])].map((i) => [i.name?.toLowerCase() ?? '', i.type ?? 'Exact', i.value ?? '']).sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));
  return JSON.stringify([match.path?.type ?? 'PathPrefix', match.path?.value ?? '/', match.method ?? null, sorted(match.headers), sorted(match.queryParams)]);
}

function buildRoute(ctx: ParentContext, host: string | null, rule: HttpRouteRule, match: HttpRouteMatch): Route {
  const annotations = { ...(ctx.route.metadata?.annotations ?? {}) };
  const settings = readAnnotations(annotations);
  const request = requestOf(match, settings.probePath);
  const backends = backendsOf(ctx, rule);
  const controller = ctx.gateway ? gatewayControllerFacts(ctx.gateway, ctx.listener, ctx.index.snapshot.services) : null;
  const gatewayRef = `${ctx.gateway?.namespace ?? ctx.ref.namespace ?? ctx.namespace}/${ctx.ref.name ?? ''}`;
  const probe: RouteProbeSettings = {
    path: request.path,
    hostHeader: probeHostHeader(host),
    expectStatus: settings.expectStatus ?? redirectStatus(rule),
    ignore: settings.ignore,
    schedule: settings.schedule,
    ...(request.method === 'GET' ? {} : { method: request.method }),
    ...(Object.keys(request.headers).length > 0 ? { headers: request.headers } : {}),
    ...backendRequest(rule, match, request),
  };
  const problems = [...request.problems, ...settings.problems];
  return {
    id: httpRouteId({ namespace: ctx.namespace, name: ctx.name, gateway: gatewayRef, sectionName: ctx.listener.name ?? '', port: ctx.listener.port ?? 0 }, host, matchKey(match)),
    kind: 'HTTPRoute',
    namespace: ctx.namespace,
    name: ctx.name,
    ingress: ctx.name,
    parent: { kind: 'Gateway', namespace: ctx.gateway?.namespace ?? ctx.ref.namespace ?? ctx.namespace, name: ctx.ref.name ?? '', sectionName: ctx.listener.name ?? null, port: ctx.listener.port ?? null },
    backends,
    ingressClass: ctx.gateway?.gatewayClass ?? null,
    host,
    path: match.path?.value ?? '/',
    pathType: pathTypeOf(match),
    tls: ctx.listener.protocol === 'HTTPS',
    defaultBackend: false,
    probe,
    notProbeable: problems.length > 0 ? problems.join('; ') : null,
    controller,
    loadBalancer: [...(ctx.gateway?.addresses ?? [])],
    annotations,
    gateway: gatewayFacts(ctx, rule),
  };
}

function pathTypeOf(match: HttpRouteMatch): PathType {
  const type = match.path?.type ?? 'PathPrefix';
  return type === 'Exact' ? 'Exact' : type === 'PathPrefix' ? 'Prefix' : 'ImplementationSpecific';
}

/** The request that selects a match: its path (with query matches), method and required headers; problems when none can be sent. */
export function requestOf(match: HttpRouteMatch, probePath: string | null): { path: string; method: string; headers: Record<string, string>; problems: string[] } {
  const problems: string[] = [];
  const type = match.path?.type ?? 'PathPrefix';
  if (type === 'RegularExpression' && probePath === null) {
    problems.push(`RegularExpression path ${JSON.stringify(match.path?.value ?? '')} needs the ${ANNOTATIONS.probePath} annotation`);
  }
  const headers: Record<string, string> = {};
  for (const h of match.headers ?? []) {
    if ((h.type ?? 'Exact') !== 'Exact') problems.push(`header match ${h.name ?? ''} is a regular expression: hopwatch cannot choose a value to send`);
    else headers[(h.name ?? '').toLowerCase()] = h.value ?? '';
  }
  const query = (match.queryParams ?? []).map((q) => {
    if ((q.type ?? 'Exact') !== 'Exact') problems.push(`query match ${q.name ?? ''} is a regular expression: hopwatch cannot choose a value to send`);
    return `${encodeURIComponent(q.name ?? '')}=${encodeURIComponent(q.value ?? '')}`;
  });
  const method = (match.method ?? 'GET').toUpperCase();
  if (!SAFE_METHODS.has(method)) problems.push(`method match ${method}: hopwatch sends only GET, HEAD and OPTIONS probes`);
  const base = probePath ?? match.path?.value ?? '/';
  const path = query.length === 0 ? base : `${base}${base.includes('?') ? '&' : '?'}${query.join('&')}`;
  return { path, method, headers, problems };
}

/** A RequestRedirect's status (302 unless set) is the answer expected; null when the rule does not redirect. */
function redirectStatus(rule: HttpRouteRule): number[] | null {
  const redirect = (rule.filters ?? []).find((f) => f.type === 'RequestRedirect');
  return redirect ? [redirect.requestRedirect?.statusCode ?? 302] : null;
}

/** What the pods receive after URLRewrite and RequestHeaderModifier: only the fields that differ from the front's request. */
export function backendRequest(rule: HttpRouteRule, match: HttpRouteMatch, request: { path: string; headers: Record<string, string> }): Partial<RouteProbeSettings> {
  const out: Partial<RouteProbeSettings> = {};
  const rewrite = (rule.filters ?? []).find((f) => f.type === 'URLRewrite')?.urlRewrite;
  const path = rewrite?.path;
  if (path?.type === 'ReplaceFullPath' && path.replaceFullPath !== undefined) out.backendPath = withQuery(path.replaceFullPath, request.path);
  if (path?.type === 'ReplacePrefixMatch') out.backendPath = replacePrefix(request.path, match.path?.value ?? '/', path.replacePrefixMatch ?? '/');
  if (rewrite?.hostname) out.backendHost = rewrite.hostname;
  const modifiers = (rule.filters ?? []).filter((f) => f.type === 'RequestHeaderModifier').map((f) => f.requestHeaderModifier ?? {});
  if (modifiers.length > 0) {
    const headers = { ...request.headers };
    for (const m of modifiers) {
      for (const h of m.set ?? []) headers[(h.name ?? '').toLowerCase()] = h.value ?? '';
      for (const h of m.add ?? []) {
        const name = (h.name ?? '').toLowerCase();
        headers[name] = headers[name] === undefined ? (h.value ?? '') : `${headers[name]},${h.value ?? ''}`;
      }
      for (const name of m.remove ?? []) delete headers[name.toLowerCase()];
    }
    out.backendHeaders = headers;
  }
  return out;
}

function withQuery(path: string, original: string): string {
  const query = original.includes('?') ? original.slice(original.indexOf('?')) : '';
  return `${path}${query}`;
}

/** ReplacePrefixMatch: the matched prefix replaced, one "/" between the parts (spec: "/foo" -> "/bar" turns "/foo/x" into "/bar/x"). */
export function replacePrefix(requestPath: string, prefix: string, replacement: string): string {
  const trimmed = prefix.replace(/\/+$/, '');
  const rest = requestPath.slice(trimmed.length);
  if (replacement.endsWith('/')) return `${replacement}${rest.replace(/^\//, '')}`;
  return `${replacement}${rest}` || '/';
}

/** Every backendRef of the rule as a weighted Backend with the facts behind it; the first is the primary. */
function backendsOf(ctx: ParentContext, rule: HttpRouteRule): Backend[] {
  const refs = rule.backendRefs ?? [];
  const total = refs.reduce((sum, ref) => sum + Math.max(0, ref.weight ?? 1), 0);
  const controllerPods = ctx.gateway?.pods ?? [];
  return refs.map((ref, i) => {
    const namespace = ref.namespace ?? ctx.namespace;
    const service = ref.name ?? '';
    const port = ref.port ?? 0;
    const weight = Math.max(0, ref.weight ?? 1);
    const problem = backendProblem(ref, ctx.namespace, ctx.index.snapshot.referenceGrants);
    const facts = (ref.kind ?? 'Service') !== 'Service' || (ref.group ?? '') !== '' || ref.port === undefined
      ? noBackend()
      : serviceBackendFacts(namespace, service, port, controllerPods, ctx.index);
    return {
      key: `${namespace}/${service}:${port}`,
      ref: { namespace, service, port },
      weight,
      share: total > 0 ? weight / total : 0,
      role: i === 0 ? 'primary' : 'canary',
      source: { kind: 'HTTPRoute', namespace: ctx.namespace, name: ctx.name },
      selector: null,
      problem,
      ...facts,
    };
  });
}

/** Why a backendRef cannot be used as written, null when it can (a missing Service is a fact, not a problem). */
export function backendProblem(ref: BackendRef, routeNamespace: string, grants: readonly ReferenceGrantObject[]): string | null {
  if ((ref.kind ?? 'Service') !== 'Service' || (ref.group ?? '') !== '') {
    return `backendRef is a ${ref.kind ?? ''} (${ref.group ?? ''}), not a Service: hopwatch probes Service backends only`;
  }
  if (ref.port === undefined) return `backendRef to Service ${ref.name ?? ''} names no port`;
  const namespace = ref.namespace ?? routeNamespace;
  if (!referencePermitted(grants, routeNamespace, namespace, ref.name ?? '')) {
    return `backendRef to Service ${namespace}/${ref.name ?? ''} is not permitted: no ReferenceGrant in ${namespace} allows HTTPRoutes from ${routeNamespace}`;
  }
  return null;
}

/** True when the reference stays in the namespace or a ReferenceGrant in the target namespace allows it. */
export function referencePermitted(grants: readonly ReferenceGrantObject[], from: string, to: string, service: string): boolean {
  if (from === to) return true;
  return grants.some(
    (grant) =>
      (grant.metadata?.namespace ?? 'default') === to &&
      (grant.spec?.from ?? []).some((f) => f.group === GATEWAY_API_GROUP && f.kind === 'HTTPRoute' && f.namespace === from) &&
      (grant.spec?.to ?? []).some((t) => (t.group ?? '') === '' && t.kind === 'Service' && (t.name === undefined || t.name === '' || t.name === service)),
  );
}

/** The status the implementation wrote for this parent, the Gateway's state, and the rule's timeouts. */
function gatewayFacts(ctx: ParentContext, rule: HttpRouteRule): GatewayRouteFacts {
  const parent = (ctx.route.status?.parents ?? []).find((p) =>
    p.parentRef?.name === ctx.ref.name &&
    (p.parentRef?.namespace ?? ctx.namespace) === (ctx.ref.namespace ?? ctx.namespace) &&
    (p.parentRef?.sectionName ?? null) === (ctx.ref.sectionName ?? null));
  return {
    gatewayClass: ctx.gateway?.gatewayClass ?? null,
    controllerName: ctx.gateway?.controllerName ?? null,
    gatewayFound: ctx.gateway !== null,
    accepted: conditionOf(parent?.conditions, 'Accepted'),
    resolvedRefs: conditionOf(parent?.conditions, 'ResolvedRefs'),
    programmed: ctx.gateway?.programmed ?? null,
    addresses: [...(ctx.gateway?.addresses ?? [])],
    listenerProtocol: ctx.listener.protocol ?? 'HTTP',
    timeouts: { request: rule.timeouts?.request ?? null, backendRequest: rule.timeouts?.backendRequest ?? null },
    conflictWinner: null,
  };
}

/** One route per id: two parentRefs naming the same listener give the same routes. */
function unique(routes: readonly Route[]): Route[] {
  const seen = new Set<string>();
  return routes.filter((route) => {
    if (seen.has(route.id)) return false;
    seen.add(route.id);
    return true;
  });
}

/** When a route's routing object was created and where its rule stands, for precedence. */
interface Precedence {
  /** The HTTPRoute's creationTimestamp (RFC 3339 sorts by time). */
  created: string;
  /** Rule and match index within the HTTPRoute. */
  order: [number, number];
}

/**
 * HTTPRoute precedence between routes claiming the same listener, host and match (spec, HTTPRouteRule
 * "matches": ties go to the oldest route, then the first by namespace/name, then the first rule):
 * every loser names its winner.
 */
export function markConflicts(routes: Route[], precedence: ReadonlyMap<string, Precedence>): Route[] {
  const groups = new Map<string, Route[]>();
  for (const route of routes) {
    const key = JSON.stringify([route.parent?.namespace, route.parent?.name, route.parent?.port, route.host, conflictKey(route)]);
    groups.set(key, [...(groups.get(key) ?? []), route]);
  }
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const rank = (r: Route): Precedence => precedence.get(r.id) ?? { created: '', order: [0, 0] };
    const ranked = [...group].sort((a, b) =>
      rank(a).created.localeCompare(rank(b).created) ||
      `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`) ||
      rank(a).order[0] - rank(b).order[0] ||
      rank(a).order[1] - rank(b).order[1]);
    const winner = ranked[0];
    for (const loser of ranked.slice(1)) {
      if (!loser.gateway || !winner) continue;
      const which = winner.namespace === loser.namespace && winner.name === loser.name ? ` rule ${rank(winner).order[0] + 1}` : '';
      loser.gateway.conflictWinner = `HTTPRoute ${winner.namespace}/${winner.name}${which}`;
    }
  }
  return routes;
}

/** The part of a route that decides which requests it takes: path, type, method, headers, query. */
function conflictKey(route: Route): string {
  return JSON.stringify([route.path, route.pathType, route.probe.method ?? 'GET', route.probe.headers ?? {}, route.probe.path]);
}
