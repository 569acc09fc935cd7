import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, heapGrowthFlag } from './memory.js';

describe('heapGrowthFlag', () => {
  it('bounds the heap growth when the user chose nothing', () => {
    expect(heapGrowthFlag([], undefined)).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    expect(heapGrowthFlag(['--enable-source-maps'], '--trace-warnings')).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  });

  it("leaves V8 as told when the user's Node options size or pace the heap (the image's cap, a flag of their own)", () => {
    expect(heapGrowthFlag([], '--max-old-space-size=256')).toBeNull();
    expect(heapGrowthFlag(['--max_old_space_size=512'], undefined)).toBeNull();
    expect(heapGrowthFlag([], '--trace-warnings --heap-growing-percent=200')).toBeNull();
    expect(heapGrowthFlag(['--max-heap-size=300'], '')).toBeNull();
  });
});
