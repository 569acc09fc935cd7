import { describe, expect, it } from 'vitest';
import { routeFixture, withPrimary } from '../../test/fixtures.js';
import { loadConfig } from '../config/load.js';
import { createLimiter } from '../probe/limit.js';
import { planHops } from '../probe/plan.js';
import type { RoundDeps } from '../probe/round.js';
import { insertIncident } from '../store/incidents.js';
import { addToOutbox, outboxEntries } from '../store/outbox.js';
import { openStore } from '../store/sqlite.js';
import { createWriter } from '../store/write.js';
import { maxRoundsRunning, routeDefinition, RunLoop } from './daemon.js';

describe('routeDefinition', () => {
  const base = routeFixture({ id: 'a' });
  const endpoint = { address: '10.0.0.1', port: 8080, ready: true, serving: true, terminating: false, pod: null };

  it('stays the same when only facts that change no hop do (pod restarts, annotations)', () => {
    const restarted = { ...base, backends: base.backends.map((b) => ({ ...b, pods: b.pods.map((p) => ({ ...p, restarts: p.restarts + 3 })) })), annotations: { ...base.annotations, note: 'x' } };
    expect(routeDefinition(restarted)).toBe(routeDefinition(base));
  });

  it('changes when the plan changes: an endpoint added, an endpoint turning not ready or terminating', () => {
    const one = withPrimary(base, { endpoints: [endpoint] });
    const two = withPrimary(base, { endpoints: [endpoint, { ...endpoint, address: '10.0.0.2' }] });
    const notReady = withPrimary(base, { endpoints: [{ ...endpoint, ready: false }] });
    const terminating = withPrimary(base, { endpoints: [{ ...endpoint, terminating: true }] });
    const digests = new Set([one, two, notReady, terminating].map(routeDefinition));
    expect(digests.size).toBe(4);
  });
});

describe('routeDefinition and the controller', () => {
  it('ignores the controller pods, which every route shares (a controller rollout must not re-probe every route at once)', () => {
    const base = routeFixture({ id: 'a' });
    const controller = base.controller;
    if (!controller) throw new Error('fixture has a controller');
    const replaced = { ...base, controller: { ...controller, pods: controller.pods.map((p) => ({ ...p, ip: `${p.ip}9`, ready: false })) } };
    expect(routeDefinition(replaced)).toBe(routeDefinition(base));
  });
});

describe('RunLoop leadership: a standby holds its alerts', () => {
  /** A loop over an in-memory store whose outbox already holds alerts, with a recording alerter; no discovery, no rounds. */
  function loopWithHeldAlerts(standby: boolean) {
    const db = openStore(':memory:');
    const incident = insertIncident(db, { routeId: 'r1', severity: 'failing', openedAt: 1000, hop: 'pod', cause: 'pod.refused', firstEvidence: [] });
    addToOutbox(db, { incidentId: incident.id, event: 'opened', reason: null, createdAt: 1000 });
    addToOutbox(db, { incidentId: incident.id, event: 'closed', reason: 'recovered', createdAt: 9000 });
    const sent: string[] = [];
    const settle: (() => void)[] = [];
    const watch = { snapshot: () => { throw new Error('unused'); }, onChange: () => () => undefined, onState: () => () => undefined, synced: new Promise<void>(() => undefined), state: 'connecting' as const, stop: async () => undefined };
    const loop = new RunLoop({
      config: loadConfig({ text: '' }),
      watch,
      routes: () => [],
      db,
      writer: createWriter(db),
      round: { now: () => 20_000 } as unknown as RoundDeps,
      metrics: { observeRound: () => undefined, forgetRoute: () => undefined, roundLate: () => undefined, scheduleLateness: () => undefined, setDiscovery: () => undefined, setIncidentsOpen: () => undefined },
      alerter: { notify: (event, onSettled) => { sent.push(event.kind); settle.push(() => onSettled?.(true)); }, stats: () => ({ receivers: [{}] }) },
      timers: { setTimer: () => null, clearTimer: () => undefined, cron: () => ({ stop: () => undefined }), cronPeriodMs: () => 60_000 },
      log: () => undefined,
      standby,
    });
    return { db, loop, sent, settle };
  }

  it('a standby sends nothing at start; it drops what the leader settled; taking the lead sends the rest once', async () => {
    const { db, loop, sent, settle } = loopWithHeldAlerts(true);
    loop.start();
    expect(sent).toEqual([]);
    // The leader's watermark minus the twin lag covers the opened (1000), not the closed (9000).
    expect(loop.dropHeldBefore(5000)).toBe(1);
    loop.setLeading(true);
    expect(sent).toEqual(['closed']);
    // Leading again while it is in flight does not send it twice; once settled, it leaves the outbox.
    loop.setLeading(false);
    loop.setLeading(true);
    expect(sent).toEqual(['closed']);
    settle.forEach((s) => s());
    expect(outboxEntries(db)).toEqual([]);
    expect(loop.settledBefore()).toBe(20_000);
    await loop.stop(0);
  });

  it('a lone replica (no election) sends what the last run left at once, and a leader drops nothing', async () => {
    const { loop, sent } = loopWithHeldAlerts(false);
    loop.start();
    expect(sent).toEqual(['opened', 'closed']);
    expect(loop.dropHeldBefore(Number.MAX_SAFE_INTEGER)).toBe(0);
    // The watermark: the oldest alert still waiting for its receiver.
    expect(loop.settledBefore()).toBe(1000);
    await loop.stop(0);
  });
});

describe('RunLoop admission', () => {
  it('runs at most twice probe.concurrency rounds at once; the other due rounds wait as slots, not as queued hops', async () => {
    const config = loadConfig({ text: 'probe:\n  concurrency: 2\n' });
    const routes = Array.from({ length: 10 }, (_, i) => routeFixture({ id: `r${i}` }));
    const db = openStore(':memory:');
    let probes = 0;
    const limiter = createLimiter(config.probe.concurrency);
    const round: RoundDeps = {
      // Targets that never answer: every admitted round stays running.
      probe: () => (probes++, new Promise(() => undefined)),
      limiter,
      plan: { timeoutMs: 5000, dnsServer: null, clusterDomain: 'cluster.local' },
      now: Date.now,
      monotonic: () => performance.now(),
    };
    const watch = { snapshot: () => { throw new Error('unused'); }, onChange: () => () => undefined, onState: () => () => undefined, synced: Promise.resolve(), state: 'synced' as const, stop: async () => undefined };
    const loop = new RunLoop({
      config, watch, routes: () => routes, db, writer: createWriter(db), round,
      metrics: { observeRound: () => undefined, forgetRoute: () => undefined, roundLate: () => undefined, scheduleLateness: () => undefined, setDiscovery: () => undefined, setIncidentsOpen: () => undefined },
      alerter: { notify: () => undefined, stats: () => ({ receivers: [] }) },
      timers: { setTimer: (fn, ms) => setTimeout(fn, ms), clearTimer: (t) => clearTimeout(t as NodeJS.Timeout), cron: () => ({ stop: () => undefined }), cronPeriodMs: () => 60_000 },
      log: () => undefined,
    });
    expect(maxRoundsRunning(config)).toBe(4);
    loop.start();
    // Polled, bounded: the ten first rounds come within 10 ms of the sync.
    for (let i = 0; i < 200 && loop.inFlight + loop.roundsWaiting < 10; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(loop.inFlight).toBe(4);
    expect(loop.roundsWaiting).toBe(6);
    // Only the admitted rounds' hops reached the limiter: two probing, the rest of their hops queued.
    const hops = planHops(routes[0]!, round.plan).length;
    expect(hops).toBeGreaterThan(2);
    expect(limiter.active).toBe(2);
    expect(limiter.queued).toBe(4 * hops - 2);
    expect(probes).toBe(2);
    await loop.stop(0);
    db.close();
  });
});
