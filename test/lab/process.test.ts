// The process runners' shared pieces with real processes (/bin/sh, sleep), files and sockets.
// BLOCK 213: the only address used is 127.213.0.1, on a port the kernel picks.

import { access, appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { canConnect, Daemon, LogTail, pollUntil, replaceFile, runCommand, STDERR_KEEP_BYTES, timerDelay } from './process.js';

const IP = '127.213.0.1';
const daemons: Daemon[] = [];
let dir = '';

/** A shell script run as a daemon, SIGKILLed after the test if still running. */
function sh(script: string): Daemon {
  const daemon = new Daemon('/bin/sh', ['-c', script], timerDelay);
  daemons.push(daemon);
  return daemon;
}

/** Waits (bounded) until the daemon said `text` on stderr. */
async function said(daemon: Daemon, text: string): Promise<void> {
  const ok = await pollUntil(() => daemon.stderr.includes(text), { timeoutMs: 10_000, delay: timerDelay, abort: () => daemon.exited });
  if (!ok) throw new Error(`never said ${text}: ${daemon.stderr}`);
}

/** True once pid is gone or a zombie (an orphan nobody reaped yet is dead all the same). */
async function dead(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hopwatch-process-'));
});

afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.terminate('SIGKILL', 5000)));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pollUntil', () => {
  it('checks until the check holds, waiting between rounds', async () => {
    let calls = 0;
    const waits: number[] = [];
    const ok = await pollUntil(() => ++calls === 3, { timeoutMs: 1000, delay: async (ms) => void waits.push(ms) });
    expect(ok).toBe(true);
    expect(waits).toEqual([20, 20]);
  });

  it('gives up after timeoutMs worth of rounds, with one last check', async () => {
    let calls = 0;
    const ok = await pollUntil(async () => (calls++, false), { timeoutMs: 100, delay: async () => undefined });
    expect(ok).toBe(false);
    expect(calls).toBe(6);
  });

  it('stops at once when aborted, without checking again', async () => {
    let calls = 0;
    let rounds = 0;
    const ok = await pollUntil(() => (calls++, false), { timeoutMs: 10_000, delay: async () => void rounds++, abort: () => rounds === 2 });
    expect(ok).toBe(false);
    expect(calls).toBe(2);
  });
});

describe('Daemon', () => {
  it('keeps the last bytes of stderr and knows when the process exited', async () => {
    const daemon = sh(`head -c ${STDERR_KEEP_BYTES * 2} /dev/zero | tr '\\0' x >&2; echo last-words >&2; exit 3`);
    expect(await daemon.waitExit(10_000)).toBe(true);
    expect(daemon.exited).toBe(true);
    expect(daemon.child.exitCode).toBe(3);
    expect(daemon.stderr).toHaveLength(STDERR_KEEP_BYTES);
    expect(daemon.stderr.endsWith('xxlast-words\n')).toBe(true);
  });

  it('reports a binary that cannot run as exited, with the reason in stderr', async () => {
    const daemon = new Daemon(join(dir, 'no-such-binary'), [], timerDelay);
    await daemon.exit;
    expect(daemon.exited).toBe(true);
    expect(daemon.pid).toBe(-1);
    expect(daemon.stderr).toMatch(/ENOENT/);
    expect(await daemon.terminate('SIGTERM', 1000)).toBe(true);
  });

  it('terminate: the gentle signal is enough for a process that obeys it', async () => {
    const daemon = sh('echo ready >&2; exec sleep 30');
    await said(daemon, 'ready');
    expect(await daemon.terminate('SIGTERM', 10_000)).toBe(true);
    expect(daemon.child.signalCode).toBe('SIGTERM');
  });

  it('terminate: SIGKILL after the grace, for the process and the pids alsoKill names', async () => {
    // The shell and its background child ignore SIGTERM; the child prints its pid.
    const daemon = sh("trap '' TERM; sleep 30 & echo child=$! >&2; wait");
    await said(daemon, '\n');
    const child = Number(/child=(\d+)/.exec(daemon.stderr)?.[1]);
    expect(child).toBeGreaterThan(0);
    expect(await daemon.terminate('SIGTERM', 100, async () => [child])).toBe(true);
    expect(daemon.child.signalCode).toBe('SIGKILL');
    expect(await pollUntil(() => dead(child), { timeoutMs: 10_000, delay: timerDelay })).toBe(true);
  });
});

describe('LogTail', () => {
  it('reads only complete lines appended after it opened, each once', async () => {
    const path = join(dir, 'tail.log');
    const missing = await LogTail.open(path);
    expect(await missing.read()).toEqual([]);
    await appendFile(path, 'before\n');
    const tail = await LogTail.open(path);
    await appendFile(path, 'one\ntw');
    expect(await tail.read()).toEqual(['one']);
    await appendFile(path, 'o\n');
    expect(await tail.read()).toEqual(['two']);
    expect(await tail.read()).toEqual([]);
    // Opened on a missing file, it starts from the beginning once the file appears.
    expect(await missing.read()).toEqual(['before', 'one', 'two']);
  });
});

describe('replaceFile', () => {
  it('puts a vetted candidate in place; a rejected one leaves the old file and no candidate', async () => {
    const path = join(dir, 'app.conf');
    await replaceFile(path, 'one');
    const vetted: string[] = [];
    await replaceFile(path, 'two', async (candidate) => void vetted.push(await readFile(candidate, 'utf8')));
    expect(vetted).toEqual(['two']);
    expect(await readFile(path, 'utf8')).toBe('two');
    const rejected = replaceFile(path, 'three', async () => {
      throw new Error('bad config');
    });
    await expect(rejected).rejects.toThrow('bad config');
    expect(await readFile(path, 'utf8')).toBe('two');
    await expect(access(`${path}.next`)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('canConnect', () => {
  it('is true while something listens and false once it closed', async () => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen({ host: IP, port: 0 }, () => resolve()));
    const { port } = server.address() as net.AddressInfo;
    try {
      expect(await canConnect(IP, port)).toBe(true);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(await canConnect(IP, port)).toBe(false);
  });
});

describe('runCommand', () => {
  it('gives the exit code and both outputs, and never rejects', async () => {
    const failed = await runCommand('/bin/sh', ['-c', 'echo out; echo err >&2; exit 2']);
    expect(failed).toMatchObject({ stdout: 'out\n', stderr: 'err\n' });
    expect(failed.error?.code).toBe(2);
    expect((await runCommand('/bin/sh', ['-c', 'true'])).error).toBeNull();
    expect((await runCommand(join(dir, 'no-such-binary'), [])).error?.code).toBe('ENOENT');
  });
});
