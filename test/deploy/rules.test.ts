// The PrometheusRule checked and unit-tested by Prometheus's own promtool (Debian's prometheus
// package, installed by scripts/setup.sh --tests): the expressions parse, and the alerts fire,
// stay firing and read as prometheusrule.promtool.yaml says, for series shaped as hopwatch exports them.

import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { at, loadManifests, only } from './manifests.js';

const PROMTOOL = '/usr/bin/promtool';
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'hopwatch-rules-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs promtool in the scratch directory; its output either way. */
async function promtool(...args: string[]): Promise<{ ok: boolean; output: string }> {
  // A missing promtool is a failure with one clear line, never a silent skip.
  if (!existsSync(PROMTOOL)) throw new Error(`promtool is not installed at ${PROMTOOL}: run scripts/setup.sh --tests (apt-get install prometheus)`);
  try {
    const { stdout, stderr } = await run(PROMTOOL, args, { cwd: dir, timeout: 60_000 });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
}

describe('the PrometheusRule under promtool', () => {
  const groups = at<unknown[]>(only(loadManifests(), 'PrometheusRule'), 'spec.groups');
  writeFileSync(join(dir, 'rules.yaml'), stringify({ groups }));
  copyFileSync(join(import.meta.dirname, 'prometheusrule.promtool.yaml'), join(dir, 'tests.yaml'));

  it('parses: every expression and template is valid', async () => {
    const result = await promtool('check', 'rules', 'rules.yaml');
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
  });

  it('fires as the unit tests say: one alert through a change of cause, flapping routes caught, a route failing in one cluster of two alerts once and names it, the fleet rules count replicas once', async () => {
    const result = await promtool('test', 'rules', 'tests.yaml');
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
  });
});
