// The blackbox_exporter side of bench/peers.ts without timing anything: what it needs for a route's
// hops (a module per Host header and per DNS name, a target per hop), and that the configuration the
// benchmark writes is one Debian's blackbox_exporter accepts (its own --config.check), when installed.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PlannedHop } from '../src/model.js';
import { BLACKBOX, blackboxConfig, blackboxProbeOf, procCpuMicros, procRss } from './peers.js';

const dir = mkdtempSync(join(tmpdir(), 'hopwatch-peers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function hop(fields: Partial<PlannedHop>): PlannedHop {
  return {
    hop: 'pod', target: '127.9.1.1:8080', address: '127.9.1.1', port: 8080, scheme: 'http', pod: null, ready: null, terminating: null,
    request: { host: 'web.test', path: '/x?y=1', timeoutMs: 5000 }, dnsServer: null, ...fields,
  };
}

describe('peers: blackbox_exporter', () => {
  it('needs one module per Host header and per DNS name, and one target per hop', () => {
    const modules = new Map();
    const route = [
      hop({ hop: 'dns', scheme: 'dns', target: 'web.shop.svc.cluster.local', address: 'web.shop.svc.cluster.local', port: 53, request: { host: 'web.shop.svc.cluster.local', path: '', timeoutMs: 5000 }, dnsServer: '127.9.0.53:5353' }),
      hop({ hop: 'edge', address: '127.9.0.80', port: 18080 }),
      hop({ hop: 'pod', address: '127.9.1.1' }),
      hop({ hop: 'pod', address: '127.9.1.2' }),
      hop({ hop: 'pod', address: '127.9.2.1', request: { host: 'api.test', path: '/', timeoutMs: 5000 } }),
    ].map((h) => blackboxProbeOf(h, modules));
    expect(route).toEqual([
      { module: 'dns_0', target: '127.9.0.53:5353' },
      { module: 'http_1', target: 'http://127.9.0.80:18080/x?y=1' },
      { module: 'http_1', target: 'http://127.9.1.1:8080/x?y=1' },
      { module: 'http_1', target: 'http://127.9.1.2:8080/x?y=1' },
      { module: 'http_2', target: 'http://127.9.2.1:8080/' },
    ]);
    expect(JSON.parse(blackboxConfig(modules))).toEqual({
      modules: {
        dns_0: { prober: 'dns', timeout: '5s', dns: { query_name: 'web.shop.svc.cluster.local', query_type: 'A', transport_protocol: 'udp', preferred_ip_protocol: 'ip4', ip_protocol_fallback: false } },
        http_1: { prober: 'http', timeout: '5s', http: { method: 'GET', preferred_ip_protocol: 'ip4', ip_protocol_fallback: false, follow_redirects: false, valid_status_codes: [], headers: { Host: 'web.test' } } },
        http_2: { prober: 'http', timeout: '5s', http: { method: 'GET', preferred_ip_protocol: 'ip4', ip_protocol_fallback: false, follow_redirects: false, valid_status_codes: [], headers: { Host: 'api.test' } } },
      },
    });
    const path = join(dir, 'blackbox.yml');
    writeFileSync(path, blackboxConfig(modules));
    if (!existsSync(BLACKBOX)) return; // scripts/setup.sh --bench installs it; the mapping above is checked anyway
    expect(execFileSync(BLACKBOX, [`--config.file=${path}`, '--config.check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toBeDefined();
    // A misspelt field is refused (strict parsing): the check above can fail.
    writeFileSync(path, '{"modules": {"x": {"prober": "http", "htttp": {}}}}');
    expect(() => execFileSync(BLACKBOX, [`--config.file=${path}`, '--config.check'], { stdio: 'ignore' })).toThrow();
  });

  it('reads a process CPU time and memory from /proc', () => {
    const before = procCpuMicros(process.pid);
    let x = 0;
    for (let i = 0; i < 5e7; i++) x += i % 7;
    expect(x).toBeGreaterThan(0);
    expect(procCpuMicros(process.pid)).toBeGreaterThan(before);
    const m = procRss(process.pid);
    expect(m.rss).toBeGreaterThan(10e6);
    expect(m.peak).toBeGreaterThanOrEqual(m.rss);
  });
});
