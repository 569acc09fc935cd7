// 6. Discovery: the initial sync of the daemon's cluster watch (client-node informers over the real
// list/watch wire protocol) against a lab API server holding 10,000 EndpointSlices, 5,000 Services
// and 5,000 Ingresses of two hosts each (10,000 routes), in a child process; time to synced and the
// heap it holds, then the routes computed from it. Baseline, same run: plain GETs of the same lists
// parsed with JSON.parse (no informers, no typed models).
// Then the delay from a change (a new Ingress; a new endpoint in an EndpointSlice) to the first
// probe of the new plan, through the daemon's RunLoop (watch -> routesFrom -> scheduler -> probe).
// The same again with the Gateway API: a second lab API server with the same Services and
// EndpointSlices and, instead of the Ingresses, 5,000 HTTPRoutes of two hostnames each through one
// Gateway (10,000 routes); baseline: every HTTPRoute route recomputed on every change (follow.ts before).
// Probes are stubbed (they answer "refused" at once, no I/O): ten thousand routes need no targets
// to show when the new plan's first probe is dispatched. Baseline: when the watch saw the change.

import http from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import cron from 'node-cron';
import { loadConfig } from '../src/config/load.js';
import { scheduleIntervalMs } from '../src/config/schedule.js';
import type { Config } from '../src/config/types.js';
import type { IntOrString, V1EndpointSlice } from '@kubernetes/client-node';
import { routesFromHttpRoutes } from '../src/discovery/httproute.js';
import { IncrementalRoutes, type ObjectChanges, type RoutesDelta } from '../src/discovery/incremental.js';
import type { ClusterWatch } from '../src/discovery/informers.js';
import { type ClusterSnapshot, emptySnapshot } from '../src/discovery/snapshot.js';
import { planHops } from '../src/probe/plan.js';
import { createRoundDeps, currentRoutes, discoveryFollowing, loadKubeConfig, routesFollowing, startDiscovery } from '../src/main.js';
import type { PlannedHop, Route } from '../src/model.js';
import { resultFor } from '../src/probe/result.js';
import { type LoopDeps, RunLoop } from '../src/schedule/daemon.js';
import { createMetrics } from '../src/server/metrics.js';
import { openStore } from '../src/store/sqlite.js';
import { createWriter } from '../src/store/write.js';
import type { LabObject } from '../test/lab/apiserver.js';
import { ingressClassObject, ingressObject, namespaceObject, serviceObject } from '../test/lab/objects.js';
import { type BenchContext, type Benchmark, type Figure, figure, median } from './harness.js';
import { type LabInfo, LabHost } from './lab-host.js';
import { heapUsedAfterGc, mb, watchLoopDelay } from './load.js';

/** Services (one Ingress of two hosts and two EndpointSlices each), sync runs, changes of each kind. */
const SCALE = { full: { services: 5000, syncRuns: 3, changes: 5, burst: 500 }, quick: { services: 5000, syncRuns: 1, changes: 3, burst: 500 }, tiny: { services: 100, syncRuns: 1, changes: 1, burst: 50 } };
const NAMESPACES = 50;
/** Addresses in the test block of this benchmark: never dialled (probes are stubbed), loopback anyway. */
const BLOCK = 212;
const EDGE = { ip: `127.${BLOCK}.0.80`, port: 18080 };

function ipOf(n: number): string {
  return `127.${BLOCK}.${16 + Math.floor(n / 250)}.${(n % 250) + 1}`;
}

function sliceObject(namespace: string, service: string, part: string, ips: string[]): LabObject {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${service}-${part}`, namespace, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

function ingressFor(namespace: string, name: string, service: string, hosts: string[]): LabObject {
  return ingressObject({ namespace, name, rules: hosts.map((host) => ({ host, paths: [{ path: '/', service, port: 'http' }] })) }, 'nginx', EDGE.ip, EDGE.port) as LabObject;
}

/** The cluster: namespaces, the IngressClass, and per service its Service, two slices and an Ingress. */
function clusterObjects(services: number): LabObject[] {
  const out: LabObject[] = [ingressClassObject('nginx', true) as LabObject];
  for (let n = 0; n < NAMESPACES; n++) out.push(namespaceObject(`team-${n}`) as LabObject);
  for (let i = 0; i < services; i++) {
    const namespace = `team-${i % NAMESPACES}`;
    const name = `svc-${i}`;
    out.push(serviceObject({ namespace, name, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }, ipOf(40_000 + i)) as LabObject);
    out.push(sliceObject(namespace, name, 'a', [ipOf(4 * i), ipOf(4 * i + 1)]), sliceObject(namespace, name, 'b', [ipOf(4 * i + 2), ipOf(4 * i + 3)]));
    out.push(ingressFor(namespace, `web-${i}`, name, [`a-${i}.bench.test`, `b-${i}.bench.test`]));
  }
  return out;
}

/** The Gateway API's group/version in the lab API server. */
const GATEWAY_API = 'gateway.networking.k8s.io/v1';
/** The Gateway's address (status.addresses): never dialled either. */
const GATEWAY_EDGE = `127.${BLOCK}.0.81`;

function httpRouteFor(namespace: string, name: string, service: string, hosts: string[]): LabObject {
  return { apiVersion: GATEWAY_API, kind: 'HTTPRoute', metadata: { namespace, name }, spec: { parentRefs: [{ name: 'public', namespace: 'edge' }], hostnames: hosts, rules: [{ backendRefs: [{ name: service, port: 80 }] }] } };
}

/** The Gateway API cluster: clusterObjects' Services and EndpointSlices, a GatewayClass, one Gateway with two data-plane pods, and per Service an HTTPRoute of two hostnames. */
function gatewayClusterObjects(services: number): LabObject[] {
  const out: LabObject[] = [
    namespaceObject('edge') as LabObject,
    { apiVersion: GATEWAY_API, kind: 'GatewayClass', metadata: { name: 'fabric' }, spec: { controllerName: 'gateway.nginx.org/nginx-gateway-controller' } },
    {
      apiVersion: GATEWAY_API, kind: 'Gateway', metadata: { namespace: 'edge', name: 'public' },
      spec: { gatewayClassName: 'fabric', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] },
      status: { addresses: [{ type: 'IPAddress', value: GATEWAY_EDGE }], conditions: [{ type: 'Programmed', status: 'True', reason: 'Programmed' }] },
    },
  ];
  for (let p = 0; p < 2; p++) {
    out.push({
      apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'edge', name: `public-nginx-${p}`, labels: { 'gateway.networking.k8s.io/gateway-name': 'public' } },
      spec: { containers: [{ name: 'nginx', ports: [{ name: 'http', containerPort: 80 }] }] },
      status: { phase: 'Running', podIP: ipOf(59_000 + p), conditions: [{ type: 'Ready', status: 'True' }] },
    });
  }
  for (const object of clusterObjects(services)) {
    if (object.kind === 'Ingress') {
      const i = Number((object.metadata as { name: string }).name.slice('web-'.length));
      out.push(httpRouteFor((object.metadata as { namespace: string }).namespace, `web-${i}`, `svc-${i}`, [`a-${i}.gw.test`, `b-${i}.gw.test`]));
    } else if (object.kind !== 'IngressClass') out.push(object);
  }
  return out;
}

/**
 * The baseline of the HTTPRoute figures, follow.ts before HTTPRoute routes were incremental: Ingress
 * routes incremental, and every HTTPRoute route recomputed from a fresh snapshot on any change (equal
 * ones keep their objects).
 */
function wholeHttpRoutes(config: Readonly<Config>, watch: ClusterWatch): Pick<LoopDeps, 'routes' | 'routesDelta'> {
  const engine = new IncrementalRoutes(config.controllers, { clusterDomain: config.cluster.clusterDomain, namespaces: config.cluster.namespaces });
  let gateway: Route[] = [];
  const routesDelta = (): RoutesDelta => {
    let taken: ObjectChanges = { all: false, changes: [] };
    const ingress = engine.updateDelta({ snapshot: () => watch.snapshot(), takeChanges: () => (taken = watch.takeChanges!()) });
    if (!taken.all && taken.changes.length === 0) return ingress;
    const before = new Map(gateway.map((r) => [r.id, r]));
    const upserted: Route[] = [];
    gateway = routesFromHttpRoutes(watch.snapshot(), config.gateways, { namespaces: config.cluster.namespaces }).map((route) => {
      const old = before.get(route.id);
      before.delete(route.id);
      if (old !== undefined && isDeepStrictEqual(old, route)) return old;
      upserted.push(route);
      return route;
    });
    if (ingress.full) return { full: true, routes: [...ingress.routes, ...gateway] };
    return { full: false, upserted: [...ingress.upserted, ...upserted], removed: [...ingress.removed, ...before.keys()] };
  };
  return { routes: () => (routesDelta(), [...engine.routes(), ...gateway]), routesDelta };
}

/** The front door a phase changes: what a new routing object of one host is, and the baseline's discovery. */
interface Front {
  /** Ingress or HTTPRoute. */
  kind: string;
  /** A new routing object of one host in team-0, to svc-0. */
  created: (name: string, host: string) => LabObject;
  /** The baseline: every route (of this front door) recomputed on every change. */
  full: (config: Readonly<Config>, watch: ClusterWatch) => Pick<LoopDeps, 'routes' | 'routesDelta'>;
}

const INGRESS_FRONT: Front = { kind: 'Ingress', created: (name, host) => ingressFor('team-0', name, 'svc-0', [host]), full: (config, watch) => ({ routes: () => currentRoutes(config, watch) }) };
const GATEWAY_FRONT: Front = { kind: 'HTTPRoute', created: (name, host) => httpRouteFor('team-0', name, 'svc-0', [host]), full: wholeHttpRoutes };

function configFor(info: LabInfo): Readonly<Config> {
  return loadConfig({
    text: JSON.stringify({
      cluster: { kubeconfig: info.kubeconfigPath, context: 'hopwatch-lab', dnsServer: `127.${BLOCK}.0.53:5353` },
      controllers: [{ ingressClass: 'nginx', kind: 'ingress-nginx', edge: `http://${EDGE.ip}:${EDGE.port}`, pods: { namespace: 'ingress-nginx', selector: 'app=nginx', httpPort: 18080, httpsPort: 18443 }, upstream: 'endpoints' }],
    }),
  });
}

/** Plain GETs of every list the watch makes, parsed: the baseline of the sync. */
async function plainLists(info: LabInfo): Promise<{ ms: number; held: unknown[] }> {
  const base = `http://127.${info.block}.0.1:16443`;
  const paths = ['/api/v1/namespaces', '/api/v1/pods', '/api/v1/services', '/apis/discovery.k8s.io/v1/endpointslices', '/apis/networking.k8s.io/v1/ingresses',
    '/apis/networking.k8s.io/v1/ingressclasses', '/apis/networking.k8s.io/v1/networkpolicies', '/apis/apps/v1/replicasets', '/apis/apps/v1/deployments'];
  const get = (path: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      http.get(`${base}${path}`, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown));
      }).on('error', reject);
    });
  const t = performance.now();
  const held = await Promise.all(paths.map(get));
  return { ms: performance.now() - t, held };
}

interface SyncRun {
  syncMs: number;
  routesMs: number;
  watchHeap: number;
  routesHeap: number;
  routes: number;
  plainMs: number;
  plainHeap: number;
}

async function syncOnce(config: Readonly<Config>, info: LabInfo): Promise<SyncRun> {
  const heap0 = await heapUsedAfterGc();
  const plain = await plainLists(info);
  const plainHeap = (await heapUsedAfterGc()) - heap0;
  plain.held.length = 0;
  const heap1 = await heapUsedAfterGc();
  const t0 = performance.now();
  const watch = startDiscovery(config, loadKubeConfig(config), () => undefined);
  try {
    await watch.synced;
    const syncMs = performance.now() - t0;
    const watchHeap = (await heapUsedAfterGc()) - heap1;
    const t1 = performance.now();
    // What the daemon holds: the routes and the incremental engine's indices.
    const follow = routesFollowing(config, watch);
    const first = follow();
    const routesMs = performance.now() - t1;
    const routesHeap = (await heapUsedAfterGc()) - heap1;
    return { syncMs, routesMs, watchHeap, routesHeap, routes: follow() === first ? first.length : Number.NaN, plainMs: plain.ms, plainHeap };
  } finally {
    await watch.stop();
  }
}

/** The run loop over the real watch, with probes stubbed; `seen` is told about every probe dispatched. */
function startLoop(config: Readonly<Config>, watch: ClusterWatch, discovery: Pick<LoopDeps, 'routes' | 'routesDelta'>, seen: (hop: PlannedHop) => void): { loop: RunLoop; close: () => void } {
  const db = openStore(':memory:');
  const round = createRoundDeps(config, { diagnosticsWaitMs: 0 });
  const stub = { status: null, error: 'refused' as const, errorDetail: 'stubbed', timings: { totalMs: 0.1 }, bytes: 0, headerBytes: 0, headers: {}, generator: null, addresses: [] };
  const probe = async (hop: PlannedHop) => (seen(hop), resultFor(hop, stub));
  const metrics = createMetrics({ defaultMetrics: false });
  const loop = new RunLoop({
    config, watch, ...discovery, db, writer: createWriter(db), round: { ...round, probe, diagnose: undefined }, metrics, alerter: { notify: () => undefined, stats: () => ({ receivers: [] }) },
    timers: { setTimer: (fn, ms) => setTimeout(fn, ms), clearTimer: (h) => clearTimeout(h as NodeJS.Timeout), cron: (e, fn) => cron.schedule(e, fn), cronPeriodMs: (e) => scheduleIntervalMs({ kind: 'cron', expression: e }) },
    log: () => undefined,
  });
  loop.start();
  return { loop, close: () => db.close() };
}

/** The watch as the run loop sees it, timing every change listener it registers (its time on the event loop per change). */
function timedWatch(watch: ClusterWatch, times: number[]): ClusterWatch {
  return {
    snapshot: () => watch.snapshot(),
    takeChanges: () => watch.takeChanges!(),
    onChange: (listener) => watch.onChange(() => {
      const t = performance.now();
      listener();
      times.push(performance.now() - t);
    }),
    onState: (listener) => watch.onState(listener),
    get synced() {
      return watch.synced;
    },
    get state() {
      return watch.state;
    },
    stop: () => watch.stop(),
  };
}

/** When the watch first told of a change since the last reset (its listener is registered before the run loop's). */
interface Notice {
  at: number;
}

/** Applies objects and waits for the watch to see it and for the first probe matching `match`. */
async function timeChange(host: LabHost, notice: Notice, waiter: { match: ((hop: PlannedHop) => boolean) | null; hit: () => void }, objects: LabObject[], match: (hop: PlannedHop) => boolean): Promise<{ probeMs: number; watchMs: number }> {
  let t0 = 0;
  notice.at = Number.NaN;
  const probed = new Promise<number>((resolve) => {
    waiter.match = match;
    waiter.hit = () => resolve(performance.now());
  });
  t0 = performance.now();
  await host.apply(objects);
  let timer: NodeJS.Timeout | undefined;
  const at = await Promise.race([probed, new Promise<number>((resolve) => (timer = setTimeout(resolve, 40_000, Number.NaN)))]);
  clearTimeout(timer);
  waiter.match = null;
  return { probeMs: at - t0, watchMs: notice.at - t0 };
}

/** What one run loop measured: change to probe, its event-loop time per single change, and the delay during a burst. */
interface Phase {
  ingress: { probeMs: number; watchMs: number }[];
  slice: { probeMs: number; watchMs: number }[];
  /** Listener time per single-object change (ms). */
  perChange: number[];
  /** Event-loop delay p99 / max during the burst (ms), and how long the burst took to be probed. */
  burst: { p99: number; max: number; ms: number; refreshes: number };
}

/** Discovery as the daemon runs it (incremental), or the full recompute of every route on every change (the baseline). */
async function phase(ctx: BenchContext, host: LabHost, config: Readonly<Config>, count: number, burst: number, kind: 'incremental' | 'full', round: number, front: Front = INGRESS_FRONT): Promise<Phase> {
  const watch = startDiscovery(config, loadKubeConfig(config), () => undefined);
  const times: number[] = [];
  const timed = timedWatch(watch, times);
  // The daemon's wiring (src/main.ts): the run loop takes discovery's deltas; the baseline recomputes every route.
  const discovery: Pick<LoopDeps, 'routes' | 'routesDelta'> = kind === 'incremental' ? discoveryFollowing(config, timed) : front.full(config, timed);
  const waiter: { match: ((hop: PlannedHop) => boolean) | null; hit: () => void } = { match: null, hit: () => undefined };
  const notice: Notice = { at: Number.NaN };
  watch.onChange(() => (Number.isNaN(notice.at) ? (notice.at = performance.now()) : undefined));
  const { loop, close } = startLoop(config, timed, discovery, (hop) => waiter.match?.(hop) && waiter.hit());
  try {
    await watch.synced;
    // Let the first rounds of every route (spread over a second) pass: a change comes to a running daemon.
    await sleep(3000);
    const out: Phase = { ingress: [], slice: [], perChange: [], burst: { p99: Number.NaN, max: Number.NaN, ms: Number.NaN, refreshes: 0 } };
    for (let k = 0; k < count; k++) {
      const host1 = `new-${kind}-${round}-${k}.bench.test`;
      times.length = 0;
      out.ingress.push(await timeChange(host, notice, waiter, [front.created(`new-${kind}-${round}-${k}`, host1)], (hop) => hop.request.host === host1));
      out.perChange.push(...times);
      const ip = ipOf(60_000 + round * 1000 + (kind === 'full' ? 500 : 0) + k);
      times.length = 0;
      out.slice.push(await timeChange(host, notice, waiter, [sliceObject(`team-${(k + 1) % NAMESPACES}`, `svc-${k + 1}`, 'a', [ipOf(4 * (k + 1)), ipOf(4 * (k + 1) + 1), ip])], (hop) => hop.address === ip));
      out.perChange.push(...times);
      ctx.log(`${front.kind} ${kind}: change ${k + 1}/${count}: new ${front.kind} probed after ${out.ingress.at(-1)!.probeMs.toFixed(0)} ms, new endpoint after ${out.slice.at(-1)!.probeMs.toFixed(0)} ms; ${times.map((t) => t.toFixed(1)).join(', ')} ms on the event loop`);
    }
    // A burst: `burst` EndpointSlices of as many Services changed at once (a node drained, a rollout of many apps).
    if (burst > 0) {
      const last = ipOf(62_000 + round * 1000 + (kind === 'full' ? 500 : 0));
      const slices = Array.from({ length: burst }, (_, j) => {
        const svc = 10 + j;
        return sliceObject(`team-${svc % NAMESPACES}`, `svc-${svc}`, 'b', [ipOf(4 * svc + 2), j === burst - 1 ? last : ipOf(4 * svc + 3)]);
      });
      times.length = 0;
      const monitor = watchLoopDelay(1);
      const b = await timeChange(host, notice, waiter, slices, (hop) => hop.address === last);
      const d = monitor.stop();
      out.burst = { p99: d.p99, max: d.max, ms: b.probeMs, refreshes: times.length };
      ctx.log(`${kind}: burst of ${burst} slices probed after ${b.probeMs.toFixed(0)} ms; ${times.length} refreshes, event-loop delay p99 ${d.p99.toFixed(1)} ms, max ${d.max.toFixed(1)} ms`);
    }
    return out;
  } finally {
    await loop.stop(1000);
    close();
    await watch.stop();
  }
}

async function changes(ctx: BenchContext, host: LabHost, config: Readonly<Config>, count: number, burst: number, routes: number): Promise<Figure[]> {
  const inc = await phase(ctx, host, config, count, burst, 'incremental', 0);
  const full = await phase(ctx, host, config, count, burst, 'full', 0);
  const fig = (name: string, xs: { probeMs: number; watchMs: number }[]) =>
    figure({ bench: 'discovery', name, value: median(xs.map((x) => x.probeMs)), unit: 'ms', baseline: { name: 'the watch saw the change', value: median(xs.map((x) => x.watchMs)) }, aim: { of: 'value', max: 1000 }, runs: xs.length });
  const base = { bench: 'discovery', runs: inc.perChange.length };
  return [
    fig('change to first probe: new Ingress', inc.ingress),
    fig('change to first probe: new endpoint in an EndpointSlice', inc.slice),
    figure({
      ...base, name: `event-loop time per single-object change (${routes} routes: routes + schedule)`, value: median(inc.perChange), unit: 'ms', baseline: { name: 'every route recomputed on every change, same run', value: median(full.perChange) }, aim: { of: 'value', max: 5 },
      note: `the run loop's change listener timed (IncrementalRoutes, then the scheduler); max ${Math.max(...inc.perChange).toFixed(1)} ms incremental, ${Math.max(...full.perChange).toFixed(1)} ms full; the informer's parsing of the event is apart`,
    }),
    figure({
      bench: 'discovery', name: `event-loop delay p99 during a burst of ${burst} EndpointSlice changes`, value: inc.burst.p99, unit: 'ms', baseline: { name: 'every route recomputed on every change, same run', value: full.burst.p99 }, runs: 1,
      note: `incremental: max ${inc.burst.max.toFixed(1)} ms, ${inc.burst.refreshes} refreshes, last change probed after ${inc.burst.ms.toFixed(0)} ms; full: max ${full.burst.max.toFixed(1)} ms, ${full.burst.refreshes} refreshes, ${full.burst.ms.toFixed(0)} ms`,
    }),
  ];
}

/** The HTTPRoute figures: a lab API server serving the Gateway API with 5,000 HTTPRoutes of two hostnames (10,000 routes), single-object changes through the run loop, incremental against every HTTPRoute route recomputed. */
async function gatewayChanges(ctx: BenchContext, services: number, count: number): Promise<Figure[]> {
  const host = LabHost.spawn();
  try {
    const info = await host.startApi({ gatewayApi: true });
    const objects = gatewayClusterObjects(services);
    for (let i = 0; i < objects.length; i += 2000) await host.apply(objects.slice(i, i + 2000));
    ctx.log(`lab API server 127.${info.block}.0.1 with the Gateway API: ${objects.length} objects (${2 * services} EndpointSlices, ${services} HTTPRoutes of 2 hostnames through one Gateway)`);
    const config = configFor(info);
    const inc = await phase(ctx, host, config, count, 0, 'incremental', 1, GATEWAY_FRONT);
    const full = await phase(ctx, host, config, count, 0, 'full', 1, GATEWAY_FRONT);
    const routes = 2 * services;
    return [
      figure({ bench: 'discovery', name: 'change to first probe: new HTTPRoute', value: median(inc.ingress.map((x) => x.probeMs)), unit: 'ms', baseline: { name: 'the watch saw the change', value: median(inc.ingress.map((x) => x.watchMs)) }, aim: { of: 'value', max: 1000 }, runs: inc.ingress.length }),
      figure({
        bench: 'discovery', name: `event-loop time per single-object change (${routes} HTTPRoute routes: routes + schedule)`, value: median(inc.perChange), unit: 'ms', runs: inc.perChange.length,
        baseline: { name: 'every HTTPRoute route recomputed on every change (follow.ts before), same run', value: median(full.perChange) }, aim: { of: 'value', max: 5 },
        note: `${services} HTTPRoutes x 2 hostnames through one Gateway (two data-plane pods), ${2 * services} EndpointSlices; changes: a new HTTPRoute, a new endpoint in an EndpointSlice; the run loop's change listener timed (FollowedRoutes, then the scheduler); max ${Math.max(...inc.perChange).toFixed(1)} ms incremental, ${Math.max(...full.perChange).toFixed(1)} ms full`,
      }),
    ];
  } finally {
    await host.stop();
  }
}

/** A cluster snapshot in memory shaped like clusterObjects (typed-form objects, the watch's order). */
function snapshotOf(services: number): ClusterSnapshot {
  const snap = emptySnapshot();
  snap.ingressClasses.push({ metadata: { name: 'nginx', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } });
  for (let n = 0; n < NAMESPACES; n++) snap.namespaces.push({ metadata: { name: `team-${n}` } });
  const slice = (namespace: string, service: string, part: string, ips: string[]): V1EndpointSlice => ({
    metadata: { namespace, name: `${service}-${part}`, labels: { 'kubernetes.io/service-name': service } }, addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false } })), ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  });
  for (let i = 0; i < services; i++) {
    const namespace = `team-${i % NAMESPACES}`;
    const name = `svc-${i}`;
    snap.services.push({ metadata: { namespace, name }, spec: { clusterIP: ipOf(40_000 + (i % 20_000)), ports: [{ name: 'http', port: 80, targetPort: 'http' as unknown as IntOrString }] } });
    snap.endpointSlices.push(slice(namespace, name, 'a', [ipOf((4 * i) % 60_000), ipOf((4 * i + 1) % 60_000)]), slice(namespace, name, 'b', [ipOf((4 * i + 2) % 60_000), ipOf((4 * i + 3) % 60_000)]));
    const rules = ['a', 'b'].map((h) => ({ host: `${h}-${i}.bench.test`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { name: 'http' } } } }] } }));
    snap.ingresses.push({ metadata: { namespace, name: `web-${i}` }, spec: { ingressClassName: 'nginx', rules }, status: { loadBalancer: { ingress: [{ ip: EDGE.ip }] } } });
  }
  const key = (o: { metadata?: { namespace?: string; name?: string } }): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  for (const list of Object.values(snap) as { metadata?: { namespace?: string; name?: string } }[][]) list.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return snap;
}

/** Discovery (every route computed, as at a start) and planning (every route's hops) of a snapshot in memory: ms and heap held. */
async function computeAndPlan(config: Readonly<Config>, services: number): Promise<{ ms: number; heap: number; routes: number; hops: number }> {
  const snap = snapshotOf(services);
  const heap0 = await heapUsedAfterGc();
  const t0 = performance.now();
  const engine = new IncrementalRoutes(config.controllers, { clusterDomain: config.cluster.clusterDomain });
  const routes = engine.update({ snapshot: () => snap, takeChanges: () => ({ all: true }) });
  const plans = routes.map((route) => planHops(route, { timeoutMs: config.probe.timeoutMs, dnsServer: config.cluster.dnsServer, clusterDomain: config.cluster.clusterDomain }));
  const ms = performance.now() - t0;
  const heap = (await heapUsedAfterGc()) - heap0;
  return { ms, heap, routes: routes.length, hops: plans.reduce((n, p) => n + p.length, 0) };
}

/** The ceiling of one replica's discovery: 20,000 routes against 10,000, computed and planned in the same run. */
async function scaleFigures(ctx: BenchContext, config: Readonly<Config>): Promise<Figure[]> {
  const [small, large] = ctx.mode === 'tiny' ? [100, 200] : [5000, 10_000];
  const runs = ctx.mode === 'full' ? 3 : 1;
  const a: { ms: number; heap: number; routes: number; hops: number }[] = [];
  const b: typeof a = [];
  for (let r = 0; r < runs; r++) {
    a.push(await computeAndPlan(config, small));
    b.push(await computeAndPlan(config, large));
  }
  const x = b.at(-1)!;
  const y = a.at(-1)!;
  ctx.log(`discovery + plan: ${x.routes} routes (${x.hops} hops) in ${median(b.map((v) => v.ms)).toFixed(0)} ms, ${y.routes} in ${median(a.map((v) => v.ms)).toFixed(0)} ms`);
  const note = 'a snapshot in memory shaped like the lab API server\'s (2 hosts per Ingress, 2 EndpointSlices of 2 endpoints per Service); IncrementalRoutes\' first (full) computation and planHops of every route; heap after a full GC with routes, plans and indices held';
  return [
    figure({ bench: 'discovery', name: `discovery + plan, ${x.routes} routes (${x.hops} hops)`, value: median(b.map((v) => v.ms)), unit: 'ms', baseline: { name: `${y.routes} routes, same run`, value: median(a.map((v) => v.ms)) }, runs, note }),
    figure({ bench: 'discovery', name: `heap of routes, plans and indices, ${x.routes} routes`, value: mb(median(b.map((v) => v.heap))), unit: 'MB', baseline: { name: `${y.routes} routes, same run`, value: mb(median(a.map((v) => v.heap))) }, runs }),
  ];
}

async function measure(ctx: BenchContext): Promise<Figure[]> {
  const scale = SCALE[ctx.mode];
  const host = LabHost.spawn();
  ctx.defer(() => host.stop());
  const info = await host.startApi();
  const objects = clusterObjects(scale.services);
  for (let i = 0; i < objects.length; i += 2000) await host.apply(objects.slice(i, i + 2000));
  ctx.log(`lab API server 127.${info.block}.0.1: ${objects.length} objects (${2 * scale.services} EndpointSlices, ${scale.services} Ingresses)`);
  const config = configFor(info);
  const runs: SyncRun[] = [];
  for (let r = 0; r < scale.syncRuns; r++) runs.push(await syncOnce(config, info));
  const last = runs.at(-1)!;
  ctx.log(`sync ${last.syncMs.toFixed(0)} ms, ${last.routes} routes in ${last.routesMs.toFixed(0)} ms; heap ${mb(last.routesHeap).toFixed(1)} MB`);
  const col = (k: keyof SyncRun) => median(runs.map((x) => x[k]));
  const base = { bench: 'discovery', runs: runs.length };
  const note = `${2 * scale.services} EndpointSlices, ${scale.services} Services, ${scale.services} Ingresses x 2 hosts; heap after a full GC`;
  const figures = [
    figure({ ...base, name: 'initial sync (every kind listed and watching)', value: col('syncMs'), unit: 'ms', baseline: { name: 'plain GET + JSON.parse of the same lists', value: col('plainMs') }, aim: { of: 'value', max: 1000 }, note }),
    figure({ ...base, name: `routes computed from the snapshot (${last.routes} routes)`, value: col('routesMs'), unit: 'ms', baseline: { name: 'initial sync', value: col('syncMs') } }),
    figure({ ...base, name: 'heap held by the watch', value: mb(col('watchHeap')), unit: 'MB', baseline: { name: 'the same lists as parsed JSON', value: mb(col('plainHeap')) } }),
    figure({ ...base, name: `heap held by the watch + ${last.routes} routes`, value: mb(col('routesHeap')), unit: 'MB', baseline: { name: 'the same lists as parsed JSON', value: mb(col('plainHeap')) }, aim: { of: 'value', max: 50 } }),
  ];
  figures.push(...(await changes(ctx, host, config, scale.changes, scale.burst, last.routes)));
  figures.push(...(await gatewayChanges(ctx, scale.services, scale.changes)));
  figures.push(...(await scaleFigures(ctx, config)));
  return figures;
}

/** The benchmark. */
export const discoveryBench: Benchmark = { id: 'discovery', title: '6. Discovery', run: measure };
