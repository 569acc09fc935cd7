// `hopwatch demo`: a simulated cluster on loopback (the lab) with healthy and broken routes, and
// the hopwatch daemon running against it: dashboard, API and metrics on the printed URL, and the
// verdicts refreshing in the terminal.

import { join } from 'node:path';
import { Command } from 'commander';
import { parseDuration } from '../config/duration.js';
import { loadConfig } from '../config/load.js';
import { startDaemon } from '../main.js';
import type { RouteRound } from '../model.js';
import { abortableDelay } from '../verify/run.js';
import { startLab } from '../../test/lab/lab.js';
import { demoScenario } from '../../test/lab/scenarios.js';
import { colourOn, reportError, seconds, stderrLog } from './common.js';
import { renderTable } from './format.js';

interface DemoOptions {
  listen: string;
  db?: string;
  refresh: number;
  for?: string;
  quiet?: boolean;
}

function screen(header: string, latest: Map<string, RouteRound>): string {
  const rounds = [...latest.values()].sort((a, b) => `${a.route.namespace}/${a.route.ingress}`.localeCompare(`${b.route.namespace}/${b.route.ingress}`));
  const body = rounds.length === 0 ? 'waiting for the first rounds...' : renderTable(rounds, { colour: colourOn(), evidence: true });
  return `${process.stdout.isTTY ? '\x1b[2J\x1b[H' : ''}${header}\n\n${body}\n`;
}

async function run(options: DemoOptions): Promise<number> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stderr.write('starting the lab (nginx, dnsmasq, pods on 127.x.x.x)...\n');
  const lab = await startLab(demoScenario());
  try {
    const config = loadConfig({ text: lab.hopwatchConfig(), flags: { listen: options.listen, db: options.db ?? join(lab.dir, 'hopwatch.db') } });
    const latest = new Map<string, RouteRound>();
    const daemon = await startDaemon(config, options.quiet ? () => undefined : stderrLog, { onRound: (r) => latest.set(r.route.id, r) });
    try {
      // The dashboard URL comes first: it is what a first look needs.
      const header = `hopwatch dashboard: ${daemon.url}/   (API ${daemon.url}/api/v1, metrics ${daemon.url}/metrics) — Ctrl-C to stop\n\n${lab.describe()}`;
      process.stdout.write(`${header}\n`);
      const until = options.for === undefined ? Infinity : Date.now() + parseDuration(options.for);
      while (!stop.signal.aborted && Date.now() < until) {
        await abortableDelay(Math.min(options.refresh * 1000, Math.max(0, until - Date.now())), stop.signal);
        if (!options.quiet) process.stdout.write(screen(header, latest));
      }
    } finally {
      await daemon.stop();
    }
  } finally {
    await lab.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}

/** The `demo` command. */
export function demoCommand(): Command {
  return new Command('demo')
    .description('start a simulated cluster with broken routes on loopback and run hopwatch against it')
    .option('--listen <host:port>', 'dashboard and API address', '127.0.0.1:8080')
    .option('--db <file>', 'history file (default: inside the lab directory, removed at exit)')
    .option('--refresh <seconds>', 'seconds between terminal refreshes', seconds, 5)
    .option('--for <duration>', 'stop after this long (e.g. 60s); default: until Ctrl-C')
    .option('--quiet', 'print only the URL (no logs, no table)')
    .action(async (options: DemoOptions) => {
      process.exitCode = await run(options).catch(reportError);
    });
}
