// `hopwatch compare` end to end: the real binary against a lab serving the same hosts through two
// front doors, real nginx rendered like ingress-nginx (class nginx, read timeout 2 s) and real
// HAProxy (class haproxy, timeout server 6 s), each with its own edge, over the same pods. Each
// app stages one difference the two controllers really have. The g* hosts are the migration the
// issue is about: an Ingress of class nginx and an HTTPRoute of the lab Gateway (real nginx rendered
// like NGINX Gateway Fabric, its own edge and two data-plane pods), each staging a difference an
// Ingress -> Gateway move really brings (an annotation ingress2gateway does not carry over, a
// rewrite on one side only).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareReport } from '../../src/compare/report.js';
import type { AppSpec, LabGatewaySpec, HttpRouteSpec, IngressSpec, LabSpec } from '../lab/spec.js';
import { startLab, type Lab } from '../lab/lab.js';
import { merge, webApp } from '../lab/scenarios.js';
import { type CliResult, runHopwatch, writeLabConfig } from './cli.js';

const NS = 'mig';

/** An app whose host is served by both controllers: Ingress <name> (nginx) and <name>-hp (haproxy); `nginx` changes the nginx one. */
function onBoth(name: string, app: Partial<AppSpec>, nginx: (ingress: IngressSpec) => IngressSpec = (i) => i): LabSpec {
  const base = webApp(NS, name, `${name}.mig.test`, app);
  const ingress = base.ingresses[0]!;
  return { ...base, ingresses: [nginx(ingress), { ...ingress, name: `${name}-hp`, className: 'haproxy' }] };
}

/** Both Ingresses on path /app; the nginx one rewrites it to / (ingress-nginx rewrite-target), the HAProxy one was translated without it. */
function atApp(ingress: IngressSpec): IngressSpec {
  return { ...ingress, rules: ingress.rules?.map((r) => ({ ...r, paths: r.paths.map((p) => ({ ...p, path: '/app' })) })) };
}

const scenario = merge(
  onBoth('same', {}),
  onBoth('slow', { fault: { mode: 'slow', delayMs: 3000 } }),
  // 8 KB of response headers: over ingress-nginx's 4 KiB proxy-buffer-size, under HAProxy's 15 KiB.
  onBoth('big', { fault: { mode: 'large-headers', bytes: 8000 } }),
  (() => {
    const both = onBoth('rw', {}, (i) => ({ ...atApp(i), annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/' } }));
    const [nginx, hp] = both.ingresses ?? [];
    return { ...both, ingresses: [nginx!, atApp(hp!)] };
  })(),
  onBoth('echo', { fault: { mode: 'echo' } }),
);

/** The lab Gateway the HTTPRoutes attach to. */
const GATEWAY: LabGatewaySpec = { namespace: 'infra', name: 'gw', listeners: [{ name: 'http', port: 18090, protocol: 'HTTP', hostname: '*.mig.test', allowedRoutes: { namespaces: { from: 'All' } } }] };

/**
 * An app served by the Ingress <name> (class nginx) and the HTTPRoute <name> of the lab Gateway, on
 * `path`; `ingress` changes the Ingress, `rule` the HTTPRoute's rule (filters, timeouts).
 */
function onIngressAndGateway(name: string, app: Partial<AppSpec>, path: string, ingress: (i: IngressSpec) => IngressSpec = (i) => i, rule: Partial<NonNullable<HttpRouteSpec['spec']['rules']>[number]> = {}): LabSpec {
  const base = webApp(NS, name, `${name}.mig.test`, app);
  const at = (i: IngressSpec): IngressSpec => ({ ...i, rules: i.rules?.map((r) => ({ ...r, paths: r.paths.map((p) => ({ ...p, path })) })) });
  const route: HttpRouteSpec = {
    namespace: NS, name,
    spec: {
      parentRefs: [{ name: GATEWAY.name, namespace: GATEWAY.namespace }],
      hostnames: [`${name}.mig.test`],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: path } }], backendRefs: [{ name, port: 8000 }], ...rule }],
    },
  };
  return { ...base, ingresses: [ingress(at(base.ingresses[0]!))], gatewayApi: { gateways: [], httpRoutes: [route] } };
}

const withAnnotations = (annotations: Record<string, string>) => (i: IngressSpec): IngressSpec => ({ ...i, annotations: { ...i.annotations, ...annotations } });

const gatewayScenario = merge(
  { gatewayApi: { gateways: [GATEWAY] } },
  onIngressAndGateway('gsame', {}, '/'),
  // The Ingress waits 8 s (annotation), the Gateway its default 2 s; the pods answer after 3.5 s. One
  // replica: nginx never marks a lone upstream server down (max_fails is ignored), so every request
  // sent at once gets the same 504, where with two the timeouts mark both down and later ones a quick 502.
  onIngressAndGateway('gslow', { replicas: 1, fault: { mode: 'slow', delayMs: 3500 } }, '/', withAnnotations({ 'nginx.ingress.kubernetes.io/proxy-read-timeout': '8' })),
  // 8 KB of response headers: the Ingress raised proxy-buffer-size to 16k, the Gateway keeps nginx's 4k.
  onIngressAndGateway('gbuf', { fault: { mode: 'large-headers', bytes: 8000 } }, '/', withAnnotations({ 'nginx.ingress.kubernetes.io/proxy-buffer-size': '16k' })),
  // rewrite-target on the Ingress, no URLRewrite on the HTTPRoute: the pods get / and /app.
  onIngressAndGateway('grw', {}, '/app', withAnnotations({ 'nginx.ingress.kubernetes.io/rewrite-target': '/' })),
  // The other way round: a URLRewrite on the HTTPRoute the Ingress never had.
  onIngressAndGateway('gurl', {}, '/app', (i) => i, { filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }] }),
);

let lab: Lab;
let configPath: string;

beforeAll(async () => {
  // HAProxy waits 6 s for a response where nginx waits 2 s; hopwatch's deadline is above both (nginx retries once: 4 s).
  lab = await startLab(merge(scenario, gatewayScenario), { haproxy: { timeouts: { readMs: 6000 } }, probeTimeoutMs: 10_000 });
  configPath = await writeLabConfig(lab);
}, 90_000);

afterAll(async () => {
  await lab?.stop();
});

function compare(...args: string[]): Promise<CliResult> {
  return runHopwatch(['compare', '--config', configPath, ...args], { timeoutMs: 90_000 });
}

function json(result: CliResult): CompareReport {
  return JSON.parse(result.stdout) as CompareReport;
}

describe('hopwatch compare through nginx and HAProxy', () => {
  const runs: Record<string, CliResult> = {};

  beforeAll(async () => {
    const args: Record<string, string[]> = {
      same: ['--host', 'same.mig.test', '-o', 'json'],
      sameTable: ['--host', 'same.mig.test'],
      // Named explicitly, the other way round: HAProxy (6 s) is the old path, nginx (2 s) the new one.
      slow: ['-n', NS, '--from', 'ingress/slow-hp', '--to', 'ingress/slow', '-o', 'json'],
      big: ['--host', 'big.mig.test', '-o', 'json'],
      rw: ['--host', 'rw.mig.test', '-o', 'json'],
      echo: ['--host', 'echo.mig.test', '-o', 'json'],
    };
    // One after another: six runs at once on a loaded machine would measure the machine, not the paths.
    for (const [name, a] of Object.entries(args)) runs[name] = await compare(...a);
  }, 240_000);

  it('identical paths: exit 0, alike, nothing that matters differs; the retry difference listed as a risk, not triggered', () => {
    const run = runs['same']!;
    expect(run.stderr).toBe('');
    const report = json(run);
    expect(report.pairs[0]?.differences.filter((d) => d.matters).map((d) => d.summary)).toEqual([]);
    expect(run.code).toBe(0);
    expect(report.summary).toEqual({ pairs: 1, alike: 1, different: 0, notCompared: 0 });
    const [pair] = report.pairs;
    expect(pair?.old.object).toBe(`Ingress ${NS}/same`);
    expect(pair?.new.object).toBe(`Ingress ${NS}/same-hp`);
    expect(pair?.new.frontDoor).toBe('IngressClass haproxy (HAProxy)');
    expect(pair?.differences.filter((d) => d.matters)).toEqual([]);
    // Every variant went through the edge and both proxy pods of each side.
    expect(pair?.variants.map((v) => v.variant.name)).toEqual(['probe', 'head', 'underscore-header', 'large-header', 'encoded-path', 'cors']);
    for (const v of pair?.variants ?? []) expect([v.old.length, v.new.length, v.old.every((a) => a.status === 200)]).toEqual([3, 3, true]);
    const retries = pair?.risks.find((r) => r.kind === 'retries');
    expect(retries?.old).toContain('ingress-nginx retries errors and timeouts on the next pod');
    expect(retries?.new).toContain('HAProxy retries only connection failures');
  });

  it('the table says the same for people', () => {
    const run = runs['sameTable']!;
    expect(run.stdout).not.toContain('✗');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`ALIKE         same.mig.test/`);
    expect(run.stdout).toMatch(/! retries: a pod that fails or closes a kept-alive connection/);
  });

  it('a backend slower than the new path\'s timeout: exit 1, the 504 named with both timeouts', () => {
    const run = runs['slow']!;
    expect(run.code).toBe(1);
    const [pair] = json(run).pairs;
    expect(pair?.origin).toBe('explicit');
    const probe = pair?.differences.find((d) => d.variant === 'probe' && d.kind === 'status');
    expect(probe?.new).toMatch(/^504 after/);
    expect(probe?.old).toMatch(/^200 after/);
    expect(probe?.reason).toMatch(/^new path: 504 after \d+\.\d s — ingress-nginx proxy-read-timeout 2\.0 s \(configured\), retried on the next pod; old path: 200 after \d+\.\d s — HAProxy timeout server 6\.0 s \(configured\)$/);
    expect(pair?.differences.find((d) => d.kind === 'verdict')).toMatchObject({ matters: true, old: 'ok', new: 'failing at pod: pod.timeout' });
    expect(pair?.risks.map((r) => r.kind)).not.toContain('timeout');
    // HAProxy (old) takes a 13.5 KiB header line; ingress-nginx (new) refuses lines over 8 KiB at once, whatever the backend.
    const large = pair?.differences.find((d) => d.variant === 'large-header');
    expect(large?.new).toMatch(/^400 after/);
    expect(large?.reason).toBe('old path: HAProxy tune.bufsize - tune.maxrewrite: 15 KiB in all; new path: ingress-nginx large-client-header-buffers 4 8k: 8 KiB per line, 32 KiB in all');
    expect(pair?.risks.map((r) => r.kind)).not.toContain('request-headers');
  });

  it('a response header block between the two buffers: exit 1, the smaller side\'s 502 named with its buffer', () => {
    const run = runs['big']!;
    expect(run.code).toBe(1);
    const [pair] = json(run).pairs;
    const probe = pair?.differences.find((d) => d.variant === 'probe' && d.kind === 'status');
    expect(probe?.hop).toBe('controller');
    expect(probe?.reason).toMatch(/^old path: 502 — the pods' \d+(\.\d)? KiB response header block exceeds ingress-nginx proxy-buffer-size 4 KiB \(ingress-nginx default\); new path: 200 after .* — HAProxy tune\.bufsize - tune\.maxrewrite 15 KiB/);
  });

  it('a rewrite translated wrongly (the pods see / through nginx, /app through HAProxy): exit 1, the body difference named with the rewrite', () => {
    const run = runs['rw']!;
    expect(run.code).toBe(1);
    const [pair] = json(run).pairs;
    expect(pair?.key).toBe('rw.mig.test/app');
    const body = pair?.differences.find((d) => d.variant === 'probe' && d.kind === 'body');
    expect(body?.reason).toBe('the two paths send the pods different paths: old path: ingress-nginx rewrites the path (annotation nginx.ingress.kubernetes.io/rewrite-target: /); new path: HAProxy passes the path unchanged');
  });

  it('a header with an underscore: dropped by nginx, passed by HAProxy, named', () => {
    const run = runs['echo']!;
    expect(run.code).toBe(1);
    const [pair] = json(run).pairs;
    const differences = pair?.differences.filter((d) => d.matters) ?? [];
    expect(differences.map((d) => `${d.variant} ${d.kind}: ${d.summary}`)).toEqual([expect.stringMatching(/^underscore-header body: /)]);
    expect(differences[0]?.reason).toBe(
      'old path: ingress-nginx drops headers whose name has an underscore (enable-underscores-in-headers: false); new path: HAProxy passes headers with underscores (HTTP header names)',
    );
    expect(pair?.risks.map((r) => r.kind)).not.toContain('underscores');
  });
});

describe('hopwatch compare from an Ingress to an HTTPRoute (ingress-nginx -> the lab Gateway, NGINX Gateway Fabric style)', () => {
  const runs: Record<string, CliResult> = {};

  beforeAll(async () => {
    const args: Record<string, string[]> = {
      gsame: ['--host', 'gsame.mig.test', '-o', 'json'],
      gsameNamed: ['-n', NS, '--from', 'ingress/gsame', '--to', 'httproute/gsame'],
      gslow: ['-n', NS, '--from', 'ingress/gslow', '--to', 'httproute/gslow', '-o', 'json'],
      gbuf: ['--host', 'gbuf.mig.test', '-o', 'json'],
      grw: ['--host', 'grw.mig.test', '-o', 'json'],
      gurl: ['-n', NS, '--from', 'ingress/gurl', '--to', 'httproute/gurl', '-o', 'json'],
    };
    // One after another, as above: the slow row's margins (2 s vs 3.5 s vs 8 s) hold on a loaded machine.
    for (const [name, a] of Object.entries(args)) runs[name] = await compare(...a);
  }, 300_000);

  it('identical paths: paired automatically (Ingress old, HTTPRoute new), exit 0, alike; the keep-alive and retry settings differ only as settings', () => {
    const run = runs['gsame']!;
    const report = json(run);
    const [pair] = report.pairs;
    expect(pair?.differences.filter((d) => d.matters).map((d) => d.summary)).toEqual([]);
    expect(run.code).toBe(0);
    expect(report.summary).toEqual({ pairs: 1, alike: 1, different: 0, notCompared: 0 });
    expect(pair?.origin).toBe('automatic');
    expect(pair?.old).toMatchObject({ object: `Ingress ${NS}/gsame`, frontDoor: 'IngressClass nginx (ingress-nginx)' });
    expect(pair?.new).toMatchObject({ object: `HTTPRoute ${NS}/gsame`, frontDoor: 'Gateway infra/gw listener http (NGINX Gateway Fabric)' });
    // Every variant went through each side's edge and both of its proxy pods, and both answered 200.
    for (const v of pair?.variants ?? []) expect([v.variant.name, v.old.length, v.new.length, [...v.old, ...v.new].every((a) => a.status === 200)]).toEqual([v.variant.name, 3, 3, true]);
    // Both are nginx with nginx's request defaults: no underscore, header or body risk.
    expect(pair?.risks.map((r) => r.kind)).not.toContain('underscores');
    expect(pair?.risks.map((r) => r.kind)).not.toContain('request-headers');
  });

  it('named with --from ingress/NAME --to httproute/NAME -n NS: the table says ALIKE, exit 0', () => {
    const run = runs['gsameNamed']!;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('ALIKE         gsame.mig.test/');
    expect(run.stdout).toContain(`Ingress ${NS}/gsame`);
    expect(run.stdout).toContain(`HTTPRoute ${NS}/gsame`);
  });

  it('a proxy-read-timeout annotation the HTTPRoute did not carry over: the Gateway\'s 504 named with both timeouts, exit 1', () => {
    const run = runs['gslow']!;
    expect(run.code).toBe(1);
    const [pair] = json(run).pairs;
    const probe = pair?.differences.find((d) => d.variant === 'probe' && d.kind === 'status');
    expect(probe?.old).toMatch(/^200 after/);
    expect(probe?.new).toMatch(/^504 after/);
    expect(probe?.reason).toMatch(
      /^new path: 504 after \d+\.\d s — NGINX Gateway Fabric proxy_read_timeout 2\.0 s \(configured\), retried on the next pod; old path: 200 after \d+\.\d s — ingress-nginx proxy-read-timeout 8\.0 s \(annotation nginx\.ingress\.kubernetes\.io\/proxy-read-timeout: 8\)$/,
    );
    expect(pair?.risks.map((r) => r.kind)).not.toContain('timeout');
  });

  it('a proxy-buffer-size annotation the HTTPRoute did not carry over: the Gateway\'s 502 named with its 4 KiB buffer, exit 1', () => {
    const run = runs['gbuf']!;
    expect(run.code).toBe(1);
    const [pair] = json(run).pairs;
    expect(pair?.new.object).toBe(`HTTPRoute ${NS}/gbuf`);
    const probe = pair?.differences.find((d) => d.variant === 'probe' && d.kind === 'status');
    expect(probe?.hop).toBe('controller');
    expect(probe?.reason).toMatch(
      /^new path: 502 — the pods' \d+(\.\d)? KiB response header block exceeds NGINX Gateway Fabric proxy_buffer_size 4 KiB \(NGINX Gateway Fabric default\); old path: 200 after .* — ingress-nginx proxy-buffer-size 16 KiB \(annotation nginx\.ingress\.kubernetes\.io\/proxy-buffer-size: 16k\)$/,
    );
  });

  it('rewrite-target on the Ingress, no URLRewrite on the HTTPRoute: the body difference named with the rewrite, exit 1', () => {
    const run = runs['grw']!;
    expect(run.code).toBe(1);
    const [pair] = json(run).pairs;
    expect([pair?.key, pair?.old.object, pair?.new.object]).toEqual(['grw.mig.test/app', `Ingress ${NS}/grw`, `HTTPRoute ${NS}/grw`]);
    const body = pair?.differences.find((d) => d.variant === 'probe' && d.kind === 'body');
    expect(body?.reason).toBe('the two paths send the pods different paths: old path: ingress-nginx rewrites the path (annotation nginx.ingress.kubernetes.io/rewrite-target: /); new path: NGINX Gateway Fabric passes the path unchanged');
  });

  it('a URLRewrite on the HTTPRoute the Ingress never had: named from the HTTPRoute side, exit 1', () => {
    const run = runs['gurl']!;
    expect(run.code).toBe(1);
    const [pair] = json(run).pairs;
    const body = pair?.differences.find((d) => d.variant === 'probe' && d.kind === 'body');
    expect(body?.reason).toBe('the two paths send the pods different paths: old path: ingress-nginx passes the path unchanged; new path: NGINX Gateway Fabric rewrites the path (HTTPRoute URLRewrite: the pods get / for /app)');
  });
});

describe('could not compare: exit 2 with one line naming the flag', () => {
  it.each([
    [['-n', NS, '--from', 'ingress/nope', '--to', 'ingress/same-hp'], /--from ingress\/nope: no route of Ingress mig\/nope/],
    [['--from', 'same', '--to', 'ingress/same-hp'], /--from "same": expected ingress\/NAME/],
    [['-n', NS, '--from', 'ingress/same'], /--to is missing/],
    [['--methods', 'GET,TRACE'], /--methods "GET,TRACE": TRACE is not one of/],
    [['--host', 'nothing.mig.test'], /no pair found in host nothing\.mig\.test/],
  ])('%j', async (args, message) => {
    const run = await compare(...args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
  }, 60_000);
});
