import { describe, expect, it } from 'vitest';
import { routeFixture, withPrimary } from '../../test/fixtures.js';
import { routeDefinition } from './daemon.js';

describe('routeDefinition', () => {
  const base = routeFixture({ id: 'a' });
  const endpoint = { address: '10.0.0.1', port: 8080, ready: true, serving: true, terminating: false, pod: null };

  it('stays the same when only facts that change no hop do (pod restarts, annotations)', () => {
    const restarted = { ...base, backends: base.backends.map((b) => ({ ...b, pods: b.pods.map((p) => ({ ...p, restarts: p.restarts + 3 })) })), annotations: { ...base.annotations, note: 'x' } };
    expect(routeDefinition(restarted)).toBe(routeDefinition(base));
  });

  it('changes when the plan changes: an endpoint added, an endpoint turning not ready or terminating', () => {
    const one = withPrimary(base, { endpoints: [endpoint] });
    const two = withPrimary(base, { endpoints: [endpoint, { ...endpoint, address: '10.0.0.2' }] });
    const notReady = withPrimary(base, { endpoints: [{ ...endpoint, ready: false }] });
    const terminating = withPrimary(base, { endpoints: [{ ...endpoint, terminating: true }] });
    const digests = new Set([one, two, notReady, terminating].map(routeDefinition));
    expect(digests.size).toBe(4);
  });
});

describe('routeDefinition and the controller', () => {
  it('ignores the controller pods, which every route shares (a controller rollout must not re-probe every route at once)', () => {
    const base = routeFixture({ id: 'a' });
    const controller = base.controller;
    if (!controller) throw new Error('fixture has a controller');
    const replaced = { ...base, controller: { ...controller, pods: controller.pods.map((p) => ({ ...p, ip: `${p.ip}9`, ready: false })) } };
    expect(routeDefinition(replaced)).toBe(routeDefinition(base));
  });
});
