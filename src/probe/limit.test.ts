import { describe, expect, it } from 'vitest';
import { InvalidLimitError, createLimiter } from './limit.js';

/** A promise with its resolve and reject exposed. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('createLimiter', () => {
  it('runs at most max tasks at once and starts the rest in arrival order', async () => {
    const limit = createLimiter(2);
    const gates = Array.from({ length: 5 }, () => deferred<number>());
    const started: number[] = [];
    const runs = gates.map((gate, i) => limit.run(() => (started.push(i), gate.promise)));
    await tick();
    expect(started).toEqual([0, 1]);
    expect([limit.active, limit.queued]).toEqual([2, 3]);
    gates[1]?.resolve(1);
    await tick();
    expect(started).toEqual([0, 1, 2]);
    expect([limit.active, limit.queued]).toEqual([2, 2]);
    gates[0]?.resolve(0);
    gates[2]?.resolve(2);
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    gates[3]?.resolve(3);
    gates[4]?.resolve(4);
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect([limit.active, limit.queued]).toEqual([0, 0]);
  });

  it('frees the slot when a task rejects or throws, and passes the error on', async () => {
    const limit = createLimiter(1);
    const failing = limit.run(() => Promise.reject(new Error('boom')));
    const throwing = limit.run(() => {
      throw new Error('sync boom');
    });
    const after = limit.run(() => Promise.resolve('next'));
    await expect(failing).rejects.toThrow('boom');
    await expect(throwing).rejects.toThrow('sync boom');
    expect(await after).toBe('next');
    expect([limit.active, limit.queued]).toEqual([0, 0]);
  });

  it('keeps the limit over thousands of queued tasks (queue compaction included)', async () => {
    const limit = createLimiter(3);
    let inFlight = 0;
    let most = 0;
    const order: number[] = [];
    const runs = Array.from({ length: 3000 }, (_, i) =>
      limit.run(async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        order.push(i);
        await Promise.resolve();
        inFlight--;
        return i;
      }),
    );
    const results = await Promise.all(runs);
    expect(results).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(order).toEqual(results);
    expect(most).toBe(3);
    expect([limit.active, limit.queued]).toEqual([0, 0]);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects a limit of %s as a configuration error', (max) => {
    expect(() => createLimiter(max)).toThrow(InvalidLimitError);
    try {
      createLimiter(max);
    } catch (err) {
      expect(err).toMatchObject({ code: 'HOPWATCH_INVALID_LIMIT' });
    }
  });
});
