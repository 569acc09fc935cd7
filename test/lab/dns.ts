// The lab's cluster DNS: a real dnsmasq answering A records for `<svc>.<ns>.svc.cluster.local`
// and CNAMEs for ExternalName Services, on one loopback address, forwarding nothing anywhere.
//
// How dnsmasq is run (checked against dnsmasq 2.90):
// - `--keep-in-foreground` (writes the pid file, unlike --no-daemon), `--conf-file=/dev/null`,
//   `--no-resolv`, `--no-hosts`, `--no-poll`: no upstream server exists, so nothing can be forwarded.
// - `--address=/#/`: every name not known locally is answered NXDOMAIN at once (instead of
//   REFUSED for "no upstream").
// - A records live in a hosts file (`--addn-hosts`), which SIGHUP re-reads; dnsmasq logs
//   "read <file> - N names" when done, which is how setRecords knows the new records are live.
// - CNAMEs are `--cname` options, which SIGHUP does not re-read: changing them restarts dnsmasq.
//   dnsmasq answers a --cname only usefully when its target is known locally; for a target it
//   does not know it returns the bare CNAME with NOERROR and no address (resolve4 yields []).
//   CoreDNS would chase the target upstream and return NXDOMAIN for a name that does not exist,
//   so a CNAME whose target is not among the records is left out: its name answers NXDOMAIN.
// - As root dnsmasq drops to `nobody`, which could not re-read a hosts file in a private
//   directory: as root it is told `--user=root --group=root`; as another user it keeps its own id.

import * as dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { mkdir } from 'node:fs/promises';
import * as net from 'node:net';
import { join } from 'node:path';
import { isLoopback } from './addresses.js';
import { StepQueue } from './pods.js';
import { Daemon, type DelayFn, LogTail, pollUntil, replaceFile, timerDelay } from './process.js';

/** The Debian dnsmasq binary. */
export const DNSMASQ_BINARY = '/usr/sbin/dnsmasq';

/** One DNS record: an A record, or a CNAME (an ExternalName Service). */
export type DnsRecord = { name: string; address: string } | { name: string; cname: string };

/** A bug or bad configuration of the lab DNS (bad records or options, a dnsmasq that will not run). */
export class LabDnsError extends Error {
  /** Stable error code: LAB_BAD_ADDRESS, LAB_DNS_BAD_RECORD, LAB_DNS_START, LAB_DNS_RELOAD, LAB_DNS_STOPPED. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabDnsError';
    this.code = code;
  }
}

/** What startDns needs. */
export interface DnsOptions {
  /** The loopback address to serve on (the lab's 127.B.0.53). */
  ip: string;
  /** UDP and TCP port; 0 picks a free one (kept across restarts). */
  port: number;
  /** Directory for the hosts file, pid file and log; created when missing, nothing in it removed. */
  dir: string;
  /** The initial records. */
  records: readonly DnsRecord[];
  /** Log every query to the log file (evidence when debugging); default false. */
  logQueries?: boolean;
  /** The dnsmasq binary; default /usr/sbin/dnsmasq. */
  binary?: string;
  /** Longest wait for dnsmasq to answer after a start, and for a reload; default 10000. */
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL; default 3000. */
  stopTimeoutMs?: number;
  /** Waits between polls; default a timer. */
  delay?: (ms: number) => Promise<void>;
}

/** A running lab DNS server. */
export interface LabDns {
  /** The address it serves on. */
  readonly ip: string;
  /** The port it serves on (the real one when started with 0). */
  readonly port: number;
  /** "ip:port", as Resolver.setServers and hopwatch's dnsServer take it. */
  readonly server: string;
  /** The current dnsmasq pid (changes when a CNAME change restarts it). */
  readonly pid: number;
  /** The records as last set. */
  readonly records: readonly DnsRecord[];
  /** Replaces every record; resolves once queries see the new ones. Calls run in order. */
  setRecords(records: readonly DnsRecord[]): Promise<void>;
  /** SIGTERM, then SIGKILL after stopTimeoutMs; resolves when dnsmasq is gone. */
  stop(): Promise<void>;
}

const START_ATTEMPTS = 5;
const NAME = /^[a-z0-9]([a-z0-9_-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9_-]*[a-z0-9])?)*$/;
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
/** A name no record may have: readiness probes ask for it and expect NXDOMAIN. */
const PROBE_NAME = 'ready.hopwatch-lab.invalid';

/** Starts dnsmasq with the records; resolves once it answers queries. */
export async function startDns(options: DnsOptions): Promise<LabDns> {
  if (!isLoopback(options.ip)) throw new LabDnsError('LAB_BAD_ADDRESS', `the lab DNS may only serve on loopback, got ${options.ip}`);
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new LabDnsError('LAB_BAD_ADDRESS', `port must be 0..65535, got ${options.port}`);
  }
  const records = normaliseRecords(options.records);
  await mkdir(options.dir, { recursive: true });
  const dns = new Dnsmasq(options, records);
  await dns.start();
  return dns;
}

/** Validated, lowercased records without trailing dots; throws LAB_DNS_BAD_RECORD. */
export function normaliseRecords(records: readonly DnsRecord[]): DnsRecord[] {
  const normalised = records.map((record): DnsRecord => {
    const name = normaliseName(record.name);
    if ('address' in record) {
      if (!IPV4.test(record.address) || !isLoopback(record.address)) bad(`${name}: address ${record.address} is not a loopback IPv4 address`);
      return { name, address: record.address };
    }
    return { name, cname: normaliseName(record.cname) };
  });
  const aNames = new Set(normalised.filter((r) => 'address' in r).map((r) => r.name));
  const cnames = new Set<string>();
  for (const record of normalised) {
    if (!('cname' in record)) continue;
    if (aNames.has(record.name)) bad(`${record.name} cannot have both A records and a CNAME`);
    if (cnames.has(record.name)) bad(`${record.name} has two CNAMEs`);
    cnames.add(record.name);
  }
  return normalised;
}

function normaliseName(name: string): string {
  const lower = name.toLowerCase().replace(/\.$/, '');
  if (!NAME.test(lower) || lower.length > 253 || lower === PROBE_NAME) bad(`${JSON.stringify(name)} is not a DNS name the lab serves`);
  return lower;
}

function bad(message: string): never {
  throw new LabDnsError('LAB_DNS_BAD_RECORD', message);
}

/**
 * The CNAMEs dnsmasq can answer usefully: those whose target is an A record name or another
 * such CNAME (chains resolved to a fixpoint); the rest are left out and answer NXDOMAIN.
 */
export function answerableCnames(records: readonly DnsRecord[]): { name: string; cname: string }[] {
  const known = new Set(records.filter((r) => 'address' in r).map((r) => r.name));
  const cnames = records.filter((r): r is { name: string; cname: string } => 'cname' in r);
  const kept = new Set<string>();
  // Each round admits at least one more CNAME or stops, so there are at most cnames.length rounds.
  for (let round = 0; round < cnames.length; round++) {
    const admitted = cnames.filter((c) => !kept.has(c.name) && (known.has(c.cname) || kept.has(c.cname)));
    if (admitted.length === 0) break;
    for (const c of admitted) kept.add(c.name);
  }
  return cnames.filter((c) => kept.has(c.name));
}

function hostsFile(records: readonly DnsRecord[]): string {
  const lines = records.flatMap((r) => ('address' in r ? [`${r.address} ${r.name}`] : []));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** The dnsmasq command line for these files, address, port and CNAMEs. */
export function dnsmasqArgs(
  options: { ip: string; port: number; dir: string; logQueries?: boolean },
  cnames: readonly { name: string; cname: string }[],
  uid: number,
): string[] {
  return [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--bind-interfaces',
    `--listen-address=${options.ip}`,
    `--port=${options.port}`,
    `--pid-file=${join(options.dir, 'dnsmasq.pid')}`,
    `--addn-hosts=${join(options.dir, 'hosts')}`,
    `--log-facility=${join(options.dir, 'dnsmasq.log')}`,
    '--address=/#/',
    ...(options.logQueries ? ['--log-queries'] : []),
    ...(uid === 0 ? ['--user=root', '--group=root'] : []),
    ...cnames.map((c) => `--cname=${c.name},${c.cname}`),
  ];
}

class Dnsmasq implements LabDns {
  readonly ip: string;
  #port: number;
  #records: DnsRecord[];
  #cnameArgs: string[] = [];
  #daemon: Daemon | null = null;
  readonly #queue: StepQueue;
  #stopped: Promise<void> | null = null;
  readonly #options: DnsOptions;
  readonly #delay: DelayFn;

  constructor(options: DnsOptions, records: DnsRecord[]) {
    this.ip = options.ip;
    this.#port = options.port;
    this.#records = records;
    this.#options = options;
    this.#delay = options.delay ?? timerDelay;
    this.#queue = new StepQueue(`dnsmasq on ${options.ip}`);
  }

  get port(): number {
    return this.#port;
  }

  get server(): string {
    return `${this.ip}:${this.#port}`;
  }

  get pid(): number {
    return this.#daemon?.pid ?? -1;
  }

  /** True while no dnsmasq runs (before the first start, and once it exited). */
  get #exited(): boolean {
    return this.#daemon?.exited ?? true;
  }

  get records(): readonly DnsRecord[] {
    return this.#records;
  }

  #path(file: string): string {
    return join(this.#options.dir, file);
  }

  /** Starts dnsmasq on the current records; with port 0, retries a few free ports if one is taken meanwhile. */
  async start(): Promise<void> {
    const pick = this.#port === 0;
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      if (pick) this.#port = await freeDnsPort(this.ip);
      try {
        await this.#spawnAndWait();
        return;
      } catch (error) {
        const busy = error instanceof LabDnsError && /Address already in use/.test(error.message);
        if (!pick || !busy || attempt === START_ATTEMPTS) throw error;
      }
    }
  }

  async #spawnAndWait(): Promise<void> {
    await replaceFile(this.#path('hosts'), hostsFile(this.#records));
    const cnames = answerableCnames(this.#records);
    this.#cnameArgs = cnames.map((c) => `${c.name},${c.cname}`);
    const args = dnsmasqArgs({ ...this.#options, port: this.#port }, cnames, process.getuid?.() ?? -1);
    const daemon = new Daemon(this.#options.binary ?? DNSMASQ_BINARY, args, this.#delay);
    this.#daemon = daemon;
    if (await this.#waitAnswering()) return;
    const why = daemon.exited ? `exited: ${daemon.stderr.trim() || 'no message'}` : 'does not answer';
    await this.#kill();
    throw new LabDnsError('LAB_DNS_START', `dnsmasq on ${this.server} ${why}`);
  }

  /** Polls (bounded) until a query gets an answer; false when dnsmasq exited or never answered. */
  #waitAnswering(): Promise<boolean> {
    const timeoutMs = this.#options.startTimeoutMs ?? 10_000;
    return pollUntil(() => answers(this.server), { timeoutMs, delay: this.#delay, abort: () => this.#exited });
  }

  setRecords(records: readonly DnsRecord[]): Promise<void> {
    let normalised: DnsRecord[];
    try {
      normalised = normaliseRecords(records);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#queue.run(() => this.#apply(normalised));
  }

  async #apply(records: DnsRecord[]): Promise<void> {
    if (this.#stopped !== null || this.#exited) throw new LabDnsError('LAB_DNS_STOPPED', `dnsmasq on ${this.server} is not running`);
    const cnameArgs = answerableCnames(records).map((c) => `${c.name},${c.cname}`);
    this.#records = records;
    if (cnameArgs.join(' ') !== this.#cnameArgs.join(' ')) {
      // --cname is not re-read on SIGHUP: restart on the same port.
      await this.#kill();
      await this.#spawnAndWait();
      return;
    }
    await this.#reloadHosts(records);
  }

  /** Rewrites the hosts file, sends SIGHUP, waits for dnsmasq's "read <hosts>" log line. */
  async #reloadHosts(records: DnsRecord[]): Promise<void> {
    const log = await LogTail.open(this.#path('dnsmasq.log'));
    await replaceFile(this.#path('hosts'), hostsFile(records));
    process.kill(this.pid, 'SIGHUP');
    const marker = `read ${this.#path('hosts')} - `;
    const timeoutMs = this.#options.startTimeoutMs ?? 10_000;
    const reread = async (): Promise<boolean> => (await log.read()).some((line) => line.includes(marker));
    if (await pollUntil(reread, { timeoutMs, delay: this.#delay, abort: () => this.#exited })) return;
    throw new LabDnsError('LAB_DNS_RELOAD', `dnsmasq on ${this.server} did not re-read its hosts file within ${timeoutMs} ms`);
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#queue.run(() => this.#kill());
    return this.#stopped;
  }

  /** SIGTERM, then SIGKILL after the bound; resolves once the process is gone. */
  async #kill(): Promise<void> {
    const daemon = this.#daemon;
    if (daemon === null || (await daemon.terminate('SIGTERM', this.#options.stopTimeoutMs ?? 3000))) return;
    throw new LabDnsError('LAB_DNS_STOPPED', `dnsmasq (pid ${daemon.pid}) survived SIGKILL`);
  }
}

/** True when the server answers a query at all (NXDOMAIN for the probe name is an answer). */
async function answers(server: string): Promise<boolean> {
  const resolver = new Resolver({ timeout: 250, tries: 1 });
  resolver.setServers([server]);
  try {
    await resolver.resolve4(PROBE_NAME);
    return true;
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? error.code : undefined;
    return code === 'ENOTFOUND' || code === 'ENODATA';
  } finally {
    resolver.cancel();
  }
}

/** A port free for both UDP and TCP on ip (bound, then released just before dnsmasq binds it). */
async function freeDnsPort(ip: string): Promise<number> {
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(0, ip, () => resolve());
  });
  const port = udp.address().port;
  // Only a check: a TCP clash (now or by the time dnsmasq binds) surfaces as dnsmasq's
  // "Address already in use", which start() retries with another port.
  const tcp = net.createServer();
  await new Promise<void>((resolve) => {
    tcp.once('error', () => resolve());
    tcp.listen(port, ip, () => resolve());
  });
  await new Promise<void>((resolve) => (tcp.listening ? tcp.close(() => resolve()) : resolve()));
  await new Promise<void>((resolve) => udp.close(() => resolve()));
  return port;
}
