// `hopwatch run` end to end: the real binary against the lab. Incidents open and close with the
// right hop and cause and reach a webhook; metrics and the API answer; history survives a restart
// and a kill -9; the daemon rides out the API server dropping, expiring and hanging its watches.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../lab/lab.js';
import { merge, webApp } from '../lab/scenarios.js';
import { type DaemonProcess, eventually, getJson, startDaemonProcess, writeDaemonConfig } from './daemon.js';

const TOKEN = 'e2e-secret-token';
const auth = { authorization: `Bearer ${TOKEN}` };

interface AlertBody {
  event: string;
  incident: { id: number; hop: string | null; cause: string; pods: string[] };
  route: { namespace: string; ingress: string };
  reason?: string;
}

interface RouteItem {
  id: string;
  namespace: string;
  ingress: string;
  verdict: { status: string; hop: string | null; cause: string } | null;
}

interface IncidentItem {
  id: number;
  routeId: string;
  hop: string | null;
  cause: string;
  closedAt: string | null;
  pods: string[];
}

let lab: Lab;
let receiver: Server;
let receiverUrl: string;
const alerts: AlertBody[] = [];
let receiverDown = false;
let configPath: string;
let dbPath: string;
let daemon: DaemonProcess;

async function routes(): Promise<RouteItem[]> {
  return (await getJson<{ data: RouteItem[] }>(`${daemon.url}/api/v1/routes`, auth)).body.data;
}

/** Rounds of a route this daemon process finished, counted by its edge probes in /metrics (0 before the first). */
async function edgeRoundsFinished(namespace: string, ingress: string): Promise<number> {
  const text = await (await fetch(`${daemon.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('hopwatch_hop_requests_total{') || !line.includes(`namespace="${namespace}"`) || !line.includes(`ingress="${ingress}"`) || !line.includes('hop="edge"')) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

async function routeId(ingress: string): Promise<string> {
  return eventually(async () => (await routes()).find((r) => r.ingress === ingress)?.id);
}

async function roundTimes(id: string): Promise<string[]> {
  const times: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const query: string = `limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await getJson<{ data: { startedAt: string }[]; nextCursor: string | null }>(`${daemon.url}/api/v1/routes/${encodeURIComponent(id)}/rounds?${query}`, auth);
    times.push(...res.body.data.map((r) => r.startedAt));
    cursor = res.body.nextCursor;
    if (!cursor) break;
  }
  return times;
}

beforeAll(async () => {
  lab = await startLab(merge(webApp('shop', 'web', 'web.run.test'), webApp('shop', 'api', 'api.run.test')));
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      // A receiver outage: the alert is refused (and retried), not recorded.
      if (receiverDown) return void res.writeHead(503).end();
      alerts.push(JSON.parse(body) as AlertBody);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, `127.${lab.addresses.block}.0.90`, resolve));
  receiverUrl = `http://127.${lab.addresses.block}.0.90:${(receiver.address() as AddressInfo).port}/hook`;
  dbPath = `${lab.dir}/run.db`;
  configPath = await writeDaemonConfig(lab, 'run.yaml', {
    schedule: { default: '1s' },
    incidents: { openAfter: 2, closeAfter: 2 },
    alerts: { webhooks: [{ url: receiverUrl, kind: 'json' }] },
    store: { path: dbPath },
    server: { token: TOKEN },
    discovery: { watchIdleRestartMs: 2000, maxBackoffMs: 1000 },
  });
  daemon = await startDaemonProcess(configPath);
}, 90_000);

afterAll(async () => {
  if (process.env["E2E_DEBUG"]) console.log(daemon?.log());
  await daemon?.stop('SIGKILL');
  await new Promise((resolve) => receiver?.close(resolve));
  await lab?.stop();
});

describe('hopwatch run', () => {
  it('becomes ready after the first sync and probes every route', async () => {
    await eventually(async () => (await fetch(`${daemon.url}/readyz`)).status === 200);
    const ok = await eventually(async () => {
      const list = await routes();
      return list.length === 2 && list.every((r) => r.verdict?.status === 'ok') ? list : undefined;
    });
    expect(ok.map((r) => r.ingress).sort()).toEqual(['api', 'web']);
  });

  it('opens an incident at the right hop and cause when a route breaks, alerts, and closes it when it heals', async () => {
    const id = await routeId('web');
    await lab.setAppFault('shop', 'web', { mode: 'refuse' });
    const open = await eventually(async () => {
      const res = await getJson<{ data: IncidentItem[] }>(`${daemon.url}/api/v1/incidents?state=open`, auth);
      return res.body.data.find((i) => i.routeId === id);
    }, 20_000, async () => JSON.stringify({ id, incidents: await getJson(`${daemon.url}/api/v1/incidents`, auth), routes: await routes() }));
    expect(open).toMatchObject({ hop: 'pod', cause: 'pod.refused', closedAt: null });
    expect(open.pods.some((p) => p.startsWith('shop/web-'))).toBe(true);
    const opened = await eventually(async () => alerts.find((a) => a.event === 'incident.opened'), 20_000, async () => `alerts ${JSON.stringify(alerts)} log ${daemon.log().slice(-2000)}`);
    expect(opened).toMatchObject({ incident: { hop: 'pod', cause: 'pod.refused' }, route: { namespace: 'shop', ingress: 'web' } });

    await lab.setAppFault('shop', 'web', { mode: 'healthy' });
    const closed = await eventually(async () => (await getJson<{ data: IncidentItem }>(`${daemon.url}/api/v1/incidents/${open.id}`, auth)).body.data.closedAt ?? undefined);
    expect(Date.parse(closed)).toBeGreaterThan(0);
    await eventually(async () => alerts.some((a) => a.event === 'incident.closed'));
  }, 60_000);

  it('exposes the metrics series', async () => {
    const text = await (await fetch(`${daemon.url}/metrics`)).text();
    for (const series of [
      'hopwatch_route_up{namespace="shop",ingress="web",host="web.run.test",path="/"} 1',
      'hopwatch_route_verdict{namespace="shop",ingress="api",host="api.run.test",path="/",status="ok",hop="none",cause="ok"} 1',
      'hopwatch_hop_requests_total{namespace="shop",ingress="web",hop="pod",result="refused"}',
      'hopwatch_hop_duration_seconds_bucket{',
      'hopwatch_incidents_open 0',
      'hopwatch_rounds_late_total',
      'hopwatch_discovery_routes 2',
      'hopwatch_discovery_last_sync_timestamp_seconds',
      'process_cpu_seconds_total',
    ]) {
      expect(text, series).toContain(series);
    }
    expect(text).not.toMatch(/127\.\d+\.1\.\d+/); // no pod IPs in labels
  });

  it('protects the API with the token and rejects bad parameters with the reason', async () => {
    expect((await fetch(`${daemon.url}/api/v1/routes`)).status).toBe(401);
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
    const bad = await getJson<{ error: { code: string; parameter: string; message: string } }>(`${daemon.url}/api/v1/routes?limit=0`, auth);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'BAD_PARAMETER', parameter: 'limit' });
    const badTime = await getJson<{ error: { parameter: string } }>(`${daemon.url}/api/v1/incidents?from=yesterday-ish`, auth);
    expect(badTime.status).toBe(400);
    expect(badTime.body.error.parameter).toBe('from');
    expect((await getJson(`${daemon.url}/api/v1/routes/nope`, auth)).status).toBe(404);
    const timeline = await getJson<{ data: { buckets: { rounds: number }[] } }>(`${daemon.url}/api/v1/timeline?namespace=shop&from=10m&step=1m`, auth);
    expect(timeline.status).toBe(200);
    expect(timeline.body.data.buckets.reduce((n, b) => n + b.rounds, 0)).toBeGreaterThan(0);
  });

  it('recovers when the API server drops, expires and hangs its watches, answers 500 and goes away, and picks up routes created meanwhile', async () => {
    lab.api.dropWatches();
    lab.api.expireNextWatches(3);
    lab.api.hangWatches(true);
    const late = webApp('late', 'newcomer', 'new.run.test');
    await lab.addApp(late.apps[0]!);
    await lab.addService(late.services[0]!);
    await lab.addIngress(late.ingresses[0]!);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    lab.api.hangWatches(false);
    lab.api.failRequests(true);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    lab.api.failRequests(false);
    const found = await eventually(
      async () => (await routes()).find((r) => r.ingress === 'newcomer' && r.verdict?.status === 'ok'),
      30_000,
      async () => `routes ${JSON.stringify(await routes())}\nlog ${daemon.log().slice(-3000)}`,
    );
    expect(found.namespace).toBe('late');
    await lab.api.stopListening();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // The last known plan keeps being probed while the cluster is away.
    const id = await routeId('api');
    const before = (await roundTimes(id)).length;
    await eventually(async () => (await roundTimes(id)).length > before, 20_000);
    await lab.api.resumeListening();
    await lab.removeIngress('late', 'newcomer');
    await eventually(async () => !(await routes()).some((r) => r.ingress === 'newcomer') || undefined, 30_000);
  }, 90_000);

  it('keeps history across a restart (SIGTERM exits 0)', async () => {
    const id = await routeId('web');
    const before = await roundTimes(id);
    expect(await daemon.stop('SIGTERM')).toBe(0);
    daemon = await startDaemonProcess(configPath);
    const after = await roundTimes(id);
    expect(after.length).toBeGreaterThanOrEqual(before.length);
    for (const t of before) expect(after).toContain(t);
  }, 60_000);

  it('loses to kill -9 no round that finished a flush interval before it, and leaves a clean file', async () => {
    // The guarantee (README "Durability"): a finished round waits in the write queue at most
    // FLUSH_MS (200 ms) before its transaction commits; a commit survives kill -9 (WAL). So every
    // round counted as finished (the edge probe in hopwatch_hop_requests_total, counted when the
    // round finishes) more than the flush interval before the kill is in the store afterwards, even
    // though nothing read it back before the kill. Waited: 5 flush intervals, against a loaded machine.
    const FLUSH_MS = 200;
    // A fresh process, so its counter and its rounds in the store (started after `since`) are the same set.
    expect(await daemon.stop('SIGTERM')).toBe(0);
    const since = new Date().toISOString();
    daemon = await startDaemonProcess(configPath);
    const id = await routeId('api');
    const finished = await eventually(async () => ((await edgeRoundsFinished('shop', 'api')) >= 2 ? edgeRoundsFinished('shop', 'api') : undefined), 20_000);
    const committed = await roundTimes(id);
    await new Promise((resolve) => setTimeout(resolve, FLUSH_MS * 5));
    const killedAt = new Date().toISOString();
    expect(await daemon.stop('SIGKILL')).toBe('SIGKILL');
    const db = new Database(dbPath, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
    daemon = await startDaemonProcess(configPath);
    const after = await roundTimes(id);
    for (const t of committed) expect(after).toContain(t);
    // Every round the killed process finished (and counted) a flush interval before the kill is stored.
    const ofKilledProcess = after.filter((t) => t >= since && t < killedAt);
    expect(ofKilledProcess.length).toBeGreaterThanOrEqual(finished);
  }, 60_000);

  it('sends again, after a restart, the alert its receiver refused until the daemon stopped', async () => {
    const id = await routeId('web');
    receiverDown = true;
    try {
      await lab.setAppFault('shop', 'web', { mode: 'refuse' });
      const open = await eventually(async () => (await getJson<{ data: IncidentItem[] }>(`${daemon.url}/api/v1/incidents?state=open`, auth)).body.data.find((i) => i.routeId === id), 20_000);
      expect(await daemon.stop('SIGTERM')).toBe(0);
      expect(alerts.some((a) => a.incident.id === open.id)).toBe(false);
      receiverDown = false;
      daemon = await startDaemonProcess(configPath);
      const opened = await eventually(async () => alerts.find((a) => a.event === 'incident.opened' && a.incident.id === open.id), 20_000, async () => `alerts ${JSON.stringify(alerts)} log ${daemon.log().slice(-2000)}`);
      expect(opened).toMatchObject({ route: { namespace: 'shop', ingress: 'web' } });
    } finally {
      receiverDown = false;
      await lab.setAppFault('shop', 'web', { mode: 'healthy' });
    }
  }, 60_000);

  it('closes, as removed, an open incident whose route was deleted while the daemon was down', async () => {
    const id = await routeId('api');
    await lab.setAppFault('shop', 'api', { mode: 'refuse' });
    const open = await eventually(async () => (await getJson<{ data: IncidentItem[] }>(`${daemon.url}/api/v1/incidents?state=open`, auth)).body.data.find((i) => i.routeId === id), 20_000);
    expect(await daemon.stop('SIGTERM')).toBe(0);
    await lab.removeIngress('shop', 'api');
    daemon = await startDaemonProcess(configPath);
    const closed = await eventually(async () => alerts.find((a) => a.event === 'incident.closed' && a.incident.id === open.id), 20_000, async () => `alerts ${JSON.stringify(alerts)} log ${daemon.log().slice(-2000)}`);
    // Not an all-clear: the route is gone, users may still get errors from wherever it went.
    expect(closed).toMatchObject({ reason: 'route-removed', route: { namespace: 'shop', ingress: 'api' } });
    expect((await getJson<{ data: IncidentItem }>(`${daemon.url}/api/v1/incidents/${open.id}`, auth)).body.data.closedAt).not.toBeNull();
  }, 60_000);
});
