// The benchmark harness: what a benchmark is, the figures it returns, the statistics they are
// made of, and the one table and JSON document a run produces.
//
// Every figure is a median of several runs, printed beside its baseline measured in the same run
// and the ratio of the two: the machines are shared and noisy, so absolute times alone say little.
// Nothing here asserts a timing; an aim that is missed is reported, never thrown.

import { cpus, totalmem } from 'node:os';

/** How much work a run does: full (minutes), quick (under a minute), tiny (the smoke test's seconds). */
export type BenchMode = 'full' | 'quick' | 'tiny';

/** An aim a figure is held to: its value, or its ratio to the baseline, at most / at least a bound. */
export interface Aim {
  /** What the bound applies to. */
  of: 'value' | 'ratio';
  /** Upper bound (inclusive), when any. */
  max?: number;
  /** Lower bound (inclusive), when any. */
  min?: number;
}

/** One measured figure. */
export interface Figure {
  /** Id of the benchmark that measured it (probe, scheduler, ...). */
  bench: string;
  /** What it is, e.g. "CPU per probe (50 concurrent)". */
  name: string;
  /** The median value; NaN when not measured (null in the JSON). */
  value: number;
  /** Unit of value and baseline, e.g. "µs", "ms", "MB", "req/s". */
  unit: string;
  /** The baseline measured in the same run, null when the figure has none. */
  baseline: { name: string; value: number } | null;
  /** value / baseline.value (medians of paired ratios where runs were paired), null without a baseline. */
  ratio: number | null;
  /** The aim, null when none. */
  aim: Aim | null;
  /** Whether the aim is met, null when there is no aim (or the figure was not measured). */
  met: boolean | null;
  /** How many runs the median is of. */
  runs: number;
  /** A short remark (scale used, what the baseline is), printed under the table. */
  note?: string;
}

/** What a benchmark gets from the runner. */
export interface BenchContext {
  /** Scale of the run. */
  mode: BenchMode;
  /** The repository root. */
  root: string;
  /** A scratch directory of this run (removed at the end). */
  tmpDir: string;
  /** Progress lines (stderr). */
  log: (message: string) => void;
  /** Registers a clean-up step run at the end even when the benchmark failed (processes, servers, files). */
  defer: (step: () => Promise<unknown> | unknown) => void;
}

/** A benchmark: an id, a title and a run function returning its figures. */
export interface Benchmark {
  /** Short id, used by --only. */
  id: string;
  /** Title, e.g. "1. Probe cost". */
  title: string;
  /** Measures; throws only for bugs and set-up failures (the runner records them and goes on). */
  run(ctx: BenchContext): Promise<Figure[]>;
}

/** A whole run's report: the JSON written under bench/results/. */
export interface BenchReport {
  /** Report format version. */
  format: 1;
  /** When the run started (ISO 8601). */
  date: string;
  /** Scale of the run. */
  mode: BenchMode;
  /** The machine it ran on. */
  machine: MachineInfo;
  /** Wall time of the whole run in seconds. */
  durationSec: number;
  /** Every figure, in benchmark order. */
  figures: Figure[];
  /** Benchmarks that failed to run, with the reason. */
  failures: { bench: string; error: string }[];
}

/** The machine a run was on. */
export interface MachineInfo {
  /** CPU model. */
  cpu: string;
  /** Logical cores. */
  cores: number;
  /** Memory in GiB. */
  memoryGiB: number;
  /** Node version. */
  node: string;
  /** OS and architecture. */
  platform: string;
}

/** Describes this machine. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

// --- Statistics ---------------------------------------------------------------------------------

/** The q-quantile (0..1) of the values by linear interpolation; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = Math.min(1, Math.max(0, q)) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** The median; NaN for none. */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Pairs of (measured, baseline) samples taken in alternation, reduced to medians and the median ratio. */
export interface Paired {
  /** Median of the measured samples. */
  value: number;
  /** Median of the baseline samples. */
  baseline: number;
  /** Median of the per-pair ratios (robust to the machine's load drifting between pairs). */
  ratio: number;
  /** Number of pairs. */
  runs: number;
}

/** Reduces paired samples. */
export function paired(values: readonly number[], baselines: readonly number[]): Paired {
  const n = Math.min(values.length, baselines.length);
  const ratios = Array.from({ length: n }, (_, i) => values[i]! / baselines[i]!);
  return { value: median(values.slice(0, n)), baseline: median(baselines.slice(0, n)), ratio: median(ratios), runs: n };
}

/** Whether a value/ratio meets an aim; null when there is no aim or the number is not finite. */
export function meets(aim: Aim | null, value: number, ratio: number | null): boolean | null {
  if (aim === null) return null;
  const x = aim.of === 'value' ? value : ratio;
  if (x === null || !Number.isFinite(x)) return null;
  return (aim.max === undefined || x <= aim.max) && (aim.min === undefined || x >= aim.min);
}

/** What figure() needs. */
export interface FigureInput {
  /** Benchmark id. */
  bench: string;
  /** Figure name. */
  name: string;
  /** Median value. */
  value: number;
  /** Unit. */
  unit: string;
  /** Baseline name and median value. */
  baseline?: { name: string; value: number } | null;
  /** Ratio to use instead of value / baseline (the median of paired ratios). */
  ratio?: number | null;
  /** The aim. */
  aim?: Aim | null;
  /** Runs the median is of. */
  runs: number;
  /** A remark. */
  note?: string;
}

/** Builds a figure: computes the ratio (unless given) and whether the aim is met. */
export function figure(input: FigureInput): Figure {
  const baseline = input.baseline ?? null;
  const ratio = input.ratio !== undefined ? input.ratio : baseline !== null && baseline.value !== 0 ? input.value / baseline.value : null;
  const aim = input.aim ?? null;
  const out: Figure = { bench: input.bench, name: input.name, value: input.value, unit: input.unit, baseline, ratio, aim, met: meets(aim, input.value, ratio), runs: input.runs };
  if (input.note !== undefined) out.note = input.note;
  return out;
}

// --- Formatting ---------------------------------------------------------------------------------

/** A number with about three significant digits (and thousands separators above 10,000). */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs >= 10_000) return Math.round(x).toLocaleString('en-US');
  if (abs >= 100) return x.toFixed(0);
  if (abs >= 10) return x.toFixed(1);
  if (abs >= 1) return x.toFixed(2);
  if (abs === 0) return '0';
  return x.toPrecision(2);
}

/** "≤ 1.2×" / "≤ 50 ms" / "≥ 0.9×". */
export function formatAim(aim: Aim | null, unit: string): string {
  if (aim === null) return '';
  const suffix = aim.of === 'ratio' ? '×' : ` ${unit}`;
  const parts: string[] = [];
  if (aim.min !== undefined) parts.push(`≥ ${formatNumber(aim.min)}${suffix}`);
  if (aim.max !== undefined) parts.push(`≤ ${formatNumber(aim.max)}${suffix}`);
  return parts.join(', ');
}

/** The table's rows: header first. */
export function tableRows(figures: readonly Figure[]): string[][] {
  const header = ['bench', 'figure', 'value', 'baseline (same run)', 'ratio', 'aim', 'met', 'runs'];
  const rows = figures.map((f) => [
    f.bench,
    f.name,
    Number.isFinite(f.value) ? `${formatNumber(f.value)} ${f.unit}` : 'not measured',
    f.baseline === null ? '-' : `${formatNumber(f.baseline.value)} ${f.unit} (${f.baseline.name})`,
    f.ratio === null ? '-' : `${formatNumber(f.ratio)}×`,
    formatAim(f.aim, f.unit) || '-',
    f.met === null ? '-' : f.met ? 'yes' : 'NO',
    String(f.runs),
  ]);
  return [header, ...rows];
}

/** The report as a Markdown table, with the notes and failures under it. */
export function formatTable(report: BenchReport): string {
  const rows = tableRows(report.figures).map((r) => r.map((cell) => cell.replace(/\|/g, '\\|')));
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  const out = [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)];
  const notes = report.figures.filter((f) => f.note !== undefined);
  if (notes.length > 0) out.push('', ...notes.map((f) => `- ${f.bench} / ${f.name}: ${f.note}`));
  if (report.failures.length > 0) out.push('', ...report.failures.map((f) => `- FAILED ${f.bench}: ${f.error}`));
  const m = report.machine;
  out.unshift(`hopwatch bench (${report.mode}) ${report.date}, ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; ${report.durationSec.toFixed(0)} s`, '');
  return out.join('\n');
}

// --- Running ------------------------------------------------------------------------------------

/** Options of runBenchmarks. */
export interface RunOptions {
  /** Scale. */
  mode: BenchMode;
  /** The repository root. */
  root: string;
  /** Scratch directory. */
  tmpDir: string;
  /** Progress lines. */
  log: (message: string) => void;
  /** Clock for the run's date and duration; default Date.now. */
  now?: () => number;
}

/** Runs the benchmarks one after the other (each alone on the machine), cleaning up after each. */
export async function runBenchmarks(benchmarks: readonly Benchmark[], options: RunOptions): Promise<BenchReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const figures: Figure[] = [];
  const failures: { bench: string; error: string }[] = [];
  for (const bench of benchmarks) {
    const steps: (() => Promise<unknown> | unknown)[] = [];
    const ctx: BenchContext = { mode: options.mode, root: options.root, tmpDir: options.tmpDir, log: (m) => options.log(`[${bench.id}] ${m}`), defer: (step) => steps.push(step) };
    const t0 = now();
    options.log(`${bench.title} ...`);
    try {
      figures.push(...(await bench.run(ctx)));
    } catch (error) {
      // One broken benchmark must not lose the others' figures.
      failures.push({ bench: bench.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    } finally {
      for (const step of steps.reverse()) await Promise.resolve().then(step).catch((e: unknown) => options.log(`[${bench.id}] clean-up failed: ${String(e)}`));
    }
    options.log(`${bench.title} done in ${((now() - t0) / 1000).toFixed(1)} s`);
  }
  return { format: 1, date: new Date(started).toISOString(), mode: options.mode, machine: machineInfo(), durationSec: (now() - started) / 1000, figures, failures };
}

/** Checks a parsed report's shape (the smoke test and anyone reading old results use it); returns the problems. */
export function reportProblems(value: unknown): string[] {
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null) return ['not an object'];
  const r = value as Record<string, unknown>;
  if (r['format'] !== 1) problems.push('format is not 1');
  if (typeof r['date'] !== 'string' || Number.isNaN(Date.parse(r['date']))) problems.push('date is not an ISO date');
  if (!['full', 'quick', 'tiny'].includes(String(r['mode']))) problems.push('mode is not full|quick|tiny');
  if (!Array.isArray(r['figures'])) return [...problems, 'figures is not an array'];
  r['figures'].forEach((f: unknown, i: number) => problems.push(...figureProblems(f).map((p) => `figures[${i}]: ${p}`)));
  if (!Array.isArray(r['failures'])) problems.push('failures is not an array');
  return problems;
}

function figureProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return ['not an object'];
  const f = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of ['bench', 'name', 'unit']) if (typeof f[key] !== 'string' || f[key] === '') problems.push(`${key} is not a non-empty string`);
  // A figure that could not be measured is NaN in memory and null in JSON.
  if (typeof f['value'] !== 'number' && f['value'] !== null) problems.push('value is neither a number nor null');
  if (f['ratio'] !== null && typeof f['ratio'] !== 'number') problems.push('ratio is neither null nor a number');
  if (f['met'] !== null && typeof f['met'] !== 'boolean') problems.push('met is neither null nor a boolean');
  const b = f['baseline'];
  if (b !== null && (typeof b !== 'object' || typeof (b as Record<string, unknown>)['value'] !== 'number')) problems.push('baseline is neither null nor {name, value}');
  return problems;
}
