// Pure: a route's backends: the primary one and reading them for consumers that need one.

import type { Backend, Route } from '../model.js';

/** The route's own (first) backend, null for a route without any. */
export function primaryBackend(route: Pick<Route, 'backends'>): Backend | null {
  return route.backends[0] ?? null;
}

/** The backend as written, primary first: { service, port } as the single-backend field `backend` had it ("" and 0 when none). */
export function primaryRef(route: Pick<Route, 'backends'>): { service: string; port: number | string } {
  const primary = primaryBackend(route);
  return { service: primary?.ref.service ?? '', port: primary?.ref.port ?? 0 };
}

/** A backend known only as written (no Service facts yet): the whole share unless weighted otherwise. */
export function bareBackend(
  ref: Backend['ref'],
  source: Backend['source'],
  overrides: Partial<Backend> = {},
): Backend {
  return {
    key: backendKey(ref),
    ref,
    weight: 100,
    share: 1,
    role: 'primary',
    source,
    selector: null,
    problem: null,
    service: null,
    servicePort: null,
    endpoints: [],
    pods: [],
    policies: [],
    ...overrides,
  };
}

/** "namespace/service:port": a backend's key within its route. */
export function backendKey(ref: Backend['ref']): string {
  return `${ref.namespace}/${ref.service}:${ref.port}`;
}
