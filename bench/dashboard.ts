// 5. Dashboard load: the time from navigation to the first full render of the routes page (the
// dashboard marks it with #view[data-loaded="routes"]) in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core), served by the daemon's HTTP server and store reader
// over a store of 1,000 routes (the full run: the 30-day store; quick: 1,000 routes with an hour
// of history). A fresh profile; the first load is cold, the figure is the median of the warm ones.
// Baseline, same run: the routes page's API call (GET /api/v1/routes, first page) from Node.
// Without dashboard/, playwright-core or chromium, the figure is reported as not measured.

import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createMetrics } from '../src/server/metrics.js';
import { startServer } from '../src/server/server.js';
import { openStoreReader } from '../src/store/reader.js';
import { type BenchContext, type Benchmark, type Figure, figure, median } from './harness.js';
import { storeFixture } from './store-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const LISTEN = '127.212.0.1:0';
const SCALE = { full: { loads: 6 }, quick: { loads: 3 }, tiny: { loads: 2 } };

/** The part of playwright-core used here (imported at run time: the benchmark works without it). */
interface Pw {
  chromium: { launchPersistentContext(dir: string, options: Record<string, unknown>): Promise<PwContext> };
}
interface PwContext {
  newPage(): Promise<PwPage>;
  close(): Promise<void>;
}
interface PwPage {
  goto(url: string): Promise<unknown>;
  waitForSelector(selector: string, options: { timeout: number }): Promise<unknown>;
  evaluate<T>(fn: () => T): Promise<T>;
  close(): Promise<void>;
}

async function loadPlaywright(): Promise<Pw | null> {
  const name = 'playwright-core';
  try {
    return (await import(name)) as Pw;
  } catch {
    return null;
  }
}

function notMeasured(why: string): Figure[] {
  return [figure({ bench: 'dashboard', name: 'routes page, first full render (1,000 routes)', value: Number.NaN, unit: 'ms', aim: { of: 'value', max: 1000 }, runs: 0, note: `not measured: ${why}` })];
}

function getMs(url: string): Promise<number> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - t));
    }).on('error', reject);
  });
}

async function measure(ctx: BenchContext): Promise<Figure[]> {
  const dashboardDir = join(ctx.root, 'dashboard');
  if (!existsSync(join(dashboardDir, 'index.html'))) return notMeasured('no dashboard/ in this checkout');
  if (!existsSync(CHROMIUM)) return notMeasured(`no chromium at ${CHROMIUM} (scripts/setup.sh installs it)`);
  const pw = await loadPlaywright();
  if (pw === null) return notMeasured('playwright-core is not installed (npm ci)');
  const f = storeFixture(ctx, 'routes');
  const reader = await openStoreReader(f.path);
  ctx.defer(() => reader.close());
  const server = await startServer({
    listen: LISTEN, token: null, reader, metrics: createMetrics({ defaultMetrics: false }), health: { live: () => true, ready: () => true, detail: () => ({}) },
    dashboardDir, log: () => undefined, now: () => f.now,
  });
  ctx.defer(() => server.close());
  const profile = join(ctx.tmpDir, 'chromium-profile');
  mkdirSync(profile, { recursive: true });
  const browser = await pw.chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, viewport: { width: 1440, height: 1000 }, args: ARGS });
  ctx.defer(() => browser.close());
  const loads: number[] = [];
  const api: number[] = [];
  let rows = 0;
  for (let i = 0; i < SCALE[ctx.mode].loads; i++) {
    const page = await browser.newPage();
    const t = performance.now();
    await page.goto(`${server.url}/`);
    await page.waitForSelector('#view[data-loaded="routes"]', { timeout: 30_000 });
    loads.push(performance.now() - t);
    rows = await page.evaluate(() => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('#view tbody tr').length);
    await page.close();
    api.push(await getMs(`${server.url}/api/v1/routes?sort=status&order=desc&limit=100`));
  }
  ctx.log(`loads: ${loads.map((x) => x.toFixed(0)).join(', ')} ms; ${rows} rows shown`);
  const warm = loads.length > 1 ? loads.slice(1) : loads;
  const note = `${f.routes} routes (${f.scaled ? `${Math.round(f.days * 24)} h of history` : `${f.days} d of history`}), ${rows} rows on the first page; cold first load ${loads[0]!.toFixed(0)} ms`;
  return [
    figure({ bench: 'dashboard', name: `routes page, first full render (${f.routes} routes)`, value: median(warm), unit: 'ms', baseline: { name: 'its API call alone, from Node', value: median(api.slice(1).length > 0 ? api.slice(1) : api) }, aim: { of: 'value', max: 1000 }, runs: warm.length, note }),
  ];
}

/** The benchmark. */
export const dashboardBench: Benchmark = { id: 'dashboard', title: '5. Dashboard load', run: measure };
