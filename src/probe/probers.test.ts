import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HopResult, PlannedHop } from '../model.js';
import { probeDns } from './dns.js';
import { HttpClientPool, probeHttp } from './http.js';
import { PROBERS, type ProbeFn, type Probers, probeHop, proberFor } from './probers.js';

// Block 205 belongs to this file's tests; 127.205.200.x is outside every lab range of the block.
const IP = '127.205.200.2';

function hop(scheme: PlannedHop['scheme'], target: string, kind: PlannedHop['hop'] = 'pod'): PlannedHop {
  const [address = target, port = '0'] = target.split(':');
  return {
    hop: kind,
    target,
    address,
    port: Number(port),
    scheme,
    pod: null,
    ready: null,
    terminating: null,
    request: { host: scheme === 'dns' ? target : 'app.example.test', path: '/', timeoutMs: 2000 },
    dnsServer: null,
  };
}

/** A fake prober that records what it was given and answers after a tick. */
function fakeProber(name: string, calls: string[], state: { inFlight: number; most: number }): ProbeFn {
  return async (h) => {
    calls.push(`${name}:${h.target}`);
    state.inFlight++;
    state.most = Math.max(state.most, state.inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    state.inFlight--;
    return { ...h, status: name === 'dns' ? null : 200, error: null, errorDetail: null, timings: { totalMs: 0 }, bytes: 0, headerBytes: 0, headers: {}, generator: null, addresses: [] } satisfies HopResult;
  };
}

describe('proberFor', () => {
  it('sends http and https hops to the HTTP prober and dns hops to the DNS prober', () => {
    expect(proberFor('http')).toBe(probeHttp);
    expect(proberFor('https')).toBe(probeHttp);
    expect(proberFor('dns')).toBe(probeDns);
    expect(PROBERS).toEqual({ http: probeHttp, https: probeHttp, dns: probeDns });
  });
});

describe('probeHop', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('ok')).listen(0, IP);
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('probes HTTP and DNS hops with the real probers, sharing one client pool', async () => {
    const hops = [hop('dns', 'localhost', 'dns'), hop('http', `${IP}:${port}`, 'service'), hop('http', `${IP}:${port}`, 'pod')];
    const clients = new HttpClientPool();
    const results = await Promise.all(hops.map((h) => probeHop(h, { clients })));
    expect(results.map((r) => [r.hop, r.status, r.error])).toEqual([
      ['dns', null, null],
      ['service', 200, null],
      ['pod', 200, null],
    ]);
    expect(results[0]?.addresses).toContain('127.0.0.1');
    expect(clients.size).toBeGreaterThan(0);
  });

  it('sends each hop to the prober of its scheme', async () => {
    const calls: string[] = [];
    const state = { inFlight: 0, most: 0 };
    const probers: Probers = { http: fakeProber('http', calls, state), https: fakeProber('https', calls, state), dns: fakeProber('dns', calls, state) };
    await probeHop(hop('dns', 'web.shop.svc'), undefined, probers);
    await probeHop(hop('https', '127.0.0.80:443', 'edge'), undefined, probers);
    await probeHop(hop('http', '127.0.1.1:8080'), undefined, probers);
    expect(calls).toEqual(['dns:web.shop.svc', 'https:127.0.0.80:443', 'http:127.0.1.1:8080']);
  });
});
