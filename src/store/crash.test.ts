// kill -9 a process that is writing and compacting; every batch it reported
// committed must be there, and the file must be intact.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticRound, syntheticWorld } from './generate.js';
import { roundsOf } from './queries.js';
import { openStore } from './sqlite.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const ROUTES = 20;
const SLOTS_PER_BATCH = 10;
const S0 = Math.floor(Date.UTC(2026, 0, 5) / 30_000);

let pkg: string;

/** Transpiles the store (and what it imports) into a throwaway package the child can run with plain node. */
function buildPackage(): string {
  const root = mkdtempSync(join(tmpdir(), 'hopwatch-crash-'));
  const files = [
    ...readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => join('src', 'store', f)),
    join('src', 'model.ts'),
    join('src', 'config', 'types.ts'),
  ];
  for (const rel of files) {
    const out = ts.transpileModule(readFileSync(join(repo, rel), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel.replace(/\.ts$/, '.js')), out.outputText);
  }
  writeFileSync(join(root, 'package.json'), '{"type":"module"}');
  symlinkSync(join(repo, 'migrations'), join(root, 'migrations'));
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  writeFileSync(join(root, 'child.js'), CHILD);
  return root;
}

/** The writer: batch i holds slots S0 + i*10 .. +9 of every route; it prints after each commit, compacts as hours close. */
const CHILD = `
import { openStore } from './src/store/sqlite.js';
import { createWriter } from './src/store/write.js';
import { compact } from './src/store/compact.js';
import { syntheticWorld, syntheticRound } from './src/store/generate.js';
const [path] = process.argv.slice(2);
const db = openStore(path);
const writer = createWriter(db);
const world = syntheticWorld(${ROUTES}, 3, 30000, 3);
for (let i = 0; i < 5000; i++) {
  const batch = [];
  for (let s = 0; s < ${SLOTS_PER_BATCH}; s++) for (let r = 0; r < ${ROUTES}; r++) batch.push(syntheticRound(world, r, ${S0} + i * ${SLOTS_PER_BATCH} + s));
  writer.writeRounds(batch);
  process.stdout.write('committed ' + i + '\\n');
  compact(db, (${S0} + (i + 1) * ${SLOTS_PER_BATCH}) * 30000, { roundsPerTransaction: 50 });
}
`;

/** Runs the child until it has reported `after` commits, then kill -9s it; returns the batches it reported. */
function runAndKill(dbPath: string, after: number): Promise<number[]> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(pkg, 'child.js'), dbPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const committed: number[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^committed (\d+)$/.exec(line);
      if (m) committed.push(Number(m[1]));
      if (committed.length === after) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolveRun(committed);
      else reject(new Error(`child exited by itself (${code}): ${stderr}`));
    });
  });
}

beforeAll(() => {
  pkg = buildPackage();
});
afterAll(() => rmSync(pkg, { recursive: true, force: true }));

describe('crash safety', () => {
  for (const after of [17, 40, 63]) {
    it(`kill -9 after ${after} reported commits: the file is intact and every reported batch is there`, async () => {
      const dbPath = join(pkg, `crash-${after}.db`);
      const reported = await runAndKill(dbPath, after);
      expect(reported.length).toBeGreaterThanOrEqual(after);
      const db = openStore(dbPath);
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        const world = syntheticWorld(ROUTES, 3, 30_000, 3);
        for (let r = 0; r < ROUTES; r++) {
          const stored = new Set<number>();
          let cursor: string | undefined;
          for (let page = 0; page < 100; page++) {
            const res = roundsOf(db, world.routes[r]!.id, { limit: 1000, cursor });
            for (const x of res.rounds) stored.add(x.startedAt);
            if (res.nextCursor === null) break;
            cursor = res.nextCursor;
          }
          for (const i of reported) {
            for (let s = 0; s < SLOTS_PER_BATCH; s++) {
              const want = syntheticRound(world, r, S0 + i * SLOTS_PER_BATCH + s).startedAt;
              if (!stored.has(want)) expect.fail(`route ${r}, batch ${i}: round at ${want} is missing`);
            }
          }
        }
        const all = db.prepare('SELECT (SELECT count(*) FROM rounds_head) + (SELECT coalesce(sum(rounds), 0) FROM round_chunks) AS n').get() as { n: number };
        const rolled = db.prepare('SELECT coalesce(sum(rounds), 0) AS n FROM rollups WHERE scope = 0 AND tier = 2').get() as { n: number };
        // The all-routes rollups were written in the same transactions: they count exactly the stored rounds.
        expect(rolled.n).toBe(all.n);
      } finally {
        db.close();
      }
    });
  }
});
