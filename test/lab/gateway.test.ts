// The lab's Gateway implementation end to end: real nginx rendered from Gateways and HTTPRoutes,
// reached through the Gateway's address, answering as NGINX Gateway Fabric does, and the status it
// writes on the objects.

import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_V1 } from './gateway-api.js';
import { GATEWAY_NAME_LABEL } from './gateway.js';
import { startLab, type Lab } from './lab.js';
import type { HttpRouteSpec } from './spec.js';

let lab: Lab;

const route = (name: string, spec: HttpRouteSpec['spec'], namespace = 'shop'): HttpRouteSpec => ({ namespace, name, spec });
const parentRefs = [{ name: 'gw', namespace: 'infra' }];

async function get(host: string, path = '/', headers: Record<string, string> = {}): Promise<{ status: number; body: string; pod: string | undefined; location: string | undefined }> {
  const url = lab.gateway?.edgeUrl('infra', 'gw') ?? '';
  const res = await request(`${url}${path}`, { headers: { host, ...headers }, reset: true, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const body = await res.body.text();
  const pod = res.headers['x-lab-pod'];
  const location = res.headers.location;
  return { status: res.statusCode, body, pod: typeof pod === 'string' ? pod : undefined, location: typeof location === 'string' ? location : undefined };
}

function routeStatus(name: string, namespace = 'shop'): { type: string; status: string; reason: string }[] {
  const object = lab.api.get({ apiVersion: GATEWAY_V1, kind: 'HTTPRoute', namespace, name });
  const parents = (object?.status as { parents?: { conditions: { type: string; status: string; reason: string }[] }[] } | undefined)?.parents ?? [];
  return parents.flatMap((p) => p.conditions.map(({ type, status, reason }) => ({ type, status, reason })));
}

beforeAll(async () => {
  lab = await startLab({
    apps: [
      { namespace: 'shop', name: 'web', replicas: 2 },
      { namespace: 'shop', name: 'v2', replicas: 1 },
      { namespace: 'shop', name: 'down', replicas: 1, fault: { mode: 'crashloop' } },
      { namespace: 'store', name: 'stock', replicas: 1 },
    ],
    services: [
      { namespace: 'shop', name: 'web', ports: [{ name: 'http', port: 8000, targetPort: 'http' }] },
      { namespace: 'shop', name: 'v2', ports: [{ name: 'http', port: 8000, targetPort: 'http' }] },
      { namespace: 'shop', name: 'down', ports: [{ name: 'http', port: 8000, targetPort: 'http' }] },
      { namespace: 'store', name: 'stock', ports: [{ name: 'http', port: 8000, targetPort: 'http' }] },
    ],
    gatewayApi: {
      gateways: [{ namespace: 'infra', name: 'gw', listeners: [{ name: 'http', port: 18090, protocol: 'HTTP', hostname: '*.shop.test', allowedRoutes: { namespaces: { from: 'All' } } }] }],
      httpRoutes: [
        route('web', { parentRefs, hostnames: ['web.shop.test'], rules: [{ backendRefs: [{ name: 'web', port: 8000 }] }] }),
        route('missing', { parentRefs, hostnames: ['missing.shop.test'], rules: [{ backendRefs: [{ name: 'nope', port: 8000 }] }] }),
        route('empty', { parentRefs, hostnames: ['empty.shop.test'], rules: [{ backendRefs: [{ name: 'down', port: 8000 }] }] }),
        route('cross', { parentRefs, hostnames: ['cross.shop.test'], rules: [{ backendRefs: [{ name: 'stock', namespace: 'store', port: 8000 }] }] }),
        route('elsewhere', { parentRefs, hostnames: ['web.other.test'], rules: [{ backendRefs: [{ name: 'web', port: 8000 }] }] }),
        route('matches', {
          parentRefs,
          hostnames: ['match.shop.test'],
          rules: [
            { matches: [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'x-version', value: 'v2' }] }], backendRefs: [{ name: 'v2', port: 8000 }] },
            { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v1' } } }], backendRefs: [{ name: 'web', port: 8000 }] },
            { matches: [{ path: { type: 'Exact', value: '/old' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/new' }, statusCode: 301 } }] },
          ],
        }),
        route('split', { parentRefs, hostnames: ['split.shop.test'], rules: [{ backendRefs: [{ name: 'web', port: 8000, weight: 80 }, { name: 'v2', port: 8000, weight: 20 }] }] }),
      ],
    },
  });
}, 90_000);

afterAll(async () => {
  await lab?.stop();
});

describe('the lab Gateway', () => {
  it('routes through the Gateway address by hostname to the backendRef, and writes Accepted/ResolvedRefs', async () => {
    const answer = await get('web.shop.test', '/hello');
    expect(answer.status).toBe(200);
    expect(answer.pod).toMatch(/^web-/);
    expect(routeStatus('web')).toEqual([
      { type: 'Accepted', status: 'True', reason: 'Accepted' },
      { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' },
    ]);
  });

  it('writes the Gateway status: address, Programmed, attached routes; labels its pods GEP-1762', () => {
    const gw = lab.api.get({ apiVersion: GATEWAY_V1, kind: 'Gateway', namespace: 'infra', name: 'gw' });
    const status = gw?.status as { addresses: { value: string }[]; conditions: { type: string; status: string }[]; listeners: { attachedRoutes: number }[] };
    expect(status.addresses[0]?.value).toBe(lab.gateway?.plane('infra', 'gw').address);
    expect(status.conditions.map((c) => `${c.type}=${c.status}`)).toEqual(['Accepted=True', 'Programmed=True']);
    // Every route but "elsewhere" (its hostname is not below *.shop.test) attaches.
    expect(status.listeners[0]?.attachedRoutes).toBe(6);
    const pods = lab.api.list('v1', 'Pod', 'infra').filter((p) => p.metadata.labels?.[GATEWAY_NAME_LABEL] === 'gw');
    expect(pods).toHaveLength(2);
  });

  it('answers 500 for a backendRef to a missing Service (BackendNotFound) and 503 with no ready endpoint', async () => {
    expect((await get('missing.shop.test')).status).toBe(500);
    expect(routeStatus('missing')).toContainEqual({ type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound' });
    expect((await get('empty.shop.test')).status).toBe(503);
  });

  it('answers 500 for a cross-namespace backendRef until a ReferenceGrant permits it', async () => {
    expect((await get('cross.shop.test')).status).toBe(500);
    expect(routeStatus('cross')).toContainEqual({ type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' });
    await lab.addReferenceGrant({
      namespace: 'store',
      name: 'shop-routes',
      spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'shop' }], to: [{ group: '', kind: 'Service' }] },
    });
    expect((await get('cross.shop.test')).status).toBe(200);
    expect(routeStatus('cross')).toContainEqual({ type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' });
  });

  it('does not accept a route whose hostnames miss the listener hostname (404 from the default server)', async () => {
    expect(routeStatus('elsewhere')).toContainEqual({ type: 'Accepted', status: 'False', reason: 'NoMatchingListenerHostname' });
    expect((await get('web.other.test')).status).toBe(404);
  });

  it('applies header matches, URLRewrite and RequestRedirect', async () => {
    const v2 = await get('match.shop.test', '/api/items', { 'x-version': 'v2' });
    expect(v2.pod).toMatch(/^v2-/);
    const rewritten = await get('match.shop.test', '/api/items?q=1');
    expect(rewritten.pod).toMatch(/^web-/);
    expect(JSON.parse(rewritten.body)).toMatchObject({ path: '/v1/items?q=1' });
    const redirect = await get('match.shop.test', '/old');
    expect(redirect.status).toBe(301);
    expect(redirect.location).toBe('http://match.shop.test:18090/new');
  });

  it('splits by weight between backendRefs', async () => {
    const pods: string[] = [];
    for (let i = 0; i < 40; i++) pods.push((await get('split.shop.test')).pod ?? '');
    expect(pods.filter((p) => p.startsWith('web-')).length).toBeGreaterThan(15);
    expect(pods.filter((p) => p.startsWith('v2-')).length).toBeGreaterThan(0);
  });

  it('a replica with a stale config keeps serving what it had; a Gateway not programmed loses its address', async () => {
    await lab.gateway?.setReplicaFault('infra', 'gw', 1, 'stale');
    await lab.addHttpRoute(route('late', { parentRefs, hostnames: ['late.shop.test'], rules: [{ backendRefs: [{ name: 'web', port: 8000 }] }] }));
    const plane = lab.gateway?.plane('infra', 'gw');
    const direct = async (ip: string): Promise<number> =>
      (await request(`http://${ip}:18090/`, { headers: { host: 'late.shop.test' }, reset: true })).statusCode;
    expect(await direct(plane?.replicas[0]?.ip ?? '')).toBe(200);
    expect(await direct(plane?.replicas[1]?.ip ?? '')).toBe(404);
    await lab.gateway?.setReplicaFault('infra', 'gw', 1, 'healthy');
    expect(await direct(plane?.replicas[1]?.ip ?? '')).toBe(200);

    await lab.gateway?.setProgrammed('infra', 'gw', false);
    const gw = lab.api.get({ apiVersion: GATEWAY_V1, kind: 'Gateway', namespace: 'infra', name: 'gw' });
    const status = gw?.status as { addresses?: unknown; conditions: { type: string; status: string; reason: string }[] };
    expect(status.addresses).toBeUndefined();
    expect(status.conditions).toContainEqual(expect.objectContaining({ type: 'Programmed', status: 'False', reason: 'AddressNotAssigned' }));
    await expect(direct(plane?.replicas[0]?.ip ?? '')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await lab.gateway?.setProgrammed('infra', 'gw', true);
    expect((await get('web.shop.test')).status).toBe(200);
  });
});
