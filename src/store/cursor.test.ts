import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './cursor.js';

const raw = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('cursors', () => {
  it('read back what they wrote', () => {
    expect(decodeCursor(encodeCursor('r', [1_769_853_600_000, 1]), 'r', 2)).toEqual([1_769_853_600_000, 1]);
  });

  it.each([
    ['not base64 JSON', 'bm9wZQ', 'i'],
    ['another kind', raw(['i', 1, 2]), 'r'],
    ['too few values', raw(['r', 1]), 'r'],
    ['too many values', raw(['r', 1, 2, 3]), 'r'],
    ['a negative value', raw(['r', 1_769_853_600_000, -2]), 'r'],
    ['a fraction', raw(['i', 1.5, 2]), 'i'],
    ['a string', raw(['i', '1', 2]), 'i'],
  ])('refuse %s as BAD_CURSOR', (_name, cursor, kind) => {
    expect(() => decodeCursor(cursor, kind, 2)).toThrow(expect.objectContaining({ code: 'BAD_CURSOR' }));
  });
});
