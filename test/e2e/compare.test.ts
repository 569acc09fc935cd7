// `hopwatch compare` end to end: the real binary against a lab serving the same hosts through two
// front doors, real nginx rendered like ingress-nginx (class nginx, read timeout 2 s) and real
// HAProxy (class haproxy, timeout server 6 s), each with its own edge, over the same pods. Each
// app stages one difference the two controllers really have.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareReport } from '../../src/compare/report.js';
import type { AppSpec, IngressSpec, LabSpec } from '../lab/spec.js';
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

let lab: Lab;
let configPath: string;

beforeAll(async () => {
  // HAProxy waits 6 s for a response where nginx waits 2 s; hopwatch's deadline is above both (nginx retries once: 4 s).
  lab = await startLab(scenario, { haproxy: { timeouts: { readMs: 6000 } }, probeTimeoutMs: 10_000 });
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
