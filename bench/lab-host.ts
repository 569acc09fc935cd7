// The lab in its own process, driven over IPC. Benchmarks measure the CPU and memory of the process
// that probes (process.cpuUsage, heap, RSS); the lab's pods, Service forwarders and API server are
// Node servers too, so they run here, in a child, where their work is not counted as hopwatch's.
//
// Two shapes: a whole lab (startLab: pods, Services, real nginx, edge, dnsmasq) for probing, or an
// API server alone on a lab block for discovery at scale (15,000 objects would make nginx render
// and reload a config of that size, which is not what is measured).

import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { API_PORT, candidateBlocks, LabAddresses } from '../test/lab/addresses.js';
import { type LabObject, type LabObjectRef, LabApiServer } from '../test/lab/apiserver.js';
import { writeKubeconfig } from '../test/lab/kubeconfig.js';
import { type Lab, LAB_CONTEXT, type LabOptions, startLab } from '../test/lab/lab.js';
import type { LabSpec } from '../test/lab/spec.js';

/** What the parent learns about a started lab. */
export interface LabInfo {
  /** The lab's block B of 127.B.0.0/16. */
  block: number;
  /** kubeconfig of the lab's API server. */
  kubeconfigPath: string;
  /** hopwatch's configuration for the lab (YAML); empty for an API server alone. */
  hopwatchConfig: string;
  /** Every lab pod "ip:port" (none for an API server alone). */
  pods: string[];
}

/** Requests the parent sends. */
type HostRequest =
  | { id: number; op: 'startLab'; spec: LabSpec; options: LabOptions }
  | { id: number; op: 'startApi'; gatewayApi?: boolean }
  | { id: number; op: 'apply'; objects: LabObject[] }
  | { id: number; op: 'delete'; refs: LabObjectRef[] }
  | { id: number; op: 'cpu' }
  | { id: number; op: 'stop' };

/** A request before it gets its id (Omit distributed over the union). */
type HostOp = HostRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/** Replies of the child. */
type HostReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** A lab running in a child process. */
export class LabHost {
  #nextId = 1;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #exited = false;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (reply: HostReply) => {
      const waiter = this.#waiting.get(reply.id);
      if (waiter === undefined) return;
      this.#waiting.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(new Error(`lab host: ${reply.error}`));
    });
    child.once('exit', (code, signal) => {
      this.#exited = true;
      for (const waiter of this.#waiting.values()) waiter.reject(new Error(`lab host exited (${code ?? signal})`));
      this.#waiting.clear();
    });
  }

  /** Forks the child (the compiled module beside this one). */
  static spawn(): LabHost {
    const entry = fileURLToPath(import.meta.url);
    if (entry.endsWith('.ts')) throw new Error('the lab host runs compiled: run the benchmarks through bench/run.js');
    return new LabHost(fork(entry, ['--lab-host'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'advanced' }));
  }

  #request(op: HostOp): Promise<unknown> {
    if (this.#exited) return Promise.reject(new Error('lab host has exited'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.child.send({ ...op, id });
    });
  }

  /** Starts a whole lab running the scenario. */
  async startLab(spec: LabSpec, options: LabOptions = {}): Promise<LabInfo> {
    return (await this.#request({ op: 'startLab', spec, options })) as LabInfo;
  }

  /** Starts a lab API server alone (serving the Gateway API when asked). */
  async startApi(options: { gatewayApi?: boolean } = {}): Promise<LabInfo> {
    return (await this.#request({ op: 'startApi', ...options })) as LabInfo;
  }

  /** Creates or replaces objects in the API server. */
  async apply(objects: LabObject[]): Promise<void> {
    await this.#request({ op: 'apply', objects });
  }

  /** Deletes objects. */
  async delete(refs: LabObjectRef[]): Promise<void> {
    await this.#request({ op: 'delete', refs });
  }

  /** The child's CPU time so far (µs, user + system). */
  async cpuMicros(): Promise<number> {
    return (await this.#request({ op: 'cpu' })) as number;
  }

  /** Stops the lab and the child; kills the child (by its pid) if it does not exit within a few seconds. */
  async stop(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await Promise.race([this.#request({ op: 'stop' }).catch(() => undefined), exited]);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

// --- The child ------------------------------------------------------------------------------------

/** What the child runs: a whole lab, or an API server with its scratch directory. */
interface Hosted {
  lab: Lab | null;
  api: LabApiServer | null;
  dir: string | null;
}

async function startApiAlone(hosted: Hosted, gatewayApi: boolean): Promise<LabInfo> {
  for (const block of candidateBlocks(process.pid + Math.floor(Math.random() * 1000))) {
    const addresses = new LabAddresses(block);
    try {
      hosted.api = await LabApiServer.start({ host: addresses.api, port: API_PORT, gatewayApi });
    } catch (error) {
      // Another lab holds this block: try the next one (the bind is the block's lock).
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
      throw error;
    }
    hosted.dir = await mkdtemp(join(tmpdir(), `hopwatch-bench-api-${block}-`));
    const kubeconfigPath = await writeKubeconfig({ path: join(hosted.dir, 'kubeconfig'), server: hosted.api.url, context: LAB_CONTEXT });
    return { block, kubeconfigPath, hopwatchConfig: '', pods: [] };
  }
  throw new Error('every lab block is in use');
}

async function handle(hosted: Hosted, req: HostRequest): Promise<unknown> {
  switch (req.op) {
    case 'startLab': {
      const lab = (hosted.lab = await startLab(req.spec, req.options));
      return { block: lab.addresses.block, kubeconfigPath: lab.kubeconfigPath, hopwatchConfig: lab.hopwatchConfig(), pods: podAddresses(lab) } satisfies LabInfo;
    }
    case 'startApi':
      return startApiAlone(hosted, req.gatewayApi === true);
    case 'apply': {
      const api = hosted.api ?? hosted.lab?.api ?? null;
      if (api === null) throw new Error('nothing started');
      for (const object of req.objects) api.apply(object);
      return req.objects.length;
    }
    case 'delete': {
      const api = hosted.api ?? hosted.lab?.api ?? null;
      if (api === null) throw new Error('nothing started');
      for (const ref of req.refs) api.delete(ref);
      return req.refs.length;
    }
    case 'cpu': {
      const u = process.cpuUsage();
      return u.user + u.system;
    }
    case 'stop': {
      const { lab, api, dir } = hosted;
      // Cleared first: the disconnect that follows must not stop them a second time.
      Object.assign(hosted, { lab: null, api: null, dir: null });
      await lab?.stop();
      await api?.stop();
      if (dir !== null) await rm(dir, { recursive: true, force: true });
      return null;
    }
  }
}

/** Every pod "ip:port" of a lab, from its EndpointSlices (what the lab published). */
function podAddresses(lab: Lab): string[] {
  const out: string[] = [];
  for (const slice of lab.api.list('discovery.k8s.io/v1', 'EndpointSlice')) {
    const ports = (slice['ports'] as { port: number }[] | undefined) ?? [];
    const port = ports[0]?.port;
    for (const ep of (slice['endpoints'] as { addresses: string[] }[] | undefined) ?? []) if (port !== undefined) out.push(`${ep.addresses[0]}:${port}`);
  }
  return out;
}

function runChild(): void {
  const hosted: Hosted = { lab: null, api: null, dir: null };
  process.on('message', (req: HostRequest) => {
    handle(hosted, req).then(
      (value) => {
        // After stop, disconnect once the reply is out (the parent waits for it, then for the exit).
        process.send?.({ id: req.id, ok: true, value } satisfies HostReply, undefined, {}, () => (req.op === 'stop' ? process.disconnect() : undefined));
      },
      (error: unknown) => process.send?.({ id: req.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies HostReply),
    );
  });
  // The parent went away without stopping us: stop the lab so no nginx or dnsmasq is left behind.
  process.on('disconnect', () => {
    const dir = hosted.dir;
    void Promise.allSettled([hosted.lab?.stop(), hosted.api?.stop(), dir === null ? undefined : rm(dir, { recursive: true, force: true })]).then(() => process.exit(0));
  });
}

if (process.argv.includes('--lab-host') && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) runChild();
