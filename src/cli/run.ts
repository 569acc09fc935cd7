// `hopwatch run`: the daemon. Probes every route on its schedule, keeps history, serves the API,
// metrics and dashboard, sends alerts. SIGTERM/SIGINT: stop scheduling, finish rounds in flight
// (bounded), flush, close, exit 0.

import { Command } from 'commander';
import { startDaemon } from '../main.js';
import { configFrom, type CommonOptions, reportError, stderrLog, withCommonOptions } from './common.js';

interface RunOptions extends CommonOptions {
  listen?: string;
}

/** Resolves on the first SIGTERM or SIGINT; a second one exits at once. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string): void => {
      process.once(signal as NodeJS.Signals, () => {
        stderrLog('warn', `${signal} again: exiting without waiting`);
        process.exit(1);
      });
      resolve(signal);
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
}

async function run(options: RunOptions): Promise<number> {
  const config = configFrom(options, options.listen !== undefined ? { listen: options.listen } : {});
  const daemon = await startDaemon(config, stderrLog);
  const signal = await untilSignal();
  stderrLog('info', `${signal}: stopping (finishing rounds in flight, flushing the store)`);
  await daemon.stop();
  stderrLog('info', 'stopped');
  return 0;
}

/** The `run` command. */
export function runCommand(): Command {
  return withCommonOptions(new Command('run'))
    .description('run the daemon: probe every route on its schedule, keep history, serve the API, metrics and dashboard')
    .option('--listen <host:port>', 'HTTP listen address (default 127.0.0.1:8080)')
    .action(async (options: RunOptions) => {
      process.exitCode = await run(options).catch(reportError);
    });
}
