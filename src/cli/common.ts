// What every command shares: the common flags, loading config from them, and turning failures into
// one clear line and exit code 2.

import { type Command, InvalidArgumentError } from 'commander';
import { ConfigError, KubeconfigError, loadConfig, type ConfigFlags } from '../config/load.js';
import type { Config } from '../config/types.js';
import { CannotRunError } from '../main.js';
import { ServerError } from '../server/server.js';

/** The flags every command takes. */
export interface CommonOptions {
  /** --config FILE. */
  config?: string;
  /** --kubeconfig FILE. */
  kubeconfig?: string;
  /** --context NAME. */
  context?: string;
  /** --db FILE. */
  db?: string;
}

/** Exit code when hopwatch could not run (bad config, no cluster). */
export const EXIT_CANNOT_RUN = 2;

/** Adds --config, --kubeconfig, --context and (for the commands that keep or read history) --db to a command. */
export function withCommonOptions(command: Command, options: { db?: boolean } = {}): Command {
  command
    .option('--config <file>', 'configuration file (YAML)')
    .option('--kubeconfig <file>', 'kubeconfig file (default: in-cluster, $KUBECONFIG, ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context');
  return options.db === false ? command : command.option('--db <file>', 'SQLite history file');
}

/** Loads and validates the configuration: file, then flags, then $HOPWATCH_TOKEN. */
export function configFrom(options: CommonOptions, extra: ConfigFlags = {}): Readonly<Config> {
  const flags: ConfigFlags = { ...extra };
  if (options.kubeconfig !== undefined) flags.kubeconfig = options.kubeconfig;
  if (options.context !== undefined) flags.context = options.context;
  if (options.db !== undefined) flags.db = options.db;
  return loadConfig({ ...(options.config !== undefined ? { file: options.config } : {}), flags, env: process.env });
}

/** True for the errors that mean "could not run": reported as one line (or the config's problem list), exit 2. */
export function isCannotRun(error: unknown): error is Error {
  return error instanceof ConfigError || error instanceof KubeconfigError || error instanceof CannotRunError || error instanceof ServerError;
}

/** Writes an error for the user: the message for expected failures, the stack for bugs. */
export function reportError(error: unknown): number {
  if (isCannotRun(error)) {
    process.stderr.write(`hopwatch: ${error.message}\n`);
    return EXIT_CANNOT_RUN;
  }
  process.stderr.write(`hopwatch: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT_CANNOT_RUN;
}

/** True when stdout should get ANSI colours. */
export function colourOn(): boolean {
  return Boolean(process.stdout.isTTY) && process.env['NO_COLOR'] === undefined;
}

/** A logger writing timestamped lines to stderr. */
export function stderrLog(level: string, message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);
}

/** A commander parser for a positive number of seconds: a typo is a usage error (exit 2), not NaN. */
export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number of seconds, got "${value}"`);
  return n;
}
