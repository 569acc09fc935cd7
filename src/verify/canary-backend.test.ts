import { describe, expect, it } from 'vitest';
import { VerifyParamError } from './errors.js';
import { rawFromFlagger } from './http.js';
import { parseVerifyParams } from './params.js';

// The canary as a weighted backend of the route, through every front door's parameters.

describe('canary backend parameter', () => {
  it('reads canaryBackend (API query, JSON body) and canary-backend (CLI flag, Flagger metadata in kebab-case)', () => {
    expect(parseVerifyParams({ ingress: 'shop/web', canaryBackend: 'web-v2' }).canary).toEqual({ kind: 'backend', service: 'web-v2' });
    expect(parseVerifyParams({ ingress: 'shop/web', 'canary-backend': 'web-v2' }).canary).toEqual({ kind: 'backend', service: 'web-v2' });
  });

  it('names the parameter when it is not a Service name or is given with another canary', () => {
    const bad = (raw: Record<string, string>): VerifyParamError => {
      try {
        parseVerifyParams(raw);
      } catch (error) {
        if (error instanceof VerifyParamError) return error;
      }
      throw new Error('no VerifyParamError');
    };
    expect(bad({ ingress: 'shop/web', canaryBackend: 'Web V2' }).parameter).toBe('canaryBackend');
    expect(bad({ ingress: 'shop/web', canaryBackend: 'web-v2', canary: 'app=x' }).parameter).toBe('canaryBackend');
  });

  it('Flagger: a canary backend in the metadata replaces the app=<name> selector default', () => {
    const raw = rawFromFlagger({ name: 'podinfo', namespace: 'test', metadata: { canaryBackend: 'podinfo-canary' } });
    expect(parseVerifyParams(raw).canary).toEqual({ kind: 'backend', service: 'podinfo-canary' });
    expect(parseVerifyParams(rawFromFlagger({ name: 'podinfo', namespace: 'test' })).canary).toMatchObject({ kind: 'selector', text: 'app=podinfo' });
  });
});
