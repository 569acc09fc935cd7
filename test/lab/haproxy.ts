// A real HAProxy process for one lab controller pod: /usr/sbin/haproxy in the foreground (-db)
// with its config in its own directory. The config comes from renderHaproxyConfig; this module
// only runs it.
//
// How a reload goes live without a gap: a new process starts on the new config with -sf <old pid>;
// it binds the same address beside the old one (SO_REUSEPORT, HAProxy's default on Linux), and once
// it is ready it tells the old process to stop listening and finish (soft stop, bounded by the
// config's hard-stop-after). When the old process has exited, only the new config accepts
// connections. A new process that fails (bad config, bind error) exits, and the old one keeps serving.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { join } from 'node:path';
import { isLoopback } from './addresses.js';
import { LabHaproxyError } from './haproxy-config.js';

/** The Debian haproxy binary. */
export const HAPROXY_BINARY = '/usr/sbin/haproxy';

/** What startHaproxy needs. */
export interface HaproxyOptions {
  /** Name of the controller pod (for messages). */
  name: string;
  /** Directory for haproxy.cfg; created when missing. */
  dir: string;
  /** The initial config text (see renderHaproxyConfig). */
  config: string;
  /** Where the config listens: start and reload resolve only once it accepts TCP connections. */
  listen: { address: string; port: number };
  /** The haproxy binary; default /usr/sbin/haproxy. */
  binary?: string;
  /** Longest wait for a process to accept connections, and for a reload's old process to exit; default 15000. */
  timeoutMs?: number;
  /** Waits between polls; default a timer. */
  delay?: (ms: number) => Promise<void>;
}

/** A running HAProxy (the process serving the current config). */
export interface HaproxyInstance {
  /** Name of the controller pod. */
  readonly name: string;
  /** The pid of the process serving the current config. */
  readonly pid: number;
  /** Path of haproxy.cfg. */
  readonly configPath: string;
  /** True once the current process has exited. */
  readonly exited: boolean;
  /** Writes the config, checks it with `haproxy -c`, starts a process on it that takes over; resolves once it alone serves. Calls run in order. */
  reload(config: string): Promise<void>;
  /** SIGTERM (then SIGKILL) every process it started; resolves when they are gone. */
  stop(): Promise<void>;
}

const POLL_MS = 20;
const STDERR_KEEP_BYTES = 8192;
const defaultDelay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `haproxy -c`; throws LAB_HAPROXY_CONFIG with haproxy's own message when it fails. */
export function testHaproxyConfig(configFile: string, binary: string = HAPROXY_BINARY): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['-c', '-q', '-f', configFile], { timeout: 30_000, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) return resolve();
      const why = `${stderr}${stdout}`.trim() || error.message;
      reject(new LabHaproxyError('LAB_HAPROXY_CONFIG', `haproxy -c rejected ${configFile}: ${why}`, { cause: error }));
    });
  });
}

/** Starts haproxy on the config; resolves once it accepts connections on `listen`. */
export async function startHaproxy(options: HaproxyOptions): Promise<HaproxyInstance> {
  if (!isLoopback(options.listen.address)) throw new LabHaproxyError('LAB_BAD_ADDRESS', `haproxy ${options.name} may only listen on loopback, got ${options.listen.address}`);
  await mkdir(options.dir, { recursive: true });
  const configPath = join(options.dir, 'haproxy.cfg');
  await writeFile(configPath, options.config);
  await testHaproxyConfig(configPath, options.binary);
  const instance = new Haproxy(options, configPath);
  try {
    await instance.launch([]);
  } catch (error) {
    await instance.stop();
    throw error;
  }
  return instance;
}

/** One haproxy process and what it said on stderr. */
class Process {
  readonly child: ChildProcess;
  exited = false;
  stderr = '';
  readonly exit: Promise<void>;

  constructor(binary: string, args: string[]) {
    this.child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-STDERR_KEEP_BYTES);
    });
    this.exit = new Promise((resolve) => {
      this.child.once('exit', () => ((this.exited = true), resolve()));
      // A spawn failure (binary missing) emits 'error' and maybe no 'exit'.
      this.child.once('error', (error) => ((this.stderr += ` ${error.message}`), (this.exited = true), resolve()));
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }
}

class Haproxy implements HaproxyInstance {
  readonly name: string;
  readonly configPath: string;
  readonly #options: HaproxyOptions;
  readonly #delay: (ms: number) => Promise<void>;
  /** Every process started and not known to have exited; the last is the current one. */
  readonly #processes: Process[] = [];
  #reloads: Promise<void> = Promise.resolve();
  #stopping: Promise<void> | null = null;

  constructor(options: HaproxyOptions, configPath: string) {
    this.name = options.name;
    this.configPath = configPath;
    this.#options = options;
    this.#delay = options.delay ?? defaultDelay;
  }

  get #current(): Process | undefined {
    return this.#processes[this.#processes.length - 1];
  }

  get pid(): number {
    return this.#current?.pid ?? -1;
  }

  get exited(): boolean {
    return this.#current?.exited ?? true;
  }

  /** Starts a process on the config file (taking over from `previous`); resolves once it alone serves. */
  async launch(previous: Process[]): Promise<void> {
    const takeOver = previous.filter((p) => !p.exited).map((p) => String(p.pid));
    const args = ['-db', '-f', this.configPath, ...(takeOver.length > 0 ? ['-sf', ...takeOver] : [])];
    const next = new Process(this.#options.binary ?? HAPROXY_BINARY, args);
    this.#processes.push(next);
    const timeoutMs = this.#options.timeoutMs ?? 15_000;
    const gone = await this.#pollUntil(timeoutMs, () => next.exited || previous.every((p) => p.exited));
    if (next.exited) {
      this.#forget(next);
      throw new LabHaproxyError('LAB_HAPROXY_START', `haproxy ${this.name} exited: ${next.stderr.trim() || 'no message'}`);
    }
    if (!gone) throw new LabHaproxyError('LAB_HAPROXY_RELOAD', `haproxy ${this.name}: the old process did not finish within ${timeoutMs} ms`);
    for (const p of previous) this.#forget(p);
    const { address, port } = this.#options.listen;
    if (!(await this.#pollUntilAsync(timeoutMs, () => canConnect(address, port), () => next.exited))) {
      throw new LabHaproxyError('LAB_HAPROXY_START', `haproxy ${this.name} does not accept on ${address}:${port}: ${next.stderr.trim() || 'no message'}`);
    }
  }

  #forget(process: Process): void {
    const index = this.#processes.indexOf(process);
    if (index >= 0) this.#processes.splice(index, 1);
  }

  reload(config: string): Promise<void> {
    const next = this.#reloads.then(() => this.#reload(config));
    // A failed reload must not block the next one.
    this.#reloads = next.catch(() => undefined);
    return next;
  }

  async #reload(config: string): Promise<void> {
    if (this.#stopping || this.exited) throw new LabHaproxyError('LAB_HAPROXY_STOPPED', `haproxy ${this.name} is not running`);
    const candidate = `${this.configPath}.next`;
    await writeFile(candidate, config);
    try {
      await testHaproxyConfig(candidate, this.#options.binary);
    } catch (error) {
      await rm(candidate, { force: true });
      throw error;
    }
    await rename(candidate, this.configPath);
    await this.launch([...this.#processes]);
  }

  /** Polls until `done` holds, a bounded number of times; false when it never did. */
  async #pollUntil(timeoutMs: number, done: () => boolean): Promise<boolean> {
    const rounds = Math.max(1, Math.ceil(timeoutMs / POLL_MS));
    for (let i = 0; i < rounds; i++) {
      if (done()) return true;
      await this.#delay(POLL_MS);
    }
    return done();
  }

  /** Polls an async check until it holds or `abort` does; false when it never held. */
  async #pollUntilAsync(timeoutMs: number, check: () => Promise<boolean>, abort: () => boolean): Promise<boolean> {
    const rounds = Math.max(1, Math.ceil(timeoutMs / POLL_MS));
    for (let i = 0; i < rounds && !abort(); i++) {
      if (await check()) return true;
      await this.#delay(POLL_MS);
    }
    return false;
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    await this.#reloads;
    const processes = [...this.#processes];
    for (const p of processes) signal(p.pid, 'SIGTERM');
    if (await this.#pollUntil(5000, () => processes.every((p) => p.exited))) return;
    for (const p of processes) if (!p.exited) signal(p.pid, 'SIGKILL');
    if (!(await this.#pollUntil(5000, () => processes.every((p) => p.exited)))) {
      throw new LabHaproxyError('LAB_HAPROXY_STOPPED', `haproxy ${this.name} (pids ${processes.map((p) => p.pid).join(', ')}) survived SIGKILL`);
    }
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(pid, name);
  } catch {
    // Already gone: nothing to signal.
  }
}

function canConnect(address: string, port: number): Promise<boolean> {
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
