// The lab Gateway's pure part: attachment and status per the spec, and nginx.conf as NGINX Gateway
// Fabric renders it (checked by `nginx -t`).

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { GwGateway, GwHttpRoute } from './gateway-api.js';
import { comparePrecedence, INVALID_BACKEND_REF, type PlannedMatch, planGateway, renderGatewayNginx } from './gateway-config.js';
import { testNginxConfig } from './nginx.js';

const gateway: GwGateway = {
  metadata: { namespace: 'infra', name: 'gw' },
  spec: { gatewayClassName: 'lab-nginx', listeners: [{ name: 'http', port: 18090, protocol: 'HTTP', hostname: '*.example.com' }] },
};
const service = (namespace: string, name: string): V1Service => ({ metadata: { namespace, name }, spec: { ports: [{ name: 'http', port: 8000, targetPort: 8080 as never }] } });
const slice = (namespace: string, name: string, ip: string): V1EndpointSlice => ({
  metadata: { namespace, name: `${name}-x`, labels: { 'kubernetes.io/service-name': name } },
  addressType: 'IPv4',
  endpoints: [{ addresses: [ip], conditions: { ready: true } }],
  ports: [{ name: 'http', port: 8080 }],
});
const route = (name: string, spec: GwHttpRoute['spec'], namespace = 'infra'): GwHttpRoute => ({ metadata: { namespace, name, creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { parentRefs: [{ name: 'gw' }], ...spec } });

function plan(routes: GwHttpRoute[]) {
  return planGateway({
    gateway,
    routes,
    grants: [],
    services: [service('infra', 'web'), service('infra', 'v2'), service('other', 'web')],
    endpointSlices: [slice('infra', 'web', '127.9.1.1'), slice('infra', 'v2', '127.9.1.2')],
    namespaceLabels: new Map(),
  });
}

const reasons = (p: ReturnType<typeof plan>, key: string) => (p.routeParents.get(key) ?? []).flatMap((s) => s.conditions.map((c) => `${c.type}=${c.status}:${c.reason}`));

describe('planGateway: attachment and status', () => {
  it.each<[string, GwHttpRoute, string[]]>([
    ['accepted', route('a', { hostnames: ['a.example.com'], rules: [{ backendRefs: [{ name: 'web', port: 8000 }] }] }), ['Accepted=True:Accepted', 'ResolvedRefs=True:ResolvedRefs']],
    ['no matching hostname', route('a', { hostnames: ['a.example.org'], rules: [] }), ['Accepted=False:NoMatchingListenerHostname', 'ResolvedRefs=True:ResolvedRefs']],
    ['another namespace (allowedRoutes Same)', route('a', { parentRefs: [{ name: 'gw', namespace: 'infra' }], rules: [] }, 'shop'), ['Accepted=False:NotAllowedByListeners', 'ResolvedRefs=True:ResolvedRefs']],
    ['no such listener', route('a', { parentRefs: [{ name: 'gw', sectionName: 'https' }], rules: [] }), ['Accepted=False:NoMatchingParent', 'ResolvedRefs=True:ResolvedRefs']],
    ['a missing Service', route('a', { rules: [{ backendRefs: [{ name: 'nope', port: 8000 }] }] }), ['Accepted=True:Accepted', 'ResolvedRefs=False:BackendNotFound']],
    ['another namespace without a grant', route('a', { rules: [{ backendRefs: [{ name: 'web', namespace: 'other', port: 8000 }] }] }), ['Accepted=True:Accepted', 'ResolvedRefs=False:RefNotPermitted']],
  ])('%s', (_name, r, want) => {
    expect(reasons(plan([r]), `${r.metadata.namespace}/a`)).toEqual(want);
  });
});

describe('match precedence', () => {
  const m = (spec: PlannedMatch['spec'], route = 'infra/a', created = '2026-01-01T00:00:00Z'): PlannedMatch => ({ route, created, rule: 0, match: 0, spec, filters: [], backends: [], timeoutMs: null });
  it('exact over prefix, longer prefix, method, headers, query, then age and name', () => {
    const sorted = [
      m({ path: { value: '/' } }, 'infra/z'),
      m({ path: { value: '/' } }, 'infra/b', '2025-01-01T00:00:00Z'),
      m({ path: { value: '/' }, queryParams: [{ name: 'q', value: '1' }] }),
      m({ path: { value: '/' }, headers: [{ name: 'x', value: '1' }] }),
      m({ path: { value: '/' }, method: 'GET' }),
      m({ path: { value: '/api' } }),
      m({ path: { type: 'Exact', value: '/' } }),
    ].sort(comparePrecedence);
    expect(sorted.map((x) => `${x.spec.path?.type ?? 'Prefix'} ${x.spec.path?.value} ${x.spec.method ?? ''}${x.spec.headers?.length ?? 0}${x.spec.queryParams?.length ?? 0} ${x.route}`)).toEqual([
      'Exact / 00 infra/a',
      'Prefix /api 00 infra/a',
      'Prefix / GET00 infra/a',
      'Prefix / 10 infra/a',
      'Prefix / 01 infra/a',
      'Prefix / 00 infra/b',
      'Prefix / 00 infra/z',
    ]);
  });
});

describe('renderGatewayNginx', () => {
  it('renders what nginx -t accepts: servers per hostname, weights, the 500 and 503 servers, timeouts and filters', async () => {
    const p = plan([
      route('a', {
        hostnames: ['a.example.com'],
        rules: [
          { matches: [{ path: { value: '/api' }, headers: [{ name: 'x-env', value: 'blue' }] }], backendRefs: [{ name: 'v2', port: 8000 }], timeouts: { request: '1s' } },
          { matches: [{ path: { value: '/api' } }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v1' } } }], backendRefs: [{ name: 'web', port: 8000, weight: 80 }, { name: 'v2', port: 8000, weight: 20 }] },
          { matches: [{ path: { type: 'Exact', value: '/old' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 301 } }] },
          { matches: [{ path: { value: '/gone' } }], backendRefs: [{ name: 'nope', port: 8000 }] },
        ],
      }),
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'hopwatch-gwconf-'));
    try {
      const text = renderGatewayNginx(p, { address: '127.9.4.1', dir, timeouts: { connectMs: 1000, readMs: 2000, sendMs: 2000 }, workerUser: null });
      expect(text).toContain('server_name a.example.com;');
      expect(text).toMatch(/split_clients \$request_id \$gw_split\d+ \{ 80\.00% infra_web_8000; \* infra_v2_8000; \}/);
      expect(text).toContain(`proxy_pass http://${INVALID_BACKEND_REF}$request_uri;`);
      expect(text).toContain('proxy_read_timeout 1000ms;');
      expect(text).toContain('return 301 $scheme://$host:18090$request_uri;');
      expect(text).toContain('location = /api {');
      expect(text).toContain('location /api/ {');
      const file = join(dir, 'nginx.conf');
      await writeFile(file, text);
      await testNginxConfig(file, dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
