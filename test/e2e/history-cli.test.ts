// `hopwatch timeline` and `hopwatch incidents` end to end: the real binary over a store seeded
// with known history (test/e2e/history.ts), read from the file (--db) and from a server over the
// same file (--server, with its token): exact bucket counts, the same answers from the raw, minute
// and hour tiers across the compaction boundary, identical output from both sources, clear errors.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/server/metrics.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { openStoreReader, type StoreReader } from '../../src/store/reader.js';
import { runHopwatch } from './cli.js';
import { seedHistory, type SeededHistory } from './history.js';

const HOST = '127.210.0.2';
const TOKEN = 'history-cli-token';
const HOUR = 3_600_000;

const dir = mkdtempSync(join(tmpdir(), 'hopwatch-history-cli-'));
const dbPath = join(dir, 'history.db');
let h: SeededHistory;
let reader: StoreReader;
let server: RunningServer;

interface Bucket {
  start: string;
  rounds: number;
  ok: number;
  failing: number;
  failuresByHop: Record<string, number>;
  failuresByCause: Record<string, number>;
}

beforeAll(async () => {
  h = seedHistory(dbPath, Date.now());
  reader = await openStoreReader(dbPath);
  server = await startServer({
    listen: `${HOST}:0`, token: TOKEN, reader, metrics: createMetrics({ defaultMetrics: false }),
    health: { live: () => true, ready: () => true, detail: () => ({}) }, dashboardDir: null, log: () => undefined,
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await reader?.close();
  rmSync(dir, { recursive: true, force: true });
});

const iso = (t: number): string => new Date(t).toISOString();

/** Runs the command against the file and against the server; both must succeed with the same output. */
async function both(args: string[]): Promise<string> {
  const [local, remote] = await Promise.all([
    runHopwatch([...args, '--db', dbPath]),
    runHopwatch([...args, '--server', server.url], { env: { HOPWATCH_TOKEN: TOKEN } }),
  ]);
  expect(local.stderr).toBe('');
  expect(local.code).toBe(0);
  expect(remote.stderr).toBe('');
  expect(remote.code).toBe(0);
  expect(remote.stdout).toBe(local.stdout);
  return local.stdout;
}

describe('hopwatch timeline', () => {
  it("counts checkout's controller failures exactly, in the same JSON from the file and the server", async () => {
    const range = ['--from', iso(h.e0 - HOUR), '--to', iso(h.e1 + HOUR), '--step', '5m'];
    const out = JSON.parse(await both(['timeline', '--route', h.routes.checkout.id, ...range, '-o', 'json'])) as { tier: string; buckets: Bucket[]; routes: { strip: string; failed: number }[] };
    expect(out.buckets).toHaveLength(36);
    expect(out.buckets.map((b) => b.rounds)).toEqual(Array(36).fill(5));
    expect(out.buckets.map((b) => b.failing)).toEqual([...Array(12).fill(0), ...Array(12).fill(5), ...Array(12).fill(0)]);
    expect(out.buckets[12]).toMatchObject({ start: iso(h.e0), failuresByHop: { controller: 5 }, failuresByCause: { 'controller.error': 5 } });
    expect(out.routes).toHaveLength(1);
    expect(out.routes[0]).toMatchObject({ failed: 60, strip: `${'▁'.repeat(12)}${'c'.repeat(12)}${'▁'.repeat(12)}` });
  });

  it('draws one strip per failing route in the table, the same from both sources', async () => {
    const table = await both(['timeline', '--from', iso(h.e0 - HOUR), '--to', iso(h.e1 + HOUR), '--step', '5m']);
    expect(table).toContain('timeline of all routes');
    const strip = table.split('\n').find((l) => l.startsWith('payments/checkout'));
    expect(strip).toBeDefined();
    expect(strip).toMatch(new RegExp(`\\s60\\s+66\\.66%\\s+${'▁'.repeat(12)}${'c'.repeat(12)}${'▁'.repeat(12)}$`));
    // Only checkout failed in that range: every other route is summed up in one line.
    expect(table).toMatch(/and \d+ routes without failures/);
    // The failing buckets: web, checkout and login each probed 5 times, checkout's 5 failed at the controller.
    const first = table.split('\n').find((l) => l.startsWith(iso(h.e0).slice(0, 16).replace('T', ' ')));
    expect(first).toMatch(/^\S+ \S+\s+15\s+5\s+controller 5\s+controller\.error 5\s+[\d.]+ ms\s+[\d.]+ ms$/);
  });

  it('gives the same counts from the raw rounds, the minute and the hour rollups across the compaction boundary', async () => {
    const top = Math.floor(h.now / HOUR) * HOUR;
    const range = ['--from', iso(top - 6 * HOUR), '--to', iso(top)];
    const tiers: Record<string, { tier: string; buckets: Bucket[] }> = {};
    for (const step of ['30s', '1m', '1h']) tiers[step] = JSON.parse(await both(['timeline', '-n', 'payments', ...range, '--step', step, '-o', 'json'])) as { tier: string; buckets: Bucket[] };
    expect([tiers['30s']!.tier, tiers['1m']!.tier, tiers['1h']!.tier]).toEqual(['raw', 'minute', 'hour']);
    const perHour = (buckets: Bucket[], key: 'rounds' | 'failing'): number[] => {
      const out = Array<number>(6).fill(0);
      for (const b of buckets) out[Math.floor((Date.parse(b.start) - (top - 6 * HOUR)) / HOUR)]! += b[key];
      return out;
    };
    expect(tiers['1h']!.buckets.map((b) => b.rounds)).toEqual(Array(6).fill(60));
    expect(tiers['1h']!.buckets.map((b) => b.failing)).toEqual([0, 60, 0, 0, 0, 0]);
    for (const step of ['30s', '1m']) {
      expect(perHour(tiers[step]!.buckets, 'rounds')).toEqual(Array(6).fill(60));
      expect(perHour(tiers[step]!.buckets, 'failing')).toEqual([0, 60, 0, 0, 0, 0]);
    }
  });

  it.each([
    [['--since', '3x'], 'hopwatch: --since: invalid duration "3x"'],
    [['--from', '2026-02-30T00:00:00Z'], 'hopwatch: --from: invalid time "2026-02-30T00:00:00Z": a date or time field is out of range'],
    [['--from', '1h', '--to', '2h'], 'hopwatch: --from must be before --to'],
    [['--since', '2h', '--from', '3h'], 'hopwatch: give --since, or --from and --to, not both'],
    [['--route', 'no/such/route/'], 'hopwatch: no route "no/such/route/"'],
    [['--ingress', 'shop'], 'hopwatch: --ingress "shop": expected NAMESPACE/NAME'],
    [['-n', 'no-such-namespace'], 'hopwatch: no route of namespace no-such-namespace in the history'],
    [['--since', '90d', '--step', '1m'], 'hopwatch: --step: gives '],
    [['--step', '90d', '--since', '1h'], ''],
  ])('rejects %j with one clear line (exit 2)', async (args, message) => {
    const res = await runHopwatch(['timeline', '--db', dbPath, ...args]);
    if (message === '') {
      // A step longer than the range is allowed: one bucket.
      expect(res.code).toBe(0);
      return;
    }
    expect(res.code).toBe(2);
    expect(res.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(res.stderr).toContain(message);
  });

  it('says when the daemon cannot be reached or wants a token', async () => {
    const wrong = await runHopwatch(['timeline', '--server', server.url, '--token', 'nope']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^hopwatch: http:\/\/127\.210\.0\.2:\d+: the bearer token is not valid \(give --token or set HOPWATCH_TOKEN\)\n$/);
    const gone = await runHopwatch(['timeline', '--server', `http://${HOST}:1`]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/^hopwatch: cannot reach hopwatch at http:\/\/127\.210\.0\.2:1: /);
    const none = await runHopwatch(['timeline', '--db', join(dir, 'missing.db')]);
    expect(none.stderr).toBe(`hopwatch: no history store at ${join(dir, 'missing.db')} (give --db FILE, or --server URL of a running hopwatch)\n`);
  });
});

describe('hopwatch incidents', () => {
  it('lists incidents with route, start, duration, hop, cause, pods and rollout, the same from both sources', async () => {
    const table = await both(['incidents', '--from', iso(h.e0 - HOUR), '--to', iso(h.e1 + HOUR)]);
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATE\s+ROUTE\s+STARTED \(UTC\)\s+DURATION\s+HOP\s+CAUSE\s+PODS\s+ROLLOUT$/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(new RegExp(`^\\s*${h.incidents.checkout.id}\\s+closed\\s+payments/checkout checkout\\.example\\.test/\\s+${iso(h.e0).slice(0, 16).replace('T', ' ')}\\s+1h 00m\\s+controller\\s+controller\\.error\\s+ingress-nginx-controller-0\\s+yes$`));
  });

  it('--open lists only the open incident', async () => {
    const res = await runHopwatch(['incidents', '--open', '--db', dbPath, '-o', 'json']);
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { incidents: { id: number; state: string; hop: string; cause: string; pods: string[] }[] };
    expect(out.incidents.map((i) => [i.id, i.state, i.hop, i.cause])).toEqual([[h.incidents.login.id, 'open', 'pod', 'pod.refused']]);
    expect(out.incidents[0]!.pods).toEqual(['accounts/login-5c7d-0', 'accounts/login-5c7d-1']);
  });

  it('show ID: the evidence and the hop results of the first failing round, the same from both sources', async () => {
    const text = await both(['incidents', 'show', String(h.incidents.checkout.id)]);
    expect(text).toContain(`incident ${h.incidents.checkout.id}: closed (failing)`);
    expect(text).toMatch(/^\s+hop\s+controller$/m);
    expect(text).toMatch(/^\s+cause\s+controller\.error$/m);
    expect(text).toContain('· controller ingress-nginx/ingress-nginx-controller-0: 502 from nginx');
    expect(text).toContain(`first failing round: ${iso(h.e0)}, failing at controller (controller.error)`);
    expect(text).toMatch(/^\s+controller\s+10\.0\.3\.1:80\s+ingress-nginx\/ingress-nginx-controller-0\s+502\s+-\s+nginx\s/m);
    expect(text).toMatch(/^\s+service\s+10\.2\.0\.9:80\s+-\s+200\s/m);
    // An open incident's duration runs to each side's clock: read from the file only.
    const res = await runHopwatch(['incidents', 'show', String(h.incidents.login.id), '-o', 'json', '--db', dbPath]);
    const json = JSON.parse(res.stdout) as { incident: { cause: string }; firstRound: { startedAt: string; verdict: { hop: string } } };
    expect(json.incident.cause).toBe('pod.refused');
    expect(json.firstRound.verdict.hop).toBe('pod');
    expect(Date.parse(json.firstRound.startedAt)).toBe(h.incidents.login.openedAt);
  });

  it('an unknown incident and a bad id are one clear line (exit 2)', async () => {
    const unknown = await runHopwatch(['incidents', 'show', '999', '--db', dbPath]);
    expect([unknown.code, unknown.stderr]).toEqual([2, 'hopwatch: no incident 999\n']);
    const bad = await runHopwatch(['incidents', 'show', 'x1', '--db', dbPath]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('incident id "x1": expected a number');
    const route = await runHopwatch(['incidents', '--route', 'no/such/route/', '--db', dbPath]);
    expect([route.code, route.stderr]).toEqual([2, 'hopwatch: no route "no/such/route/"\n']);
    const namespace = await runHopwatch(['incidents', '-n', 'no-such-namespace', '--db', dbPath]);
    expect([namespace.code, namespace.stderr]).toEqual([2, 'hopwatch: no route of namespace no-such-namespace in the history\n']);
    const since = await runHopwatch(['incidents', '--since', 'lastweek', '--db', dbPath]);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('hopwatch: --since: invalid duration "lastweek"');
  });
});
