// Pure: one Gateway and the HTTPRoutes attached to it -> the status an implementation writes and the
// nginx.conf of its data plane, rendered the way NGINX Gateway Fabric renders it
// (github.com/nginx/nginx-gateway-fabric, internal/controller/nginx/config/):
// - a server per listener port and hostname (servers_template.go), and a default server per port
//   answering 404 for any other Host (IsDefaultHTTP);
// - a location per path (PathPrefix "/foo" is `location /foo/` and `location = /foo`, Exact is
//   `location = /foo`); a path with header/query/method matches sends the request, in match
//   precedence order, to an internal location per match (NGF does the matching in njs,
//   httpmatches.js; Debian's nginx has no njs, so maps and `if` do it here, with the same outcome);
// - an upstream per Service port with its ready endpoints and NGF's default `random two least_conn`;
//   an upstream with no ready endpoint is `server unix:nginx-503-server.sock` (upstreams.go), whose
//   server answers 503; an invalid backendRef proxies to `invalid-backend-ref`, whose server
//   answers 500 (createInvalidBackendRefUpstream);
// - weighted backendRefs through `split_clients $request_id` (split_clients_template.go);
// - RequestRedirect as `return <code> <url>`, URLRewrite as the proxied path, header modifiers as
//   proxy_set_header / add_header.
// Rule timeouts: NGF rejects `timeouts` (graph/httproute.go: field.Forbidden). The lab renders
// timeouts.backendRequest (else timeouts.request) as proxy_read_timeout / proxy_send_timeout, which
// is what an implementation that supports them (Envoy Gateway's route timeout) does to the pod hop.

import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import {
  GATEWAY_GROUP,
  type GwBackendRef,
  type GwFilter,
  type GwGateway,
  type GwHttpRoute,
  type GwListener,
  type GwMatch,
  type GwParentRef,
  type GwPathModifier,
  type GwReferenceGrant,
  type GwRule,
  gwDurationMs,
  listenerAllows,
  referencePermitted,
  routeHostnames,
} from './gateway-api.js';
import { nginxPaths, type ProxyTimeouts, readyEndpoints } from './nginx-config.js';

/** The upstream every invalid backendRef proxies to (NGF upstreams.go invalidBackendRef). */
export const INVALID_BACKEND_REF = 'invalid-backend-ref';

/** The 503 and 500 servers listen on the replica IP at this port + the status. */
export const STATUS_SERVER_PORT_BASE = 10_000;

/** The objects one Gateway is rendered from. */
export interface GatewayRenderInput {
  /** The Gateway. */
  gateway: GwGateway;
  /** Every HTTPRoute of the cluster (those not attached to this Gateway are ignored). */
  routes: readonly GwHttpRoute[];
  /** Every ReferenceGrant. */
  grants: readonly GwReferenceGrant[];
  /** Every Service. */
  services: readonly V1Service[];
  /** Every EndpointSlice. */
  endpointSlices: readonly V1EndpointSlice[];
  /** Namespace labels by name (allowedRoutes selectors). */
  namespaceLabels: ReadonlyMap<string, Record<string, string>>;
}

/** A status condition as the Gateway API writes it. */
export interface GwCondition {
  /** Condition type. */
  type: string;
  /** "True" or "False". */
  status: 'True' | 'False';
  /** Reason. */
  reason: string;
  /** Message. */
  message: string;
  /** The generation it was computed for. */
  observedGeneration: number;
}

/** What one HTTPRoute's parentRef to this Gateway resolved to (status.parents[] entry). */
export interface RouteParentStatus {
  /** The parentRef as written. */
  parentRef: GwParentRef;
  /** Accepted and ResolvedRefs. */
  conditions: GwCondition[];
}

/** One backend of a match as rendered: an upstream name, or the invalid-backend-ref upstream. */
interface PlannedBackend {
  /** Upstream name. */
  upstream: string;
  /** Weight. */
  weight: number;
}

/** One (route, rule, match) served on a hostname. */
export interface PlannedMatch {
  /** namespace/name of the route. */
  route: string;
  /** The route's creation time (precedence). */
  created: string;
  /** Rule index. */
  rule: number;
  /** Match index. */
  match: number;
  /** The match. */
  spec: GwMatch;
  /** The rule's filters. */
  filters: GwFilter[];
  /** Backends as rendered. */
  backends: PlannedBackend[];
  /** proxy_read_timeout from the rule's timeouts, null for the default. */
  timeoutMs: number | null;
}

/** What the implementation decided for one Gateway. */
export interface GatewayPlan {
  /** status.parents entries by route "namespace/name" (only routes that name this Gateway). */
  routeParents: Map<string, RouteParentStatus[]>;
  /** Routes attached per listener name. */
  attachedRoutes: Map<string, number>;
  /** Servers: port -> hostname ("" for any) -> matches. */
  servers: Map<number, Map<string, PlannedMatch[]>>;
  /** Upstreams: name -> "ip:port" servers (empty: the 503 server). */
  upstreams: Map<string, string[]>;
}

const condition = (type: string, ok: boolean, reason: string, message: string, generation: number): GwCondition => ({
  type,
  status: ok ? 'True' : 'False',
  reason,
  message,
  observedGeneration: generation,
});

/** Decides attachment, status and the data plane's servers for one Gateway. */
export function planGateway(input: GatewayRenderInput): GatewayPlan {
  const plan: GatewayPlan = { routeParents: new Map(), attachedRoutes: new Map(), servers: new Map(), upstreams: new Map() };
  for (const listener of input.gateway.spec.listeners) plan.attachedRoutes.set(listener.name, 0);
  for (const route of input.routes) {
    const refs = (route.spec.parentRefs ?? []).filter((ref) => refersTo(ref, route, input.gateway));
    if (refs.length === 0) continue;
    const resolved = resolveBackends(route, input, plan);
    const statuses = refs.map((ref) => attach(ref, route, input, plan, resolved));
    plan.routeParents.set(routeKey(route), statuses);
  }
  return plan;
}

function routeKey(route: GwHttpRoute): string {
  return `${route.metadata.namespace ?? 'default'}/${route.metadata.name}`;
}

function refersTo(ref: GwParentRef, route: GwHttpRoute, gateway: GwGateway): boolean {
  return (
    (ref.group ?? GATEWAY_GROUP) === GATEWAY_GROUP &&
    (ref.kind ?? 'Gateway') === 'Gateway' &&
    ref.name === gateway.metadata.name &&
    (ref.namespace ?? route.metadata.namespace ?? 'default') === (gateway.metadata.namespace ?? 'default')
  );
}

/** The ResolvedRefs outcome of a route and the upstream of each backendRef by rule. */
interface ResolvedBackends {
  /** The first problem: reason and message, null when every ref resolves. */
  problem: { reason: string; message: string } | null;
  /** Planned backends per rule index. */
  rules: PlannedBackend[][];
}

function resolveBackends(route: GwHttpRoute, input: GatewayRenderInput, plan: GatewayPlan): ResolvedBackends {
  let problem: ResolvedBackends['problem'] = null;
  const rules = (route.spec.rules ?? []).map((rule) =>
    (rule.backendRefs ?? []).map((ref) => {
      const outcome = resolveBackend(ref, route, input, plan);
      if (outcome.problem && problem === null) problem = outcome.problem;
      return { upstream: outcome.upstream, weight: ref.weight ?? 1 };
    }),
  );
  return { problem, rules };
}

function resolveBackend(
  ref: GwBackendRef,
  route: GwHttpRoute,
  input: GatewayRenderInput,
  plan: GatewayPlan,
): { upstream: string; problem: { reason: string; message: string } | null } {
  const routeNamespace = route.metadata.namespace ?? 'default';
  const namespace = ref.namespace ?? routeNamespace;
  const invalid = (reason: string, message: string) => ({ upstream: INVALID_BACKEND_REF, problem: { reason, message } });
  if ((ref.group ?? '') !== '' || (ref.kind ?? 'Service') !== 'Service') return invalid('InvalidKind', `backendRef ${ref.kind ?? ''} ${ref.name} is not a Service`);
  if (!referencePermitted(input.grants, routeNamespace, namespace, ref.name)) {
    return invalid('RefNotPermitted', `Backend ref to Service ${namespace}/${ref.name} not permitted by any ReferenceGrant`);
  }
  const service = input.services.find((s) => (s.metadata?.namespace ?? 'default') === namespace && s.metadata?.name === ref.name);
  if (!service) return invalid('BackendNotFound', `Service "${namespace}/${ref.name}" not found`);
  const port = (service.spec?.ports ?? []).find((p) => p.port === ref.port);
  if (!port) return invalid('BackendNotFound', `Service "${namespace}/${ref.name}" has no port ${ref.port ?? '(unset)'}`);
  const upstream = `${namespace}_${ref.name}_${port.port}`;
  if (!plan.upstreams.has(upstream)) plan.upstreams.set(upstream, readyEndpoints(input.endpointSlices, namespace, ref.name, port));
  return { upstream, problem: null };
}

/** Attaches one parentRef of a route: the listeners it names, allowedRoutes, hostname intersection. */
function attach(ref: GwParentRef, route: GwHttpRoute, input: GatewayRenderInput, plan: GatewayPlan, resolved: ResolvedBackends): RouteParentStatus {
  const generation = Number((route.metadata as { generation?: number }).generation ?? 1);
  const gatewayNamespace = input.gateway.metadata.namespace ?? 'default';
  const routeNamespace = route.metadata.namespace ?? 'default';
  const named = input.gateway.spec.listeners.filter((l) => (ref.sectionName === undefined || l.name === ref.sectionName) && (ref.port === undefined || l.port === ref.port));
  const refs = resolved.problem === null
    ? condition('ResolvedRefs', true, 'ResolvedRefs', 'All references are resolved', generation)
    : condition('ResolvedRefs', false, resolved.problem.reason, resolved.problem.message, generation);
  const reject = (reason: string, message: string): RouteParentStatus => ({ parentRef: ref, conditions: [condition('Accepted', false, reason, message, generation), refs] });
  if (named.length === 0) return reject('NoMatchingParent', `Gateway ${gatewayNamespace}/${ref.name} has no listener ${ref.sectionName ?? ''}${ref.port ?? ''}`.trim());
  const allowed = named.filter((l) => listenerAllows(l, gatewayNamespace, routeNamespace, input.namespaceLabels.get(routeNamespace) ?? {}));
  if (allowed.length === 0) return reject('NotAllowedByListeners', `the listeners of Gateway ${gatewayNamespace}/${ref.name} do not allow routes from namespace ${routeNamespace}`);
  const served = allowed.map((l) => ({ listener: l, hosts: routeHostnames(l, route) })).filter((s) => s.hosts.length > 0);
  if (served.length === 0) return reject('NoMatchingListenerHostname', 'no listener hostname matches the route hostnames');
  for (const { listener, hosts } of served) {
    plan.attachedRoutes.set(listener.name, (plan.attachedRoutes.get(listener.name) ?? 0) + 1);
    for (const host of hosts) addMatches(plan, listener, host, route, resolved);
  }
  return { parentRef: ref, conditions: [condition('Accepted', true, 'Accepted', 'The route is accepted', generation), refs] };
}

function addMatches(plan: GatewayPlan, listener: GwListener, host: string, route: GwHttpRoute, resolved: ResolvedBackends): void {
  const hosts = plan.servers.get(listener.port) ?? new Map<string, PlannedMatch[]>();
  plan.servers.set(listener.port, hosts);
  const matches = hosts.get(host) ?? [];
  hosts.set(host, matches);
  (route.spec.rules ?? []).forEach((rule: GwRule, ruleIndex) => {
    const ruleMatches = rule.matches && rule.matches.length > 0 ? rule.matches : [{}];
    ruleMatches.forEach((match, matchIndex) => {
      matches.push({
        route: routeKey(route),
        created: route.metadata.creationTimestamp ?? '',
        rule: ruleIndex,
        match: matchIndex,
        spec: match,
        filters: rule.filters ?? [],
        backends: resolved.rules[ruleIndex] ?? [],
        timeoutMs: gwDurationMs(rule.timeouts?.backendRequest) ?? gwDurationMs(rule.timeouts?.request),
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Precedence (HTTPRoute spec, "rules"): exact path over prefix, longer prefix first, then a method
// match, then more header matches, then more query matches, then the oldest route, then the route
// first in namespace/name order, then the first rule and match within the route.

/** Compares two matches on the same path: negative when `a` takes precedence. */
export function comparePrecedence(a: PlannedMatch, b: PlannedMatch): number {
  const pa = pathOf(a.spec);
  const pb = pathOf(b.spec);
  return (
    Number(pb.type === 'Exact') - Number(pa.type === 'Exact') ||
    pb.value.length - pa.value.length ||
    Number(b.spec.method !== undefined) - Number(a.spec.method !== undefined) ||
    (b.spec.headers?.length ?? 0) - (a.spec.headers?.length ?? 0) ||
    (b.spec.queryParams?.length ?? 0) - (a.spec.queryParams?.length ?? 0) ||
    a.created.localeCompare(b.created) ||
    a.route.localeCompare(b.route) ||
    a.rule - b.rule ||
    a.match - b.match
  );
}

function pathOf(match: GwMatch): { type: 'PathPrefix' | 'Exact' | 'RegularExpression'; value: string } {
  return { type: match.path?.type ?? 'PathPrefix', value: match.path?.value ?? '/' };
}

function hasConditions(match: GwMatch): boolean {
  return match.method !== undefined || (match.headers?.length ?? 0) > 0 || (match.queryParams?.length ?? 0) > 0;
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** How one data-plane replica runs. */
export interface GatewayNginxOptions {
  /** The replica's pod IP (every listener port is served on it). */
  address: string;
  /** The prefix directory. */
  dir: string;
  /** Proxy timeouts when a rule sets none. */
  timeouts: ProxyTimeouts;
  /** The `user` directive, null for none. */
  workerUser: string | null;
  /** Render no servers at all (a Gateway that is not programmed): the listener ports refuse. */
  unprogrammed?: boolean;
}

/** The nginx.conf of one data-plane replica. */
export function renderGatewayNginx(plan: GatewayPlan, options: GatewayNginxOptions): string {
  const paths = nginxPaths(options.dir);
  // NGF listens on unix:nginx-503-server.sock / nginx-500-server.sock; the lab's upstream connections
  // leave from the pod IP (proxy_bind, for NetworkPolicy), which cannot bind a unix socket, so these
  // two servers listen on the replica's own IP instead. Same answers, another socket family.
  const sock = (status: number): string => `${options.address}:${STATUS_SERVER_PORT_BASE + status}`;
  const ctx: RenderContext = { lines: [], maps: [], internal: [], n: 0, options };
  for (const [name, servers] of plan.upstreams) renderUpstream(ctx, name, servers, sock(503));
  ctx.lines.push(`upstream ${INVALID_BACKEND_REF} {`, `    server ${sock(500)};`, '}');
  if (options.unprogrammed !== true) for (const [port, hosts] of plan.servers) renderPort(ctx, port, hosts);
  for (const status of [503, 500]) ctx.lines.push('server {', `    listen ${sock(status)};`, '    access_log off;', `    return ${status};`, '}');
  const head = [
    '# Rendered by hopwatch lab (test/lab/gateway-config.ts) the way NGINX Gateway Fabric renders nginx.conf.',
    ...(options.workerUser ? [`user ${options.workerUser};`] : []),
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    `pid ${paths.pid};`,
    `lock_file ${paths.lock};`,
    `error_log ${paths.errorLog} notice;`,
    'worker_shutdown_timeout 1s;',
    'events {',
    '    worker_connections 1024;',
    '}',
    'http {',
    `    client_body_temp_path ${paths.clientBodyTemp};`,
    `    proxy_temp_path ${paths.proxyTemp};`,
    `    fastcgi_temp_path ${paths.fastcgiTemp};`,
    `    uwsgi_temp_path ${paths.uwsgiTemp};`,
    `    scgi_temp_path ${paths.scgiTemp};`,
    `    access_log ${paths.accessLog};`,
    '    server_tokens off;',
    '    server_names_hash_bucket_size 256;',
    '    variables_hash_bucket_size 512;',
    '    map_hash_bucket_size 256;',
    `    proxy_bind ${options.address};`,
    '    proxy_http_version 1.1;',
    `    proxy_connect_timeout ${options.timeouts.connectMs}ms;`,
    `    proxy_read_timeout ${options.timeouts.readMs}ms;`,
    `    proxy_send_timeout ${options.timeouts.sendMs}ms;`,
    // NGF's base headers (servers.go baseHeaders): Host, X-Forwarded-*, and Connection for upgrades.
    '    proxy_set_header Host $gw_host;',
    '    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '    proxy_set_header X-Real-IP $remote_addr;',
    '    proxy_set_header X-Forwarded-Proto $scheme;',
    '    proxy_set_header X-Forwarded-Host $host;',
    '    proxy_set_header X-Forwarded-Port $server_port;',
    "    map $http_host $gw_host { default $http_host; '' $host; }",
  ];
  return `${[...head, ...ctx.maps.map((l) => `    ${l}`), ...ctx.lines.map((l) => `    ${l}`), '}'].join('\n')}\n`;
}

/** What rendering accumulates. */
interface RenderContext {
  lines: string[];
  maps: string[];
  /** Internal locations of the server being rendered (written after its other locations). */
  internal: string[];
  n: number;
  options: GatewayNginxOptions;
}

function renderUpstream(ctx: RenderContext, name: string, servers: string[], sock503: string): void {
  ctx.lines.push(`upstream ${name} {`, '    random two least_conn;');
  if (servers.length === 0) ctx.lines.push(`    server ${sock503};`);
  for (const server of servers) ctx.lines.push(`    server ${server};`);
  ctx.lines.push('}');
}

function renderPort(ctx: RenderContext, port: number, hosts: Map<string, PlannedMatch[]>): void {
  const listen = `${ctx.options.address}:${port}`;
  ctx.lines.push('server {', `    listen ${listen} default_server;`, '    default_type text/html;', '    return 404;', '}');
  for (const [host, matches] of [...hosts].sort(([a], [b]) => a.localeCompare(b))) {
    ctx.lines.push('server {', `    listen ${listen};`, `    server_name ${serverName(host)};`, '    set $gw_uri $uri;');
    renderLocations(ctx, matches, port);
    ctx.lines.push(...ctx.internal.splice(0), '}');
  }
}

/** "" (any host) is nginx's catch-all name; "*.example.com" is nginx's own wildcard form. */
function serverName(host: string): string {
  return host === '' ? '_' : host;
}

/** Groups matches by nginx location (PathPrefix /foo serves `/foo/` and `= /foo`), each sorted by precedence. */
function renderLocations(ctx: RenderContext, matches: PlannedMatch[], port: number): void {
  const locations = new Map<string, PlannedMatch[]>();
  const add = (location: string, match: PlannedMatch): void => void locations.set(location, [...(locations.get(location) ?? []), match]);
  for (const match of matches) {
    const { type, value } = pathOf(match.spec);
    if (type === 'Exact') add(`= ${value}`, match);
    else if (type === 'RegularExpression') add(`~ ${value}`, match);
    else if (value === '/') add('/', match);
    else {
      const trimmed = value.replace(/\/+$/, '');
      add(`${trimmed}/`, match);
      add(`= ${trimmed}`, match);
    }
  }
  for (const [location, list] of locations) {
    const sorted = [...list].sort(comparePrecedence);
    ctx.lines.push(`    location ${location} {`);
    let fallback = false;
    for (const match of sorted) {
      const target = renderInternal(ctx, match, port);
      if (!hasConditions(match.spec)) {
        ctx.lines.push(`        rewrite ^ ${target} last;`);
        fallback = true;
        break;
      }
      ctx.lines.push(`        if (${renderCondition(ctx, match.spec)} = 1) {`, `            rewrite ^ ${target} last;`, '        }');
    }
    if (!fallback) ctx.lines.push('        return 404;');
    ctx.lines.push('    }');
  }
}

/** A map variable that is "1" when every header, query and method condition of the match holds. */
function renderCondition(ctx: RenderContext, match: GwMatch): string {
  const id = ++ctx.n;
  const parts: { source: string; test: string }[] = [];
  if (match.method !== undefined) parts.push({ source: '$request_method', test: `"${match.method}"` });
  for (const h of match.headers ?? []) parts.push({ source: `$http_${h.name.toLowerCase().replace(/-/g, '_')}`, test: valueTest(h.type, h.value) });
  for (const q of match.queryParams ?? []) parts.push({ source: `$arg_${q.name}`, test: valueTest(q.type, q.value) });
  parts.forEach((part, i) => ctx.maps.push(`map ${part.source} $gw_c${id}_${i} { ${part.test} 1; default 0; }`));
  const all = parts.map((_, i) => `$gw_c${id}_${i}`).join('');
  ctx.maps.push(`map "${all}" $gw_m${id} { "${'1'.repeat(parts.length)}" 1; default 0; }`);
  return `$gw_m${id}`;
}

function valueTest(type: 'Exact' | 'RegularExpression' | undefined, value: string): string {
  return type === 'RegularExpression' ? `"~${value}"` : `"${value.replace(/"/g, '\\"')}"`;
}

/** The internal location of one match: its filters, then a redirect or the proxy to its backends. */
function renderInternal(ctx: RenderContext, match: PlannedMatch, port: number): string {
  const id = ++ctx.n;
  const path = `/_gw-internal-${id}`;
  const body: string[] = ['internal;'];
  const redirect = match.filters.find((f) => f.type === 'RequestRedirect')?.requestRedirect;
  if (redirect) {
    const scheme = redirect.scheme ?? '$scheme';
    const host = redirect.hostname ?? '$host';
    const redirectPort = redirect.port ?? (redirect.scheme === undefined ? port : undefined);
    const target = rewrittenPath(ctx, body, match, redirect.path) ?? '$request_uri';
    body.push(`return ${redirect.statusCode ?? 302} ${scheme}://${host}${redirectPort === undefined ? '' : `:${redirectPort}`}${target};`);
  } else {
    renderProxy(ctx, body, match);
  }
  ctx.internal.push(`    location ${path} {`, ...body.map((l) => `        ${l}`), '    }');
  return path;
}

function renderProxy(ctx: RenderContext, body: string[], match: PlannedMatch): void {
  const rewrite = match.filters.find((f) => f.type === 'URLRewrite')?.urlRewrite;
  const uri = rewrittenPath(ctx, body, match, rewrite?.path) ?? '$request_uri';
  const withArgs = uri === '$request_uri' ? uri : `${uri}$is_args$args`;
  if (rewrite?.hostname) body.push(`proxy_set_header Host ${rewrite.hostname};`);
  for (const f of match.filters.filter((x) => x.type === 'RequestHeaderModifier')) {
    const m = f.requestHeaderModifier ?? {};
    for (const h of m.set ?? []) body.push(`proxy_set_header ${h.name} "${h.value}";`);
    for (const h of m.add ?? []) body.push(`proxy_set_header ${h.name} ${appendedHeader(ctx, h.name, h.value)};`);
    for (const name of m.remove ?? []) body.push(`proxy_set_header ${name} "";`);
  }
  for (const f of match.filters.filter((x) => x.type === 'ResponseHeaderModifier')) {
    for (const h of [...(f.responseHeaderModifier?.set ?? []), ...(f.responseHeaderModifier?.add ?? [])]) body.push(`add_header ${h.name} "${h.value}" always;`);
  }
  if (match.timeoutMs !== null) body.push(`proxy_read_timeout ${match.timeoutMs}ms;`, `proxy_send_timeout ${match.timeoutMs}ms;`);
  body.push(`proxy_pass http://${backendTarget(ctx, match.backends)}${withArgs};`);
}

/** A variable holding a request header with a value appended (RequestHeaderModifier add: "old,new", or "new" alone). */
function appendedHeader(ctx: RenderContext, name: string, value: string): string {
  const variable = `$gw_add${++ctx.n}`;
  const source = `$http_${name.toLowerCase().replace(/-/g, '_')}`;
  ctx.maps.push(`map ${source} ${variable} { "" "${value}"; default "${source},${value}"; }`);
  return variable;
}

/** The upstream of a match: itself, a split_clients variable for several weighted ones, invalid-backend-ref for none. */
function backendTarget(ctx: RenderContext, backends: PlannedBackend[]): string {
  const live = backends.filter((b) => b.weight > 0);
  if (live.length === 0) return INVALID_BACKEND_REF;
  if (live.length === 1) return live[0]?.upstream ?? INVALID_BACKEND_REF;
  const total = live.reduce((sum, b) => sum + b.weight, 0);
  const name = `$gw_split${++ctx.n}`;
  const lines = live.map((b, i) => (i === live.length - 1 ? `* ${b.upstream};` : `${((b.weight / total) * 100).toFixed(2)}% ${b.upstream};`));
  ctx.maps.push(`split_clients $request_id ${name} { ${lines.join(' ')} }`);
  return name;
}

/** The request path after a path modifier (nginx expression), null when there is none. */
function rewrittenPath(ctx: RenderContext, body: string[], match: PlannedMatch, modifier: GwPathModifier | undefined): string | null {
  if (modifier === undefined) return null;
  if (modifier.type === 'ReplaceFullPath') return modifier.replaceFullPath ?? '/';
  const prefix = pathOf(match.spec).value.replace(/\/+$/, '');
  const replacement = modifier.replacePrefixMatch ?? '/';
  const rest = `$gw_rest${++ctx.n}`;
  const regex = replacement.endsWith('/') ? `^${prefix}/?(.*)$` : `^${prefix}(.*)$`;
  body.push(`set ${rest} "";`, `if ($gw_uri ~ "${regex}") {`, `    set ${rest} $1;`, '}');
  return `${replacement}${rest}`;
}
