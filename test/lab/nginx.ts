// A real nginx process for one lab controller pod: /usr/sbin/nginx in the foreground
// (`daemon off`, master process on) with its prefix, pid, logs and temp paths inside its own
// directory. The config comes from renderNginxConfig; this module only runs it.
//
// How a reload is known to be live: the master logs at notice level (the rendered error_log
// level) "reconfiguring", then "start worker process N" for each new worker, and only then tells
// the old workers to quit; each old worker logs "gracefully shutting down" right before it closes
// its listening sockets. So once every old worker has logged that (or is gone), only workers with
// the new config accept connections. A config the master fails to apply logs "[emerg]" instead
// and the old workers keep serving.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isLoopback } from './addresses.js';
import { LabNginxError, type NginxPaths, nginxPaths } from './nginx-config.js';
import { StepQueue } from './pods.js';
import { canConnect, Daemon, type DelayFn, LogTail, pollUntil, replaceFile, runCommand, timerDelay } from './process.js';

/** The Debian nginx binary. */
export const NGINX_BINARY = '/usr/sbin/nginx';

/** What startNginx needs. */
export interface NginxOptions {
  /** Name of the controller pod (for messages). */
  name: string;
  /** Prefix directory (`nginx -p`); created when missing; nothing in it is ever removed. */
  dir: string;
  /** The initial nginx.conf text, rendered for this `dir` (see renderNginxConfig). */
  config: string;
  /** Where the config listens: start resolves only once it accepts TCP connections. */
  listen?: { address: string; port: number };
  /** The nginx binary; default /usr/sbin/nginx. */
  binary?: string;
  /** Longest wait for the workers to start; default 15000. */
  startTimeoutMs?: number;
  /** Longest wait for a reload to go live; default 15000. */
  reloadTimeoutMs?: number;
  /** How long stop() waits after SIGQUIT before SIGKILL; default 5000. */
  stopTimeoutMs?: number;
  /** Waits between polls of the error log; default a timer. */
  delay?: (ms: number) => Promise<void>;
}

/** A running nginx master with its workers. */
export interface NginxInstance {
  /** Name of the controller pod. */
  readonly name: string;
  /** The master's pid. */
  readonly pid: number;
  /** Where its files are. */
  readonly paths: NginxPaths;
  /** Pids of the workers currently accepting connections (as the error log tells). */
  readonly workerPids: readonly number[];
  /** True once the master has exited. */
  readonly exited: boolean;
  /** Writes the config, checks it with `nginx -t`, sends SIGHUP; resolves once it is live. Calls run in order. */
  reload(config: string): Promise<void>;
  /** SIGQUIT, then SIGKILL (master and workers) after stopTimeoutMs; resolves when the master is gone. */
  stop(): Promise<void>;
}

/** The `user` directive workers need: as root, run them as root (the prefix dir may be closed to `nobody`); otherwise none. */
export function nginxWorkerUser(uid: number = process.getuid?.() ?? -1): string | null {
  return uid === 0 ? 'root root' : null;
}

/** Runs `nginx -t` on a config file; throws LAB_NGINX_CONFIG with nginx's own message when it fails. */
export async function testNginxConfig(configFile: string, dir: string, binary: string = NGINX_BINARY): Promise<void> {
  const { error, stderr } = await runCommand(binary, ['-t', '-q', '-p', withSlash(dir), '-c', configFile]);
  if (error === null) return;
  // A non-numeric code means nginx never ran to an exit status (missing binary, timeout): say why.
  const code = typeof error.code === 'number' ? error.code : 1;
  const why = `${stderr}${typeof error.code !== 'number' ? ` ${error.message}` : ''}`.trim() || `exit ${code}`;
  throw new LabNginxError('LAB_NGINX_CONFIG', `nginx -t rejected ${configFile}: ${why}`);
}

function withSlash(dir: string): string {
  return dir.endsWith('/') ? dir : `${dir}/`;
}

/** Starts nginx on the config; resolves once its workers run (and `listen` accepts, when given). */
export async function startNginx(options: NginxOptions): Promise<NginxInstance> {
  if (options.listen && !isLoopback(options.listen.address)) {
    throw new LabNginxError('LAB_BAD_ADDRESS', `nginx ${options.name} may only listen on loopback, got ${options.listen.address}`);
  }
  const paths = nginxPaths(options.dir);
  await mkdir(options.dir, { recursive: true });
  await writeFile(paths.config, options.config);
  const binary = options.binary ?? NGINX_BINARY;
  await testNginxConfig(paths.config, options.dir, binary);
  const log = await LogTail.open(paths.errorLog);
  const delay = options.delay ?? timerDelay;
  const daemon = new Daemon(binary, ['-p', withSlash(options.dir), '-c', paths.config], delay);
  const instance = new Nginx(options, paths, daemon, log, delay);
  try {
    await instance.waitStarted(options.startTimeoutMs ?? 15_000);
    if (options.listen) await instance.waitAccepting(options.listen, options.startTimeoutMs ?? 15_000);
  } catch (error) {
    await instance.stop();
    throw error;
  }
  return instance;
}

/** What one error log line says about processes. */
type LogEvent =
  | { kind: 'worker-started'; pid: number }
  | { kind: 'worker-exited'; pid: number }
  | { kind: 'shutting-down'; pid: number }
  | { kind: 'reconfiguring' }
  | { kind: 'fatal'; line: string }
  | { kind: 'other' };

/** Parses "2024/01/01 00:00:00 [notice] 12#12: start worker process 13" and friends. */
export function parseErrorLogLine(line: string): LogEvent {
  const match = /^\S+ \S+ \[(\w+)\] (\d+)#\d+: (.*)$/.exec(line);
  if (!match) return { kind: 'other' };
  const [, level, pid, message] = match as unknown as [string, string, string, string];
  if (level === 'emerg' || level === 'alert') return { kind: 'fatal', line };
  const started = /^start worker process (\d+)$/.exec(message);
  if (started) return { kind: 'worker-started', pid: Number(started[1]) };
  const exited = /^worker process (\d+) exited/.exec(message);
  if (exited) return { kind: 'worker-exited', pid: Number(exited[1]) };
  if (message === 'gracefully shutting down') return { kind: 'shutting-down', pid: Number(pid) };
  if (message === 'reconfiguring') return { kind: 'reconfiguring' };
  return { kind: 'other' };
}

/** What a reload waits for, updated line by line. */
interface ReloadProgress {
  reconfigured: boolean;
  newWorkers: number;
  oldWorkers: Set<number>;
  fatal: string | null;
}

class Nginx implements NginxInstance {
  readonly name: string;
  readonly paths: NginxPaths;
  readonly #daemon: Daemon;
  readonly #log: LogTail;
  readonly #options: NginxOptions;
  readonly #delay: DelayFn;
  readonly #workers = new Set<number>();
  #fatal: string[] = [];
  readonly #reloads: StepQueue;
  #stopping: Promise<void> | null = null;
  #progress: ReloadProgress | null = null;

  constructor(options: NginxOptions, paths: NginxPaths, daemon: Daemon, log: LogTail, delay: DelayFn) {
    this.name = options.name;
    this.paths = paths;
    this.#options = options;
    this.#daemon = daemon;
    this.#log = log;
    this.#delay = delay;
    this.#reloads = new StepQueue(`nginx ${options.name}`);
  }

  get pid(): number {
    return this.#daemon.pid;
  }

  get workerPids(): readonly number[] {
    return [...this.#workers];
  }

  get exited(): boolean {
    return this.#daemon.exited;
  }

  /** Applies new error log lines to the worker set and to a reload in progress. */
  async #drainLog(): Promise<void> {
    for (const line of await this.#log.read()) {
      const event = parseErrorLogLine(line);
      const progress = this.#progress;
      switch (event.kind) {
        case 'worker-started':
          this.#workers.add(event.pid);
          if (progress?.reconfigured) progress.newWorkers++;
          break;
        case 'worker-exited':
        case 'shutting-down':
          this.#workers.delete(event.pid);
          progress?.oldWorkers.delete(event.pid);
          break;
        case 'reconfiguring':
          if (progress) progress.reconfigured = true;
          break;
        case 'fatal':
          this.#fatal.push(event.line);
          if (progress?.reconfigured) progress.fatal = event.line;
          break;
        case 'other':
          break;
      }
    }
  }

  /** Polls (bounded) until `done` holds, reading the error log before each check; false when it never did. */
  #pollLogUntil(timeoutMs: number, done: () => boolean): Promise<boolean> {
    const check = async (): Promise<boolean> => {
      await this.#drainLog();
      return done();
    };
    return pollUntil(check, { timeoutMs, delay: this.#delay });
  }

  /** Waits for the first workers; throws LAB_NGINX_START with nginx's words when it exits or hangs. */
  async waitStarted(timeoutMs: number): Promise<void> {
    const ok = await this.#pollLogUntil(timeoutMs, () => this.#workers.size > 0 || this.exited);
    if (ok && !this.exited) return;
    const why = this.exited ? 'exited' : `started no worker within ${timeoutMs} ms`;
    throw new LabNginxError('LAB_NGINX_START', `nginx ${this.name} ${why}: ${this.#diagnostics()}`);
  }

  /** Waits until `listen` accepts a TCP connection. */
  async waitAccepting(listen: { address: string; port: number }, timeoutMs: number): Promise<void> {
    const check = (): Promise<boolean> => canConnect(listen.address, listen.port);
    if (await pollUntil(check, { timeoutMs, delay: this.#delay, abort: () => this.exited })) return;
    throw new LabNginxError('LAB_NGINX_START', `nginx ${this.name} does not accept on ${listen.address}:${listen.port}: ${this.#diagnostics()}`);
  }

  #diagnostics(): string {
    return [...this.#fatal, this.#daemon.stderr.trim()].filter((text) => text !== '').join(' | ') || 'no message';
  }

  reload(config: string): Promise<void> {
    return this.#reloads.run(() => this.#reload(config));
  }

  async #reload(config: string): Promise<void> {
    if (this.exited || this.#stopping) throw new LabNginxError('LAB_NGINX_STOPPED', `nginx ${this.name} is not running`);
    await replaceFile(this.paths.config, config, (candidate) => testNginxConfig(candidate, this.paths.dir, this.#options.binary ?? NGINX_BINARY));
    await this.#drainLog();
    const progress: ReloadProgress = { reconfigured: false, newWorkers: 0, oldWorkers: new Set(this.#workers), fatal: null };
    this.#progress = progress;
    try {
      process.kill(this.pid, 'SIGHUP');
      await this.#awaitReload(progress);
    } finally {
      this.#progress = null;
    }
  }

  async #awaitReload(progress: ReloadProgress): Promise<void> {
    const timeoutMs = this.#options.reloadTimeoutMs ?? 15_000;
    const live = (): boolean => {
      // An old worker that died without a log line still counts as gone.
      for (const pid of progress.oldWorkers) if (!isAlive(pid)) progress.oldWorkers.delete(pid);
      return progress.reconfigured && progress.newWorkers > 0 && progress.oldWorkers.size === 0;
    };
    const done = await this.#pollLogUntil(timeoutMs, () => live() || progress.fatal !== null || this.exited);
    if (progress.fatal !== null) throw new LabNginxError('LAB_NGINX_RELOAD', `nginx ${this.name} kept its old config: ${progress.fatal}`);
    if (this.exited) throw new LabNginxError('LAB_NGINX_STOPPED', `nginx ${this.name} exited during reload: ${this.#diagnostics()}`);
    if (!done) throw new LabNginxError('LAB_NGINX_RELOAD', `nginx ${this.name}: reload not live within ${timeoutMs} ms`);
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    // Past the grace, the workers die with the master: killing the master alone orphans them.
    const workers = async (): Promise<Set<number>> => {
      await this.#drainLog();
      return new Set([...this.#workers, ...(await childPids(this.pid))]);
    };
    if (await this.#daemon.terminate('SIGQUIT', this.#options.stopTimeoutMs ?? 5000, workers)) return;
    throw new LabNginxError('LAB_NGINX_STOPPED', `nginx ${this.name} (pid ${this.pid}) survived SIGKILL`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else (workers of a root master seen by a non-root test).
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
}

/** The direct children of a process, from /proc (empty when unavailable). */
async function childPids(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text
      .split(/\s+/)
      .filter((part) => part !== '')
      .map(Number);
  } catch {
    return [];
  }
}
