// Leader election over a coordination.k8s.io/v1 Lease, as Kubernetes controllers do it (client-go's
// leaderelection, which @kubernetes/client-node 1.4 does not have): the holder renews the Lease every
// renewEveryMs with an update carrying the resourceVersion it read, so of two replicas writing from
// the same read one gets 409 Conflict and stays a standby. A standby takes the Lease when the record
// has not changed for leaseDurationMs by its own clock (never comparing another replica's clock
// with its own), or at once when the holder released it. A leader that cannot renew steps down
// before anyone else may take over, so two replicas never lead at once with clocks running alike.
//
// nextStep is pure; LeaseElector is the thin I/O loop around it.

import type { V1Lease } from '@kubernetes/client-node';

/** The annotation in which the leader says until when every alert of its has been settled (ms since the epoch). */
export const SETTLED_BEFORE_ANNOTATION = 'hopwatch.io/alerts-settled-before';

/** A Lease as the election reads it. */
export interface LeaseRecord {
  /** spec.holderIdentity; null when released or never held. */
  holder: string | null;
  /** spec.leaseDurationSeconds in ms. */
  durationMs: number;
  /** spec.leaseTransitions. */
  transitions: number;
  /** metadata.resourceVersion: the update must carry it. */
  resourceVersion: string;
  /** The holder's SETTLED_BEFORE_ANNOTATION, null when absent or not a number. */
  settledBeforeMs: number | null;
}

/** What to do next. */
export type LeaseStep =
  /** No Lease yet: create it, holding it. */
  | { kind: 'create' }
  /** This replica holds it: renew. */
  | { kind: 'renew' }
  /** Released or expired: take it (a transition). */
  | { kind: 'take' }
  /** Another replica holds it: stand by. */
  | { kind: 'follow'; holder: string; expiresInMs: number };

/**
 * The next step of `identity` given the Lease (null when there is none), when this replica first saw
 * the record in its current version (observedAtMs, by its own clock) and now.
 */
export function nextStep(record: LeaseRecord | null, identity: string, observedAtMs: number, nowMs: number): LeaseStep {
  if (record === null) return { kind: 'create' };
  if (record.holder === identity) return { kind: 'renew' };
  if (record.holder === null || record.holder === '') return { kind: 'take' };
  const expiresInMs = observedAtMs + record.durationMs - nowMs;
  return expiresInMs <= 0 ? { kind: 'take' } : { kind: 'follow', holder: record.holder, expiresInMs };
}

/** The record of a Lease object. */
export function recordOf(lease: V1Lease): LeaseRecord {
  const settled = Number(lease.metadata?.annotations?.[SETTLED_BEFORE_ANNOTATION] ?? Number.NaN);
  return {
    holder: lease.spec?.holderIdentity ?? null,
    durationMs: (lease.spec?.leaseDurationSeconds ?? 0) * 1000,
    transitions: lease.spec?.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion ?? '',
    settledBeforeMs: Number.isFinite(settled) ? settled : null,
  };
}

/** The Lease to write for a step: the read object (with its resourceVersion) changed to hold it, or a new one. */
export function leaseToWrite(read: V1Lease | null, step: 'create' | 'renew' | 'take' | 'release', who: { identity: string; name: string; namespace: string; durationMs: number; nowMs: number; annotations: Record<string, string> }): V1Lease {
  const now = new Date(who.nowMs);
  const transitions = read?.spec?.leaseTransitions ?? 0;
  const metadata = { ...(read?.metadata ?? { name: who.name, namespace: who.namespace }) };
  metadata.annotations = { ...(metadata.annotations ?? {}), ...who.annotations };
  const spec: V1Lease['spec'] = {
    ...(read?.spec ?? {}),
    holderIdentity: who.identity,
    leaseDurationSeconds: Math.max(1, Math.ceil(who.durationMs / 1000)),
    renewTime: now,
  };
  if (step === 'create' || step === 'take') {
    spec.acquireTime = now;
    spec.leaseTransitions = step === 'take' ? transitions + 1 : 0;
  }
  // client-go's release: no holder and a 1 s duration, so a standby takes it at its next try.
  if (step === 'release') {
    delete spec.holderIdentity;
    spec.leaseDurationSeconds = 1;
  }
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata, spec };
}

/** The calls the election makes (CoordinationV1Api has them). */
export interface LeaseApi {
  /** GET the Lease. */
  readNamespacedLease(param: { name: string; namespace: string }): Promise<V1Lease>;
  /** POST a Lease. */
  createNamespacedLease(param: { namespace: string; body: V1Lease }): Promise<V1Lease>;
  /** PUT the Lease (409 when its resourceVersion is stale). */
  replaceNamespacedLease(param: { name: string; namespace: string; body: V1Lease }): Promise<V1Lease>;
}

/** What LeaseElector needs. */
export interface ElectorDeps {
  /** The API calls. */
  api: LeaseApi;
  /** The Lease's name and namespace. */
  name: string;
  /** Namespace of the Lease. */
  namespace: string;
  /** This replica's holder identity. */
  identity: string;
  /** How long the Lease stays held without a renewal. */
  durationMs: number;
  /** How often to renew or try. */
  renewEveryMs: number;
  /** Clock (ms). */
  now: () => number;
  /** Timers (injected for tests). */
  setTimer: (fn: () => void, ms: number) => unknown;
  /** Cancels a timer. */
  clearTimer: (handle: unknown) => void;
  /** Log lines. */
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Annotations the leader writes with every renewal (the alerts watermark). */
  annotations: () => Record<string, string>;
  /** Called when this replica starts or stops leading. */
  onLeading: (leading: boolean) => void;
  /** Called with every record read while another replica leads. */
  onFollow?: (record: LeaseRecord) => void;
}

/** The HTTP status of a client-node ApiException, null for other errors (network, bugs). */
function statusOf(error: unknown): number | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : null;
}

/** The election loop of one replica. */
export class LeaseElector {
  readonly #deps: ElectorDeps;
  #leading = false;
  #holder: string | null = null;
  #observed: { resourceVersion: string; atMs: number } | null = null;
  #lastRenewMs = Number.NEGATIVE_INFINITY;
  #timer: unknown = null;
  #running: Promise<void> | null = null;
  #stopped = false;
  #failing = false;

  constructor(deps: ElectorDeps) {
    this.#deps = deps;
  }

  /** Whether this replica holds the Lease now. */
  get leading(): boolean {
    return this.#leading;
  }

  /** The holder last seen (this replica's identity while leading), null when none. */
  get holder(): string | null {
    return this.#holder;
  }

  /** Starts trying at once, then every renewEveryMs. */
  start(): void {
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#deps.setTimer(() => {
      this.#running = this.tick().finally(() => {
        this.#running = null;
        this.#schedule(this.#deps.renewEveryMs);
      });
    }, ms);
  }

  /** One read-decide-write step (public for tests that drive the clock). */
  async tick(): Promise<void> {
    const { api, name, namespace } = this.#deps;
    let read: V1Lease | null;
    try {
      read = await api.readNamespacedLease({ name, namespace }).catch((error: unknown) => {
        if (statusOf(error) === 404) return null;
        throw error;
      });
    } catch (error) {
      return this.#failed('read', error);
    }
    const now = this.#deps.now();
    const record = read === null ? null : recordOf(read);
    if (record !== null && record.resourceVersion !== this.#observed?.resourceVersion) this.#observed = { resourceVersion: record.resourceVersion, atMs: now };
    const step = nextStep(record, this.#deps.identity, this.#observed?.atMs ?? now, now);
    if (step.kind === 'follow') {
      this.#holder = step.holder;
      this.#setLeading(false);
      if (record !== null) this.#deps.onFollow?.(record);
      return;
    }
    await this.#write(read, step.kind);
  }

  async #write(read: V1Lease | null, step: 'create' | 'renew' | 'take'): Promise<void> {
    const { api, name, namespace, identity } = this.#deps;
    const body = leaseToWrite(read, step, { identity, name, namespace, durationMs: this.#deps.durationMs, nowMs: this.#deps.now(), annotations: this.#deps.annotations() });
    try {
      const written = step === 'create' ? await api.createNamespacedLease({ namespace, body }) : await api.replaceNamespacedLease({ name, namespace, body });
      this.#lastRenewMs = this.#deps.now();
      this.#observed = { resourceVersion: written.metadata?.resourceVersion ?? '', atMs: this.#lastRenewMs };
      this.#holder = identity;
      if (this.#failing) this.#deps.log('info', `lease ${namespace}/${name}: reachable again`);
      this.#failing = false;
      this.#setLeading(true);
    } catch (error) {
      // 409: another replica wrote first (AlreadyExists on create, Conflict on update): it leads.
      if (statusOf(error) === 409) {
        this.#deps.log('info', `lease ${namespace}/${name}: another replica wrote first (409), standing by`);
        this.#setLeading(false);
        return;
      }
      this.#failed(step, error);
    }
  }

  /** An API call failed: a leader keeps leading only while no other replica could have taken over. */
  #failed(what: string, error: unknown): void {
    if (!this.#failing) this.#deps.log('warn', `lease ${this.#deps.namespace}/${this.#deps.name}: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    this.#failing = true;
    const sinceRenew = this.#deps.now() - this.#lastRenewMs;
    if (this.#leading && sinceRenew >= this.#deps.durationMs - this.#deps.renewEveryMs) {
      this.#deps.log('warn', `lease ${this.#deps.namespace}/${this.#deps.name}: not renewed for ${Math.round(sinceRenew)} ms, stepping down`);
      this.#setLeading(false);
    }
  }

  #setLeading(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    this.#deps.log('info', `lease ${this.#deps.namespace}/${this.#deps.name}: ${this.#deps.identity} ${leading ? 'leads: sends incident alerts' : 'stands by'}`);
    this.#deps.onLeading(leading);
  }

  /** Stops trying; a leader releases the Lease so a standby takes it at its next try, not after expiry. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) this.#deps.clearTimer(this.#timer);
    await this.#running;
    if (!this.#leading) return;
    this.#setLeading(false);
    const { api, name, namespace, identity } = this.#deps;
    try {
      const read = await api.readNamespacedLease({ name, namespace });
      if (read.spec?.holderIdentity !== identity) return;
      await api.replaceNamespacedLease({ name, namespace, body: leaseToWrite(read, 'release', { identity, name, namespace, durationMs: this.#deps.durationMs, nowMs: this.#deps.now(), annotations: this.#deps.annotations() }) });
      this.#deps.log('info', `lease ${namespace}/${name}: released`);
    } catch (error) {
      // At worst a standby waits for the expiry.
      this.#deps.log('warn', `lease ${namespace}/${name}: not released: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
