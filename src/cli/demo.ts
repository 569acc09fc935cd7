// `hopwatch demo`: a simulated cluster on loopback (the lab) with healthy and broken routes, and
// the hopwatch daemon running against it: dashboard, API and metrics on the printed URL, and the
// verdicts refreshing in the terminal.

import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Command } from 'commander';
import { parseDuration } from '../config/duration.js';
import { loadConfig } from '../config/load.js';
import { CannotRunError, startDaemon } from '../main.js';
import { parseListen, ServerError } from '../server/server.js';
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
  // Flags and the listen address are checked before the lab starts: a typo should not cost a lab start.
  const forMs = options.for === undefined ? Infinity : durationOption('--for', options.for);
  await checkListenFree(options.listen);
  process.stderr.write('starting the lab (nginx, dnsmasq, pods on 127.x.x.x)...\n');
  const lab = await startLab(demoScenario());
  try {
    // The lab's hopwatch config on disk, so `hopwatch probe` and `verify` can be pointed at the demo too.
    const configPath = join(lab.dir, 'hopwatch.yaml');
    await writeFile(configPath, lab.hopwatchConfig());
    const config = loadConfig({ file: configPath, flags: { listen: options.listen, db: options.db ?? join(lab.dir, 'hopwatch.db') } });
    const latest = new Map<string, RouteRound>();
    const daemon = await startDaemon(config, options.quiet ? () => undefined : stderrLog, { onRound: (r) => latest.set(r.route.id, r) });
    try {
      // The dashboard URL comes first: it is what a first look needs.
      const header = [
        `hopwatch dashboard: ${daemon.url}/   (API ${daemon.url}/api/v1, metrics ${daemon.url}/metrics) — Ctrl-C to stop`,
        `hopwatch config for this lab: ${configPath}   (e.g. hopwatch probe --config ${configPath})`,
        '',
        lab.describe(),
      ].join('\n');
      process.stdout.write(`${header}\n`);
      const until = Date.now() + forMs;
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

function durationOption(flag: string, value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new CannotRunError('BAD_FLAG', `${flag} ${JSON.stringify(value)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Fails at once, before the lab starts, when the dashboard's address is taken. */
async function checkListenFree(listen: string): Promise<void> {
  let host: string;
  let port: number;
  try {
    ({ host, port } = parseListen(listen));
  } catch (err) {
    throw new CannotRunError('BAD_FLAG', `--listen ${JSON.stringify(listen)}: expected host:port like 127.0.0.1:8080`, { cause: err });
  }
  if (port === 0) return;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new ServerError('LISTEN_FAILED', `cannot listen on ${listen} (--listen): ${error.message}`, { cause: error })));
    server.listen(port, host, () => server.close(() => resolve()));
  });
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
