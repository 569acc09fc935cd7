// Opaque keyset-pagination cursors: a kind tag and integers, base64url-encoded.

import { StoreError } from './errors.js';

/** Encodes a cursor of the given kind holding integers. */
export function encodeCursor(kind: string, values: readonly number[]): string {
  return Buffer.from(JSON.stringify([kind, ...values])).toString('base64url');
}

/** Decodes a cursor of the given kind holding exactly `count` non-negative integers; BAD_CURSOR when it is not one. */
export function decodeCursor(cursor: string, kind: string, count: number): number[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (err) {
    throw new StoreError('BAD_CURSOR', 'cursor is not one this store produced', { cause: err });
  }
  if (!Array.isArray(parsed) || parsed[0] !== kind || parsed.length !== count + 1) {
    throw new StoreError('BAD_CURSOR', `cursor is not a ${kind === 'i' ? 'incident' : 'round'} cursor`);
  }
  const values = parsed.slice(1);
  if (!values.every((v) => Number.isSafeInteger(v) && v >= 0)) throw new StoreError('BAD_CURSOR', 'cursor holds values no cursor of this store has');
  return values as number[];
}
