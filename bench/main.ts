// Runs hopwatch's benchmarks and prints one table; writes the report as JSON under bench/results/.
// Started by bench/run.js (which compiles first):
//   npm run bench                      full run (a few minutes; the 30-day store is generated once)
//   npm run bench -- --quick           under a minute, scaled down (said so in the table)
//   npm run bench -- --only probe,ingest
//   npm run bench -- --out DIR         where the JSON goes (default bench/results)

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dashboardBench } from './dashboard.js';
import { discoveryBench } from './discovery.js';
import { type BenchMode, type BenchReport, type Benchmark, formatTable, runBenchmarks } from './harness.js';
import { ingestBench } from './ingest.js';
import { peersHistoryBench } from './peers-history.js';
import { peersProbeBench } from './peers.js';
import { probeBench } from './probe.js';
import { queriesBench } from './queries.js';
import { roundBench } from './round.js';
import { schedulerBench } from './scheduler.js';
import { sizeBench } from './size.js';

/** Every benchmark, in the order of the issue (the dashboard last: it needs the others' nothing, and is the slowest to set up). */
export const BENCHMARKS: readonly Benchmark[] = [probeBench, schedulerBench, ingestBench, queriesBench, dashboardBench, discoveryBench, sizeBench, roundBench, peersProbeBench, peersHistoryBench];

/** Parsed command line. */
export interface BenchArgs {
  /** Scale. */
  mode: BenchMode;
  /** Benchmark ids to run; null for all. */
  only: string[] | null;
  /** Directory of the JSON report. */
  outDir: string;
}

/** Parses the command line; throws on an unknown flag or benchmark id. */
export function parseArgs(argv: readonly string[], root: string): BenchArgs {
  const args: BenchArgs = { mode: 'full', only: null, outDir: join(root, 'bench', 'results') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') args.mode = 'quick';
    else if (a === '--tiny') args.mode = 'tiny';
    else if (a === '--full') args.mode = 'full';
    else if (a === '--only') args.only = (argv[++i] ?? '').split(',').filter((s) => s !== '');
    else if (a === '--out') args.outDir = argv[++i] ?? args.outDir;
    else throw new Error(`unknown argument ${a}; use --quick, --tiny, --only ID[,ID], --out DIR`);
  }
  const ids = new Set(BENCHMARKS.map((b) => b.id));
  for (const id of args.only ?? []) if (!ids.has(id)) throw new Error(`unknown benchmark ${id}; known: ${[...ids].join(', ')}`);
  return args;
}

/** Runs what the arguments say (progress to `log`, default stderr); returns the report and where its JSON was written. */
export async function benchMain(argv: readonly string[], root: string, log: (message: string) => void = (m) => process.stderr.write(`${m}\n`)): Promise<{ report: BenchReport; jsonPath: string }> {
  const args = parseArgs(argv, root);
  const chosen = args.only === null ? BENCHMARKS : BENCHMARKS.filter((b) => args.only!.includes(b.id));
  const tmpDir = mkdtempSync(join(tmpdir(), 'hopwatch-bench-'));
  try {
    const report = await runBenchmarks(chosen, { mode: args.mode, root, tmpDir, log });
    mkdirSync(args.outDir, { recursive: true });
    const jsonPath = join(args.outDir, `bench-${args.mode}-${report.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    return { report, jsonPath };
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  benchMain(process.argv.slice(2), root).then(
    ({ report, jsonPath }) => {
      console.log(formatTable(report));
      console.log(`\nJSON: ${jsonPath}`);
      // Every benchmark stopped what it started; a stray keep-alive socket must not hold the exit.
      process.exit(report.failures.length > 0 ? 1 : 0);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(2);
    },
  );
}
