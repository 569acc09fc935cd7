// Smoke test of the benchmark harness: a tiny run of the benchmarks that need no lab process
// (ingest, queries, size) through the real entry point, checking that it writes a well-formed JSON
// report and prints one table row per figure. No timing is asserted (shared machine): what is
// checked is that the harness works and every figure has its baseline and ratio.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type Benchmark, figure, formatTable, paired, quantile, reportProblems, runBenchmarks } from './harness.js';
import { benchMain, parseArgs } from './main.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'hopwatch-bench-smoke-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('bench harness', () => {
  it('runs ingest, queries and size in tiny mode and writes a well-formed report', async () => {
    const { report, jsonPath } = await benchMain(['--tiny', '--only', 'ingest,queries,size', '--out', out], root, () => undefined);
    expect(report.failures).toEqual([]);
    expect(readdirSync(out)).toEqual([jsonPath.slice(out.length + 1)]);
    const parsed: unknown = JSON.parse(readFileSync(jsonPath, 'utf8'));
    expect(reportProblems(parsed)).toEqual([]);
    expect(new Set(report.figures.map((f) => f.bench))).toEqual(new Set(['ingest', 'queries', 'size']));
    for (const f of report.figures) {
      expect(Number.isFinite(f.value), `${f.bench} / ${f.name}`).toBe(true);
      expect(f.baseline, `${f.bench} / ${f.name} has a baseline`).not.toBeNull();
    }
    const table = formatTable(report).split('\n');
    const rows = table.filter((line) => /^\| (ingest|queries|size) /.test(line));
    expect(rows).toHaveLength(report.figures.length);
  }, 60_000);

  it('records a failing benchmark and still runs the others and their clean-up', async () => {
    const cleaned: string[] = [];
    const broken: Benchmark = {
      id: 'broken', title: 'broken',
      run: async (ctx) => {
        ctx.defer(() => cleaned.push('broken'));
        throw new Error('set-up failed');
      },
    };
    const fine: Benchmark = { id: 'fine', title: 'fine', run: async () => [figure({ bench: 'fine', name: 'x', value: 2, unit: 'ms', baseline: { name: 'b', value: 4 }, aim: { of: 'ratio', max: 1 }, runs: 1 })] };
    const report = await runBenchmarks([broken, fine], { mode: 'tiny', root, tmpDir: out, log: () => undefined });
    expect(cleaned).toEqual(['broken']);
    expect(report.failures.map((f) => f.bench)).toEqual(['broken']);
    expect(report.figures).toMatchObject([{ bench: 'fine', ratio: 0.5, met: true }]);
    expect(formatTable(report)).toContain('FAILED broken');
  });

  it('reduces paired runs to medians and the median ratio, and flags malformed reports', () => {
    expect(quantile([5, 1, 3], 0.5)).toBe(3);
    expect(paired([10, 30, 20], [5, 10, 40])).toEqual({ value: 20, baseline: 10, ratio: 2, runs: 3 });
    expect(reportProblems({ format: 1, date: 'x', mode: 'fast', figures: [{ bench: '', value: 'a' }], failures: [] }).length).toBeGreaterThanOrEqual(4);
    expect(() => parseArgs(['--only', 'nope'], root)).toThrow(/unknown benchmark nope/);
    expect(parseArgs(['--quick'], root).mode).toBe('quick');
  });
});
