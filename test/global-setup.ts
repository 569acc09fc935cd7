// Builds dist/ once before the suite, so end-to-end tests drive the real `hopwatch` binary as
// users run it. HOPWATCH_SKIP_BUILD=1 skips it when dist/ is known to be fresh.

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  if (process.env['HOPWATCH_SKIP_BUILD'] === '1') return;
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
