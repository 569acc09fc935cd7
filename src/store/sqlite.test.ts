import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreError } from './errors.js';
import { findMigrationsDir, loadMigrations, openStore, splitLeadingPragmas } from './sqlite.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hopwatch-sqlite-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function migrationsDir(files: Record<string, string>): string {
  const d = tempDir();
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(d, name), sql);
  return d;
}

function errorOf(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StoreError) return err;
    throw err;
  }
  throw new Error('expected a StoreError');
}

describe('openStore', () => {
  it('applies the real migrations once, records them, and sets WAL, auto_vacuum and page size on a new file', () => {
    const path = join(tempDir(), 'h.db');
    const db = openStore(path, { now: () => 1234 });
    expect(db.prepare('SELECT version, name, applied_at FROM schema_migrations').all()).toEqual([
      { version: 1, name: 'init', applied_at: 1234 },
      { version: 2, name: 'route_removal', applied_at: 1234 },
      { version: 3, name: 'alert_outbox', applied_at: 1234 },
      { version: 4, name: 'incident_summary', applied_at: 1234 },
      { version: 5, name: 'route_backends', applied_at: 1234 },
      { version: 6, name: 'route_parent', applied_at: 1234 },
    ]);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2); // INCREMENTAL
    expect(db.pragma('page_size', { simple: true })).toBe(16384);
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    db.close();
    const again = openStore(path, { now: () => 99 });
    expect(again.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({ n: 6 });
    again.close();
  });

  it('applies numbered migrations in order, each recorded with its name', () => {
    const dir = migrationsDir({
      '002_second.sql': 'CREATE TABLE b (x INTEGER); INSERT INTO b SELECT count(*) FROM a;',
      '001_first.sql': '-- comment\nCREATE TABLE a (x INTEGER);',
    });
    const db = openStore(':memory:', { migrationsDir: dir, now: () => 7 });
    expect(db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual([
      { version: 1, name: 'first' },
      { version: 2, name: 'second' },
    ]);
    expect(db.prepare('SELECT x FROM b').get()).toEqual({ x: 0 });
    db.close();
  });

  it('rolls back a failing migration whole and keeps the ones before it', () => {
    const path = join(tempDir(), 'f.db');
    const dir = migrationsDir({
      '001_ok.sql': 'CREATE TABLE a (x INTEGER);',
      '002_broken.sql': 'CREATE TABLE half (x INTEGER); INSERT INTO no_such_table VALUES (1);',
    });
    const err = errorOf(() => openStore(path, { migrationsDir: dir }));
    expect(err.code).toBe('MIGRATION_FAILED');
    expect(err.message).toContain('002_broken');
    const db = openStore(path, { migrationsDir: migrationsDir({ '001_ok.sql': 'CREATE TABLE a (x INTEGER);' }) });
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
    expect(db.prepare('SELECT version FROM schema_migrations').all()).toEqual([{ version: 1 }]);
    db.close();
  });

  it('refuses a database whose schema is newer than the newest migration it knows, naming both versions', () => {
    const path = join(tempDir(), 'n.db');
    const newer = migrationsDir({ '001_a.sql': 'CREATE TABLE a (x);', '002_b.sql': 'CREATE TABLE b (x);', '005_e.sql': 'CREATE TABLE e (x);' });
    openStore(path, { migrationsDir: newer }).close();
    const older = migrationsDir({ '001_a.sql': 'CREATE TABLE a (x);', '002_b.sql': 'CREATE TABLE b (x);' });
    const err = errorOf(() => openStore(path, { migrationsDir: older }));
    expect(err.code).toBe('SCHEMA_TOO_NEW');
    expect(err.message).toContain('version 5');
    expect(err.message).toContain('version 2');
  });

  it('refuses to open read-only a database that needs a migration', () => {
    const path = join(tempDir(), 'r.db');
    openStore(path, { migrationsDir: migrationsDir({ '001_a.sql': 'CREATE TABLE a (x);' }) }).close();
    const dir = migrationsDir({ '001_a.sql': 'CREATE TABLE a (x);', '002_b.sql': 'CREATE TABLE b (x);' });
    expect(errorOf(() => openStore(path, { migrationsDir: dir, readonly: true })).code).toBe('SCHEMA_OUTDATED');
    const ro = openStore(path, { migrationsDir: migrationsDir({ '001_a.sql': 'CREATE TABLE a (x);' }), readonly: true });
    expect(ro.readonly).toBe(true);
    ro.close();
  });
});

describe('migration files', () => {
  it('rejects misnamed and duplicated migration files', () => {
    expect(errorOf(() => loadMigrations(migrationsDir({ 'init.sql': '' }))).code).toBe('BAD_MIGRATION');
    expect(errorOf(() => loadMigrations(migrationsDir({ '001_a.sql': '', '0001_b.sql': '' }))).code).toBe('BAD_MIGRATION');
    expect(errorOf(() => loadMigrations(join(tempDir(), 'missing'))).code).toBe('MIGRATIONS_NOT_FOUND');
  });

  it('splits the leading PRAGMAs (after comments) from the body', () => {
    const { pragmas, body } = splitLeadingPragmas('-- hi\nPRAGMA a = 1;\n  PRAGMA b=2;\nCREATE TABLE t (x); PRAGMA c;');
    expect(pragmas).toEqual(['PRAGMA a = 1;', 'PRAGMA b=2;']);
    expect(body).toBe('CREATE TABLE t (x); PRAGMA c;');
  });

  it('finds migrations/ at the package root from src/store and from a compiled dist/src/store', () => {
    const root = tempDir();
    writeFileSync(join(root, 'package.json'), '{}');
    mkdirSync(join(root, 'migrations'));
    mkdirSync(join(root, 'dist', 'src', 'store'), { recursive: true });
    const fromDist = pathToFileURL(join(root, 'dist', 'src', 'store', 'sqlite.js')).href;
    expect(findMigrationsDir(fromDist)).toBe(join(root, 'migrations'));
    expect(loadMigrations(findMigrationsDir()).map((m) => m.version)).toContain(1);
    const orphan = pathToFileURL(join(tmpdir(), 'no-package-here', 'x.js')).href;
    expect(errorOf(() => findMigrationsDir(orphan)).code).toBe('MIGRATIONS_NOT_FOUND');
  });
});
