/// <reference lib="dom" />
// The daemon's pairs end to end: `hopwatch run` (the real binary) on a lab serving two hosts through
// nginx (ingress-nginx style) and HAProxy, one alike and one whose pods send a header block between
// the two controllers' buffers. Parity over time in the API and /metrics, and the dashboard's
// Migration page in Debian's chromium (playwright-core). Screenshot in test-output/.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabSpec } from '../lab/spec.js';
import { startLab, type Lab } from '../lab/lab.js';
import { merge, webApp } from '../lab/scenarios.js';
import type { AppSpec } from '../lab/spec.js';
import { ROOT } from './cli.js';
import { type DaemonProcess, eventually, getJson, startDaemonProcess, writeDaemonConfig } from './daemon.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-output');

function onBoth(name: string, app: Partial<AppSpec>): LabSpec {
  const base = webApp('mig', name, `${name}.mig.test`, app);
  return { ...base, ingresses: [...base.ingresses, { ...base.ingresses[0]!, name: `${name}-hp`, className: 'haproxy' }] };
}

interface PairJson {
  id: string;
  key: string;
  outcome: 'alike' | 'different' | 'pending';
  since: string | null;
  parity: { compared: number; alikeShare: number | null; from: string | null };
  differences: { kind: string; matters: boolean; summary: string; reason: string | null }[];
  risks: { kind: string }[];
  history?: { at: string; outcome: string }[];
}

let lab: Lab;
let daemon: DaemonProcess;
let browser: BrowserContext;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium is not installed at ${CHROMIUM}: run scripts/setup.sh (apt-get install chromium) before the tests`);
  mkdirSync(SHOTS, { recursive: true });
  lab = await startLab(merge(onBoth('same', {}), onBoth('big', { fault: { mode: 'large-headers', bytes: 8000 } })), { haproxy: true });
  const configPath = await writeDaemonConfig(lab, 'run.yaml', { schedule: { default: '1s' }, store: { path: join(lab.dir, 'hopwatch.db') } });
  daemon = await startDaemonProcess(configPath);
  browser = await chromium.launchPersistentContext(join(lab.dir, 'profile'), {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
  await lab?.stop();
});

async function pairs(): Promise<PairJson[]> {
  return (await getJson<{ pairs: PairJson[] }>(`${daemon.url}/api/v1/pairs`)).body.pairs;
}

describe('pairs tracked by the daemon', () => {
  let same: PairJson;
  let big: PairJson;

  beforeAll(async () => {
    // Both pairs compared at least three times: parity is over time, not one look.
    await eventually(async () => {
      const list = await pairs();
      return list.length === 2 && list.every((p) => p.parity.compared >= 3);
    }, 60_000, async () => JSON.stringify(await pairs()));
    const list = await pairs();
    same = (await getJson<PairJson>(`${daemon.url}/api/v1/pairs/${list.find((p) => p.key === 'same.mig.test/')!.id}`)).body;
    big = (await getJson<PairJson>(`${daemon.url}/api/v1/pairs/${list.find((p) => p.key === 'big.mig.test/')!.id}`)).body;
  }, 90_000);

  it('the API: alike since the first comparison, every comparison alike; risks listed apart', () => {
    expect(same.outcome).toBe('alike');
    expect(same.since).toBe(same.parity.from);
    expect(same.parity.alikeShare).toBe(1);
    expect(same.history?.length).toBe(same.parity.compared);
    expect(same.differences.filter((d) => d.matters)).toEqual([]);
    expect(same.risks.map((r) => r.kind)).toContain('retries');
  });

  it('the API: a header block between the buffers is a difference every round, named with ingress-nginx\'s buffer', () => {
    expect(big.outcome).toBe('different');
    expect(big.parity.alikeShare).toBe(0);
    const status = big.differences.find((d) => d.kind === 'status');
    expect(status?.reason).toMatch(/^old path: 502 — the pods' \d+(\.\d)? KiB response header block exceeds ingress-nginx proxy-buffer-size 4 KiB/);
    expect(big.differences.find((d) => d.kind === 'verdict')?.matters).toBe(false);
  });

  it('bad requests name the parameter or the pair', async () => {
    const bad = await getJson<{ error: { code: string; parameter: string } }>(`${daemon.url}/api/v1/pairs?outcome=maybe`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'BAD_PARAMETER', parameter: 'outcome' });
    expect((await getJson(`${daemon.url}/api/v1/pairs/nope..nope`)).status).toBe(404);
    const different = await getJson<{ pairs: PairJson[] }>(`${daemon.url}/api/v1/pairs?outcome=different`);
    expect(different.body.pairs.map((p) => p.key)).toEqual(['big.mig.test/']);
  });

  it('/metrics: hopwatch_pair_parity 1 for the alike pair, 0 for the other, one series each', async () => {
    const text = await (await fetch(`${daemon.url}/metrics`)).text();
    const series = text.split('\n').filter((l) => l.startsWith('hopwatch_pair_parity{'));
    expect(series).toHaveLength(2);
    expect(series.find((l) => l.includes('route="same.mig.test/"'))).toMatch(/old="Ingress mig\/same",new="Ingress mig\/same-hp"\} 1$/);
    expect(series.find((l) => l.includes('route="big.mig.test/"'))).toMatch(/\} 0$/);
  });

  it('the Migration page in Chromium: both pairs, alike and different, since when, the difference and the risks', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    await page.goto(`${daemon.url}/#/migration`);
    await page.waitForSelector('#view[data-loaded="migration"]', { timeout: 20_000 });
    expect(await page.locator('.tabs a.active').textContent()).toBe('Migration');
    const alike = page.locator('.pair[data-outcome="alike"]');
    const different = page.locator('.pair[data-outcome="different"]');
    expect([await alike.count(), await different.count()]).toEqual([1, 1]);
    expect(await alike.locator('h2').textContent()).toBe('same.mig.test/');
    expect(await alike.locator('.pair-since').textContent()).toMatch(/^since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(await alike.locator('.pair-parity').textContent()).toMatch(/^100% of \d+ comparisons alike/);
    expect(await alike.locator('.parity-cell.parity-alike').count()).toBeGreaterThanOrEqual(3);
    expect(await different.locator('.parity-cell.parity-different').count()).toBeGreaterThanOrEqual(3);
    expect(await different.locator('ul.differences li[data-kind="status"]').textContent()).toContain('proxy-buffer-size 4 KiB');
    expect(await alike.locator('ul.risks li[data-kind="retries"]').count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'dashboard-migration.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
