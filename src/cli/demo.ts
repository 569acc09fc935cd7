// `hopwatch demo`: a simulated cluster on loopback (the lab) with healthy and broken routes, and
// hopwatch's verdicts on it refreshing in the terminal.

import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { startLab } from '../../test/lab/lab.js';
import { demoScenario } from '../../test/lab/scenarios.js';
import { colourOn, reportError } from './common.js';
import { renderTable } from './format.js';
import { openCluster, probeOnce } from './probe.js';

interface DemoOptions {
  interval: string;
  rounds?: string;
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

async function run(options: DemoOptions): Promise<number> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stderr.write('starting the lab (nginx, dnsmasq, pods on 127.x.x.x)...\n');
  const lab = await startLab(demoScenario());
  try {
    const config = loadConfig({ text: lab.hopwatchConfig() });
    const session = await openCluster(config, 15_000);
    try {
      const maxRounds = options.rounds === undefined ? Infinity : Number(options.rounds);
      for (let round = 1; round <= maxRounds && !stop.signal.aborted; round++) {
        const rounds = await probeOnce(config, session.watch, {});
        const screen = [lab.describe(), '', `round ${round} at ${new Date().toLocaleTimeString()} — Ctrl-C to stop`, '', renderTable(rounds, { colour: colourOn(), evidence: true })];
        process.stdout.write(`${process.stdout.isTTY ? '\x1b[2J\x1b[H' : ''}${screen.join('\n')}\n`);
        if (round < maxRounds) await delay(Number(options.interval) * 1000, stop.signal);
      }
    } finally {
      await session.stop();
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
    .description('start a simulated cluster with broken routes on loopback and watch hopwatch name the failing hops')
    .option('--interval <seconds>', 'seconds between rounds', '5')
    .option('--rounds <n>', 'stop after n rounds (default: until Ctrl-C)')
    .action(async (options: DemoOptions) => {
      process.exitCode = await run(options).catch(reportError);
    });
}
