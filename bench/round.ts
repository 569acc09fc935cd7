// 8. One-shot round: one `hopwatch probe` round over lab B's routes (test/lab/scenarios-b.ts: healthy
// Go-style pods that do not announce keep-alive, a route whose pods are slower than the controller's
// read timeout, headers too large, one pod of three answering 500; on nginx and HAProxy), through the
// same functions the command calls (idle keep-alive not measured). Figures: the p50 and the max of
// the routes' wall time, and the whole round's, against the per-hop deadline. Aims: a healthy route
// is ready when its last hop answered (p50 well under the deadline), the round lasts no longer than
// its slowest failing hop's deadline + 10 %.

import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/types.js';
import { createRoundDeps, currentRoutes, loadKubeConfig, startDiscovery } from '../src/main.js';
import { probeRoutes } from '../src/probe/round.js';
import { B_DEADLINE_MS, B_LAB_OPTIONS, scenarioB } from '../test/lab/scenarios-b.js';
import { type Benchmark, type Figure, figure, median, quantile } from './harness.js';
import { LabHost } from './lab-host.js';

/** Rounds per run. */
const SCALE = { full: { rounds: 5 }, quick: { rounds: 3 }, tiny: { rounds: 1 } };

interface RoundTimes {
  routeMs: number[];
  roundMs: number;
}

async function oneRound(config: Readonly<Config>): Promise<RoundTimes> {
  const watch = startDiscovery(config, loadKubeConfig(config), () => undefined);
  try {
    await watch.synced;
    const routes = currentRoutes(config, watch);
    const t0 = performance.now();
    const rounds = await probeRoutes(routes, createRoundDeps(config, { idle: 'announced-only' }));
    return { routeMs: rounds.map((r) => r.durationMs), roundMs: performance.now() - t0 };
  } finally {
    await watch.stop();
  }
}

/** The benchmark. */
export const roundBench: Benchmark = {
  id: 'round',
  title: '8. One-shot round',
  async run(ctx): Promise<Figure[]> {
    const scale = SCALE[ctx.mode];
    const host = LabHost.spawn();
    ctx.defer(() => host.stop());
    const info = await host.startLab(scenarioB(), B_LAB_OPTIONS);
    const config = loadConfig({ text: info.hopwatchConfig });
    const runs: RoundTimes[] = [];
    for (let i = 0; i < scale.rounds; i++) {
      runs.push(await oneRound(config));
      const last = runs.at(-1)!;
      ctx.log(`round ${i + 1}/${scale.rounds}: ${last.routeMs.length} routes, p50 ${quantile(last.routeMs, 0.5).toFixed(0)} ms, max ${Math.max(...last.routeMs).toFixed(0)} ms, round ${last.roundMs.toFixed(0)} ms`);
    }
    const deadline = { name: 'per-hop deadline', value: B_DEADLINE_MS };
    const base = { bench: 'round', unit: 'ms', baseline: deadline, runs: runs.length };
    const note = `lab B: ${runs[0]?.routeMs.length ?? 0} routes on nginx and HAProxy (Go-style pods without a Keep-Alive announcement, one route 4.1 s slow behind a 3 s read timeout); medians over rounds`;
    return [
      figure({ ...base, name: 'route wall time p50', value: median(runs.map((r) => quantile(r.routeMs, 0.5))), aim: { of: 'ratio', max: 0.5 }, note }),
      figure({ ...base, name: 'route wall time max', value: median(runs.map((r) => Math.max(...r.routeMs))), aim: { of: 'ratio', max: 1.1 } }),
      figure({ ...base, name: 'whole round wall time', value: median(runs.map((r) => r.roundMs)), aim: { of: 'ratio', max: 1.1 } }),
    ];
  },
};
