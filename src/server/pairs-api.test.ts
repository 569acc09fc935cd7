// GET /api/v1/pairs: a bad or misspelt parameter is a 400 naming it, as on every other endpoint; before this,
// ?outcom=different answered every pair as if it had filtered.

import { describe, expect, it } from 'vitest';
import { pairsEndpoint, type PairsSource } from './pairs-api.js';

const NONE: PairsSource = { list: () => [], get: () => undefined };

describe('pairsEndpoint', () => {
  it('400 for an unknown parameter, naming it', () => {
    const answer = pairsEndpoint(NONE, new URLSearchParams('outcom=different'));
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: { code: 'BAD_PARAMETER', parameter: 'outcom', message: 'parameter "outcom": unknown parameter; this endpoint takes outcome' } });
  });

  it('answers the pairs for no parameter and a known outcome', () => {
    expect(pairsEndpoint(NONE, new URLSearchParams(''))).toEqual({ status: 200, body: { pairs: [] } });
    expect(pairsEndpoint(NONE, new URLSearchParams('outcome=different')).status).toBe(200);
  });
});
