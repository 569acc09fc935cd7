// Opens the history store: pragmas, then the numbered migrations in order.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { StoreError } from './errors.js';

/** A better-sqlite3 connection to the store. */
export type Db = Database.Database;

/** One numbered migration file. */
export interface Migration {
  /** The number NNN of NNN_name.sql. */
  version: number;
  /** The name part of NNN_name.sql. */
  name: string;
  /** The file name. */
  file: string;
  /** Leading PRAGMA statements, run outside the transaction on a new database only. */
  pragmas: string[];
  /** The rest of the file, run in one transaction. */
  body: string;
}

/** How to open the store. */
export interface OpenStoreOptions {
  /** Directory of NNN_name.sql files; default: `migrations/` at the package root. */
  migrationsDir?: string;
  /** Open read-only: no migration is applied, and a database that needs one is refused. */
  readonly?: boolean;
  /** How long a statement waits for another connection's lock before failing. */
  busyTimeoutMs?: number;
  /** Page cache size in MiB. */
  cacheMb?: number;
  /** Clock for schema_migrations.applied_at. */
  now?: () => number;
}

const MIGRATION_FILE = /^(\d{3,})_([A-Za-z0-9_-]+)\.sql$/;

/**
 * The migrations directory: `migrations/` in the nearest ancestor of this module
 * that holds a package.json and a migrations folder. Works from src/store (vitest)
 * and from dist/src/store (tsc outDir) alike.
 */
export function findMigrationsDir(moduleUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (let i = 0; i < 32; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'migrations'))) return join(dir, 'migrations');
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new StoreError('MIGRATIONS_NOT_FOUND', `no package root with a migrations/ directory above ${fileURLToPath(moduleUrl)}`);
}

/** Reads NNN_name.sql files, ordered by number; a misnamed .sql file or a repeated number is an error. */
export function loadMigrations(dir: string): Migration[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.sql'));
  } catch (err) {
    throw new StoreError('MIGRATIONS_NOT_FOUND', `cannot read migrations directory ${dir}`, { cause: err });
  }
  const out: Migration[] = [];
  for (const file of files) {
    const m = MIGRATION_FILE.exec(file);
    if (!m) throw new StoreError('BAD_MIGRATION', `migration file ${join(dir, file)} is not named NNN_name.sql`);
    const { pragmas, body } = splitLeadingPragmas(readFileSync(join(dir, file), 'utf8'));
    out.push({ version: Number(m[1]), name: m[2]!, file, pragmas, body });
  }
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.version === out[i - 1]!.version) {
      throw new StoreError('BAD_MIGRATION', `two migrations have number ${out[i]!.version} in ${dir}`);
    }
  }
  return out;
}

/** Splits the PRAGMA statements at the top of a migration (after comments) from the rest. */
export function splitLeadingPragmas(sql: string): { pragmas: string[]; body: string } {
  const pragmas: string[] = [];
  let rest = sql;
  for (;;) {
    const trimmed = rest.replace(/^(\s+|--[^\n]*(\n|$))+/, '');
    const m = /^PRAGMA\s[^;]*;/i.exec(trimmed);
    if (!m) return { pragmas, body: trimmed };
    pragmas.push(m[0]);
    rest = trimmed.slice(m[0].length);
  }
}

/** Opens (creating if needed) the store at path (":memory:" for tests) and brings its schema up to date. */
export function openStore(path: string, options: OpenStoreOptions = {}): Db {
  const migrations = loadMigrations(options.migrationsDir ?? findMigrationsDir());
  const readonly = options.readonly ?? false;
  const db = new Database(path, { readonly, fileMustExist: readonly });
  try {
    // File-format pragmas only take effect before the first table and before WAL.
    if (!readonly && isEmpty(db)) for (const m of migrations) for (const p of m.pragmas) db.exec(p);
    configure(db, options);
    if (readonly) checkVersion(db, migrations, true);
    else migrate(db, migrations, options.now ?? Date.now);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function isEmpty(db: Db): boolean {
  return (db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n === 0;
}

function configure(db: Db, options: OpenStoreOptions): void {
  if (!options.readonly && db.name !== ':memory:') {
    // WAL: readers never block the writer, and a commit is one append to the WAL.
    db.pragma('journal_mode = WAL');
  }
  // synchronous=NORMAL in WAL mode: a commit does not fsync; the WAL is fsynced at
  // each checkpoint. A killed process (kill -9, OOM) loses nothing it committed:
  // the WAL is in the OS page cache and is replayed at the next open. A power
  // loss or kernel crash can lose the last transactions committed since the last
  // checkpoint (durability), but never corrupts the file (WAL frames are
  // checksummed, a torn tail is ignored). FULL would fsync every commit for that.
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
  db.pragma('foreign_keys = ON');
  db.pragma(`cache_size = ${-Math.max(2, Math.floor(options.cacheMb ?? 64)) * 1024}`);
  db.pragma('temp_store = MEMORY');
  // Checkpoint less often than the default 1000 pages: a batch touches many pages,
  // and each checkpoint costs two fsyncs. Then cap the WAL file left behind.
  db.pragma('wal_autocheckpoint = 4000');
  db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
}

/** Schema versions applied to a database (none when it has no schema_migrations table). */
export function appliedVersions(db: Db): number[] {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (exists === undefined) return [];
  return (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version);
}

function checkVersion(db: Db, migrations: readonly Migration[], readonly: boolean): Set<number> {
  const applied = appliedVersions(db);
  const newest = applied.length > 0 ? applied[applied.length - 1]! : 0;
  const known = migrations.length > 0 ? migrations[migrations.length - 1]!.version : 0;
  if (newest > known) {
    throw new StoreError(
      'SCHEMA_TOO_NEW',
      `database ${db.name} has schema version ${newest}, newer than version ${known}, the newest this hopwatch knows; run a newer hopwatch`,
    );
  }
  const done = new Set(applied);
  const pending = migrations.filter((m) => !done.has(m.version));
  if (readonly && pending.length > 0) {
    // No migration at all: an empty file or another program's database, not a store this hopwatch wrote.
    if (applied.length === 0) throw new StoreError('SCHEMA_OUTDATED', `${db.name} is not a hopwatch store (it has no hopwatch schema)`);
    throw new StoreError('SCHEMA_OUTDATED', `database ${db.name} needs migration ${pending[0]!.file}; open it read-write once (start hopwatch run on it)`);
  }
  return done;
}

/** Applies pending migrations in order, each in its own transaction, recording each in schema_migrations. */
export function migrate(db: Db, migrations: readonly Migration[], now: () => number = Date.now): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const appliedNow: number[] = [];
  for (const m of migrations) {
    // IMMEDIATE takes the write lock first, so two processes opening at once cannot both apply one migration.
    const applyOne = db.transaction(() => {
      if (checkVersion(db, migrations, false).has(m.version)) return;
      db.exec(m.body);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, now());
      appliedNow.push(m.version);
    });
    try {
      applyOne.immediate();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError('MIGRATION_FAILED', `migration ${m.file} failed and was rolled back`, { cause: err });
    }
  }
  return appliedNow;
}
