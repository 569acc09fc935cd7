// hopwatch's watch adapter: client-node informers for every kind of ClusterSnapshot,
// kept alive through the failures client-node 1.4 does not recover from by itself.
//
// What client-node 1.4 does (dist/cache.js, dist/watch.js), and what follows here:
// - a ListWatch relists by itself only on 410 (a 410 response, or an ERROR event with
//   code 410 followed by the end of the stream); on any other error (a 500, a refused
//   connection, a watch closed mid-stream) it calls its error callbacks and stops for
//   good. Each watch unit restarts its informer itself, with capped exponential backoff
//   and jitter, and keeps its last known objects meanwhile.
// - Watch sets no timeout on the request (it builds a 30 s timeout signal, then
//   overwrites it), so a silently hung watch never ends. A unit that saw nothing for
//   watchIdleRestartMs is restarted (and relists, so what it missed shows up).
// - ListWatch.stop() aborts only a watch whose response headers have arrived, and a
//   stopped ListWatch whose list was in flight still opens its watch afterwards. So an
//   abandoned informer is told apart by a generation number: its callbacks are ignored,
//   its late list is refused, and any late activity stops it again.
// - Lists are not client-node's typed list calls (their class instances cost a sync most of its
//   time and the watch twice the memory of the parsed JSON): list.ts asks the same URLs with the
//   kubeconfig's credentials, in pages of 500. Listed and watched objects alike are plain JSON
//   (list items without apiVersion/kind) made typed in place (typed.ts: Date fields, NetworkPolicy
//   `spec.ingress[].from` is `_from`, metadata.managedFields dropped), so consumers see one form, the
//   typed one of client-node's models; the informer itself gets stubs (names and resourceVersions).

import {
  ADD,
  ApisApi,
  CONNECT,
  CustomObjectsApi,
  DELETE,
  ERROR,
  makeInformer,
  UPDATE,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ObjectChange, ObjectChanges } from './incremental.js';
import { GATEWAY_API_GROUP } from './gateway-types.js';
import { listObjects, type ObjectList } from './list.js';
import { emptySnapshot, type ClusterSnapshot } from './snapshot.js';
import { typeInPlace } from './typed.js';

/** Overall state: before the first full list of every kind, all watches healthy, or some failing. */
export type ClusterWatchState = 'connecting' | 'synced' | 'degraded';

/** Severity of a log line. */
export type ClusterWatchLogLevel = 'info' | 'warn' | 'error';

/** Receives one line per state change (never one per retry). */
export type ClusterWatchLogger = (level: ClusterWatchLogLevel, message: string) => void;

/** Waits `ms`, rejecting when `signal` aborts. */
export type DelayFn = (ms: number, signal: AbortSignal) => Promise<void>;

/** Options of startClusterWatch. */
export interface ClusterWatchOptions {
  /** Cluster access (its current context is used). */
  kubeConfig: KubeConfig;
  /** Namespaces to watch namespaced kinds in; null for all. Cluster-scoped kinds are always watched cluster-wide. */
  namespaces: readonly string[] | null;
  /** Restart a watch unit that has seen no event for this long. */
  watchIdleRestartMs: number;
  /** Longest wait between restarts after errors. */
  maxBackoffMs: number;
  /** First wait after an error; default min(500, maxBackoffMs). */
  initialBackoffMs?: number;
  /** onChange listeners run this long after the first change of a burst; default 10. */
  debounceMs?: number;
  /** Waits between restarts; default node:timers/promises setTimeout. */
  delay?: DelayFn;
  /** Clock in ms (idle detection, backoff reset); default Date.now. */
  now?: () => number;
  /** Jitter source in [0, 1); default Math.random. */
  random?: () => number;
  /** Where state changes are told. */
  log: ClusterWatchLogger;
  /** How often API discovery is asked again whether the Gateway API is installed, while it is not; default 60000. */
  gatewayApiRecheckMs?: number;
}

/** A running watch of the cluster. */
export interface ClusterWatch {
  /** The current objects of every kind, sorted by namespace and name (shared instances: read only). */
  snapshot(): ClusterSnapshot;
  /** Calls the listener (debounced) after objects changed; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
  /** The objects changed since the last call (the first call, and after a relist: everything); for one consumer (IncrementalRoutes). */
  takeChanges?(): ObjectChanges;
  /** Resolves after the first full list of every kind; rejects with ClusterWatchError('stopped') if stopped before. */
  readonly synced: Promise<void>;
  /** The current state. */
  readonly state: ClusterWatchState;
  /** Calls the listener on every state change; returns the unsubscribe function. */
  onState(listener: (state: ClusterWatchState) => void): () => void;
  /** Stops every informer and timer. */
  stop(): Promise<void>;
}

/** Stable codes of ClusterWatchError. */
export type ClusterWatchErrorCode = 'stopped' | 'bad-options';

/** Bad options, or a watch stopped before it synced. */
export class ClusterWatchError extends Error {
  /** Stable code. */
  readonly code: ClusterWatchErrorCode;

  constructor(code: ClusterWatchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterWatchError';
    this.code = code;
  }
}

/** Delay before restart number `attempt` (1-based): doubling from initialMs, capped at maxMs, the upper half jittered. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

// ---------------------------------------------------------------------------
// The kinds

interface Apis {
  custom: CustomObjectsApi;
}

/** One watched kind. */
interface KindSpec {
  key: keyof ClusterSnapshot;
  apiVersion: string;
  kind: string;
  /** client-node model name of the typed form (typed.ts); null for CRDs (kept as the JSON the server sent). */
  model: string | null;
  plural: string;
  namespaced: boolean;
}

const KINDS: readonly KindSpec[] = [
  { key: 'namespaces', apiVersion: 'v1', kind: 'Namespace', model: 'V1Namespace', plural: 'namespaces', namespaced: false },
  { key: 'pods', apiVersion: 'v1', kind: 'Pod', model: 'V1Pod', plural: 'pods', namespaced: true },
  { key: 'services', apiVersion: 'v1', kind: 'Service', model: 'V1Service', plural: 'services', namespaced: true },
  { key: 'endpointSlices', apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', model: 'V1EndpointSlice', plural: 'endpointslices', namespaced: true },
  { key: 'ingresses', apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', model: 'V1Ingress', plural: 'ingresses', namespaced: true },
  { key: 'ingressClasses', apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', model: 'V1IngressClass', plural: 'ingressclasses', namespaced: false },
  { key: 'networkPolicies', apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', model: 'V1NetworkPolicy', plural: 'networkpolicies', namespaced: true },
  { key: 'deployments', apiVersion: 'apps/v1', kind: 'Deployment', model: 'V1Deployment', plural: 'deployments', namespaced: true },
  { key: 'replicaSets', apiVersion: 'apps/v1', kind: 'ReplicaSet', model: 'V1ReplicaSet', plural: 'replicasets', namespaced: true },
];

/** The Gateway API kinds hopwatch watches: snapshot key, kind, plural. */
const GATEWAY_KINDS: readonly { key: keyof ClusterSnapshot; kind: string; plural: string }[] = [
  { key: 'gatewayClasses', kind: 'GatewayClass', plural: 'gatewayclasses' },
  { key: 'gateways', kind: 'Gateway', plural: 'gateways' },
  { key: 'httpRoutes', kind: 'HTTPRoute', plural: 'httproutes' },
  { key: 'grpcRoutes', kind: 'GRPCRoute', plural: 'grpcroutes' },
  { key: 'referenceGrants', kind: 'ReferenceGrant', plural: 'referencegrants' },
];

/** The resources API discovery lists per version of the Gateway API group; null: the group is not served. */
export type GatewayApiResources = Record<string, string[]> | null;

/**
 * Pure: the Gateway API kinds to watch, each at the newest served version of v1 and v1beta1 (ReferenceGrant
 * is v1beta1 before Gateway API v1.5); a kind no version serves is not watched (its watch would fail for ever).
 */
export function gatewayKinds(resources: GatewayApiResources): KindSpec[] {
  if (resources === null) return [];
  return GATEWAY_KINDS.flatMap(({ key, kind, plural }) => {
    const version = ['v1', 'v1beta1'].find((v) => (resources[v] ?? []).includes(plural));
    if (version === undefined) return [];
    const spec: KindSpec = { key, apiVersion: `${GATEWAY_API_GROUP}/${version}`, kind, model: null, plural, namespaced: kind !== 'GatewayClass' };
    return [spec];
  });
}

/** Asks API discovery (not a failing informer) whether the Gateway API group is served, and which resources. */
async function discoverGatewayApi(kubeConfig: KubeConfig, apis: Apis): Promise<GatewayApiResources> {
  const groups = await kubeConfig.makeApiClient(ApisApi).getAPIVersions();
  const group = groups.groups.find((g) => g.name === GATEWAY_API_GROUP);
  if (!group) return null;
  const resources: Record<string, string[]> = {};
  for (const { version } of group.versions) {
    if (version !== 'v1' && version !== 'v1beta1') continue;
    const list = await apis.custom.getAPIResources({ group: GATEWAY_API_GROUP, version });
    resources[version] = list.resources.map((r) => r.name);
  }
  return resources;
}

function resourcePath(spec: KindSpec, namespace: string | null): string {
  const prefix = spec.apiVersion.includes('/') ? `/apis/${spec.apiVersion}` : `/api/${spec.apiVersion}`;
  return namespace === null ? `${prefix}/${spec.plural}` : `${prefix}/namespaces/${encodeURIComponent(namespace)}/${spec.plural}`;
}

function objectKey(object: KubernetesObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

/** What client-node's ListWatch reads of its cached objects: names and the resourceVersion (cache.js). */
function stubOf(object: KubernetesObject): KubernetesObject {
  // Without a resourceVersion the informer cannot tell a replayed add from a change: keep the object.
  if (object.metadata?.resourceVersion === undefined) return object;
  const { name, namespace, resourceVersion } = object.metadata;
  return { apiVersion: object.apiVersion, kind: object.kind, metadata: { name, namespace, resourceVersion } };
}

/** Reduces an object the informer caches to its stub, in place (the typed copy is already made). */
function slim(object: KubernetesObject): void {
  if (object.metadata?.resourceVersion === undefined) return;
  const stub = stubOf(object);
  for (const key of Object.keys(object)) if (key !== 'apiVersion' && key !== 'kind') delete (object as Record<string, unknown>)[key];
  // A new metadata object: the typed copy may share nested values with the old one, never this one.
  object.metadata = stub.metadata;
}

function compareObjects(a: KubernetesObject, b: KubernetesObject): number {
  const ka = objectKey(a);
  const kb = objectKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** A short description of an informer error: the HTTP status or the socket error code, and the first line. */
export function describeWatchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const fields = err as Error & { code?: unknown; statusCode?: unknown };
  const firstLine = err.message.split('\n')[0] ?? '';
  // client-node's ApiException carries the HTTP status in `code`; Watch's own errors in `statusCode`.
  if (typeof fields.code === 'number') return `HTTP ${fields.code}`;
  if (typeof fields.statusCode === 'number') return `HTTP ${fields.statusCode} ${firstLine}`;
  return typeof fields.code === 'string' ? `${fields.code}: ${firstLine}` : firstLine;
}

// ---------------------------------------------------------------------------
// One informer, restarted as needed

/** What every unit shares. */
interface UnitContext {
  kubeConfig: KubeConfig;
  apis: Apis;
  signal: AbortSignal;
  watchIdleRestartMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  delay: DelayFn;
  now: () => number;
  random: () => number;
  log: ClusterWatchLogger;
  /** Objects of a unit changed: one object (null: deleted), or every object of the kind (a relist). */
  changed: (change: ObjectChange | 'all') => void;
  /** A unit's `listed` or `health` changed. */
  statusChanged: () => void;
}

type LiveInformer = Informer<KubernetesObject> & ObjectCache<KubernetesObject>;

/** One kind in one namespace (or cluster-wide): an informer, its objects, and its restarts. */
class WatchUnit {
  /** The unit's current objects, normalised, by namespace/name. */
  objects = new Map<string, KubernetesObject>();
  /** Its first list has arrived. */
  listed = false;
  /** failing from an error until a restarted informer's watch is established again. */
  health: 'starting' | 'ok' | 'failing' = 'starting';
  /** Human name, e.g. "pods in all namespaces". */
  readonly label: string;
  private generation = 0;
  private informer: LiveInformer | null = null;
  private attempts = 0;
  private startedAt = 0;
  private lastActivityAt = 0;
  private idleRestarts = 0;

  constructor(
    readonly spec: KindSpec,
    private readonly namespace: string | null,
    private readonly ctx: UnitContext,
  ) {
    const where = !spec.namespaced ? '' : namespace === null ? ' in all namespaces' : ` in namespace ${namespace}`;
    this.label = `${spec.plural}${where}`;
  }

  /** Starts a fresh informer (a new generation: everything from older ones is ignored). */
  start(): void {
    if (this.ctx.signal.aborted) return;
    const generation = ++this.generation;
    const informer = makeInformer(this.ctx.kubeConfig, resourcePath(this.spec, this.namespace), () => this.list(generation));
    this.informer = informer;
    this.startedAt = this.lastActivityAt = this.ctx.now();
    const current = (): boolean => this.isCurrent(generation, informer);
    informer.on(ADD, (object) => current() && this.upsert(object));
    informer.on(UPDATE, (object) => current() && this.upsert(object));
    informer.on(DELETE, (object) => current() && this.remove(object));
    informer.on(CONNECT, () => current() && this.touch());
    informer.on(ERROR, (err: unknown) => current() && this.fail(err));
    // start() settles once the first watch has its response: for a 200 that is after the
    // error callbacks of a failed list or watch would already have run (synchronously).
    informer.start().then(
      () => current() && this.established(),
      (err: unknown) => current() && this.fail(err),
    );
  }

  /** Stops the informer; its late callbacks are ignored from now on. */
  halt(): Promise<void> {
    this.generation++;
    const informer = this.informer;
    this.informer = null;
    return informer ? informer.stop().catch(() => undefined) : Promise.resolve();
  }

  /** Restarts the informer when it has seen nothing for watchIdleRestartMs. */
  checkIdle(): void {
    if (this.informer === null || this.ctx.now() - this.lastActivityAt < this.ctx.watchIdleRestartMs) return;
    this.idleRestarts++;
    if (this.idleRestarts === 1) {
      this.ctx.log('info', `${this.label}: no watch event for ${this.ctx.watchIdleRestartMs} ms, restarting its informer (repeated silently while it stays idle)`);
    }
    void this.halt();
    this.start();
  }

  private isCurrent(generation: number, informer: LiveInformer): boolean {
    if (generation === this.generation) return true;
    // An abandoned informer can come back to life (see the file comment): stop it again.
    informer.stop().catch(() => undefined);
    return false;
  }

  /** The informer's list function: the list as parsed JSON, in pages (list.ts), made typed in place (typed.ts). */
  private async list(generation: number): Promise<ObjectList> {
    const result = await listObjects(this.ctx.kubeConfig, resourcePath(this.spec, this.namespace), this.ctx.signal);
    // Refusing a stale list keeps an abandoned ListWatch from opening its watch afterwards.
    if (generation !== this.generation) throw new ClusterWatchError('stopped', `${this.label}: list of an abandoned informer`);
    const items = result.items.map((item) => this.normalise(item, true));
    this.replaceAll(items);
    // The informer keeps its own cache of every object, but reads only names and resourceVersions
    // from it (to tell adds, updates and deletes apart): hand it stubs, so objects are held once.
    return { metadata: result.metadata, items: items.map(stubOf) };
  }

  /**
   * The unit's own object for one the server sent, made typed in place for a built-in kind. A list item
   * (which comes without apiVersion and kind) is the object itself: assigning two fields costs far less
   * than a copy (a spread copy of each listed object held 5 MB more at 20,000 objects). A watched
   * object is the very one the informer caches, slimmed afterwards (see slim()): a new top-level object
   * sharing the parsed nested values.
   */
  private normalise(raw: KubernetesObject, listed: boolean): KubernetesObject {
    const object: KubernetesObject = listed ? raw : { ...raw };
    object.apiVersion = this.spec.apiVersion;
    object.kind = this.spec.kind;
    return this.spec.model === null ? object : typeInPlace(object, this.spec.model);
  }

  /** The unit's objects from a list. */
  private replaceAll(items: KubernetesObject[]): void {
    const next = new Map<string, KubernetesObject>();
    for (const object of items) next.set(objectKey(object), object);
    const changed =
      next.size !== this.objects.size ||
      [...next].some(([key, object]) => this.objects.get(key)?.metadata?.resourceVersion !== object.metadata?.resourceVersion);
    this.objects = next;
    this.touch();
    if (!this.listed) {
      this.listed = true;
      this.ctx.statusChanged();
    }
    if (changed) this.ctx.changed('all');
  }

  private upsert(raw: KubernetesObject): void {
    this.touch();
    const key = objectKey(raw);
    const version = raw.metadata?.resourceVersion;
    // The informer replays every listed item as an add: those are already here.
    if (version !== undefined && this.objects.get(key)?.metadata?.resourceVersion === version) return;
    const object = this.normalise(raw, false);
    this.objects.set(key, object);
    // `raw` is the very object the informer caches: reduce it to what the informer reads (see list()).
    slim(raw);
    this.idleRestarts = 0;
    this.ctx.changed({ kind: this.spec.key, key, object });
  }

  private remove(raw: KubernetesObject): void {
    this.touch();
    const key = objectKey(raw);
    if (!this.objects.delete(key)) return;
    this.idleRestarts = 0;
    this.ctx.changed({ kind: this.spec.key, key, object: null });
  }

  private touch(): void {
    this.lastActivityAt = this.ctx.now();
  }

  private established(): void {
    if (this.health === 'ok') return;
    if (this.health === 'failing') {
      this.ctx.log('info', `${this.label}: watch recovered after ${this.attempts} restart${this.attempts === 1 ? '' : 's'}`);
    }
    this.health = 'ok';
    this.ctx.statusChanged();
  }

  private fail(err: unknown): void {
    if (this.ctx.signal.aborted) return;
    // An informer that ran longer than the longest backoff failed afresh: start the backoff over.
    if (this.ctx.now() - this.startedAt >= this.ctx.maxBackoffMs) this.attempts = 0;
    this.attempts++;
    void this.halt();
    if (this.health !== 'failing') {
      this.health = 'failing';
      this.ctx.log('warn', `${this.label}: watch failed (${describeWatchError(err)}); restarting with backoff, keeping the last known objects`);
      this.ctx.statusChanged();
    }
    void this.restartAfter(backoffMs(this.attempts, this.ctx.initialBackoffMs, this.ctx.maxBackoffMs, this.ctx.random));
  }

  private async restartAfter(ms: number): Promise<void> {
    try {
      await this.ctx.delay(ms, this.ctx.signal);
    } catch {
      return; // aborted: the whole watch was stopped
    }
    this.start();
  }
}

// ---------------------------------------------------------------------------
// The cluster watch

function validate(options: ClusterWatchOptions): void {
  const bad = (message: string): never => {
    throw new ClusterWatchError('bad-options', message);
  };
  if (!(options.watchIdleRestartMs > 0)) bad(`watchIdleRestartMs must be > 0, got ${options.watchIdleRestartMs}`);
  if (!(options.maxBackoffMs > 0)) bad(`maxBackoffMs must be > 0, got ${options.maxBackoffMs}`);
  if (options.initialBackoffMs !== undefined && !(options.initialBackoffMs > 0)) bad(`initialBackoffMs must be > 0, got ${options.initialBackoffMs}`);
  if (options.namespaces !== null && (options.namespaces.length === 0 || options.namespaces.some((ns) => ns === ''))) {
    bad('namespaces must be null (all) or a list of non-empty names');
  }
  if (!options.kubeConfig.getCurrentCluster()) bad('the kubeconfig has no current cluster');
}

function makeApis(kubeConfig: KubeConfig): Apis {
  return { custom: kubeConfig.makeApiClient(CustomObjectsApi) };
}

/** Changes kept for takeChanges() before they are summed up as "everything" (nobody taking them must not grow memory). */
const MAX_PENDING_CHANGES = 10_000;

const defaultDelay: DelayFn = (ms, signal) => sleep(ms, undefined, { signal });

class ClusterWatchImpl implements ClusterWatch {
  readonly synced: Promise<void>;
  state: ClusterWatchState = 'connecting';
  private readonly units: WatchUnit[];
  private readonly abort = new AbortController();
  /** checking: the first API discovery call is out; absent: not installed (asked again on a timer); present: watched. */
  private gatewayApi: 'checking' | 'absent' | 'present' = 'checking';
  private gatewayTimer: NodeJS.Timeout | null = null;
  /** An API discovery call for the Gateway API is in flight. */
  private gatewayChecking = false;
  private readonly ctx: UnitContext;
  private readonly namespaces: readonly string[] | null;
  private readonly changeListeners = new Set<() => void>();
  private readonly stateListeners = new Set<(state: ClusterWatchState) => void>();
  private readonly log: ClusterWatchLogger;
  private readonly debounceMs: number;
  private settleSynced: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private changeTimer: NodeJS.Timeout | null = null;
  /** Changes since the last takeChanges(); 'all' at first, after a relist, or past MAX_PENDING_CHANGES. */
  private pending: ObjectChange[] | 'all' = 'all';
  private readonly idleTimer: NodeJS.Timeout;

  constructor(options: ClusterWatchOptions) {
    this.log = options.log;
    this.debounceMs = options.debounceMs ?? 10;
    this.synced = new Promise<void>((resolve, reject) => {
      this.settleSynced = { resolve, reject };
    });
    // Whoever awaits `synced` sees a rejection; nobody awaiting it must not crash the process.
    this.synced.catch(() => undefined);
    this.ctx = this.unitContext(options);
    this.namespaces = options.namespaces;
    this.units = KINDS.flatMap((spec) => this.unitsOf(spec));
    const tickMs = Math.min(1000, Math.max(5, Math.floor(options.watchIdleRestartMs / 4)));
    this.idleTimer = setInterval(() => this.units.forEach((unit) => unit.checkIdle()), tickMs);
    for (const unit of this.units) unit.start();
    const recheckMs = options.gatewayApiRecheckMs ?? 60_000;
    void this.checkGatewayApi(recheckMs);
    this.gatewayTimer = setInterval(() => {
      // One check at a time: a slow API discovery call overlapping the next tick found the API twice (every Gateway kind watched twice).
      if (this.gatewayApi === 'absent' && !this.gatewayChecking) void this.checkGatewayApi(recheckMs);
    }, recheckMs);
  }

  private unitsOf(spec: KindSpec): WatchUnit[] {
    const namespaces = !spec.namespaced || this.namespaces === null ? [null] : [...new Set(this.namespaces)];
    return namespaces.map((namespace) => new WatchUnit(spec, namespace, this.ctx));
  }

  /**
   * Asks API discovery whether the Gateway API is installed: when it is, its kinds are watched from now
   * on; when not, one log line says so and the next check comes with the timer (CRDs installed later are
   * picked up). A failed discovery call counts as "not yet", told once.
   */
  private async checkGatewayApi(recheckMs: number): Promise<void> {
    const first = this.gatewayApi === 'checking';
    let resources: GatewayApiResources;
    this.gatewayChecking = true;
    try {
      resources = await discoverGatewayApi(this.ctx.kubeConfig, this.ctx.apis);
    } catch (err) {
      // A watch stopped meanwhile (the daemon is exiting) says nothing more.
      if (first && !this.abort.signal.aborted) this.log('warn', `Gateway API: API discovery failed (${describeWatchError(err)}); watching Ingress routes only, asking again every ${Math.round(recheckMs / 1000)} s`);
      resources = null;
    } finally {
      this.gatewayChecking = false;
    }
    if (this.abort.signal.aborted) return;
    const kinds = gatewayKinds(resources);
    if (kinds.length === 0) {
      if (first && resources === null) this.log('info', `Gateway API not installed (API discovery lists no ${GATEWAY_API_GROUP}): watching Ingress routes only, asking again every ${Math.round(recheckMs / 1000)} s`);
      if (first) this.setGatewayApi('absent');
      return;
    }
    const added = kinds.flatMap((spec) => this.unitsOf(spec));
    this.units.push(...added);
    this.log('info', `Gateway API found: watching ${kinds.map((k) => `${k.kind} ${k.apiVersion}`).join(', ')}`);
    this.setGatewayApi('present');
    for (const unit of added) unit.start();
  }

  private setGatewayApi(state: 'absent' | 'present'): void {
    this.gatewayApi = state;
    if (state === 'present' && this.gatewayTimer !== null) clearInterval(this.gatewayTimer);
    this.updateState();
  }

  private unitContext(options: ClusterWatchOptions): UnitContext {
    return {
      kubeConfig: options.kubeConfig,
      apis: makeApis(options.kubeConfig),
      signal: this.abort.signal,
      watchIdleRestartMs: options.watchIdleRestartMs,
      initialBackoffMs: options.initialBackoffMs ?? Math.min(500, options.maxBackoffMs),
      maxBackoffMs: options.maxBackoffMs,
      delay: options.delay ?? defaultDelay,
      now: options.now ?? Date.now,
      random: options.random ?? Math.random,
      log: options.log,
      changed: (change) => {
        if (change === 'all' || this.pending === 'all' || this.pending.length >= MAX_PENDING_CHANGES) this.pending = 'all';
        else this.pending.push(change);
        this.scheduleChange();
      },
      statusChanged: () => this.updateState(),
    };
  }

  snapshot(): ClusterSnapshot {
    const snapshot = emptySnapshot();
    for (const unit of this.units) {
      // Each unit deserialised its objects with its kind's model, so the widened push is sound.
      (snapshot[unit.spec.key] as KubernetesObject[]).push(...unit.objects.values());
    }
    for (const list of Object.values(snapshot) as KubernetesObject[][]) list.sort(compareObjects);
    return snapshot;
  }

  takeChanges(): ObjectChanges {
    const taken = this.pending;
    this.pending = [];
    return taken === 'all' ? { all: true } : { all: false, changes: taken };
  }

  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => {
      this.changeListeners.delete(listener);
    };
  }

  onState(listener: (state: ClusterWatchState) => void): () => void {
    this.stateListeners.add(listener);
    return () => {
      this.stateListeners.delete(listener);
    };
  }

  async stop(): Promise<void> {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    clearInterval(this.idleTimer);
    if (this.gatewayTimer !== null) clearInterval(this.gatewayTimer);
    if (this.changeTimer) clearTimeout(this.changeTimer);
    this.changeListeners.clear();
    this.stateListeners.clear();
    this.settleSynced?.reject(new ClusterWatchError('stopped', 'the cluster watch was stopped before every kind was listed'));
    this.settleSynced = null;
    await Promise.all(this.units.map((unit) => unit.halt()));
  }

  private scheduleChange(): void {
    if (this.changeTimer !== null || this.abort.signal.aborted) return;
    this.changeTimer = setTimeout(() => {
      this.changeTimer = null;
      this.notify(this.changeListeners, undefined);
    }, this.debounceMs);
  }

  /** Calls every listener; a throwing listener is a bug elsewhere, told in the log without stopping the watch. */
  private notify<T>(listeners: Set<(value: T) => void>, value: T): void {
    for (const listener of [...listeners]) {
      try {
        listener(value);
      } catch (err) {
        this.log('error', `cluster watch listener threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    }
  }

  private computeState(): ClusterWatchState {
    if (this.gatewayApi === 'checking' || !this.units.every((unit) => unit.listed)) return 'connecting';
    return this.units.some((unit) => unit.health === 'failing') ? 'degraded' : 'synced';
  }

  private updateState(): void {
    if (this.abort.signal.aborted) return;
    if (this.settleSynced && this.gatewayApi !== 'checking' && this.units.every((unit) => unit.listed)) {
      this.settleSynced.resolve();
      this.settleSynced = null;
    }
    const next = this.computeState();
    if (next === this.state) return;
    const previous = this.state;
    this.state = next;
    this.logState(previous, next);
    this.notify(this.stateListeners, next);
  }

  private logState(previous: ClusterWatchState, next: ClusterWatchState): void {
    const objects = this.units.reduce((sum, unit) => sum + unit.objects.size, 0);
    if (next === 'degraded') {
      const failing = this.units.filter((unit) => unit.health === 'failing').map((unit) => unit.label);
      this.log('warn', `cluster watch degraded: ${failing.length} of ${this.units.length} watches failing (${failing.join(', ')}); serving the last known objects`);
    } else if (next === 'synced') {
      const verb = previous === 'connecting' ? 'synced' : 'recovered';
      this.log('info', `cluster watch ${verb}: ${this.units.length} watches, ${objects} objects`);
    }
  }
}

/** Starts watching every kind of ClusterSnapshot; see ClusterWatch. Throws ClusterWatchError('bad-options') on bad options. */
export function startClusterWatch(options: ClusterWatchOptions): ClusterWatch {
  validate(options);
  return new ClusterWatchImpl(options);
}
