// A fleet in one real Prometheus (Debian's prometheus, started here on loopback with its own config
// and data directory, stopped by pid): it scrapes two `hopwatch run` daemons on two lab clusters
// labelled east and west by hopwatch's own metrics.labels.cluster, each serving the same-named route
// shop/web; east runs two replicas (leader election on its lab's Lease), west one, so the answers
// must not depend on the number of replicas. The route breaks in east only. Prometheus's HTTP API then answers the shipped rules'
// and dashboard's queries per cluster: east's route alert is pending and names east, west has none;
// the recording rules evaluate; every Grafana panel's query returns data. Short scrape and
// evaluation intervals; every wait polls Prometheus with a bound.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startLab, type Lab } from '../lab/lab.js';
import { webApp } from '../lab/scenarios.js';
import { type DaemonProcess, eventually, startDaemonProcess, writeDaemonConfig } from '../e2e/daemon.js';
import { at, KUBERNETES_DIR, loadManifests, only } from './manifests.js';

const PROMETHEUS = '/usr/bin/prometheus';
const CLUSTERS = ['east', 'west'] as const;

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

const groups = at<{ name: string; rules: { alert?: string; record?: string; expr: string }[] }[]>(only(loadManifests(), 'PrometheusRule'), 'spec.groups');
const dashboard = JSON.parse(readFileSync(join(KUBERNETES_DIR, 'monitoring', 'grafana-dashboard.json'), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
const labs = new Map<string, Lab>();
const daemons = new Map<string, DaemonProcess>();
let prometheus: ChildProcess | null = null;
let promUrl = '';
let promLog = '';
const dir = mkdtempSync(join(tmpdir(), 'hopwatch-fleet-'));

/** A free loopback port (bound and released: Prometheus binds it right after). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An instant query; its vector. */
async function query(expr: string): Promise<Sample[]> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { resultType: string; result: Sample[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? res.status}`);
  return body.data.result;
}

/** The dashboard's query as Grafana sends it with "All" selected. */
function grafanaQuery(expr: string): string {
  return expr.replaceAll('$cluster', '.*').replaceAll('$namespace', '.*').replaceAll('$__rate_interval', '30s');
}

beforeAll(async () => {
  if (!existsSync(PROMETHEUS)) throw new Error(`prometheus is not installed at ${PROMETHEUS}: run scripts/setup.sh --tests (apt-get install prometheus)`);
  for (const cluster of CLUSTERS) {
    const lab = await startLab(webApp('shop', 'web', 'web.fleet.test'));
    labs.set(cluster, lab);
    const replicas = cluster === 'east' ? ['0', '1'] : ['0'];
    for (const replica of replicas) {
      const config = await writeDaemonConfig(lab, `fleet-${cluster}-${replica}.yaml`, {
        schedule: { default: '1s' },
        store: { path: join(lab.dir, `fleet-${replica}.db`) },
        metrics: { labels: { cluster } },
        ...(replicas.length > 1 ? { ha: { enabled: true, identity: `hopwatch-${replica}`, leaseNamespace: 'hopwatch', leaseDurationMs: '4s', renewEveryMs: '1s' } } : {}),
      });
      daemons.set(`${cluster}-${replica}`, await startDaemonProcess(config));
    }
  }
  writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: groups.map((g) => ({ ...g, interval: '1s' })) }));
  writeFileSync(join(dir, 'prometheus.yml'), stringify({
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: [join(dir, 'rules.yaml')],
    scrape_configs: [{
      job_name: 'hopwatch',
      // As the ServiceMonitor does: the route series keep their own namespace label.
      honor_labels: true,
      static_configs: [{ targets: [...daemons.values()].map((d) => new URL(d.url).host) }],
    }],
  }));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=1h'], { stdio: ['ignore', 'pipe', 'pipe'] });
  prometheus.stdout?.on('data', (c: Buffer) => (promLog += c.toString()));
  prometheus.stderr?.on('data', (c: Buffer) => (promLog += c.toString()));
  await eventually(async () => (await fetch(`${promUrl}/-/ready`)).ok, 60_000, async () => promLog.slice(-2000));
  // Both clusters scraped and judged ok first, then east breaks.
  await eventually(async () => (await query('hopwatch_route_up == 1')).length === 3, 60_000, async () => promLog.slice(-1000));
  await labs.get('east')?.setAppFault('shop', 'web', { mode: 'refuse' });
  await eventually(async () => (await query('hopwatch_route_edge_status_code{cluster="east"} == 502')).length === 2, 60_000);
}, 240_000);

afterAll(async () => {
  if (prometheus !== null && prometheus.exitCode === null) {
    const exited = new Promise((resolve) => prometheus?.once('exit', resolve));
    prometheus.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (prometheus.exitCode === null) prometheus.kill('SIGKILL');
  }
  for (const daemon of daemons.values()) await daemon.stop('SIGTERM');
  for (const lab of labs.values()) await lab.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('two clusters in one Prometheus, a route broken in east only', () => {
  it('HopwatchRouteFailing is pending for east, named in its summary, and absent for west', async () => {
    const alert = await eventually(async () => {
      const res = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; annotations: Record<string, string>; state: string }[] } };
      return res.data.alerts.find((a) => a.labels['alertname'] === 'HopwatchRouteFailing');
    }, 30_000);
    expect(alert.labels).toMatchObject({ cluster: 'east', namespace: 'shop', ingress: 'web', host: 'web.fleet.test', path: '/' });
    expect(alert.annotations['summary']).toMatch(/^east: shop\/web web\.fleet\.test\/ fails at hop \w+ \([\w.-]+\)$/);
    const alerts = await query('ALERTS{alertname="HopwatchRouteFailing"}');
    expect(alerts.map((a) => a.metric['cluster'])).toEqual(['east']);
  });

  it('the recording rules evaluate per cluster: east counts one failing route and its edge 502s, west none', async () => {
    const failing = await eventually(async () => {
      const r = await query('cluster_status_hop_cause:hopwatch_routes:count');
      return r.length > 0 ? r : undefined;
      // Rule evaluation waits for scrapes of both daemons: under a loaded CI machine that took over 30 s once.
    }, 60_000);
    expect(failing.map((s) => [s.metric['cluster'], s.metric['status'], s.value[1]])).toEqual([['east', 'failing', '1']]);
    const edge = await query('cluster_route:hopwatch_edge_status_code:max');
    expect(Object.fromEntries(edge.map((s) => [s.metric['cluster'], s.value[1]]))).toEqual({ east: '502', west: '200' });
    const minutes = await eventually(async () => {
      const r = await query('cluster_route:hopwatch_edge_5xx_minutes:1h');
      return r.length === 2 ? r : undefined;
      // A [1h:1m] subquery has samples only at whole minutes: the first one may be up to a minute away.
    }, 90_000);
    expect(Object.fromEntries(minutes.map((s) => [s.metric['cluster'], Number(s.value[1])])).west).toBe(0);
    // The documented 502 timeline across clusters: east's route, once.
    const timeline = await query('max by (cluster, namespace, ingress, host, path) (hopwatch_route_edge_status_code) == 502');
    expect(timeline.map((s) => s.metric['cluster'])).toEqual(['east']);
  }, 180_000);

  it('the dashboard\'s cluster variable lists both clusters', async () => {
    const res = (await (await fetch(`${promUrl}/api/v1/label/cluster/values?match[]=hopwatch_build_info`)).json()) as { data: string[] };
    expect(res.data.sort()).toEqual(['east', 'west']);
  });

  const targets = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => [p.title, t.expr] as const));
  it.each(targets)('Grafana panel "%s" returns data: %s', async (_title, expr) => {
    const result = await eventually(async () => {
      const r = await query(grafanaQuery(expr));
      return r.length > 0 ? r : undefined;
      // Rule evaluation waits for scrapes of both daemons: under a loaded CI machine that took over 30 s once.
    }, 60_000);
    expect(result.length).toBeGreaterThan(0);
  }, 90_000);

  it('two replicas in east answer as one: one leader, and no leaderless cluster', async () => {
    const leaders = await query('sum by (cluster) (hopwatch_leader)');
    expect(Object.fromEntries(leaders.map((s) => [s.metric['cluster'], s.value[1]]))).toEqual({ east: '1', west: '1' });
    const noLeader = groups.flatMap((g) => g.rules).find((r) => r.alert === 'HopwatchNoLeader');
    expect(await query(noLeader?.expr ?? '')).toEqual([]);
  });

  it('the dashboard counts east\'s failing route once (two replicas see it)', async () => {
    const panel = dashboard.panels.find((p) => p.title === 'Routes failing');
    const expr = grafanaQuery(panel?.targets?.[0]?.expr ?? '');
    expect((await query(expr))[0]?.value[1]).toBe('1');
    expect((await query(expr.replace('cluster=~".*"', 'cluster=~"west"')))[0]?.value[1]).toBe('0');
  });
});
