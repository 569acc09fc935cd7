#!/usr/bin/env node
// The hopwatch command: runs the compiled CLI (npm run build writes dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('hopwatch: not built yet; run `npm run build` first\n');
  process.exit(2);
}
await import(entry.href);
