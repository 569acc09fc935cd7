import { describe, expect, it } from 'vitest';
import { routeFixture, withPrimary } from '../../test/fixtures.js';
import { loadConfig } from '../config/load.js';
import type { RoundDeps } from '../probe/round.js';
import { insertIncident } from '../store/incidents.js';
import { addToOutbox, outboxEntries } from '../store/outbox.js';
import { openStore } from '../store/sqlite.js';
import { createWriter } from '../store/write.js';
import { routeDefinition, RunLoop } from './daemon.js';

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
