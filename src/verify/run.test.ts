import type { V1Deployment, V1Ingress, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { endpointFacts, REFUSED, result, routeFixture } from '../../test/fixtures.js';
import { podFacts } from '../discovery/pods.js';
import { emptySnapshot, type ClusterSnapshot } from '../discovery/snapshot.js';
import type { HopResult, PlannedHop, Route } from '../model.js';
import { CannotVerifyError } from './errors.js';
import { parseVerifyParams, type RawParams } from './params.js';
import { runVerification, type VerifyDeps, type VerifyProgress } from './run.js';

function pod(name: string, replicaSet: string, ip: string, ready = true): V1Pod {
  return {
    metadata: { namespace: 'shop', name, labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: replicaSet, uid: replicaSet, controller: true }] },
    spec: { containers: [{ name: 'app', image: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

function replicaSet(name: string, revision: number, replicas = 2): V1ReplicaSet {
  return {
    metadata: { namespace: 'shop', name, annotations: { 'deployment.kubernetes.io/revision': String(revision) }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'web', controller: true }] },
    spec: { replicas, selector: { matchLabels: { app: 'web' } } },
  };
}

const INGRESS: V1Ingress = { metadata: { namespace: 'shop', name: 'web' } };

function deployment(generation: number, observedGeneration: number): V1Deployment {
  const selector = { matchLabels: { app: 'web' } };
  return { metadata: { namespace: 'shop', name: 'web', generation }, spec: { replicas: 2, selector, template: { metadata: { labels: { app: 'web' } } } }, status: { observedGeneration } };
}

/** A cluster with a rollout in progress: web-old (2 pods) and web-new (2 pods), all endpoints of the route. */
function cluster(newReady = true): { snapshot: ClusterSnapshot; route: Route } {
  const pods = [pod('web-old-0', 'web-old', '10.2.0.1'), pod('web-old-1', 'web-old', '10.2.0.2'), pod('web-new-0', 'web-new', '10.2.1.1', newReady), pod('web-new-1', 'web-new', '10.2.1.2', newReady)];
  const snapshot: ClusterSnapshot = {
    ...emptySnapshot(),
    ingresses: [INGRESS],
    pods,
    replicaSets: [replicaSet('web-old', 1), replicaSet('web-new', 2)],
    deployments: [deployment(2, 2)],
  };
  const facts = pods.map(podFacts);
  return { snapshot, route: routeFixture({ pods: facts, endpoints: facts.map((p) => endpointFacts(p)) }) };
}

interface Harness {
  deps: VerifyDeps;
  probed: PlannedHop[];
  delays: number[];
  progress: VerifyProgress[];
}

/** Fake clock (advanced by delay), a prober answering 200 unless `answer` says otherwise. */
function harness(snapshot: () => ClusterSnapshot, routes: () => Route[], answer: (hop: PlannedHop) => Partial<HopResult> = () => ({})): Harness {
  let now = 0;
  const h: Harness = { probed: [], delays: [], progress: [], deps: undefined as unknown as VerifyDeps };
  h.deps = {
    round: {
      probe: async (hop) => {
        h.probed.push(hop);
        return result(hop.hop, hop.target, { pod: hop.pod, ready: hop.ready, terminating: hop.terminating, ...answer(hop) });
      },
      limiter: { run: (fn) => fn() },
      plan: { timeoutMs: 1000, dnsServer: null, clusterDomain: 'cluster.local' },
      now: () => 1_700_000_000_000 + now,
      monotonic: () => now,
    },
    snapshot,
    routes,
    delay: async (ms) => {
      h.delays.push(ms);
      now += ms;
    },
    onProgress: (p) => h.progress.push(p),
  };
  return h;
}

const params = (raw: RawParams = {}) => parseVerifyParams({ ingress: 'shop/web', duration: '2s', interval: '500ms', ...raw });

describe('runVerification', () => {
  it('ticks at the interval for the duration, probing every hop and the canary and stable pods apart', async () => {
    const { snapshot, route } = cluster();
    const h = harness(() => snapshot, () => [route]);
    const report = await runVerification(params(), h.deps);
    expect(report).toMatchObject({ ok: true, ticks: 4, plannedTicks: 4, stoppedEarly: false, failingHop: null, cause: null, successPercent: 100 });
    // Tick 0 at once, then one every 500 ms on the fake clock.
    expect(h.delays).toEqual([500, 500, 500]);
    // dns, edge, 2 controller pods, the Service, 4 pods: 9 hops a tick.
    expect(h.probed).toHaveLength(36);
    expect(report.routes[0]?.canary).toMatchObject({ replicaSet: 'web-new', revision: 2, pods: ['shop/web-new-0', 'shop/web-new-1'] });
    expect(report.routes[0]?.stable).toEqual({ replicaSets: ['web-old'], pods: ['shop/web-old-0', 'shop/web-old-1'] });
    expect(h.progress.map((p) => (p.kind === 'tick' ? `${p.tick}/${p.ticks}` : p.kind))).toEqual(['1/4', '2/4', '3/4', '4/4']);
    expect(report.summary).toBe('newest ReplicaSet web-new (revision 2) of Deployment shop/web (2 pods) answers through every hop: all 24 requests ok over 4 ticks; canary p95 1.2 ms, stable p95 1.2 ms');
  });

  it('stops after the first tick when a canary pod refuses, and fails at hop pod naming it', async () => {
    const { snapshot, route } = cluster();
    const h = harness(() => snapshot, () => [route], (hop) => (hop.pod === 'shop/web-new-1' ? REFUSED : {}));
    const report = await runVerification(params({ duration: '60s', interval: '1s' }), h.deps);
    expect(report).toMatchObject({ ok: false, ticks: 1, plannedTicks: 60, stoppedEarly: true, failingHop: 'pod', cause: 'pod.refused' });
    expect(h.probed).toHaveLength(9);
    expect(report.failures.map((f) => [f.check, f.pods])).toEqual([['failure-ratio', ['shop/web-new-1']]]);
    expect(h.progress.at(-1)).toMatchObject({ kind: 'tick', tick: 1, failed: true });
  });

  it('fails a canary that answers another status class than stable, even one the default rule accepts (404 for 200)', async () => {
    const { snapshot, route } = cluster();
    const h = harness(() => snapshot, () => [route], (hop) => (hop.pod?.startsWith('shop/web-new') ? { status: 404 } : {}));
    const report = await runVerification(params(), h.deps);
    expect(report).toMatchObject({ ok: false, failingHop: 'pod' });
    expect(report.failures.map((f) => [f.group, f.pods])).toEqual([['canary', ['shop/web-new-0', 'shop/web-new-1']]]);
  });

  it('does not hold the front\'s failures against a healthy canary when it is the stable pods that fail', async () => {
    const { snapshot, route } = cluster();
    const h = harness(() => snapshot, () => [route], (hop) =>
      hop.pod?.startsWith('shop/web-old') ? { status: 503 } : hop.hop === 'edge' || hop.hop === 'controller' || hop.hop === 'service' ? { status: 503 } : {});
    const report = await runVerification(params(), h.deps);
    expect(report.ok).toBe(true);
    expect(report.failures).toEqual([]);
  });

  it('stops at the end of its duration when slow hops make the ticks run late, and says so', async () => {
    const { snapshot, route } = cluster();
    const h = harness(() => snapshot, () => [route]);
    // Each tick's hops take 1.5 s on the clock: 4 s of duration and the 1 s probe deadline of grace hold 4 of the 8 planned ticks (starting at 0, 1.5, 3 and 4.5 s).
    const clock = h.deps.round.monotonic;
    let spent = 0;
    h.deps.round.monotonic = () => clock() + spent;
    const probe = h.deps.round.probe;
    h.deps.round.probe = async (hop) => {
      if (hop.hop === 'dns') spent += 1500;
      return probe(hop);
    };
    const report = await runVerification(params({ duration: '4s', interval: '500ms' }), h.deps);
    expect(report).toMatchObject({ ok: true, ticks: 4, plannedTicks: 8, stoppedEarly: false });
    expect(report.notes).toContain('the duration ran out after 4 of 8 ticks: the hops answer slower than the interval');
  });

  it('says when the canary pods went away during the run, instead of passing silently on what came before', async () => {
    const { snapshot, route } = cluster();
    let ticks = 0;
    const oldPods = snapshot.pods.filter((p) => p.metadata?.name?.startsWith('web-old'));
    const shrunk = (): ClusterSnapshot => (ticks >= 2 ? { ...snapshot, pods: oldPods } : snapshot);
    const routeNow = (): Route[] => [ticks >= 2 ? { ...route, backends: route.backends.map((b) => ({ ...b, endpoints: b.endpoints.filter((e) => e.pod?.name.startsWith('web-old')) })) } : route];
    const h = harness(shrunk, routeNow);
    h.deps.onProgress = () => ticks++;
    const report = await runVerification(params(), h.deps);
    expect(report.notes).toContain('from tick 3: no canary pod of shop.example.test/ was left to probe');
  });

  it('sees pods that appear during the run: the canary scaled up after the start is probed from then on', async () => {
    const { snapshot, route } = cluster();
    let ticks = 0;
    const grown = (): ClusterSnapshot => (ticks >= 2 ? { ...snapshot, pods: [...snapshot.pods, pod('web-new-2', 'web-new', '10.2.1.3')] } : snapshot);
    const h = harness(grown, () => [route]);
    h.deps.onProgress = () => ticks++;
    const report = await runVerification(params(), h.deps);
    // Not an endpoint of the route yet: planned apart, as a canary pod.
    const canary = report.routes[0]?.groups.find((g) => g.group === 'canary');
    expect(canary?.targets.map((t) => [t.pod, t.samples])).toEqual([
      ['shop/web-new-0', 4],
      ['shop/web-new-1', 4],
      ['shop/web-new-2', 2],
    ]);
  });

  it.each([
    ['an Ingress that does not exist', { ingress: 'shop/api' }, 'NO_INGRESS', 'Ingress shop/api does not exist'],
    ['an HTTPRoute that does not exist (an Ingress of that name does)', { ingress: undefined, httproute: 'shop/web' }, 'NO_INGRESS', 'HTTPRoute shop/web does not exist'],
    ['a host the Ingress has no route for', { host: 'other.example.test' }, 'NO_ROUTE', 'Ingress shop/web has no route for other.example.test any path (its routes: shop.example.test/)'],
  ])('cannot verify %s', async (_, raw, code, message) => {
    const { snapshot, route } = cluster();
    const h = harness(() => snapshot, () => [route]);
    const error = await runVerification(params(raw), h.deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CannotVerifyError);
    expect(error).toMatchObject({ code, message });
    expect(h.probed).toEqual([]);
  });

  it('verifies an HTTPRoute: its routes only (not the Ingress of the same name), the report says the kind', async () => {
    const { snapshot, route } = cluster();
    const withRoute: ClusterSnapshot = { ...snapshot, httpRoutes: [{ metadata: { namespace: 'shop', name: 'web' } } as ClusterSnapshot['httpRoutes'][number]] };
    const viaGateway: Route = { ...route, id: 'gw-web', kind: 'HTTPRoute', host: 'web.gw.test' };
    const h = harness(() => withRoute, () => [route, viaGateway]);
    const report = await runVerification(params({ ingress: undefined, httproute: 'shop/web' }), h.deps);
    expect(report).toMatchObject({ ok: true, kind: 'HTTPRoute', ingress: 'shop/web' });
    expect(report.routes.map((r) => r.host)).toEqual(['web.gw.test']);
    const ingress = await runVerification(params(), harness(() => withRoute, () => [route, viaGateway]).deps);
    expect(ingress.routes.map((r) => r.host)).toEqual([route.host]);
  });

  it('cannot verify a route that cannot be probed', async () => {
    const { snapshot, route } = cluster();
    const h = harness(() => snapshot, () => [{ ...route, notProbeable: 'regex path "/x.*" needs the hopwatch.io/probe-path annotation' }]);
    await expect(runVerification(params(), h.deps)).rejects.toMatchObject({ code: 'NOT_PROBEABLE', message: 'Ingress shop/web cannot be probed: regex path "/x.*" needs the hopwatch.io/probe-path annotation' });
  });

  it('matches a wildcard route with a concrete --host and sends that host', async () => {
    const { snapshot, route } = cluster();
    const h = harness(() => snapshot, () => [{ ...route, host: '*.example.test', probe: { ...route.probe, hostHeader: 'hopwatch-probe.example.test' } }]);
    const report = await runVerification(params({ host: 'shop.example.test', duration: '500ms' }), h.deps);
    expect(report.routes[0]).toMatchObject({ host: '*.example.test', hostHeader: 'shop.example.test' });
    expect(new Set(h.probed.filter((p) => p.hop !== 'dns').map((p) => p.request.host))).toEqual(new Set(['shop.example.test']));
  });

  it('cannot verify when no canary request could be judged (every target unreachable from here)', async () => {
    const { snapshot, route } = cluster();
    const h = harness(() => snapshot, () => [route], () => ({ status: null, error: 'unreachable' }));
    await expect(runVerification(params({ duration: '1s' }), h.deps)).rejects.toMatchObject({ code: 'NO_SAMPLES' });
  });

  it('fails, not "cannot verify", when the route fails through the other hops while no canary request could be judged', async () => {
    const { snapshot, route } = cluster();
    const h = harness(() => snapshot, () => [route], (hop) => (hop.hop === 'pod' || hop.hop === 'service' ? { status: null, error: 'unreachable' } : hop.hop === 'dns' ? {} : { status: 502 }));
    const report = await runVerification(params({ duration: '1s' }), h.deps);
    expect(report).toMatchObject({ ok: false });
    expect(report.failures.map((f) => f.group)).toContain('controller');
  });

  it('stops when the signal aborts', async () => {
    const { snapshot, route } = cluster();
    const h = harness(() => snapshot, () => [route]);
    const abort = new AbortController();
    h.deps.onProgress = () => abort.abort();
    await expect(runVerification(params(), h.deps, abort.signal)).rejects.toMatchObject({ code: 'ABORTED' });
    expect(h.probed).toHaveLength(9);
  });
});

describe('runVerification --wait-rollout', () => {
  it('polls until the new ReplicaSet is ready, reporting progress, then verifies', async () => {
    const ready = cluster(true);
    const notReady = cluster(false);
    let polls = 0;
    const h = harness(() => (polls++ < 3 ? notReady.snapshot : ready.snapshot), () => [ready.route]);
    const report = await runVerification(params({ waitRollout: 'deployment/web', duration: '500ms' }), h.deps);
    expect(h.progress.filter((p) => p.kind === 'waiting')).toEqual([
      { kind: 'waiting', deployment: 'shop/web', replicaSet: 'web-new', ready: 0, desired: 2 },
      { kind: 'waiting', deployment: 'shop/web', replicaSet: 'web-new', ready: 0, desired: 2 },
      { kind: 'waiting', deployment: 'shop/web', replicaSet: 'web-new', ready: 0, desired: 2 },
    ]);
    expect(report).toMatchObject({ ok: true, rollout: { complete: true, ready: 2, desired: 2, replicaSet: 'web-new', revision: 2 } });
  });

  it('waits while the Deployment controller has not seen the new spec', async () => {
    const { snapshot, route } = cluster();
    const stale = { ...snapshot, deployments: [deployment(3, 2)] };
    const h = harness(() => stale, () => [route]);
    const report = await runVerification(params({ waitRollout: 'deployment/web', waitTimeout: '1s', duration: '500ms' }), h.deps);
    expect(report.rollout).toMatchObject({ complete: false, observed: false });
    expect(report.failures.map((f) => f.check)).toEqual(['rollout-ready']);
    expect(report.failures[0]?.summary).toBe('ReplicaSet web-new of Deployment shop/web: 2 of 2 pods ready after 1 s; the Deployment controller has not seen the latest spec');
  });

  it('fails, naming the pods, when the rollout is not ready in time', async () => {
    const { snapshot, route } = cluster(false);
    const h = harness(() => snapshot, () => [route]);
    const report = await runVerification(params({ waitRollout: 'deployment/web', waitTimeout: '2s', duration: '500ms' }), h.deps);
    // Bounded: 250 ms polls over 2 s.
    expect(h.delays.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2500);
    expect(report).toMatchObject({ ok: false, failingHop: 'pod', cause: 'verify.not-ready', rollout: { complete: false, ready: 0, desired: 2 } });
    expect(report.failures[0]?.pods).toEqual(['shop/web-new-0', 'shop/web-new-1']);
  });

  it('cannot verify a Deployment that does not exist', async () => {
    const { snapshot, route } = cluster();
    const h = harness(() => snapshot, () => [route]);
    await expect(runVerification(params({ waitRollout: 'deployment/api' }), h.deps)).rejects.toMatchObject({ code: 'NO_DEPLOYMENT', message: 'Deployment shop/api does not exist' });
  });
});
