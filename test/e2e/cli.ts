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

/** Writes the lab's hopwatch configuration into the lab's directory; returns its path. */
export async function writeLabConfig(lab: Lab, name = 'hopwatch.yaml'): Promise<string> {
  const path = join(lab.dir, name);
  await writeFile(path, lab.hopwatchConfig());
  return path;
}
