import { describe, expect, it } from 'vitest';
import type { HopResult, RouteRound, Verdict } from '../model.js';
import type { LoopMetrics } from '../schedule/daemon.js';
import { fixtureHop, fixtureRound, fixtureRoute } from '../store/fixtures.js';
import { createMetrics, edgeStatusOf, hopResultLabel, projectRound, routeLabels, type RoundProjection } from './metrics.js';

const shop = fixtureRoute('shop', 'web');
const T = Date.UTC(2026, 0, 5);

function round(hops: HopResult[], verdict: Partial<Verdict> = {}, route = shop): RouteRound {
  const v: Verdict = { status: 'ok', hop: null, cause: 'ok', summary: 'every hop answers', evidence: [], ...verdict };
  return { route, startedAt: T, durationMs: 5, hops, verdict: v };
}

const podOk = (n: number): HopResult => fixtureHop({ hop: 'pod', target: `10.0.0.${n}:8080`, address: `10.0.0.${n}`, pod: `shop/web-${n}`, timings: { connectMs: 0.5, ttfbMs: 2, totalMs: 2.5 } });

describe('hopResultLabel', () => {
  it.each([
    ['a 200', { status: 200, error: null }, 'ok'],
    ['a 301', { status: 301, error: null }, 'ok'],
    ['a 404', { status: 404, error: null }, '4xx'],
    ['a 502', { status: 502, error: null }, '5xx'],
    ['a resolved dns hop', { status: null, error: null }, 'ok'],
    ['a refused connection', { status: null, error: 'refused' as const }, 'refused'],
    ['an unreachable hop', { status: null, error: 'unreachable' as const }, 'unreachable'],
  ])('%s -> %s', (_name, hop, want) => {
    expect(hopResultLabel(hop)).toBe(want);
  });
});

describe('projectRound', () => {
  const rows: [string, RouteRound, Partial<RoundProjection>][] = [
    [
      'an ok round: up 1, hop "none", counts per hop and result, every present phase',
      round([fixtureHop(), podOk(1), podOk(2)]),
      {
        up: 1,
        verdict: { status: 'ok', hop: 'none', cause: 'ok' },
        hopRequests: [{ hop: 'edge', result: 'ok', count: 1 }, { hop: 'pod', result: 'ok', count: 2 }],
        durations: [
          { hop: 'edge', phase: 'connect', seconds: 0.0004 }, { hop: 'edge', phase: 'ttfb', seconds: 0.0031 }, { hop: 'edge', phase: 'total', seconds: 0.0037 },
          { hop: 'pod', phase: 'connect', seconds: 0.0005 }, { hop: 'pod', phase: 'ttfb', seconds: 0.002 }, { hop: 'pod', phase: 'total', seconds: 0.0025 },
          { hop: 'pod', phase: 'connect', seconds: 0.0005 }, { hop: 'pod', phase: 'ttfb', seconds: 0.002 }, { hop: 'pod', phase: 'total', seconds: 0.0025 },
        ],
      },
    ],
    [
      'a failing round: up 0, the controller 502 counted as 5xx, a refused pod by its error',
      round(
        [fixtureHop({ status: 502 }), fixtureHop({ hop: 'pod', status: null, error: 'refused', timings: { connectMs: 0.2, totalMs: 0.3 } })],
        { status: 'failing', hop: 'pod', cause: 'pod.refused' },
      ),
      {
        up: 0,
        verdict: { status: 'failing', hop: 'pod', cause: 'pod.refused' },
        hopRequests: [{ hop: 'edge', result: '5xx', count: 1 }, { hop: 'pod', result: 'refused', count: 1 }],
      },
    ],
    [
      'a degraded round still answers users: up 1',
      round([fixtureHop()], { status: 'degraded', hop: 'pod', cause: 'pod.crashloop' }),
      { up: 1, verdict: { status: 'degraded', hop: 'pod', cause: 'pod.crashloop' } },
    ],
    [
      'an unknown round has no up value; unreachable hops are counted but not timed',
      round([fixtureHop({ status: null, error: 'unreachable', timings: { totalMs: 1000 } }), fixtureHop({ hop: 'dns', status: null, timings: { dnsMs: 1.5, totalMs: 1.5 } })], { status: 'unknown', cause: 'route.not-probeable' }),
      {
        up: null,
        hopRequests: [{ hop: 'edge', result: 'unreachable', count: 1 }, { hop: 'dns', result: 'ok', count: 1 }],
        durations: [{ hop: 'dns', phase: 'dns', seconds: 0.0015 }, { hop: 'dns', phase: 'total', seconds: 0.0015 }],
      },
    ],
  ];

  it.each(rows)('%s', (_name, r, want) => {
    const p = projectRound(r);
    expect(p.route).toEqual({ namespace: 'shop', ingress: 'web', host: 'web.example.test', path: '/' });
    for (const [key, value] of Object.entries(want)) {
      if (key === 'durations') {
        const got = p.durations.map((d) => ({ ...d, seconds: Math.round(d.seconds * 1e7) / 1e7 }));
        expect(got).toEqual(value);
      } else {
        expect(p[key as keyof RoundProjection]).toEqual(value);
      }
    }
  });

  it('names hostless and default-backend routes apart', () => {
    expect(routeLabels({ ...shop, host: null })).toMatchObject({ host: '(any)' });
    expect(routeLabels({ ...shop, host: null, defaultBackend: true })).toMatchObject({ host: '(default)' });
  });
});

/** The exposition's sample lines of one metric family (exact name, any labels). */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('createMetrics', () => {
  it('exposes one verdict series per route, replacing it when the verdict changes', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const blog = fixtureRoute('blog', 'site');
    m.observeRound(fixtureRound(shop, T, 'ok', 3));
    m.observeRound(fixtureRound(blog, T, 'ok', 3));
    m.observeRound(fixtureRound(shop, T + 30_000, 'failing', 3));
    const text = await m.render();
    expect(samples(text, 'hopwatch_route_verdict')).toEqual([
      'hopwatch_route_verdict{namespace="blog",ingress="site",host="site.example.test",path="/",status="ok",hop="none",cause="ok"} 1',
      'hopwatch_route_verdict{namespace="shop",ingress="web",host="web.example.test",path="/",status="failing",hop="controller",cause="controller.error"} 1',
    ]);
    expect(samples(text, 'hopwatch_route_up').sort()).toEqual([
      'hopwatch_route_up{namespace="blog",ingress="site",host="site.example.test",path="/"} 1',
      'hopwatch_route_up{namespace="shop",ingress="web",host="web.example.test",path="/"} 0',
    ]);
    expect(samples(text, 'hopwatch_hop_requests_total')).toEqual(expect.arrayContaining([
      'hopwatch_hop_requests_total{namespace="shop",ingress="web",hop="edge",result="ok"} 1',
      'hopwatch_hop_requests_total{namespace="shop",ingress="web",hop="edge",result="5xx"} 1',
      'hopwatch_hop_requests_total{namespace="shop",ingress="web",hop="pod",result="ok"} 2',
    ]));
    expect(samples(text, 'hopwatch_hop_duration_seconds_count')).toEqual(expect.arrayContaining([
      'hopwatch_hop_duration_seconds_count{hop="edge",phase="total"} 3',
      'hopwatch_hop_duration_seconds_count{hop="pod",phase="connect"} 3',
    ]));
    expect(samples(text, 'hopwatch_rounds_total')).toEqual(['hopwatch_rounds_total{status="ok"} 2', 'hopwatch_rounds_total{status="failing"} 1']);
    // Bounded labels: no pod names or addresses anywhere.
    expect(text).not.toMatch(/web-0|127\.0\.1\.1|127\.0\.0\.80/);
  });

  it('forgets a route: its series go, and its ingress counters go with the ingress\'s last route', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const api = fixtureRoute('shop', 'web', { id: 'shop-web-api', path: '/api' });
    m.observeRound(fixtureRound(shop, T, 'ok', 3));
    m.observeRound(fixtureRound(api, T, 'ok', 3));
    m.forgetRoute(shop.id);
    let text = await m.render();
    expect(samples(text, 'hopwatch_route_verdict')).toEqual([
      'hopwatch_route_verdict{namespace="shop",ingress="web",host="web.example.test",path="/api",status="ok",hop="none",cause="ok"} 1',
    ]);
    expect(samples(text, 'hopwatch_route_up')).toHaveLength(1);
    expect(samples(text, 'hopwatch_hop_requests_total')).toContain('hopwatch_hop_requests_total{namespace="shop",ingress="web",hop="edge",result="ok"} 2');
    m.forgetRoute(api.id);
    m.forgetRoute('never-seen');
    text = await m.render();
    expect(samples(text, 'hopwatch_route_verdict')).toEqual([]);
    expect(samples(text, 'hopwatch_route_up')).toEqual([]);
    expect(samples(text, 'hopwatch_hop_requests_total')).toEqual([]);
  });

  it('keeps an HTTPRoute named like an Ingress on the same host and path apart (a migration), Ingress series unchanged', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const gw = fixtureRoute('shop', 'web', {
      id: 'gw-shop-web', kind: 'HTTPRoute', ingressClass: null,
      parent: { kind: 'Gateway', namespace: 'gateway', name: 'public', sectionName: 'http', port: 80 },
    });
    m.observeRound(fixtureRound(shop, T, 'ok', 3));
    m.observeRound(fixtureRound(gw, T, 'failing', 3));
    let text = await m.render();
    expect(samples(text, 'hopwatch_route_up').sort()).toEqual([
      'hopwatch_route_up{namespace="shop",ingress="web",host="web.example.test",path="/",kind="HTTPRoute"} 0',
      'hopwatch_route_up{namespace="shop",ingress="web",host="web.example.test",path="/"} 1',
    ]);
    expect(samples(text, 'hopwatch_hop_requests_total')).toContain('hopwatch_hop_requests_total{namespace="shop",ingress="web",hop="edge",result="ok"} 1');
    m.forgetRoute(gw.id);
    text = await m.render();
    expect(samples(text, 'hopwatch_route_up')).toEqual(['hopwatch_route_up{namespace="shop",ingress="web",host="web.example.test",path="/"} 1']);
    expect(samples(text, 'hopwatch_hop_requests_total').every((s) => !s.includes('kind='))).toBe(true);
  });

  it('removes the up series while a route is unknown', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.observeRound(fixtureRound(shop, T, 'ok', 3));
    m.observeRound(fixtureRound(shop, T + 1, 'unknown', 3));
    const text = await m.render();
    expect(samples(text, 'hopwatch_route_up')).toEqual([]);
    expect(samples(text, 'hopwatch_route_verdict')).toEqual([
      'hopwatch_route_verdict{namespace="shop",ingress="web",host="web.example.test",path="/",status="unknown",hop="none",cause="route.not-probeable"} 1',
    ]);
  });

  it('records schedule, discovery, incidents and load', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.roundLate('overlap');
    m.roundLate('overlap');
    m.roundLate('behind');
    m.scheduleLateness(250);
    m.setDiscovery({ routes: 0, lastSyncMs: null, state: 'connecting' });
    m.setDiscovery({ routes: 42, lastSyncMs: 1_767_571_200_000, state: 'synced' });
    m.setIncidentsOpen(3);
    m.trackLoad(() => ({ roundsInFlight: 2, probesActive: 7, probesQueued: 11 }));
    const text = await m.render();
    expect(samples(text, 'hopwatch_rounds_late_total')).toEqual(['hopwatch_rounds_late_total{reason="overlap"} 2', 'hopwatch_rounds_late_total{reason="behind"} 1']);
    expect(samples(text, 'hopwatch_schedule_lateness_seconds_count')).toEqual(['hopwatch_schedule_lateness_seconds_count 1']);
    expect(samples(text, 'hopwatch_schedule_lateness_seconds_bucket')).toContain('hopwatch_schedule_lateness_seconds_bucket{le="0.25"} 1');
    expect(samples(text, 'hopwatch_schedule_lateness_seconds_bucket')).toContain('hopwatch_schedule_lateness_seconds_bucket{le="0.1"} 0');
    expect(samples(text, 'hopwatch_discovery_routes')).toEqual(['hopwatch_discovery_routes 42']);
    expect(samples(text, 'hopwatch_discovery_last_sync_timestamp_seconds')).toEqual(['hopwatch_discovery_last_sync_timestamp_seconds 1767571200']);
    expect(samples(text, 'hopwatch_discovery_state')).toEqual(['hopwatch_discovery_state{state="connecting"} 0', 'hopwatch_discovery_state{state="synced"} 1']);
    expect(samples(text, 'hopwatch_incidents_open')).toEqual(['hopwatch_incidents_open 3']);
    expect(samples(text, 'hopwatch_rounds_in_flight')).toEqual(['hopwatch_rounds_in_flight 2']);
    expect(samples(text, 'hopwatch_probes_queued')).toEqual(['hopwatch_probes_queued 11']);
    expect(samples(text, 'hopwatch_build_info')[0]).toMatch(/^hopwatch_build_info\{version="\d+\.\d+\.\d+.*"\} 1$/);
  });

  it('copies the alert receivers\' counters at each scrape, so a lost alert shows', async () => {
    const m = createMetrics({ defaultMetrics: false });
    let figures = [{ receiver: 'slack webhook #1 (hooks.slack.com)', queued: 2, delivered: 5, failed: 0, dropped: 0 }];
    m.trackAlerts(() => figures);
    expect(samples(await m.render(), 'hopwatch_alerts_total')).toEqual([
      'hopwatch_alerts_total{receiver="slack webhook #1 (hooks.slack.com)",outcome="delivered"} 5',
      'hopwatch_alerts_total{receiver="slack webhook #1 (hooks.slack.com)",outcome="failed"} 0',
      'hopwatch_alerts_total{receiver="slack webhook #1 (hooks.slack.com)",outcome="dropped"} 0',
    ]);
    figures = [{ ...figures[0]!, queued: 0, delivered: 6, failed: 1 }];
    const text = await m.render();
    expect(samples(text, 'hopwatch_alerts_total')).toContain('hopwatch_alerts_total{receiver="slack webhook #1 (hooks.slack.com)",outcome="failed"} 1');
    expect(samples(text, 'hopwatch_alerts_queued')).toEqual(['hopwatch_alerts_queued{receiver="slack webhook #1 (hooks.slack.com)"} 0']);
  });

  it('is what the run loop reports to', () => {
    const m: LoopMetrics = createMetrics({ defaultMetrics: false });
    expect(() => m.roundLate('behind')).not.toThrow();
  });

  it('adds process metrics to its own registry, not the global one', async () => {
    const a = createMetrics();
    const b = createMetrics();
    const text = await a.render();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_p99_seconds');
    expect(a.registry).not.toBe(b.registry);
    expect(a.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('labels every series with metrics.labels (the cluster), exports the edge status and the leader gauge', async () => {
    const m = createMetrics({ defaultMetrics: false, labels: { cluster: 'eu' } });
    m.observeRound(round([fixtureHop({ status: 502 }), fixtureHop({ hop: 'pod', status: null, error: 'refused' })], { status: 'failing', hop: 'pod', cause: 'pod.refused' }));
    let text = await m.render();
    expect(samples(text, 'hopwatch_route_edge_status_code')).toEqual(['hopwatch_route_edge_status_code{namespace="shop",ingress="web",host="web.example.test",path="/",cluster="eu"} 502']);
    expect(samples(text, 'hopwatch_build_info')).toEqual([expect.stringContaining('cluster="eu"')]);
    // A lone replica without a Lease leads; both late reasons exist from the start at 0.
    expect(samples(text, 'hopwatch_leader')).toEqual(['hopwatch_leader{identity="",cluster="eu"} 1']);
    expect(samples(text, 'hopwatch_rounds_late_total').sort()).toEqual(['hopwatch_rounds_late_total{reason="behind",cluster="eu"} 0', 'hopwatch_rounds_late_total{reason="overlap",cluster="eu"} 0']);
    m.trackLeader(() => ({ identity: 'hopwatch-1', leader: false }));
    m.forgetRoute(shop.id);
    text = await m.render();
    expect(samples(text, 'hopwatch_leader')).toEqual(['hopwatch_leader{identity="hopwatch-1",cluster="eu"} 0']);
    expect(samples(text, 'hopwatch_route_edge_status_code')).toEqual([]);
  });

  it.each([
    ['no edge hop', [fixtureHop({ hop: 'pod' })], null],
    ['an unreachable edge', [fixtureHop({ status: null, error: 'unreachable' })], null],
    ['an edge that answered nothing', [fixtureHop({ status: null, error: 'refused' })], 0],
    ['http 200 and https 502: the highest', [fixtureHop({ status: 200 }), fixtureHop({ status: 502 })], 502],
  ] as const)('edgeStatusOf: %s', (_name, hops, want) => {
    expect(edgeStatusOf(hops)).toBe(want);
  });
});
