// The lab DNS (real dnsmasq on 127.203.0.53) queried with node:dns Resolver, as hopwatch's dns hop does.

import { Resolver } from 'node:dns/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabAddresses } from './addresses.js';
import { answerableCnames, type DnsRecord, dnsmasqArgs, type LabDns, normaliseRecords, startDns } from './dns.js';

const lab = new LabAddresses(203);
const WEB = 'web.default.svc.cluster.local';
const API = 'api.default.svc.cluster.local';
const EXT = 'ext.default.svc.cluster.local';
const LOST = 'lost.default.svc.cluster.local';

const initial: DnsRecord[] = [
  { name: WEB, address: lab.service(0) },
  { name: API, address: lab.pod(10) },
  { name: API, address: lab.pod(11) },
  { name: EXT, cname: WEB },
  // An ExternalName to a name nobody knows.
  { name: LOST, cname: 'nowhere.example.net' },
];

let dir = '';
let dns: LabDns | null = null;

function resolver(): Resolver {
  const r = new Resolver({ timeout: 2000, tries: 1 });
  if (dns === null) throw new Error('dns not started');
  r.setServers([dns.server]);
  return r;
}

/** The error code a lookup fails with (fails the test when it succeeds). */
async function failure(lookup: Promise<unknown>): Promise<string | undefined> {
  const outcome = await lookup.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  const error = outcome.error;
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hopwatch-dns-'));
  dns = await startDns({ ip: lab.dns, port: 0, dir, records: initial });
});

afterAll(async () => {
  await dns?.stop();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('lab DNS answers', () => {
  it('serves on 127.203.0.53 with a real port and pid', () => {
    expect(dns?.ip).toBe('127.203.0.53');
    expect(dns?.port).toBeGreaterThan(0);
    expect(dns?.server).toBe(`127.203.0.53:${dns?.port}`);
    expect(dns?.pid).toBeGreaterThan(0);
  });

  it('A records, one or several addresses', async () => {
    expect(await resolver().resolve4(WEB)).toEqual([lab.service(0)]);
    expect((await resolver().resolve4(API)).sort()).toEqual([lab.pod(10), lab.pod(11)].sort());
  });

  it('CNAME for an ExternalName whose target is known: the CNAME, and the address through it', async () => {
    expect(await resolver().resolveCname(EXT)).toEqual([WEB]);
    expect(await resolver().resolve4(EXT)).toEqual([lab.service(0)]);
  });

  it('CNAME to an unknown name: NXDOMAIN, never forwarded', async () => {
    expect(await failure(resolver().resolve4(LOST))).toBe('ENOTFOUND');
    expect(await failure(resolver().resolve4('nowhere.example.net'))).toBe('ENOTFOUND');
  });

  it('unknown names answer NXDOMAIN (no timeout, no refusal)', async () => {
    expect(await failure(resolver().resolve4('nope.default.svc.cluster.local'))).toBe('ENOTFOUND');
    expect(await failure(resolver().resolve4('example.com'))).toBe('ENOTFOUND');
  });

  it('AAAA of an IPv4-only name is NODATA', async () => {
    expect(await failure(resolver().resolve6(WEB))).toBe('ENODATA');
  });
});

describe('setRecords', () => {
  it('A records only: applied by SIGHUP (same pid), live when it resolves', async () => {
    const pid = dns?.pid;
    await dns?.setRecords([...initial.filter((r) => r.name !== WEB), { name: WEB, address: lab.service(1) }, { name: 'new.default.svc.cluster.local', address: lab.service(2) }]);
    expect(await resolver().resolve4(WEB)).toEqual([lab.service(1)]);
    expect(await resolver().resolve4('new.default.svc.cluster.local')).toEqual([lab.service(2)]);
    // The CNAME follows its target's new address.
    expect(await resolver().resolve4(EXT)).toEqual([lab.service(1)]);
    expect(dns?.pid).toBe(pid);
  });

  it('a removed name answers NXDOMAIN', async () => {
    await dns?.setRecords(initial.filter((r) => r.name !== API));
    expect(await failure(resolver().resolve4(API))).toBe('ENOTFOUND');
  });

  it('CNAME changes restart dnsmasq on the same port', async () => {
    const { pid, port } = { pid: dns?.pid, port: dns?.port };
    await dns?.setRecords([...initial.filter((r) => r.name !== LOST), { name: LOST, cname: API }]);
    expect(await resolver().resolveCname(LOST)).toEqual([API]);
    expect((await resolver().resolve4(LOST)).sort()).toEqual([lab.pod(10), lab.pod(11)].sort());
    expect(dns?.port).toBe(port);
    expect(dns?.pid).not.toBe(pid);
    expect(() => process.kill(pid ?? -1, 0)).toThrow();
  });

  it('rejects bad records with LAB_DNS_BAD_RECORD and keeps the old ones', async () => {
    await expect(dns?.setRecords([{ name: WEB, address: '10.0.0.1' }])).rejects.toMatchObject({ code: 'LAB_DNS_BAD_RECORD' });
    await expect(dns?.setRecords([{ name: 'bad name', address: lab.pod(1) }])).rejects.toMatchObject({ code: 'LAB_DNS_BAD_RECORD' });
    expect(await resolver().resolve4(WEB)).toEqual([lab.service(0)]);
  });
});

describe('records', () => {
  it('normaliseRecords lowercases, drops the trailing dot, refuses A+CNAME on one name', () => {
    expect(normaliseRecords([{ name: 'Web.Default.SVC.cluster.local.', address: '127.203.2.1' }])).toEqual([
      { name: WEB, address: '127.203.2.1' },
    ]);
    expect(() => normaliseRecords([{ name: WEB, address: '127.203.2.1' }, { name: WEB, cname: API }])).toThrow(/both A records and a CNAME/);
    expect(() => normaliseRecords([{ name: EXT, cname: WEB }, { name: EXT, cname: API }])).toThrow(/two CNAMEs/);
  });

  it.each([
    ['target is an A record', [{ name: WEB, address: '127.203.2.1' }, { name: EXT, cname: WEB }], [EXT]],
    ['target unknown', [{ name: EXT, cname: 'x.example.net' }], []],
    ['chain to an A record', [{ name: 'a.x', cname: 'b.x' }, { name: 'b.x', cname: WEB }, { name: WEB, address: '127.203.2.1' }], ['a.x', 'b.x']],
    ['loop', [{ name: 'a.x', cname: 'b.x' }, { name: 'b.x', cname: 'a.x' }], []],
  ] as [string, DnsRecord[], string[]][])('answerableCnames: %s', (_name, records, kept) => {
    expect(answerableCnames(records).map((c) => c.name)).toEqual(kept);
  });

  it('dnsmasqArgs: no upstream, NXDOMAIN for the rest, root keeps root', () => {
    const args = dnsmasqArgs({ ip: '127.203.0.53', port: 5353, dir: '/d' }, [{ name: EXT, cname: WEB }], 0);
    expect(args).toEqual(expect.arrayContaining(['--no-resolv', '--no-hosts', '--address=/#/', '--listen-address=127.203.0.53', '--port=5353', '--user=root', `--cname=${EXT},${WEB}`]));
    expect(args.some((a) => a.startsWith('--server'))).toBe(false);
    expect(dnsmasqArgs({ ip: '127.203.0.53', port: 5353, dir: '/d' }, [], 1000).some((a) => a.startsWith('--user'))).toBe(false);
  });
});

describe('stop', () => {
  it('kills dnsmasq by pid and waits; later updates are refused', async () => {
    const sub = await mkdtemp(join(tmpdir(), 'hopwatch-dns-stop-'));
    try {
      const other = await startDns({ ip: lab.dns, port: 0, dir: sub, records: [] });
      const pid = other.pid;
      await other.stop();
      expect(() => process.kill(pid, 0)).toThrow();
      await expect(other.setRecords([])).rejects.toMatchObject({ code: 'LAB_DNS_STOPPED' });
    } finally {
      await rm(sub, { recursive: true, force: true });
    }
  });

  it('refuses to serve off loopback', async () => {
    await expect(startDns({ ip: '10.0.0.53', port: 0, dir: '/nonexistent', records: [] })).rejects.toMatchObject({ code: 'LAB_BAD_ADDRESS' });
  });
});
