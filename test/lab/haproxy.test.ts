// The real haproxy process: start, reload without a gap, a rejected config keeps the old one
// serving, stop leaves nothing behind.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HaproxyInstance, startHaproxy } from './haproxy.js';
import { reservePort } from './pods.js';

// BLOCK 207: haproxy listens on 127.207.6.1, a port reserved from the kernel.
const IP = '127.207.6.1';

function config(port: number, answer: number): string {
  return [
    'global',
    '    nbthread 1',
    '    hard-stop-after 2s',
    'defaults',
    '    mode http',
    '    timeout connect 1s',
    '    timeout client 5s',
    '    timeout server 2s',
    'frontend http',
    `    bind ${IP}:${port}`,
    `    http-request return status ${answer}`,
    '',
  ].join('\n');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function status(port: number): Promise<number> {
  const response = await fetch(`http://${IP}:${port}/`, { signal: AbortSignal.timeout(5000) });
  await response.arrayBuffer();
  return response.status;
}

let dir: string;
let port: number;
let haproxy: HaproxyInstance | null = null;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hopwatch-haproxy-'));
  port = await reservePort(IP);
});

afterAll(async () => {
  await haproxy?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('startHaproxy', () => {
  it('serves, reloads onto a new process, keeps the old config when a new one is rejected, and stops', async () => {
    haproxy = await startHaproxy({ name: 'hp-0', dir, config: config(port, 200), listen: { address: IP, port } });
    const first = haproxy.pid;
    expect(await status(port)).toBe(200);

    await haproxy.reload(config(port, 503));
    expect(await status(port)).toBe(503);
    expect(haproxy.pid).not.toBe(first);
    expect(alive(first)).toBe(false);

    const before = haproxy.pid;
    await expect(haproxy.reload(`${config(port, 200)}\n    no-such-directive on\n`)).rejects.toMatchObject({ code: 'LAB_HAPROXY_CONFIG' });
    expect(haproxy.pid).toBe(before);
    expect(await status(port)).toBe(503);

    await haproxy.stop();
    expect(haproxy.exited).toBe(true);
    expect(alive(before)).toBe(false);
  });

  it('refuses a non-loopback listen address', async () => {
    await expect(startHaproxy({ name: 'x', dir, config: config(port, 200), listen: { address: '10.1.2.3', port } })).rejects.toMatchObject({ code: 'LAB_BAD_ADDRESS' });
  });
});
