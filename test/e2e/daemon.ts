// Runs `hopwatch run` as a child process against a lab, as a user would: config file, signals,
// the URL read from its log.

import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Lab } from '../lab/lab.js';
import { ROOT } from './cli.js';

/** A running `hopwatch run`. */
export interface DaemonProcess {
  /** Base URL of its server. */
  url: string;
  /** The child. */
  child: ChildProcess;
  /** Everything it logged so far. */
  log(): string;
  /** Sends a signal and waits for the exit (bounded); resolves to the exit code or signal. */
  stop(signal?: NodeJS.Signals): Promise<number | string | null>;
}

/** Writes a daemon config for the lab: the lab's cluster and controllers plus `extra` sections. */
export async function writeDaemonConfig(lab: Lab, name: string, extra: Record<string, unknown>): Promise<string> {
  const config = { ...(parse(lab.hopwatchConfig()) as Record<string, unknown>), ...extra };
  const path = join(lab.dir, name);
  await writeFile(path, stringify(config));
  return path;
}

/** Starts `hopwatch run --config path --listen 127.0.0.1:0` and waits until it serves. */
export function startDaemonProcess(configPath: string, env: NodeJS.ProcessEnv = {}): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/hopwatch.js'), 'run', '--config', configPath, '--listen', '127.0.0.1:0'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hopwatch run did not start:\n${output}`));
    }, 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /serving (http:\/\/[\d.]+:\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        url: match[1] as string,
        child,
        log: () => output,
        stop: async (signal = 'SIGTERM') => {
          child.kill(signal);
          const bound = new Promise<string>((r) => setTimeout(() => r('timeout'), 20_000));
          const result = await Promise.race([exited, bound]);
          if (result === 'timeout') child.kill('SIGKILL');
          return result;
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`hopwatch run exited (${String(code)}):\n${output}`));
    });
  });
}

/** GET a JSON document. */
export async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as T };
}

/** Polls until check() returns a value (not undefined/false), bounded; `describe` says what was seen last on failure. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 20_000, describe: () => Promise<string> = async () => ''): Promise<T> {
  const until = Date.now() + timeoutMs;
  const everyMs = 200;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''} ${await describe().catch(String)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
