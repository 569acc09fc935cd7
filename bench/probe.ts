// 1. Probe cost: hopwatch's HTTP hop probe (probeHttp with the daemon's client pool, full phase
// timing) against the floor, a raw node:http request with keep-alive off, to the same lab pods.
// CPU per request is this process's CPU time over many requests at 50 in flight (the lab's pods run
// in a child process, so their work is not counted); latency is one request at a time, against a
// raw socket writing a GET and reading to the close. The undici alternatives the daemon could use
// (a new Client per request, a pooled dispatcher with reset) are measured beside them.

import http from 'node:http';
import net from 'node:net';
import { Client, Pool } from 'undici';
import type { PlannedHop } from '../src/model.js';
import { HttpClientPool, probeHttp } from '../src/probe/http.js';
import { webApp } from '../test/lab/scenarios.js';
import { type BenchContext, type Benchmark, type Figure, figure, median, paired, quantile } from './harness.js';
import { LabHost } from './lab-host.js';
import { loaded, sequential } from './load.js';

const HOST = 'web.bench.test';
const CONCURRENCY = 50;

/** Requests per loaded run, loaded runs, requests per one-at-a-time run, such runs. */
const SCALE = { full: { n: 3000, runs: 5, seq: 1000, seqRuns: 3 }, quick: { n: 800, runs: 3, seq: 300, seqRuns: 2 }, tiny: { n: 60, runs: 1, seq: 20, seqRuns: 1 } };

/** One request to a target "ip:port"; resolves when the response ended (or failed: a failure here is counted). */
type RequestFn = (target: Target) => Promise<void>;

interface Target {
  address: string;
  port: number;
  hop: PlannedHop;
}

function targetsOf(pods: readonly string[]): Target[] {
  return pods.map((p, i) => {
    const [address, portText] = p.split(':') as [string, string];
    const port = Number(portText);
    const hop: PlannedHop = {
      hop: 'pod', target: p, address, port, scheme: 'http', pod: `bench/web-${i}`, ready: true, terminating: false,
      request: { host: HOST, path: '/', timeoutMs: 5000 }, dnsServer: null,
    };
    return { address, port, hop };
  });
}

/** The floor: node:http, a new connection per request (agent: false), body read to the end. */
const rawHttp: RequestFn = (t) =>
  new Promise((resolve, reject) => {
    const req = http.request({ host: t.address, port: t.port, path: '/', headers: { host: HOST, accept: '*/*' }, agent: false }, (res) => {
      res.on('end', resolve);
      res.resume();
    });
    req.on('error', reject);
    req.end();
  });

/** The socket floor: connect, write a GET, read until the peer closes. */
const rawSocket: RequestFn = (t) =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host: t.address, port: t.port }, () => socket.end(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`));
    socket.on('data', () => undefined);
    socket.on('end', () => {
      socket.destroy();
      resolve();
    });
    socket.on('error', reject);
  });

function hopwatchProbe(pool: HttpClientPool): RequestFn {
  return async (t) => {
    const result = await probeHttp(t.hop, { clients: pool });
    if (result.status !== 200) throw new Error(`probe of ${t.hop.target} got ${result.status ?? result.error}: ${result.errorDetail}`);
  };
}

/** undici, a new Client per request (what a naive prober does). */
const undiciClientPerRequest: RequestFn = async (t) => {
  const client = new Client(`http://${t.address}:${t.port}`);
  try {
    const res = await client.request({ method: 'GET', path: '/', headers: { host: HOST }, reset: true });
    await res.body.dump();
  } finally {
    await client.close();
  }
};

/** undici, one pooled dispatcher per target with reset: true (a new connection per request, pooled machinery). */
function undiciPooled(pools: Map<string, Pool>): RequestFn {
  return async (t) => {
    let pool = pools.get(t.hop.target);
    if (pool === undefined) pools.set(t.hop.target, (pool = new Pool(`http://${t.address}:${t.port}`, { connections: CONCURRENCY })));
    const res = await pool.request({ method: 'GET', path: '/', headers: { host: HOST }, reset: true });
    await res.body.dump();
  };
}

/** Spreads requests over the pods round-robin (many destinations: TIME_WAIT sockets spread too). */
function rotating(fn: RequestFn, targets: readonly Target[]): () => Promise<void> {
  let i = 0;
  return () => fn(targets[i++ % targets.length]!);
}

interface Variant {
  name: string;
  fn: RequestFn;
}

/** Loaded runs of every variant, interleaved run by run; CPU µs per request and req/s per variant. */
async function loadedRuns(variants: readonly Variant[], targets: readonly Target[], n: number, runs: number, ctx: BenchContext): Promise<Map<string, { cpu: number[]; rate: number[] }>> {
  const out = new Map(variants.map((v) => [v.name, { cpu: [] as number[], rate: [] as number[] }]));
  // A short warm-up of each variant: JIT and first connections are not what is measured.
  for (const v of variants) await loaded(rotating(v.fn, targets), Math.min(1000, n), CONCURRENCY);
  for (let r = 0; r < runs; r++) {
    for (const v of variants) {
      const res = await loaded(rotating(v.fn, targets), n, CONCURRENCY);
      out.get(v.name)!.cpu.push(res.cpuMicros / res.requests);
      out.get(v.name)!.rate.push((res.requests / res.wallMs) * 1000);
    }
    ctx.log(`loaded run ${r + 1}/${runs}: ${variants.map((v) => `${v.name} ${out.get(v.name)!.cpu.at(-1)!.toFixed(0)} µs/req`).join(', ')}`);
  }
  return out;
}

async function measure(ctx: BenchContext, pods: readonly string[]): Promise<Figure[]> {
  const scale = SCALE[ctx.mode];
  const targets = targetsOf(pods);
  const pool = new HttpClientPool();
  const pools = new Map<string, Pool>();
  ctx.defer(() => Promise.all([...pools.values()].map((p) => p.close())));
  const variants: Variant[] = [
    { name: 'raw', fn: rawHttp },
    { name: 'hopwatch', fn: hopwatchProbe(pool) },
    { name: 'undici-client', fn: undiciClientPerRequest },
    { name: 'undici-pool', fn: undiciPooled(pools) },
  ];
  const load = await loadedRuns(variants, targets, scale.n, scale.runs, ctx);
  const raw = load.get('raw')!;
  const cpu = (name: string) => paired(load.get(name)!.cpu, raw.cpu);
  const rate = (name: string) => paired(load.get(name)!.rate, raw.rate);
  const base = { bench: 'probe', runs: scale.runs };
  const hw = cpu('hopwatch');
  const figures: Figure[] = [
    figure({ ...base, name: `CPU per probe (${CONCURRENCY} in flight)`, value: hw.value, unit: 'µs', baseline: { name: 'raw node:http, keep-alive off', value: hw.baseline }, ratio: hw.ratio, aim: { of: 'ratio', max: 1.2 } }),
  ];
  for (const [name, label] of [['hopwatch', 'hopwatch probes'], ['raw', 'raw node:http requests'], ['undici-client', 'undici, new Client per request'], ['undici-pool', 'undici Pool, reset: true']] as const) {
    const r = rate(name);
    figures.push(figure({ ...base, name: `throughput: ${label}`, value: r.value, unit: 'req/s', baseline: name === 'raw' ? null : { name: 'raw node:http', value: r.baseline }, ratio: name === 'raw' ? null : r.ratio }));
  }
  for (const [name, label] of [['undici-client', 'undici, new Client per request'], ['undici-pool', 'undici Pool, reset: true']] as const) {
    const c = cpu(name);
    figures.push(figure({ ...base, name: `CPU per request: ${label}`, value: c.value, unit: 'µs', baseline: { name: 'raw node:http', value: c.baseline }, ratio: c.ratio, note: name === 'undici-pool' ? 'alternative to the pooled hopwatch client; not used unless it wins' : undefined }));
  }
  figures.push(...(await latencyFigures(ctx, targets, pool)));
  return figures;
}

/** One-at-a-time latency p50: hopwatch against the raw socket floor (and raw node:http), interleaved. */
async function latencyFigures(ctx: BenchContext, targets: readonly Target[], pool: HttpClientPool): Promise<Figure[]> {
  const scale = SCALE[ctx.mode];
  const p50 = { hopwatch: [] as number[], socket: [] as number[], http: [] as number[] };
  const p99 = { hopwatch: [] as number[], socket: [] as number[] };
  for (let r = 0; r < scale.seqRuns; r++) {
    const hw = await sequential(rotating(hopwatchProbe(pool), targets), scale.seq);
    const so = await sequential(rotating(rawSocket, targets), scale.seq);
    const ht = await sequential(rotating(rawHttp, targets), scale.seq);
    p50.hopwatch.push(median(hw));
    p50.socket.push(median(so));
    p50.http.push(median(ht));
    p99.hopwatch.push(quantile(hw, 0.99));
    p99.socket.push(quantile(so, 0.99));
  }
  const lat = paired(p50.hopwatch, p50.socket);
  const http1 = paired(p50.http, p50.socket);
  const tail = paired(p99.hopwatch, p99.socket);
  const base = { bench: 'probe', runs: scale.seqRuns };
  return [
    figure({ ...base, name: 'latency p50, one at a time', value: lat.value, unit: 'ms', baseline: { name: 'raw socket GET', value: lat.baseline }, ratio: lat.ratio, aim: { of: 'ratio', max: 1.5 } }),
    figure({ ...base, name: 'latency p99, one at a time', value: tail.value, unit: 'ms', baseline: { name: 'raw socket GET', value: tail.baseline }, ratio: tail.ratio }),
    figure({ ...base, name: 'latency p50 of raw node:http, one at a time', value: http1.value, unit: 'ms', baseline: { name: 'raw socket GET', value: http1.baseline }, ratio: http1.ratio }),
  ];
}

/** The benchmark. */
export const probeBench: Benchmark = {
  id: 'probe',
  title: '1. Probe cost',
  async run(ctx) {
    const host = LabHost.spawn();
    ctx.defer(() => host.stop());
    const info = await host.startLab(webApp('bench', 'web', HOST, { replicas: 8 }));
    ctx.log(`lab block 127.${info.block}: ${info.pods.length} pods`);
    return measure(ctx, info.pods);
  },
};
