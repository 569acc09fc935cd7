// 2. Scheduler at scale: the daemon's run loop (src/schedule/daemon.ts RunLoop: the real scheduler,
// prober with its client pool, shared limiter, classifier, pod diagnostics, incident tracker,
// metrics and batched store writes to a SQLite file) probing thousands of routes.
//
// Targets: a lab in a child process with a few dozen web apps (2 pods each, real nginx controller
// pods, edge, Service forwarders, dnsmasq). Its routes are discovered for real (client-node against
// the lab's API server, routesFrom), then replicated under distinct ids and Ingress names up to the
// route count: many routes pointing at the same lab pods, each with its 7 hops (dns, edge, two
// controller pods, Service, two pods). Everything runs on this one 2-core machine: the lab's CPU
// is reported beside hopwatch's.

import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/types.js';
import type { ClusterWatch } from '../src/discovery/informers.js';
import { emptySnapshot } from '../src/discovery/snapshot.js';
import { createRoundDeps, currentRoutes, loadKubeConfig, schedulerTimers, startDiscovery, waitForSync } from '../src/main.js';
import type { Route, RouteRound } from '../src/model.js';
import { planHops } from '../src/probe/plan.js';
import { type LoopDeps, type LoopMetrics, RunLoop } from '../src/schedule/daemon.js';
import { boundHeapGrowth } from '../src/schedule/memory.js';
import { Scheduler } from '../src/schedule/scheduler.js';
import { createMetrics } from '../src/server/metrics.js';
import { openStore } from '../src/store/sqlite.js';
import { createWriter } from '../src/store/write.js';
import { merge, webApp } from '../test/lab/scenarios.js';
import { type BenchContext, type Benchmark, type Figure, figure, quantile } from './harness.js';
import { LabHost } from './lab-host.js';
import { heapUsedAfterGc, loaded, mb, watchRss } from './load.js';

/** The scheduler's ceiling point of full runs: routes, period, warm-up and window. */
interface LargeScale {
  routes: number;
  intervalMs: number;
  warmMs: number;
  measureMs: number;
}

/**
 * Scale per mode: lab apps, the main point (routes, interval), windows, and the knee's steps (probes/s at a
 * 5 s interval). Windows are whole periods, so every route is counted as often as its schedule says.
 */
const SCALE = {
  full: { apps: 40, routes: 5000, intervalMs: 30_000, warmMs: 32_000, measureMs: 60_000, idleMs: 15_000, knee: [2000, 4000, 7000, 10_000, 13_000], kneeIntervalMs: 5000, large: { routes: 10_000, intervalMs: 60_000, warmMs: 62_000, measureMs: 120_000 } as LargeScale | null },
  quick: { apps: 16, routes: 715, intervalMs: 5000, warmMs: 7000, measureMs: 10_000, idleMs: 3000, knee: [] as number[], kneeIntervalMs: 5000, large: null as LargeScale | null },
  tiny: { apps: 2, routes: 20, intervalMs: 1000, warmMs: 1500, measureMs: 2000, idleMs: 1000, knee: [] as number[], kneeIntervalMs: 1000, large: null as LargeScale | null },
};

/** What one window of the run loop measured. */
interface Window {
  routes: number;
  offered: number;
  probes: number;
  rounds: number;
  skipped: number;
  cpuShare: number;
  labCpuShare: number;
  rssBefore: number;
  /** RSS peak over warm-up and window: includes the first-round burst of a start with every route new. */
  rssStartPeak: number;
  rssPeak: number;
  heapTotalAtPeak: number;
  externalAtPeak: number;
  /** ms waited after warm-up for the first rounds' backlog to drain. */
  drainMs: number;
  heapAfterGc: number;
  lateness: number[];
  hopTotals: number[];
}

/** What the measurement windows share. */
interface Rig {
  config: Readonly<Config>;
  dir: string;
  host: LabHost;
  routes: Route[];
  hopsPerRoute: number;
  ctx: BenchContext;
  windows: number;
}

/** What the parent asks a window process to run. */
interface WindowRequest {
  config: Config;
  routes: Route[];
  hopsPerRoute: number;
  everyMs: number;
  warmMs: number;
  measureMs: number;
  dbPath: string;
}

/** Messages of a window process. */
type WindowMessage = { type: 'measuring' } | { type: 'measured' } | { type: 'done'; window: Window } | { type: 'failed'; error: string };

/** A ClusterWatch that is synced and never changes: the routes come from the benchmark, not the cluster. */
function staticWatch(): ClusterWatch {
  return { snapshot: emptySnapshot, onChange: () => () => undefined, onState: () => () => undefined, synced: Promise.resolve(), state: 'synced', stop: async () => undefined };
}

/** The lab's routes, discovered the way the daemon discovers them (the probe benchmarks use it too). */
export async function discover(config: Readonly<Config>): Promise<Route[]> {
  const kc = loadKubeConfig(config);
  const watch = startDiscovery(config, kc, () => undefined);
  try {
    await waitForSync(watch, kc, 30_000, () => null);
    return currentRoutes(config, watch).filter((r) => r.notProbeable === null);
  } finally {
    await watch.stop();
  }
}

/** `count` routes cycling over the discovered ones, each with its own id and Ingress name (its own metric series and store rows). */
function replicate(routes: readonly Route[], count: number): Route[] {
  return Array.from({ length: count }, (_, k) => {
    const r = routes[k % routes.length]!;
    return { ...r, id: `${r.id}#${k}`, ingress: `${r.ingress}-${k}` };
  });
}

function configWith(base: Readonly<Config>, everyMs: number): Readonly<Config> {
  return { ...base, schedule: { ...base.schedule, default: { kind: 'interval', everyMs }, lateAfterMs: everyMs } };
}

/**
 * Runs the real RunLoop over `routes` every everyMs in this process: warm up (first rounds are spread
 * over a second), then measure. `marks` tells the parent when the measured window starts and ends.
 */
async function runWindow(req: WindowRequest, marks: { measuring(): void; measured(): void }): Promise<Window> {
  const config = configWith(req.config, req.everyMs);
  // What startDaemon does first (src/schedule/memory.ts): this process is measured as the daemon runs.
  boundHeapGrowth();
  const db = openStore(req.dbPath);
  const rssBefore = process.memoryUsage.rss();
  const rec = { measuring: false, lateness: [] as number[], skipped: 0, rounds: 0, probes: 0, hopTotals: [] as number[] };
  const metrics = createMetrics();
  const loopMetrics: LoopMetrics = {
    observeRound: (r) => metrics.observeRound(r),
    forgetRoute: (id) => metrics.forgetRoute(id),
    roundLate: (reason) => (metrics.roundLate(reason), rec.measuring && rec.skipped++),
    scheduleLateness: (ms) => (metrics.scheduleLateness(ms), rec.measuring && rec.lateness.push(ms)),
    setDiscovery: (st) => metrics.setDiscovery(st),
    setIncidentsOpen: (n) => metrics.setIncidentsOpen(n),
  };
  const onRound = (round: RouteRound): void => {
    if (!rec.measuring) return;
    rec.rounds++;
    rec.probes += round.hops.length;
    for (const h of round.hops) rec.hopTotals.push(h.timings.totalMs);
  };
  const round = createRoundDeps(config, { diagnosticsWaitMs: 0 });
  const deps: LoopDeps = {
    config, watch: staticWatch(), routes: () => req.routes, db, writer: createWriter(db), round,
    metrics: loopMetrics, alerter: { notify: () => undefined, stats: () => ({ receivers: [] }) }, timers: schedulerTimers(), log: () => undefined, onRound,
  };
  const startRss = watchRss();
  const loop = new RunLoop(deps);
  const trace = traceWindow(loop, round.limiter);
  loop.start();
  try {
    await sleep(req.warmMs);
    // Every route is new at start: its first rounds come within a second, a burst the targets may
    // take a while to answer. The steady state is measured once that backlog has drained.
    const drain0 = performance.now();
    // Bounded: an overloaded loop never drains (the knee's last step), and that is measured too.
    // Drained: fewer waiting than the limit lets run at once (a loaded loop always has a few waiting).
    // Rounds waiting for admission (the scheduler's bound on rounds running at once) are backlog too.
    while ((round.limiter.queued > round.limiter.max || loop.roundsWaiting > 0) && performance.now() - drain0 < Math.max(2 * req.everyMs, 10_000)) await sleep(100);
    const drainMs = performance.now() - drain0;
    marks.measuring();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const rss = watchRss();
    rec.measuring = true;
    await sleep(req.measureMs);
    rec.measuring = false;
    const wallUs = (performance.now() - t0) * 1000;
    const cpu = process.cpuUsage(cpu0);
    marks.measured();
    const peak = rss.stop();
    return {
      routes: req.routes.length, offered: (req.routes.length * req.hopsPerRoute * 1000) / req.everyMs, probes: rec.probes / (req.measureMs / 1000), rounds: rec.rounds, skipped: rec.skipped,
      cpuShare: (cpu.user + cpu.system) / wallUs, labCpuShare: 0, rssBefore, rssStartPeak: startRss.stop().rss, rssPeak: peak.rss, heapTotalAtPeak: peak.heapTotal, externalAtPeak: peak.external,
      drainMs, heapAfterGc: await heapUsedAfterGc(), lateness: rec.lateness, hopTotals: rec.hopTotals,
    };
  } finally {
    trace.stop();
    await loop.stop(10_000);
    db.close();
  }
}

/**
 * HOPWATCH_BENCH_WINDOW_TRACE=1: one stderr line per second with the process's memory, the rounds in
 * flight and the probes waiting; HOPWATCH_BENCH_WINDOW_SNAPSHOT_MS=a,b: heap snapshots (live objects
 * only: a snapshot collects first) that many ms after the loop started, into the working directory.
 * For profiling the first-round burst; off by default.
 */
function traceWindow(loop: RunLoop, limiter: { active: number; queued: number }): { stop(): void } {
  const timers: NodeJS.Timeout[] = [];
  const t0 = performance.now();
  if (process.env['HOPWATCH_BENCH_WINDOW_TRACE'] === '1') {
    timers.push(setInterval(() => {
      const m = process.memoryUsage();
      const h = getHeapStatistics();
      process.stderr.write(`[window] t=${((performance.now() - t0) / 1000).toFixed(0)}s rss=${mb(m.rss).toFixed(0)} heapTotal=${mb(m.heapTotal).toFixed(0)} heapUsed=${mb(m.heapUsed).toFixed(0)} external=${mb(m.external).toFixed(0)} limit=${mb(h.heap_size_limit).toFixed(0)} rounds=${loop.inFlight} waiting=${loop.roundsWaiting} active=${limiter.active} queued=${limiter.queued} writes=${loop.writesPending}\n`);
    }, 1000));
  }
  for (const at of (process.env['HOPWATCH_BENCH_WINDOW_SNAPSHOT_MS'] ?? '').split(',').filter((v) => v !== '')) {
    timers.push(setTimeout(() => process.stderr.write(`[window] snapshot ${writeHeapSnapshot()}\n`), Number(at)));
  }
  // HOPWATCH_BENCH_WINDOW_HEAPPROF=from-to,from-to (s): allocations sampled over each span, keeping those a
  // major GC collected (promoted garbage) beside those still live; those minor GCs collected are left out.
  for (const span of (process.env['HOPWATCH_BENCH_WINDOW_HEAPPROF'] ?? '').split(',').filter((v) => v !== '')) {
    const [from, to] = span.split('-').map(Number) as [number, number];
    const session = new Session();
    session.connect();
    timers.push(setTimeout(() => session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true }), from * 1000));
    timers.push(setTimeout(() => session.post('HeapProfiler.stopSampling', (err, res) => {
      const file = `heapprof-${from}-${to}.heapprofile`;
      if (err === null) writeFileSync(file, JSON.stringify(res.profile));
      process.stderr.write(`[window] heap profile ${err === null ? file : String(err)}\n`);
      session.disconnect();
    }), to * 1000));
  }
  return { stop: () => timers.forEach((t) => clearTimeout(t)) };
}

/**
 * Runs a window in a fresh Node process (this module, compiled), so its CPU, RSS and heap are those
 * of a process doing only what the daemon does; the lab's CPU is sampled over the same window.
 */
async function windowInChild(rig: Rig, routes: Route[], everyMs: number, warmMs: number, measureMs: number): Promise<Window> {
  const entry = fileURLToPath(import.meta.url);
  // HOPWATCH_BENCH_WINDOW_FLAGS: extra Node flags of the probing process (e.g. --max-old-space-size=192), to compare.
  const extra = (process.env['HOPWATCH_BENCH_WINDOW_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
  const child = fork(entry, ['--scheduler-window'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'advanced', execArgv: ['--expose-gc', ...extra] });
  rig.ctx.defer(() => (child.exitCode === null && child.signalCode === null ? child.kill('SIGKILL') : undefined));
  const dbPath = join(rig.dir, `window-${rig.windows++}.db`);
  let lab0 = 0;
  let labUs = 0;
  let t0 = 0;
  let wallUs = 1;
  let samples: Promise<void> = Promise.resolve();
  const result = await new Promise<Window>((resolve, reject) => {
    child.on('message', (m: WindowMessage) => {
      // Chained: the end sample must follow the start sample even if the lab answers slowly.
      if (m.type === 'measuring') samples = samples.then(() => rig.host.cpuMicros()).then((v) => ((lab0 = v), (t0 = performance.now()), undefined));
      else if (m.type === 'measured') samples = samples.then(() => rig.host.cpuMicros()).then((v) => ((labUs = v - lab0), (wallUs = (performance.now() - t0) * 1000), undefined));
      else if (m.type === 'done') resolve(m.window);
      else reject(new Error(`window process: ${m.error}`));
    });
    child.once('exit', (code) => reject(new Error(`window process exited with code ${code}`)));
    const req: WindowRequest = { config: rig.config as Config, routes, hopsPerRoute: rig.hopsPerRoute, everyMs, warmMs, measureMs, dbPath };
    child.send(req);
  });
  await samples;
  // It exits right after its report; a child still there after a few seconds is stopped (by its pid).
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  clearTimeout(timer);
  return { ...result, labCpuShare: labUs / wallUs };
}

/** The window process: runs one window and reports. */
function runWindowChild(): void {
  // The parent went away (stopped, crashed): stop probing the lab.
  process.once('disconnect', () => process.exit(1));
  process.once('message', (req: WindowRequest) => {
    const send = (m: WindowMessage, then?: () => void): void => void process.send?.(m, undefined, {}, () => then?.());
    // Exit only once the last message is out (a large report would otherwise be cut off), and
    // without waiting for idle keep-alive sockets or timers of the loop's clients to end.
    const last = (m: WindowMessage): void => send(m, () => process.exit(0));
    runWindow(req, { measuring: () => send({ type: 'measuring' }), measured: () => send({ type: 'measured' }) }).then(
      (window) => last({ type: 'done', window }),
      (error: unknown) => last({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
}


/** The scheduler alone (same routes, same period, rounds that do nothing): the lateness floor of the timers themselves. */
async function idleLateness(routes: readonly Route[], everyMs: number, warmMs: number, measureMs: number): Promise<number[]> {
  const out: number[] = [];
  let measuring = false;
  const t = schedulerTimers();
  const scheduler = new Scheduler(
    { ...t, now: Date.now, runRound: async () => undefined, onLate: () => undefined, onLateness: (ms) => measuring && out.push(ms) },
    { lateAfterMs: everyMs, firstRoundWithinMs: 1000 },
  );
  scheduler.setRoutes(routes.map((route) => ({ route, schedule: { kind: 'interval', everyMs }, definition: '' })));
  await sleep(warmMs);
  measuring = true;
  await sleep(measureMs);
  await scheduler.stop(1000);
  return out;
}

/** CPU of raw node:http requests (keep-alive off) to the same lab pods: the floor's cost per request (µs). */
async function rawCpuPerRequest(pods: readonly string[], n: number): Promise<number> {
  const { request } = await import('node:http');
  let i = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const [host, port] = pods[i++ % pods.length]!.split(':') as [string, string];
      const req = request({ host, port: Number(port), path: '/', agent: false }, (res) => (res.on('end', resolve), res.resume()));
      req.on('error', reject);
      req.end();
    });
  await loaded(one, Math.min(300, n), 50);
  const res = await loaded(one, n, 50);
  return res.cpuMicros / res.requests;
}

function mainFigures(w: Window, idle: number[], rawMicros: number, everyMs: number, note: string): Figure[] {
  const base = { bench: 'scheduler', runs: 1 };
  const floorShare = (rawMicros * w.probes) / 1e6;
  return [
    figure({ ...base, name: `CPU share (${w.routes} routes / ${everyMs / 1000} s, ${Math.round(w.probes)} probes/s)`, value: w.cpuShare * 100, unit: '% core', baseline: { name: 'raw node:http CPU × same probes/s', value: floorShare * 100 }, aim: { of: 'value', max: 60 }, note }),
    figure({ ...base, name: 'RSS peak of the probing process', value: mb(w.rssPeak), unit: 'MB', baseline: { name: 'same process before the loop started', value: mb(w.rssBefore) }, aim: { of: 'value', max: 400 } }),
    figure({
      ...base, name: 'RSS peak including the start (every route new at once)', value: mb(w.rssStartPeak), unit: 'MB', baseline: { name: 'same process before the loop started', value: mb(w.rssBefore) },
      note: `at the window's RSS peak the V8 heap held ${mb(w.heapTotalAtPeak).toFixed(0)} MB (${mb(w.heapAfterGc).toFixed(0)} MB live after a full GC), external ${mb(w.externalAtPeak).toFixed(0)} MB; the first rounds' backlog took ${(w.drainMs / 1000).toFixed(1)} s more than the warm-up to drain`,
    }),
    figure({ ...base, name: 'heap used after a full GC (end of window)', value: mb(w.heapAfterGc), unit: 'MB', baseline: { name: 'RSS peak', value: mb(w.rssPeak) } }),
    figure({ ...base, name: 'schedule lateness p50', value: quantile(w.lateness, 0.5), unit: 'ms', baseline: { name: 'scheduler alone, no probing', value: quantile(idle, 0.5) } }),
    figure({ ...base, name: 'schedule lateness p99', value: quantile(w.lateness, 0.99), unit: 'ms', baseline: { name: 'scheduler alone, no probing', value: quantile(idle, 0.99) }, aim: { of: 'value', max: 10 } }),
    figure({ ...base, name: 'probe latency p99 (every hop)', value: quantile(w.hopTotals, 0.99), unit: 'ms', baseline: { name: 'probe latency p50', value: quantile(w.hopTotals, 0.5) } }),
    figure({ ...base, name: 'rounds skipped (overlap or behind)', value: w.skipped, unit: 'rounds', baseline: { name: 'rounds run', value: w.rounds } }),
  ];
}

/** The ceiling of one replica's scheduler (full runs): 10,000 routes x 7 hops every 60 s, one window in a fresh process. */
async function largeWindow(rig: Rig, large: LargeScale): Promise<Figure[]> {
  const w = await windowInChild(rig, replicate(rig.routes, large.routes), large.intervalMs, large.warmMs, large.measureMs);
  rig.ctx.log(`${w.routes} routes / ${large.intervalMs / 1000} s: ${Math.round(w.probes)} probes/s, ${(w.cpuShare * 100).toFixed(0)} % core, RSS ${mb(w.rssPeak).toFixed(0)} MB, lateness p99 ${quantile(w.lateness, 0.99).toFixed(1)} ms`);
  const base = { bench: 'scheduler', runs: 1 };
  const name = `${w.routes} routes x ${rig.hopsPerRoute} hops / ${large.intervalMs / 1000} s`;
  const note = `one ${large.measureMs / 1000} s window after ${large.warmMs / 1000} s warm-up (plus the first rounds' drain, ${(w.drainMs / 1000).toFixed(1)} s); lab ${(w.labCpuShare * 100).toFixed(0)} % core meanwhile; ${w.skipped} rounds skipped of ${w.rounds}`;
  return [
    figure({ ...base, name: `${name}: CPU share (${Math.round(w.probes)} probes/s)`, value: w.cpuShare * 100, unit: '% core', baseline: { name: 'the lab\'s Node process, same window', value: w.labCpuShare * 100 }, note }),
    figure({ ...base, name: `${name}: RSS peak including the start`, value: mb(w.rssStartPeak), unit: 'MB', baseline: { name: 'same process before the loop started', value: mb(w.rssBefore) } }),
    figure({ ...base, name: `${name}: schedule lateness p99`, value: quantile(w.lateness, 0.99), unit: 'ms', baseline: { name: 'lateness p50', value: quantile(w.lateness, 0.5) }, aim: { of: 'value', max: 10 } }),
  ];
}

/**
 * A route whose HTTP hops all go to the lab's nginx controller pods with a Host nginx does not serve,
 * expecting 404: nginx (C, one worker per replica) answers itself, so the targets keep up with rates
 * the lab's Node pods cannot, and the knee is hopwatch's rather than the lab's. DNS still goes to dnsmasq.
 */
function answeredByNginx(route: Route): Route {
  const c = route.controller;
  const ips = (c?.pods ?? []).flatMap((p) => (p.ip === null ? [] : [p.ip]));
  if (c === null || ips.length === 0) return route;
  const at = (i: number): string => ips[i % ips.length]!;
  return {
    ...route,
    probe: { ...route.probe, hostHeader: 'knee.bench.invalid', expectStatus: [404] },
    controller: { ...c, edge: `http://${at(0)}:${c.httpPort}` },
    backends: route.backends.map((b) => ({
      ...b,
      service: b.service && { ...b.service, clusterIP: at(1) },
      servicePort: b.servicePort && { ...b.servicePort, port: c.httpPort },
      endpoints: b.endpoints.map((e, i) => ({ ...e, address: at(i), port: c.httpPort })),
    })),
  };
}

/** A step the loop kept up with: lateness p99 at most 50 ms, few slots skipped, and (nearly) every offered probe done. */
function keepsUp(w: Window): boolean {
  return quantile(w.lateness, 0.99) <= 50 && w.skipped <= w.rounds * 0.05 && w.probes >= w.offered * 0.95;
}

/** Steps up the probe rate until the loop stops keeping up (keepsUp); the knee is the last rate that did. */
async function knee(rig: Rig, scale: (typeof SCALE)['full']): Promise<Figure[]> {
  const steps: Window[] = [];
  for (const rate of scale.knee) {
    const count = Math.round((rate * scale.kneeIntervalMs) / 1000 / rig.hopsPerRoute);
    const w = await windowInChild(rig, replicate(rig.routes.map(answeredByNginx), count), scale.kneeIntervalMs, scale.kneeIntervalMs + 3000, 2 * scale.kneeIntervalMs);
    steps.push(w);
    const p99 = quantile(w.lateness, 0.99);
    rig.ctx.log(`knee step ${rate}/s: ${Math.round(w.probes)} probes/s done, lateness p99 ${p99.toFixed(1)} ms, hopwatch ${(w.cpuShare * 100).toFixed(0)} % core, RSS ${mb(w.rssPeak).toFixed(0)} MB, skipped ${w.skipped}`);
    if (!keepsUp(w)) break;
  }
  const under = steps.filter(keepsUp);
  const best = under.at(-1) ?? null;
  const passed = steps.length > under.length;
  const base = { bench: 'scheduler', runs: 1 };
  const trail = `targets answered by nginx itself (404 expected); ${steps.map((w) => `${Math.round(w.offered)}/s offered, ${Math.round(w.probes)}/s done: p99 ${quantile(w.lateness, 0.99).toFixed(0)} ms, ${(w.cpuShare * 100).toFixed(0)} % core`).join('; ')}`;
  if (best === null) return [figure({ ...base, name: 'knee (lateness p99 > 50 ms)', value: 0, unit: 'probes/s', note: `no step stayed under 50 ms: ${trail}` })];
  const perCore = best.probes / best.cpuShare;
  return [
    figure({ ...base, name: `knee: highest rate kept up with (lateness p99 ≤ 50 ms, ≥ 95 % of probes done)${passed ? '' : ' (not passed at the highest rate tried)'}`, value: best.probes, unit: 'probes/s', baseline: { name: 'blackbox_exporter ~1,000/core/s, quoted (not run here)', value: 1000 }, note: trail }),
    figure({ ...base, name: 'probes per CPU-second at that rate', value: perCore, unit: 'probes/s/core', baseline: { name: 'blackbox_exporter, quoted (not run here)', value: 1000 } }),
  ];
}

/** The benchmark. */
export const schedulerBench: Benchmark = {
  id: 'scheduler',
  title: '2. Scheduler at scale',
  async run(ctx) {
    // HOPWATCH_BENCH_SCHEDULER_FULL_MAIN=1: only the full run's main window (5,000 routes x 7 hops every 30 s), whatever the mode (no knee, no 10,000-route window): its RSS without a cap, in ~3 minutes.
    const scale = process.env['HOPWATCH_BENCH_SCHEDULER_FULL_MAIN'] === '1' ? { ...SCALE.full, knee: [] as number[], large: null } : SCALE[ctx.mode];
    const host = LabHost.spawn();
    ctx.defer(() => host.stop());
    const apps = Array.from({ length: scale.apps }, (_, i) => webApp(`team-${i % 4}`, `app-${i}`, `app-${i}.bench.test`));
    const info = await host.startLab(merge(...apps));
    const config = loadConfig({ text: info.hopwatchConfig });
    const discovered = await discover(config);
    ctx.log(`lab block 127.${info.block}: ${discovered.length} routes discovered, ${info.pods.length} pods`);
    const hopsPerRoute = planHops(discovered[0]!, { timeoutMs: 5000, dnsServer: config.cluster.dnsServer, clusterDomain: 'cluster.local' }).length;
    const dir = join(ctx.tmpDir, 'scheduler');
    mkdirSync(dir, { recursive: true });
    const rig: Rig = { config, dir, host, routes: discovered, hopsPerRoute, ctx, windows: 0 };
    const routes = replicate(discovered, scale.routes);
    const rawMicros = await rawCpuPerRequest(info.pods, ctx.mode === 'tiny' ? 100 : 2000);
    // No probing: only the first rounds (spread over a second) need to pass before measuring.
    const idle = await idleLateness(routes, scale.intervalMs, 1500, scale.idleMs);
    const w = await windowInChild(rig, routes, scale.intervalMs, scale.warmMs, scale.measureMs);
    ctx.log(`${w.routes} routes: ${Math.round(w.probes)} probes/s, hopwatch ${(w.cpuShare * 100).toFixed(0)} % core, RSS ${mb(w.rssPeak).toFixed(0)} MB, lab ${(w.labCpuShare * 100).toFixed(0)} %, lateness p99 ${quantile(w.lateness, 0.99).toFixed(1)} ms`);
    const note = `${discovered.length} lab apps x2 pods replicated to ${w.routes} routes x ${hopsPerRoute} hops; one ${scale.measureMs / 1000} s window after ${scale.warmMs / 1000} s warm-up; the lab's Node process (pods, Service forwarders, edge) took ${(w.labCpuShare * 100).toFixed(0)} % core meanwhile, nginx and dnsmasq apart; hopwatch ran in a fresh process`;
    const figures = mainFigures(w, idle, rawMicros, scale.intervalMs, note);
    if (scale.large !== null) figures.push(...(await largeWindow(rig, scale.large)));
    if (scale.knee.length > 0) figures.push(...(await knee(rig, scale)));
    return figures;
  },
};

if (process.argv.includes('--scheduler-window') && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) runWindowChild();
