// `hopwatch demo`: a simulated cluster on loopback (the lab) with healthy and broken routes, and
// the hopwatch daemon running against it: dashboard, API and metrics on the printed URL, the
// commands to try, the verdicts once and then a line per change (src/cli/demo-screen.ts).

import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { parse, stringify } from 'yaml';
import { parseDuration } from '../config/duration.js';
import { loadConfig } from '../config/load.js';
import { CannotRunError, startDaemon } from '../main.js';
import { parseListen, ServerError } from '../server/server.js';
import type { RouteRound } from '../model.js';
import { abortableDelay } from '../verify/run.js';
import { startLab } from '../../test/lab/lab.js';
import { demoScenario } from '../../test/lab/scenarios.js';
import { colourOn, reportError, seconds, stderrLog } from './common.js';
import { changeLine, clock, hintLines, reminderLine, stopLine, type StopReason, verdictKey } from './demo-screen.js';
import { renderTable, routeLabel } from './format.js';

interface DemoOptions {
  listen: string;
  db?: string;
  refresh: number;
  for?: string;
  quiet?: boolean;
}

/** How often the demo says again where to look. */
const REMINDER_MS = 5 * 60_000;

/** The terminal side of the demo: the table once the first rounds settle, then a line per change. */
class DemoTerminal {
  readonly #latest = new Map<string, RouteRound>();
  /** The verdict last printed per route (the table's, then each change line's). */
  readonly #printed = new Map<string, RouteRound>();
  #tablePrinted = false;
  #seenAtLastTick = 0;

  constructor(private readonly write: (text: string) => void, private readonly colour: boolean) {}

  get latest(): Iterable<RouteRound> {
    return this.#latest.values();
  }

  /** A round landed: after the table, a line when its verdict changed. */
  onRound(round: RouteRound): void {
    this.#latest.set(round.route.id, round);
    if (!this.#tablePrinted) return;
    const before = this.#printed.get(round.route.id);
    if (before && verdictKey(before) === verdictKey(round)) return;
    this.#printed.set(round.route.id, round);
    this.write(`${changeLine(Date.now(), before, round, this.colour)}\n`);
  }

  /** A refresh tick: the table, once, when no new route appeared since the last tick. */
  tick(): void {
    if (this.#tablePrinted) return;
    const seen = this.#latest.size;
    const settled = seen > 0 && seen === this.#seenAtLastTick;
    this.#seenAtLastTick = seen;
    if (!settled) return;
    const rounds = [...this.#latest.values()].sort((a, b) => routeLabel(a).localeCompare(routeLabel(b)));
    for (const r of rounds) this.#printed.set(r.route.id, r);
    this.#tablePrinted = true;
    this.write(`\n${clock(Date.now())}  verdicts of the first rounds (from now on, one line per change):\n${renderTable(rounds, { colour: this.colour, evidence: true })}\n\n`);
  }
}

async function run(options: DemoOptions): Promise<number> {
  const startedAt = Date.now();
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Flags and the listen address are checked before the lab starts: a typo should not cost a lab start.
  const forMs = options.for === undefined ? Infinity : durationOption('--for', options.for);
  await checkListenFree(options.listen);
  process.stderr.write('starting the lab (nginx, dnsmasq, pods on 127.x.x.x)...\n');
  const lab = await startLab(demoScenario());
  const out = (text: string): void => void process.stdout.write(text);
  try {
    // The lab's hopwatch config on disk with the demo's store, so `hopwatch probe`, `verify`,
    // `timeline` and `incidents` can be pointed at the demo as printed.
    const configPath = join(lab.dir, 'hopwatch.yaml');
    const dbPath = resolve(options.db ?? join(lab.dir, 'hopwatch.db'));
    await writeFile(configPath, demoConfig(lab.hopwatchConfig(), dbPath));
    const config = loadConfig({ file: configPath, flags: { listen: options.listen } });
    const terminal = new DemoTerminal(out, colourOn());
    const daemon = await startDaemon(config, options.quiet ? () => undefined : stderrLog, { onRound: (r) => terminal.onRound(r) });
    const places = { url: daemon.url, configPath, binDir: BIN_DIR };
    try {
      // The dashboard URL comes first: it is what a first look needs.
      out(`${hintLines(places).join('\n')}\n\n${lab.describe()}\n`);
      const until = Date.now() + forMs;
      let remindAt = Date.now() + REMINDER_MS;
      while (!stop.signal.aborted && Date.now() < until) {
        await abortableDelay(Math.min(options.refresh * 1000, Math.max(0, until - Date.now())), stop.signal);
        if (options.quiet) continue;
        terminal.tick();
        if (Date.now() >= remindAt) {
          out(`${reminderLine(Date.now(), places, terminal.latest)}\n`);
          remindAt = Date.now() + REMINDER_MS;
        }
      }
    } finally {
      await daemon.stop();
    }
  } finally {
    await lab.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const reason: StopReason = stop.signal.aborted ? { kind: 'signal' } : { kind: 'for', forText: options.for ?? '' };
  out(`${stopLine(Date.now(), startedAt, reason, lab.dir)}\n`);
  return 0;
}

/** The lab's config with the demo's store in it: `timeline` and `incidents --config` read the demo's history. */
export function demoConfig(labConfig: string, dbPath: string): string {
  const doc = parse(labConfig) as Record<string, unknown>;
  return stringify({ ...doc, store: { ...(doc['store'] as Record<string, unknown> | undefined), path: dbPath } });
}

/** bin/ of this checkout or package: where the `hopwatch` command is. */
const BIN_DIR = fileURLToPath(new URL('../../../bin', import.meta.url));

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
    .option('--refresh <seconds>', 'seconds between checks of the terminal (the first table waits for the rounds to settle)', seconds, 5)
    .option('--for <duration>', 'stop after this long (e.g. 60s); default: until Ctrl-C')
    .option('--quiet', 'print only the URL and the commands to try (no logs, no table)')
    .action(async (options: DemoOptions) => {
      process.exitCode = await run(options).catch(reportError);
    });
}
