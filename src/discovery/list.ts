// Lists of the API server as parsed JSON, for the informers' list function.
//
// client-node's typed list calls parse the body and then build class instances of every object
// (ObjectSerializer), which cost a sync most of its time and the watch twice the memory of the
// parsed lists (bench/README.md). This asks the same URL with the same credentials (client-node's
// KubeConfig.applyToFetchOptions: its agent for TLS, client certificates or a proxy, and its auth
// headers, token refresh included) and keeps the parsed JSON; typed.ts then converts in place
// what the typed form changes. Lists are read in pages of `limit` objects, following `continue`,
// as client-go's pager does, so a large cluster's list is never one huge body held at once.

import http from 'node:http';
import https from 'node:https';
import type { KubeConfig, KubernetesObject, V1ListMeta } from '@kubernetes/client-node';

/** A list as the API server answers it. */
export interface ObjectList {
  /** The list's resourceVersion (where a watch starts) and the continue token of a page. */
  metadata?: V1ListMeta;
  /** The objects (without apiVersion and kind: the server leaves them out of list items). */
  items: KubernetesObject[];
}

/** Objects per page; client-go's pager asks 500. */
export const LIST_PAGE_SIZE = 500;

/** Pages followed at most for one list: a server repeating a continue token must not loop for ever. */
const MAX_PAGES = 100_000;

/** An answer other than 200: `code` is the HTTP status (client-node's ListWatch relists on 410). */
export class ListError extends Error {
  /** The HTTP status. */
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.name = 'ListError';
    this.code = code;
  }
}

/** Every object at `path` (e.g. /api/v1/pods), in pages, with the resourceVersion of the list. */
export async function listObjects(kubeConfig: KubeConfig, path: string, signal: AbortSignal, pageSize = LIST_PAGE_SIZE): Promise<ObjectList> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  // Credentials and agent once per list, not per page (applyToFetchOptions makes a new agent each call).
  const init = await kubeConfig.applyToFetchOptions({});
  const items: KubernetesObject[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = new URLSearchParams({ limit: String(pageSize) });
    if (token !== undefined) query.set('continue', token);
    const list = (await getJson(new URL(cluster.server.replace(/\/$/, '') + `${path}?${query}`), init, signal)) as Partial<ObjectList>;
    for (const item of list.items ?? []) items.push(item);
    // Parsed JSON: the field is `continue` (client-node's typed V1ListMeta calls it `_continue`).
    token = (list.metadata as { continue?: string } | undefined)?.continue;
    if (!token) return { metadata: list.metadata, items };
  }
  throw new Error(`${path}: more than ${MAX_PAGES} pages`);
}

/** One GET of JSON with the kubeconfig's credentials (applyToFetchOptions' agent and headers). */
async function getJson(url: URL, init: Awaited<ReturnType<KubeConfig['applyToFetchOptions']>>, signal: AbortSignal): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' };
  // applyToFetchOptions builds a Headers object (auth token, basic auth, exec and OIDC plug-ins).
  new Headers(init.headers as Headers | undefined).forEach((value, key) => (headers[key] = value));
  const request = url.protocol === 'https:' ? https.request : http.request;
  const agent = init.agent as http.Agent | undefined;
  const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(url, { method: 'GET', headers, agent, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  if (body.status !== 200) throw new ListError(body.status, `GET ${url.pathname}: HTTP ${body.status}${statusMessage(body.text)}`);
  return JSON.parse(body.text) as unknown;
}

/** The message of a Kubernetes Status body, if the body is one. */
function statusMessage(text: string): string {
  try {
    const status = JSON.parse(text) as { message?: unknown };
    return typeof status.message === 'string' ? `: ${status.message}` : '';
  } catch {
    return '';
  }
}
