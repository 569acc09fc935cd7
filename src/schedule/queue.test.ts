import { describe, expect, it } from 'vitest';
import { healthyRound, routeFixture } from '../../test/fixtures.js';
import type { RouteRound } from '../model.js';
import { RoundQueue } from './queue.js';

const route = routeFixture();
const round = (at: number): RouteRound => ({ route, startedAt: at, durationMs: 1, hops: healthyRound(route), verdict: { status: 'ok', hop: null, cause: 'ok', summary: '', evidence: [] } });

describe('RoundQueue', () => {
  it('writes a full batch at once and the rest after the timer', async () => {
    const batches: number[][] = [];
    const queue = new RoundQueue((rounds) => batches.push(rounds.map((r) => r.startedAt)), { maxBatch: 3, flushMs: 20, log: () => undefined });
    for (let i = 0; i < 4; i++) queue.push(round(i));
    expect(batches).toEqual([[0, 1, 2]]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(batches).toEqual([[0, 1, 2], [3]]);
    queue.close();
  });

  it('keeps rounds when the store fails, writes them in order once it works, logs once per streak', () => {
    const written: number[] = [];
    const logs: string[] = [];
    let broken = true;
    const queue = new RoundQueue(
      (rounds) => {
        if (broken) throw new Error('disk full');
        written.push(...rounds.map((r) => r.startedAt));
      },
      { maxBatch: 2, flushMs: 10_000, log: (level, message) => logs.push(`${level} ${message}`) },
    );
    queue.push(round(1));
    queue.push(round(2));
    queue.push(round(3));
    queue.push(round(4));
    expect(written).toEqual([]);
    expect(logs.filter((l) => l.startsWith('error'))).toHaveLength(1);
    broken = false;
    queue.close();
    expect(written).toEqual([1, 2, 3, 4]);
    expect(logs.at(-1)).toBe('info store: writing again');
  });

  it('drops the oldest beyond maxPending and counts them', () => {
    const queue = new RoundQueue(() => {
      throw new Error('locked');
    }, { maxBatch: 1000, flushMs: 10_000, maxPending: 3, log: () => undefined });
    for (let i = 0; i < 5; i++) queue.push(round(i));
    expect(queue.size).toBe(3);
    expect(queue.dropped).toBe(2);
    queue.close();
  });

  it('drops rounds that finish after close instead of retrying against a closed store', async () => {
    const writes: number[] = [];
    const queue = new RoundQueue((rounds) => {
      writes.push(rounds.length);
      throw new Error('The database connection is not open');
    }, { maxBatch: 500, flushMs: 5, log: () => undefined });
    queue.close();
    queue.push(round(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(writes).toEqual([]);
    expect(queue.size).toBe(0);
    expect(queue.dropped).toBe(1);
  });
});
