// The terminal form of a verification report, on the failing single-ReplicaSet route of the demo
// (payments/checkout: both pods refuse): no "?" for a latency that does not exist, the failure seen
// from further out on one line, and no "canary" where the Deployment has one ReplicaSet.

import { describe, expect, it } from 'vitest';
import type { CheckFailure, GroupStats } from './evaluate.js';
import type { TargetRole } from './plan.js';
import { renderReport, type RouteReport, type VerifyReport } from './report.js';

function failure(group: TargetRole, label: string, failures: number): CheckFailure {
  return {
    routeId: 'r1', check: 'failure-ratio', group, hop: 'pod', cause: 'pod.refused',
    summary: `${label}: ${failures} of ${failures} requests failed (100%, max 0%): ...`,
    pods: [], figures: { samples: failures, failures, failureRatio: 1, maxFailureRatio: 0 },
  };
}

function stats(group: TargetRole, samples: number, failures: number, p50Ms: number | null): GroupStats {
  const hop = group === 'canary' || group === 'stable' ? 'pod' : group;
  return { routeId: 'r1', group, hop, samples, failures, unknown: 0, failureRatio: failures / samples, p50Ms, p95Ms: p50Ms, targets: [] };
}

function report(route: Partial<RouteReport>, failures: CheckFailure[]): VerifyReport {
  const routeReport: RouteReport = {
    id: 'r1', host: 'pay.demo.test', hostHeader: 'pay.demo.test', path: '/', service: 'payments/checkout',
    canary: { description: 'newest ReplicaSet checkout-96b (revision 1) of Deployment payments/checkout', replicaSet: 'checkout-96b', revision: 1, pods: ['payments/checkout-96b-0', 'payments/checkout-96b-1'] },
    stable: { replicaSets: [], pods: [] },
    groups: [stats('canary', 2, 2, null), stats('service', 1, 1, null), stats('controller', 2, 2, null), stats('edge', 1, 1, null), stats('dns', 1, 0, 27)],
    ...route,
  };
  return {
    ok: false, successPercent: 0, failingHop: 'pod', cause: 'pod.refused', summary: `fails at hop pod (pod.refused): ${failures[0]?.summary ?? ''} (and 3 more failed checks)`,
    ingress: 'payments/checkout', kind: 'Ingress', startedAt: '2026-12-06T07:00:00.000Z', durationMs: 124, ticks: 1, plannedTicks: 5, stoppedEarly: true,
    parameters: { durationMs: 5000, intervalMs: 1000, thresholds: { maxFailureRatio: 0, maxP95Ms: null, maxErrorRatioDelta: 0.05, maxLatencyRatio: 2, latencySlackMs: 50 }, canary: 'revision latest', waitRollout: null, waitTimeoutMs: 0 },
    routes: [routeReport], rollout: null, failures, notes: [],
  };
}

const FAILURES = [failure('canary', 'canary pods', 2), failure('service', 'Service', 1), failure('controller', 'controller pods', 2), failure('edge', 'edge', 1)];

describe('renderReport', () => {
  it('says why a group has no latency instead of printing "?"', () => {
    const text = renderReport(report({}, FAILURES), { colour: false });
    expect(text).not.toMatch(/\?/);
    expect(text).toMatch(/^ {2}Service +\d +1 +1 \(100%\) +none answered +none answered$/m);
    expect(text).toMatch(/^ {2}DNS +\d +1 +0 \(0%\) +27 ms +27 ms$/m);
    expect(text).toContain('"none answered" means every request failed');
  });

  it('puts the same failure seen further out on one line, and keeps a different one on its own', () => {
    const other: CheckFailure = { ...failure('edge', 'edge', 1), hop: 'edge', cause: 'edge.error', summary: 'edge: 1 of 1 requests failed' };
    const text = renderReport(report({}, [...FAILURES, other]), { colour: false });
    expect(text.match(/also: hop pod/g)).toBeNull();
    expect(text).toContain('· the same failure further out: Service 1 of 1 failed, controller pods 2 of 2 failed, edge 1 of 1 failed');
    expect(text).toContain('· also: hop edge (edge.error): edge: 1 of 1 requests failed');
  });

  it('calls the pods of a Deployment with one ReplicaSet "pods", not "canary"', () => {
    const text = renderReport(report({}, FAILURES), { colour: false });
    expect(text).not.toMatch(/canary/i);
    expect(text).toContain('route pay.demo.test/ -> payments/checkout; pods of the only ReplicaSet checkout-96b (revision 1) of Deployment payments/checkout (no older version to compare with)');
    expect(text).toMatch(/^ {2}pods +\d +2 +2 \(100%\)/m);
    expect(text).toContain('fails at hop pod (pod.refused): pods: 2 of 2 requests failed');
  });

  it('keeps "canary" where there is a stable version beside it', () => {
    const text = renderReport(report({ stable: { replicaSets: ['checkout-11a'], pods: ['payments/checkout-11a-0'] } }, FAILURES), { colour: false });
    expect(text).toContain('; canary: newest ReplicaSet checkout-96b (revision 1)');
    expect(text).toMatch(/^ {2}canary pods +\d +2/m);
  });
});
