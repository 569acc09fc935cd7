// `hopwatch run` and the Gateway API: a cluster without it runs on Ingresses with one log line; with
// it, an HTTPRoute created while the daemon runs is discovered and probed through its Gateway.

import { afterEach, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../lab/lab.js';
import { webApp } from '../lab/scenarios.js';
import { type DaemonProcess, eventually, getJson, startDaemonProcess, writeDaemonConfig } from './daemon.js';

interface RouteItem {
  id: string;
  kind: string;
  namespace: string;
  name: string;
  parent: { kind: string; namespace: string | null; name: string; sectionName: string | null; port: number | null } | null;
  ingress: string;
  verdict: { status: string; cause: string } | null;
}

let lab: Lab | null = null;
let daemon: DaemonProcess | null = null;

afterEach(async () => {
  if (process.env['E2E_DEBUG']) console.log(daemon?.log());
  await daemon?.stop('SIGKILL');
  daemon = null;
  await lab?.stop();
  lab = null;
});

async function routes(url: string): Promise<RouteItem[]> {
  return (await getJson<{ data: RouteItem[] }>(`${url}/api/v1/routes`)).body.data;
}

const daemonConfig = (l: Lab) =>
  writeDaemonConfig(l, 'run.yaml', { schedule: { default: '1s' }, store: { path: `${l.dir}/run.db` }, discovery: { watchIdleRestartMs: 5000, maxBackoffMs: 1000, gatewayApiRecheckMs: 1000 } });

describe('hopwatch run and the Gateway API', () => {
  it('without the Gateway API: Ingress routes are probed, and one log line says so (however often it asks again)', async () => {
    lab = await startLab(webApp('shop', 'web', 'web.run.test'));
    daemon = await startDaemonProcess(await daemonConfig(lab));
    const url = daemon.url;
    await eventually(async () => (await routes(url)).find((r) => r.ingress === 'web' && r.verdict?.cause === 'ok'));
    // The recheck runs every second: a few more checks must not add lines.
    const d = daemon;
    const asked = lab.api.counters.discovery;
    await eventually(async () => lab !== null && lab.api.counters.discovery >= asked + 3);
    expect(d.log().match(/Gateway API not installed/g)).toHaveLength(1);
    expect(d.log()).not.toMatch(/httproutes.*watch failed/);
  }, 90_000);

  it('with it: an HTTPRoute created while the daemon runs is discovered and probed through the Gateway', async () => {
    lab = await startLab({
      ...webApp('shop', 'web', 'web.run.test'),
      gatewayApi: { gateways: [{ namespace: 'infra', name: 'gw', listeners: [{ name: 'http', port: 18090, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] }] },
    });
    daemon = await startDaemonProcess(await daemonConfig(lab));
    const url = daemon.url;
    await eventually(async () => (await routes(url)).find((r) => r.ingress === 'web' && r.verdict?.cause === 'ok'));
    expect(daemon.log()).toMatch(/Gateway API found: watching GatewayClass/);
    await lab.addHttpRoute({ namespace: 'shop', name: 'store', spec: { parentRefs: [{ name: 'gw', namespace: 'infra' }], hostnames: ['store.gw.test'], rules: [{ backendRefs: [{ name: 'web', port: 8000 }] }] } });
    const found = await eventually(async () => (await routes(url)).find((r) => r.ingress === 'store' && r.verdict?.status === 'ok'), 30_000);
    expect(found.namespace).toBe('shop');
    // The API filters by routing object, and each route names its kind, name and parent.
    const store = await getJson<{ data: RouteItem[]; total: number }>(`${url}/api/v1/routes?kind=HTTPRoute&name=store`);
    expect(store.body.data.map((r) => [r.kind, r.namespace, r.name, r.parent])).toEqual([
      ['HTTPRoute', 'shop', 'store', { kind: 'Gateway', namespace: 'infra', name: 'gw', sectionName: 'http', port: 18090 }],
    ]);
    const ingresses = await getJson<{ data: RouteItem[] }>(`${url}/api/v1/routes?kind=Ingress`);
    expect(ingresses.body.data.map((r) => `${r.kind}/${r.name}`)).toEqual(['Ingress/web']);
    expect((await getJson<{ data: RouteItem[] }>(`${url}/api/v1/routes?kind=HTTPRoute&name=web`)).body.data).toEqual([]);
    const bad = await getJson<{ error: { parameter: string; message: string } }>(`${url}/api/v1/routes?kind=Gateway`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ parameter: 'kind' });
    expect(bad.body.error.message).toContain('expected one of Ingress, HTTPRoute, GRPCRoute, got "Gateway"');
  }, 120_000);
});
