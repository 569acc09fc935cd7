// 8. Peers, probing: hopwatch and Prometheus's blackbox_exporter (Debian's
// prometheus-blackbox-exporter, started here on 127.0.0.1 with its own config) probe the same lab
// targets, with fresh connections, the same deadline (5 s) and the same concurrency (50 in flight).
// Each prober runs in its own process, and each process's CPU is read from /proc/<pid>/stat before
// and after a run, its memory from /proc/<pid>/status: hopwatch's probing in a child process of this
// benchmark (`--peer-prober`), blackbox_exporter as its own binary, asked through its /probe endpoint
// the way Prometheus scrapes it (its figure includes serving that request and writing its metrics:
// that is how it is used). The load (this process's HTTP client to blackbox_exporter) is not counted.
//
// Two levels: per hop (one HTTP GET to a lab pod, 50 in flight) and per route (every hop of a route:
// dns, edge, controller pods, Service, each pod). For a route, blackbox_exporter needs one module per
// hop (each module fixes the Host header, or the DNS name to ask) and one target per pod; hopwatch
// plans the hops from discovery, probes them and classifies the round. Runs interleave; the figures
// are medians of runs, ratios medians of per-run ratios.

import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/types.js';
import { createRoundDeps } from '../src/main.js';
import type { PlannedHop, Route } from '../src/model.js';
import { HttpClientPool, probeHttp } from '../src/probe/http.js';
import { createLimiter } from '../src/probe/limit.js';
import { planHops } from '../src/probe/plan.js';
import { probeRoute } from '../src/probe/round.js';
import { merge, webApp } from '../test/lab/scenarios.js';
import { type BenchContext, type Benchmark, type Figure, figure, median, paired, quantile } from './harness.js';
import { LabHost } from './lab-host.js';
import { discover } from './scheduler.js';
import { loaded, sequential } from './load.js';

/** The blackbox_exporter binary Debian's package installs. */
export const BLACKBOX = '/usr/bin/prometheus-blackbox-exporter';
const CONCURRENCY = 50;
const DEADLINE_S = 5;

/** Probes per loaded run, runs, one-at-a-time probes, lab apps (routes), route-rounds per run. */
const SCALE = {
  full: { n: 4000, runs: 5, seq: 1000, apps: 8, rounds: 600 },
  quick: { n: 1500, runs: 3, seq: 300, apps: 4, rounds: 200 },
  tiny: { n: 100, runs: 1, seq: 20, apps: 1, rounds: 10 },
};

// --- Processes ------------------------------------------------------------------------------------

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A process's CPU time so far (user + system, µs), from /proc/<pid>/stat (fields 14 and 15). */
export function procCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
}

/** A process's resident set now and at its peak (bytes), from /proc/<pid>/status. */
export function procRss(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** A free TCP port on host (bound, then released: the peer binds it right after). */
export async function freePort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Stops a process this benchmark started: SIGTERM by its pid, SIGKILL after a few seconds. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** GETs a URL (keep-alive agent given or not); resolves with the status and body. */
export function httpGet(url: string, options: { agent?: http.Agent; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: options.agent ?? false, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`GET ${url}: no answer in ${options.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
  });
}

/** Polls url until it answers 200 (bounded); throws with what the process said otherwise. */
export async function waitHealthy(url: string, child: ChildProcess, what: string, timeoutMs: number, stderr: () => string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}): ${stderr().slice(-500)}`);
    const ok = await httpGet(url, { timeoutMs: 1000 }).then((r) => r.status === 200, () => false);
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs} ms: ${stderr().slice(-500)}`);
}

// --- blackbox_exporter ----------------------------------------------------------------------------

/** A blackbox_exporter module: what it probes and how (Debian's 0.23 config format). */
type Module = { prober: 'http'; host: string | null } | { prober: 'dns'; name: string };

/** A probe through blackbox_exporter: the module's name and the target. */
interface BlackboxProbe {
  module: string;
  target: string;
}

/** The YAML of blackbox_exporter's configuration (JSON is YAML). Fresh connections: its HTTP prober disables keep-alive. */
export function blackboxConfig(modules: ReadonlyMap<string, Module>): string {
  const out: Record<string, unknown> = {};
  for (const [name, m] of modules) {
    out[name] = m.prober === 'http'
      ? { prober: 'http', timeout: `${DEADLINE_S}s`, http: { method: 'GET', preferred_ip_protocol: 'ip4', ip_protocol_fallback: false, follow_redirects: false, valid_status_codes: [], ...(m.host === null ? {} : { headers: { Host: m.host } }) } }
      : { prober: 'dns', timeout: `${DEADLINE_S}s`, dns: { query_name: m.name, query_type: 'A', transport_protocol: 'udp', preferred_ip_protocol: 'ip4', ip_protocol_fallback: false } };
  }
  return JSON.stringify({ modules: out }, null, 1);
}

/** What blackbox_exporter needs to probe one planned hop: a module (per Host header or DNS name) and a target. */
export function blackboxProbeOf(hop: PlannedHop, modules: Map<string, Module>): BlackboxProbe {
  if (hop.scheme === 'dns') {
    const name = `dns_${modules.size}`;
    modules.set(name, { prober: 'dns', name: hop.request.host ?? hop.target });
    return { module: name, target: hop.dnsServer ?? `${hop.address}:${hop.port}` };
  }
  const host = hop.request.host;
  let module = [...modules].find(([, m]) => m.prober === 'http' && m.host === host)?.[0];
  if (module === undefined) modules.set((module = `http_${modules.size}`), { prober: 'http', host });
  const authority = hop.address.includes(':') ? `[${hop.address}]:${hop.port}` : `${hop.address}:${hop.port}`;
  return { module, target: `${hop.scheme}://${authority}${hop.request.path}` };
}

/** A running blackbox_exporter. */
interface Blackbox {
  child: ChildProcess;
  url: string;
  agent: http.Agent;
}

async function startBlackbox(ctx: BenchContext, modules: ReadonlyMap<string, Module>): Promise<Blackbox> {
  const configPath = join(ctx.tmpDir, 'blackbox.yml');
  writeFileSync(configPath, blackboxConfig(modules));
  const port = await freePort('127.0.0.1');
  const child = spawn(BLACKBOX, [`--config.file=${configPath}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=error'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  ctx.defer(() => stopProcess(child));
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(`${url}/-/healthy`, child, 'blackbox_exporter', 10_000, () => stderr);
  // The scraper's side keeps its connections to the exporter (as Prometheus does); the probes do not.
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });
  ctx.defer(() => agent.destroy());
  return { child, url, agent };
}

/** One probe through blackbox_exporter, as a scrape: resolves with whether it succeeded and the duration it reports. */
async function blackboxProbe(bb: Blackbox, p: BlackboxProbe): Promise<{ success: boolean; seconds: number }> {
  const url = `${bb.url}/probe?module=${encodeURIComponent(p.module)}&target=${encodeURIComponent(p.target)}`;
  const res = await httpGet(url, { agent: bb.agent, headers: { 'X-Prometheus-Scrape-Timeout-Seconds': String(DEADLINE_S) } });
  const success = /^probe_success 1$/m.test(res.body);
  const seconds = Number(/^probe_duration_seconds (\S+)$/m.exec(res.body)?.[1] ?? Number.NaN);
  return { success, seconds };
}

// --- The hopwatch side, in its own process ----------------------------------------------------------

/** What the parent asks the hopwatch prober process to do. */
type ProberRequest =
  | { id: number; op: 'hops'; hops: PlannedHop[]; n: number; concurrency: number }
  | { id: number; op: 'sequential'; hops: PlannedHop[]; n: number }
  | { id: number; op: 'routes'; config: Config; routes: Route[]; n: number; concurrency: number };

/** Its answers: latencies (sequential), failures counted (hops, routes). */
type ProberReply = { id: number; ok: true; latencies: number[]; failures: number } | { id: number; ok: false; error: string };

/** The hopwatch prober process. */
class HopwatchProber {
  #next = 1;
  readonly #waiting = new Map<number, { resolve: (reply: ProberReply) => void; reject: (error: Error) => void }>();

  constructor(readonly child: ChildProcess) {
    child.on('message', (reply: ProberReply) => {
      this.#waiting.get(reply.id)?.resolve(reply);
      this.#waiting.delete(reply.id);
    });
    child.once('exit', (code) => {
      for (const w of this.#waiting.values()) w.reject(new Error(`hopwatch prober exited (${code})`));
      this.#waiting.clear();
    });
  }

  static spawn(ctx: BenchContext): HopwatchProber {
    const entry = fileURLToPath(import.meta.url);
    const prober = new HopwatchProber(fork(entry, ['--peer-prober'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'advanced' }));
    ctx.defer(() => stopProcess(prober.child));
    return prober;
  }

  async run(request: ProberRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never): Promise<{ latencies: number[]; failures: number }> {
    const id = this.#next++;
    const reply = await new Promise<ProberReply>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.child.send({ ...request, id });
    });
    if (!reply.ok) throw new Error(`hopwatch prober: ${reply.error}`);
    return reply;
  }
}

function rotating<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): () => Promise<unknown> {
  let i = 0;
  return () => fn(items[i++ % items.length]!);
}

async function proberHandle(req: ProberRequest, pool: HttpClientPool): Promise<{ latencies: number[]; failures: number }> {
  let failures = 0;
  const probe = async (hop: PlannedHop): Promise<void> => {
    const r = await probeHttp(hop, { clients: pool });
    if (r.status !== 200) failures++;
  };
  switch (req.op) {
    case 'hops':
      await loaded(rotating(req.hops, probe), req.n, req.concurrency);
      return { latencies: [], failures };
    case 'sequential':
      return { latencies: await sequential(rotating(req.hops, probe), req.n), failures };
    case 'routes': {
      // The daemon's round deps, with the hops in flight limited to the same concurrency.
      const deps = { ...createRoundDeps(req.config, { diagnosticsWaitMs: 0 }), limiter: createLimiter(req.concurrency) };
      const round = async (route: Route): Promise<void> => {
        const r = await probeRoute(route, deps);
        if (r.verdict.status !== 'ok') failures++;
      };
      await loaded(rotating(req.routes, round), req.n, req.concurrency);
      return { latencies: [], failures };
    }
  }
}

function runProberChild(): void {
  const pool = new HttpClientPool();
  process.on('message', (req: ProberRequest) => {
    proberHandle(req, pool).then(
      (r) => process.send?.({ id: req.id, ok: true, ...r } satisfies ProberReply),
      (error: unknown) => process.send?.({ id: req.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies ProberReply),
    );
  });
  process.on('disconnect', () => process.exit(0));
}

// --- Measuring ------------------------------------------------------------------------------------

/** A limit of tasks in flight (the blackbox side's concurrency, as Prometheus's scrape pool would hold it). */
function semaphore(limit: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async (fn) => {
    if (active >= limit) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

/** CPU (µs) the process spent while fn ran, and the wall time (ms). */
async function cpuOf(pid: number, fn: () => Promise<unknown>): Promise<{ cpuMicros: number; wallMs: number }> {
  const c0 = procCpuMicros(pid);
  const t0 = performance.now();
  await fn();
  return { cpuMicros: procCpuMicros(pid) - c0, wallMs: performance.now() - t0 };
}

/** The socket floor: connect, write a GET, read until the peer closes. */
function rawSocketGet(hop: PlannedHop): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hop.address, port: hop.port }, () => socket.end(`GET ${hop.request.path} HTTP/1.1\r\nHost: ${hop.request.host ?? hop.address}\r\nConnection: close\r\n\r\n`));
    socket.on('data', () => undefined);
    socket.on('end', () => (socket.destroy(), resolve()));
    socket.on('error', reject);
  });
}

interface Rig {
  ctx: BenchContext;
  config: Config;
  routes: Route[];
  /** Every route's planned hops. */
  plans: PlannedHop[][];
  /** The pod hops of every route (the per-hop comparison's targets). */
  podHops: PlannedHop[];
  /** What blackbox_exporter probes for each route: one probe per hop. */
  bbRoutes: BlackboxProbe[][];
  bbPods: BlackboxProbe[];
  modules: number;
  hopwatch: HopwatchProber;
  bb: Blackbox;
}

/** Per-hop runs, interleaved: CPU µs per probe and probes/s of each prober. */
async function perHop(rig: Rig, n: number, runs: number): Promise<{ hw: number[]; bb: number[]; hwRate: number[]; bbRate: number[]; bbFailures: number; hwFailures: number }> {
  const out = { hw: [] as number[], bb: [] as number[], hwRate: [] as number[], bbRate: [] as number[], bbFailures: 0, hwFailures: 0 };
  const limit = semaphore(CONCURRENCY);
  const bbRun = (count: number) => loaded(rotating(rig.bbPods, (p) => limit(() => blackboxProbe(rig.bb, p)).then((r) => void (r.success || out.bbFailures++))), count, CONCURRENCY);
  const hwRun = (count: number) => rig.hopwatch.run({ op: 'hops', hops: rig.podHops, n: count, concurrency: CONCURRENCY }).then((r) => void (out.hwFailures += r.failures));
  // Warm-up: JIT, Go's runtime, first connections.
  await bbRun(Math.min(500, n));
  await hwRun(Math.min(500, n));
  out.bbFailures = out.hwFailures = 0;
  for (let r = 0; r < runs; r++) {
    const b = await cpuOf(rig.bb.child.pid!, () => bbRun(n));
    const h = await cpuOf(rig.hopwatch.child.pid!, () => hwRun(n));
    out.bb.push(b.cpuMicros / n);
    out.hw.push(h.cpuMicros / n);
    out.bbRate.push((n / b.wallMs) * 1000);
    out.hwRate.push((n / h.wallMs) * 1000);
    rig.ctx.log(`per hop, run ${r + 1}/${runs}: hopwatch ${out.hw.at(-1)!.toFixed(0)} µs/probe, blackbox_exporter ${out.bb.at(-1)!.toFixed(0)} µs/probe`);
  }
  return out;
}

/** Per-route runs, interleaved: CPU µs per route-round (every hop) of each prober. */
async function perRoute(rig: Rig, rounds: number, runs: number): Promise<{ hw: number[]; bb: number[]; bbFailures: number; hwFailures: number }> {
  const out = { hw: [] as number[], bb: [] as number[], bbFailures: 0, hwFailures: 0 };
  const limit = semaphore(CONCURRENCY);
  const bbRound = (probes: BlackboxProbe[]) => Promise.all(probes.map((p) => limit(() => blackboxProbe(rig.bb, p)))).then((rs) => void (rs.every((r) => r.success) || out.bbFailures++));
  const bbRun = (count: number) => loaded(rotating(rig.bbRoutes, bbRound), count, CONCURRENCY);
  const hwRun = (count: number) => rig.hopwatch.run({ op: 'routes', config: rig.config, routes: rig.routes, n: count, concurrency: CONCURRENCY }).then((r) => void (out.hwFailures += r.failures));
  await bbRun(Math.min(100, rounds));
  await hwRun(Math.min(100, rounds));
  out.bbFailures = out.hwFailures = 0;
  for (let r = 0; r < runs; r++) {
    const b = await cpuOf(rig.bb.child.pid!, () => bbRun(rounds));
    const h = await cpuOf(rig.hopwatch.child.pid!, () => hwRun(rounds));
    out.bb.push(b.cpuMicros / rounds);
    out.hw.push(h.cpuMicros / rounds);
    rig.ctx.log(`per route, run ${r + 1}/${runs}: hopwatch ${out.hw.at(-1)!.toFixed(0)} µs/round, blackbox_exporter ${out.bb.at(-1)!.toFixed(0)} µs/round`);
  }
  return out;
}

/** One at a time: latency quantiles of each prober and of the raw socket floor, interleaved. */
async function latencies(rig: Rig, n: number, runs: number): Promise<Record<'hw' | 'bb' | 'bbOwn' | 'socket', { p50: number[]; p99: number[] }>> {
  const out = { hw: { p50: [] as number[], p99: [] as number[] }, bb: { p50: [] as number[], p99: [] as number[] }, bbOwn: { p50: [] as number[], p99: [] as number[] }, socket: { p50: [] as number[], p99: [] as number[] } };
  const push = (k: keyof typeof out, xs: number[]) => (out[k].p50.push(median(xs)), out[k].p99.push(quantile(xs, 0.99)));
  for (let r = 0; r < runs; r++) {
    push('hw', (await rig.hopwatch.run({ op: 'sequential', hops: rig.podHops, n })).latencies);
    const own: number[] = [];
    push('bb', await sequential(rotating(rig.bbPods, async (p) => own.push((await blackboxProbe(rig.bb, p)).seconds * 1000)), n));
    push('bbOwn', own);
    push('socket', await sequential(rotating(rig.podHops, rawSocketGet), n));
  }
  return out;
}

async function setUp(ctx: BenchContext): Promise<Rig> {
  const scale = SCALE[ctx.mode];
  const host = LabHost.spawn();
  ctx.defer(() => host.stop());
  const apps = Array.from({ length: scale.apps }, (_, i) => webApp(`team-${i % 2}`, `app-${i}`, `app-${i}.bench.test`));
  const info = await host.startLab(merge(...apps));
  const config = loadConfig({ text: info.hopwatchConfig }) as Config;
  const routes = await discover(config);
  if (routes.length === 0) throw new Error('the lab showed no probeable route');
  const plans = routes.map((r) => planHops(r, { timeoutMs: DEADLINE_S * 1000, dnsServer: config.cluster.dnsServer, clusterDomain: config.cluster.clusterDomain }));
  for (const plan of plans) for (const hop of plan) hop.request.timeoutMs = DEADLINE_S * 1000;
  const modules = new Map<string, Module>();
  const bbRoutes = plans.map((plan) => plan.map((hop) => blackboxProbeOf(hop, modules)));
  const podHops = plans.flatMap((plan) => plan.filter((h) => h.hop === 'pod'));
  const bbPods = podHops.map((hop) => blackboxProbeOf(hop, modules));
  const bb = await startBlackbox(ctx, modules);
  const hopwatch = HopwatchProber.spawn(ctx);
  ctx.log(`lab block 127.${info.block}: ${routes.length} routes, ${plans[0]!.length} hops each, ${podHops.length} pods; blackbox_exporter: ${modules.size} modules`);
  // The routes go to the prober process with the configuration; its deadline is the same.
  const sameDeadline = { ...config, probe: { ...config.probe, timeoutMs: DEADLINE_S * 1000 } };
  return { ctx, config: sameDeadline, routes, plans, podHops, bbRoutes, bbPods, modules: modules.size, hopwatch, bb };
}

function notMeasured(why: string): Figure[] {
  return [figure({ bench: 'peers', name: 'CPU per hop probe: hopwatch vs blackbox_exporter', value: Number.NaN, unit: 'µs', runs: 0, note: `not measured: ${why}` })];
}

async function measure(ctx: BenchContext): Promise<Figure[]> {
  if (!existsSync(BLACKBOX)) return notMeasured(`no ${BLACKBOX} (scripts/setup.sh --bench installs Debian's prometheus-blackbox-exporter)`);
  const scale = SCALE[ctx.mode];
  const rig = await setUp(ctx);
  const hop = await perHop(rig, scale.n, scale.runs);
  const route = await perRoute(rig, scale.rounds, scale.runs);
  const lat = await latencies(rig, scale.seq, scale.runs);
  const hwMem = procRss(rig.hopwatch.child.pid!);
  const bbMem = procRss(rig.bb.child.pid!);
  return figuresOf(rig, { hop, route, lat, hwMem, bbMem }, scale.runs);
}

interface Measured {
  hop: Awaited<ReturnType<typeof perHop>>;
  route: Awaited<ReturnType<typeof perRoute>>;
  lat: Awaited<ReturnType<typeof latencies>>;
  hwMem: { rss: number; peak: number };
  bbMem: { rss: number; peak: number };
}

function figuresOf(rig: Rig, m: Measured, runs: number): Figure[] {
  const base = { bench: 'peers', runs };
  const hops = rig.plans[0]!.length;
  const bbName = 'blackbox_exporter 0.23, same targets, same run';
  const cpu = paired(m.hop.hw, m.hop.bb);
  const rate = paired(m.hop.hwRate, m.hop.bbRate);
  const perRouteCpu = paired(m.route.hw, m.route.bb);
  const failures = `failed probes: hopwatch ${m.hop.hwFailures} per-hop / ${m.route.hwFailures} rounds not ok, blackbox_exporter ${m.hop.bbFailures} / ${m.route.bbFailures}`;
  const p50 = paired(m.lat.hw.p50, m.lat.socket.p50);
  const p99 = paired(m.lat.hw.p99, m.lat.socket.p99);
  const bb50 = paired(m.lat.bb.p50, m.lat.socket.p50);
  const bb99 = paired(m.lat.bb.p99, m.lat.socket.p99);
  const own50 = median(m.lat.bbOwn.p50);
  const socket50 = median(m.lat.socket.p50);
  return [
    figure({ ...base, name: `CPU per hop probe (${CONCURRENCY} in flight, fresh connections)`, value: cpu.value, unit: 'µs', baseline: { name: bbName, value: cpu.baseline }, ratio: cpu.ratio, note: `each process's own CPU from /proc/<pid>/stat; blackbox_exporter's includes serving its /probe request (how Prometheus asks it); ${failures}` }),
    figure({ ...base, name: 'probes per CPU-second (per core, at saturation)', value: 1e6 / cpu.value, unit: 'probes/s/core', baseline: { name: bbName, value: 1e6 / cpu.baseline }, ratio: 1 / cpu.ratio }),
    figure({ ...base, name: `probes/s, ${CONCURRENCY} in flight (wall; 2 shared cores, load generator included)`, value: rate.value, unit: 'probes/s', baseline: { name: bbName, value: rate.baseline }, ratio: rate.ratio }),
    figure({
      ...base, name: `CPU per route round (${hops} hops${'; hopwatch classifies'})`, value: perRouteCpu.value, unit: 'µs', baseline: { name: `blackbox_exporter: ${hops} probes, one module per hop, one target per pod`, value: perRouteCpu.baseline }, ratio: perRouteCpu.ratio,
      note: `${rig.routes.length} lab routes; blackbox_exporter needed ${rig.modules} modules for them (a module fixes the Host header or the DNS name to ask: one per route host and one per Service name) and ${rig.bbRoutes.reduce((n, r) => n + r.length, 0)} targets (one per hop: edge, each controller pod, the Service, each pod, the DNS server); it answers success and timing per hop, not which hop fails the route and why`,
    }),
    figure({ ...base, name: 'RSS after the runs (peak)', value: m.hwMem.rss / 1e6, unit: 'MB', baseline: { name: `blackbox_exporter (peak ${(m.bbMem.peak / 1e6).toFixed(0)} MB)`, value: m.bbMem.rss / 1e6 }, note: `hopwatch prober process peak ${(m.hwMem.peak / 1e6).toFixed(0)} MB (Node, the daemon's prober and classifier loaded)` }),
    figure({ ...base, name: 'latency p50 one at a time, added over a raw socket GET', value: p50.value - p50.baseline, unit: 'ms', baseline: { name: `blackbox_exporter /probe answered (its own probe_duration_seconds p50 ${own50.toFixed(2)} ms)`, value: bb50.value - bb50.baseline }, note: `raw socket GET p50 ${socket50.toFixed(2)} ms; hopwatch p50 ${p50.value.toFixed(2)} ms (${p50.ratio.toFixed(2)}× the socket), blackbox_exporter ${bb50.value.toFixed(2)} ms (${bb50.ratio.toFixed(2)}×)` }),
    // p99s, not p99 minus the socket's: a difference of two tails can come out below zero (it did: -0.36 ms).
    figure({
      ...base, name: 'latency p99 one at a time (the prober\'s answer)', value: p99.value, unit: 'ms', baseline: { name: 'blackbox_exporter /probe answered', value: bb99.value },
      note: `raw socket GET p99 ${median(m.lat.socket.p99).toFixed(2)} ms; hopwatch ${p99.ratio.toFixed(2)}× the socket, blackbox_exporter ${bb99.ratio.toFixed(2)}×`,
    }),
  ];
}

/** The benchmark. */
export const peersProbeBench: Benchmark = { id: 'peers-probe', title: '8. Peers: probing beside blackbox_exporter', run: measure };

if (process.argv.includes('--peer-prober') && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) runProberChild();
