// Scaffolding the lab's socket tests share (pods, services, edge): stopping what a test
// started, one GET on a fresh connection, proving a port is free, bounded waits, and the
// closing check that nothing was left open. Test code only: it imports vitest.

import * as http from 'node:http';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { expect } from 'vitest';
import type { SocketAddress } from './pods.js';

/** Something a test starts and must stop. */
export interface Stoppable {
  /** Stops it; resolves when it is gone. */
  stop(): Promise<void>;
}

/** What the tests of one file started, stopped after each test (`afterEach(() => started.stopAll())`). */
export class Started {
  readonly #things: Stoppable[] = [];

  /** Remembers `thing` to be stopped; returns it. */
  add<T extends Stoppable>(thing: T): T {
    this.#things.push(thing);
    return thing;
  }

  /** Stops everything added since the last call, all at once; a failed stop is ignored (the thing is gone, or the test already failed). */
  async stopAll(): Promise<void> {
    await Promise.all(this.#things.splice(0).map((thing) => thing.stop().catch(() => undefined)));
  }
}

/** The ip:port of a lab pod (or anything listening), as relays take their backends. */
export function addressOf(at: SocketAddress): SocketAddress {
  return { ip: at.ip, port: at.port };
}

/** One GET on a fresh connection: "<status> <x-lab-pod>", or the error code. */
export function getOnce(at: SocketAddress): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: at.ip, port: at.port, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(`${res.statusCode} ${String(res.headers['x-lab-pod'])}`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Binds ip:port and releases it: proves nothing still holds the port. */
export async function canBind(ip: string, port: number): Promise<boolean> {
  const server = net.createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ host: ip, port, exclusive: true }, () => resolve(true));
  });
  if (ok) await new Promise<void>((resolve) => server.close(() => resolve()));
  return ok;
}

/** Polls `done` every 10 ms until it holds or `limitMs` passes (a bound on the wait, never a timing assertion). */
export async function waitFor(done: () => boolean, limitMs: number): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Fails unless this process holds no TCP listener or socket any more (the last test of a file). */
export async function expectNoTcpLeft(): Promise<void> {
  const tcp = (): string[] => process.getActiveResourcesInfo().filter((name) => name.startsWith('TCP'));
  // Client sides close a moment after the servers' FINs arrive; the wait is bounded.
  await waitFor(() => tcp().length === 0, 5000).catch(() => undefined);
  expect(tcp()).toEqual([]);
}
