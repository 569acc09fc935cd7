import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlannedHop } from '../model.js';
import { probeDns } from './dns.js';

// Block 205 belongs to this file's tests; 127.205.200.x is outside every lab range of the block.
const DNS_IP = '127.205.200.53';

/** What the test DNS server answers for one name. */
interface Entry {
  a?: string[];
  aaaa?: string[];
  cname?: string;
  rcode?: number;
  drop?: boolean;
}

const NXDOMAIN = 3;
const SERVFAIL = 2;
const ZONE: Record<string, Entry> = {
  'web.shop.svc.cluster.local': { a: ['127.205.2.1', '127.205.2.2'], aaaa: ['fd00:0:0:0:0:0:0:1'] },
  'v4only.shop.svc.cluster.local': { a: ['127.205.2.3'] },
  'missing.shop.svc.cluster.local': { rcode: NXDOMAIN },
  'broken.shop.svc.cluster.local': { rcode: SERVFAIL },
  'silent.shop.svc.cluster.local': { drop: true },
  'ext.shop.svc.cluster.local': { cname: 'db.example.test' },
  'db.example.test': {},
  'alias.shop.svc.cluster.local': { cname: 'web.shop.svc.cluster.local' },
};

function encodeName(name: string): Buffer {
  return Buffer.concat([...name.split('.').map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)])), Buffer.from([0])]);
}

function record(name: Buffer, type: number, rdata: Buffer): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(1, 2); // class IN
  fixed.writeUInt32BE(30, 4); // TTL
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([name, fixed, rdata]);
}

function ipv6Bytes(address: string): Buffer {
  const bytes = Buffer.alloc(16);
  address.split(':').forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}

/** Answer records for a name and type (1 = A, 28 = AAAA), following CNAMEs in the zone. */
function answers(name: string, type: number): Buffer[] {
  const entry = ZONE[name];
  if (entry === undefined) return [];
  if (entry.cname !== undefined) return [record(encodeName(name), 5, encodeName(entry.cname)), ...answers(entry.cname, type)];
  const values = type === 1 ? (entry.a ?? []).map((ip) => Buffer.from(ip.split('.').map(Number))) : type === 28 ? (entry.aaaa ?? []).map(ipv6Bytes) : [];
  return values.map((rdata) => record(encodeName(name), type, rdata));
}

/** A minimal authoritative responder: one question per query, answers from ZONE. */
function respond(query: Buffer): Buffer | null {
  let offset = 12;
  const labels: string[] = [];
  for (let len = query[offset] ?? 0; len > 0; len = query[offset] ?? 0) {
    labels.push(query.toString('latin1', offset + 1, offset + 1 + len));
    offset += len + 1;
  }
  const name = labels.join('.').toLowerCase();
  const type = query.readUInt16BE(offset + 1);
  const entry = ZONE[name];
  if (entry?.drop) return null;
  const rcode = entry === undefined ? NXDOMAIN : (entry.rcode ?? 0);
  const records = rcode === 0 ? answers(name, type) : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8000 | 0x0400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  return Buffer.concat([header, query.subarray(12, offset + 5), ...records]);
}

let server: UdpSocket;
let dnsServer: string;

beforeAll(async () => {
  server = createSocket('udp4');
  server.on('message', (msg, peer) => {
    const answer = respond(msg);
    if (answer !== null) server.send(answer, peer.port, peer.address);
  });
  server.bind(0, DNS_IP);
  await once(server, 'listening');
  dnsServer = `${DNS_IP}:${server.address().port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function dnsHop(name: string, overrides: Partial<PlannedHop> = {}, timeoutMs = 2000): PlannedHop {
  return {
    hop: 'dns',
    target: name,
    address: DNS_IP,
    port: Number(dnsServer.split(':')[1]),
    scheme: 'dns',
    pod: null,
    ready: null,
    terminating: null,
    request: { host: name, path: '/', timeoutMs },
    dnsServer,
    ...overrides,
  };
}

describe('probeDns via a DNS server', () => {
  it('returns A then AAAA addresses and the lookup time', async () => {
    const result = await probeDns(dnsHop('web.shop.svc.cluster.local'));
    expect(result).toMatchObject({ hop: 'dns', target: 'web.shop.svc.cluster.local', status: null, error: null, errorDetail: null, generator: null });
    expect(result.addresses).toEqual(['127.205.2.1', '127.205.2.2', 'fd00::1']);
    expect(result.timings.dnsMs).toBe(result.timings.totalMs);
    expect(result.timings.dnsMs).toBeGreaterThanOrEqual(0);
  });

  it('succeeds with A records only (AAAA is NODATA)', async () => {
    const result = await probeDns(dnsHop('v4only.shop.svc.cluster.local'));
    expect(result).toMatchObject({ error: null, addresses: ['127.205.2.3'] });
  });

  it('follows a CNAME to the addresses of its target', async () => {
    const result = await probeDns(dnsHop('alias.shop.svc.cluster.local'));
    expect(result).toMatchObject({ error: null, addresses: ['127.205.2.1', '127.205.2.2', 'fd00::1'] });
  });

  it('reports NXDOMAIN as dns / ENOTFOUND', async () => {
    const result = await probeDns(dnsHop('missing.shop.svc.cluster.local'));
    expect(result).toMatchObject({ error: 'dns', addresses: [], errorDetail: 'NXDOMAIN (ENOTFOUND) for missing.shop.svc.cluster.local' });
  });

  it('reports SERVFAIL apart from NXDOMAIN', async () => {
    const result = await probeDns(dnsHop('broken.shop.svc.cluster.local'));
    expect(result).toMatchObject({ error: 'dns', errorDetail: 'SERVFAIL (ESERVFAIL) for broken.shop.svc.cluster.local' });
  });

  it('reports a server that does not answer as a timeout within the deadline', async () => {
    const result = await probeDns(dnsHop('silent.shop.svc.cluster.local', {}, 300));
    expect(result.error).toBe('dns');
    expect(result.errorDetail).toMatch(/^timeout \((ETIMEOUT|ECANCELLED)\) for silent\.shop\.svc\.cluster\.local$/);
  });

  it('names the CNAME target when it has no address records (an ExternalName to nowhere)', async () => {
    const result = await probeDns(dnsHop('ext.shop.svc.cluster.local'));
    expect(result).toMatchObject({ error: 'dns', addresses: [] });
    expect(result.errorDetail).toMatch(/^NODATA: no A or AAAA records( \(ENODATA\))? for ext\.shop\.svc\.cluster\.local; CNAME -> db\.example\.test$/);
  });

  it('resolves the hop target when the request names no host', async () => {
    const result = await probeDns(dnsHop('v4only.shop.svc.cluster.local', { request: { host: null, path: '/', timeoutMs: 2000 } }));
    expect(result).toMatchObject({ error: null, addresses: ['127.205.2.3'] });
  });
});

describe('probeDns via the system resolver', () => {
  it('resolves a name from /etc/hosts', async () => {
    const result = await probeDns(dnsHop('localhost', { dnsServer: null, address: 'localhost', port: 0 }));
    expect(result.error).toBeNull();
    expect(result.addresses).toContain('127.0.0.1');
  });
});
