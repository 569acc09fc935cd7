// Metrics of the daemon's pairs, read at scrape time from the tracker: one series per pair (bounded
// by the routes), none while a pair is pending, and none left behind when a pair goes away.

import { Gauge, type Registry } from 'prom-client';
import type { PairsSource } from './pairs-api.js';

/** The labels of a pair: its id, the host and path both sides serve, and both routing objects ("Ingress shop/web"). */
const PAIR_LABELS = ['pair', 'route', 'old', 'new'] as const;

/** Registers hopwatch_pair_parity and hopwatch_pair_differences in the daemon's registry. */
export function registerParityMetrics(registry: Registry, source: PairsSource): void {
  const registers = [registry];
  new Gauge({
    name: 'hopwatch_pair_parity', help: 'Whether the two front doors of a host and path answer alike: 1 alike, 0 different (absent until both sides were probed).',
    labelNames: PAIR_LABELS, registers,
    collect() {
      this.reset();
      for (const p of source.list()) if (p.outcome !== 'pending') this.set({ pair: p.id, route: p.key, old: p.old.object, new: p.new.object }, p.outcome === 'alike' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'hopwatch_pair_differences', help: 'Differences that matter between the two front doors of a pair, at the latest comparison.',
    labelNames: PAIR_LABELS, registers,
    collect() {
      this.reset();
      for (const p of source.list()) if (p.outcome !== 'pending') this.set({ pair: p.id, route: p.key, old: p.old.object, new: p.new.object }, p.differences.filter((d) => d.matters).length);
    },
  });
}
