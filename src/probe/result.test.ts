import { describe, expect, it } from 'vitest';
import { result } from '../../test/fixtures.js';
import { seenFromOutside } from './result.js';

const timedOut = { status: null, error: 'connect-timeout' as const, errorDetail: 'no TCP connection within 5000 ms' };

describe('seenFromOutside', () => {
  it.each(['pod', 'service', 'controller'] as const)('a %s hop that cannot even connect is unreachable from a laptop, not failed', (hop) => {
    const seen = seenFromOutside(result(hop, '10.2.0.1:8080', timedOut));
    expect(seen.error).toBe('unreachable');
    expect(seen.errorDetail).toContain('not reachable from outside the cluster');
  });

  it('keeps the edge (what users hit) and every other outcome as it is', () => {
    const edge = result('edge', '203.0.113.10:80', timedOut);
    expect(seenFromOutside(edge)).toBe(edge);
    const refused = result('pod', '10.2.0.1:8080', { status: null, error: 'refused' });
    expect(seenFromOutside(refused)).toBe(refused);
    const ok = result('pod', '10.2.0.1:8080');
    expect(seenFromOutside(ok)).toBe(ok);
  });
});
