// The shape of hopwatch's YAML configuration (zod 4): every field, its default and its
// check. zod gives the structure (sections, lists, unknown keys, defaults); each leaf is
// a small check function so every message says what was expected and what was found.
// Pure: takes a parsed YAML value, returns a Config or the list of problems.

import { isIP } from 'node:net';
import { z } from 'zod';
import { KNOWLEDGE } from '../classify/knowledge.js';
import type { ControllerKind, ControllerSettingsOverrides } from '../model.js';
import { LabelSelectorError, parseLabelSelector } from '../discovery/selectors.js';
import type { Config, ControllerConfig, GatewayConfig, Schedule } from './types.js';
import { DurationError, parseDuration } from './duration.js';
import { ScheduleError, parseSchedule, scheduleIntervalMs } from './schedule.js';

/** One thing wrong with a configuration: where (field path) and what. */
export interface ConfigProblem {
  /** Path of the field, e.g. ["controllers", 0, "pods", "httpPort"]; empty for the whole document. */
  path: (string | number)[];
  /** What was expected and what was found, without the path. */
  message: string;
}

/** The result of validating a parsed document. */
export type ValidationResult = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] };

/** Every controller kind, as in model.ts. */
export const CONTROLLER_KINDS: readonly ControllerKind[] = [
  'ingress-nginx', 'haproxy', 'traefik', 'contour', 'kong', 'envoy-gateway', 'nginx-gateway-fabric', 'istio', 'kgateway', 'cilium', 'generic',
];

/**
 * How each kind reaches backends unless told otherwise, from the controller knowledge table: the
 * known controllers all send to pod endpoints; an unknown (generic) one is assumed to go through
 * the Service, as cloud load-balancer controllers in instance/NodePort mode do.
 */
export const DEFAULT_UPSTREAM: Readonly<Record<ControllerKind, ControllerConfig['upstream']>> = Object.fromEntries(
  CONTROLLER_KINDS.map((kind) => [kind, KNOWLEDGE[kind].upstream]),
) as Record<ControllerKind, ControllerConfig['upstream']>;

/** The default probe schedule text. */
export const DEFAULT_SCHEDULE = '30s';

/** Validates a parsed YAML document (null/undefined for an empty file) into a Config; `now` anchors cron periods. */
export function validateConfig(document: unknown, now: number): ValidationResult {
  const schema = configSchema(now);
  const result = schema.safeParse(document ?? {});
  if (result.success) return { ok: true, config: result.data };
  return { ok: false, problems: result.error.issues.flatMap((issue) => toProblems(schema, issue)) };
}

/** Renders a field path the way users write it: controllers[0].pods.httpPort. */
export function formatPath(path: readonly (string | number | symbol)[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'symbol') out += `[${String(segment)}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Describes a found value briefly: strings quoted, mappings and lists by kind. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a mapping';
  return String(value);
}

// ---------------------------------------------------------------------------
// Leaf checks: each returns the parsed value or a problem message.

/** The outcome of checking one leaf value; `at` points below the leaf (a list item, a map key). */
type Checked<T> = { ok: true; value: T } | { ok: false; problem: string; at?: (string | number)[] };

/** A leaf check. */
type Check<T> = (value: unknown) => Checked<T>;

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const bad = <T>(problem: string, at?: (string | number)[]): Checked<T> => (at === undefined ? { ok: false, problem } : { ok: false, problem, at });

/** Wraps a check as a zod schema whose failures carry the check's message. */
function leaf<T>(check: Check<T>) {
  return z.unknown().transform((value, ctx): T => {
    const checked = check(value);
    if (checked.ok) return checked.value;
    ctx.addIssue(checked.at === undefined ? { code: 'custom', message: checked.problem } : { code: 'custom', message: checked.problem, path: checked.at });
    return z.NEVER;
  });
}

/** A field that must be present. */
function required<T>(check: Check<T>, what: string): Check<T> {
  return (value) => (value === undefined ? bad(`is required: expected ${what}`) : check(value));
}

/** A field where null is a meaningful value ("use the default behaviour"). */
function nullable<T>(check: Check<T>): Check<T | null> {
  return (value) => (value === null ? ok(null) : check(value));
}

/** An integer in [min, max] (max optional). */
function integer(min: number, max?: number): Check<number> {
  return (value) => {
    const expected = max === undefined ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) return bad(`expected ${expected}, got ${describeValue(value)}`);
    if (max !== undefined && (value < min || value > max)) return bad(`expected ${expected}, got ${value}`);
    if (value < min) return bad(`must be at least ${min}, got ${value}`);
    return ok(value);
  };
}

/** Milliseconds: an integer, or a duration string ("5s", "1m30s"). */
function milliseconds(min: number): Check<number> {
  return (value) => {
    let ms: number;
    if (typeof value === 'number' && Number.isSafeInteger(value)) ms = value;
    else if (typeof value === 'string') {
      try {
        ms = parseDuration(value);
      } catch (error) {
        if (!(error instanceof DurationError)) throw error;
        return bad(`expected milliseconds or a duration like "5s", got ${describeValue(value)} (${error.reason})`);
      }
    } else return bad(`expected milliseconds (an integer) or a duration like "5s", got ${describeValue(value)}`);
    return ms < min ? bad(`must be at least ${min}, got ${describeValue(value)}`) : ok(ms);
  };
}

/** A size in bytes: an integer, or nginx-style "4k", "16K", "1m". */
function byteSize(min: number): Check<number> {
  return (value) => {
    const expected = 'bytes (an integer) or a size like "4k" or "1m"';
    let bytes: number | null = null;
    if (typeof value === 'number' && Number.isSafeInteger(value)) bytes = value;
    else if (typeof value === 'string') {
      const match = /^(\d+)([kKmM]?)$/.exec(value.trim());
      const unit = (match?.[2] ?? '').toLowerCase();
      if (match !== null) bytes = Number(match[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1);
    }
    if (bytes === null) return bad(`expected ${expected}, got ${describeValue(value)}`);
    return bytes < min ? bad(`must be at least ${min} bytes, got ${describeValue(value)}`) : ok(bytes);
  };
}

/** A non-empty string, optionally matching a pattern described by `what`. */
function text(what: string, pattern?: RegExp, maxLength = Infinity): Check<string> {
  return (value) => {
    if (typeof value !== 'string') return bad(`expected ${what}, got ${describeValue(value)}`);
    if (value.trim() === '') return bad(`expected ${what}, got an empty string`);
    if (value.length > maxLength || (pattern !== undefined && !pattern.test(value))) return bad(`expected ${what}, got ${describeValue(value)}`);
    return ok(value);
  };
}

/** One of a fixed set of strings, with a suggestion for a near miss. */
function oneOf<const T extends string>(values: readonly T[]): Check<T> {
  return (value) => {
    if (typeof value === 'string' && (values as readonly string[]).includes(value)) return ok(value as T);
    const hint = typeof value === 'string' ? suggest(value, values) : null;
    return bad(`expected one of ${values.join(', ')}, got ${describeValue(value)}${hint === null ? '' : ` (did you mean ${hint}?)`}`);
  };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A namespace name (DNS-1123 label). */
const namespaceName = text('a namespace name (lowercase letters, digits and "-", at most 63)', DNS_LABEL, 63);
/** An object name such as an IngressClass or Ingress (DNS-1123 subdomain). */
const objectName = (what: string) => text(`${what} (lowercase letters, digits, "-" and ".")`, DNS_SUBDOMAIN, 253);

/** An http(s) URL; with `originOnly`, nothing after host:port. Returns the origin for origins, the URL otherwise. */
function httpUrl(schemes: readonly ('http' | 'https')[], originOnly: boolean): Check<string> {
  const example = `${schemes[0]}://host${originOnly ? ':port' : '/path'}`;
  const expected = `${schemes.length > 1 ? 'an http or https' : `an ${schemes[0]}`} URL like ${example}`;
  return (value) => {
    if (typeof value !== 'string') return bad(`expected ${expected}, got ${describeValue(value)}`);
    let url: URL;
    try {
      url = new URL(value.trim());
    } catch {
      return bad(`expected ${expected}, got ${describeValue(value)}`);
    }
    const scheme = url.protocol.slice(0, -1);
    if (!(schemes as readonly string[]).includes(scheme)) return bad(`expected ${expected}, got ${describeValue(value)} (scheme ${scheme})`);
    if (url.username !== '' || url.password !== '') return bad(`expected ${expected} without credentials, got a URL with user info`);
    if (!originOnly) return ok(url.href);
    if (url.pathname !== '/' || url.search !== '' || url.hash !== '') return bad(`expected ${expected} with no path, got ${describeValue(value)}`);
    return ok(url.origin);
  };
}

/** A port number; `allowZero` for listen addresses (0 = any free port). */
function portIn(textPort: string, allowZero: boolean): number | null {
  if (!/^\d{1,5}$/.test(textPort)) return null;
  const port = Number(textPort);
  return port <= 65535 && (allowZero || port > 0) ? port : null;
}

/** Splits "host:port", "[v6]:port"; null when there is no port part. */
function splitHostPort(value: string): { host: string; port: string } | null {
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(value);
  if (bracketed !== null) return { host: bracketed[1] as string, port: bracketed[2] as string };
  const colon = value.lastIndexOf(':');
  if (colon < 0 || value.indexOf(':') !== colon) return null;
  return { host: value.slice(0, colon), port: value.slice(colon + 1) };
}

/** A DNS server: "ip" or "ip:port" ("[v6]:port" for IPv6 with a port). */
const dnsServer: Check<string> = (value) => {
  const expected = 'an IP address or ip:port like 10.96.0.10 or 127.0.0.1:5353';
  if (typeof value !== 'string') return bad(`expected ${expected}, got ${describeValue(value)}`);
  const trimmed = value.trim();
  if (isIP(trimmed) !== 0) return ok(trimmed);
  const parts = splitHostPort(trimmed);
  if (parts === null || isIP(parts.host) === 0 || portIn(parts.port, false) === null) return bad(`expected ${expected}, got ${describeValue(value)}`);
  return ok(trimmed);
};

/** A listen address "host:port": host an IP, "[v6]" or a name; port 0-65535. */
const listenAddress: Check<string> = (value) => {
  const expected = 'host:port like 127.0.0.1:8080 or 0.0.0.0:8080';
  if (typeof value !== 'string') return bad(`expected ${expected}, got ${describeValue(value)}`);
  const parts = splitHostPort(value.trim());
  const hostOk = parts !== null && (isIP(parts.host) !== 0 || (parts.host.length <= 253 && DNS_SUBDOMAIN.test(parts.host.toLowerCase())));
  if (parts === null || !hostOk || portIn(parts.port, true) === null) return bad(`expected ${expected}, got ${describeValue(value)}`);
  return ok(value.trim());
};

/**
 * A bearer token: visible ASCII without spaces, the only tokens a client can send in an
 * `Authorization: Bearer` header that the server reads back (src/server/server.ts bearerOf).
 * The message never repeats the value: it is a secret.
 */
const bearerToken: Check<string> = (value) => {
  const expected = 'a bearer token (visible ASCII characters, no spaces or line breaks)';
  if (typeof value !== 'string') return bad(`expected ${expected} as a string, got ${typeof value === 'object' ? describeValue(value) : `a ${typeof value} (quote it)`}`);
  if (!/^[\x21-\x7e]+$/.test(value)) return bad(`expected ${expected}, got ${value.trim() === '' ? 'an empty string' : 'a value with other characters'}`);
  return ok(value);
};

/** A non-empty Kubernetes label selector. */
const labelSelector: Check<string> = (value) => {
  const expected = 'a label selector like app.kubernetes.io/name=ingress-nginx';
  if (typeof value !== 'string' || value.trim() === '') return bad(`expected ${expected}, got ${describeValue(value)}`);
  try {
    parseLabelSelector(value);
  } catch (error) {
    if (!(error instanceof LabelSelectorError)) throw error;
    return bad(`expected ${expected}, got ${describeValue(value)} (${error.reason})`);
  }
  return ok(value.trim());
};

/** A schedule, via parseSchedule. */
const schedule: Check<Schedule> = (value) => {
  const expected = 'an interval (30s, every 1m) or a cron expression (*/5 * * * *)';
  if (typeof value !== 'string') return bad(`expected ${expected}, got ${describeValue(value)}`);
  try {
    return ok(parseSchedule(value));
  } catch (error) {
    if (!(error instanceof ScheduleError)) throw error;
    return bad(`expected ${expected}, got ${describeValue(value)} (${error.reason})`);
  }
};

/** A list of namespace names (at least one, duplicates dropped). */
const namespaceList: Check<string[]> = (value) => {
  if (!Array.isArray(value)) return bad(`expected a list of namespace names, got ${describeValue(value)}`);
  if (value.length === 0) return bad('expected at least one namespace (leave the field out to watch all)');
  for (const [i, item] of value.entries()) {
    const checked = namespaceName(item);
    if (!checked.ok) return bad(checked.problem, [i]);
  }
  return ok([...new Set(value as string[])]);
};

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Extra HTTP headers: a mapping of header name to string value. */
const headers: Check<Record<string, string>> = (value) => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return bad(`expected a mapping of header names to values, got ${describeValue(value)}`);
  const out: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(value)) {
    if (!HEADER_NAME.test(name)) return bad('not a valid HTTP header name', [name]);
    if (typeof headerValue !== 'string') return bad(`expected a string (quote it), got ${describeValue(headerValue)}`, [name]);
    if (/[\r\n\0]/.test(headerValue)) return bad('a header value must not contain line breaks', [name]);
    out[name] = headerValue;
  }
  return ok(out);
};

/** Labels hopwatch writes itself (and `le`, and Prometheus's own): a constant label must not shadow them. */
export const RESERVED_METRIC_LABELS: readonly string[] = ['namespace', 'ingress', 'kind', 'host', 'path', 'status', 'hop', 'cause', 'result', 'phase', 'le', 'quantile', 'reason', 'state', 'receiver', 'outcome', 'version', 'identity', 'job', 'instance'];

/** Constant metric labels: Prometheus label names (not reserved, not hopwatch's own), non-empty string values. */
const metricLabels: Check<Record<string, string>> = (value) => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return bad(`expected a mapping of label names to values such as { cluster: prod-eu }, got ${describeValue(value)}`);
  const out: Record<string, string> = {};
  for (const [name, labelValue] of Object.entries(value)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) || name.startsWith('__')) return bad('not a Prometheus label name (letters, digits and "_", not starting with a digit or "__")', [name]);
    if (RESERVED_METRIC_LABELS.includes(name)) return bad(`hopwatch's series already carry a "${name}" label (or Prometheus sets it): choose another name, e.g. cluster`, [name]);
    if (typeof labelValue !== 'string') return bad(`expected a string (quote it), got ${describeValue(labelValue)}`, [name]);
    if (labelValue.trim() === '' || labelValue.length > 128) return bad(`expected a non-empty value of at most 128 characters, got ${describeValue(labelValue)}`, [name]);
    out[name] = labelValue;
  }
  return ok(out);
};

/** true or false. */
const boolean: Check<boolean> = (value) => (typeof value === 'boolean' ? ok(value) : bad(`expected true or false, got ${describeValue(value)}`));

// ---------------------------------------------------------------------------
// Structure: sections (strict mappings) and lists; null and absence mean "defaults".

/** A mapping section; unknown keys are errors; null or absent means all defaults. */
function section<S extends z.core.$ZodLooseShape>(shape: S) {
  const object = z.strictObject(shape, {
    error: (issue) => (issue.code === 'invalid_type' ? `expected a mapping, got ${describeValue(issue.input)}` : undefined),
  });
  return z.preprocess((value) => value ?? {}, object);
}

/** A list of `what` (plural); null or absent means `fallback`; `atLeastOne` rejects an empty list with `emptyHint`. */
function list<T extends z.ZodType>(item: T, fallback: unknown[], what: string, emptyHint?: string) {
  const array = z.array(item, {
    error: (issue) => (issue.code === 'invalid_type' ? `expected a list of ${what}, got ${describeValue(issue.input)}` : undefined),
  });
  const checked = emptyHint === undefined ? array : array.min(1, { error: `expected at least one of the ${what} (${emptyHint})` });
  return z.preprocess((value) => value ?? fallback, checked);
}

/** One ingress controller. */
function controllerSchema() {
  const pods = section({
    namespace: leaf(namespaceName).default('ingress-nginx'),
    selector: leaf(labelSelector).default('app.kubernetes.io/name=ingress-nginx,app.kubernetes.io/component=controller'),
    httpPort: leaf(integer(1, 65535)).default(80),
    httpsPort: leaf(integer(1, 65535)).default(443),
  });
  return section({
    ingressClass: leaf(required(objectName('an IngressClass name'), 'an IngressClass name such as nginx')),
    kind: leaf(oneOf(CONTROLLER_KINDS)).default('ingress-nginx'),
    edge: leaf(nullable(httpUrl(['http'], true))).default(null),
    edgeHttps: leaf(nullable(httpUrl(['https'], true))).default(null),
    pods,
    upstream: leaf(oneOf(['endpoints', 'service'] as const)).optional(),
    settings: controllerSettingsSchema().optional(),
  }).transform((c): ControllerConfig => ({ ...c, upstream: c.upstream ?? DEFAULT_UPSTREAM[c.kind] }));
}

/** Controller-wide settings that differ from the kind's defaults; each field optional. */
function controllerSettingsSchema() {
  return section({
    connectTimeoutMs: leaf(milliseconds(1)).optional(),
    readTimeoutMs: leaf(milliseconds(1)).optional(),
    proxyBufferBytes: leaf(byteSize(1)).optional(),
    upstreamKeepaliveTimeoutMs: leaf(milliseconds(0)).optional(),
  }).transform((s): ControllerSettingsOverrides => {
    // Only the fields given: an absent field keeps the kind's default.
    const out: ControllerSettingsOverrides = {};
    if (s.connectTimeoutMs !== undefined) out.connectTimeoutMs = s.connectTimeoutMs;
    if (s.readTimeoutMs !== undefined) out.readTimeoutMs = s.readTimeoutMs;
    if (s.proxyBufferBytes !== undefined) out.proxyBufferBytes = s.proxyBufferBytes;
    if (s.upstreamKeepaliveTimeoutMs !== undefined) out.upstreamKeepaliveTimeoutMs = s.upstreamKeepaliveTimeoutMs;
    return out;
  });
}

/** The controllers list: at least one, each IngressClass at most once. */
function controllersSchema() {
  return list(controllerSchema(), [{ ingressClass: 'nginx' }], 'controllers', 'leave the field out for the default nginx controller').transform((controllers, ctx) => {
    const seen = new Map<string, number>();
    controllers.forEach((c, i) => {
      const first = seen.get(c.ingressClass);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'ingressClass'], message: `IngressClass ${JSON.stringify(c.ingressClass)} is already served by controllers[${first}]` });
      else seen.set(c.ingressClass, i);
    });
    return controllers;
  });
}

/** One per-route schedule override. */
function overrideSchema() {
  const match = section({
    namespace: leaf(nullable(namespaceName)).default(null),
    ingress: leaf(nullable(objectName('an Ingress name'))).default(null),
  });
  return section({ match, schedule: leaf(required(schedule, 'a schedule such as 1m or */5 * * * *')) }).transform((o, ctx) => {
    // A match on nothing would apply to every route: that is what schedule.default is for.
    // Unknown keys in the match (issues already raised) are the likelier explanation; say only that.
    if (ctx.issues.length === 0 && o.match.namespace === null && o.match.ingress === null) {
      ctx.addIssue({ code: 'custom', path: ['match'], message: 'expected namespace, ingress or both (to change every route, set schedule.default)' });
    }
    return o;
  });
}

/** The schedule section; lateAfterMs defaults to the default schedule's period at `now`. */
function scheduleSchema(now: number) {
  return section({
    default: leaf(schedule).default(() => parseSchedule(DEFAULT_SCHEDULE)),
    overrides: list(overrideSchema(), [], 'overrides'),
    lateAfterMs: leaf(milliseconds(1)).optional(),
  }).transform((s) => ({ ...s, lateAfterMs: s.lateAfterMs ?? scheduleIntervalMs(s.default, now) }));
}

/** The whole configuration document. */
function configSchema(now: number) {
  return section({
    cluster: section({
      kubeconfig: leaf(nullable(text('a kubeconfig file path'))).default(null),
      context: leaf(nullable(text('a kubeconfig context name'))).default(null),
      clusterDomain: leaf(text('a DNS domain such as cluster.local', DNS_SUBDOMAIN, 253)).default('cluster.local'),
      dnsServer: leaf(nullable(dnsServer)).default(null),
      namespaces: leaf(nullable(namespaceList)).default(null),
    }),
    controllers: controllersSchema(),
    gateways: gatewaysSchema(),
    probe: section({ timeoutMs: leaf(milliseconds(1)).default(5000), concurrency: leaf(integer(1, 10_000)).default(64) }),
    schedule: scheduleSchema(now),
    store: storeSchema(),
    incidents: section({ openAfter: leaf(integer(1, 1000)).default(2), closeAfter: leaf(integer(1, 1000)).default(2) }),
    server: section({ listen: leaf(listenAddress).default('127.0.0.1:8080'), token: leaf(nullable(bearerToken)).default(null) }),
    alerts: section({ webhooks: list(webhookSchema(), [], 'webhooks'), dashboardUrl: leaf(nullable(httpUrl(['http', 'https'], true))).default(null) }),
    metrics: section({ labels: leaf(metricLabels).default(() => ({})) }),
    ha: haSchema(),
    discovery: section({
      watchIdleRestartMs: leaf(milliseconds(1000)).default(300_000),
      maxBackoffMs: leaf(milliseconds(1)).default(30_000),
      gatewayApiRecheckMs: leaf(milliseconds(1000)).default(60_000),
    }),
  });
}

/** Leader election over a Lease: off by default (one replica); renewals well inside the Lease's duration. */
function haSchema() {
  return section({
    enabled: leaf(boolean).default(false),
    leaseName: leaf(text('a Lease name (lowercase letters, digits, "-" and ".")', DNS_SUBDOMAIN, 253)).default('hopwatch'),
    leaseNamespace: leaf(nullable(namespaceName)).default(null),
    identity: leaf(nullable(text('a replica identity such as the pod name', /^[^\s]+$/, 253))).default(null),
    leaseDurationMs: leaf(milliseconds(1000)).default(15_000),
    renewEveryMs: leaf(milliseconds(100)).default(5000),
  }).transform((h, ctx) => {
    // client-go's rule: a holder renews several times per duration, or a slow API call loses the Lease.
    if (h.renewEveryMs * 2 > h.leaseDurationMs) ctx.addIssue({ code: 'custom', path: ['renewEveryMs'], message: `must be at most half of leaseDurationMs (${h.leaseDurationMs} ms), got ${h.renewEveryMs} ms` });
    return h;
  });
}

/**
 * Per-Gateway overrides for what hopwatch cannot find or reach by itself: the implementation kind, the
 * edge URL, the data-plane pods, settings. Each Gateway at most once.
 */
function gatewaysSchema() {
  const pods = section({
    namespace: leaf(required(namespaceName, 'the namespace of the Gateway\'s data-plane pods')),
    selector: leaf(required(labelSelector, 'a label selector of the Gateway\'s data-plane pods')),
    httpPort: leaf(integer(1, 65535)).optional(),
  });
  const gateway = section({
    namespace: leaf(required(namespaceName, 'the Gateway\'s namespace')),
    name: leaf(required(objectName('a Gateway name'), 'a Gateway name')),
    kind: leaf(oneOf(CONTROLLER_KINDS)).optional(),
    edge: leaf(nullable(httpUrl(['http'], true))).default(null),
    edgeHttps: leaf(nullable(httpUrl(['https'], true))).default(null),
    pods: pods.optional(),
    settings: controllerSettingsSchema().optional(),
  }).transform((g): GatewayConfig => ({
    namespace: g.namespace,
    name: g.name,
    kind: g.kind ?? null,
    edge: g.edge,
    edgeHttps: g.edgeHttps,
    pods: g.pods === undefined ? null : { namespace: g.pods.namespace, selector: g.pods.selector, httpPort: g.pods.httpPort ?? null },
    ...(g.settings === undefined ? {} : { settings: g.settings }),
  }));
  return list(gateway, [], 'gateways').transform((gateways, ctx) => {
    const seen = new Map<string, number>();
    gateways.forEach((g, i) => {
      const key = `${g.namespace}/${g.name}`;
      const first = seen.get(key);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `Gateway ${key} is already configured in gateways[${first}]` });
      else seen.set(key, i);
    });
    return gateways;
  });
}

/** The store section. */
function storeSchema() {
  const days = () => leaf(nullable(integer(1)));
  return section({
    path: leaf(text('a SQLite file path')).default('hopwatch.db'),
    retention: section({ rawDays: days().default(7), minuteDays: days().default(30), hourDays: days().default(365), dayDays: days().default(null) }),
    maxSizeMb: leaf(nullable(integer(1))).default(null),
  });
}

/** One webhook receiver. */
function webhookSchema() {
  return section({
    url: leaf(required(httpUrl(['http', 'https'], false), 'an http(s) URL')),
    kind: leaf(oneOf(['json', 'slack'] as const)).default('json'),
    headers: leaf(headers).default(() => ({})),
  });
}

// ---------------------------------------------------------------------------
// Issues to problems, with "did you mean" for unknown keys.

/** Turns a zod issue into problems: one per unknown key, else one. */
function toProblems(schema: z.ZodType, issue: z.core.$ZodIssue): ConfigProblem[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (issue.code !== 'unrecognized_keys') return [{ path, message: issue.message }];
  const known = knownKeysAt(schema, path);
  return issue.keys.map((key) => {
    const hint = suggest(key, known);
    return { path: [...path, key], message: `unknown field${hint === null ? '' : ` (did you mean ${hint}?)`}` };
  });
}

/** The keys a section accepts at a path, found by walking the schema through its wrappers. */
function knownKeysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let current: unknown = schema;
  for (const segment of [...path, null]) {
    current = unwrapSchema(current);
    if (segment === null) break;
    if (current instanceof z.ZodObject) current = (current.shape as Record<string, unknown>)[String(segment)];
    else if (current instanceof z.ZodArray) current = current.element;
    else return [];
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

/** Strips defaults, optionals and pipes (preprocess and transform) down to the structural schema. */
function unwrapSchema(schema: unknown): unknown {
  let current = schema;
  for (let depth = 0; depth < 20; depth++) {
    if (current instanceof z.ZodDefault || current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodPrefault) {
      current = current.unwrap();
    } else if (current instanceof z.ZodPipe) {
      current = current.out instanceof z.ZodTransform ? current.in : current.out;
    } else return current;
  }
  return current;
}

/** The closest candidate to `word` (case, "-" and "_" ignored), when close enough to be a likely typo. */
export function suggest(word: string, candidates: readonly string[]): string | null {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(norm(word), norm(candidate));
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  const allowed = Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= allowed ? best : null;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((previous[j] as number) + 1, (row[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
    }
    previous = row;
  }
  return previous[b.length] as number;
}
