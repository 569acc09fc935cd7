// Pure: a compare run as a table for people and as JSON for CI.

import { compareExitCode } from './compare.js';
import type { Difference, PairComparison } from './types.js';

/** The JSON report of `hopwatch compare -o json` (fields are added, never renamed). */
export interface CompareReport {
  /** When the run started (ISO-8601). */
  startedAt: string;
  /** Wall time of the run. */
  durationMs: number;
  /** The exit code: 0 alike, 1 a difference matters, 2 could not compare. */
  exitCode: 0 | 1 | 2;
  /** Pairs compared, by outcome. */
  summary: { pairs: number; alike: number; different: number; notCompared: number };
  /** Every pair. */
  pairs: PairComparison[];
}

/** The JSON report. */
export function compareReport(comparisons: PairComparison[], startedAt: number, durationMs: number): CompareReport {
  const count = (outcome: PairComparison['outcome']): number => comparisons.filter((c) => c.outcome === outcome).length;
  return {
    startedAt: new Date(startedAt).toISOString(),
    durationMs: Math.round(durationMs),
    exitCode: compareExitCode(comparisons),
    summary: { pairs: comparisons.length, alike: count('alike'), different: count('different'), notCompared: count('not-compared') },
    pairs: comparisons,
  };
}

/** The report as text: per pair, both sides, the differences (those that matter marked), then the risks apart. */
export function renderCompareTable(comparisons: readonly PairComparison[]): string {
  if (comparisons.length === 0) return 'no pair found: no host and path is served through two front doors (name one with --from and --to)';
  return comparisons.map(renderPair).join('\n\n');
}

/**
 * Differences of several variants with the same kind, hop and reason on one line ("probe, head,
 * encoded-path: status differs ..."): a slow backend makes every variant time out for one reason.
 */
export function groupedDifferences(differences: readonly Difference[]): Difference[] {
  const groups = new Map<string, Difference[]>();
  for (const d of differences) {
    const key = d.reason === null || d.variant === 'route' ? `${groups.size}:${d.variant}:${d.kind}` : `${d.kind}|${d.hop}|${d.matters}|${d.reason}`;
    groups.set(key, [...(groups.get(key) ?? []), d]);
  }
  return [...groups.values()].map((group) => {
    const [first] = group as [Difference, ...Difference[]];
    if (group.length === 1) return first;
    const names = group.map((d) => d.variant).join(', ');
    return { ...first, variant: names, summary: `${names}${first.summary.slice(first.variant.length)}` };
  });
}

function renderPair(c: PairComparison): string {
  const verdict = (v: PairComparison['old']['verdict']): string => (v.status === 'ok' ? 'ok' : v.status === 'unknown' ? 'not probed' : `${v.status} at ${v.hop ?? '?'}: ${v.cause}`);
  const lines = [
    `${c.outcome.toUpperCase().padEnd(13)} ${c.key}   (${c.origin === 'explicit' ? 'named with --from/--to' : 'same host and path'})`,
    `    old  ${c.old.object} via ${c.old.frontDoor}: ${verdict(c.old.verdict)}`,
    `    new  ${c.new.object} via ${c.new.frontDoor}: ${verdict(c.new.verdict)}`,
  ];
  if (c.reason !== null) lines.push(`    could not compare: ${c.reason}`);
  if (c.variants.length > 0) {
    const hops = (side: 'old' | 'new'): number => c.variants[0]?.[side].length ?? 0;
    lines.push(`    sent ${c.variants.length} requests (${c.variants.map((v) => v.variant.name).join(', ')}) through ${hops('old')} old and ${hops('new')} new front hops`);
  }
  if (c.differences.length > 0) {
    lines.push('  differences:');
    for (const d of groupedDifferences(c.differences)) lines.push(`    ${d.matters ? '✗' : '·'} ${d.summary}`);
  }
  if (c.risks.length > 0) {
    lines.push('  risks the sample did not show (predicted by the two sides\' settings):');
    for (const r of c.risks) lines.push(`    ! ${r.kind}: ${r.summary}`, `        old: ${r.old}`, `        new: ${r.new}`);
  }
  return lines.join('\n');
}
