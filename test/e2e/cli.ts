// Runs the real `hopwatch` binary (bin/hopwatch.js over the built dist/) as a user would.

import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../lab/lab.js';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What a run of the binary gave. */
export interface CliResult {
  /** Exit code. */
  code: number | null;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** How to run a process. */
export interface ProcessOptions {
  /** Working directory; default the repository root. */
  cwd?: string;
  /** The whole environment; default this process's. */
  env?: NodeJS.ProcessEnv;
  /** Bound of the run; default 60 s. */
  timeoutMs?: number;
  /** Sent at the bound; default SIGKILL (SIGTERM lets a script's trap clean up). */
  killSignal?: NodeJS.Signals;
}

/** Runs a process to completion (bounded), collecting stdout, stderr and both interleaved as they came. */
export function runProcess(command: string, args: string[], options: ProcessOptions = {}): Promise<CliResult & { output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => ((stdout += chunk.toString()), (output += chunk.toString())));
    child.stderr.on('data', (chunk: Buffer) => ((stderr += chunk.toString()), (output += chunk.toString())));
    const timer = setTimeout(() => child.kill(options.killSignal ?? 'SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, output });
    });
  });
}

/** Runs `hopwatch ...args` to completion (bounded by timeoutMs). */
export function runHopwatch(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return runProcess(process.execPath, [join(ROOT, 'bin/hopwatch.js'), ...args], {
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}

/** A running `hopwatch` whose output can be watched as it comes. */
export interface RunningHopwatch {
  /** Resolves once `pattern` appears on stdout or stderr (rejects when the process exits first or after timeoutMs). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** The run's end. */
  done: Promise<CliResult>;
}

/** Starts `hopwatch ...args` (bounded by 60 s) and lets the caller wait for a line of its output. */
export function startHopwatch(args: string[]): RunningHopwatch {
  const child = spawn(process.execPath, [join(ROOT, 'bin/hopwatch.js'), ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const changed = (): void => listeners.forEach((l) => l());
  child.stdout.on('data', (chunk: Buffer) => ((stdout += chunk.toString()), changed()));
  child.stderr.on('data', (chunk: Buffer) => ((stderr += chunk.toString()), changed()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      changed();
      resolve({ code, stdout, stderr });
    });
  });
  let exited = false;
  void done.then(() => (exited = true), () => (exited = true));
  const waitFor = (pattern: RegExp, timeoutMs = 30_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const match = pattern.exec(stdout + stderr);
        if (match !== null) return finish(() => resolve(match[0]));
        if (exited) finish(() => reject(new Error(`hopwatch exited before printing ${pattern}: ${stderr}`)));
      };
      const bound = setTimeout(() => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms: ${stderr}`))), timeoutMs);
      const finish = (settle: () => void): void => {
        clearTimeout(bound);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });
  return { waitFor, done };
}

/** Writes the lab's hopwatch configuration into the lab's directory; returns its path. */
export async function writeLabConfig(lab: Lab, name = 'hopwatch.yaml'): Promise<string> {
  const path = join(lab.dir, name);
  await writeFile(path, lab.hopwatchConfig());
  return path;
}
