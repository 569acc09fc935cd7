// Starts a worker thread from a module of this package, whether the package runs
// compiled (dist/, `.js` modules: Node runs them as they are) or from its
// TypeScript sources (vitest: the caller's import.meta.url ends in `.ts`, and a
// worker thread is plain Node, which neither vitest's transform nor a `.ts`
// file reaches). For sources, the worker first registers module hooks
// (node:module register, Node >= 20.6) that transpile `.ts` files with the
// installed `typescript` (a dev dependency, so only ever needed when sources
// run) and map the `./x.js` imports of a `.ts` module to `./x.ts`.

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The module hooks of a worker running sources, as an ES module (loaded from a data: URL). */
const TS_HOOKS = `
import { access, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
let ts;
export async function initialize(data) {
  ts = (await import(data.typescript)).default;
}
export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (parent?.startsWith('file:') && parent.endsWith('.ts') && /^\\.\\.?\\//.test(specifier) && specifier.endsWith('.js')) {
    const source = new URL(specifier.slice(0, -3) + '.ts', parent);
    try {
      await access(source);
      return { url: source.href, format: 'module', shortCircuit: true };
    } catch {}
  }
  return nextResolve(specifier, context);
}
export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const text = await readFile(new URL(url), 'utf8');
  const out = ts.transpileModule(text, {
    fileName: fileURLToPath(url),
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true, inlineSourceMap: true },
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
`;

/** The worker's first module when it runs sources: register the hooks, then import the real entry. */
const TS_BOOT = `
import { register } from 'node:module';
import { workerData } from 'node:worker_threads';
const boot = workerData.__hopwatchBoot;
register(boot.hooks, { data: { typescript: boot.typescript } });
await import(boot.entry);
`;

function dataUrl(source: string): URL {
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

/**
 * Starts `entry` (a sibling module named without extension, resolved against `callerUrl`,
 * the caller's import.meta.url) in a worker thread: `entry.js` when the caller is compiled,
 * `entry.ts` through the transpiling hooks when the caller runs from sources.
 * workerData must be a plain object; the hooks' settings travel in it under `__hopwatchBoot`.
 */
export function startModuleWorker(callerUrl: string, entry: string, options: WorkerOptions & { workerData?: Record<string, unknown> } = {}): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${entry}.js`, callerUrl), options);
  const typescript = pathToFileURL(createRequire(callerUrl).resolve('typescript')).href;
  const boot = { entry: new URL(`./${entry}.ts`, callerUrl).href, hooks: dataUrl(TS_HOOKS).href, typescript };
  return new Worker(dataUrl(TS_BOOT), { ...options, workerData: { ...options.workerData, __hopwatchBoot: boot } });
}
