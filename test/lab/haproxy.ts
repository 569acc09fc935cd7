// A real HAProxy process for one lab controller pod: /usr/sbin/haproxy in the foreground (-db)
// with its config in its own directory. The config comes from renderHaproxyConfig; this module
// only runs it.
//
// How a reload goes live without a gap: a new process starts on the new config with -sf <old pid>;
// it binds the same address beside the old one (SO_REUSEPORT, HAProxy's default on Linux), and once
// it is ready it tells the old process to stop listening and finish (soft stop, bounded by the
// config's hard-stop-after). When the old process has exited, only the new config accepts
// connections. A new process that fails (bad config, bind error) exits, and the old one keeps serving.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isLoopback } from './addresses.js';
import { LabHaproxyError } from './haproxy-config.js';
import { StepQueue } from './pods.js';
import { canConnect, Daemon, type DelayFn, pollUntil, replaceFile, runCommand, timerDelay } from './process.js';

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

/** How long stop() waits after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5000;

/** Runs `haproxy -c`; throws LAB_HAPROXY_CONFIG with haproxy's own message when it fails. */
export async function testHaproxyConfig(configFile: string, binary: string = HAPROXY_BINARY): Promise<void> {
  const { error, stdout, stderr } = await runCommand(binary, ['-c', '-q', '-f', configFile]);
  if (error === null) return;
  const why = `${stderr}${stdout}`.trim() || error.message;
  throw new LabHaproxyError('LAB_HAPROXY_CONFIG', `haproxy -c rejected ${configFile}: ${why}`, { cause: error });
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

class Haproxy implements HaproxyInstance {
  readonly name: string;
  readonly configPath: string;
  readonly #options: HaproxyOptions;
  readonly #delay: DelayFn;
  /** Every process started and not known to have exited; the last is the current one. */
  readonly #processes: Daemon[] = [];
  readonly #reloads: StepQueue;
  #stopping: Promise<void> | null = null;

  constructor(options: HaproxyOptions, configPath: string) {
    this.name = options.name;
    this.configPath = configPath;
    this.#options = options;
    this.#delay = options.delay ?? timerDelay;
    this.#reloads = new StepQueue(`haproxy ${options.name}`);
  }

  get #current(): Daemon | undefined {
    return this.#processes[this.#processes.length - 1];
  }

  get pid(): number {
    return this.#current?.pid ?? -1;
  }

  get exited(): boolean {
    return this.#current?.exited ?? true;
  }

  /** Starts a process on the config file (taking over from `previous`); resolves once it alone serves. */
  async launch(previous: Daemon[]): Promise<void> {
    const takeOver = previous.filter((p) => !p.exited).map((p) => String(p.pid));
    const args = ['-db', '-f', this.configPath, ...(takeOver.length > 0 ? ['-sf', ...takeOver] : [])];
    const next = new Daemon(this.#options.binary ?? HAPROXY_BINARY, args, this.#delay);
    this.#processes.push(next);
    const timeoutMs = this.#options.timeoutMs ?? 15_000;
    const gone = await pollUntil(() => next.exited || previous.every((p) => p.exited), { timeoutMs, delay: this.#delay });
    if (next.exited) {
      this.#forget(next);
      throw new LabHaproxyError('LAB_HAPROXY_START', `haproxy ${this.name} exited: ${next.stderr.trim() || 'no message'}`);
    }
    if (!gone) throw new LabHaproxyError('LAB_HAPROXY_RELOAD', `haproxy ${this.name}: the old process did not finish within ${timeoutMs} ms`);
    for (const p of previous) this.#forget(p);
    const { address, port } = this.#options.listen;
    if (!(await pollUntil(() => canConnect(address, port), { timeoutMs, delay: this.#delay, abort: () => next.exited }))) {
      throw new LabHaproxyError('LAB_HAPROXY_START', `haproxy ${this.name} does not accept on ${address}:${port}: ${next.stderr.trim() || 'no message'}`);
    }
  }

  #forget(process: Daemon): void {
    const index = this.#processes.indexOf(process);
    if (index >= 0) this.#processes.splice(index, 1);
  }

  reload(config: string): Promise<void> {
    return this.#reloads.run(() => this.#reload(config));
  }

  async #reload(config: string): Promise<void> {
    if (this.#stopping || this.exited) throw new LabHaproxyError('LAB_HAPROXY_STOPPED', `haproxy ${this.name} is not running`);
    await replaceFile(this.configPath, config, (candidate) => testHaproxyConfig(candidate, this.#options.binary));
    await this.launch([...this.#processes]);
  }

  stop(): Promise<void> {
    // After the reloads already queued; those queued later find it stopping.
    this.#stopping ??= this.#reloads.run(() => this.#stop());
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const processes = [...this.#processes];
    const gone = await Promise.all(processes.map((p) => p.terminate('SIGTERM', STOP_GRACE_MS)));
    const survivors = processes.filter((_, i) => !gone[i]).map((p) => p.pid);
    if (survivors.length > 0) throw new LabHaproxyError('LAB_HAPROXY_STOPPED', `haproxy ${this.name} (pids ${survivors.join(', ')}) survived SIGKILL`);
  }
}
