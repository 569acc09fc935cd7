import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter, decodeChunk, encodeChunk, toUnits, type PackedRound } from './codec.js';
import { addRound, decodeDetail, decodeSlots, emptyAgg, encodeDetail, encodeSlots, histBucket, latencyQuantileMs, mergeAgg, type Agg } from './rollup.js';

describe('varints', () => {
  it('round-trip unsigned and signed safe integers of every size', () => {
    const values = [0, 1, 127, 128, 300, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, Date.UTC(2026, 0, 1), Number.MAX_SAFE_INTEGER];
    const signed = [1, 63, 64, 2 ** 31, 2 ** 52 - 1];
    const w = new ByteWriter(4);
    for (const v of values) w.uint(v);
    for (const v of signed) {
      w.sint(v);
      w.sint(-v);
    }
    w.sint(0);
    w.str('héllo');
    const r = new ByteReader(w.copy());
    for (const v of values) expect(r.uint()).toBe(v);
    for (const v of signed) expect([r.sint(), r.sint()]).toEqual([v, -v]);
    expect(r.sint()).toBe(0);
    expect(r.str()).toBe('héllo');
    expect(r.done).toBe(true);
    expect(() => r.uint()).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });

  it('rounds timings to 0.1 ms and clamps nonsense to 0', () => {
    expect([toUnits(1.26), toUnits(0.04), toUnits(-3), toUnits(Number.NaN), toUnits(5000)]).toEqual([13, 0, 0, 0, 50000]);
  });
});

describe('chunks', () => {
  it('round-trip rounds with any mix of phases, including irregular start times', () => {
    const masks = new Map([[1, 0b1111], [2, 0], [3, 0b0010]]);
    const rounds: PackedRound[] = [0, 29_990, 60_020, 60_021, 200_000].map((dt, i) => ({
      startedAt: 1_767_000_000_000 + dt,
      duration: 100 + i,
      verdict: 1 + (i % 2),
      hops: [
        { shape: 1, bytes: 10 * i, dns: 3, connect: 4, tls: 5, ttfb: 6, total: 7 + i },
        { shape: 2, bytes: 0, dns: -1, connect: -1, tls: -1, ttfb: -1, total: 90_000 },
        { shape: 3, bytes: 2 ** 33, dns: -1, connect: 1, tls: -1, ttfb: -1, total: 2 },
      ].slice(0, 1 + (i % 3)),
    }));
    const data = encodeChunk(rounds);
    expect(decodeChunk(data, rounds[0]!.startedAt, (s) => masks.get(s)!)).toEqual(rounds);
    expect(() => decodeChunk(Buffer.from([9, 1, 2]), 0, () => 0)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });
});

function agg(latencies: number[], failing = 0): Agg {
  const a = emptyAgg();
  latencies.forEach((l, i) => addRound(a, i < failing ? 'failing' : 'ok', i < failing ? 'pod' : null, i < failing ? 'pod.refused' : 'ok', l));
  return a;
}

describe('rollup aggregates', () => {
  it('encode and decode exactly, small and large, single and as minute slots', () => {
    const many = agg(Array.from({ length: 500 }, (_, i) => 10 + ((i * 37) % 4000)), 12);
    for (const a of [agg([]), agg([55]), agg([55, 90], 1), many]) {
      expect(decodeDetail(encodeDetail(a), a)).toEqual(a);
    }
    const slots = new Map<number, Agg>([[0, agg([5, 6])], [7, agg([50], 1)], [59, many]]);
    const blob = encodeSlots(slots);
    expect(blob[0]).toBe(1); // large enough to be deflated
    expect(decodeSlots(blob)).toEqual(slots);
    const small = new Map([[3, agg([5])]]);
    expect(decodeSlots(encodeSlots(small))).toEqual(small);
  });

  it('merge like counting everything at once, and estimate percentiles within a bucket', () => {
    const values = Array.from({ length: 1000 }, (_, i) => 20 + i);
    const whole = agg(values);
    const parts = emptyAgg();
    for (let i = 0; i < 1000; i += 100) mergeAgg(parts, agg(values.slice(i, i + 100)));
    expect(parts).toEqual(whole);
    const p95 = latencyQuantileMs(whole, 0.95)! * 10;
    expect(histBucket(p95)).toBeGreaterThanOrEqual(histBucket(969) - 1);
    expect(Math.abs(p95 - 969) / 969).toBeLessThan(0.1);
    expect(latencyQuantileMs(agg([42]), 0.99)).toBe(4.2);
    expect(latencyQuantileMs(emptyAgg(), 0.5)).toBeNull();
  });
});
