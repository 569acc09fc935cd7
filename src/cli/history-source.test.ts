import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HistoryError, reportHistoryError, sourceFromFlags, storeSource } from './history-source.js';

const dir = mkdtempSync(join(tmpdir(), 'hopwatch-history-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The HistoryError storeSource throws for path. */
function openError(path: string): HistoryError {
  try {
    storeSource(path);
  } catch (error) {
    if (error instanceof HistoryError) return error;
    throw error;
  }
  throw new Error(`expected a HistoryError, ${path} opened`);
}

describe('storeSource', () => {
  it('says in one line (exit 2) that a file is not a store, instead of an internal error', () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'this is not a SQLite database, just a text file that is long enough to have a header\n'.repeat(20));
    const error = openError(path);
    expect(error.code).toBe('BAD_STORE');
    expect(error.message).toMatch(/^cannot read the history store .*notes\.txt: /);
    const lines: string[] = [];
    expect(reportHistoryError(error, (line) => lines.push(line))).toBe(2);
    expect(lines).toHaveLength(1);
  });

  it('says in one line that a SQLite file was never opened by hopwatch', () => {
    const path = join(dir, 'other.db');
    const other = new Database(path);
    other.exec('CREATE TABLE t (x INTEGER)');
    other.close();
    const error = openError(path);
    expect(error.code).toBe('BAD_STORE');
    expect(error.message).toContain('other.db is not a hopwatch store (it has no hopwatch schema)');
    // An empty file likewise.
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    expect(openError(empty).message).toContain('empty.db is not a hopwatch store');
  });

  it('names a missing file as NO_STORE', () => {
    expect(openError(join(dir, 'missing.db')).code).toBe('NO_STORE');
  });
});

describe('sourceFromFlags', () => {
  it("sends $HOPWATCH_TOKEN trimmed, as the daemon reads it, so a Secret's trailing newline still matches", async () => {
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[]}');
    });
    // This reviewer's loopback block, an ephemeral port.
    server.listen(0, '127.215.0.1');
    await once(server, 'listening');
    try {
      const url = `http://127.215.0.1:${(server.address() as AddressInfo).port}`;
      const source = sourceFromFlags({ server: url }, () => 'unused.db', { HOPWATCH_TOKEN: 's3cret\n' });
      expect(await source.get(['namespaces'])).toEqual({ data: [] });
      const blank = sourceFromFlags({ server: url }, () => 'unused.db', { HOPWATCH_TOKEN: ' \n' });
      await blank.get(['namespaces']);
      expect(seen).toEqual(['Bearer s3cret', undefined]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
