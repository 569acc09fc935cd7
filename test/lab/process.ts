// What the lab's process runners (nginx.ts, haproxy.ts, dns.ts) share: a foreground daemon
// spawned with its stderr piped, a bounded poll loop, stop by a signal then SIGKILL after a
// bound, a tail of a log file, a TCP readiness check and a bounded one-shot command.
// Each runner keeps what is its own: its command line, how it knows it is ready or reloaded,
// and its error class (the functions here report with values, never with lab errors).

import { type ChildProcess, type ExecFileException, execFile, spawn } from 'node:child_process';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';

/** Waits between polls of a runner (injected, so a runner's tests may pass their own). */
export type DelayFn = (ms: number) => Promise<void>;

/** How often the runners poll (logs, readiness, exits). */
export const POLL_MS = 20;
/** How much of a daemon's stderr is kept for error messages. */
export const STDERR_KEEP_BYTES = 8192;
/** How long a daemon gets to die after SIGKILL before it counts as a survivor. */
const KILL_WAIT_MS = 5000;

/** The default delay: a timer. */
export const timerDelay: DelayFn = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** What pollUntil needs. */
export interface PollOptions {
  /** Rounds of POLL_MS add up to about this; at least one round. */
  timeoutMs: number;
  /** Waits between rounds. */
  delay: DelayFn;
  /** Stops polling at once, with false (the daemon exited, say). */
  abort?: () => boolean;
}

/**
 * Calls `check` every POLL_MS until it holds, `abort` does, or timeoutMs worth of rounds passed,
 * then checks one last time unless aborted; true when `check` held.
 */
export async function pollUntil(check: () => boolean | Promise<boolean>, options: PollOptions): Promise<boolean> {
  const aborted = options.abort ?? (() => false);
  const rounds = Math.max(1, Math.ceil(options.timeoutMs / POLL_MS));
  for (let i = 0; i < rounds; i++) {
    if (aborted()) return false;
    if (await check()) return true;
    await options.delay(POLL_MS);
  }
  return !aborted() && (await check());
}

/** Sends a signal to a pid, ignoring a process already gone; never signals pid <= 0 (a process group or every process). */
export function signalPid(pid: number, name: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(pid, name);
  } catch {
    // Already gone: nothing to signal.
  }
}

/** A daemon run in the foreground with its stderr piped: pid, exit and the last bytes it said. */
export class Daemon {
  /** The child process. */
  readonly child: ChildProcess;
  /** Resolves when the process exited (or failed to spawn). */
  readonly exit: Promise<void>;
  readonly #delay: DelayFn;
  #exited = false;
  #stderr = '';

  /** Spawns `binary args` (stdin and stdout ignored); waits use `delay`. */
  constructor(binary: string, args: readonly string[], delay: DelayFn) {
    this.#delay = delay;
    this.child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr?.on('data', (chunk: Buffer) => this.#keep(chunk.toString('utf8')));
    this.exit = new Promise((resolve) => {
      this.child.once('exit', () => {
        this.#exited = true;
        resolve();
      });
      // A spawn failure (binary missing) emits 'error' and maybe no 'exit'.
      this.child.once('error', (error) => {
        this.#keep(` ${error.message}`);
        this.#exited = true;
        resolve();
      });
    });
  }

  /** The pid; -1 when the spawn failed. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** True once the process has exited (or failed to spawn). */
  get exited(): boolean {
    return this.#exited;
  }

  /** The last STDERR_KEEP_BYTES of stderr (and a spawn error's message). */
  get stderr(): string {
    return this.#stderr;
  }

  #keep(text: string): void {
    this.#stderr = (this.#stderr + text).slice(-STDERR_KEEP_BYTES);
  }

  /** Waits (bounded) for the exit; true when it exited. */
  async waitExit(timeoutMs: number): Promise<boolean> {
    const rounds = Math.max(1, Math.ceil(timeoutMs / POLL_MS));
    for (let i = 0; i < rounds && !this.#exited; i++) {
      await Promise.race([this.exit, this.#delay(POLL_MS)]);
    }
    return this.#exited;
  }

  /**
   * Sends `gentle`, waits up to graceMs, then SIGKILLs the process and the pids `alsoKill`
   * names (a master's workers, which killing the master alone would orphan).
   * Resolves true once it is gone, false when it survived SIGKILL too.
   */
  async terminate(gentle: NodeJS.Signals, graceMs: number, alsoKill?: () => Promise<Iterable<number>>): Promise<boolean> {
    if (this.#exited) return true;
    signalPid(this.pid, gentle);
    if (await this.waitExit(graceMs)) return true;
    const others = alsoKill ? [...(await alsoKill())] : [];
    signalPid(this.pid, 'SIGKILL');
    for (const pid of others) signalPid(pid, 'SIGKILL');
    return this.waitExit(KILL_WAIT_MS);
  }
}

/** New complete lines of a log file, read from where it ended when watching began. */
export class LogTail {
  #offset: number;
  #partial = '';
  readonly #path: string;

  private constructor(path: string, offset: number) {
    this.#path = path;
    this.#offset = offset;
  }

  /** Watches `path` from its current end (a missing file counts as empty). */
  static async open(path: string): Promise<LogTail> {
    return new LogTail(path, await fileSize(path));
  }

  /** The complete lines appended since the last call (none while the file is missing). */
  async read(): Promise<string[]> {
    let handle;
    try {
      handle = await open(this.#path, 'r');
    } catch {
      return [];
    }
    try {
      const size = (await handle.stat()).size;
      if (size <= this.#offset) return [];
      const buffer = Buffer.alloc(size - this.#offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.#offset);
      this.#offset += bytesRead;
      const lines = (this.#partial + buffer.subarray(0, bytesRead).toString('utf8')).split('\n');
      this.#partial = lines.pop() ?? '';
      return lines;
    } finally {
      await handle.close();
    }
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    const handle = await open(path, 'r');
    try {
      return (await handle.stat()).size;
    } finally {
      await handle.close();
    }
  } catch {
    return 0;
  }
}

/** True when address:port accepts a TCP connection within a second (closed again at once). */
export function canConnect(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/**
 * Replaces a file whole: writes `text` to `<path>.next`, lets `check` vet that candidate
 * (`nginx -t`, `haproxy -c`), then renames it over `path`, so a reader sees the old file or the
 * new one, never half of one. A candidate `check` rejects is removed, `path` is left as it was,
 * and the error is rethrown.
 */
export async function replaceFile(path: string, text: string, check?: (candidate: string) => Promise<void>): Promise<void> {
  const candidate = `${path}.next`;
  await writeFile(candidate, text);
  try {
    await check?.(candidate);
  } catch (error) {
    await rm(candidate, { force: true });
    throw error;
  }
  await rename(candidate, path);
}

/** How a one-shot command ended. */
export interface CommandResult {
  /** Null when it exited 0; otherwise why not (exit code, signal, timeout, missing binary). */
  error: ExecFileException | null;
  /** What it printed on stdout. */
  stdout: string;
  /** What it printed on stderr. */
  stderr: string;
}

/** Runs a command to its end (at most 30 s and 1 MiB of output, like `nginx -t`); never rejects. */
export function runCommand(binary: string, args: readonly string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(binary, args, { timeout: 30_000, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ error, stdout, stderr });
    });
  });
}
