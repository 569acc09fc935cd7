/// <reference lib="dom" />
// The dashboard in a real browser: Debian's chromium driven by playwright-core, over the HTTP
// server on a store seeded with known history (test/e2e/history.ts) through the real write path.
// It loads without console errors, asks for the token, draws checkout's controller failures at
// the right times, and clicking a route and an incident shows the right hop and cause.
// Screenshots go to test-output/ (look at them when changing the dashboard).

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/server/metrics.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { openStoreReader, type StoreReader } from '../../src/store/reader.js';
import { ROOT } from './cli.js';
import { seedHistory, FILLER, type SeededHistory } from './history.js';

const CHROMIUM = '/usr/bin/chromium';
const HOST = '127.210.0.1';
const TOKEN = 'dashboard-test-token';
const SHOTS = join(ROOT, 'test-output');
const CONTROLLER_RGB = [0x00, 0x72, 0xb2];

const dir = mkdtempSync(join(tmpdir(), 'hopwatch-dashboard-'));
let history: SeededHistory;
let reader: StoreReader;
let server: RunningServer;
let browser: BrowserContext;

beforeAll(async () => {
  // A missing browser is a failure with one clear line, never a silent skip.
  if (!existsSync(CHROMIUM)) throw new Error(`chromium is not installed at ${CHROMIUM}: run scripts/setup.sh (apt-get install chromium) before the tests`);
  mkdirSync(SHOTS, { recursive: true });
  history = seedHistory(join(dir, 'history.db'), Date.now());
  reader = await openStoreReader(join(dir, 'history.db'));
  server = await startServer({
    listen: `${HOST}:0`, token: TOKEN, reader, metrics: createMetrics({ defaultMetrics: false }),
    health: { live: () => true, ready: () => true, detail: () => ({}) }, dashboardDir: join(ROOT, 'dashboard'), log: () => undefined,
  });
  browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await reader?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A new page; console errors and page errors are collected (the 401 of the token handshake is told apart by the caller). */
async function newPage(withToken: boolean): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  if (withToken) await page.addInitScript((token) => sessionStorage.setItem('hopwatch.token', token), TOKEN);
  return { page, errors };
}

async function loaded(page: Page, kind: string): Promise<void> {
  await page.waitForSelector(`#view[data-loaded="${kind}"]`, { timeout: 20_000 });
}

const routeHash = (id: string): string => `#/route/${encodeURIComponent(id)}`;

describe('dashboard', () => {
  it('asks for the token on 401, keeps it for the tab, then shows the routes table', async () => {
    const { page, errors } = await newPage(false);
    await page.addInitScript(() => {
      // Counts the listeners the token dialog gets: asking twice must not add a second of each.
      const add = HTMLDialogElement.prototype.addEventListener;
      (window as unknown as { cancelListeners: number }).cancelListeners = 0;
      HTMLDialogElement.prototype.addEventListener = function (this: HTMLDialogElement, type: string, ...rest: [EventListenerOrEventListenerObject, (boolean | AddEventListenerOptions)?]) {
        if (type === 'cancel') (window as unknown as { cancelListeners: number }).cancelListeners++;
        return add.call(this, type, ...rest);
      } as typeof add;
    });
    await page.goto(`${server.url}/`);
    await page.waitForSelector('#token-dialog[open]');
    await page.fill('#token-input', 'wrong-token');
    await page.click('#token-form button[type=submit]');
    await page.waitForSelector('#token-error:not([hidden])');
    expect(await page.textContent('#token-error')).toContain('not accepted');
    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button[type=submit]');
    await loaded(page, 'routes');
    expect(await page.evaluate(() => sessionStorage.getItem('hopwatch.token'))).toBe(TOKEN);
    expect(await page.locator('table.routes tbody tr').count()).toBe(100);
    expect(await page.evaluate(() => (window as unknown as { cancelListeners: number }).cancelListeners)).toBe(1);
    // The only console errors are the browser's notes of the two 401 answers of the handshake.
    expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    await page.close();
  });

  it('routes table: verdicts with hop and cause, uptime, server-side pages, filters and sorting, no console error', async () => {
    const { page, errors } = await newPage(true);
    await page.goto(`${server.url}/`);
    await loaded(page, 'routes');
    const total = 3 + FILLER;
    expect(await page.textContent('.pager')).toContain(`1–100 of ${total}`);
    const login = page.locator(`tr[data-route="${history.routes.login.id}"]`);
    expect(await login.locator('[data-status]').getAttribute('data-status')).toBe('failing');
    expect(await login.locator('[data-hop]').textContent()).toBe('pod');
    expect(await login.locator('td.cause').textContent()).toBe('pod.refused');
    // checkout failed for 1 h of the last 24 h: 23/24 up.
    expect(await page.locator(`tr[data-route="${history.routes.checkout.id}"] td.num`).first().textContent()).toBe('95.83%');
    await page.screenshot({ path: join(SHOTS, 'dashboard-routes.png'), fullPage: false });

    await page.click('.pager button:has-text("Next")');
    await page.waitForFunction(() => document.querySelector('.pager')?.textContent?.includes('101–'));
    expect(await page.locator('table.routes tbody tr').count()).toBe(total - 100);

    await page.selectOption('select[aria-label=status]', 'failing');
    await loaded(page, 'routes');
    await page.waitForFunction(() => document.querySelectorAll('table.routes tbody tr').length === 1);
    expect(await page.locator('table.routes tbody tr').getAttribute('data-route')).toBe(history.routes.login.id);
    // The kind filter is the API's: these routes are all Ingress routes, so HTTPRoute matches none.
    await page.selectOption('select[aria-label=kind]', 'HTTPRoute');
    await page.waitForFunction(() => document.querySelector('table.routes tbody td.empty')?.textContent === 'No route matches.');
    expect(page.url()).toContain('kind=HTTPRoute');
    await page.selectOption('select[aria-label=kind]', 'Ingress');
    await page.waitForFunction(() => document.querySelectorAll('table.routes tbody tr[data-route]').length === 1);

    await page.goto(`${server.url}/#/?sort=uptime24h&order=asc`);
    await loaded(page, 'routes');
    await page.waitForFunction(() => document.querySelector('th.active')?.textContent?.includes('24 h'));
    const firstTwo = await page.locator('table.routes tbody tr').evaluateAll((rows) => rows.slice(0, 2).map((r) => r.getAttribute('data-route')));
    expect(firstTwo).toEqual([history.routes.checkout.id, history.routes.login.id]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a route's chart draws the controller failures at their times; its incident shows hop and cause", async () => {
    const { page, errors } = await newPage(true);
    await page.goto(`${server.url}/`);
    await loaded(page, 'routes');
    await page.click(`tr[data-route="${history.routes.checkout.id}"] a`);
    await loaded(page, 'route');
    expect(page.url()).toContain(routeHash(history.routes.checkout.id));
    // What the route hangs off (migration 006 keeps it): the IngressClass here, a Gateway and listener for an HTTPRoute.
    expect(await page.textContent('nav.crumbs')).toContain('checkout · Ingress via IngressClass nginx');
    await page.waitForSelector('#timeline-chart canvas');
    expect(await page.getAttribute('#timeline-chart', 'data-failing-hops')).toBe('controller');

    // The stack's data: failures exactly in the buckets of [e0, e1), five (one a minute) in each 5-minute bucket.
    const drawn = await page.evaluate(() => {
      const el = document.getElementById('timeline-chart') as HTMLElement & { uplot: { data: (number | null)[][] } };
      const [xs, stack] = el.uplot.data;
      return xs!.map((x, i) => [x! * 1000, stack![i]] as const).filter(([, v]) => v !== null);
    });
    const expected = Array.from({ length: 12 }, (_, k) => [history.e0 + k * 300_000, 5]);
    expect(drawn).toEqual(expected);

    // And on the canvas: the controller's colour at the bottom of the bars inside the incident, none an hour before.
    const pixelAt = (t: number): Promise<number[]> => page.evaluate((at) => {
      const el = document.getElementById('timeline-chart') as HTMLElement & { uplot: { valToPos(v: number, s: string, c: boolean): number; bbox: { top: number; height: number }; ctx: CanvasRenderingContext2D } };
      const u = el.uplot;
      const x = Math.round(u.valToPos(at / 1000, 'x', true));
      const y = Math.round(u.bbox.top + u.bbox.height - 3);
      return [...u.ctx.getImageData(x, y, 1, 1).data].slice(0, 3);
    }, t);
    for (const k of [0, 5, 11]) expect(await pixelAt(history.e0 + k * 300_000 + 150_000)).toEqual(CONTROLLER_RGB);
    expect(await pixelAt(history.e0 - 3_600_000 + 150_000)).not.toEqual(CONTROLLER_RGB);
    await page.screenshot({ path: join(SHOTS, 'dashboard-route.png'), fullPage: true });

    // Clicking a bar lists that bucket's rounds and opens its first failing round.
    // The chart sits below the latest failing round: bring it on screen before clicking it.
    await page.locator('#timeline-chart').scrollIntoViewIfNeeded();
    const box = await page.evaluate((at) => {
      const el = document.getElementById('timeline-chart') as HTMLElement & { uplot: { valToPos(v: number, s: string): number; over: HTMLElement } };
      const r = el.uplot.over.getBoundingClientRect();
      return { x: r.left + el.uplot.valToPos(at / 1000, 'x'), y: r.top + r.height - 10 };
    }, history.e0 + 20 * 60_000 + 150_000);
    await page.mouse.move(box.x, box.y);
    await page.mouse.click(box.x, box.y);
    await page.waitForSelector(`.round-detail[data-round="${new Date(history.e0 + 20 * 60_000).toISOString()}"]`);
    expect(await page.locator('.round-detail .round-head [data-hop]').textContent()).toBe('controller');
    expect(await page.locator('.round-detail tr[data-hop=controller] .hop-error').textContent()).toBe('502');
    expect(await page.locator('.round-detail tr[data-hop=service] .hop-ok').textContent()).toBe('200');

    await page.click(`tr[data-incident="${history.incidents.checkout.id}"]`);
    await loaded(page, 'incident');
    expect(await page.locator('.verdict [data-hop]').first().textContent()).toBe('controller');
    expect(await page.locator('.verdict [data-cause]').textContent()).toBe('controller.error');
    expect(await page.locator('.tag-rollout').count()).toBe(1);
    // Its first failing round is the one that opened it, hop by hop.
    await page.waitForSelector(`.round-detail[data-round="${new Date(history.e0).toISOString()}"]`);
    expect(await page.locator('.round-detail tr[data-hop]').count()).toBe(6);
    await page.screenshot({ path: join(SHOTS, 'dashboard-incident.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('incidents page lists every route\'s incidents; clicking the open one shows hop pod and cause pod.refused', async () => {
    const { page, errors } = await newPage(true);
    await page.goto(`${server.url}/#/incidents`);
    await loaded(page, 'incidents');
    const ids = await page.locator('table.incidents tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-incident'))));
    expect(ids).toEqual([history.incidents.login.id, history.incidents.checkout.id]);
    await page.screenshot({ path: join(SHOTS, 'dashboard-incidents.png') });
    await page.click(`tr[data-incident="${history.incidents.login.id}"]`);
    await loaded(page, 'incident');
    expect(await page.locator('.verdict [data-hop]').first().textContent()).toBe('pod');
    expect(await page.locator('.verdict [data-cause]').textContent()).toBe('pod.refused');
    expect(await page.locator('.round-detail tr[data-hop=pod] .hop-error').allTextContents()).toEqual(['refused', 'refused']);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('dashboard robustness', () => {
  it('redrawing the chart keeps one ResizeObserver per chart, not one per refresh', async () => {
    const { page, errors } = await newPage(true);
    await page.addInitScript(() => {
      const Native = window.ResizeObserver;
      const w = window as unknown as { liveObservers: number };
      w.liveObservers = 0;
      window.ResizeObserver = class extends Native {
        #on = false;
        override observe(target: Element, options?: ResizeObserverOptions): void {
          if (!this.#on) w.liveObservers++;
          this.#on = true;
          super.observe(target, options);
        }
        override disconnect(): void {
          if (this.#on) w.liveObservers--;
          this.#on = false;
          super.disconnect();
        }
      };
    });
    await page.goto(`${server.url}/#/incidents`);
    await loaded(page, 'incidents');
    // A string, not a function: vitest would rewrite a dynamic import() inside a function for Node.
    const live = await page.evaluate(`(async () => {
      const { drawTimeline } = await import('${server.url}/chart.js');
      const el = document.createElement('div');
      el.style.width = '600px';
      document.body.append(el);
      const start = Date.UTC(2026, 0, 1);
      const buckets = [0, 1, 2].map((k) => ({ start: new Date(start + k * 60000).toISOString(), failuresByHop: k === 1 ? { pod: 2 } : {}, latency: { p50Ms: 3, p95Ms: 5 } }));
      // What each refresh of a route page does to its chart.
      for (let k = 0; k < 3; k++) drawTimeline(el, { stepMs: 60000, buckets }, [], () => undefined);
      return window.liveObservers;
    })()`);
    expect(live).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a hand-edited hash with a broken escape and a failed round fetch are shown, not thrown', async () => {
    const { page, errors } = await newPage(true);
    await page.goto(`${server.url}/#/route/%E0%A4%A`);
    await loaded(page, 'route');
    expect(await page.textContent('.load-error')).toContain('no route');

    await page.goto(`${server.url}/`);
    await page.goto(`${server.url}/${routeHash(history.routes.checkout.id)}`);
    await loaded(page, 'route');
    await page.route((url) => /\/rounds\/\d+$/.test(url.pathname), (r) =>
      r.fulfill({ status: 500, contentType: 'application/json', body: '{"error":{"code":"INTERNAL","message":"store on fire"}}' }));
    await page.locator('table.rounds tbody tr').first().click();
    await page.waitForSelector('.load-error');
    expect(await page.textContent('.load-error')).toContain('store on fire');
    // The browser notes the 404 and 500 answers themselves; nothing else may reach the console.
    expect(errors.filter((e) => !/status of (404|500)/.test(e))).toEqual([]);
    await page.close();
  });

  it('a page left while loading does not mark the next page as loaded or failed', async () => {
    const { page, errors } = await newPage(true);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route((url) => url.pathname === '/api/v1/routes', async (r) => {
      await held;
      await r.fulfill({ status: 500, contentType: 'application/json', body: '{"error":{"code":"INTERNAL","message":"late answer"}}' });
    });
    await page.goto(`${server.url}/`);
    await page.evaluate(() => (location.hash = '#/incidents'));
    await loaded(page, 'incidents');
    const answered = page.waitForResponse((res) => new URL(res.url()).pathname === '/api/v1/routes');
    release();
    await answered;
    // Let the routes page's load settle (its rejection runs in the page's next tasks).
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
    expect(await page.getAttribute('#view', 'data-loaded')).toBe('incidents');
    expect(await page.locator('.load-error').count()).toBe(0);
    expect(errors.filter((e) => !/status of 500/.test(e))).toEqual([]);
    await page.close();
  });
});

describe('dashboard details', () => {
  it('draws the newest bucket, and a click anywhere in a bar opens that bar\'s bucket', async () => {
    const { page, errors } = await newPage(true);
    await page.goto(`${server.url}/${routeHash(history.routes.login.id)}?range=1h`);
    await loaded(page, 'route');
    const axis = await page.evaluate(() => {
      const el = document.getElementById('timeline-chart') as HTMLElement & { uplot: { data: number[][]; scales: { x: { max: number } } } };
      return { xs: el.uplot.data[0]!, max: el.uplot.scales.x.max };
    });
    // The newest bucket [start, start + 1 min) is inside the plot, not cut off at its start.
    expect(axis.max).toBeGreaterThanOrEqual(axis.xs[axis.xs.length - 1]! + 60);
    // Four fifths into a bar: still that bar's minute (uPlot's nearest-point cursor would pick the next one).
    const start = axis.xs[axis.xs.length - 10]!;
    // The chart sits below the latest failing round: bring it on screen before clicking it.
    await page.locator('#timeline-chart').scrollIntoViewIfNeeded();
    const box = await page.evaluate((at) => {
      const el = document.getElementById('timeline-chart') as HTMLElement & { uplot: { valToPos(v: number, s: string): number; over: HTMLElement } };
      const r = el.uplot.over.getBoundingClientRect();
      return { x: r.left + el.uplot.valToPos(at, 'x'), y: r.top + r.height - 10 };
    }, start + 48);
    await page.mouse.move(box.x, box.y);
    await page.mouse.click(box.x, box.y);
    const label = `Rounds ${new Date(start * 1000).toISOString().slice(0, 16).replace('T', ' ')}, 1 min`;
    await page.waitForFunction((want) => document.querySelector('#rounds-title')?.textContent === want, label);
    // Refused pods: the time until the error is drawn as such, not as body.
    await page.waitForSelector('.round-detail tr[data-hop=pod] .hop-error');
    expect(await page.locator('.round-detail tr[data-hop=pod] .wf-error').count()).toBe(2);
    expect(await page.locator('.round-detail tr[data-hop=pod] .wf-body').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('keeps the focus and every keystroke in the routes search box while it filters', async () => {
    const { page, errors } = await newPage(true);
    await page.goto(`${server.url}/`);
    await loaded(page, 'routes');
    const search = page.locator('input[type=search]');
    await search.click();
    await search.pressSequentially('chec');
    // Past the debounce: the table filters in place.
    await page.waitForFunction(() => location.hash.includes('q=chec'));
    await search.pressSequentially('kout');
    await page.waitForFunction(() => location.hash.includes('q=checkout'));
    expect(await search.inputValue()).toBe('checkout');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('type'))).toBe('search');
    await page.waitForFunction(() => document.querySelectorAll('table.routes tbody tr').length === 1);
    expect(await page.locator('table.routes tbody tr').getAttribute('data-route')).toBe(history.routes.checkout.id);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('fits a phone\'s width: tables scroll inside their panels, the page itself does not scroll sideways', async () => {
    const { page, errors } = await newPage(true);
    await page.setViewportSize({ width: 375, height: 800 });
    const widths: Record<string, number> = {};
    for (const [name, hash, kind] of [
      ['routes', '#/', 'routes'],
      ['route', routeHash(history.routes.login.id), 'route'],
      ['incidents', '#/incidents', 'incidents'],
      ['incident', `#/incident/${history.incidents.login.id}`, 'incident'],
    ] as const) {
      await page.goto(`${server.url}/${hash}`);
      await loaded(page, kind);
      await page.waitForTimeout(100);
      widths[name] = await page.evaluate(() => document.documentElement.scrollWidth);
      await page.screenshot({ path: join(SHOTS, `dashboard-narrow-${name}.png`), fullPage: true });
    }
    expect(widths).toEqual({ routes: 375, route: 375, incidents: 375, incident: 375 });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a page that fails to load does not leave the previous page\'s content under its error', async () => {
    const { page, errors } = await newPage(true);
    await page.goto(`${server.url}/${routeHash(history.routes.checkout.id)}`);
    await loaded(page, 'route');
    expect(await page.locator('#view .stats').count()).toBe(1);
    await page.evaluate(() => (location.hash = '#/incident/424242'));
    await page.waitForSelector('.load-error');
    expect(await page.textContent('.load-error')).toContain('no incident 424242');
    expect(await page.locator('#view .stats').count()).toBe(0);
    expect(errors.filter((e) => !/status of 404/.test(e))).toEqual([]);
    await page.close();
  });
});

describe('hopwatch demo', () => {
  it("opens with the dashboard URL; the lab's broken routes show on the dashboard within a minute", async () => {
    // Bounded by --for even if this test dies; stopped by its pid below.
    const child = spawn(process.execPath, [join(ROOT, 'bin/hopwatch.js'), 'demo', '--listen', '127.210.0.3:0', '--quiet', '--for', '150s'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      const url = await waitFor(() => /^hopwatch dashboard: (http:\/\/127\.210\.0\.3:\d+)\//.exec(stdout)?.[1], 60_000, () => `stdout ${stdout}\nstderr ${stderr}`);
      const { page, errors } = await newPage(false);
      await page.goto(`${url}/`);
      await loaded(page, 'routes');
      // The routes table refreshes itself: the broken routes appear as the daemon's first rounds land.
      const broken = ['payments/checkout', 'accounts/login', 'reports/export', 'catalog/search', 'legacy/billing'];
      await page.waitForFunction((names) => {
        const rows = Array.from(document.querySelectorAll('table.routes tbody tr'));
        return names.every((n) => rows.some((r) => r.querySelector('.route-owner')?.textContent === n && ['failing', 'degraded'].includes(r.querySelector('[data-status]')?.getAttribute('data-status') ?? '')));
      }, broken, { timeout: 60_000 });
      const checkout = page.locator('tr:has(.route-owner:text-is("payments/checkout"))');
      expect(await checkout.locator('[data-hop]').textContent()).toBe('pod');
      expect(await checkout.locator('td.cause').textContent()).toBe('pod.refused');
      await page.screenshot({ path: join(SHOTS, 'dashboard-demo.png') });
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 30_000))]);
      if (code === 'timeout') child.kill('SIGKILL');
    }
  }, 150_000);
});

/** Polls fn until it returns a value (bounded). */
async function waitFor<T>(fn: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`not seen within ${timeoutMs} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
