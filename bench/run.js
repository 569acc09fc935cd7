#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --only probe,ingest]`: compiles the benchmarks with the sources they
// import (src/, test/lab/) into dist/ (incremental: a second run compiles only what changed), then
// runs them in a child Node with --expose-gc (heap figures are taken after a full collection).
// Signals are passed on to the child, which stops every lab process it started.

import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The peers the bench measures hopwatch beside (blackbox_exporter, Prometheus): installed like the
// lab's packages when missing (as root); otherwise their figures say "not measured" and why.
const setup = spawnSync('bash', [join(root, 'scripts/setup.sh'), '--bench'], { cwd: root, stdio: 'inherit' });
if (setup.status !== 0) console.error('bench: the peers are not installed (see above); their figures will say "not measured"');
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'bench/tsconfig.json')], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('bench: the TypeScript build failed (see above)');
  process.exit(tsc.status ?? 1);
}
const child = spawn(process.execPath, ['--expose-gc', join(root, 'dist/bench/main.js'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
