// The examples in examples/ parse, carry the fields Argo Rollouts and Flagger read, and their
// hopwatch parameters pass hopwatch's own validation (the same function the API and CLI use).

import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { rawParamsFromFlags, verifyCommand } from '../src/cli/verify.js';
import { FLAGGER_PATH, rawFromFlagger, rawFromQuery, VERIFY_PATH } from '../src/verify/http.js';
import { parseVerifyParams } from '../src/verify/params.js';
import { ROOT } from './e2e/cli.js';

type Doc = Record<string, unknown>;

function docs(path: string): Doc[] {
  const parsed = parseAllDocuments(readFileSync(join(ROOT, 'examples', path), 'utf8'));
  for (const doc of parsed) expect(doc.errors, `${path}: ${doc.errors.join('; ')}`).toEqual([]);
  return parsed.map((d) => d.toJSON() as Doc);
}

/** Reads a nested field, failing the test with the path when it is missing. */
function at(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) throw new Error(`no ${path} (stopped at ${key})`);
    current = (current as Record<string, unknown>)[key];
  }
  if (current === undefined) throw new Error(`no ${path}`);
  return current;
}

function list(value: unknown, path: string): Doc[] {
  const found = at(value, path);
  if (!Array.isArray(found)) throw new Error(`${path} is not a list`);
  return found as Doc[];
}

/** Argo substitutes {{args.NAME}}: a sample hash stands in, so the result is what hopwatch receives. */
function substitute(text: string): string {
  return text.replace(/\{\{\s*args\.canary-hash\s*\}\}/g, '7c9d8f6b5').replace(/\{\{\s*args\.hopwatch-token\s*\}\}/g, 'token');
}

function argsUsed(text: string): string[] {
  return [...text.matchAll(/\{\{\s*args\.([a-z0-9-]+)\s*\}\}/g)].map((m) => m[1] ?? '');
}

describe('examples/argo-rollouts', () => {
  const jobDocs = docs('argo-rollouts/analysis-template-job.yaml');
  const templates = [...docs('argo-rollouts/analysis-template-web.yaml'), ...jobDocs].filter((d) => d['kind'] === 'AnalysisTemplate');

  it('job metric: the Job runs as a ServiceAccount of its own namespace, bound to hopwatch\'s read-only ClusterRole', () => {
    const job = templates.find((t) => list(t, 'spec.metrics').some((m) => (m['provider'] as Doc)['job']));
    const namespace = at(job, 'metadata.namespace');
    const account = at(list(job, 'spec.metrics')[0], 'provider.job.spec.template.spec.serviceAccountName');
    expect(jobDocs.find((d) => d['kind'] === 'ServiceAccount')).toMatchObject({ metadata: { name: account, namespace } });
    const binding = jobDocs.find((d) => d['kind'] === 'ClusterRoleBinding');
    expect(binding).toMatchObject({ roleRef: { kind: 'ClusterRole', name: 'hopwatch' }, subjects: [{ kind: 'ServiceAccount', name: account, namespace }] });
    const roles = parseAllDocuments(readFileSync(join(ROOT, 'deploy', 'kubernetes', 'rbac.yaml'), 'utf8')).map((d) => d.toJS() as Doc);
    expect(roles.some((r) => r['kind'] === 'ClusterRole' && at(r, 'metadata.name') === 'hopwatch')).toBe(true);
    // Nothing the Job mounts is missing from its namespace.
    expect(JSON.stringify(at(list(job, 'spec.metrics')[0], 'provider.job.spec.template.spec'))).not.toContain('configMap');
  });

  it('web metrics: GET /api/v1/verify with valid parameters, jsonPath {$.data}, a successCondition on result.ok', () => {
    const web = templates.filter((t) => list(t, 'spec.metrics').some((m) => (m['provider'] as Doc)['web']));
    expect(web.length).toBeGreaterThanOrEqual(1);
    for (const template of web) {
      expect(template).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'AnalysisTemplate' });
      const declared = list(template, 'spec.args').map((a) => a['name']);
      for (const metric of list(template, 'spec.metrics')) {
        expect(metric['successCondition']).toMatch(/^result\.ok\b/);
        expect(at(metric, 'provider.web.jsonPath')).toBe('{$.data}');
        const url = String(at(metric, 'provider.web.url'));
        const parsed = new URL(substitute(url));
        expect(parsed.pathname).toBe(VERIFY_PATH);
        const params = parseVerifyParams(rawFromQuery(parsed.searchParams));
        expect(params.canary).toMatchObject({ kind: 'selector', text: 'rollouts-pod-template-hash=7c9d8f6b5' });
        // Argo's HTTP client gives up after timeoutSeconds: it must outlast the verification.
        expect(Number(at(metric, 'provider.web.timeoutSeconds')) * 1000).toBeGreaterThan(params.durationMs);
        const headers = JSON.stringify((metric['provider'] as Doc)['web']);
        for (const arg of [...argsUsed(url), ...argsUsed(headers)]) expect(declared).toContain(arg);
      }
    }
  });

  it('job metric: a Job running `hopwatch verify` with flags the real command accepts', () => {
    const job = templates.find((t) => list(t, 'spec.metrics').some((m) => (m['provider'] as Doc)['job']));
    const metric = list(job, 'spec.metrics')[0];
    expect(at(metric, 'provider.job.spec.template.spec.restartPolicy')).toBe('Never');
    expect(at(metric, 'provider.job.spec.backoffLimit')).toBe(0);
    const container = list(metric, 'provider.job.spec.template.spec.containers')[0];
    expect(container?.['command']).toEqual(['hopwatch']);
    const args = (container?.['args'] as string[]).map(substitute);
    expect(args[0]).toBe('verify');
    const command = verifyCommand().exitOverride().action(() => undefined);
    command.parse(args.slice(1), { from: 'user' });
    const params = parseVerifyParams(rawParamsFromFlags(command.opts()));
    expect(params).toMatchObject({ ingress: { namespace: 'shop', name: 'web' }, canary: { kind: 'selector', text: 'rollouts-pod-template-hash=7c9d8f6b5' } });
    const deadline = Number(at(metric, 'provider.job.spec.activeDeadlineSeconds'));
    expect(deadline * 1000).toBeGreaterThan(params.durationMs);
  });

  it('the Rollout passes the latest pod-template-hash to templates that exist', () => {
    const [rollout] = docs('argo-rollouts/rollout.yaml');
    expect(rollout).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' });
    const names = templates.map((t) => at(t, 'metadata.name'));
    const analyses = list(rollout, 'spec.strategy.canary.steps').filter((s) => s['analysis']);
    expect(analyses.length).toBeGreaterThanOrEqual(2);
    for (const step of analyses) {
      for (const t of list(step, 'analysis.templates')) expect(names).toContain(t['templateName']);
      expect(list(step, 'analysis.args')).toContainEqual({ name: 'canary-hash', valueFrom: { podTemplateHashValue: 'Latest' } });
    }
  });
});

describe('examples/flagger', () => {
  it('the Canary\'s webhooks POST to /api/v1/verify/flagger with string metadata hopwatch accepts', () => {
    const [canary] = docs('flagger/canary.yaml');
    expect(canary).toMatchObject({ apiVersion: 'flagger.app/v1beta1', kind: 'Canary' });
    const webhooks = list(canary, 'spec.analysis.webhooks');
    expect(webhooks.map((w) => w['type'])).toEqual(['pre-rollout', 'rollout']);
    const interval = String(at(canary, 'spec.analysis.interval'));
    for (const hook of webhooks) {
      expect(new URL(String(hook['url'])).pathname).toBe(FLAGGER_PATH);
      const metadata = hook['metadata'] as Record<string, unknown>;
      // Flagger's metadata is map[string]string: an unquoted number would be rejected by the CRD.
      for (const value of Object.values(metadata)) expect(typeof value).toBe('string');
      const params = parseVerifyParams(rawFromFlagger({ name: 'podinfo', namespace: 'test', phase: 'Progressing', metadata }));
      expect(params.ingress).toEqual({ namespace: 'test', name: 'podinfo' });
      // Flagger needs each rollout hook's timeout below the analysis interval; hopwatch needs it above the duration.
      const timeoutS = Number(String(hook['timeout']).replace(/s$/, ''));
      expect(timeoutS * 1000).toBeGreaterThan(params.durationMs);
      expect(interval).toBe('1m');
      expect(timeoutS).toBeLessThan(60);
    }
  });
});

describe('examples/ci/verify-after-deploy.sh', () => {
  it('is an executable POSIX shell script', () => {
    const path = join(ROOT, 'examples/ci/verify-after-deploy.sh');
    accessSync(path, constants.X_OK);
    execFileSync('sh', ['-n', path]);
    expect(readFileSync(path, 'utf8')).toMatch(/^#!\/bin\/sh\n/);
  });
});
