// A kubeconfig pointing at the lab's API server, for the real client-node and kubectl.

import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

/** What a lab kubeconfig says. */
export interface KubeconfigOptions {
  /** The API server URL, e.g. http://127.7.0.1:16443. */
  server: string;
  /** Name of the context (also of its cluster and user); default "hopwatch-lab". */
  context?: string;
  /** The context's namespace; default "default". */
  namespace?: string;
  /** Bearer token of the user; default "hopwatch-lab-token". */
  token?: string;
}

/** The kubeconfig document as YAML text. */
export function renderKubeconfig(options: KubeconfigOptions): string {
  const name = options.context ?? 'hopwatch-lab';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // client-node refuses an http:// server unless TLS verification is skipped.
    clusters: [{ name, cluster: { server: options.server, 'insecure-skip-tls-verify': true } }],
    users: [{ name, user: { token: options.token ?? 'hopwatch-lab-token' } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: options.namespace ?? 'default' } }],
    'current-context': name,
    preferences: {},
  });
}

/** Writes the kubeconfig (mode 0600, as kubectl does) to `path`; resolves to the path. */
export async function writeKubeconfig(options: KubeconfigOptions & { path: string }): Promise<string> {
  await writeFile(options.path, renderKubeconfig(options), { mode: 0o600 });
  return options.path;
}
