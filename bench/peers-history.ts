// 9. Peers, history: the same history in Prometheus (Debian's prometheus 2.42) and in hopwatch's
// store, and the time each takes to answer the same questions through its HTTP API.
//
// The history is the generated store's (bench/store-fixture.ts: src/store/generate.ts's world, N
// routes probed every 30 s for D days). The very same rounds (same start times, same outcomes) are
// written as OpenMetrics, the series a blackbox_exporter + Prometheus set-up would hold per route
// (probe_success and probe_duration_seconds of the route's edge probe, labelled by route), and
// backfilled with `promtool tsdb create-blocks-from openmetrics`. Prometheus then runs on 127.0.0.1
// with that data directory (its own, in the run's scratch directory; the full run keeps it in
// bench/data/ beside the store and reuses it) and is stopped by its pid at the end.
//
// Questions, each one cold call then several warm (median):
// - failed rounds per hour, per route, over the whole history: one PromQL range query
//   (count_over_time - sum_over_time of probe_success over 1h, step 1h) against hopwatch's API,
//   which answers per route only (GET /api/v1/timeline?route=ID&step=1h for every route, 8 in flight);
// - the same for all routes together (one series / one call);
// - one route, per minute, last 24 h.
// hopwatch's buckets carry more than the failed count (latency quantiles, failures by hop and cause).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createMetrics } from '../src/server/metrics.js';
import { startServer } from '../src/server/server.js';
import { roundOutcome, startOf, syntheticWorld, type World } from '../src/store/generate.js';
import { openStoreReader } from '../src/store/reader.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, floorTo } from '../src/store/rollup.js';
import { type BenchContext, type Benchmark, type Figure, figure, median } from './harness.js';
import { loaded } from './load.js';
import { freePort, httpGet, stopProcess, waitHealthy } from './peers.js';
import { type StoreFixture, storeFixture } from './store-fixture.js';

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const SCALE = { full: { warm: 5 }, quick: { warm: 5 }, tiny: { warm: 2 } };
/** Format of the cached Prometheus data directory: bump when the series written change. */
const PROM_FIXTURE_VERSION = 1;

/** The world the store was generated from (src/store/generate.ts generateStore's defaults). */
function worldOf(f: StoreFixture): World {
  return syntheticWorld(f.routes, Math.max(1, Math.ceil(f.routes / 25)), f.intervalMs, 1);
}

/** Label value escaping of the OpenMetrics text format. */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * Writes the store's history as OpenMetrics (two families, each series in time order): the rounds
 * of [from, now) exactly as generateStore wrote them. Returns the samples written.
 */
export function writeOpenMetrics(path: string, w: World, from: number, now: number): number {
  const fd = openSync(path, 'w');
  let buffer = '';
  let samples = 0;
  const out = (line: string): void => {
    buffer += line;
    if (buffer.length > 1 << 20) writeSync(fd, buffer), (buffer = '');
  };
  const families = [
    { name: 'probe_success', help: 'Whether the route\'s edge probe succeeded (0: the round failed)', value: (r: number, s: number) => (roundOutcome(w, r, s).status === 'failing' ? '0' : '1') },
    { name: 'probe_duration_seconds', help: 'Duration of the route\'s edge probe', value: (r: number, s: number) => (roundOutcome(w, r, s).edgeMs / 1000).toFixed(4) },
  ];
  try {
    for (const family of families) {
      out(`# HELP ${family.name} ${family.help}\n# TYPE ${family.name} gauge\n`);
      for (let r = 0; r < w.routes.length; r++) {
        const route = w.routes[r]!;
        const series = `${family.name}{route="${label(route.id)}",namespace="${label(route.namespace)}",ingress="${label(route.ingress)}"} `;
        for (let s = Math.floor(from / w.intervalMs) - 1; ; s++) {
          const at = startOf(w, r, s);
          if (at >= now) break;
          if (at < from) continue;
          out(`${series}${family.value(r, s)} ${(at / 1000).toFixed(3)}\n`);
          samples++;
        }
      }
    }
    out('# EOF\n');
    writeSync(fd, buffer);
  } finally {
    closeSync(fd);
  }
  return samples / families.length;
}

/** Bytes of every file under dir. */
function du(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    total += entry.isDirectory() ? du(p) : statSync(p).size;
  }
  return total;
}

/** What the Prometheus side holds. */
interface PromData {
  /** The TSDB directory. */
  dir: string;
  /** Rounds (samples per family) written. */
  rounds: number;
  /** Seconds to write the OpenMetrics and backfill it, null when reused. */
  buildSec: number | null;
  /** Bytes of the OpenMetrics text. */
  openMetricsBytes: number;
}

/** The Prometheus TSDB of the store's history: reused (full runs, bench/data/) when its sidecar matches, else built. */
function promData(ctx: BenchContext, f: StoreFixture): PromData {
  const full = ctx.mode === 'full';
  const base = full ? join(ctx.root, 'bench', 'data') : join(ctx.tmpDir, 'prometheus');
  const dir = join(base, `prometheus-${f.days >= 1 ? `${f.days}d` : `${Math.round(f.days * 24)}h`}-${f.routes}r-${f.intervalMs / 1000}s`);
  const sidecar = `${dir}.json`;
  if (existsSync(sidecar) && existsSync(dir)) {
    const s = JSON.parse(readFileSync(sidecar, 'utf8')) as { version: number; now: number; rounds: number; openMetricsBytes: number };
    if (s.version === PROM_FIXTURE_VERSION && s.now === f.now) {
      ctx.log(`reusing ${dir}`);
      return { dir, rounds: s.rounds, buildSec: null, openMetricsBytes: s.openMetricsBytes };
    }
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  const t0 = performance.now();
  const from = floorTo(f.now - f.days * DAY_MS, HOUR_MS);
  const om = join(ctx.tmpDir, 'history.om');
  const rounds = writeOpenMetrics(om, worldOf(f), from, f.now);
  const openMetricsBytes = statSync(om).size;
  ctx.log(`OpenMetrics: ${rounds} rounds x 2 series families, ${(openMetricsBytes / 1e6).toFixed(0)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s; promtool backfill ...`);
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  // Blocks of up to 486 h (the largest promtool makes): a 30-day history in a few blocks, as Prometheus's compaction would leave it.
  const run = spawnSync(PROMTOOL, ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', '--max-block-duration=486h', om, partial], { encoding: 'utf8', maxBuffer: 1 << 24 });
  rmSync(om, { force: true });
  if (run.status !== 0) throw new Error(`promtool backfill failed (${run.status}): ${(run.stderr || run.stdout).slice(-1000)}`);
  renameSync(partial, dir);
  const buildSec = (performance.now() - t0) / 1000;
  ctx.log(`backfilled in ${buildSec.toFixed(1)} s`);
  writeFileSync(sidecar, `${JSON.stringify({ version: PROM_FIXTURE_VERSION, now: f.now, rounds, openMetricsBytes }, null, 2)}\n`);
  return { dir, rounds, buildSec, openMetricsBytes };
}

/** A running Prometheus over a data directory (a copy is not needed: it only reads the backfilled blocks, and writes its own WAL beside them). */
async function startPrometheus(ctx: BenchContext, dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const config = join(ctx.tmpDir, 'prometheus.yml');
  writeFileSync(config, 'global:\n  scrape_interval: 30s\nscrape_configs: []\n');
  const port = await freePort('127.0.0.1');
  const child = spawn(PROMETHEUS, [
    `--config.file=${config}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=3650d', '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  ctx.defer(() => stopProcess(child, 30_000));
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(`${url}/-/ready`, child, 'prometheus', 60_000, () => stderr);
  return { url, child };
}

/** Median warm time (ms) of fn: one cold call first. */
async function warmMs(fn: () => Promise<unknown>, warm: number): Promise<{ warm: number; cold: number }> {
  const c = performance.now();
  await fn();
  const cold = performance.now() - c;
  const times: number[] = [];
  for (let i = 0; i < warm; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return { warm: median(times), cold };
}

/** GET that must answer 200 with JSON; returns the parsed body. */
async function getJson(url: string, agent: http.Agent): Promise<unknown> {
  const res = await httpGet(url, { agent, timeoutMs: 120_000 });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${res.body.slice(0, 300)}`);
  return JSON.parse(res.body) as unknown;
}

/** A PromQL range query; checks it returned `series` series. */
async function promRange(url: string, agent: http.Agent, query: string, startMs: number, endMs: number, stepS: number, series: number): Promise<void> {
  const q = new URLSearchParams({ query, start: String(startMs / 1000), end: String(endMs / 1000), step: String(stepS) });
  const body = (await getJson(`${url}/api/v1/query_range?${q}`, agent)) as { status: string; data: { result: unknown[] } };
  if (body.status !== 'success' || body.data.result.length !== series) throw new Error(`prometheus: ${query} returned ${body.data.result.length} series, expected ${series}`);
}

async function measure(ctx: BenchContext): Promise<Figure[]> {
  if (!existsSync(PROMETHEUS) || !existsSync(PROMTOOL)) {
    return [figure({ bench: 'peers', name: 'history: disk size, Prometheus vs hopwatch', value: Number.NaN, unit: 'MB', runs: 0, note: 'not measured: no prometheus/promtool (scripts/setup.sh --bench installs them)' })];
  }
  const warm = SCALE[ctx.mode].warm;
  const f = storeFixture(ctx);
  const prom = promData(ctx, f);
  const { url } = await startPrometheus(ctx, prom.dir);
  const reader = await openStoreReader(f.path);
  ctx.defer(() => reader.close());
  const server = await startServer({
    listen: '127.212.0.1:0', token: null, reader, metrics: createMetrics({ defaultMetrics: false }), health: { live: () => true, ready: () => true, detail: () => ({}) },
    dashboardDir: null, log: () => undefined, now: () => f.now,
  });
  ctx.defer(() => server.close());
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const noKeepAlive = new http.Agent({ keepAlive: false, maxSockets: 8 });
  ctx.defer(() => agent.destroy());
  const ids = worldOf(f).routes.map((r) => r.id);
  const one = ids[Math.floor(ids.length / 2)]!;
  const from = floorTo(f.now - f.days * DAY_MS, HOUR_MS);
  const iso = (ms: number): string => new Date(ms).toISOString();
  const hw = (q: string) => getJson(`${server.url}/api/v1/timeline?${q}`, noKeepAlive);
  const failed = (selector: string, window: string) => `count_over_time(probe_success${selector}[${window}]) - sum_over_time(probe_success${selector}[${window}])`;
  const range = `${f.days >= 1 ? `${f.days} d` : `${Math.round(f.days * 24)} h`}`;
  const questions = [
    {
      name: `failed rounds per hour per route, ${range} (${f.routes} routes)`,
      hopwatch: () => loaded((() => { let i = 0; return () => hw(`route=${encodeURIComponent(ids[i++ % ids.length]!)}&from=${iso(from)}&to=${iso(f.now)}&step=1h`); })(), ids.length, 8),
      prometheus: () => promRange(url, agent, failed('', '1h'), from + HOUR_MS, f.now, 3600, ids.length),
      how: `hopwatch: ${ids.length} GET /api/v1/timeline?route=… (8 in flight; its API has no per-route grouping in one call); Prometheus: one query_range`,
    },
    {
      name: `failed rounds per hour, all routes together, ${range}`,
      hopwatch: () => hw(`from=${iso(from)}&to=${iso(f.now)}&step=1h`),
      prometheus: () => promRange(url, agent, `sum(${failed('', '1h')})`, from + HOUR_MS, f.now, 3600, 1),
      how: 'one call each',
    },
    {
      name: 'one route, per minute, last 24 h',
      hopwatch: () => hw(`route=${encodeURIComponent(one)}&from=${iso(f.now - DAY_MS)}&to=${iso(f.now)}&step=1m`),
      prometheus: () => promRange(url, agent, failed(`{route="${label(one)}"}`, '1m'), f.now - DAY_MS + MINUTE_MS, f.now, 60, 1),
      how: 'one call each',
    },
  ];
  const storeBytes = statSync(f.path).size;
  const promBytes = du(prom.dir);
  const scaled = f.scaled ? `scaled-down history: ${range} x ${f.routes} routes (full runs: 30 d x 1,000)` : `${range} x ${f.routes} routes at ${f.intervalMs / 1000} s`;
  const figures: Figure[] = [
    figure({
      bench: 'peers', name: `history on disk, ${range} x ${f.routes} routes`, value: storeBytes / 1e6, unit: 'MB', baseline: { name: 'Prometheus 2.42 TSDB (promtool backfill), same rounds', value: promBytes / 1e6 }, runs: 1,
      note: `${scaled}; ${prom.rounds} rounds. Prometheus holds 2 series per route (probe_success, probe_duration_seconds of the edge probe; the OpenMetrics text was ${(prom.openMetricsBytes / 1e6).toFixed(0)} MB), ${(promBytes / (prom.rounds * 2)).toFixed(2)} B/sample: hop-by-hop series as hopwatch keeps would be ~7x that; hopwatch keeps every hop of the raw days (raw ${f.retention.rawDays} d) and minute/hour/day rollups`,
    }),
  ];
  for (const q of questions) {
    const p = await warmMs(q.prometheus, warm);
    const h = await warmMs(q.hopwatch, warm);
    ctx.log(`${q.name}: hopwatch ${h.warm.toFixed(1)} ms (cold ${h.cold.toFixed(0)}), Prometheus ${p.warm.toFixed(1)} ms (cold ${p.cold.toFixed(0)})`);
    figures.push(figure({ bench: 'peers', name: `history: ${q.name}`, value: h.warm, unit: 'ms', baseline: { name: 'Prometheus query_range over HTTP, same run', value: p.warm }, runs: warm, note: `${q.how}; cold: hopwatch ${h.cold.toFixed(0)} ms, Prometheus ${p.cold.toFixed(0)} ms` }));
  }
  return figures;
}

/** The benchmark. */
export const peersHistoryBench: Benchmark = { id: 'peers-history', title: '9. Peers: history beside Prometheus', run: measure };
