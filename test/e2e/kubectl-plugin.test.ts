// The kubectl plugin end to end: `kubectl hopwatch ...` with bin/ on the PATH, against the lab,
// with kubectl's own habits (-n, --context, --kubeconfig, the context's namespace, -A). When
// kubectl is not installed, the plugin is run directly with the same arguments (kubectl passes
// every argument after the plugin name unchanged), and the test says so.

import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { LAB_CONTEXT, startLab, type Lab } from '../lab/lab.js';
import { merge, webApp } from '../lab/scenarios.js';
import { type CliResult, ROOT, runProcess } from './cli.js';

const HAVE_KUBECTL = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

let lab: Lab;
let configPath: string;
let paymentsKubeconfig: string;

/** Runs `kubectl hopwatch ...args` (or the plugin directly without kubectl) with only the given kubeconfig sources. */
function kubectlHopwatch(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const [command, argv]: [string, string[]] = HAVE_KUBECTL ? ['kubectl', ['hopwatch', ...args]] : [join(ROOT, 'bin', 'kubectl-hopwatch'), args];
  return runProcess(command, argv, {
    cwd: lab.dir,
    // HOME in the lab: no ~/.kube/config of the machine can stand in for the flags under test.
    env: { ...process.env, PATH: `${join(ROOT, 'bin')}${delimiter}${process.env['PATH'] ?? ''}`, HOME: lab.dir, KUBECONFIG: '', HOPWATCH_CONFIG: configPath, NO_COLOR: '1', ...env },
  });
}

/** The namespace/ingress of every route in a `-o json` report. */
function routesOf(result: CliResult): string[] {
  const report = JSON.parse(result.stdout) as { routes: { namespace: string; ingress: string; verdict: { cause: string } }[] };
  return report.routes.map((r) => `${r.namespace}/${r.ingress} ${r.verdict.cause}`).sort();
}

beforeAll(async () => {
  if (!HAVE_KUBECTL) console.log('kubectl is not installed: running bin/kubectl-hopwatch directly with the same arguments');
  lab = await startLab(merge(webApp('shop', 'web', 'web.plugin.test'), webApp('payments', 'checkout', 'pay.plugin.test', { fault: { mode: 'refuse' } })));
  // The lab's config without its kubeconfig and context: those come from kubectl's flags here.
  const config = parse(lab.hopwatchConfig()) as { cluster: Record<string, unknown> };
  delete config.cluster['kubeconfig'];
  delete config.cluster['context'];
  configPath = join(lab.dir, 'plugin.yaml');
  await writeFile(configPath, stringify(config));
  // The same kubeconfig with a namespace on its context, as `kubectl config set-context --current --namespace payments` leaves it.
  const kubeconfig = parse(await readFile(lab.kubeconfigPath, 'utf8')) as { contexts: { name: string; context: Record<string, unknown> }[] };
  for (const context of kubeconfig.contexts) context.context['namespace'] = 'payments';
  paymentsKubeconfig = join(lab.dir, 'kubeconfig-payments');
  await writeFile(paymentsKubeconfig, stringify(kubeconfig));
}, 90_000);

afterAll(async () => {
  await lab?.stop();
});

describe('kubectl hopwatch', () => {
  it('probe -n shop --context: only that namespace, through the context named like kubectl', async () => {
    const result = await kubectlHopwatch(['probe', '-n', 'shop', '--context', LAB_CONTEXT, '-o', 'json'], { KUBECONFIG: lab.kubeconfigPath });
    expect(result.code, result.stderr).toBe(0);
    expect(routesOf(result)).toEqual(['shop/web ok']);
  });

  it('flags before the subcommand and --kubeconfig=FILE, with no other kubeconfig around', async () => {
    const result = await kubectlHopwatch(['-n', 'payments', 'probe', '-o', 'json', `--kubeconfig=${lab.kubeconfigPath}`]);
    expect(result.code, result.stderr).toBe(1);
    expect(routesOf(result)).toEqual(['payments/checkout pod.refused']);
  });

  it('without -n, probe uses the namespace of the current context; -A probes every namespace', async () => {
    const own = await kubectlHopwatch(['probe', '-o', 'json'], { KUBECONFIG: paymentsKubeconfig });
    expect(routesOf(own)).toEqual(['payments/checkout pod.refused']);
    const all = await kubectlHopwatch(['probe', '-A', '-o', 'json'], { KUBECONFIG: paymentsKubeconfig });
    expect(routesOf(all)).toEqual(['payments/checkout pod.refused', 'shop/web ok']);
  });

  it('a context the kubeconfig does not have: exit 2, named by hopwatch', async () => {
    const result = await kubectlHopwatch(['probe', '--context', 'nope'], { KUBECONFIG: lab.kubeconfigPath });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no context "nope"/);
  });

  it('kubectl credential flags hopwatch cannot honour: exit 2 with a clear line, nothing probed', async () => {
    const result = await kubectlHopwatch(['probe', '--user', 'admin'], { KUBECONFIG: lab.kubeconfigPath });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("kubectl hopwatch: kubectl's --user is not supported: hopwatch takes the cluster and user from a kubeconfig context (--context, --kubeconfig)\n");
    expect(result.stdout).toBe('');
  });

  it.skipIf(!HAVE_KUBECTL)('kubectl plugin list finds it on the PATH', () => {
    const listed = spawnSync('kubectl', ['plugin', 'list', '--name-only'], { env: { ...process.env, PATH: `${join(ROOT, 'bin')}${delimiter}${process.env['PATH'] ?? ''}` }, encoding: 'utf8' });
    expect(listed.stdout).toMatch(/^kubectl-hopwatch$/m);
  });
});
