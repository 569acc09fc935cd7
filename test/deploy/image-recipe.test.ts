// The Dockerfile's recipe, exercised without a Docker engine: scripts/image-recipe.sh builds,
// prunes to production dependencies, lays out /app and starts `hopwatch run`, the HEALTHCHECK and
// the demo stage's command as the image's non-root user with the image's environment in a
// read-only root, here against a lab cluster (so /readyz must turn 200).

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../lab/lab.js';
import { webApp } from '../lab/scenarios.js';
import { ROOT, runProcess } from '../e2e/cli.js';

let lab: Lab;

beforeAll(async () => {
  lab = await startLab(webApp('shop', 'web', 'web.image.test'));
}, 90_000);

afterAll(async () => {
  await lab?.stop();
});

/** Runs the script to completion (bounded), collecting its output. */
function recipe(args: string[]): Promise<{ code: number | null; output: string }> {
  // SIGTERM lets the script's trap stop what it started and remove its temp dir.
  return runProcess('bash', [join(ROOT, 'scripts', 'image-recipe.sh'), ...args], { timeoutMs: 240_000, killSignal: 'SIGTERM' });
}

describe('the image recipe (scripts/image-recipe.sh)', () => {
  it('builds, prunes, and runs hopwatch as the image would: non-root, read-only root, /healthz, /readyz, HEALTHCHECK, demo', async () => {
    const { code, output } = await recipe(['--kubeconfig', lab.kubeconfigPath, '--demo', '--ip', '127.211.0.20']);
    expect(code, output).toBe(0);
    expect(output).toMatch(/^image-recipe: deps: production tree equals npm ci --omit=dev/m);
    expect(output).toMatch(/^image-recipe: run: hopwatch --version = \d+\.\d+\.\d+ \(as uid \d+, (chroot|direct)\)$/m);
    expect(output).toMatch(/^image-recipe: run: http:\/\/127\.211\.0\.20:\d+ \/healthz 200, \/metrics 200, \/readyz 200 \(synced with the cluster\)$/m);
    expect(output).toMatch(/^image-recipe: run: HEALTHCHECK .* exits 0$/m);
    expect(output).toMatch(/^image-recipe: demo: \d+ routes judged, some failing as designed$/m);
    expect(output).toMatch(/^image-recipe: OK$/m);
    // As root (CI, this machine) the run is the image's own uid in a read-only chroot; otherwise the script says what it skipped.
    if (process.getuid?.() === 0) expect(output).toMatch(/\(as uid 1000, chroot\)/);
    else expect(output).toMatch(/^image-recipe: SKIP read-only root/m);
  }, 300_000);
});
