// Loads what hopwatch ships for deployment (deploy/kubernetes, the Dockerfile, docker-compose.yml)
// as plain values for the tests, and a few lookups over them.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { ROOT } from '../e2e/cli.js';

/** A Kubernetes object as parsed from YAML. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } } & Record<string, unknown>;

/** One parsed manifest document and the file it came from. */
export interface Manifest {
  /** Path relative to the repository root. */
  file: string;
  /** The object. */
  object: K8sObject;
}

/** The directory of the Kubernetes manifests. */
export const KUBERNETES_DIR = join(ROOT, 'deploy', 'kubernetes');

/** Every YAML file under a directory, recursively, sorted. */
export function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Every object of every manifest file (kustomization.yaml files excluded), failing on YAML errors. */
export function loadManifests(dir: string = KUBERNETES_DIR): Manifest[] {
  return yamlFiles(dir)
    .filter((path) => !path.endsWith('kustomization.yaml'))
    .flatMap((path) =>
      parseAllDocuments(readFileSync(path, 'utf8')).map((doc) => {
        if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map(String).join('; ')}`);
        return { file: relative(ROOT, path), object: doc.toJS() as K8sObject };
      }),
    );
}

/** The one object of a kind (and name, when given); throws when there is not exactly one. */
export function only(manifests: readonly Manifest[], kind: string, name?: string): K8sObject {
  const found = manifests.filter((m) => m.object.kind === kind && (name === undefined || m.object.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return (found[0] as Manifest).object;
}

/** Reads a nested field by a dotted path ("spec.template.spec"); numeric segments index lists. */
export function at<T = unknown>(value: unknown, path: string): T {
  let current: unknown = value;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) throw new Error(`no ${path} (stopped at ${key})`);
    current = (current as Record<string, unknown>)[key];
  }
  if (current === undefined) throw new Error(`no ${path}`);
  return current as T;
}

/** One Dockerfile instruction. */
export interface Instruction {
  /** Upper-case keyword. */
  op: string;
  /** The rest of the line (continuations joined). */
  args: string;
}

/** A Dockerfile stage: its base and instructions (a stage FROM another stage starts with that stage's instructions). */
export interface Stage {
  /** The FROM argument. */
  from: string;
  /** Instructions of this stage only. */
  own: Instruction[];
  /** Instructions including the ones inherited from a parent stage. */
  all: Instruction[];
}

/** Parses the Dockerfile into named stages (unnamed ones as "#index"). */
export function parseDockerfile(text: string): Map<string, Stage> {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).filter((l) => !/^\s*(#|$)/.test(l));
  const stages = new Map<string, Stage>();
  let current: Stage | null = null;
  for (const line of lines) {
    const match = /^\s*(\S+)\s*(.*)$/.exec(line);
    if (match === null) continue;
    const op = (match[1] as string).toUpperCase();
    const args = (match[2] as string).trim();
    if (op === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args);
      const base = from?.[1] ?? '';
      current = { from: base, own: [], all: [...(stages.get(base)?.all ?? [])] };
      stages.set(from?.[2] ?? `#${stages.size}`, current);
    } else if (current !== null) {
      current.own.push({ op, args });
      current.all.push({ op, args });
    }
  }
  return stages;
}

/** The repository's Dockerfile, parsed. */
export function dockerfile(): Map<string, Stage> {
  return parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
}

/** The last argument of an instruction in a stage (later ones override earlier ones), null when absent. */
export function lastOf(stage: Stage, op: string): string | null {
  return stage.all.filter((i) => i.op === op).at(-1)?.args ?? null;
}

/** ENV of a stage as a map (KEY=VALUE tokens). */
export function envOf(stage: Stage): Map<string, string> {
  const env = new Map<string, string>();
  for (const i of stage.all.filter((x) => x.op === 'ENV')) {
    for (const token of i.args.split(/\s+/)) {
      const eq = token.indexOf('=');
      if (eq > 0) env.set(token.slice(0, eq), token.slice(eq + 1));
    }
  }
  return env;
}

/** docker-compose.yml, parsed. */
export function compose(): Record<string, unknown> {
  return parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as Record<string, unknown>;
}
