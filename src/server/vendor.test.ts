// The dashboard's libraries served from their npm packages at /vendor/<package>/: the files of
// the package's served directory only, nothing else of node_modules.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessReader } from '../store/reader.js';
import { openStore, type Db } from '../store/sqlite.js';
import { createMetrics } from './metrics.js';
import { startServer, type RunningServer } from './server.js';
import { vendorDir } from './static.js';

const HOST = '127.210.0.5';
const dir = mkdtempSync(join(tmpdir(), 'hopwatch-vendor-'));
const uplotDist = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
let db: Db;
let server: RunningServer;
let noDashboard: RunningServer;

beforeAll(async () => {
  mkdirSync(join(dir, 'web'));
  writeFileSync(join(dir, 'web', 'index.html'), '<!doctype html>');
  db = openStore(':memory:');
  const deps = {
    listen: `${HOST}:0`, token: 'secret', reader: createInProcessReader(db), metrics: createMetrics({ defaultMetrics: false }),
    health: { live: () => true, ready: () => true, detail: () => ({}) }, log: () => undefined,
  };
  server = await startServer({ ...deps, dashboardDir: join(dir, 'web') });
  noDashboard = await startServer({ ...deps, dashboardDir: null });
});

afterAll(async () => {
  await server?.close();
  await noDashboard?.close();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A GET with the path sent byte for byte (fetch would normalise ".."). */
function rawGet(base: string, path: string): Promise<{ status: number; type: string | undefined; body: string }> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: HOST, port: Number(port), path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('/vendor/', () => {
  it('finds the installed uplot package', () => {
    expect(vendorDir('uplot')).toBe(uplotDist);
    expect(vendorDir('left-pad')).toBeNull();
  });

  it.each([
    ['/vendor/uplot/uPlot.esm.js', 'text/javascript; charset=utf-8', 'uPlot.esm.js'],
    ['/vendor/uplot/uPlot.min.css', 'text/css; charset=utf-8', 'uPlot.min.css'],
  ])('serves %s without the token', async (path, type, file) => {
    const res = await rawGet(server.url, path);
    expect(res.status).toBe(200);
    expect(res.type).toBe(type);
    expect(res.body).toBe(readFileSync(join(uplotDist, file), 'utf8'));
  });

  it.each([
    '/vendor/uplot/',
    '/vendor/uplot',
    '/vendor/uplot/../package.json',
    '/vendor/uplot/%2e%2e/package.json',
    '/vendor/uplot/..%2fpackage.json',
    '/vendor/typescript/package.json',
    '/vendor/..%2f..%2fpackage.json',
    '/vendor/uplot/missing.js',
    '/vendor/constructor/x.js',
    '/vendor/__proto__/x.js',
  ])('refuses %s', async (path) => {
    const res = await rawGet(server.url, path);
    expect(res.status).toBe(404);
    expect(res.body).not.toContain('"version"');
  });

  it('serves nothing when the dashboard is off', async () => {
    expect((await rawGet(noDashboard.url, '/vendor/uplot/uPlot.esm.js')).status).toBe(404);
  });
});
