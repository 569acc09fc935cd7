// The hard 502s end to end, on two controllers: the real binary against the lab, where every pod
// looks healthy to a Kubernetes eye. Each cause is staged once behind two Ingresses of the same
// Service, one of class "nginx" (real nginx rendered like ingress-nginx) and one of class "haproxy"
// (real HAProxy rendered like the HAProxy Kubernetes Ingress Controller). The status codes at the
// edge may differ per controller; the verdict's hop and cause must not. Each verdict carries the
// measured figure (header bytes, time to first byte, idle timeout) against the controller's setting.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../lab/lab.js';
import { merge, webApp } from '../lab/scenarios.js';
import type { AppSpec, LabSpec } from '../lab/spec.js';
import { runHopwatch, writeLabConfig } from './cli.js';

type Flavour = 'nginx' | 'haproxy';
const FLAVOURS: Flavour[] = ['nginx', 'haproxy'];

/** An app whose Service is routed by both controllers: Ingress <name> (nginx) and <name>-hp (haproxy). */
function onBoth(name: string, app: Partial<AppSpec>): LabSpec {
  const base = webApp('h502', name, `${name}.ngx.h502.test`, app);
  const hp = { ...webApp('h502', name, `${name}.hp.h502.test`).ingresses[0]!, name: `${name}-hp`, className: 'haproxy' };
  return { ...base, ingresses: [...base.ingresses, hp] };
}

const scenario = merge(
  onBoth('bighead', { fault: { mode: 'large-headers', bytes: 20_000 } }),
  onBoth('tls', { fault: { mode: 'tls' } }),
  onBoth('h2c', { fault: { mode: 'h2c' } }),
  // One replica: neither controller has another pod to retry the read timeout on.
  onBoth('slow', { replicas: 1, fault: { mode: 'slow', delayMs: 3000 } }),
  onBoth('close', { fault: { mode: 'close' } }),
  onBoth('rst', { fault: { mode: 'reset' } }),
  // Node 20 keeps an idle connection keepAliveTimeout + 1 s: about 1.1 s here, under the lab's 2 s window.
  onBoth('keep', { fault: { mode: 'keepalive', idleMs: 100 } }),
  // No false alarms: headers the controllers accept, slow within the read timeout, idle longer than the window.
  onBoth('fineheads', { fault: { mode: 'large-headers', bytes: 3000 } }),
  onBoth('slowok', { replicas: 1, fault: { mode: 'slow', delayMs: 800 } }),
  onBoth('keeplong', { fault: { mode: 'keepalive', idleMs: 4000 } }),
  onBoth('plain', {}),
  onBoth('roll', { replicas: 2 }),
  {
    // Both controllers' upstream connections leave from their pod IPs, so the policy sees (and drops) them.
    ...onBoth('fenced', {}),
    networkPolicies: [{ namespace: 'h502', name: 'fence', spec: { podSelector: { matchLabels: { app: 'fenced' } }, policyTypes: ['Ingress'] } }],
  },
);

interface HopJson {
  hop: string;
  pod: string | null;
  status: number | null;
  error: string | null;
  headerBytes: number;
  timings: { ttfbMs?: number; totalMs: number };
}

interface RouteJson {
  namespace: string;
  ingress: string;
  ingressClass: string | null;
  verdict: { status: string; hop: string | null; cause: string; summary: string; evidence: string[] };
  hops: HopJson[];
}

let lab: Lab;
let configPath: string;

async function probe(...args: string[]): Promise<RouteJson[]> {
  const result = await runHopwatch(['probe', '--config', configPath, '-o', 'json', ...args]);
  if (result.stdout === '') throw new Error(`hopwatch probe printed nothing (exit ${result.code}): ${result.stderr}`);
  return (JSON.parse(result.stdout) as { routes: RouteJson[] }).routes;
}

function routeOf(routes: RouteJson[], name: string, flavour: Flavour): RouteJson {
  const ingress = flavour === 'nginx' ? name : `${name}-hp`;
  const route = routes.find((r) => r.namespace === 'h502' && r.ingress === ingress);
  if (!route) throw new Error(`no route h502/${ingress} in ${routes.map((r) => r.ingress).join(', ')}`);
  return route;
}

function edgeStatus(route: RouteJson): number | null {
  return route.hops.find((h) => h.hop === 'edge')?.status ?? null;
}

beforeAll(async () => {
  lab = await startLab(scenario, { haproxy: true });
  configPath = await writeLabConfig(lab);
}, 90_000);

afterAll(async () => {
  await lab?.stop();
});

describe('the hard 502s, one round through the real binary', () => {
  let routes: RouteJson[];

  beforeAll(async () => {
    // The keep-alive race needs the pods' idle timeout: a one-shot probe measures it only when asked
    // (a pod closing after ~1.1 s announces no whole-second timeout; without the flag it is 'not-measured').
    routes = await probe('-n', 'h502', '--measure-keepalive');
  }, 60_000);

  it('routes each class to its own controller', () => {
    expect(routeOf(routes, 'plain', 'nginx').ingressClass).toBe('nginx');
    expect(routeOf(routes, 'plain', 'haproxy').ingressClass).toBe('haproxy');
    for (const flavour of FLAVOURS) expect(routeOf(routes, 'plain', flavour).verdict).toMatchObject({ status: 'ok', cause: 'ok' });
  });

  // [app, edge status on nginx, on haproxy (null: no HTTP answer at all), verdict status, hop, cause]
  it.each<[string, number | null, number | null, string, string, string]>([
    ['bighead', 502, 502, 'failing', 'pod', 'pod.headers-too-large'],
    ['tls', 502, 502, 'failing', 'pod', 'pod.protocol-mismatch'],
    // nginx takes the h2c pod's frames for an HTTP/0.9 answer and passes them on: users get no HTTP at all.
    ['h2c', null, 502, 'failing', 'pod', 'pod.protocol-mismatch'],
    ['slow', 504, 504, 'failing', 'pod', 'pod.timeout'],
    ['close', 502, 502, 'failing', 'pod', 'pod.reset'],
    ['rst', 502, 502, 'failing', 'pod', 'pod.reset'],
    ['keep', 200, 200, 'degraded', 'pod', 'pod.keepalive-race'],
    ['fenced', 504, 504, 'failing', 'network', 'network.blocked'],
  ])('%s: nginx %s, haproxy %s at the edge; both %s at %s: %s', (app, nginxEdge, haproxyEdge, status, hop, cause) => {
    for (const flavour of FLAVOURS) {
      const route = routeOf(routes, app, flavour);
      expect({ flavour, edge: edgeStatus(route) }).toEqual({ flavour, edge: flavour === 'nginx' ? nginxEdge : haproxyEdge });
      expect({ flavour, ...route.verdict }).toMatchObject({ flavour, status, hop, cause });
    }
  });

  it.each(['fineheads', 'slowok', 'keeplong'])('no false alarm: %s stays ok on both controllers', (app) => {
    for (const flavour of FLAVOURS) expect({ flavour, ...routeOf(routes, app, flavour).verdict }).toMatchObject({ flavour, status: 'ok', cause: 'ok' });
  });

  it('headers-too-large reports the measured header block and each controller\'s limit', () => {
    const measured = routeOf(routes, 'bighead', 'nginx').hops.find((h) => h.hop === 'pod')?.headerBytes ?? 0;
    expect(measured).toBeGreaterThan(20_000);
    const nginx = routeOf(routes, 'bighead', 'nginx').verdict.evidence.join('\n');
    expect(nginx).toContain(`response header block of ${measured} bytes`);
    expect(nginx).toContain('ingress-nginx proxy-buffer-size: 4096 bytes');
    expect(nginx).toMatch(/controller \S+ \(\S+\): 502 from nginx/);
    const haproxy = routeOf(routes, 'bighead', 'haproxy').verdict.evidence.join('\n');
    expect(haproxy).toContain('HAProxy tune.bufsize - tune.maxrewrite: 15360 bytes');
    // The error page is recognised as HAProxy's own, not the app's answer passed through.
    expect(haproxy).toMatch(/controller \S+ \(\S+\): 502 from haproxy/);
  });

  it('timeout reports time to first byte at each hop against the configured read timeout', () => {
    for (const flavour of FLAVOURS) {
      const { verdict, hops } = routeOf(routes, 'slow', flavour);
      const podTtfb = Math.round(hops.find((h) => h.hop === 'pod')?.timings.ttfbMs ?? 0);
      expect(podTtfb).toBeGreaterThanOrEqual(3000);
      expect(verdict.summary).toContain(`first byte after ${podTtfb} ms`);
      const evidence = verdict.evidence.join('\n');
      expect(evidence).toContain(`first byte at ${podTtfb} ms`);
      expect(evidence).toMatch(/controller \S+ \(\S+\): 504 .*first byte at \d+ ms/);
      expect(evidence).toContain(flavour === 'nginx' ? 'proxy-read-timeout: 2000 ms (configured)' : 'timeout server: 2000 ms (configured)');
    }
  });

  it('protocol mismatch names what the pods speak and what the controller speaks', () => {
    for (const flavour of FLAVOURS) {
      expect(routeOf(routes, 'tls', flavour).verdict.summary).toMatch(/speak TLS where .* speaks plain HTTP\/1\.1/);
      expect(routeOf(routes, 'tls', flavour).verdict.evidence.join('\n')).toContain('a request over TLS succeeds');
      expect(routeOf(routes, 'h2c', flavour).verdict.summary).toMatch(/speak h2c .* where .* speaks plain HTTP\/1\.1/);
    }
  });

  it('reset is told apart from refused: FIN or RST after the connection was accepted', () => {
    for (const flavour of FLAVOURS) {
      expect(routeOf(routes, 'close', flavour).verdict.evidence.join('\n')).toContain('accepted (not refused) and closed (FIN)');
      expect(routeOf(routes, 'rst', flavour).verdict.evidence.join('\n')).toContain('accepted (not refused) and reset (RST)');
    }
  });

  it('keep-alive race reports the measured idle timeout against the controller\'s window', () => {
    for (const flavour of FLAVOURS) {
      const { verdict } = routeOf(routes, 'keep', flavour);
      // Node pods announce their idle timeout (Keep-Alive: timeout=N); others are measured by holding an idle connection.
      expect(verdict.evidence.join('\n')).toMatch(/closes an idle keep-alive connection \d+ ms after its response|announces Keep-Alive: timeout=\d+/);
      expect(verdict.evidence.join('\n')).toContain(`${flavour === 'nginx' ? 'upstream-keepalive-timeout' : 'pool-purge-delay'}: 2000 ms (configured)`);
    }
  });
});

describe('edge and rollout failures on both controllers', () => {
  it.each(FLAVOURS)('edge.error: the %s edge answers its own 502 while every controller pod answers', async (flavour) => {
    const edge = flavour === 'nginx' ? lab.edge : lab.haproxy?.edge;
    await edge?.setFault({ mode: 'bad-gateway' });
    try {
      const route = routeOf(await probe('--ingress', `h502/${flavour === 'nginx' ? 'plain' : 'plain-hp'}`), 'plain', flavour);
      expect(edgeStatus(route)).toBe(502);
      expect(route.verdict).toMatchObject({ status: 'failing', hop: 'edge', cause: 'edge.error' });
      expect(route.verdict.summary).toContain('aws-alb');
    } finally {
      await edge?.setFault({ mode: 'healthy' });
    }
  });

  it('rollout.drain: old pods exit without a preStop delay while the controllers still send them requests', async () => {
    // The controllers' sync lags behind the rollout: they keep the old pods as their only upstreams.
    const controllers = [lab.controller, lab.haproxy?.controller].filter((c) => c !== undefined);
    const freeze = (fault: 'stale' | 'healthy') => Promise.all(controllers.flatMap((c) => c.replicas.map((_, i) => c.setFault(i, fault))));
    await freeze('stale');
    const step = await lab.rollout('h502', 'roll');
    const old = lab.cluster.pods().filter((p) => p.app === 'roll' && p.templateHash !== step.templateHash).map((p) => p.name);
    expect(old).toHaveLength(2);
    // No preStop: the old pods' servers stop at once, they turn terminating, and stay listed (at least
    // 8 s, and until the probes are done: the window is held open, not raced against a timer).
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const finishing = lab.finishRollout('h502', 'roll', { serverStops: 'first', drainMs: 8000, holdUntil: held });
    // In the drain window: every old pod is terminating and still listed by the API server.
    const listed = () => old.every((name) => {
      const pod = lab.api.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'h502', name });
      return pod !== null && Boolean((pod.metadata as { deletionTimestamp?: unknown }).deletionTimestamp);
    });
    try {
      const terminating = () => lab.cluster.pods().filter((p) => old.includes(p.name) && p.terminating).length === old.length;
      for (let i = 0; i < 500 && !(terminating() && listed()); i++) await new Promise((r) => setTimeout(r, 20));
      expect(terminating() && listed()).toBe(true);
      const [nginxRoutes, haproxyRoutes] = await Promise.all([probe('--ingress', 'h502/roll'), probe('--ingress', 'h502/roll-hp')]);
      // nginx has no live upstream left: 502; HAProxy retries the dead server and answers 503.
      for (const [flavour, routes, edge] of [['nginx', nginxRoutes, 502], ['haproxy', haproxyRoutes, 503]] as const) {
        const route = routeOf(routes, 'roll', flavour);
        expect({ flavour, edge: edgeStatus(route) }).toEqual({ flavour, edge });
        expect({ flavour, ...route.verdict }).toMatchObject({ flavour, status: 'failing', hop: 'pod', cause: 'rollout.drain' });
        const evidence = route.verdict.evidence.join('\n');
        expect(evidence).toContain(`rollout: ReplicaSet roll-`);
        for (const name of old) expect(route.verdict.summary).toContain(name);
        expect(evidence).toMatch(/window: seen at \d{4}-/);
      }
      // The window held while hopwatch probed: the old pods are still there.
      expect(listed()).toBe(true);
    } finally {
      release();
      await finishing;
      await freeze('healthy');
    }
  }, 60_000);
});
