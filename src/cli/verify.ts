// `hopwatch verify`: is the new version answering through every hop? Fires requests for the
// duration through the edge, each controller pod, the Service, the canary pods and the stable pods,
// then passes or fails. Exit 0 pass, 1 fail, 2 could not verify. Progress on stderr, the report on
// stdout (a table, or JSON with -o json).

import { Command, Option } from 'commander';
import { CannotRunError, createRoundDeps, currentRoutes } from '../main.js';
import { CannotVerifyError, VerifyParamError } from '../verify/errors.js';
import { kebabCase, type RawParams, VERIFY_DEFAULTS, parseVerifyParams } from '../verify/params.js';
import { progressLine, renderReport } from '../verify/report.js';
import { abortableDelay, runVerification, type VerifyProgress } from '../verify/run.js';
import { colourOn, configFrom, type CommonOptions, EXIT_CANNOT_RUN, reportError, seconds, withCommonOptions } from './common.js';
import { openCluster, parseTarget } from './probe.js';

/** Exit code of a verification that ran and failed. */
export const EXIT_FAIL = 1;

interface VerifyCliOptions extends CommonOptions {
  ingress?: string;
  httproute?: string;
  namespace?: string;
  host?: string;
  path?: string;
  duration?: string;
  interval?: string;
  maxFailureRatio?: string;
  maxP95Ms?: string;
  maxLatencyRatio?: string;
  latencySlackMs?: string;
  maxErrorRatioDelta?: string;
  canary?: string;
  revision?: string;
  canaryBackend?: string;
  waitRollout?: string;
  waitTimeout?: string;
  output: 'table' | 'json';
  syncTimeout: number;
}

const PARAM_FLAGS = [
  'ingress', 'host', 'path', 'duration', 'interval', 'maxFailureRatio', 'maxP95Ms', 'maxLatencyRatio',
  'latencySlackMs', 'maxErrorRatioDelta', 'canary', 'revision', 'canaryBackend', 'waitRollout', 'waitTimeout',
  'httproute',
] as const;

/** The verification flags as raw parameters, keyed by flag name so errors name the flag. */
export function rawParamsFromFlags(options: Partial<Record<(typeof PARAM_FLAGS)[number], string>>): RawParams {
  return Object.fromEntries(PARAM_FLAGS.filter((k) => options[k] !== undefined).map((k) => [kebabCase(k), options[k]]));
}

/** A kubectl-style KIND/NAME argument with -n, as the --ingress or --httproute flag it stands for. */
export function targetFlags(target: string | undefined, options: VerifyCliOptions): VerifyCliOptions {
  if (target === undefined) return options;
  const { kind, name } = parseTarget(target);
  if (options.ingress !== undefined || options.httproute !== undefined) {
    throw new CannotRunError('BAD_FLAG', `give either ${target} or --${options.ingress !== undefined ? 'ingress' : 'httproute'}, not both`);
  }
  if (options.namespace === undefined) throw new CannotRunError('BAD_FLAG', `${target}: give its namespace with -n`);
  const ref = `${options.namespace}/${name}`;
  return kind === 'HTTPRoute' ? { ...options, httproute: ref } : { ...options, ingress: ref };
}

/** Progress on stderr: an updating line on a terminal, one line per event otherwise. */
function progressWriter(): { write: (progress: VerifyProgress) => void; end: () => void } {
  const tty = Boolean(process.stderr.isTTY);
  let open = false;
  let last = '';
  return {
    write(progress) {
      const line = `hopwatch verify: ${progressLine(progress)}`;
      if (tty) {
        process.stderr.write(`\r\x1b[2K${line}`);
        open = true;
      } else if (line !== last) {
        // A log gets a line when something changed, not one per poll of an unchanged rollout.
        process.stderr.write(`${line}\n`);
      }
      last = line;
    },
    end() {
      if (open) process.stderr.write('\n');
      open = false;
    },
  };
}

async function run(options: VerifyCliOptions): Promise<number> {
  const params = parseVerifyParams(rawParamsFromFlags(options));
  const config = configFrom(options);
  const session = await openCluster(config, options.syncTimeout * 1000);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = progressWriter();
  try {
    const report = await runVerification(
      params,
      { round: createRoundDeps(config), snapshot: () => session.watch.snapshot(), routes: () => currentRoutes(config, session.watch), delay: abortableDelay, onProgress: progress.write },
      stop.signal,
    );
    progress.end();
    if (options.output === 'json') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stdout.write(`${renderReport(report, { colour: colourOn() })}\n`);
    return report.ok ? 0 : EXIT_FAIL;
  } finally {
    progress.end();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await session.stop();
  }
}

/** Maps the errors of a verification that could not run to one line and exit 2. */
function reportVerifyError(error: unknown): number {
  if (error instanceof VerifyParamError) {
    process.stderr.write(`hopwatch: --${kebabCase(error.parameter)}: ${error.reason}\n`);
    return EXIT_CANNOT_RUN;
  }
  if (error instanceof CannotVerifyError) {
    process.stderr.write(`hopwatch: cannot verify: ${error.message}\n`);
    return EXIT_CANNOT_RUN;
  }
  return reportError(error);
}

/** The `verify` command. */
export function verifyCommand(): Command {
  const d = VERIFY_DEFAULTS;
  return withCommonOptions(new Command('verify'), { db: false })
    .description('verify a canary after a deploy: exit 0 when the new pods and every hop of the route pass, 1 when they fail, 2 when it could not verify')
    .argument('[target]', 'the routing object to verify, kubectl style: httproute/NAME or ingress/NAME (with -n)')
    .option('-n, --namespace <ns>', 'the namespace of the target argument')
    .option('--ingress <ns/name>', 'the Ingress to verify (this, --httproute or a target argument is required)')
    .option('--httproute <ns/name>', 'the HTTPRoute to verify (its canary: a weighted backendRef, or the newest ReplicaSet)')
    .option('--host <host>', 'only the route with this host')
    .option('--path <path>', 'only the route with this path')
    .option('--duration <duration>', `how long to fire requests (default ${d.durationMs / 1000}s)`)
    .option('--interval <duration>', `time between ticks; each tick probes every hop once (default ${d.intervalMs / 1000}s)`)
    .option('--max-failure-ratio <ratio>', `most failed requests per hop group, 0..1 (default ${d.maxFailureRatio}: any failure fails, at once)`)
    .option('--max-p95-ms <ms>', 'most p95 latency of the canary pods and of each HTTP hop (default: no limit)')
    .option('--max-latency-ratio <ratio>', `most canary p95 / stable p95 (default ${d.maxLatencyRatio})`)
    .option('--latency-slack-ms <ms>', `p95 differences up to this are noise (default ${d.latencySlackMs})`)
    .option('--max-error-ratio-delta <ratio>', `most canary failure ratio minus stable's (default ${d.maxErrorRatioDelta})`)
    .option('--canary <selector>', 'the canary pods: a label selector (default: the newest ReplicaSet)')
    .option('--canary-backend <service>', 'the canary pods: those of this weighted backend of the route (an ingress-nginx canary Ingress\'s Service); default when the route has exactly one canary backend')
    .option('--revision <which>', 'the canary pods: "latest", the newest ReplicaSet of the backend\'s Deployment (the default)')
    .option('--wait-rollout <deployment/name>', 'first wait until this Deployment\'s newest ReplicaSet is ready')
    .option('--wait-timeout <duration>', `most time to wait for the rollout (default ${d.waitTimeoutMs / 60_000}m)`)
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--sync-timeout <seconds>', 'how long to wait for the cluster', seconds, 15)
    .action(async (target: string | undefined, options: VerifyCliOptions) => {
      process.exitCode = await Promise.resolve()
        .then(() => run(targetFlags(target, options)))
        .catch(reportVerifyError);
    });
}
