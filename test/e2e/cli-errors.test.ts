// The binary's answers to a user's ordinary mistakes: one line naming the flag or file, exit 2, and
// nothing started that the mistake makes useless. And the documented ":memory:" store really runs.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHopwatch } from './cli.js';
import { startDaemonProcess } from './daemon.js';

// Outside the labs' blocks (127.1-250.x.x).
const HOST = '127.251.0.1';

let dir = '';
let kubeconfig = '';
let busy: Server;
let busyPort = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hopwatch-cli-errors-'));
  // A cluster that is not there: the daemon keeps retrying it, which these tests do not need.
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: c',
    `clusters: [{name: c, cluster: {server: "http://${HOST}:9", insecure-skip-tls-verify: true}}]`,
    'users: [{name: u, user: {}}]', 'contexts: [{name: c, context: {cluster: c, user: u}}]',
  ].join('\n'));
  busy = createServer();
  busy.listen(0, HOST);
  await once(busy, 'listening');
  busyPort = (busy.address() as { port: number }).port;
});

afterAll(async () => {
  busy.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Exit 2 and exactly one line on stderr containing `message`. */
function expectOneLine(res: { code: number | null; stderr: string }, message: string): void {
  expect(res.code).toBe(2);
  expect(res.stderr.split('\n').filter(Boolean)).toEqual([expect.stringContaining(message)]);
}

describe('hopwatch run', () => {
  it('names a store it cannot open, in one line', async () => {
    expectOneLine(
      await runHopwatch(['run', '--kubeconfig', kubeconfig, '--db', join(dir, 'no-such-dir', 'x.db'), '--listen', `${HOST}:0`]),
      `hopwatch: cannot open the store ${join(dir, 'no-such-dir', 'x.db')} (store.path, --db): `,
    );
    const notStore = join(dir, 'notes.txt');
    writeFileSync(notStore, 'not a database, just text that is long enough to have a header page'.repeat(20));
    expectOneLine(await runHopwatch(['run', '--kubeconfig', kubeconfig, '--db', notStore, '--listen', `${HOST}:0`]), 'file is not a database');
  });

  it('names a listen address that is taken, in one line', async () => {
    expectOneLine(
      await runHopwatch(['run', '--kubeconfig', kubeconfig, '--db', ':memory:', '--listen', `${HOST}:${busyPort}`]),
      `hopwatch: cannot listen on ${HOST}:${busyPort} (server.listen, --listen): `,
    );
  });

  it('runs with the ":memory:" store, its API answering from this process', async () => {
    const config = join(dir, 'memory.yaml');
    writeFileSync(config, `cluster: { kubeconfig: ${kubeconfig} }\nstore: { path: ":memory:" }\n`);
    const daemon = await startDaemonProcess(config);
    try {
      const routes = await fetch(`${daemon.url}/api/v1/routes`);
      expect(routes.status).toBe(200);
      expect(await routes.json()).toMatchObject({ data: [] });
      expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  });
});

describe('hopwatch demo', () => {
  it('checks its flags and its listen address before it starts the lab', async () => {
    const badFor = await runHopwatch(['demo', '--for', '7x']);
    expectOneLine(badFor, 'hopwatch: --for "7x": ');
    expect(badFor.stdout).toBe('');
    expectOneLine(await runHopwatch(['demo', '--listen', 'nonsense']), 'hopwatch: --listen "nonsense": expected host:port like 127.0.0.1:8080');
    const taken = await runHopwatch(['demo', '--listen', `${HOST}:${busyPort}`]);
    expectOneLine(taken, `hopwatch: cannot listen on ${HOST}:${busyPort} (--listen): `);
  });
});

describe('hopwatch probe', () => {
  it('refuses a malformed --ingress before it connects', async () => {
    expectOneLine(await runHopwatch(['probe', '--kubeconfig', kubeconfig, '--ingress', 'shop/web/extra']), 'hopwatch: --ingress "shop/web/extra": expected NAME or NAMESPACE/NAME');
  });

  it('says an empty kubeconfig is not one', async () => {
    const empty = join(dir, 'empty-kubeconfig');
    writeFileSync(empty, '');
    expectOneLine(await runHopwatch(['probe', '--kubeconfig', empty]), `hopwatch: cannot read kubeconfig ${empty}: it is empty or not a kubeconfig`);
  });
});
