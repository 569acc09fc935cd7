// Loads the configuration once at start-up: read the YAML file, apply CLI flags and the
// environment, validate every field (schema.ts), and hand out a deep-frozen Config.
// Every problem is collected into one ConfigError naming the file, line and field.

import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { Config } from './types.js';
import { configFileFromEnv, ENV_CONFIG, environmentDefaults, nonEmpty, runsInCluster, type EnvironmentDefault } from './environment.js';
import { formatPath, validateConfig, type ConfigProblem } from './schema.js';

export { SERVICE_ACCOUNT_TOKEN_PATH } from './environment.js';

/** A configuration that cannot be used: every problem found, one per line. */
export class ConfigError extends Error {
  /** Stable error code. */
  readonly code = 'BAD_CONFIG';
  /** The file name (or "(inline)") the problems are about. */
  readonly source: string;
  /** Each problem as one line: "file:line: field.path: what was expected, got what". */
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[], options?: ErrorOptions) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`invalid configuration in ${source} (${count}):\n${problems.map((p) => `  ${p}`).join('\n')}`, options);
    this.name = 'ConfigError';
    this.source = source;
    this.problems = problems;
  }
}

/** Command-line overrides; each one set wins over the file. */
export interface ConfigFlags {
  /** --kubeconfig: cluster.kubeconfig. */
  kubeconfig?: string;
  /** --context: cluster.context. */
  context?: string;
  /** --db: store.path. */
  db?: string;
  /** --listen: server.listen. */
  listen?: string;
  /** --namespace (repeatable): cluster.namespaces. */
  namespaces?: string[];
  /** --dns-server: cluster.dnsServer. */
  dnsServer?: string;
  /** --timeout: probe.timeoutMs (ms or a duration string). */
  timeoutMs?: number | string;
  /** --concurrency: probe.concurrency. */
  concurrency?: number;
}

/** Where each flag lands in the document, and how the user spelled it. */
const FLAG_FIELDS: Readonly<Record<keyof ConfigFlags, { path: readonly [string, string]; flag: string }>> = {
  kubeconfig: { path: ['cluster', 'kubeconfig'], flag: '--kubeconfig' },
  context: { path: ['cluster', 'context'], flag: '--context' },
  db: { path: ['store', 'path'], flag: '--db' },
  listen: { path: ['server', 'listen'], flag: '--listen' },
  namespaces: { path: ['cluster', 'namespaces'], flag: '--namespace' },
  dnsServer: { path: ['cluster', 'dnsServer'], flag: '--dns-server' },
  timeoutMs: { path: ['probe', 'timeoutMs'], flag: '--timeout' },
  concurrency: { path: ['probe', 'concurrency'], flag: '--concurrency' },
};

/** What loadConfig reads. */
export interface LoadConfigOptions {
  /** YAML file to read; named in errors. A missing file is an error. Absent (and no `text`): $HOPWATCH_CONFIG, else none. */
  file?: string;
  /** YAML text to use instead of reading `file` (file, when given too, only names it in errors). */
  text?: string;
  /** CLI overrides. */
  flags?: ConfigFlags;
  /** Environment (HOPWATCH_CONFIG, HOPWATCH_LISTEN, HOPWATCH_DB, HOPWATCH_TOKEN, in-cluster detection); defaults to none. */
  env?: NodeJS.ProcessEnv;
  /** Whether a file exists (in-cluster detection: the service-account token); defaults to fs.existsSync. */
  fileExists?: (path: string) => boolean;
  /** Current time in ms (anchors cron periods for lateAfterMs); defaults to Date.now(). */
  now?: number;
  /** Reads a file as UTF-8; defaults to fs.readFileSync. */
  readFile?: (path: string) => string;
}

/**
 * Parses, defaults and validates the configuration once; returns it deep-frozen. Throws ConfigError.
 * Precedence: flags > file > $HOPWATCH_LISTEN/$HOPWATCH_DB/$HOPWATCH_TOKEN > in-cluster defaults > built-in defaults.
 */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const env = options.env ?? {};
  const envFile = options.file === undefined && options.text === undefined ? configFileFromEnv(env) : null;
  const file = options.file ?? envFile ?? undefined;
  const source = file ?? '(inline)';
  const text = options.text ?? (file === undefined ? '' : readConfigFile(file, options.readFile ?? defaultReadFile, envFile === null ? '' : ` ($${ENV_CONFIG})`));
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      return `${source}:${pos.line}:${pos.col}: YAML syntax error: ${e.message.split('\n')[0] ?? e.message}`;
    });
    throw new ConfigError(source, lines);
  }
  const raw = documentValue(doc, source);
  const fromFlags = applyFlags(raw, options.flags ?? {});
  applyEnvironmentDefaults(raw, environmentDefaults(env, options.fileExists ?? existsSync), fromFlags);
  applyEnvToken(raw, env, fromFlags);
  const result = validateConfig(raw, options.now ?? Date.now());
  if (!result.ok) {
    throw new ConfigError(source, describeProblems(result.problems, source, doc, lineCounter, fromFlags));
  }
  return deepFreeze(result.config);
}

/** The document as plain values; an empty file is an empty mapping (every default, and flags still apply). */
function documentValue(doc: Document, source: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    // toJS refuses alias bombs ("billion laughs"): bad input, not a bug.
    throw new ConfigError(source, [`${source}: YAML error: ${error instanceof Error ? error.message : String(error)}`], { cause: error });
  }
}

/** The default file reader. */
function defaultReadFile(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Reads the config file, turning "not there" and "not readable" into ConfigErrors that name it (and `via`, where the name came from). */
function readConfigFile(file: string, readFile: (path: string) => string, via: string): string {
  try {
    return readFile(file);
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : `cannot read it (${error instanceof Error ? error.message : String(error)})`;
    throw new ConfigError(file, [`${file}${via}: cannot load the config file: ${why}`], { cause: error });
  }
}

/** True for a plain mapping (what YAML mappings become). */
function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Writes set flags into the raw document (creating sections as needed) and returns the
 * formatted paths they set, with the flag names. A section that is not a mapping is left
 * alone: the file's own error about it is the one to report.
 */
function applyFlags(raw: unknown, flags: ConfigFlags): Map<string, string> {
  const applied = new Map<string, string>();
  if (!isMapping(raw)) return applied;
  for (const [name, field] of Object.entries(FLAG_FIELDS) as [keyof ConfigFlags, (typeof FLAG_FIELDS)[keyof ConfigFlags]][]) {
    const value = flags[name];
    if (value === undefined) continue;
    const [sectionName, key] = field.path;
    const existing = raw[sectionName];
    if (existing !== undefined && existing !== null && !isMapping(existing)) continue;
    const target = isMapping(existing) ? existing : {};
    target[key] = Array.isArray(value) ? [...value] : value;
    raw[sectionName] = target;
    applied.set(formatPath(field.path), field.flag);
  }
  return applied;
}

/**
 * Fills server.listen and store.path from the environment's defaults where the file and the flags
 * left them unset (absent or null), and records each in `applied` with its origin, so a bad
 * $HOPWATCH_LISTEN is reported as that variable, not as a line of the file.
 */
function applyEnvironmentDefaults(raw: unknown, defaults: { listen: EnvironmentDefault | null; db: EnvironmentDefault | null }, applied: Map<string, string>): void {
  const fill = (sectionName: string, key: string, given: EnvironmentDefault | null): void => {
    if (given === null || !isMapping(raw)) return;
    const existing = raw[sectionName];
    if (existing !== undefined && existing !== null && !isMapping(existing)) return;
    const target = isMapping(existing) ? existing : {};
    if (target[key] !== undefined && target[key] !== null) return;
    target[key] = given.value;
    raw[sectionName] = target;
    applied.set(formatPath([sectionName, key]), given.origin);
  };
  fill('server', 'listen', defaults.listen);
  fill('store', 'path', defaults.db);
}

/**
 * $HOPWATCH_TOKEN fills server.token when the file (and flags) set none; trimmed, since a Secret
 * made from a file usually ends in a newline. Recorded in `applied`, so a bad value is reported
 * as that variable, not as a line of the file.
 */
function applyEnvToken(raw: unknown, env: NodeJS.ProcessEnv, applied: Map<string, string>): void {
  const token = env['HOPWATCH_TOKEN']?.trim();
  if (token === undefined || token === '' || !isMapping(raw)) return;
  const server = raw['server'];
  if (server === undefined || server === null) raw['server'] = { token };
  else if (isMapping(server) && (server['token'] === undefined || server['token'] === null)) server['token'] = token;
  else return;
  applied.set(formatPath(['server', 'token']), '$HOPWATCH_TOKEN');
}

/** Formats problems as "file:line: path: message" (flags as "--flag (path): message"), in file order. */
function describeProblems(problems: readonly ConfigProblem[], source: string, doc: Document, lineCounter: LineCounter, fromFlags: ReadonlyMap<string, string>): string[] {
  const located = problems.map((problem) => {
    const path = formatPath(problem.path);
    const flag = fromFlags.get(path);
    if (flag !== undefined) return { line: 0, text: `${flag} (${path}): ${problem.message}` };
    const line = lineOf(doc, lineCounter, problem.path);
    const where = line === null ? source : `${source}:${line}`;
    return { line: line ?? 0, text: `${where}: ${path === '' ? '(top level)' : path}: ${problem.message}` };
  });
  // Stable sort: flags first, then in the order the fields appear in the file.
  return located.sort((a, b) => a.line - b.line).map((p) => p.text);
}

/** The line of the node at `path`, or of its nearest ancestor present in the file; null for an empty file. */
function lineOf(doc: Document, lineCounter: LineCounter, path: readonly (string | number)[]): number | null {
  for (let length = path.length; length >= 0; length--) {
    const node: unknown = length === 0 ? doc.contents : doc.getIn(path.slice(0, length), true);
    if (node !== null && typeof node === 'object' && 'range' in node && Array.isArray(node.range) && typeof node.range[0] === 'number') {
      return lineCounter.linePos(node.range[0]).line;
    }
  }
  return null;
}

/** Freezes an object graph in place (objects and arrays), so no module can change the config. */
export function deepFreeze<T>(value: T): Readonly<T> {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Where the Kubernetes client gets its credentials. */
export type KubeconfigSource =
  | {
      /** Load kubeconfig file(s): the first, then merge the rest (as client-node's loadFromDefault does for $KUBECONFIG). */
      kind: 'kubeconfig';
      /** Existing files, in order. */
      paths: string[];
      /** Which rule chose them. */
      origin: 'config' | 'env' | 'home';
      /** Context to use, null for the file's current-context. */
      context: string | null;
    }
  | {
      /** Use the pod's service account (client-node loadFromCluster). */
      kind: 'in-cluster';
    };

/** No usable Kubernetes credentials. */
export class KubeconfigError extends Error {
  /** Stable error code. */
  readonly code = 'NO_KUBECONFIG';

  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

/**
 * Picks the credentials source, in order: the configured path (config or --kubeconfig);
 * in-cluster (KUBERNETES_SERVICE_HOST set and the token file present; skipped when a
 * context is configured, since a context only exists in a kubeconfig); $KUBECONFIG;
 * ~/.kube/config. Pure: file existence is asked through `fileExists`.
 */
export function resolveKubeconfigSource(config: Readonly<Config>, env: NodeJS.ProcessEnv, fileExists: (path: string) => boolean): KubeconfigSource {
  const { kubeconfig, context } = config.cluster;
  if (kubeconfig !== null) {
    if (!fileExists(kubeconfig)) throw new KubeconfigError(`kubeconfig ${kubeconfig} (from --kubeconfig or cluster.kubeconfig) does not exist`);
    return { kind: 'kubeconfig', paths: [kubeconfig], origin: 'config', context };
  }
  if (context === null && runsInCluster(env, fileExists)) return { kind: 'in-cluster' };
  const fromEnv = env['KUBECONFIG'];
  if (nonEmpty(fromEnv)) {
    const listed = fromEnv.split(delimiter).filter((p) => p !== '');
    const paths = listed.filter((p) => fileExists(p));
    if (paths.length === 0) throw new KubeconfigError(`$KUBECONFIG names ${listed.join(', ')}, and none of it exists; fix $KUBECONFIG or pass --kubeconfig FILE`);
    return { kind: 'kubeconfig', paths, origin: 'env', context };
  }
  const home = env['HOME'] ?? env['USERPROFILE'];
  if (nonEmpty(home) && fileExists(join(home, '.kube', 'config'))) {
    return { kind: 'kubeconfig', paths: [join(home, '.kube', 'config')], origin: 'home', context };
  }
  throw new KubeconfigError(
    'no Kubernetes credentials found: not in a cluster (no KUBERNETES_SERVICE_HOST and service-account token), $KUBECONFIG unset, no ~/.kube/config; ' +
      'pass --kubeconfig FILE or set cluster.kubeconfig (or try `hopwatch demo` for a simulated cluster)',
  );
}
