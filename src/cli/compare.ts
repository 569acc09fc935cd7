// `hopwatch compare`: the same host and path through two front doors (old and new), request by
// request and hop by hop. Exit 0 when the paths answer alike, 1 when a difference matters, 2 when
// it could not compare. Progress on stderr, the report on stdout (a table, or JSON with -o json).

import { performance } from 'node:perf_hooks';
import { Command, Option } from 'commander';
import { findPairs, PairSelectionError, parseObjectName, type PairSelection } from '../compare/pairs.js';
import { renderCompareTable, compareReport } from '../compare/report.js';
import { comparePairs, type CompareDeps } from '../compare/run.js';
import { ASKABLE_METHODS } from '../compare/variants.js';
import type { Config } from '../config/types.js';
import { CannotRunError, createRoundDeps, currentRoutes } from '../main.js';
import { HttpClientPool } from '../probe/http.js';
import { probeHop } from '../probe/probers.js';
import { seenFromOutside } from '../probe/result.js';
import { runsInCluster } from '../config/environment.js';
import { existsSync } from 'node:fs';
import { configFrom, type CommonOptions, reportError, seconds, withCommonOptions } from './common.js';
import { openCluster } from './probe.js';

interface CompareCliOptions extends CommonOptions {
  namespace?: string;
  host?: string;
  from?: string;
  to?: string;
  methods?: string;
  ignoreBody?: boolean;
  output: 'table' | 'json';
  syncTimeout: number;
}

/** The pair selection of the flags, checked: a malformed one is a usage error naming the flag. */
export function pairSelection(options: Pick<CompareCliOptions, 'namespace' | 'host' | 'from' | 'to'>): PairSelection {
  const { namespace, host } = options;
  if (namespace !== undefined && !/^[^/\s]+$/.test(namespace)) throw new CannotRunError('BAD_FLAG', `-n ${JSON.stringify(namespace)}: expected a namespace name`);
  if (host !== undefined && !/^[A-Za-z0-9*.-]+$/.test(host)) throw new CannotRunError('BAD_FLAG', `--host ${JSON.stringify(host)}: expected a host name`);
  // Checked before connecting: a half-named pair is a usage error, whatever the cluster holds.
  if ((options.from === undefined) !== (options.to === undefined)) {
    const missing = options.from === undefined ? '--from' : '--to';
    throw new CannotRunError('BAD_FLAG', `${missing} is missing: --from and --to name the two sides together`);
  }
  try {
    return {
      ...(namespace === undefined ? {} : { namespace }),
      ...(host === undefined ? {} : { host }),
      ...(options.from === undefined ? {} : { from: parseObjectName('--from', options.from, namespace) }),
      ...(options.to === undefined ? {} : { to: parseObjectName('--to', options.to, namespace) }),
    };
  } catch (error) {
    throw error instanceof PairSelectionError ? new CannotRunError('BAD_FLAG', error.message) : error;
  }
}

/** --methods POST,PUT: the methods beyond GET and HEAD, checked against the ones hopwatch may send. */
export function extraMethods(value: string | undefined): string[] {
  if (value === undefined) return [];
  const methods = value.split(',').map((m) => m.trim().toUpperCase()).filter((m) => m !== '' && m !== 'GET' && m !== 'HEAD');
  const bad = methods.find((m) => !ASKABLE_METHODS.includes(m));
  if (bad !== undefined) throw new CannotRunError('BAD_FLAG', `--methods ${JSON.stringify(value)}: ${bad} is not one of ${ASKABLE_METHODS.join(', ')}`);
  return [...new Set(methods)];
}

function compareDeps(config: Readonly<Config>): CompareDeps {
  const round = createRoundDeps(config, { diagnosticsWaitMs: 0 });
  const clients = new HttpClientPool();
  // From a laptop, proxy pod IPs are usually not routable: those hops are unreachable, not failed (as in probe).
  const outside = !runsInCluster(process.env, existsSync);
  return {
    probe: (hop, options) => (outside ? probeHop(hop, { clients, ...options }).then(seenFromOutside) : probeHop(hop, { clients, ...options })),
    round,
    limiter: round.limiter,
    plan: round.plan,
    progress: (line) => process.stderr.write(`hopwatch compare: ${line}\n`),
  };
}

async function run(options: CompareCliOptions): Promise<number> {
  const config = configFrom(options);
  const selection = pairSelection(options);
  const methods = extraMethods(options.methods);
  const session = await openCluster(config, options.syncTimeout * 1000);
  try {
    const startedAt = Date.now();
    const start = performance.now();
    let pairs;
    try {
      pairs = findPairs(currentRoutes(config, session.watch), selection);
    } catch (error) {
      throw error instanceof PairSelectionError ? new CannotRunError('BAD_FLAG', error.message) : error;
    }
    if (pairs.length === 0) {
      const scope = [selection.namespace ? `namespace ${selection.namespace}` : null, selection.host ? `host ${selection.host}` : null].filter(Boolean).join(', ');
      throw new CannotRunError('NO_CLUSTER', `no pair found${scope ? ` in ${scope}` : ''}: no host and path is served through two front doors (name one with --from and --to)`);
    }
    if (pairs.length > 1) process.stderr.write(`hopwatch compare: ${pairs.length} pairs to compare\n`);
    const comparisons = await comparePairs(pairs, compareDeps(config), { methods, ignoreBody: options.ignoreBody === true });
    const report = compareReport(comparisons, startedAt, performance.now() - start);
    if (options.output === 'json') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stdout.write(`${renderCompareTable(comparisons)}\n`);
    return report.exitCode;
  } finally {
    await session.stop();
  }
}

/** The `compare` command. */
export function compareCommand(): Command {
  return withCommonOptions(new Command('compare'), { db: false })
    .description('send the same requests through two front doors of a host (old and new) and name what differs, and why')
    .option('-n, --namespace <ns>', 'only pairs with a route in this namespace (and the namespace of --from/--to)')
    .option('--host <host>', 'only this host')
    .option('--from <kind/name>', 'the old side: ingress/NAME or httproute/NAME')
    .option('--to <kind/name>', 'the new side: ingress/NAME or httproute/NAME')
    .option('--methods <list>', `also send these methods (they may have side effects): ${ASKABLE_METHODS.join(',')}`)
    .option('--ignore-body', 'do not compare bodies (they change per request: timestamps, tokens)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--sync-timeout <seconds>', 'how long to wait for the cluster', seconds, 15)
    .action(async (options: CompareCliOptions) => {
      process.exitCode = await run(options).catch(reportError);
    });
}
