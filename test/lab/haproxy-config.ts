// Pure: haproxy.cfg for the lab's second ingress controller, rendered from the same Kubernetes
// objects as the nginx one, for its own IngressClass, the way the HAProxy Kubernetes Ingress
// Controller (haproxytech/kubernetes-ingress) would serve them.
//
// What follows the HAProxy Kubernetes Ingress Controller, and where it comes from:
// - Defaults (pkg/haproxy/env/defaults.go SetDefaults): mode http, http-keep-alive, timeout
//   http-request 5s, connect 5s, client 50s, queue 5s, server 50s, tunnel 1h, http-keep-alive 1m;
//   the lab passes shorter connect and server timeouts, as it does for nginx.
// - One frontend; the route is chosen by Host (port stripped, lower case) and path; one backend per
//   Service port whose servers are the ready endpoints (the controller reads EndpointSlices); a
//   backend without servers answers HAProxy's own 503 "No server is available to handle this
//   request." (the IC keeps disabled placeholder servers; the answer is the same).
// - HAProxy's own buffer: tune.bufsize 16384 with tune.maxrewrite 1024 (HAProxy 2.6 defaults, written
//   out): a response header block that does not fit is a 502.
// - Idle server connections are reused (http-reuse safe, the default) and purged every
//   pool-purge-delay (default 5s; the lab shortens it like nginx's upstream keep-alive).
// - Annotations honoured per backend: haproxy.org/timeout-server, haproxy.org/server-ssl ("true":
//   TLS to the pods, unverified), haproxy.org/server-proto ("h2").
//
// Where the lab differs, and why:
// - Which Ingress paths win, default backends and Prefix semantics come from the nginx planner
//   (planNginx): the lab needs one reading of the objects, and both controllers agree on these for
//   the Ingresses the tests use. Hosts and paths nginx.conf cannot carry are skipped the same way.
// - No health checks (the IC adds `check` by default): a server marked down would turn a 502 into
//   a 503 after some seconds; without checks each answer depends only on the staged fault.
// - ExternalName backends (the IC resolves them with a resolvers section) answer 503.
// - The default backend (no default-backend Service) answers an empty 404, where the IC runs its
//   own small HTTP server for it.
// - Safety: only loopback addresses are rendered as servers, bind and source addresses.

import { isLoopback } from './addresses.js';
import {
  type NginxConfigInput,
  type PlannedLocation,
  type PlannedServer,
  planNginx,
  type ProxyTimeouts,
} from './nginx-config.js';

/** A bug or bad configuration of the lab's HAProxy controller (bad options, haproxy refusing a config, a dead process). */
export class LabHaproxyError extends Error {
  /** Stable error code: LAB_BAD_ADDRESS, LAB_BAD_OPTION, LAB_HAPROXY_CONFIG, LAB_HAPROXY_START, LAB_HAPROXY_RELOAD, LAB_HAPROXY_STOPPED. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabHaproxyError';
    this.code = code;
  }
}

/** The annotation prefix the HAProxy Kubernetes Ingress Controller reads. */
export const HAPROXY_ANNOTATION_PREFIX = 'haproxy.org/';
/** HAProxy's default tune.bufsize. */
export const HAPROXY_BUFSIZE = 16_384;
/** HAProxy's default tune.maxrewrite. */
export const HAPROXY_MAXREWRITE = 1024;
/** The IC's default server timeout (timeout server 50s). */
export const HAPROXY_IC_TIMEOUTS: Readonly<ProxyTimeouts> = Object.freeze({ connectMs: 5000, readMs: 50_000, sendMs: 50_000 });

/** How the instance runs and the controller-wide settings. */
export interface HaproxyConfigOptions {
  /** The address and port the controller pod serves HTTP on (loopback). */
  listen: { address: string; port: number };
  /** Connect and server timeouts; default the IC's (5s / 50s). */
  timeouts?: Partial<ProxyTimeouts>;
  /** pool-purge-delay of idle server connections in ms; default 5000. */
  poolPurgeDelayMs?: number;
  /** The controller pod's own IP: upstream connections leave from it (`source`), so NetworkPolicy sees the controller. */
  sourceAddress?: string | null;
  /** hard-stop-after in ms: how long an old process may finish connections after a reload; default 2000. */
  hardStopAfterMs?: number;
}

/** One `use_backend` rule, in match order. */
export interface HaproxyRule {
  /** The backend. */
  backend: string;
  /** ACL conditions, all required (empty: always). */
  conditions: string[];
}

/** One backend. */
export interface HaproxyBackend {
  /** Backend name. */
  name: string;
  /** "ip:port" of each server. */
  servers: string[];
  /** Per-backend settings from the annotations. */
  serverTimeoutMs: number | null;
  /** TLS to the servers (haproxy.org/server-ssl). */
  ssl: boolean;
  /** HTTP/2 to the servers (haproxy.org/server-proto: h2). */
  h2: boolean;
}

/** Everything the config says, before it is written out. */
export interface HaproxyPlan {
  /** Rules, first match wins. */
  rules: HaproxyRule[];
  /** Backends, sorted by name. */
  backends: HaproxyBackend[];
  /** Ingress rules, paths or backends left out, one line each. */
  skipped: string[];
}

/** The backend of the default backend (404). */
export const DEFAULT_BACKEND = 'lab_default_backend';
/** A backend without servers: HAProxy's own 503. */
export const NO_SERVER_BACKEND = 'lab_no_server';

/** Renders haproxy.cfg for the controller serving `input.ingressClass`. */
export function renderHaproxyConfig(input: NginxConfigInput, options: HaproxyConfigOptions): string {
  validateOptions(options);
  return renderPlan(planHaproxy(input), options);
}

function validateOptions(options: HaproxyConfigOptions): void {
  if (!isLoopback(options.listen.address)) throw new LabHaproxyError('LAB_BAD_ADDRESS', `haproxy may only listen on loopback, got ${options.listen.address}`);
  if (!Number.isInteger(options.listen.port) || options.listen.port < 1 || options.listen.port > 65535) {
    throw new LabHaproxyError('LAB_BAD_OPTION', `listen port must be 1..65535, got ${options.listen.port}`);
  }
  if (options.sourceAddress && !isLoopback(options.sourceAddress)) throw new LabHaproxyError('LAB_BAD_ADDRESS', `source must be a loopback address, got ${options.sourceAddress}`);
  const times = { ...options.timeouts, poolPurgeDelayMs: options.poolPurgeDelayMs, hardStopAfterMs: options.hardStopAfterMs };
  for (const [name, ms] of Object.entries(times)) {
    if (ms !== undefined && (!Number.isInteger(ms) || ms <= 0)) throw new LabHaproxyError('LAB_BAD_OPTION', `${name} must be a positive integer of ms, got ${ms}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Planning: the nginx planner's servers and locations -> rules and backends.

/** Rules and backends for the objects, in HAProxy's first-match order. */
export function planHaproxy(input: NginxConfigInput): HaproxyPlan {
  const nginx = planNginx(input);
  const serversByUpstream = new Map(nginx.upstreams.map((u) => [u.name, u.servers.filter((s) => isLoopback(s.split(':')[0] ?? ''))]));
  const backends = new Map<string, HaproxyBackend>();
  const rules: HaproxyRule[] = [];
  for (const server of orderServers(nginx.servers)) {
    for (const loc of server.locations) {
      const backend = backendFor(loc, serversByUpstream, backends);
      rules.push({ backend, conditions: [...hostConditions(server.hostname), ...pathConditions(loc)] });
    }
  }
  return { rules, backends: [...backends.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), skipped: nginx.skipped };
}

/** Exact hosts first, then wildcards, the catch-all server last: HAProxy takes the first match. */
function orderServers(servers: readonly PlannedServer[]): PlannedServer[] {
  const rank = (s: PlannedServer): number => (s.hostname === '_' ? 2 : s.hostname.startsWith('*.') ? 1 : 0);
  return [...servers].sort((a, b) => rank(a) - rank(b));
}

function hostConditions(hostname: string): string[] {
  if (hostname === '_') return [];
  if (hostname.startsWith('*.')) return [`{ var(txn.host) -m reg ^[^.]+${hostname.slice(1).replace(/\./g, '\\.')}$ }`];
  return [`{ var(txn.host) -m str ${hostname} }`];
}

function pathConditions(loc: PlannedLocation): string[] {
  if (loc.useRegex) return [`{ path -m reg -i ^${loc.path} }`];
  if (loc.pathType === 'Exact') return [`{ path -m str ${loc.path} }`];
  return loc.path === '/' ? [] : [`{ path -m beg ${loc.path} }`];
}

function backendFor(loc: PlannedLocation, serversByUpstream: Map<string, string[]>, backends: Map<string, HaproxyBackend>): string {
  const target = loc.target;
  if (target.kind === 'default-backend') return DEFAULT_BACKEND;
  if (target.kind !== 'upstream') return NO_SERVER_BACKEND;
  const name = target.upstream.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (!backends.has(name)) {
    const a = loc.annotations;
    const timeout = a[`${HAPROXY_ANNOTATION_PREFIX}timeout-server`];
    backends.set(name, {
      name,
      servers: serversByUpstream.get(target.upstream) ?? [],
      serverTimeoutMs: timeout === undefined ? null : haproxyTimeMs(timeout),
      ssl: a[`${HAPROXY_ANNOTATION_PREFIX}server-ssl`] === 'true',
      h2: a[`${HAPROXY_ANNOTATION_PREFIX}server-proto`] === 'h2',
    });
  }
  return name;
}

/** An HAProxy time (ms without a unit); null when it does not parse, as the IC ignores it. */
export function haproxyTimeMs(value: string): number | null {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value.trim());
  if (match === null) return null;
  const factor: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const ms = Number(match[1]) * (factor[match[2] ?? 'ms'] ?? 1);
  return ms > 0 ? ms : null;
}

// ---------------------------------------------------------------------------------------------
// Rendering: plan -> haproxy.cfg text.

/** Writes the plan out as haproxy.cfg. */
export function renderPlan(plan: HaproxyPlan, options: HaproxyConfigOptions): string {
  const lines = [
    '# Rendered by hopwatch lab (test/lab/haproxy-config.ts) the way the HAProxy Kubernetes Ingress Controller serves Ingresses.',
    ...renderGlobal(options),
    ...renderDefaults(options),
    ...plan.skipped.map((line) => `# skipped: ${line.replace(/[\r\n]/g, ' ')}`),
    ...renderFrontend(plan, options),
    ...renderFixedBackends(),
    ...plan.backends.flatMap((backend) => renderBackend(backend, options)),
  ];
  return `${lines.join('\n')}\n`;
}

function renderGlobal(options: HaproxyConfigOptions): string[] {
  return [
    'global',
    '    maxconn 4096',
    // One thread keeps many lab instances light; nothing changes on the wire.
    '    nbthread 1',
    `    hard-stop-after ${ms(options.hardStopAfterMs ?? 2000)}`,
    `    tune.bufsize ${HAPROXY_BUFSIZE}`,
    `    tune.maxrewrite ${HAPROXY_MAXREWRITE}`,
    '',
  ];
}

function renderDefaults(options: HaproxyConfigOptions): string[] {
  const timeouts = { ...HAPROXY_IC_TIMEOUTS, ...options.timeouts };
  return [
    'defaults',
    '    mode http',
    '    option dontlognull',
    '    option http-keep-alive',
    '    http-reuse safe',
    '    retries 3',
    '    timeout http-request 5s',
    `    timeout connect ${ms(timeouts.connectMs)}`,
    '    timeout client 50s',
    '    timeout queue 5s',
    `    timeout server ${ms(timeouts.readMs)}`,
    '    timeout tunnel 1h',
    '    timeout http-keep-alive 1m',
    `    default-server pool-purge-delay ${ms(options.poolPurgeDelayMs ?? 5000)}`,
    '',
  ];
}

function renderFrontend(plan: HaproxyPlan, options: HaproxyConfigOptions): string[] {
  return [
    'frontend http',
    `    bind ${options.listen.address}:${options.listen.port}`,
    // The IC matches the Host header without its port, case-insensitively.
    '    http-request set-var(txn.host) req.hdr(host),field(1,:),lower',
    ...plan.rules.map((rule) => `    use_backend ${rule.backend}${rule.conditions.length > 0 ? ` if ${rule.conditions.join(' ')}` : ''}`),
    `    default_backend ${DEFAULT_BACKEND}`,
    '',
  ];
}

function renderFixedBackends(): string[] {
  return [`backend ${DEFAULT_BACKEND}`, '    http-request return status 404', '', `backend ${NO_SERVER_BACKEND}`, ''];
}

function renderBackend(backend: HaproxyBackend, options: HaproxyConfigOptions): string[] {
  const serverOptions = [...(backend.ssl ? ['ssl verify none'] : []), ...(backend.h2 ? ['proto h2'] : [])].join(' ');
  return [
    `backend ${backend.name}`,
    ...(options.sourceAddress ? [`    source ${options.sourceAddress}`] : []),
    ...(backend.serverTimeoutMs === null ? [] : [`    timeout server ${ms(backend.serverTimeoutMs)}`]),
    ...backend.servers.map((server, i) => `    server SRV_${i + 1} ${server}${serverOptions === '' ? '' : ` ${serverOptions}`}`),
    '',
  ];
}

/** An HAProxy time: "2s" for whole seconds, else "1500ms". */
function ms(value: number): string {
  return value % 1000 === 0 ? `${value / 1000}s` : `${value}ms`;
}
