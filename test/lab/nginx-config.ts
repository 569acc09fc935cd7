// Pure: nginx.conf for the lab's ingress controller, rendered from Kubernetes objects the
// way ingress-nginx (controller v1.x, rootfs/etc/nginx/template/nginx.tmpl and
// internal/ingress/controller/controller.go) renders it, as far as stock nginx-light allows.
//
// What follows ingress-nginx, and where it comes from:
// - Class: spec.ingressClassName, else the kubernetes.io/ingress.class annotation, else the
//   Ingress is served only when our class is the cluster default (store.GetIngressClass).
// - Order: Ingresses by creationTimestamp, ties by "namespace/name" descending
//   (store.sortIngressSlice); the first Ingress to claim a host's path wins, later ones are skipped.
// - Servers: one per host, rules of the same host merged across Ingresses; rules without host
//   go to the catch-all server "_" (listen ... default_server). Every server starts with a root
//   location "/" on the default backend; a rule path "/" (Prefix) replaces it.
// - spec.defaultBackend (controller.createServers): an Ingress with a defaultBackend and no rules
//   takes over the catch-all server's "/"; an Ingress with rules lends its defaultBackend to the
//   "/" of the servers it creates (hosts no earlier Ingress created).
// - The default backend: without a default-backend Service, ingress-nginx proxies to its internal
//   server that says `return 404;`, so the root location answers nginx's own 404 page.
// - Paths: an empty path is "/"; a missing pathType and ImplementationSpecific become Prefix
//   (k8s.SetDefaultNGINXPathType). Prefix "/api" renders `location /api/` plus `location = /api`
//   (controller/location.go updateServerLocations), so it matches /api and /api/x but not /apix.
//   Locations are ordered longest path first. `use-regex: "true"` turns every location of the
//   server into `~* "^path"` (template.go enforceRegexModifier + buildLocation).
// - Upstreams: the ready EndpointSlice addresses with the port resolved by name
//   (controller/endpointslices.go), not the ClusterIP, unless `service-upstream: "true"`.
//   The Ingress backend port matches a Service port by number, name or targetPort
//   (controller.serviceEndpoints). A missing Service, a port not on it, or no ready endpoint
//   leave the upstream empty, and ingress-nginx's Lua balancer answers 503: rendered `return 503;`.
// - Defaults (config.NewDefault): proxy timeouts connect 5s / send 60s / read 60s, proxy_buffer_size
//   4k with `proxy_buffers 4 4k`, proxy_buffering off, `proxy_next_upstream error timeout` with 3
//   tries, upstream keepalive 320 / keepalive_timeout 60s / keepalive_requests 10000 / keepalive_time 1h,
//   HTTP/1.1 upstream with `Connection` from $connection_upgrade ('' unless the client upgrades),
//   Host and X-Forwarded-* from the same maps as the template, the `upstreaminfo` access log format.
// - Annotations honoured: proxy-connect-timeout, proxy-send-timeout, proxy-read-timeout (seconds),
//   proxy-buffer-size, backend-protocol (HTTP, HTTPS, AUTO_HTTP, GRPC, GRPCS: grpc_pass exists in
//   nginx-light), service-upstream, use-regex, rewrite-target (template.go buildProxyPass writes
//   `rewrite "(?i)<location path>" <target> break;` before the pass, and needsRewrite makes every
//   location of the server a regex one, as use-regex does).
//
// Where the lab differs, and why:
// - ingress-nginx sets `server_tokens off` plus `more_clear_headers Server` (headers-more module).
//   nginx-light has no headers-more, so responses keep `Server: nginx`; error pages are nginx's own
//   and end in "<center>nginx</center>" exactly as ingress-nginx's do.
// - Upstreams are static `upstream` blocks (no Lua balancer): round robin, `max_fails=0` because
//   the Lua balancer never marks peers down.
// - ExternalName backends are resolved at request time through `resolver` (the lab's DNS) when the
//   option is given, else answered 503; ingress-nginx resolves them in Lua with the cluster DNS.
// - Canary Ingresses (nginx.ingress.kubernetes.io/canary: "true", controller.go mergeAlternativeBackends):
//   skipped when servers and locations are built; each is then merged as the alternative backend of
//   the location with the same host, path and pathType (only when some non-canary Ingress exists, not
//   into a location on its own upstream, first canary only: balancer.lua reads alternative_backends[1]).
//   balancer.lua route_to_alternative_balancer is rendered as maps: canary-by-header (value exact, else
//   pattern regex, else "always"/"never") before canary-by-cookie ("always"/"never") before
//   canary-weight, the weight as `split_clients` over $request_id (weight out of canary-weight-total
//   when above 100, else 100). A canary or main upstream without endpoints has no balancer: no split.
// - No TLS listener, no auth, app-root or snippet annotations; a rewrite-target with
//   characters outside [A-Za-z0-9/_.$-] is ignored (it could not be written into nginx.conf safely).
// - Safety: only loopback addresses are ever rendered as upstream servers; paths or hosts that
//   cannot be written safely into nginx.conf are skipped with a comment.

import type { V1EndpointSlice, V1Ingress, V1IngressBackend, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { join } from 'node:path';
import { isLoopback } from './addresses.js';

/** A bug or bad configuration of the lab's controller (bad options, nginx refusing a config, a dead process). */
export class LabNginxError extends Error {
  /** Stable error code: LAB_BAD_ADDRESS, LAB_BAD_OPTION, LAB_NGINX_CONFIG, LAB_NGINX_START, LAB_NGINX_RELOAD, LAB_NGINX_STOPPED. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabNginxError';
    this.code = code;
  }
}

/** Timeouts of proxied requests in milliseconds. */
export interface ProxyTimeouts {
  /** proxy_connect_timeout. */
  connectMs: number;
  /** proxy_read_timeout: between two reads of the upstream's response. */
  readMs: number;
  /** proxy_send_timeout: between two writes of the request. */
  sendMs: number;
}

/** ingress-nginx's default timeouts (proxy-connect-timeout 5, proxy-read-timeout 60, proxy-send-timeout 60). */
export const INGRESS_NGINX_TIMEOUTS: Readonly<ProxyTimeouts> = Object.freeze({ connectMs: 5000, readMs: 60_000, sendMs: 60_000 });
/** ingress-nginx's default proxy-buffer-size. */
export const INGRESS_NGINX_BUFFER_SIZE = '4k';
/** The annotation prefix ingress-nginx reads. */
export const ANNOTATION_PREFIX = 'nginx.ingress.kubernetes.io/';

/** Where one nginx instance keeps its files, all inside its prefix directory. */
export interface NginxPaths {
  /** The prefix directory (`nginx -p`). */
  dir: string;
  /** nginx.conf. */
  config: string;
  /** The master's pid file. */
  pid: string;
  /** lock_file. */
  lock: string;
  /** error_log (level notice: start, reload and upstream errors). */
  errorLog: string;
  /** access_log in ingress-nginx's upstreaminfo format. */
  accessLog: string;
  /** client_body_temp_path. */
  clientBodyTemp: string;
  /** proxy_temp_path. */
  proxyTemp: string;
  /** fastcgi_temp_path. */
  fastcgiTemp: string;
  /** uwsgi_temp_path. */
  uwsgiTemp: string;
  /** scgi_temp_path. */
  scgiTemp: string;
}

/** Every path of an instance whose prefix directory is `dir`. */
export function nginxPaths(dir: string): NginxPaths {
  return {
    dir,
    config: join(dir, 'nginx.conf'),
    pid: join(dir, 'nginx.pid'),
    lock: join(dir, 'nginx.lock'),
    errorLog: join(dir, 'error.log'),
    accessLog: join(dir, 'access.log'),
    clientBodyTemp: join(dir, 'client-body'),
    proxyTemp: join(dir, 'proxy-temp'),
    fastcgiTemp: join(dir, 'fastcgi-temp'),
    uwsgiTemp: join(dir, 'uwsgi-temp'),
    scgiTemp: join(dir, 'scgi-temp'),
  };
}

/** The Kubernetes objects the controller renders from. */
export interface NginxConfigInput {
  /** Every Ingress (those of other classes are ignored). */
  ingresses: readonly V1Ingress[];
  /** Every Service. */
  services: readonly V1Service[];
  /** Every EndpointSlice. */
  endpointSlices: readonly V1EndpointSlice[];
  /** The IngressClass this controller serves. */
  ingressClass: string;
  /** Whether that class is the cluster default (serves Ingresses without a class). */
  isDefaultClass: boolean;
}

/** How the instance runs and the controller-wide settings (ingress-nginx's ConfigMap). */
export interface NginxConfigOptions {
  /** The address and port the controller pod serves HTTP on (loopback). */
  listen: { address: string; port: number };
  /** The prefix directory: pid, logs and temp paths go inside (see nginxPaths). */
  dir: string;
  /** Proxy timeouts; default ingress-nginx's (5s/60s/60s). The lab shortens them for test speed. */
  timeouts?: Partial<ProxyTimeouts>;
  /** proxy_buffer_size (and the size of the 4 proxy_buffers); default "4k". */
  proxyBufferSize?: string;
  /** worker_processes; default 1. */
  workerProcesses?: number;
  /** The `user` directive ("root root" when the master runs as root); null renders none (default). */
  workerUser?: string | null;
  /** worker_shutdown_timeout in ms: how long old workers may finish requests after a reload; default 10000. */
  workerShutdownTimeoutMs?: number;
  /** DNS server "ip:port" for ExternalName backends; null (default): ExternalName backends answer 503. */
  resolver?: string | null;
  /** The upstream blocks' keepalive_timeout in ms (ingress-nginx upstream-keepalive-timeout); default 60000. */
  upstreamKeepaliveTimeoutMs?: number;
  /**
   * The controller pod's own IP: upstream connections leave from it (`proxy_bind`), as a real
   * controller's do from its pod IP, so the pods' NetworkPolicy sees the controller. Default none.
   */
  sourceAddress?: string | null;
}

/** Where a location sends its requests. */
export type LocationTarget =
  /** ingress-nginx's default backend: nginx's own 404. */
  | { kind: 'default-backend' }
  /** An `upstream` block of endpoints (or the ClusterIP with service-upstream). */
  | { kind: 'upstream'; upstream: string }
  /** An ExternalName resolved at request time: host and port. */
  | { kind: 'external'; host: string; port: number }
  /** Nothing to send to: answered 503, with the reason as a comment. */
  | { kind: 'unavailable'; reason: string };

/** One `location` of a server. */
export interface PlannedLocation {
  /** The path as nginx matches it (Prefix paths end in "/" after normalisation). */
  path: string;
  /** Exact or Prefix (ImplementationSpecific is Prefix in ingress-nginx). */
  pathType: 'Exact' | 'Prefix';
  /** The Ingress path before normalisation. */
  ingressPath: string;
  /** From an Ingress with use-regex: "true". */
  useRegex: boolean;
  /** True while the location is the server's default root (replaceable by a rule path "/"). */
  isDefBackend: boolean;
  /** The Ingress that defined it, null for the default backend. */
  ingress: { namespace: string; name: string } | null;
  /** The backend Service and port as written, null for the default backend. */
  service: { name: string; port: string } | null;
  /** $proxy_upstream_name (namespace-service-port, or upstream-default-backend). */
  upstreamName: string;
  /** Where requests go. */
  target: LocationTarget;
  /** The defining Ingress's annotations. */
  annotations: Readonly<Record<string, string>>;
  /** The canary Ingress merged into this location (its alternative backend), absent when none. */
  canary?: PlannedCanary;
}

/** A canary Ingress's backend as the alternative of a location, with its traffic shaping policy. */
export interface PlannedCanary {
  /** Number of the merge, naming its maps ($canary_N ...). */
  id: number;
  /** The canary Ingress. */
  ingress: { namespace: string; name: string };
  /** The canary's upstream name. */
  upstreamName: string;
  /** Where the canary's requests go (only an upstream gets a split). */
  target: LocationTarget;
  /** canary-weight, clamped to 0..total. */
  weight: number;
  /** canary-weight-total when above 100, else 100. */
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

/** One `server` block. */
export interface PlannedServer {
  /** server_name: a host, a wildcard host, or "_" for the catch-all server. */
  hostname: string;
  /** Locations in render order. */
  locations: PlannedLocation[];
}

/** One `upstream` block. */
export interface PlannedUpstream {
  /** namespace-service-port. */
  name: string;
  /** "ip:port" of each server, sorted. */
  servers: string[];
}

/** Everything the config says, before it is written out. */
export interface NginxPlan {
  /** Servers, sorted by hostname. */
  servers: PlannedServer[];
  /** Upstreams with at least one server, sorted by name. */
  upstreams: PlannedUpstream[];
  /** Ingress rules, paths or backends left out, one line each (also written as comments). */
  skipped: string[];
}

const CATCH_ALL = '_';
const ROOT = '/';
const DEFAULT_BACKEND_UPSTREAM = 'upstream-default-backend';
const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Characters a path may have to be written bare into nginx.conf. */
const SAFE_PATH = /^\/[A-Za-z0-9/._~%!&()*+,=:@-]*$/;
const SAFE_REGEX_PATH = /^\/[A-Za-z0-9/._~%!&()*+,=:@?^|[\]\\-]*$/;
const SAFE_HOST = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const SIZE = /^\d+[kKmM]?$/;
const BACKEND_PROTOCOLS = ['HTTP', 'HTTPS', 'AUTO_HTTP', 'GRPC', 'GRPCS'] as const;
type BackendProtocol = (typeof BACKEND_PROTOCOLS)[number];

/** Renders nginx.conf for the controller serving `input.ingressClass`. */
export function renderNginxConfig(input: NginxConfigInput, options: NginxConfigOptions): string {
  validateOptions(options);
  return renderPlan(planNginx(input, options), options);
}

function validateOptions(options: NginxConfigOptions): void {
  if (!isLoopback(options.listen.address)) {
    throw new LabNginxError('LAB_BAD_ADDRESS', `nginx may only listen on loopback, got ${options.listen.address}`);
  }
  if (!Number.isInteger(options.listen.port) || options.listen.port < 1 || options.listen.port > 65535) {
    throw new LabNginxError('LAB_BAD_OPTION', `listen port must be 1..65535, got ${options.listen.port}`);
  }
  const resolver = options.resolver ?? null;
  if (resolver !== null && !isLoopback(resolver.replace(/:\d+$/, ''))) {
    throw new LabNginxError('LAB_BAD_ADDRESS', `the resolver must be a loopback "ip:port", got ${resolver}`);
  }
  if (options.sourceAddress && !isLoopback(options.sourceAddress)) {
    throw new LabNginxError('LAB_BAD_ADDRESS', `proxy_bind must be a loopback address, got ${options.sourceAddress}`);
  }
  if (options.proxyBufferSize !== undefined && !SIZE.test(options.proxyBufferSize)) {
    throw new LabNginxError('LAB_BAD_OPTION', `proxyBufferSize must look like 4k, got ${options.proxyBufferSize}`);
  }
  for (const [name, ms] of Object.entries(options.timeouts ?? {})) {
    if (ms !== undefined && (!Number.isInteger(ms) || ms <= 0)) {
      throw new LabNginxError('LAB_BAD_OPTION', `timeouts.${name} must be a positive integer of ms, got ${ms}`);
    }
  }
}

/** The controller-wide proxy timeouts the options give (ingress-nginx's defaults where absent). */
export function effectiveTimeouts(options: Pick<NginxConfigOptions, 'timeouts'>): ProxyTimeouts {
  const given = options.timeouts ?? {};
  return {
    connectMs: given.connectMs ?? INGRESS_NGINX_TIMEOUTS.connectMs,
    readMs: given.readMs ?? INGRESS_NGINX_TIMEOUTS.readMs,
    sendMs: given.sendMs ?? INGRESS_NGINX_TIMEOUTS.sendMs,
  };
}

// ---------------------------------------------------------------------------------------------
// Planning: objects -> servers, locations, upstreams.

/** What planning needs besides the objects. */
interface PlanContext {
  input: NginxConfigInput;
  resolverSet: boolean;
  upstreams: Map<string, PlannedUpstream>;
  skipped: string[];
}

/** Servers, locations and upstreams as ingress-nginx would build them. */
export function planNginx(input: NginxConfigInput, options: Pick<NginxConfigOptions, 'resolver'> = {}): NginxPlan {
  const ctx: PlanContext = { input, resolverSet: (options.resolver ?? null) !== null, upstreams: new Map(), skipped: [] };
  const ingresses = sortIngresses(input.ingresses.filter((ing) => servedByClass(ing, input.ingressClass, input.isDefaultClass)));
  const servers = new Map<string, PlannedServer>([[CATCH_ALL, { hostname: CATCH_ALL, locations: [defaultRoot()] }]]);
  // Canary Ingresses make no server or location of their own ("is marked as Canary, ignoring").
  const mains = ingresses.filter((ing) => !isCanary(ing));
  for (const ing of mains) createServers(ctx, ing, servers);
  for (const ing of mains) addPathLocations(ctx, ing, servers);
  if (mains.length > 0) mergeCanaries(ctx, ingresses.filter(isCanary), servers);
  const sorted = [...servers.values()].sort((a, b) => compareStrings(a.hostname, b.hostname));
  for (const server of sorted) server.locations = expandPrefixLocations(ctx, server);
  const upstreams = [...ctx.upstreams.values()].filter((u) => u.servers.length > 0).sort((a, b) => compareStrings(a.name, b.name));
  return { servers: sorted, upstreams, skipped: ctx.skipped };
}

/** True when this controller serves the Ingress (store.GetIngressClass, plus the default class). */
function servedByClass(ing: V1Ingress, ingressClass: string, isDefaultClass: boolean): boolean {
  const named = ing.spec?.ingressClassName;
  if (named) return named === ingressClass;
  const legacy = ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (legacy) return legacy === ingressClass;
  return isDefaultClass;
}

/** Oldest first; equal timestamps by "namespace/name" descending, as store.sortIngressSlice does. */
function sortIngresses(ingresses: V1Ingress[]): V1Ingress[] {
  const keyed = ingresses.map((ing) => ({ ing, at: timestampMs(ing.metadata?.creationTimestamp), key: `${namespaceOf(ing)}/${ing.metadata?.name ?? ''}` }));
  keyed.sort((a, b) => (a.at !== b.at ? a.at - b.at : compareStrings(b.key, a.key)));
  return keyed.map((entry) => entry.ing);
}

function timestampMs(value: unknown): number {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 0 : value.getTime();
  if (typeof value === 'string') {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? 0 : parsed;
  }
  return 0;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function namespaceOf(ing: V1Ingress): string {
  return ing.metadata?.namespace ?? 'default';
}

function annotationsOf(ing: V1Ingress): Readonly<Record<string, string>> {
  return ing.metadata?.annotations ?? {};
}

function defaultRoot(): PlannedLocation {
  return {
    path: ROOT,
    pathType: 'Prefix',
    ingressPath: ROOT,
    useRegex: false,
    isDefBackend: true,
    ingress: null,
    service: null,
    upstreamName: DEFAULT_BACKEND_UPSTREAM,
    target: { kind: 'default-backend' },
    annotations: {},
  };
}

/** A location on `backend` for the Ingress (its annotations, its namespace). */
function locationFor(ctx: PlanContext, ing: V1Ingress, backend: V1IngressBackend, path: string, pathType: 'Exact' | 'Prefix'): PlannedLocation {
  const annotations = annotationsOf(ing);
  const resolved = resolveBackend(ctx, namespaceOf(ing), backend, annotations);
  return {
    path,
    pathType,
    ingressPath: path,
    useRegex: annotations[`${ANNOTATION_PREFIX}use-regex`] === 'true',
    isDefBackend: false,
    ingress: { namespace: namespaceOf(ing), name: ing.metadata?.name ?? '' },
    service: resolved.service,
    upstreamName: resolved.upstreamName,
    target: resolved.target,
    annotations,
  };
}

/** controller.createServers: the catch-all takeover and one server per new host. */
function createServers(ctx: PlanContext, ing: V1Ingress, servers: Map<string, PlannedServer>): void {
  const fallback = ing.spec?.defaultBackend;
  const rules = ing.spec?.rules ?? [];
  const catchAllRoot = servers.get(CATCH_ALL)?.locations[0];
  if (fallback && rules.length === 0 && catchAllRoot?.isDefBackend) {
    // "Ingress defines a backend but no rule. Using it to configure the catch-all server."
    Object.assign(catchAllRoot, locationFor(ctx, ing, fallback, ROOT, 'Prefix'));
  }
  for (const rule of rules) {
    const host = rule.host || CATCH_ALL;
    if (servers.has(host)) continue;
    if (!SAFE_HOST.test(host)) {
      skip(ctx, `host ${JSON.stringify(host)} of ${namespaceOf(ing)}/${ing.metadata?.name ?? ''}: not a host nginx.conf can carry`);
      continue;
    }
    // The root of a new server is this Ingress's defaultBackend, else the default backend; either way replaceable.
    const root = fallback ? { ...locationFor(ctx, ing, fallback, ROOT, 'Prefix'), isDefBackend: true } : defaultRoot();
    servers.set(host, { hostname: host, locations: [root] });
  }
}

/** controller.getBackendServers: every rule path becomes a location; the first claim of a path wins. */
function addPathLocations(ctx: PlanContext, ing: V1Ingress, servers: Map<string, PlannedServer>): void {
  for (const rule of ing.spec?.rules ?? []) {
    const server = servers.get(rule.host || CATCH_ALL);
    if (!server) continue;
    for (const httpPath of rule.http?.paths ?? []) {
      const path = httpPath.path || ROOT;
      const pathType = httpPath.pathType === 'Exact' ? 'Exact' : 'Prefix';
      const existing = server.locations.find((loc) => loc.ingressPath === path && loc.pathType === pathType);
      if (existing && !existing.isDefBackend) {
        const owner = `${existing.ingress?.namespace}/${existing.ingress?.name}`;
        skip(ctx, `${pathType} ${path} on ${server.hostname} from ${namespaceOf(ing)}/${ing.metadata?.name ?? ''}: already served by ${owner}`);
        continue;
      }
      const location = locationFor(ctx, ing, httpPath.backend, path, pathType);
      if (existing) Object.assign(existing, location);
      else server.locations.push(location);
    }
  }
}

/** strconv.ParseBool of the canary annotation. */
function isCanary(ing: V1Ingress): boolean {
  return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes((annotationsOf(ing)[`${ANNOTATION_PREFIX}canary`] ?? '').trim());
}

/** An int annotation as ingress-nginx parses it, else the fallback. */
function intAnnotation(value: string | undefined, fallback: number): number {
  return value !== undefined && /^[+-]?\d+$/.test(value.trim()) ? Number(value.trim()) : fallback;
}

/** controller.mergeAlternativeBackends for every canary, oldest first: the canary becomes the alternative of its main location. */
function mergeCanaries(ctx: PlanContext, canaries: V1Ingress[], servers: Map<string, PlannedServer>): void {
  let id = 0;
  for (const ing of canaries) {
    const a = annotationsOf(ing);
    const text = (key: string): string | null => a[`${ANNOTATION_PREFIX}${key}`] || null;
    const weightTotal = intAnnotation(a[`${ANNOTATION_PREFIX}canary-weight-total`], 100);
    const total = weightTotal > 100 ? weightTotal : 100;
    const weight = Math.min(Math.max(intAnnotation(a[`${ANNOTATION_PREFIX}canary-weight`], 0), 0), total);
    for (const rule of ing.spec?.rules ?? []) {
      const server = servers.get(rule.host || CATCH_ALL);
      for (const httpPath of rule.http?.paths ?? []) {
        if (!server || !httpPath.backend.service) continue;
        const path = httpPath.path || ROOT;
        const pathType = httpPath.pathType === 'Exact' ? 'Exact' : 'Prefix';
        const main = server.locations.find((loc) => loc.ingressPath === path && loc.pathType === pathType && !loc.isDefBackend);
        const resolved = resolveBackend(ctx, namespaceOf(ing), httpPath.backend, a);
        const name = `${namespaceOf(ing)}/${ing.metadata?.name ?? ''}`;
        if (!main || main.upstreamName === resolved.upstreamName) {
          skip(ctx, `canary ${name} ${pathType} ${path} on ${rule.host || CATCH_ALL}: no main location to merge into`);
          continue;
        }
        // balancer.lua uses the first alternative backend only.
        if (main.canary) continue;
        main.canary = {
          id: ++id, ingress: { namespace: namespaceOf(ing), name: ing.metadata?.name ?? '' }, upstreamName: resolved.upstreamName,
          target: resolved.target, weight, total, header: text('canary-by-header'), headerValue: text('canary-by-header-value'),
          headerPattern: text('canary-by-header-pattern'), cookie: text('canary-by-cookie'),
        };
      }
    }
  }
}

function skip(ctx: PlanContext, line: string): void {
  ctx.skipped.push(line);
}

/**
 * Sorted longest path first (ties by path descending), then controller/location.go
 * updateServerLocations: a Prefix path other than "/" (outside regex) gets a trailing "/" and an
 * Exact twin, unless an Exact location of that path exists. Locations nginx would reject as
 * duplicates, or that cannot be written safely, are dropped.
 */
function expandPrefixLocations(ctx: PlanContext, server: PlannedServer): PlannedLocation[] {
  const sorted = [...server.locations].sort((a, b) => compareStrings(b.path, a.path));
  sorted.sort((a, b) => b.path.length - a.path.length);
  const exactPaths = new Set(sorted.filter((loc) => loc.pathType === 'Exact').map((loc) => loc.path));
  const expanded: PlannedLocation[] = [];
  for (const loc of sorted) {
    if (loc.path === ROOT || loc.pathType !== 'Prefix' || loc.useRegex) {
      expanded.push(loc);
      continue;
    }
    const normalized = loc.path.endsWith('/') ? loc.path : `${loc.path}/`;
    expanded.push({ ...loc, path: normalized });
    if (!exactPaths.has(loc.path)) expanded.push({ ...loc, pathType: 'Exact' });
  }
  return dropUnwritable(ctx, server, expanded);
}

function dropUnwritable(ctx: PlanContext, server: PlannedServer, locations: PlannedLocation[]): PlannedLocation[] {
  const regex = server.locations.some((loc) => loc.useRegex);
  const seen = new Set<string>();
  return locations.filter((loc) => {
    const key = locationKey(loc, regex);
    if (!(regex ? SAFE_REGEX_PATH : SAFE_PATH).test(loc.path)) {
      skip(ctx, `${loc.pathType} ${loc.ingressPath} on ${server.hostname}: not a path nginx.conf can carry`);
      return false;
    }
    if (seen.has(key)) {
      skip(ctx, `location ${key} on ${server.hostname} from ${loc.ingress?.namespace}/${loc.ingress?.name}: duplicate after normalisation`);
      return false;
    }
    seen.add(key);
    return true;
  });
}

/** The `location` arguments (template.go buildLocation). */
function locationKey(loc: PlannedLocation, enforceRegex: boolean): string {
  if (enforceRegex) return `~* "^${loc.path}"`;
  return loc.pathType === 'Exact' ? `= ${loc.path}` : loc.path;
}

// ---------------------------------------------------------------------------------------------
// Backends: Service + port + EndpointSlices -> an upstream, an ExternalName, or nothing (503).

interface ResolvedBackend {
  upstreamName: string;
  service: { name: string; port: string } | null;
  target: LocationTarget;
}

function resolveBackend(ctx: PlanContext, namespace: string, backend: V1IngressBackend, annotations: Readonly<Record<string, string>>): ResolvedBackend {
  const ref = backend.service;
  if (!ref) return { upstreamName: '-', service: null, target: { kind: 'unavailable', reason: 'resource backends are not served' } };
  const portKey = ref.port?.number !== undefined ? String(ref.port.number) : (ref.port?.name ?? '');
  const upstreamName = `${namespace}-${ref.name}-${portKey}`;
  const service = { name: ref.name, port: portKey };
  const svc = ctx.input.services.find((s) => s.metadata?.name === ref.name && (s.metadata?.namespace ?? 'default') === namespace);
  if (!svc) return { upstreamName, service, target: unavailable(`Service ${namespace}/${ref.name} not found`) };
  const port = (svc.spec?.ports ?? []).find((p) => servicePortMatches(p, portKey));
  if (svc.spec?.type === 'ExternalName') {
    const target = externalTarget(ctx, svc, port, ref.port?.number);
    return { upstreamName, service, target: Array.isArray(target) ? upstreamTarget(ctx, upstreamName, target) : target };
  }
  if (!port) return { upstreamName, service, target: unavailable(`Service ${namespace}/${ref.name} has no port ${portKey}`) };
  const serviceUpstream = annotations[`${ANNOTATION_PREFIX}service-upstream`] === 'true';
  const servers = serviceUpstream ? clusterIpServer(svc, port) : readyEndpoints(ctx.input.endpointSlices, namespace, ref.name, port);
  if (servers.length === 0) {
    const why = serviceUpstream ? 'has no loopback ClusterIP' : `has no ready endpoint for port ${portKey}`;
    return { upstreamName, service, target: unavailable(`Service ${namespace}/${ref.name} ${why}`) };
  }
  return { upstreamName, service, target: upstreamTarget(ctx, upstreamName, servers) };
}

function upstreamTarget(ctx: PlanContext, name: string, servers: string[]): LocationTarget {
  // ingress-nginx builds one upstream per name; the first Ingress to use it decides its servers.
  if (!ctx.upstreams.has(name)) ctx.upstreams.set(name, { name, servers });
  return { kind: 'upstream', upstream: name };
}

function unavailable(reason: string): LocationTarget {
  return { kind: 'unavailable', reason };
}

/** controller.serviceEndpoints: the backend port names the Service port by number, name or targetPort. */
function servicePortMatches(port: V1ServicePort, key: string): boolean {
  return String(port.port) === key || (port.name ?? '') === key || (port.targetPort !== undefined && String(port.targetPort) === key);
}

function clusterIpServer(svc: V1Service, port: V1ServicePort): string[] {
  const ip = svc.spec?.clusterIP ?? '';
  return isLoopback(ip) ? [`${ip}:${port.port}`] : [];
}

/**
 * An ExternalName: an IP address is used as is (loopback only); a name is resolved at request
 * time by the lab DNS, or answered 503 when no resolver is configured.
 */
function externalTarget(ctx: PlanContext, svc: V1Service, port: V1ServicePort | undefined, backendNumber: number | undefined): LocationTarget | string[] {
  const host = svc.spec?.externalName ?? '';
  const target = port && typeof port.targetPort === 'number' && port.targetPort > 0 ? port.targetPort : (port?.port ?? backendNumber);
  if (target === undefined) return unavailable(`ExternalName ${host} has no port to use`);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return isLoopback(host) ? [`${host}:${target}`] : unavailable(`ExternalName ${host} is not a loopback address`);
  if (!SAFE_HOST.test(host) || host.startsWith('*')) return unavailable(`ExternalName ${JSON.stringify(host)} is not a host name`);
  if (!ctx.resolverSet) return unavailable(`ExternalName ${host}: no resolver configured`);
  return { kind: 'external', host, port: target };
}

/**
 * controller/endpointslices.go getEndpointsFromSlices: the ready (or unconditioned) addresses of
 * the Service's slices, on the port whose name matches the Service port's name (any port when the
 * Service port is unnamed; the numeric targetPort when no name matches or the slice has no ports).
 */
export function readyEndpoints(slices: readonly V1EndpointSlice[], namespace: string, service: string, port: V1ServicePort): string[] {
  const found = new Set<string>();
  const protocol = port.protocol ?? 'TCP';
  for (const slice of slices) {
    if ((slice.metadata?.namespace ?? 'default') !== namespace || slice.metadata?.labels?.[SERVICE_NAME_LABEL] !== service) continue;
    if (slice.addressType !== 'IPv4') continue;
    const ports = slicePorts(slice, port, protocol);
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue;
      for (const address of endpoint.addresses ?? []) {
        // The lab never sends traffic off loopback, whatever an object says.
        if (!isLoopback(address)) continue;
        for (const p of ports) found.add(`${address}:${p}`);
      }
    }
  }
  return [...found].sort(compareEndpoints);
}

function slicePorts(slice: V1EndpointSlice, port: V1ServicePort, protocol: string): number[] {
  const numericTarget = typeof port.targetPort === 'number' ? port.targetPort : 0;
  const declared = slice.ports ?? [];
  if (declared.length === 0) return numericTarget > 0 ? [numericTarget] : [];
  const ports: number[] = [];
  for (const epPort of declared) {
    if ((epPort.protocol ?? 'TCP') !== protocol) continue;
    let target = 0;
    if (!port.name || port.name === epPort.name) target = epPort.port ?? 0;
    // ingress-nginx#7390: fall back to a numeric targetPort when no port name matched.
    if (target === 0) target = numericTarget;
    if (target > 0) ports.push(target);
  }
  return ports;
}

function compareEndpoints(a: string, b: string): number {
  const key = (s: string): number[] => s.split(/[.:]/).map(Number);
  const [ka, kb] = [key(a), key(b)];
  for (let i = 0; i < Math.max(ka.length, kb.length); i++) {
    const d = (ka[i] ?? 0) - (kb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Rendering: plan -> nginx.conf text.

const LOG_FORMAT_UPSTREAM =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" ' +
  '$request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr ' +
  '$upstream_response_length $upstream_response_time $upstream_status $req_id';

/** Writes the plan out as nginx.conf. */
export function renderPlan(plan: NginxPlan, options: NginxConfigOptions): string {
  const lines = [
    '# Rendered by hopwatch lab (test/lab/nginx-config.ts) the way ingress-nginx renders nginx.conf.',
    ...renderMain(options),
    'http {',
    ...indent(renderHttpSettings(options)),
    ...indent(plan.skipped.map((line) => `# skipped: ${line.replace(/[\r\n]/g, ' ')}`)),
    ...indent(plan.upstreams.flatMap((upstream) => renderUpstream(upstream, options))),
    ...indent(renderCanaryMaps(plan)),
    ...indent(plan.servers.flatMap((server) => renderServer(server, options))),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

function indent(lines: string[]): string[] {
  return lines.map((line) => (line === '' ? line : `    ${line}`));
}

function renderMain(options: NginxConfigOptions): string[] {
  const paths = nginxPaths(options.dir);
  const user = options.workerUser ?? null;
  return [
    ...(user === null ? [] : [`user ${user};`]),
    'daemon off;',
    'master_process on;',
    `worker_processes ${options.workerProcesses ?? 1};`,
    `pid ${paths.pid};`,
    `lock_file ${paths.lock};`,
    `error_log ${paths.errorLog} notice;`,
    // Old workers finish in-flight requests after a reload for at most this long (ingress-nginx: 240s).
    `worker_shutdown_timeout ${duration(options.workerShutdownTimeoutMs ?? 10_000)};`,
    'events {',
    '    multi_accept on;',
    // ingress-nginx uses 16384; fewer keeps many lab instances light and changes nothing on the wire.
    '    worker_connections 4096;',
    '    use epoll;',
    '}',
  ];
}

function renderHttpSettings(options: NginxConfigOptions): string[] {
  const paths = nginxPaths(options.dir);
  return [
    'default_type text/html;',
    'tcp_nopush on;',
    'tcp_nodelay on;',
    'log_subrequest on;',
    'reset_timedout_connection on;',
    ...(options.sourceAddress ? [`proxy_bind ${options.sourceAddress};`] : []),
    'keepalive_timeout 75s;',
    'keepalive_requests 1000;',
    ...renderTempPaths(paths),
    'client_header_buffer_size 1k;',
    'client_header_timeout 60s;',
    'large_client_header_buffers 4 8k;',
    'client_body_buffer_size 8k;',
    'client_body_timeout 60s;',
    'types_hash_max_size 2048;',
    'server_names_hash_max_size 1024;',
    'server_names_hash_bucket_size 64;',
    'map_hash_bucket_size 64;',
    'proxy_headers_hash_max_size 512;',
    'proxy_headers_hash_bucket_size 64;',
    'variables_hash_bucket_size 256;',
    'variables_hash_max_size 2048;',
    'underscores_in_headers off;',
    'ignore_invalid_headers on;',
    'limit_req_status 503;',
    'limit_conn_status 503;',
    // ingress-nginx also clears the Server header (headers-more), which nginx-light cannot.
    'server_tokens off;',
    'uninitialized_variable_warn off;',
    'server_name_in_redirect off;',
    'port_in_redirect off;',
    `log_format upstreaminfo '${LOG_FORMAT_UPSTREAM}';`,
    `access_log ${paths.accessLog} upstreaminfo;`,
    `error_log ${paths.errorLog} notice;`,
    ...renderMaps(),
  ];
}

/** Every temp path inside the prefix: the compiled-in /var/lib/nginx ones are not writable for a non-root lab. */
function renderTempPaths(paths: NginxPaths): string[] {
  return [
    `client_body_temp_path ${paths.clientBodyTemp};`,
    `proxy_temp_path ${paths.proxyTemp};`,
    `fastcgi_temp_path ${paths.fastcgiTemp};`,
    `uwsgi_temp_path ${paths.uwsgiTemp};`,
    `scgi_temp_path ${paths.scgiTemp};`,
  ];
}

function renderMaps(): string[] {
  return [
    // Upstream keep-alive needs "Connection: ''" unless the client asks for an upgrade.
    'map $http_upgrade $connection_upgrade {',
    '    default upgrade;',
    "    '' '';",
    '}',
    "map '' $pass_access_scheme {",
    '    default $scheme;',
    '}',
    "map '' $pass_server_port {",
    '    default $server_port;',
    '}',
    'map $http_host $best_http_host {',
    '    default $http_host;',
    "    '' $host;",
    '}',
    // ingress-nginx also maps its HTTPS port to 443 here; the lab has no HTTPS listener.
    'map $pass_server_port $pass_port {',
    '    default $pass_server_port;',
    '}',
    'map $http_x_request_id $req_id {',
    '    default $http_x_request_id;',
    '    "" $request_id;',
    '}',
  ];
}

function renderUpstream(upstream: PlannedUpstream, options: NginxConfigOptions): string[] {
  return [
    `upstream ${upstream.name} {`,
    // The Lua balancer never marks a peer down; max_fails=0 keeps nginx from doing it either.
    ...upstream.servers.map((server) => `    server ${server} max_fails=0;`),
    '    keepalive 320;',
    '    keepalive_time 1h;',
    `    keepalive_timeout ${duration(options.upstreamKeepaliveTimeoutMs ?? 60_000)};`,
    '    keepalive_requests 10000;',
    '}',
  ];
}

function renderServer(server: PlannedServer, options: NginxConfigOptions): string[] {
  const catchAll = server.hostname === CATCH_ALL;
  const enforceRegex = server.locations.some((loc) => loc.useRegex || rewriteTargetOf(loc) !== null);
  const healthz = catchAll && !server.locations.some((loc) => loc.path === '/healthz') ? renderHealthz() : [];
  return [
    `## start server ${server.hostname}`,
    'server {',
    `    server_name ${server.hostname} ;`,
    `    listen ${options.listen.address}:${options.listen.port}${catchAll ? ' default_server' : ''};`,
    '    set $proxy_upstream_name "-";',
    '    set $proxy_alternative_upstream_name "";',
    ...indent(server.locations.flatMap((loc) => renderLocation(loc, enforceRegex, options))),
    ...indent(healthz),
    '}',
    `## end server ${server.hostname}`,
  ];
}

function renderHealthz(): string[] {
  // Cloud health checks use the HTTP port: ingress-nginx serves /healthz on the catch-all server.
  return ['location /healthz {', '    access_log off;', '    return 200;', '}'];
}

function renderLocation(loc: PlannedLocation, enforceRegex: boolean, options: NginxConfigOptions): string[] {
  return [`location ${locationKey(loc, enforceRegex)} {`, ...indent([...renderLocationVariables(loc), ...renderLocationBody(loc, options)]), '}'];
}

function renderLocationVariables(loc: PlannedLocation): string[] {
  return [
    `set $namespace "${loc.ingress?.namespace ?? ''}";`,
    `set $ingress_name "${loc.ingress?.name ?? ''}";`,
    `set $service_name "${loc.service?.name ?? ''}";`,
    `set $service_port "${loc.service?.port ?? ''}";`,
    `set $location_path "${loc.ingressPath}";`,
    `set $proxy_upstream_name "${loc.upstreamName}";`,
  ];
}

function renderLocationBody(loc: PlannedLocation, options: NginxConfigOptions): string[] {
  const target = loc.target;
  switch (target.kind) {
    case 'default-backend':
      return ['# ingress-nginx default backend (no default-backend Service): its internal server returns 404.', 'return 404;'];
    case 'unavailable':
      return [`# ${target.reason.replace(/[\r\n]/g, ' ')}: ingress-nginx's balancer answers 503.`, 'return 503;'];
    case 'upstream':
      return splits(loc) ? [`set $proxy_alternative_upstream_name $canary_alternative_${loc.canary?.id ?? 0};`, ...renderProxy(loc, `$canary_upstream_${loc.canary?.id ?? 0}`, options)] : renderProxy(loc, target.upstream, options);
    case 'external':
      return [
        `resolver ${options.resolver ?? ''} ipv6=off valid=1s;`,
        `resolver_timeout ${duration(settingsFor(loc, options).timeouts.connectMs)};`,
        `set $external_name_upstream "${target.host}:${target.port}";`,
        ...renderProxy(loc, '$external_name_upstream', options),
      ];
  }
}

/** True when the location splits traffic: both its own and its canary's upstream have endpoints (balancer.lua has balancers for both). */
function splits(loc: PlannedLocation): boolean {
  return loc.target.kind === 'upstream' && loc.canary?.target.kind === 'upstream';
}

/** A header name as an nginx variable suffix ($http_x_canary), null when it has other characters. */
function headerVariable(name: string): string | null {
  return /^[A-Za-z0-9_-]+$/.test(name) ? name.toLowerCase().replace(/-/g, '_') : null;
}

/** A value safe inside double quotes in nginx.conf. */
function quoted(value: string): string | null {
  return /^[^"\\$\r\n{};]*$/.test(value) ? `"${value}"` : null;
}

/**
 * balancer.lua route_to_alternative_balancer as maps, per merged canary: the header's decision
 * (1 canary, 0 main, - none), then the cookie's, then the weight's (split_clients over $request_id);
 * the first decision wins. $canary_upstream_N is the upstream the location proxies to.
 */
function renderCanaryMaps(plan: NginxPlan): string[] {
  const seen = new Set<number>();
  const lines: string[] = [];
  for (const loc of plan.servers.flatMap((s) => s.locations)) {
    const canary = loc.canary;
    if (!canary || !splits(loc) || seen.has(canary.id) || canary.target.kind !== 'upstream' || loc.target.kind !== 'upstream') continue;
    seen.add(canary.id);
    const n = canary.id;
    lines.push(`# canary ${canary.ingress.namespace}/${canary.ingress.name} of ${loc.ingress?.namespace}/${loc.ingress?.name} ${loc.ingressPath}`);
    lines.push(...headerMap(canary), ...cookieMap(canary), ...weightSplit(canary));
    lines.push(
      `map "$canary_h_${n}:$canary_c_${n}:$canary_w_${n}" $canary_${n} {`, '    ~^1: 1;', '    ~^0: 0;', '    ~^-:1: 1;', '    ~^-:0: 0;', '    ~^-:-:1$ 1;', '    default 0;', '}',
      `map $canary_${n} $canary_upstream_${n} {`, `    1 ${canary.target.upstream};`, `    default ${loc.target.upstream};`, '}',
      `map $canary_${n} $canary_alternative_${n} {`, `    1 ${canary.upstreamName};`, '    default "";', '}',
    );
  }
  return lines;
}

function headerMap(canary: PlannedCanary): string[] {
  const variable = canary.header === null ? null : headerVariable(canary.header);
  const name = `$canary_h_${canary.id}`;
  if (variable === null) return [`map "" ${name} {`, '    default "-";', '}'];
  const value = canary.headerValue === null ? null : quoted(canary.headerValue);
  const pattern = canary.headerPattern === null ? null : quoted(canary.headerPattern);
  // A value: exact match; else a pattern: regex; else always/never. Any other value decides nothing.
  const rules = canary.headerValue !== null
    ? (value === null ? [] : [`    ${value} 1;`])
    : canary.headerPattern !== null
      ? (pattern === null ? [] : [`    ~${pattern} 1;`])
      : ['    always 1;', '    never 0;'];
  return [`map $http_${variable} ${name} {`, '    default "-";', ...rules, '}'];
}

function cookieMap(canary: PlannedCanary): string[] {
  const variable = canary.cookie === null ? null : headerVariable(canary.cookie);
  const name = `$canary_c_${canary.id}`;
  if (variable === null) return [`map "" ${name} {`, '    default "-";', '}'];
  return [`map $cookie_${variable} ${name} {`, '    default "-";', '    always 1;', '    never 0;', '}'];
}

/** math.random(total) <= weight as a split over the request id: weight/total of the requests. */
function weightSplit(canary: PlannedCanary): string[] {
  const name = `$canary_w_${canary.id}`;
  if (canary.weight <= 0) return [`map "" ${name} {`, '    default 0;', '}'];
  if (canary.weight >= canary.total) return [`map "" ${name} {`, '    default 1;', '}'];
  const percent = Math.round((canary.weight / canary.total) * 10_000) / 100;
  return [`split_clients "$request_id" ${name} {`, `    ${percent}% 1;`, '    * 0;', '}'];
}

/** What a location's annotations (or the defaults) make of it. */
interface LocationSettings {
  timeouts: ProxyTimeouts;
  bufferSize: string;
  protocol: BackendProtocol;
}

function settingsFor(loc: PlannedLocation, options: NginxConfigOptions): LocationSettings {
  const defaults = effectiveTimeouts(options);
  const a = loc.annotations;
  const protocol = (a[`${ANNOTATION_PREFIX}backend-protocol`] ?? 'HTTP').toUpperCase();
  const buffer = a[`${ANNOTATION_PREFIX}proxy-buffer-size`];
  return {
    timeouts: {
      connectMs: secondsAnnotation(a[`${ANNOTATION_PREFIX}proxy-connect-timeout`]) ?? defaults.connectMs,
      readMs: secondsAnnotation(a[`${ANNOTATION_PREFIX}proxy-read-timeout`]) ?? defaults.readMs,
      sendMs: secondsAnnotation(a[`${ANNOTATION_PREFIX}proxy-send-timeout`]) ?? defaults.sendMs,
    },
    bufferSize: buffer !== undefined && SIZE.test(buffer) ? buffer : (options.proxyBufferSize ?? INGRESS_NGINX_BUFFER_SIZE),
    protocol: BACKEND_PROTOCOLS.find((known) => known === protocol) ?? 'HTTP',
  };
}

/** An annotation of whole seconds as ms; anything else falls back to the default, as ingress-nginx does. */
function secondsAnnotation(value: string | undefined): number | null {
  if (value === undefined || !/^\d+$/.test(value.trim())) return null;
  const seconds = Number(value.trim());
  return seconds > 0 ? seconds * 1000 : null;
}

/** The location's rewrite-target when it is set and safe to write into nginx.conf, else null. */
function rewriteTargetOf(loc: PlannedLocation): string | null {
  const target = loc.annotations[`${ANNOTATION_PREFIX}rewrite-target`];
  return target !== undefined && /^[A-Za-z0-9/_.$-]+$/.test(target) ? target : null;
}

function renderProxy(loc: PlannedLocation, upstream: string, options: NginxConfigOptions): string[] {
  const s = settingsFor(loc, options);
  const grpc = s.protocol === 'GRPC' || s.protocol === 'GRPCS';
  const rewrite = rewriteTargetOf(loc);
  return [
    ...(rewrite === null ? [] : [`rewrite "(?i)${loc.path}" ${rewrite} break;`]),
    'client_max_body_size 1m;',
    ...renderProxyHeaders(grpc ? 'grpc_set_header' : 'proxy_set_header'),
    `proxy_connect_timeout ${duration(s.timeouts.connectMs)};`,
    `proxy_send_timeout ${duration(s.timeouts.sendMs)};`,
    `proxy_read_timeout ${duration(s.timeouts.readMs)};`,
    ...(grpc ? renderGrpcTimeouts(s.timeouts) : []),
    'proxy_buffering off;',
    `proxy_buffer_size ${s.bufferSize};`,
    `proxy_buffers 4 ${s.bufferSize};`,
    'proxy_max_temp_file_size 1024m;',
    'proxy_request_buffering on;',
    'proxy_http_version 1.1;',
    'proxy_cookie_domain off;',
    'proxy_cookie_path off;',
    // In case of errors try the next upstream server before returning an error.
    'proxy_next_upstream error timeout;',
    'proxy_next_upstream_timeout 0;',
    'proxy_next_upstream_tries 3;',
    renderPass(s.protocol, upstream),
    'proxy_redirect off;',
  ];
}

function renderGrpcTimeouts(timeouts: ProxyTimeouts): string[] {
  return [
    `grpc_connect_timeout ${duration(timeouts.connectMs)};`,
    `grpc_send_timeout ${duration(timeouts.sendMs)};`,
    `grpc_read_timeout ${duration(timeouts.readMs)};`,
  ];
}

/** template.go buildProxyPass. */
function renderPass(protocol: BackendProtocol, upstream: string): string {
  switch (protocol) {
    case 'HTTP':
      return `proxy_pass http://${upstream};`;
    case 'HTTPS':
      return `proxy_pass https://${upstream};`;
    case 'AUTO_HTTP':
      return `proxy_pass $scheme://${upstream};`;
    case 'GRPC':
      return `grpc_pass grpc://${upstream};`;
    case 'GRPCS':
      return `grpc_pass grpcs://${upstream};`;
  }
}

function renderProxyHeaders(directive: string): string[] {
  return [
    `${directive} Host $best_http_host;`,
    // Allow websocket connections.
    `${directive} Upgrade $http_upgrade;`,
    `${directive} Connection $connection_upgrade;`,
    `${directive} X-Request-ID $req_id;`,
    `${directive} X-Real-IP $remote_addr;`,
    `${directive} X-Forwarded-For $remote_addr;`,
    `${directive} X-Forwarded-Host $best_http_host;`,
    `${directive} X-Forwarded-Port $pass_port;`,
    `${directive} X-Forwarded-Proto $pass_access_scheme;`,
    `${directive} X-Forwarded-Scheme $pass_access_scheme;`,
    `${directive} X-Scheme $pass_access_scheme;`,
    `${directive} X-Original-Forwarded-For $http_x_forwarded_for;`,
    // Mitigate the HTTPoxy vulnerability.
    `${directive} Proxy "";`,
  ];
}

/** An nginx time: whole seconds as "Ns", anything else as "Nms". */
function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
