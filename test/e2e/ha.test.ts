// Two `hopwatch run` replicas on one lab cluster, electing a leader over a Lease on the lab API
// server: the leader is killed with SIGKILL while one incident is open and right before another
// route breaks; the standby takes the Lease once it has expired and alerts both (none lost); a
// webhook receiver counts opened/closed per dedupKey (duplicates bounded, one key per route).
// Then SIGTERM of the new leader releases the Lease and the restarted replica takes it at its next
// try, before the Lease could have expired. The Lease's history is read from the lab API server's
// own event log, so the handover times are the daemons' own writes, not the test's sleeps.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../lab/lab.js';
import { merge, webApp } from '../lab/scenarios.js';
import { ROOT } from './cli.js';
import { type DaemonProcess, eventually, getJson, startDaemonProcess, writeDaemonConfig } from './daemon.js';

/** Lease duration and renewal of both replicas (ms). */
const LEASE_MS = 8000;
const RENEW_MS = 1000;

interface AlertBody {
  event: string;
  dedupKey: string;
  route: { id: string; ingress: string };
}

interface LeaseWrite {
  type: string;
  holder: string | null;
  renewMs: number;
  acquireMs: number;
  transitions: number;
  durationS: number;
}

let lab: Lab;
let receiver: Server;
const alerts: (AlertBody & { atMs: number })[] = [];
const leaseWrites: LeaseWrite[] = [];
const daemons = new Map<string, DaemonProcess>();
const configs = new Map<string, string>();

/** Starts replica `name` with its own store. */
async function startReplica(name: string): Promise<DaemonProcess> {
  const daemon = await startDaemonProcess(configs.get(name) ?? '');
  daemons.set(name, daemon);
  return daemon;
}

/** The replica detail of a daemon's /readyz. */
async function replicaOf(name: string): Promise<{ identity: string; leader: boolean; holder: string | null } | undefined> {
  const daemon = daemons.get(name);
  if (daemon === undefined) return undefined;
  const { body } = await getJson<{ detail?: { replica?: { identity: string; leader: boolean; holder: string | null } } }>(`${daemon.url}/readyz`);
  return body.detail?.replica;
}

/** Alerts of an event for one ingress's route. */
const alertsOf = (ingress: string, event: string) => alerts.filter((a) => a.route.ingress === ingress && a.event === event);

beforeAll(async () => {
  lab = await startLab(merge(webApp('shop', 'web', 'web.ha.test'), webApp('shop', 'api', 'api.ha.test')));
  lab.api.onEvent((e) => {
    if (e.object.kind !== 'Lease') return;
    const spec = (e.object['spec'] ?? {}) as { holderIdentity?: string; renewTime?: string; acquireTime?: string; leaseTransitions?: number; leaseDurationSeconds?: number };
    leaseWrites.push({
      type: e.type,
      holder: spec.holderIdentity ?? null,
      renewMs: Date.parse(spec.renewTime ?? ''),
      acquireMs: Date.parse(spec.acquireTime ?? ''),
      transitions: spec.leaseTransitions ?? 0,
      durationS: spec.leaseDurationSeconds ?? 0,
    });
  });
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      alerts.push({ ...(JSON.parse(body) as AlertBody), atMs: Date.now() });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, `127.${lab.addresses.block}.0.91`, resolve));
  const url = `http://127.${lab.addresses.block}.0.91:${(receiver.address() as AddressInfo).port}/hook`;
  for (const name of ['a', 'b']) {
    configs.set(name, await writeDaemonConfig(lab, `ha-${name}.yaml`, {
      schedule: { default: '1s' },
      incidents: { openAfter: 2, closeAfter: 2 },
      alerts: { webhooks: [{ url, kind: 'json' }] },
      store: { path: `${lab.dir}/ha-${name}.db` },
      discovery: { watchIdleRestartMs: 2000, maxBackoffMs: 1000 },
      ha: { enabled: true, identity: `hopwatch-${name}`, leaseNamespace: 'hopwatch', leaseDurationMs: LEASE_MS, renewEveryMs: RENEW_MS },
    }));
  }
  await startReplica('a');
  await eventually(async () => (await replicaOf('a'))?.leader === true, 30_000);
  await startReplica('b');
  await eventually(async () => (await replicaOf('b'))?.identity === 'hopwatch-b', 30_000);
}, 120_000);

afterAll(async () => {
  if (process.env['E2E_DEBUG']) for (const [name, d] of daemons) console.log(`--- ${name}\n${d.log()}`);
  for (const daemon of daemons.values()) await daemon.stop('SIGKILL');
  await new Promise((resolve) => receiver?.close(resolve));
  await lab?.stop();
});

describe('two replicas, one Lease', () => {
  it('one leads, the other stands by, and both say so on /readyz', async () => {
    expect(await replicaOf('a')).toMatchObject({ identity: 'hopwatch-a', leader: true, holder: 'hopwatch-a' });
    expect(await eventually(async () => {
      const b = await replicaOf('b');
      return b?.holder === 'hopwatch-a' ? b : undefined;
    })).toMatchObject({ identity: 'hopwatch-b', leader: false });
    // The dashboard's top bar renders the same detail (dashboard/replica.js).
    const module = pathToFileURL(join(ROOT, 'dashboard', 'replica.js')).href;
    const { replicaLabel } = (await import(module)) as { replicaLabel: (r: unknown) => string | null };
    expect(replicaLabel(await replicaOf('b'))).toBe('replica hopwatch-b · standby (leader hopwatch-a)');
    expect(replicaLabel({ identity: '', leader: true })).toBeNull();
    // hopwatch_leader says the same to Prometheus.
    const metrics = await (await fetch(`${daemons.get('b')?.url ?? ''}/metrics`)).text();
    expect(metrics).toContain('hopwatch_leader{identity="hopwatch-b"} 0');
  });

  it('SIGKILL of the leader: the standby takes the Lease after expiry and alerts an open incident\'s close and a new break; none lost', async () => {
    // An incident opens while a leads: a alerts it.
    await lab.setAppFault('shop', 'api', { mode: 'refuse' });
    await eventually(async () => alertsOf('api', 'incident.opened').length > 0, 30_000);
    const killedAtMs = Date.now();
    await daemons.get('a')?.stop('SIGKILL');
    daemons.delete('a');
    const lastRenewOfA = Math.max(...leaseWrites.filter((w) => w.holder === 'hopwatch-a').map((w) => w.renewMs));
    // Right after the kill: api recovers (its close must still reach the receiver), web breaks.
    await lab.setAppFault('shop', 'api', { mode: 'healthy' });
    await lab.setAppFault('shop', 'web', { mode: 'refuse' });
    await eventually(async () => alertsOf('web', 'incident.opened').length > 0 && alertsOf('api', 'incident.closed').length > 0, 60_000, async () => JSON.stringify(alerts.map((a) => [a.route.ingress, a.event])));
    const takeover = leaseWrites.find((w) => w.holder === 'hopwatch-b' && w.transitions > 0);
    expect(takeover, JSON.stringify(leaseWrites.slice(-5))).toBeDefined();
    // b took the Lease only once a's record had gone unrenewed for the whole duration (no two leaders).
    expect((takeover?.acquireMs ?? 0) - lastRenewOfA).toBeGreaterThanOrEqual(LEASE_MS);
    expect(await replicaOf('b')).toMatchObject({ leader: true });
    const webAlertMs = (alertsOf('web', 'incident.opened')[0]?.atMs ?? 0) - killedAtMs;
    // The figure, for the report (bound: lease 8 s + renew 1 s + 2 rounds of 1 s + delivery).
    console.log(`ha e2e: SIGKILL -> takeover ${(takeover?.acquireMs ?? 0) - killedAtMs} ms, -> web's opened at the receiver ${webAlertMs} ms (bound ${LEASE_MS + 2 * RENEW_MS + 2000} ms + load)`);
    await lab.setAppFault('shop', 'web', { mode: 'healthy' });
    await eventually(async () => alertsOf('web', 'incident.closed').length > 0, 30_000);
  });

  it('every incident\'s opened and closed reached the receiver at least once, duplicates at most one per failover, each route under one dedupKey', () => {
    for (const ingress of ['api', 'web']) {
      const mine = alerts.filter((a) => a.route.ingress === ingress);
      expect(new Set(mine.map((a) => a.dedupKey)), ingress).toEqual(new Set([mine[0]?.route.id]));
      const opened = alertsOf(ingress, 'incident.opened').length;
      const closed = alertsOf(ingress, 'incident.closed').length;
      expect(opened, `${ingress} opened`).toBeGreaterThanOrEqual(1);
      expect(closed, `${ingress} closed`).toBeGreaterThanOrEqual(1);
      // One failover happened: each event at most twice (the old leader's and the new leader's copy).
      expect(opened, `${ingress} opened`).toBeLessThanOrEqual(2);
      expect(closed, `${ingress} closed`).toBeLessThanOrEqual(2);
    }
    console.log(`ha e2e: alerts per route (opened/closed): ${['api', 'web'].map((i) => `${i} ${alertsOf(i, 'incident.opened').length}/${alertsOf(i, 'incident.closed').length}`).join(', ')}`);
  });

  it('SIGTERM of the leader releases the Lease: the standby takes it at its next try, before the Lease could expire', async () => {
    await startReplica('a');
    await eventually(async () => (await replicaOf('a'))?.holder === 'hopwatch-b', 30_000);
    const before = leaseWrites.length;
    expect(await daemons.get('b')?.stop('SIGTERM')).toBe(0);
    daemons.delete('b');
    await eventually(async () => (await replicaOf('a'))?.leader === true, 30_000);
    const writes = leaseWrites.slice(before);
    const release = writes.find((w) => w.holder === null);
    const take = writes.find((w) => w.holder === 'hopwatch-a');
    expect(release, JSON.stringify(writes)).toMatchObject({ durationS: 1 });
    expect(writes.indexOf(take as LeaseWrite)).toBeGreaterThan(writes.indexOf(release as LeaseWrite));
    // Handed over within the Lease duration of the release (an expiry would take at least that long).
    expect((take?.acquireMs ?? Infinity) - (release?.renewMs ?? 0)).toBeLessThan(LEASE_MS);
    console.log(`ha e2e: SIGTERM release -> takeover ${(take?.acquireMs ?? 0) - (release?.renewMs ?? 0)} ms (expiry would be ${LEASE_MS} ms)`);
  });
});
