// The lab's Kubernetes API server: node:http speaking the real list/watch wire
// protocol, so the real @kubernetes/client-node (list calls, makeInformer, Watch)
// works against it unchanged through a generated kubeconfig.
//
// Semantics kept from the real server because clients depend on them:
// - one monotonic resourceVersion for the whole server; each write bumps it and
//   the written object carries it; lists carry the current one;
// - list items carry no apiVersion/kind (as the real server's lists), watch
//   events' objects do;
// - `?watch=true&resourceVersion=N` replays the events after N from a bounded
//   history, then streams live; an N older than the history answers with an
//   ERROR event carrying a 410 Expired Status and ends the stream (what the real
//   server does, and what client-node's ListWatch turns into a relist);
// - with a label/field selector, an object that starts or stops matching is
//   seen as ADDED or DELETED by that watch (as the real watch cache does);
// - every JSON answer has `Content-Type: application/json` (client-node 1.4
//   parses list bodies by content type), errors are `Status` objects;
// - `?limit=N` answers N items and a `metadata.continue` token while more remain; the pages of
//   one list are cut from the same snapshot and carry its resourceVersion (as the real server
//   serves them from one etcd revision); a token the server no longer holds answers 410 Expired,
//   an unreadable one 400.
// Writes come through the in-process API (apply, patchStatus, delete); over HTTP only the
// writable kinds (coordination.k8s.io/v1 Lease, for leader election) take POST (create: 409
// AlreadyExists), PUT (replace: 409 Conflict when metadata.resourceVersion is stale) and DELETE.

import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Metadata of a lab object, as JSON. */
export interface LabObjectMeta {
  /** metadata.name. */
  name: string;
  /** metadata.namespace; absent for cluster-scoped kinds (defaults to "default" for namespaced ones). */
  namespace?: string;
  /** Set by the server on create. */
  uid?: string;
  /** Set by the server on every write. */
  resourceVersion?: string;
  /** Set by the server: 1 on create, +1 when anything but metadata and status changes. */
  generation?: number;
  /** Set by the server on create (RFC 3339, seconds). */
  creationTimestamp?: string;
  /** metadata.labels. */
  labels?: Record<string, string>;
  /** metadata.annotations. */
  annotations?: Record<string, string>;
  /** Any other metadata field (ownerReferences, deletionTimestamp, ...). */
  [field: string]: unknown;
}

/** A Kubernetes object as JSON, as the lab stores and serves it. */
export interface LabObject {
  /** apiVersion, e.g. "v1" or "networking.k8s.io/v1". */
  apiVersion: string;
  /** kind, e.g. "Pod". */
  kind: string;
  /** metadata. */
  metadata: LabObjectMeta;
  /** spec, status and any other top-level field. */
  [field: string]: unknown;
}

/** Names one object for the programmatic API. */
export interface LabObjectRef {
  /** apiVersion of the kind. */
  apiVersion: string;
  /** kind. */
  kind: string;
  /** Namespace; omitted for cluster-scoped kinds ("default" for namespaced ones when omitted). */
  namespace?: string;
  /** Name. */
  name: string;
}

/** Type of a watch event. */
export type LabEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One write, as given to onEvent listeners (shared between listeners: do not mutate). */
export interface LabEvent {
  /** What happened. */
  type: LabEventType;
  /** The object after the write (for DELETED: the final object, with the deletion's resourceVersion). */
  object: LabObject;
  /** The object before the write, null for ADDED. */
  previous: LabObject | null;
}

/** Options of LabApiServer.start. */
export interface LabApiServerOptions {
  /** Address to bind (the lab uses 127.B.0.1). */
  host: string;
  /** Port to bind; 0 for an ephemeral one. */
  port: number;
  /** Most watch events kept for replay; default 1000. */
  historyLimit?: number;
  /** When set, requests must carry `Authorization: Bearer <token>` (else 401). */
  token?: string | null;
  /** Clock for creationTimestamp; default the system clock. */
  now?: () => Date;
  /** Serve the Gateway API group (gateway.networking.k8s.io) as if its CRDs were installed; default off. */
  gatewayApi?: boolean;
}

/** Stable codes of LabApiError. */
export type LabApiErrorCode = 'unknown-kind' | 'bad-object' | 'not-found' | 'not-listening' | 'stopped';

/** Misuse of the lab API server's programmatic API (a bug in the caller). */
export class LabApiError extends Error {
  /** Stable code. */
  readonly code: LabApiErrorCode;

  constructor(code: LabApiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabApiError';
    this.code = code;
  }
}

/** One served resource type. */
interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  /** Verbs over HTTP beyond get, list and watch (writable kinds only). */
  writeVerbs?: readonly ('create' | 'update' | 'delete')[];
}

/** Kinds clients write over HTTP: Leases, with the real optimistic-concurrency semantics. */
const WRITABLE_RESOURCE_TYPES: readonly ResourceType[] = [
  { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', singular: 'lease', namespaced: true, shortNames: [], writeVerbs: ['create', 'update', 'delete'] },
];

const RESOURCE_TYPES: readonly ResourceType[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', singular: 'namespace', namespaced: false, shortNames: ['ns'] },
  ...WRITABLE_RESOURCE_TYPES,
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', singular: 'pod', namespaced: true, shortNames: ['po'] },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', singular: 'service', namespaced: true, shortNames: ['svc'] },
  { group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', plural: 'endpointslices', singular: 'endpointslice', namespaced: true, shortNames: [] },
  { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', plural: 'ingresses', singular: 'ingress', namespaced: true, shortNames: ['ing'] },
  { group: 'networking.k8s.io', version: 'v1', kind: 'IngressClass', plural: 'ingressclasses', singular: 'ingressclass', namespaced: false, shortNames: [] },
  { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', plural: 'networkpolicies', singular: 'networkpolicy', namespaced: true, shortNames: ['netpol'] },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', singular: 'deployment', namespaced: true, shortNames: ['deploy'] },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', singular: 'replicaset', namespaced: true, shortNames: ['rs'] },
];

/** The Gateway API kinds (standard channel CRDs): served only when the lab installs them. */
const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
const GATEWAY_API_TYPES: readonly ResourceType[] = [
  { group: GATEWAY_API_GROUP, version: 'v1', kind: 'GatewayClass', plural: 'gatewayclasses', singular: 'gatewayclass', namespaced: false, shortNames: ['gc'] },
  { group: GATEWAY_API_GROUP, version: 'v1', kind: 'Gateway', plural: 'gateways', singular: 'gateway', namespaced: true, shortNames: ['gtw'] },
  { group: GATEWAY_API_GROUP, version: 'v1', kind: 'HTTPRoute', plural: 'httproutes', singular: 'httproute', namespaced: true, shortNames: [] },
  { group: GATEWAY_API_GROUP, version: 'v1', kind: 'GRPCRoute', plural: 'grpcroutes', singular: 'grpcroute', namespaced: true, shortNames: [] },
  { group: GATEWAY_API_GROUP, version: 'v1', kind: 'ReferenceGrant', plural: 'referencegrants', singular: 'referencegrant', namespaced: true, shortNames: ['refgrant'] },
  { group: GATEWAY_API_GROUP, version: 'v1beta1', kind: 'ReferenceGrant', plural: 'referencegrants', singular: 'referencegrant', namespaced: true, shortNames: ['refgrant'] },
];

function apiVersionOf(resource: ResourceType): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
}

// ---------------------------------------------------------------------------
// Selectors

/** One requirement of a label selector; equality forms are stored as in/notin with one value. */
export type LabelRequirement =
  | { op: 'exists' | 'not-exists'; key: string }
  | { op: 'in' | 'notin'; key: string; values: string[] };

/** One requirement of a field selector. */
export interface FieldRequirement {
  /** Dotted path into the object, e.g. ["metadata", "name"]. */
  path: string[];
  /** The value compared with. */
  value: string;
  /** True for `!=`. */
  negate: boolean;
}

const KEY = String.raw`[A-Za-z0-9](?:[-A-Za-z0-9_./]*[A-Za-z0-9])?`;
const VALUE = String.raw`(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?`;
const SET_RE = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s*\(([^()]*)\)$`);
const EQUALITY_RE = new RegExp(String.raw`^(${KEY})\s*(==|!=|=)\s*(${VALUE})$`);
const EXISTS_RE = new RegExp(String.raw`^(!?)\s*(${KEY})$`);
const VALUE_RE = new RegExp(`^${VALUE}$`);
const FIELD_RE = /^([A-Za-z0-9_.-]+)\s*(==|!=|=)\s*([^,]*)$/;

/** Splits a selector at the commas outside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((part) => part.trim());
}

function parseLabelRequirement(part: string): LabelRequirement | null {
  const set = SET_RE.exec(part);
  if (set) {
    const values = (set[3] ?? '').split(',').map((value) => value.trim());
    if (values.some((value) => !VALUE_RE.test(value))) return null;
    return { op: set[2] === 'in' ? 'in' : 'notin', key: set[1] ?? '', values };
  }
  const equality = EQUALITY_RE.exec(part);
  if (equality) return { op: equality[2] === '!=' ? 'notin' : 'in', key: equality[1] ?? '', values: [equality[3] ?? ''] };
  const exists = EXISTS_RE.exec(part);
  if (exists) return { op: exists[1] === '!' ? 'not-exists' : 'exists', key: exists[2] ?? '' };
  return null;
}

/** Parses a label selector (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`); null when malformed. */
export function parseLabelSelector(text: string): LabelRequirement[] | null {
  if (text.trim() === '') return [];
  const requirements: LabelRequirement[] = [];
  for (const part of splitTopLevel(text)) {
    const requirement = parseLabelRequirement(part);
    if (requirement === null) return null;
    requirements.push(requirement);
  }
  return requirements;
}

/** True when the labels satisfy every requirement (`!=` and `notin` match objects without the key, as in Kubernetes). */
export function matchesLabels(requirements: readonly LabelRequirement[], labels: Readonly<Record<string, string>>): boolean {
  return requirements.every((requirement) => {
    const has = Object.prototype.hasOwnProperty.call(labels, requirement.key);
    switch (requirement.op) {
      case 'exists':
        return has;
      case 'not-exists':
        return !has;
      case 'in':
        return has && requirement.values.includes(labels[requirement.key] ?? '');
      case 'notin':
        return !has || !requirement.values.includes(labels[requirement.key] ?? '');
    }
  });
}

/** Parses a field selector (`path=v`, `path==v`, `path!=v`, comma-separated); null when malformed. */
export function parseFieldSelector(text: string): FieldRequirement[] | null {
  if (text.trim() === '') return [];
  const requirements: FieldRequirement[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    const match = FIELD_RE.exec(part);
    if (!match) return null;
    requirements.push({ path: (match[1] ?? '').split('.'), value: (match[3] ?? '').trim(), negate: match[2] === '!=' });
  }
  return requirements;
}

/** The value at a dotted path as a string ("" when absent or not a scalar). */
function fieldValue(object: unknown, path: readonly string[]): string {
  let current: unknown = object;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return '';
    current = (current as Record<string, unknown>)[segment];
  }
  if (typeof current === 'string' || typeof current === 'number' || typeof current === 'boolean') return String(current);
  return '';
}

/** True when the object satisfies every field requirement. */
export function matchesFields(requirements: readonly FieldRequirement[], object: LabObject): boolean {
  return requirements.every((r) => (fieldValue(object, r.path) === r.value) !== r.negate);
}

// ---------------------------------------------------------------------------
// JSON helpers

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** JSON text with object keys sorted, to compare objects regardless of key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch: objects merge recursively, null deletes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** Everything the generation counts: all top-level fields but metadata and status. */
function specOf(object: LabObject): string {
  const { metadata: _metadata, status: _status, ...rest } = object;
  return canonical(rest);
}

/** Everything but the resourceVersion, to detect no-op writes. */
function contentOf(object: LabObject): string {
  const { resourceVersion: _rv, ...metadata } = object.metadata;
  return canonical({ ...object, metadata });
}

/** A list item: the real server's lists carry no apiVersion/kind per item. */
function listItem(object: LabObject): Record<string, unknown> {
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = object;
  return rest;
}

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function compareObjects(a: LabObject, b: LabObject): number {
  const ka = objectKey(a.metadata.namespace, a.metadata.name);
  const kb = objectKey(b.metadata.namespace, b.metadata.name);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** RFC 3339 with seconds precision, as Kubernetes writes timestamps. */
function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------------------
// HTTP helpers

function sendJson(res: http.ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** A metav1.Status failure object. */
function statusObject(code: number, reason: string, message: string, details?: Record<string, unknown>): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

function sendStatus(res: http.ServerResponse, code: number, reason: string, message: string, details?: Record<string, unknown>): void {
  sendJson(res, code, statusObject(code, reason, message, details));
}

/** What a resource path names. */
interface ResourceTarget {
  resource: ResourceType;
  namespace: string | null;
  name: string | null;
  /** The path had the legacy `/watch/` segment. */
  watch: boolean;
}

function findResource(types: readonly ResourceType[], group: string, version: string, plural: string | undefined): ResourceType | undefined {
  return types.find((t) => t.group === group && t.version === version && t.plural === plural);
}

/** Parses /api/v1/... and /apis/<group>/<version>/... resource paths; null when no served resource matches. */
function parseResourcePath(types: readonly ResourceType[], segments: readonly string[]): ResourceTarget | null {
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 3) [group, version, rest] = ['', segments[1] ?? '', segments.slice(2)];
  else if (segments[0] === 'apis' && segments.length >= 4) [group, version, rest] = [segments[1] ?? '', segments[2] ?? '', segments.slice(3)];
  else return null;
  const watch = rest[0] === 'watch';
  if (watch) rest = rest.slice(1);
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest.length <= 4) {
    const resource = findResource(types, group, version, rest[2]);
    if (!resource || !resource.namespaced) return null;
    return { resource, namespace: rest[1] ?? null, name: rest[3] ?? null, watch };
  }
  if (rest.length < 1 || rest.length > 2) return null;
  const resource = findResource(types, group, version, rest[0]);
  if (!resource || (rest.length === 2 && resource.namespaced)) return null;
  return { resource, namespace: null, name: rest[1] ?? null, watch };
}

/** A watch's starting point: every current object (rv absent, "" or "0"), or the events after an rv. */
type WatchStart = { kind: 'current' } | { kind: 'after'; rv: number };

function parseWatchStart(value: string | null): WatchStart | null {
  if (value === null || value === '' || value === '0') return { kind: 'current' };
  if (!/^\d+$/.test(value)) return null;
  return { kind: 'after', rv: Number(value) };
}

// ---------------------------------------------------------------------------
// Discovery documents

function groupVersions(types: readonly ResourceType[]): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const t of types) seen.set(apiVersionOf(t), { group: t.group, version: t.version });
  return [...seen.values()];
}

function apiGroupDocument(types: readonly ResourceType[], group: string): Record<string, unknown> | null {
  const versions = groupVersions(types)
    .filter((gv) => gv.group === group && group !== '')
    .map((gv) => ({ groupVersion: `${gv.group}/${gv.version}`, version: gv.version }));
  const preferred = versions[0];
  if (!preferred) return null;
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions, preferredVersion: preferred };
}

function resourceListDocument(served: readonly ResourceType[], group: string, version: string): Record<string, unknown> | null {
  const types = served.filter((t) => t.group === group && t.version === version);
  const first = types[0];
  if (!first) return null;
  const resources = types.flatMap((t) => [
    {
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: ['get', 'list', 'watch', ...(t.writeVerbs ?? [])],
      ...(t.shortNames.length > 0 ? { shortNames: t.shortNames } : {}),
    },
    // CRDs with a status subresource list it as "<plural>/status", as the real server does (the
    // lab's implementation writes status through patchStatus, in process).
    ...(t.group === GATEWAY_API_GROUP ? [{ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] }] : []),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(first), resources };
}

const VERSION_INFO = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.0-hopwatch-lab',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-01-01T00:00:00Z',
  goVersion: 'go1.22.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/** The discovery document at a path, null when the path is not a discovery path. */
function discoveryDocument(types: readonly ResourceType[], segments: readonly string[], serverAddress: string): unknown {
  const path = `/${segments.join('/')}`;
  if (path === '/api') {
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  }
  if (path === '/apis') {
    const groups = [...new Set(types.map((t) => t.group).filter((g) => g !== ''))];
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((group) => apiGroupDocument(types, group)) };
  }
  if (path === '/version') return VERSION_INFO;
  if (path === '/api/v1') return resourceListDocument(types, '', 'v1');
  if (segments[0] === 'apis' && segments.length === 2) return apiGroupDocument(types, segments[1] ?? '');
  if (segments[0] === 'apis' && segments.length === 3) return resourceListDocument(types, segments[1] ?? '', segments[2] ?? '');
  return null;
}

// ---------------------------------------------------------------------------
// The server

/** One write, kept for watch replay. Objects in it are never mutated. */
interface HistoryEntry {
  rv: number;
  type: LabEventType;
  resource: ResourceType;
  object: LabObject;
  previous: LabObject | null;
}

/** Lists being read in pages, held for their continue tokens. */
const MAX_LIST_SNAPSHOTS = 64;

/** The objects of one paged list, cut when its first page was asked. */
interface ListSnapshot {
  resourceVersion: string;
  items: LabObject[];
}

/** One page of a list. */
interface ListPage {
  resourceVersion: string;
  items: LabObject[];
  /** The token of the next page; null on the last. */
  continue: string | null;
  /** Items after this page. */
  remaining: number;
}

/** Which objects a list or watch selects. */
interface Selection {
  resource: ResourceType;
  namespace: string | null;
  name: string | null;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
}

/** An open watch. */
interface Watcher extends Selection {
  res: http.ServerResponse;
  /** Hung by the hang fault: gets no events and no timeout. */
  silenced: boolean;
  timer: NodeJS.Timeout | null;
}

function selects(selection: Selection, object: LabObject): boolean {
  if (selection.namespace !== null && object.metadata.namespace !== selection.namespace) return false;
  if (selection.name !== null && object.metadata.name !== selection.name) return false;
  return matchesLabels(selection.labels, object.metadata.labels ?? {}) && matchesFields(selection.fields, object);
}

/** What one watch sees of one write: selector changes turn MODIFIED into ADDED or DELETED. */
function eventFor(watcher: Selection, entry: HistoryEntry): { type: LabEventType; object: LabObject } | null {
  if (entry.resource !== watcher.resource) return null;
  const after = entry.type !== 'DELETED' && selects(watcher, entry.object);
  const before = entry.previous !== null && selects(watcher, entry.previous);
  if (entry.type === 'DELETED') return before ? { type: 'DELETED', object: entry.object } : null;
  if (after && before) return { type: 'MODIFIED', object: entry.object };
  if (after) return { type: 'ADDED', object: entry.object };
  if (before) return { type: 'DELETED', object: entry.object };
  return null;
}

function writeEvent(res: http.ServerResponse, type: string, object: unknown): void {
  res.write(`${JSON.stringify({ type, object })}\n`);
}

/** A write the server refuses, answered as a Status. */
class WriteRefused extends Error {
  constructor(readonly status: number, readonly reason: string, message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }
}

/** The request body parsed as JSON (at most 1 MiB); null when it is not JSON. */
async function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1 << 20) return null;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return null;
  }
}

/** Requests served, by verb (discovery counts discovery documents). */
export interface LabApiCounters {
  /** List requests answered 200. */
  list: number;
  /** Watch requests accepted (including the ones answered with 410 or hung). */
  watch: number;
  /** GET of one object. */
  get: number;
  /** Discovery documents served. */
  discovery: number;
  /** Requests answered 500 by the failRequests fault. */
  failed: number;
}

/** The lab's Kubernetes API server. Build it with LabApiServer.start. */
export class LabApiServer {
  /** The address it binds. */
  readonly host: string;
  /** Requests served, for tests. */
  readonly counters: LabApiCounters = { list: 0, watch: 0, get: 0, discovery: 0, failed: 0 };
  private boundPort: number;
  private server: http.Server | null = null;
  private stopped = false;
  private rv = 0;
  /** Paged lists by the id in their continue token (oldest first). */
  private readonly listSnapshots = new Map<string, ListSnapshot>();
  private readonly objects = new Map<ResourceType, Map<string, LabObject>>();
  private history: HistoryEntry[] = [];
  /** Every event with a larger rv is still in `history`. */
  private historyStartRv = 0;
  private readonly watchers = new Set<Watcher>();
  private readonly listeners = new Set<(event: LabEvent) => void>();
  private readonly historyLimit: number;
  private readonly token: string | null;
  private readonly now: () => Date;
  private expireRemaining = 0;
  private hang: { sendHeaders: boolean } | null = null;
  private failing = false;
  /** The kinds served now: the built-in ones, plus the Gateway API's once installed. */
  private types: readonly ResourceType[] = RESOURCE_TYPES;

  private constructor(options: LabApiServerOptions) {
    this.host = options.host;
    this.boundPort = options.port;
    this.historyLimit = options.historyLimit ?? 1000;
    this.token = options.token ?? null;
    this.now = options.now ?? (() => new Date());
    if (options.gatewayApi === true) this.installGatewayApi();
  }

  /** Installs the Gateway API CRDs: from now on the group is in API discovery and its kinds are served. */
  installGatewayApi(): void {
    if (this.gatewayApiInstalled) return;
    this.types = [...RESOURCE_TYPES, ...GATEWAY_API_TYPES];
  }

  /** True once the Gateway API group is served. */
  get gatewayApiInstalled(): boolean {
    return this.types.some((t) => t.group === GATEWAY_API_GROUP);
  }

  /** Listens on host:port; rejects with the bind error untouched (EADDRINUSE lets the caller try the next block). */
  static async start(options: LabApiServerOptions): Promise<LabApiServer> {
    const server = new LabApiServer(options);
    await server.listen();
    return server;
  }

  /** The actual port (the ephemeral one when started with port 0). */
  get port(): number {
    return this.boundPort;
  }

  /** http://host:port */
  get url(): string {
    return `http://${this.host}:${this.boundPort}`;
  }

  /** The current resourceVersion of the whole server. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Watches currently open (hung ones included). */
  get openWatches(): number {
    return this.watchers.size;
  }

  /** True while the server accepts connections. */
  get listening(): boolean {
    return this.server !== null;
  }

  private listen(): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        server.close();
        reject(err);
      };
      server.once('error', onError);
      server.listen({ host: this.host, port: this.boundPort, exclusive: true }, () => {
        server.off('error', onError);
        this.boundPort = (server.address() as AddressInfo).port;
        this.server = server;
        resolve();
      });
    });
  }

  private async closeServer(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    for (const watcher of [...this.watchers]) this.endWatcher(watcher, 'destroy');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Pending requests and keep-alive connections die with the socket, as when a real server goes away.
    server.closeAllConnections();
    await closed;
  }

  /** Closes every connection and the server; the object store is kept but the server cannot listen again. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.closeServer();
  }

  // -------------------------------------------------------------------------
  // Programmatic API

  private resourceFor(apiVersion: string, kind: string): ResourceType {
    const resource = this.types.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
    if (!resource) throw new LabApiError('unknown-kind', `the lab API server does not serve ${apiVersion} ${kind}`);
    return resource;
  }

  private objectsOf(resource: ResourceType): Map<string, LabObject> {
    let objects = this.objects.get(resource);
    if (!objects) {
      objects = new Map();
      this.objects.set(resource, objects);
    }
    return objects;
  }

  /** The namespace an object or ref lives in: undefined for cluster-scoped kinds, "default" when omitted. */
  private namespaceFor(resource: ResourceType, namespace: string | undefined): string | undefined {
    if (!resource.namespaced) return undefined;
    return namespace === undefined || namespace === '' ? 'default' : namespace;
  }

  private lookup(ref: LabObjectRef): { resource: ResourceType; key: string; object: LabObject | null } {
    const resource = this.resourceFor(ref.apiVersion, ref.kind);
    const key = objectKey(this.namespaceFor(resource, ref.namespace), ref.name);
    return { resource, key, object: this.objectsOf(resource).get(key) ?? null };
  }

  /** A validated copy of an object given to apply, with its namespace settled. */
  private prepare(resource: ResourceType, input: LabObject): LabObject {
    const object = clone(input);
    if (!isPlainObject(object.metadata) || typeof object.metadata.name !== 'string' || object.metadata.name === '') {
      throw new LabApiError('bad-object', `${input.kind} without metadata.name`);
    }
    const namespace = this.namespaceFor(resource, object.metadata.namespace);
    if (namespace === undefined) delete object.metadata.namespace;
    else object.metadata.namespace = namespace;
    return object;
  }

  /**
   * Creates or replaces an object (by apiVersion/kind/namespace/name) and returns the stored copy.
   * uid and creationTimestamp are kept across replaces; an object given without `status` keeps the
   * stored status (as a real PUT does); a write that changes nothing bumps nothing and sends no event.
   */
  apply(input: LabObject): LabObject {
    const resource = this.resourceFor(input.apiVersion, input.kind);
    const object = this.prepare(resource, input);
    const key = objectKey(object.metadata.namespace, object.metadata.name);
    const previous = this.objectsOf(resource).get(key) ?? null;
    if (previous === null) {
      object.metadata.uid = randomUUID();
      object.metadata.creationTimestamp = timestamp(this.now());
      object.metadata.generation = 1;
      return this.commit(resource, 'ADDED', object, null);
    }
    object.metadata.uid = previous.metadata.uid;
    object.metadata.creationTimestamp = previous.metadata.creationTimestamp;
    if (!('status' in input) && previous.status !== undefined) object.status = clone(previous.status);
    const generation = previous.metadata.generation ?? 1;
    object.metadata.generation = specOf(object) === specOf(previous) ? generation : generation + 1;
    object.metadata.resourceVersion = previous.metadata.resourceVersion;
    if (contentOf(object) === contentOf(previous)) return clone(previous);
    return this.commit(resource, 'MODIFIED', object, previous);
  }

  /** Applies a JSON merge patch to an object's status (null deletes a field); bumps the rv, not the generation. */
  patchStatus(ref: LabObjectRef, status: Record<string, unknown>): LabObject {
    const { resource, object: previous } = this.lookup(ref);
    if (previous === null) throw new LabApiError('not-found', `${ref.kind} ${ref.namespace ?? ''}/${ref.name} not found`);
    const object = clone(previous);
    object.status = mergePatch(previous.status, status);
    if (contentOf(object) === contentOf(previous)) return clone(previous);
    return this.commit(resource, 'MODIFIED', object, previous);
  }

  /** Deletes an object; returns its final state (with the deletion's resourceVersion), null when absent. */
  delete(ref: LabObjectRef): LabObject | null {
    const { resource, object: previous } = this.lookup(ref);
    if (previous === null) return null;
    return this.commit(resource, 'DELETED', clone(previous), previous);
  }

  /** A copy of one object, null when absent. */
  get(ref: LabObjectRef): LabObject | null {
    const { object } = this.lookup(ref);
    return object === null ? null : clone(object);
  }

  /** Copies of every object of a kind (in one namespace when given), sorted by namespace and name. */
  list(apiVersion: string, kind: string, namespace?: string): LabObject[] {
    const resource = this.resourceFor(apiVersion, kind);
    return [...this.objectsOf(resource).values()]
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .sort(compareObjects)
      .map(clone);
  }

  /** Calls the listener synchronously after every write; returns the unsubscribe function. */
  onEvent(listener: (event: LabEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Bumps the rv, stores the write, and tells every watch and listener. */
  private commit(resource: ResourceType, type: LabEventType, object: LabObject, previous: LabObject | null): LabObject {
    this.rv += 1;
    object.metadata.resourceVersion = String(this.rv);
    const objects = this.objectsOf(resource);
    const key = objectKey(object.metadata.namespace, object.metadata.name);
    if (type === 'DELETED') objects.delete(key);
    else objects.set(key, object);
    const entry: HistoryEntry = { rv: this.rv, type, resource, object, previous };
    this.record(entry);
    for (const watcher of this.watchers) {
      const event = watcher.silenced ? null : eventFor(watcher, entry);
      if (event) writeEvent(watcher.res, event.type, event.object);
    }
    this.emit(entry);
    return clone(object);
  }

  private record(entry: HistoryEntry): void {
    this.history.push(entry);
    const excess = this.history.length - this.historyLimit;
    if (excess > 0) {
      this.historyStartRv = this.history[excess - 1]?.rv ?? this.historyStartRv;
      this.history = this.history.slice(excess);
    }
  }

  private emit(entry: HistoryEntry): void {
    const event: LabEvent = { type: entry.type, object: clone(entry.object), previous: entry.previous && clone(entry.previous) };
    const errors: unknown[] = [];
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        errors.push(err);
      }
    }
    // Every listener heard the write; a failing one is a bug in the lab, so surface it to the writer.
    if (errors.length > 0) throw errors[0];
  }

  // -------------------------------------------------------------------------
  // Fault switches

  /** Abruptly closes every open watch (the TCP connection is destroyed mid-stream); returns how many. */
  dropWatches(): number {
    const count = this.watchers.size;
    for (const watcher of [...this.watchers]) this.endWatcher(watcher, 'destroy');
    return count;
  }

  /** Ends every open watch cleanly (hung ones too), as the real server does at its request timeout; returns how many. */
  endWatches(): number {
    const count = this.watchers.size;
    for (const watcher of [...this.watchers]) this.endWatcher(watcher, 'end');
    return count;
  }

  /** Answers the next `count` watch requests with an ERROR event carrying a 410 Expired Status. */
  expireNextWatches(count: number): void {
    this.expireRemaining = Math.max(0, Math.floor(count));
  }

  /** Forgets the event history (like etcd compaction): a watch from any earlier resourceVersion gets 410. */
  compactHistory(): void {
    this.history = [];
    this.historyStartRv = this.rv;
  }

  /**
   * While on, every watch (open or new) goes silent: no events, no timeoutSeconds, the connection
   * stays open. New watches get their 200 headers unless `sendHeaders` is false. Switching off
   * destroys the hung connections (the way a healed network finally resets them).
   */
  hangWatches(on: boolean, options: { sendHeaders?: boolean } = {}): void {
    if (on) {
      this.hang = { sendHeaders: options.sendHeaders ?? true };
      for (const watcher of this.watchers) this.silence(watcher);
      return;
    }
    this.hang = null;
    for (const watcher of [...this.watchers]) if (watcher.silenced) this.endWatcher(watcher, 'destroy');
  }

  /** While on, every request is answered 500 InternalError (open watches are left alone). */
  failRequests(on: boolean): void {
    this.failing = on;
  }

  /** Closes the listening socket and every connection (pending requests die); the store is kept. */
  async stopListening(): Promise<void> {
    await this.closeServer();
  }

  /** Listens again on the same address and port. */
  async resumeListening(): Promise<void> {
    if (this.stopped) throw new LabApiError('stopped', 'the lab API server was stopped');
    if (this.server !== null) return;
    await this.listen();
  }

  private silence(watcher: Watcher): void {
    watcher.silenced = true;
    if (watcher.timer) clearTimeout(watcher.timer);
    watcher.timer = null;
  }

  private forgetWatcher(watcher: Watcher): void {
    if (watcher.timer) clearTimeout(watcher.timer);
    watcher.timer = null;
    this.watchers.delete(watcher);
  }

  private endWatcher(watcher: Watcher, how: 'end' | 'destroy'): void {
    this.forgetWatcher(watcher);
    if (how === 'end') watcher.res.end();
    else watcher.res.destroy();
  }

  // -------------------------------------------------------------------------
  // HTTP

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    try {
      this.route(req, res);
    } catch (err) {
      if (!res.headersSent) sendStatus(res, 500, 'InternalError', `lab API server bug: ${String(err)}`);
      else res.destroy();
    }
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://lab.invalid');
    if (this.failing) {
      this.counters.failed++;
      return sendStatus(res, 500, 'InternalError', 'lab fault: every request fails');
    }
    if (this.token !== null && req.headers.authorization !== `Bearer ${this.token}`) {
      return sendStatus(res, 401, 'Unauthorized', 'Unauthorized');
    }
    const segments = url.pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
    if (req.method !== 'GET') {
      // An exception in the async write is a lab bug: answer 500 as handle() does for sync ones.
      return void this.serveWrite(req, res, segments).catch((err: unknown) => {
        if (!res.headersSent) sendStatus(res, 500, 'InternalError', `lab API server bug: ${String(err)}`);
        else res.destroy();
      });
    }
    if (['healthz', 'readyz', 'livez'].includes(url.pathname.slice(1))) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return void res.end('ok');
    }
    const document = discoveryDocument(this.types, segments, `${this.host}:${this.boundPort}`);
    if (document !== null) {
      this.counters.discovery++;
      return sendJson(res, 200, document);
    }
    const target = parseResourcePath(this.types, segments);
    if (target === null) return sendStatus(res, 404, 'NotFound', 'the server could not find the requested resource', {});
    const watchParam = url.searchParams.get('watch');
    if (target.watch || watchParam === 'true' || watchParam === '1') return this.serveWatch(req, res, target, url.searchParams);
    if (target.name !== null) return this.serveGet(res, target.resource, target.namespace, target.name);
    this.serveList(res, target, url.searchParams);
  }

  /** The selection a list or watch asks for; answers 400 and returns null when a selector is malformed. */
  private selection(res: http.ServerResponse, target: ResourceTarget, params: URLSearchParams): Selection | null {
    const labels = parseLabelSelector(params.get('labelSelector') ?? '');
    if (labels === null) {
      sendStatus(res, 400, 'BadRequest', `unable to parse requirement: labelSelector ${params.get('labelSelector') ?? ''}`);
      return null;
    }
    const fields = parseFieldSelector(params.get('fieldSelector') ?? '');
    if (fields === null) {
      sendStatus(res, 400, 'BadRequest', `invalid field selector: ${params.get('fieldSelector') ?? ''}`);
      return null;
    }
    return { resource: target.resource, namespace: target.namespace, name: target.name, labels, fields };
  }

  private selected(selection: Selection): LabObject[] {
    return [...this.objectsOf(selection.resource).values()].filter((o) => selects(selection, o)).sort(compareObjects);
  }

  private serveList(res: http.ServerResponse, target: ResourceTarget, params: URLSearchParams): void {
    const selection = this.selection(res, target, params);
    if (selection === null) return;
    const page = this.listPage(res, selection, params);
    if (page === null) return;
    this.counters.list++;
    const { resource } = target;
    sendJson(res, 200, {
      kind: `${resource.kind}List`,
      apiVersion: apiVersionOf(resource),
      metadata: { resourceVersion: page.resourceVersion, ...(page.continue === null ? {} : { continue: page.continue, remainingItemCount: page.remaining }) },
      items: page.items.map(listItem),
    });
  }

  /** One page of a list: all of it without `limit`; answers 400/410 and returns null for a bad or expired `continue`. */
  private listPage(res: http.ServerResponse, selection: Selection, params: URLSearchParams): ListPage | null {
    const limit = Number(params.get('limit') ?? '0');
    const token = params.get('continue');
    let snapshot: ListSnapshot;
    let offset = 0;
    if (token) {
      const [id, at] = token.split('.');
      const held = this.listSnapshots.get(id ?? '');
      offset = Number(at);
      if (!/^\d+$/.test(at ?? '')) {
        sendStatus(res, 400, 'BadRequest', 'continue key is not valid');
        return null;
      }
      if (!held) {
        sendStatus(res, 410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
        return null;
      }
      snapshot = held;
    } else {
      snapshot = { resourceVersion: String(this.rv), items: this.selected(selection) };
    }
    if (!(Number.isInteger(limit) && limit > 0) || offset + limit >= snapshot.items.length) {
      return { resourceVersion: snapshot.resourceVersion, items: snapshot.items.slice(offset), continue: null, remaining: 0 };
    }
    const id = token ? (token.split('.')[0] ?? '') : randomUUID();
    this.listSnapshots.set(id, snapshot);
    // The oldest snapshots go first, as etcd compacts old revisions.
    while (this.listSnapshots.size > MAX_LIST_SNAPSHOTS) this.listSnapshots.delete(this.listSnapshots.keys().next().value as string);
    const end = offset + limit;
    return { resourceVersion: snapshot.resourceVersion, items: snapshot.items.slice(offset, end), continue: `${id}.${end}`, remaining: snapshot.items.length - end };
  }

  private serveGet(res: http.ServerResponse, resource: ResourceType, namespace: string | null, name: string): void {
    const object = this.objectsOf(resource).get(objectKey(namespace ?? undefined, name));
    if (!object) {
      return sendStatus(res, 404, 'NotFound', `${resource.plural}${resource.group ? `.${resource.group}` : ''} "${name}" not found`, {
        name,
        ...(resource.group ? { group: resource.group } : {}),
        kind: resource.plural,
      });
    }
    this.counters.get++;
    sendJson(res, 200, object);
  }

  private serveWatch(req: http.IncomingMessage, res: http.ServerResponse, target: ResourceTarget, params: URLSearchParams): void {
    const selection = this.selection(res, target, params);
    if (selection === null) return;
    const start = parseWatchStart(params.get('resourceVersion'));
    if (start === null) return sendStatus(res, 400, 'BadRequest', `invalid resource version: ${params.get('resourceVersion') ?? ''}`);
    this.counters.watch++;
    if (this.expireRemaining > 0) {
      this.expireRemaining--;
      return this.expire(res, start, 'lab fault: watch expired');
    }
    if (start.kind === 'after' && start.rv < this.historyStartRv) {
      return this.expire(res, start, `too old resource version: ${start.rv} (${this.historyStartRv + 1})`);
    }
    const watcher: Watcher = { ...selection, res, silenced: false, timer: null };
    this.watchers.add(watcher);
    res.on('close', () => this.forgetWatcher(watcher));
    if (this.hang !== null) {
      this.silence(watcher);
      if (this.hang.sendHeaders) this.writeWatchHeaders(res);
      return;
    }
    this.writeWatchHeaders(res);
    this.replay(watcher, start);
    const timeoutSeconds = Number(params.get('timeoutSeconds') ?? '0');
    if (Number.isFinite(timeoutSeconds) && timeoutSeconds > 0) {
      watcher.timer = setTimeout(() => this.endWatcher(watcher, 'end'), timeoutSeconds * 1000);
    }
    // Only the request's socket going away ends a watch early; a client never sends a body.
    req.resume();
  }

  /** POST, PUT and DELETE of a writable kind (Leases); 405 for every other kind, as before. */
  private async serveWrite(req: http.IncomingMessage, res: http.ServerResponse, segments: readonly string[]): Promise<void> {
    const target = parseResourcePath(this.types, segments);
    const verb = req.method === 'POST' ? 'create' : req.method === 'PUT' ? 'update' : req.method === 'DELETE' ? 'delete' : null;
    if (target === null || verb === null || !(target.resource.writeVerbs ?? []).includes(verb) || target.watch) {
      req.resume();
      return sendStatus(res, 405, 'MethodNotAllowed', `the lab API server is read-only over HTTP for this path (${req.method ?? ''})`);
    }
    if ((verb === 'create') !== (target.name === null)) {
      req.resume();
      return sendStatus(res, 405, 'MethodNotAllowed', `${req.method ?? ''} is not allowed on this path`);
    }
    const body = verb === 'delete' ? null : await readJsonBody(req);
    if (verb !== 'delete' && (body === null || !isPlainObject(body))) return sendStatus(res, 400, 'BadRequest', 'the request body is not a JSON object');
    try {
      if (verb === 'delete') return this.httpDelete(res, target);
      const answer = verb === 'create' ? this.httpCreate(target, body as LabObject) : this.httpReplace(target, body as LabObject);
      sendJson(res, answer.code, answer.body);
    } catch (err) {
      if (!(err instanceof WriteRefused)) throw err;
      sendStatus(res, err.status, err.reason, err.message, err.details);
    }
  }

  /** What a write names, checked against the path: 400 BadRequest for a wrong kind, namespace or name. */
  private writtenObject(target: ResourceTarget, input: LabObject): LabObject {
    const { resource } = target;
    if (input.apiVersion !== apiVersionOf(resource) || input.kind !== resource.kind) throw new WriteRefused(400, 'BadRequest', `the body is not a ${apiVersionOf(resource)} ${resource.kind}`);
    if (!isPlainObject(input.metadata) || typeof input.metadata.name !== 'string' || input.metadata.name === '') {
      throw new WriteRefused(422, 'Invalid', `${resource.kind}.${resource.group} "" is invalid: metadata.name: Required value: name is required`);
    }
    const namespace = input.metadata.namespace ?? target.namespace ?? undefined;
    if (namespace !== (target.namespace ?? undefined)) throw new WriteRefused(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    if (target.name !== null && input.metadata.name !== target.name) throw new WriteRefused(400, 'BadRequest', 'the name of the object does not match the name on the URL');
    return this.prepare(resource, { ...input, metadata: { ...input.metadata, namespace } });
  }

  /** POST: creates, or 409 AlreadyExists. */
  private httpCreate(target: ResourceTarget, input: LabObject): { code: number; body: LabObject } {
    const object = this.writtenObject(target, input);
    const { resource } = target;
    const key = objectKey(object.metadata.namespace, object.metadata.name);
    if (this.objectsOf(resource).has(key)) {
      throw new WriteRefused(409, 'AlreadyExists', `${resource.plural}.${resource.group} "${object.metadata.name}" already exists`, { name: object.metadata.name, group: resource.group, kind: resource.plural });
    }
    object.metadata.uid = randomUUID();
    object.metadata.creationTimestamp = timestamp(this.now());
    return { code: 201, body: this.commit(resource, 'ADDED', object, null) };
  }

  /** PUT: replaces; 404 when absent, 409 Conflict when the body's resourceVersion is not the stored one. */
  private httpReplace(target: ResourceTarget, input: LabObject): { code: number; body: LabObject } {
    const object = this.writtenObject(target, input);
    const { resource } = target;
    const previous = this.objectsOf(resource).get(objectKey(object.metadata.namespace, object.metadata.name)) ?? null;
    const details = { name: object.metadata.name, group: resource.group, kind: resource.plural };
    if (previous === null) throw new WriteRefused(404, 'NotFound', `${resource.plural}.${resource.group} "${object.metadata.name}" not found`, details);
    const sent = object.metadata.resourceVersion;
    // Optimistic concurrency: an update based on an older read loses (an absent rv is unconditional, as for Leases upstream).
    if (sent !== undefined && sent !== '' && sent !== previous.metadata.resourceVersion) {
      throw new WriteRefused(409, 'Conflict', `Operation cannot be fulfilled on ${resource.plural}.${resource.group} "${object.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`, details);
    }
    object.metadata.uid = previous.metadata.uid;
    object.metadata.creationTimestamp = previous.metadata.creationTimestamp;
    object.metadata.resourceVersion = previous.metadata.resourceVersion;
    // A no-op update keeps the resourceVersion, as the real server does.
    if (contentOf(object) === contentOf(previous)) return { code: 200, body: clone(previous) };
    return { code: 200, body: this.commit(resource, 'MODIFIED', object, previous) };
  }

  /** DELETE: the object's final state, or 404. */
  private httpDelete(res: http.ServerResponse, target: ResourceTarget): void {
    const { resource } = target;
    const previous = this.objectsOf(resource).get(objectKey(target.namespace ?? undefined, target.name ?? '')) ?? null;
    if (previous === null) return sendStatus(res, 404, 'NotFound', `${resource.plural}.${resource.group} "${target.name ?? ''}" not found`, { name: target.name, group: resource.group, kind: resource.plural });
    sendJson(res, 200, this.commit(resource, 'DELETED', clone(previous), previous));
  }

  private writeWatchHeaders(res: http.ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
  }

  /** The real server's answer to a watch it cannot serve from history: 200, one ERROR event with a 410 Status, end. */
  private expire(res: http.ServerResponse, start: WatchStart, message: string): void {
    this.writeWatchHeaders(res);
    writeEvent(res, 'ERROR', statusObject(410, 'Expired', start.kind === 'after' ? message : `${message} (no resourceVersion)`));
    res.end();
  }

  private replay(watcher: Watcher, start: WatchStart): void {
    if (start.kind === 'current') {
      for (const object of this.selected(watcher)) writeEvent(watcher.res, 'ADDED', object);
      return;
    }
    for (const entry of this.history) {
      if (entry.rv <= start.rv) continue;
      const event = eventFor(watcher, entry);
      if (event) writeEvent(watcher.res, event.type, event.object);
    }
  }
}
