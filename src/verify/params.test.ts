import { describe, expect, it } from 'vitest';
import { VerifyParamError } from './errors.js';
import { camelCase, kebabCase, parseVerifyParams, VERIFY_DEFAULTS } from './params.js';

describe('parseVerifyParams', () => {
  it('fills the defaults around the one required parameter', () => {
    expect(parseVerifyParams({ ingress: 'shop/web' })).toEqual({
      ingress: { namespace: 'shop', name: 'web' },
      kind: 'Ingress',
      host: null,
      path: null,
      durationMs: VERIFY_DEFAULTS.durationMs,
      intervalMs: VERIFY_DEFAULTS.intervalMs,
      thresholds: { maxFailureRatio: 0, maxP95Ms: null, maxLatencyRatio: 2, latencySlackMs: 50, maxErrorRatioDelta: 0.05 },
      canary: { kind: 'revision' },
      waitRollout: null,
      waitTimeoutMs: 300_000,
    });
  });

  it('reads every parameter, camelCase or kebab-case, strings or JSON numbers', () => {
    const params = parseVerifyParams({
      ingress: 'shop/web',
      host: 'Shop.Example.Test',
      path: '/api',
      duration: '1m30s',
      'interval': '250ms',
      'max-failure-ratio': '0.01',
      maxP95Ms: 250,
      maxLatencyRatio: '3',
      'latency-slack-ms': 20,
      maxErrorRatioDelta: '0.1',
      canary: 'track=canary,app in (web)',
      'wait-rollout': 'deployment/web',
      waitTimeout: '2m',
    });
    expect(params).toMatchObject({
      host: 'shop.example.test',
      path: '/api',
      durationMs: 90_000,
      intervalMs: 250,
      thresholds: { maxFailureRatio: 0.01, maxP95Ms: 250, maxLatencyRatio: 3, latencySlackMs: 20, maxErrorRatioDelta: 0.1 },
      canary: { kind: 'selector', text: 'track=canary,app in (web)' },
      waitRollout: { namespace: 'shop', name: 'web' },
      waitTimeoutMs: 120_000,
    });
  });

  it('takes an HTTPRoute instead of an Ingress (httproute: NS/NAME), kind HTTPRoute', () => {
    const params = parseVerifyParams({ httproute: 'shop/split', 'wait-rollout': 'deploy/canary' });
    expect([params.kind, params.ingress, params.waitRollout]).toEqual(['HTTPRoute', { namespace: 'shop', name: 'split' }, { namespace: 'shop', name: 'canary' }]);
    expect(parseVerifyParams({ ingress: 'shop/web' }).kind).toBe('Ingress');
  });

  it('takes the Deployment of --wait-rollout in another namespace when written NS/deployment/NAME', () => {
    expect(parseVerifyParams({ ingress: 'shop/web', waitRollout: 'apps/deploy/api' }).waitRollout).toEqual({ namespace: 'apps', name: 'api' });
  });

  it.each([
    [{}, 'ingress', 'required: NAMESPACE/NAME of the Ingress (or httproute: NAMESPACE/NAME of the HTTPRoute)'],
    [{ ingress: 'shop/web', httproute: 'shop/web' }, 'httproute', 'give either ingress or httproute, not both'],
    [{ httproute: 'web' }, 'httproute', 'expected NAMESPACE/NAME (lowercase DNS names), got "web"'],
    [{ ingress: 'web' }, 'ingress', 'expected NAMESPACE/NAME (lowercase DNS names), got "web"'],
    [{ ingress: 'shop/web', color: 'red' }, 'color', 'unknown parameter; known: ingress, host, path, duration, interval, maxFailureRatio, maxP95Ms, maxLatencyRatio, latencySlackMs, maxErrorRatioDelta, canary, revision, canaryBackend, waitRollout, waitTimeout, httproute'],
    [{ ingress: 'shop/web', maxP95Ms: 1, 'max-p95-ms': 2 }, 'max-p95-ms', 'given twice (as "maxP95Ms" too)'],
    [{ ingress: ['shop/web', 'shop/api'] }, 'ingress', 'given more than once'],
    [{ ingress: 'shop/web', duration: '90' }, 'duration', 'no unit: add one of w, d, h, m, s, ms; expected a duration like 30s, 1m30s, 250ms'],
    [{ ingress: 'shop/web', duration: '2h' }, 'duration', 'must be between 1 ms and 60 minutes, got 2h'],
    [{ ingress: 'shop/web', interval: '10ms' }, 'interval', 'must be between 50 ms and 60 minutes, got 10ms'],
    [{ ingress: 'shop/web', duration: '1s', interval: '2s' }, 'interval', 'must not be longer than the duration (1000 ms)'],
    [{ ingress: 'shop/web', 'max-failure-ratio': '2' }, 'max-failure-ratio', 'must be between 0 and 1, got 2'],
    [{ ingress: 'shop/web', maxFailureRatio: '5%' }, 'maxFailureRatio', 'expected a number from 0 to 1, got "5%"'],
    [{ ingress: 'shop/web', maxP95Ms: '0' }, 'maxP95Ms', 'must be above 0'],
    [{ ingress: 'shop/web', maxLatencyRatio: '0.5' }, 'maxLatencyRatio', 'must be between 1 and 1000, got 0.5'],
    [{ ingress: 'shop/web', canary: 'track=canary', revision: 'latest' }, 'canary', 'give either canary (a selector) or revision, not both'],
    [{ ingress: 'shop/web', revision: 'previous' }, 'revision', 'only "latest" is supported, got "previous"'],
    [{ ingress: 'shop/web', canary: 'a in (x' }, 'canary', 'unbalanced parentheses'],
    [{ ingress: 'shop/web', path: 'api' }, 'path', 'must start with "/", got "api"'],
    [{ ingress: 'shop/web', host: 'shop example' }, 'host', 'not a host name: "shop example"'],
    [{ ingress: 'shop/web', waitRollout: 'statefulset/db' }, 'waitRollout', 'expected deployment/NAME, got "statefulset/db"'],
    [{ ingress: 'shop/web', canary: { app: 'web' } }, 'canary', 'must be a string or a number'],
    [{ ingress: 'shop/web', 'wait-timeout': '2m' }, 'wait-timeout', 'only applies when waiting for a rollout (--wait-rollout, waitRollout)'],
    [{ ingress: 'shop/web', maxP95Ms: '-1' }, 'maxP95Ms', 'expected a number from 0 to 3600000, got "-1"'],
  ])('%j: %s %s', (raw, parameter, reason) => {
    let caught: unknown = null;
    try {
      parseVerifyParams(raw as Record<string, unknown>);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(VerifyParamError);
    expect(caught).toMatchObject({ code: 'BAD_PARAMETER', parameter, reason });
  });
});

describe('parameter spellings', () => {
  it.each([
    ['max-failure-ratio', 'maxFailureRatio'],
    ['max-p95-ms', 'maxP95Ms'],
    ['wait-rollout', 'waitRollout'],
    ['ingress', 'ingress'],
  ])('%s <-> %s', (kebab, camel) => {
    expect(camelCase(kebab)).toBe(camel);
    expect(kebabCase(camel)).toBe(kebab);
  });
});
