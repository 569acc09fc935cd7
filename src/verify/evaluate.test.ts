import { describe, expect, it } from 'vitest';
import type { Cause, HopKind, Verdict, VerdictHop } from '../model.js';
import { addTick, evaluate, evaluateSamples, newTally, percentile, type Sample } from './evaluate.js';
import type { Thresholds } from './params.js';
import type { TargetRole } from './plan.js';

const THRESHOLDS: Thresholds = { maxFailureRatio: 0, maxP95Ms: null, maxLatencyRatio: 2, latencySlackMs: 50, maxErrorRatioDelta: 0.05 };

interface TargetSpec {
  role: TargetRole;
  target: string;
  pod?: string;
  /** Per tick: a latency (a 200), an error code, or a status. */
  answer: (tick: number) => number | { error: Sample['error'] } | { status: number };
}

const HOP_OF: Record<TargetRole, HopKind> = { canary: 'pod', stable: 'pod', pod: 'pod', service: 'service', controller: 'controller', edge: 'edge', dns: 'dns' };

function run(ticks: number, targets: TargetSpec[]): Sample[] {
  const samples: Sample[] = [];
  for (let tick = 0; tick < ticks; tick++) {
    for (const t of targets) {
      const answer = t.answer(tick);
      const base = { tick, routeId: 'r1', role: t.role, hop: HOP_OF[t.role], target: t.target, pod: t.pod ?? null };
      if (typeof answer === 'number') samples.push({ ...base, outcome: 'ok', status: 200, error: null, latencyMs: answer });
      else if ('error' in answer) samples.push({ ...base, outcome: 'failed', status: null, error: answer.error, latencyMs: 0.3 });
      else samples.push({ ...base, outcome: answer.status >= 500 ? 'failed' : 'ok', status: answer.status, error: null, latencyMs: 2 });
    }
  }
  return samples;
}

/** A healthy route: edge, two controller pods, Service, DNS, two stable pods, three canary pods. */
function route(overrides: Partial<Record<string, TargetSpec['answer']>> = {}): TargetSpec[] {
  const ok = (ms: number) => () => ms;
  const specs: TargetSpec[] = [
    { role: 'edge', target: '192.0.2.10:80', answer: ok(4) },
    { role: 'controller', target: '10.1.0.1:80', pod: 'ingress-nginx/ctrl-a', answer: ok(3) },
    { role: 'controller', target: '10.1.0.2:80', pod: 'ingress-nginx/ctrl-b', answer: ok(3) },
    { role: 'service', target: '10.3.0.1:80', answer: ok(2) },
    { role: 'dns', target: 'web.shop.svc.cluster.local', answer: ok(1) },
    { role: 'stable', target: '10.2.0.1:8080', pod: 'shop/web-old-0', answer: ok(2) },
    { role: 'stable', target: '10.2.0.2:8080', pod: 'shop/web-old-1', answer: ok(2) },
    { role: 'canary', target: '10.2.1.1:8080', pod: 'shop/web-new-0', answer: ok(2) },
    { role: 'canary', target: '10.2.1.2:8080', pod: 'shop/web-new-1', answer: ok(2) },
    { role: 'canary', target: '10.2.1.3:8080', pod: 'shop/web-new-2', answer: ok(2) },
  ];
  return specs.map((s) => ({ ...s, answer: overrides[s.pod ?? s.role] ?? s.answer }));
}

function verdicts(ticks: number, hop: VerdictHop, cause: Cause): Map<string, Verdict> {
  const status = cause === 'ok' ? 'ok' : 'failing';
  return new Map(Array.from({ length: ticks }, (_, t) => [`${t}/r1`, { status, hop: cause === 'ok' ? null : hop, cause, summary: cause, evidence: [] }]));
}

const REFUSED = { error: 'refused' as const };
const BAD_GATEWAY = { status: 502 };

describe('evaluateSamples', () => {
  it('passes a healthy canary and reports per-group figures', () => {
    const { failures, groups } = evaluateSamples(run(10, route()), verdicts(10, 'pod', 'ok'), THRESHOLDS);
    expect(failures).toEqual([]);
    expect(groups.map((g) => g.group)).toEqual(['canary', 'service', 'controller', 'edge', 'dns', 'stable']);
    expect(groups[0]).toMatchObject({ group: 'canary', samples: 30, failures: 0, failureRatio: 0, p50Ms: 2, p95Ms: 2 });
    expect(groups[0]?.targets[0]).toMatchObject({ pod: 'shop/web-new-0', samples: 10, outcomes: { '200': 10 } });
  });

  it('fails one refusing canary pod at hop pod with the classifier\'s cause, naming only that pod', () => {
    const samples = run(4, route({ 'shop/web-new-1': () => REFUSED }));
    const { failures } = evaluateSamples(samples, verdicts(4, 'pod', 'pod.refused'), THRESHOLDS);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toEqual({
      routeId: 'r1',
      check: 'failure-ratio',
      group: 'canary',
      hop: 'pod',
      cause: 'pod.refused',
      summary: 'canary pods: 4 of 12 requests failed (33.3%, max 0%): shop/web-new-1 refused in 4 of 4',
      pods: ['shop/web-new-1'],
      figures: { samples: 12, failures: 4, failureRatio: 1 / 3, maxFailureRatio: 0 },
    });
  });

  it('does not take a verdict placed at the controller as the cause of failing canary pods', () => {
    // nginx ran out of retries on the refusing pods, so the classifier blamed the controller.
    const samples = run(2, route({ 'shop/web-new-0': () => REFUSED, 'shop/web-new-1': () => REFUSED, 'shop/web-new-2': () => REFUSED }));
    const { failures } = evaluateSamples(samples, verdicts(2, 'controller', 'controller.error'), THRESHOLDS);
    expect(failures[0]).toMatchObject({ group: 'canary', hop: 'pod', cause: 'pod.refused' });
  });

  it('fails at the controller when the controller pods fail while every pod answers, before the edge', () => {
    const samples = run(3, route({ 'ingress-nginx/ctrl-a': () => BAD_GATEWAY, 'ingress-nginx/ctrl-b': () => BAD_GATEWAY, edge: () => BAD_GATEWAY }));
    const { failures } = evaluateSamples(samples, verdicts(3, 'controller', 'controller.error'), THRESHOLDS);
    expect(failures.map((f) => [f.group, f.hop, f.cause])).toEqual([
      ['controller', 'controller', 'controller.error'],
      ['edge', 'controller', 'controller.error'],
    ]);
    expect(failures[0]?.pods).toEqual(['ingress-nginx/ctrl-a', 'ingress-nginx/ctrl-b']);
    expect(failures[0]?.summary).toBe('controller pods: 6 of 6 requests failed (100%, max 0%): ingress-nginx/ctrl-a 502 in 3 of 3; ingress-nginx/ctrl-b 502 in 3 of 3');
  });

  it('reads a cause off the errors when no verdict explains them', () => {
    const samples = run(2, route({ 'ingress-nginx/ctrl-b': () => BAD_GATEWAY }));
    const { failures } = evaluateSamples(samples, new Map(), THRESHOLDS);
    expect(failures[0]).toMatchObject({ group: 'controller', hop: 'controller', cause: 'controller.replica-divergence', pods: ['ingress-nginx/ctrl-b'] });
  });

  it('does not hold failing stable pods against the canary', () => {
    const samples = run(5, route({ 'shop/web-old-0': () => REFUSED }));
    expect(evaluateSamples(samples, verdicts(5, 'pod', 'pod.refused'), THRESHOLDS).failures).toEqual([]);
  });

  it('fails a canary within maxFailureRatio that is worse than stable by more than the margin', () => {
    const samples = run(10, route({ 'shop/web-new-0': (t) => (t < 3 ? REFUSED : 2) }));
    const loose = { ...THRESHOLDS, maxFailureRatio: 0.1 };
    const { failures } = evaluateSamples(samples, verdicts(10, 'pod', 'pod.refused'), loose);
    expect(failures.map((f) => [f.check, f.cause])).toEqual([['error-ratio-delta', 'pod.refused']]);
    expect(failures[0]?.summary).toBe('canary pods fail 10% of requests, stable pods 0%: worse by more than 5% (shop/web-new-0)');
    const wider = evaluateSamples(samples, verdicts(10, 'pod', 'pod.refused'), { ...loose, maxErrorRatioDelta: 0.2 });
    expect(wider.failures).toEqual([]);
  });

  it('fails a canary 5x slower than stable on the latency margin, and tolerates small differences as noise', () => {
    const slow = route({ 'shop/web-new-0': () => 300, 'shop/web-new-1': () => 300, 'shop/web-new-2': () => 300, 'shop/web-old-0': () => 60, 'shop/web-old-1': () => 60 });
    const { failures } = evaluateSamples(run(8, slow), verdicts(8, 'pod', 'ok'), THRESHOLDS);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ check: 'latency-ratio', group: 'canary', hop: 'pod', cause: 'verify.slower-than-stable', figures: { canaryP95Ms: 300, stableP95Ms: 60, ratio: 5 } });
    expect(failures[0]?.summary).toBe('canary pods p95 300 ms is 5.0× stable\'s 60 ms (max 2×, slack 50 ms): shop/web-new-0 p95 300 ms; shop/web-new-1 p95 300 ms; shop/web-new-2 p95 300 ms');
    // 3x slower but only 4 ms more: noise on a fast route.
    const fast = route({ 'shop/web-new-0': () => 6, 'shop/web-new-1': () => 6, 'shop/web-new-2': () => 6 });
    expect(evaluateSamples(run(8, fast), verdicts(8, 'pod', 'ok'), THRESHOLDS).failures).toEqual([]);
  });

  it('fails a group whose p95 is over maxP95Ms, as verify.slow at that hop', () => {
    const samples = run(20, route({ edge: (t) => (t < 2 ? 900 : 5) }));
    const { failures } = evaluateSamples(samples, verdicts(20, 'pod', 'ok'), { ...THRESHOLDS, maxP95Ms: 500 });
    expect(failures.map((f) => [f.check, f.group, f.hop, f.cause])).toEqual([['p95', 'edge', 'edge', 'verify.slow']]);
    expect(failures[0]?.figures).toMatchObject({ p95Ms: 900, maxP95Ms: 500, slowSamples: 2, samples: 20 });
    // One slow sample of twenty is the top 5%: p95 itself stays fast.
    const once = run(20, route({ edge: (t) => (t < 1 ? 900 : 5) }));
    expect(evaluateSamples(once, verdicts(20, 'pod', 'ok'), { ...THRESHOLDS, maxP95Ms: 500 }).failures).toEqual([]);
  });

  it('ignores samples that could not be judged (unreachable from where hopwatch runs)', () => {
    const samples = run(3, route()).map((s) => (s.role === 'edge' ? { ...s, outcome: 'unknown' as const, status: null, error: 'unreachable' as const } : s));
    const { failures, groups } = evaluateSamples(samples, verdicts(3, 'pod', 'ok'), THRESHOLDS);
    expect(failures).toEqual([]);
    expect(groups.find((g) => g.group === 'edge')).toMatchObject({ samples: 0, unknown: 3, failureRatio: null });
  });
});

describe('evaluate while ticks remain (fail fast)', () => {
  it('decides at once when max-failure-ratio is 0 and a canary request fails', () => {
    const tally = newTally(null);
    addTick(tally, run(1, route({ 'shop/web-new-2': () => REFUSED })), null);
    expect(evaluate(tally, THRESHOLDS, 59).map((f) => f.check)).toEqual(['failure-ratio']);
  });

  it('waits while the remaining ticks could still bring the ratio under the limit, and decides once they cannot', () => {
    const loose = { ...THRESHOLDS, maxFailureRatio: 0.1 };
    const tally = newTally(null);
    // One failure of 3 canary samples; 9 more ticks could add 27 successes: 1/30 <= 10%.
    addTick(tally, run(1, route({ 'shop/web-new-2': () => REFUSED })), null);
    expect(evaluate(tally, loose, 9)).toEqual([]);
    // Three more failures: 4/30 > 10% even if everything else succeeds.
    addTick(tally, run(1, route({ 'shop/web-new-0': () => REFUSED, 'shop/web-new-1': () => REFUSED, 'shop/web-new-2': () => REFUSED })).map((s) => ({ ...s, tick: 1 })), null);
    expect(evaluate(tally, loose, 8).map((f) => [f.group, f.check])).toEqual([['canary', 'failure-ratio']]);
  });

  it('counts a tick whose requests could not be judged as one whose targets may still answer', () => {
    const loose = { ...THRESHOLDS, maxFailureRatio: 0.1 };
    const tally = newTally(null);
    addTick(tally, run(1, route({ 'shop/web-new-2': () => REFUSED })), null);
    // A tick where every canary pod was unreachable from here: the next ones may reach them again.
    const unjudged = run(1, route()).map((s) => ({ ...s, tick: 1, ...(s.role === 'canary' ? { outcome: 'unknown' as const, status: null, error: 'unreachable' as const } : {}) }));
    addTick(tally, unjudged, null);
    expect(evaluate(tally, loose, 8)).toEqual([]);
  });

  it('never decides the margins early: stable could still fail as much', () => {
    const tally = newTally(null);
    addTick(tally, run(1, route({ 'shop/web-new-0': () => 400, 'shop/web-new-1': () => 400, 'shop/web-new-2': () => 400 })), null);
    expect(evaluate(tally, THRESHOLDS, 5)).toEqual([]);
    expect(evaluate(tally, THRESHOLDS, 0).map((f) => f.check)).toEqual(['latency-ratio']);
  });

  it('decides a p95 limit once too many samples were slow for any future to fix', () => {
    const tally = newTally(200);
    addTick(tally, run(1, route({ 'shop/web-new-0': () => 400, 'shop/web-new-1': () => 400 })), null);
    // 2 slow of 3; 10 more ticks add 30 fast ones: 2 > 33 - ceil(31.35) = 1, so p95 stays over.
    expect(evaluate(tally, { ...THRESHOLDS, maxP95Ms: 200 }, 10).map((f) => [f.group, f.check])).toEqual([['canary', 'p95']]);
    const patient = newTally(200);
    addTick(patient, run(1, route({ 'shop/web-new-0': () => 400 })), null);
    expect(evaluate(patient, { ...THRESHOLDS, maxP95Ms: 200 }, 10)).toEqual([]);
  });
});

describe('percentile', () => {
  it.each([
    [[], 95, null],
    [[5], 95, 5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20], 95, 19],
    [[3, 1, 2], 50, 2],
  ])('%j p%i = %s (nearest rank)', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
});
