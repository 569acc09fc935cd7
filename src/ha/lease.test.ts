import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabApiServer } from '../../test/lab/apiserver.js';
import { writeKubeconfig } from '../../test/lab/kubeconfig.js';
import { type ElectorDeps, type LeaseApi, LeaseElector, type LeaseRecord, leaseToWrite, nextStep, recordOf, SETTLED_BEFORE_ANNOTATION } from './lease.js';

const held = (holder: string | null, durationMs = 15_000): LeaseRecord => ({ holder, durationMs, transitions: 0, resourceVersion: '7', settledBeforeMs: null });

describe('nextStep', () => {
  it.each([
    ['no Lease: create it', null, 0, 1000, { kind: 'create' }],
    ['held by me: renew', held('me'), 0, 1_000_000, { kind: 'renew' }],
    ['released (no holder): take at once', held(null), 1000, 1000, { kind: 'take' }],
    ['released (empty holder): take at once', held(''), 1000, 1000, { kind: 'take' }],
    ['held by another, seen changing 5 s ago: follow for 10 s more', held('other'), 10_000, 15_000, { kind: 'follow', holder: 'other', expiresInMs: 10_000 }],
    ['held by another, unchanged for the whole duration by my clock: take', held('other'), 10_000, 25_000, { kind: 'take' }],
  ] as const)('%s', (_name, record, observedAt, now, want) => {
    expect(nextStep(record, 'me', observedAt, now)).toEqual(want);
  });
});

describe('leaseToWrite and recordOf', () => {
  const who = { identity: 'me', name: 'hopwatch', namespace: 'hopwatch', durationMs: 15_000, nowMs: Date.UTC(2026, 0, 1), annotations: { [SETTLED_BEFORE_ANNOTATION]: '123' } };

  it('a take keeps the read resourceVersion (optimistic concurrency) and counts a transition', () => {
    const read: k8s.V1Lease = { metadata: { name: 'hopwatch', namespace: 'hopwatch', resourceVersion: '42' }, spec: { holderIdentity: 'other', leaseTransitions: 3, leaseDurationSeconds: 15 } };
    const body = leaseToWrite(read, 'take', who);
    expect(body.metadata?.resourceVersion).toBe('42');
    expect(body.spec).toMatchObject({ holderIdentity: 'me', leaseTransitions: 4, leaseDurationSeconds: 15, acquireTime: new Date(who.nowMs) });
    expect(recordOf(body)).toEqual({ holder: 'me', durationMs: 15_000, transitions: 4, resourceVersion: '42', settledBeforeMs: 123 });
  });

  it('a release clears the holder and shortens the duration to 1 s', () => {
    const body = leaseToWrite({ metadata: { name: 'hopwatch', resourceVersion: '9' }, spec: { holderIdentity: 'me' } }, 'release', who);
    expect(body.spec?.holderIdentity).toBeUndefined();
    expect(body.spec?.leaseDurationSeconds).toBe(1);
  });
});

/** A LeaseApi over one in-memory Lease with the API server's rules, that can be told to answer 409 or fail. */
function memoryApi(): LeaseApi & { lease: k8s.V1Lease | null; failNext: number; conflictNext: number } {
  let rv = 0;
  const store = {
    lease: null as k8s.V1Lease | null,
    failNext: 0,
    conflictNext: 0,
    async readNamespacedLease() {
      if (store.failNext > 0 && store.failNext--) throw new Error('connect ECONNREFUSED');
      if (store.lease === null) throw Object.assign(new Error('not found'), { code: 404 });
      return structuredClone(store.lease);
    },
    async createNamespacedLease({ body }: { body: k8s.V1Lease }) {
      if (store.lease !== null) throw Object.assign(new Error('exists'), { code: 409 });
      store.lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++rv) } };
      return structuredClone(store.lease);
    },
    async replaceNamespacedLease({ body }: { body: k8s.V1Lease }) {
      if (store.failNext > 0 && store.failNext--) throw new Error('connect ECONNREFUSED');
      if (store.conflictNext > 0 && store.conflictNext--) throw Object.assign(new Error('conflict'), { code: 409 });
      if (body.metadata?.resourceVersion !== store.lease?.metadata?.resourceVersion) throw Object.assign(new Error('conflict'), { code: 409 });
      store.lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++rv) } };
      return structuredClone(store.lease);
    },
  };
  return store;
}

/** An elector on a manual clock; ticks are driven by the test, never by timers. */
function elector(api: LeaseApi, identity: string, clock: { now: number }, events: string[], extra: Partial<ElectorDeps> = {}): LeaseElector {
  return new LeaseElector({
    api, name: 'hopwatch', namespace: 'hopwatch', identity, durationMs: 15_000, renewEveryMs: 5000,
    now: () => clock.now, setTimer: () => null, clearTimer: () => undefined, log: () => undefined,
    annotations: () => ({ [SETTLED_BEFORE_ANNOTATION]: String(clock.now) }),
    onLeading: (leading) => events.push(`${identity} ${leading ? 'leads' : 'stands by'}`),
    ...extra,
  });
}

describe('LeaseElector (in memory)', () => {
  it('one of two replicas leads; the other follows, sees the watermark, and takes over only after the Lease expires by its own clock', async () => {
    const api = memoryApi();
    const clock = { now: 1_000_000 };
    const events: string[] = [];
    const followed: (number | null)[] = [];
    const a = elector(api, 'a', clock, events);
    const b = elector(api, 'b', clock, events, { onFollow: (r) => followed.push(r.settledBeforeMs) });
    await a.tick();
    await b.tick();
    expect([a.leading, b.leading]).toEqual([true, false]);
    expect(followed).toEqual([1_000_000]);
    // a dies without releasing: b sees no change for 15 s of its own clock, then takes it.
    for (let t = 5000; t < 15_000; t += 5000) {
      clock.now += 5000;
      await b.tick();
      expect(b.leading, `at +${t} ms`).toBe(false);
    }
    clock.now += 5000;
    await b.tick();
    expect(b.leading).toBe(true);
    expect(api.lease?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    // a comes back: it reads b's Lease and stands by.
    await a.tick();
    expect(events).toEqual(['a leads', 'b leads', 'a stands by']);
  });

  it('a 409 on a take (another replica wrote first) leaves this one standing by', async () => {
    const api = memoryApi();
    const clock = { now: 0 };
    const events: string[] = [];
    await elector(api, 'a', clock, events).tick();
    const b = elector(api, 'b', clock, events);
    await b.tick();
    clock.now += 20_000;
    api.conflictNext = 1;
    await b.tick();
    expect(b.leading).toBe(false);
    await b.tick();
    expect(b.leading).toBe(true);
  });

  it('a leader that cannot renew steps down before the Lease could expire for others', async () => {
    const api = memoryApi();
    const clock = { now: 0 };
    const events: string[] = [];
    const a = elector(api, 'a', clock, events);
    await a.tick();
    api.failNext = 100;
    clock.now += 5000;
    await a.tick();
    expect(a.leading).toBe(true);
    clock.now += 5000;
    await a.tick();
    // 10 s without a renewal = duration (15 s) - one renew interval (5 s): no longer safe to lead.
    expect(a.leading).toBe(false);
  });

  it('stop() releases the Lease: a standby takes it at its next try, long before expiry', async () => {
    const api = memoryApi();
    const clock = { now: 0 };
    const events: string[] = [];
    const a = elector(api, 'a', clock, events);
    const b = elector(api, 'b', clock, events);
    await a.tick();
    await b.tick();
    await a.stop();
    expect(api.lease?.spec?.holderIdentity).toBeUndefined();
    clock.now += 1;
    await b.tick();
    expect(b.leading).toBe(true);
    expect(events).toEqual(['a leads', 'a stands by', 'b leads']);
  });
});

describe('LeaseElector against the lab API server (real client, real 409s)', () => {
  let server: LabApiServer;
  let dir: string;
  let kc: k8s.KubeConfig;

  beforeAll(async () => {
    server = await LabApiServer.start({ host: '127.218.0.2', port: 0 });
    dir = await mkdtemp(join(tmpdir(), 'hopwatch-elector-'));
    kc = new k8s.KubeConfig();
    kc.loadFromFile(await writeKubeconfig({ path: join(dir, 'kubeconfig'), server: server.url }));
  });

  afterAll(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('of five replicas racing from nothing, exactly one leads each round, and every write of the others was refused', async () => {
    const clock = { now: Date.now() };
    const events: string[] = [];
    const apis = ['r0', 'r1', 'r2', 'r3', 'r4'].map(() => kc.makeApiClient(k8s.CoordinationV1Api));
    const electors = apis.map((api, i) => elector(api, `r${i}`, clock, events));
    for (let round = 0; round < 4; round++) {
      await Promise.all(electors.map((e) => e.tick()));
      expect(electors.filter((e) => e.leading), `round ${round}`).toHaveLength(1);
      clock.now += 5000;
    }
    const leader = electors.find((e) => e.leading);
    const lease = await apis[0]?.readNamespacedLease({ name: 'hopwatch', namespace: 'hopwatch' });
    expect(lease?.spec?.holderIdentity).toBe(leader?.holder);
    // Only one replica ever led: the rest lost every race with a 409 or followed.
    expect(new Set(events.filter((e) => e.endsWith('leads')))).toEqual(new Set([`${leader?.holder ?? ''} leads`]));
    // Releasing hands over at the next round of tries.
    await leader?.stop();
    await Promise.all(electors.filter((e) => e !== leader).map((e) => e.tick()));
    expect(electors.filter((e) => e.leading)).toHaveLength(1);
    expect(electors.find((e) => e.leading)).not.toBe(leader);
  });
});
