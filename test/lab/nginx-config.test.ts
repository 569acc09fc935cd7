// Rendering nginx.conf like ingress-nginx: one named scenario per row (objects in, directives out),
// and every rendered config passed through the real `nginx -t`.

import type { V1EndpointSlice, V1Ingress, V1IngressBackend, V1Service } from '@kubernetes/client-node';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NginxConfigInput, type NginxConfigOptions, effectiveTimeouts, planNginx, renderNginxConfig } from './nginx-config.js';
import { nginxWorkerUser, testNginxConfig } from './nginx.js';

// ---- object builders -------------------------------------------------------------------------

interface PathSpec {
  path?: string;
  type?: string;
  svc: string;
  port: number | string;
}

interface IngressOptions {
  ns?: string;
  cls?: string | null;
  legacyClass?: string;
  annotations?: Record<string, string>;
  created?: string;
  rules?: { host?: string; paths?: PathSpec[] }[];
  defaultBackend?: { svc: string; port: number | string };
}

function backend(svc: string, port: number | string): V1IngressBackend {
  return { service: { name: svc, port: typeof port === 'number' ? { number: port } : { name: port } } };
}

function ing(name: string, o: IngressOptions = {}): V1Ingress {
  const annotations = { ...(o.legacyClass ? { 'kubernetes.io/ingress.class': o.legacyClass } : {}), ...o.annotations };
  return {
    metadata: { name, namespace: o.ns ?? 'default', annotations, creationTimestamp: new Date(o.created ?? '2024-01-01T00:00:00Z') },
    spec: {
      ...(o.cls === null ? {} : { ingressClassName: o.cls ?? 'nginx' }),
      ...(o.defaultBackend ? { defaultBackend: backend(o.defaultBackend.svc, o.defaultBackend.port) } : {}),
      rules: (o.rules ?? []).map((rule) => ({
        ...(rule.host === undefined ? {} : { host: rule.host }),
        ...(rule.paths === undefined
          ? {}
          : { http: { paths: rule.paths.map((p) => ({ path: p.path ?? '/', pathType: p.type ?? 'Prefix', backend: backend(p.svc, p.port) })) } }),
      })),
    },
  };
}

/** A rule `host` -> `path` -> svc:80. */
function route(name: string, host: string | undefined, path: string, svc: string, o: IngressOptions & { type?: string } = {}): V1Ingress {
  return ing(name, { ...o, rules: [{ ...(host === undefined ? {} : { host }), paths: [{ path, svc, port: 80, ...(o.type ? { type: o.type } : {}) }] }] });
}

function svc(name: string, o: { ns?: string; ports?: { name?: string; port: number; targetPort?: number | string }[]; clusterIP?: string; externalName?: string } = {}): V1Service {
  const ports = o.ports ?? [{ name: 'http', port: 80, targetPort: 'http' }];
  return {
    metadata: { name, namespace: o.ns ?? 'default' },
    spec: o.externalName
      ? { type: 'ExternalName', externalName: o.externalName, ports }
      : { type: 'ClusterIP', clusterIP: o.clusterIP ?? '127.203.2.1', ports },
  };
}

function eps(service: string, port: { name?: string; port: number } | null, endpoints: { ip: string; ready?: boolean }[], ns = 'default'): V1EndpointSlice {
  return {
    metadata: { name: `${service}-abc`, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ...(port === null ? {} : { ports: [{ ...(port.name === undefined ? {} : { name: port.name }), port: port.port, protocol: 'TCP' }] }),
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }) })),
  };
}

/** The usual healthy backend: Service web (port 80 -> "http") with one ready pod on 8080. */
const web = { services: [svc('web')], endpointSlices: [eps('web', { name: 'http', port: 8080 }, [{ ip: '127.203.1.1' }])] };

// ---- reading the rendered config -------------------------------------------------------------

/** The lines of the block that opens with `header {` (trimmed), searched inside `text`. */
function block(text: string, header: string): string[] | null {
  const lines = text.split('\n').map((line) => line.trim());
  const start = lines.indexOf(`${header} {`);
  if (start < 0) return null;
  let depth = 0;
  for (let i = start; i < lines.length; i++) {
    depth += (lines[i]?.endsWith('{') ? 1 : 0) - (lines[i] === '}' ? 1 : 0);
    if (depth === 0) return lines.slice(start + 1, i);
  }
  return null;
}

/** The body of `server` for a hostname. */
function server(conf: string, hostname: string): string {
  const start = conf.indexOf(`## start server ${hostname}\n`);
  const end = conf.indexOf(`## end server ${hostname}\n`);
  if (start < 0 || end < 0) return '';
  return conf.slice(start, end);
}

/** Lines of one location of one server, or null when the server has no such location. */
function location(conf: string, hostname: string, key: string): string[] | null {
  return block(server(conf, hostname), `location ${key}`);
}

function locationKeys(conf: string, hostname: string): string[] {
  return [...server(conf, hostname).matchAll(/^\s+location (.+) \{$/gm)].map((m) => m[1] ?? '');
}

// ---- the table -------------------------------------------------------------------------------

interface Check {
  /** Server hostname. */
  server: string;
  /** Location key ("/api/", "= /api", `~* "^/api"`); absent: checks on the whole server. */
  location?: string;
  /** Lines that must appear. */
  has?: string[];
  /** Lines that must not appear. */
  lacks?: string[];
  /** The location must not exist. */
  absent?: boolean;
  /** The server's locations, in order. */
  order?: string[];
}

interface Scenario {
  name: string;
  input: Partial<NginxConfigInput>;
  options?: Partial<NginxConfigOptions>;
  checks: Check[];
}

const PROXY_WEB = 'proxy_pass http://default-web-80;';

const scenarios: Scenario[] = [
  {
    name: 'a host gets a server with its path, the catch-all server answers 404',
    input: { ingresses: [route('a', 'web.example.test', '/', 'web')], ...web },
    checks: [
      { server: 'web.example.test', has: ['server_name web.example.test ;', 'listen 127.203.3.1:18080;'], lacks: ['listen 127.203.3.1:18080 default_server;'] },
      { server: 'web.example.test', location: '/', has: [PROXY_WEB, 'set $proxy_upstream_name "default-web-80";'], lacks: ['return 404;'] },
      { server: '_', has: ['server_name _ ;', 'listen 127.203.3.1:18080 default_server;'] },
      { server: '_', location: '/', has: ['return 404;', 'set $proxy_upstream_name "upstream-default-backend";'] },
      { server: '_', location: '/healthz', has: ['return 200;'] },
    ],
  },
  {
    name: 'Prefix /api: location /api/ plus location = /api, longest first, root stays the 404 default',
    input: { ingresses: [ing('a', { rules: [{ host: 'h.test', paths: [{ path: '/api', svc: 'web', port: 80 }, { path: '/api/v2/deep', svc: 'web', port: 80 }] }] })], ...web },
    checks: [
      { server: 'h.test', order: ['/api/v2/deep/', '= /api/v2/deep', '/api/', '= /api', '/'] },
      { server: 'h.test', location: '/api/', has: [PROXY_WEB, 'set $location_path "/api";'] },
      { server: 'h.test', location: '= /api', has: [PROXY_WEB] },
      { server: 'h.test', location: '/', has: ['return 404;'] },
    ],
  },
  {
    name: 'Exact renders `location =`; an Exact of the same path suppresses the Prefix twin',
    input: {
      ingresses: [ing('a', { rules: [{ host: 'h.test', paths: [{ path: '/p', type: 'Exact', svc: 'web', port: 80 }, { path: '/p', svc: 'other', port: 80 }] }] })],
      ...web,
    },
    checks: [
      { server: 'h.test', order: ['= /p', '/p/', '/'] },
      { server: 'h.test', location: '= /p', has: [PROXY_WEB] },
      { server: 'h.test', location: '/p/', has: ['return 503;'] },
    ],
  },
  {
    name: 'ImplementationSpecific and a missing pathType are Prefix (SetDefaultNGINXPathType)',
    input: { ingresses: [ing('a', { rules: [{ host: 'h.test', paths: [{ path: '/i', type: 'ImplementationSpecific', svc: 'web', port: 80 }, { path: '/n', type: '', svc: 'web', port: 80 }] }] })], ...web },
    // Equal lengths: path descending, as ingress-nginx sorts.
    checks: [{ server: 'h.test', order: ['/n/', '= /n', '/i/', '= /i', '/'] }],
  },
  {
    name: 'Prefix / replaces the default root; an empty path is /',
    input: { ingresses: [ing('a', { rules: [{ host: 'h.test', paths: [{ path: '', svc: 'web', port: 80 }] }] })], ...web },
    checks: [{ server: 'h.test', order: ['/'] }, { server: 'h.test', location: '/', has: [PROXY_WEB], lacks: ['return 404;'] }],
  },
  {
    name: 'rules of one host merge across Ingresses',
    input: { ingresses: [route('a', 'h.test', '/a', 'web'), route('b', 'h.test', '/b', 'web')], ...web },
    checks: [{ server: 'h.test', order: ['/b/', '= /b', '/a/', '= /a', '/'] }],
  },
  {
    name: 'the oldest Ingress wins a contested path; equal ages: "namespace/name" descending wins',
    input: {
      ingresses: [
        route('young', 'h.test', '/', 'young', { created: '2024-02-01T00:00:00Z' }),
        route('old', 'h.test', '/', 'web', { created: '2024-01-01T00:00:00Z' }),
        route('aaa', 'tie.test', '/', 'web'),
        route('zzz', 'tie.test', '/', 'zzz'),
      ],
      ...web,
    },
    checks: [
      { server: 'h.test', location: '/', has: [PROXY_WEB, 'set $ingress_name "old";'] },
      { server: 'tie.test', location: '/', has: ['set $ingress_name "zzz";', 'return 503;'] },
    ],
  },
  {
    name: 'wildcard hosts keep their server_name; rules without host go to the catch-all',
    input: { ingresses: [route('w', '*.wild.test', '/', 'web'), route('n', undefined, '/nohost', 'web')], ...web },
    checks: [
      { server: '*.wild.test', has: ['server_name *.wild.test ;'] },
      { server: '*.wild.test', location: '/', has: [PROXY_WEB] },
      { server: '_', order: ['/nohost/', '= /nohost', '/', '/healthz'] },
    ],
  },
  {
    name: 'class: other classes ignored, legacy annotation honoured, no class only for the default class',
    input: {
      ingresses: [
        route('other', 'other.test', '/', 'web', { cls: 'traefik' }),
        route('legacy', 'legacy.test', '/', 'web', { cls: null, legacyClass: 'nginx' }),
        route('legacy-other', 'legacy-other.test', '/', 'web', { cls: null, legacyClass: 'haproxy' }),
        route('none', 'none.test', '/', 'web', { cls: null }),
      ],
      ...web,
    },
    checks: [
      { server: 'legacy.test', location: '/', has: [PROXY_WEB] },
      { server: 'none.test', location: '/', has: [PROXY_WEB] },
      { server: 'other.test', location: '/', absent: true },
      { server: 'legacy-other.test', location: '/', absent: true },
    ],
  },
  {
    name: 'not the default class: an Ingress without class is not served',
    input: { ingresses: [route('none', 'none.test', '/', 'web', { cls: null })], isDefaultClass: false, ...web },
    checks: [{ server: 'none.test', location: '/', absent: true }],
  },
  {
    name: 'upstream: ready endpoints only, targetPort resolved by the slice port name, never the ClusterIP',
    input: {
      ingresses: [route('a', 'h.test', '/', 'web')],
      services: [svc('web')],
      endpointSlices: [
        eps('web', { name: 'http', port: 8080 }, [{ ip: '127.203.1.2' }, { ip: '127.203.1.1', ready: true }, { ip: '127.203.1.3', ready: false }]),
        eps('web', { name: 'http', port: 8080 }, [{ ip: '127.203.1.9' }], 'elsewhere'),
      ],
    },
    checks: [],
  },
  {
    name: 'backend port by name; Service port found by its name',
    input: { ingresses: [ing('a', { rules: [{ host: 'h.test', paths: [{ svc: 'web', port: 'http' }] }] })], ...web },
    checks: [{ server: 'h.test', location: '/', has: ['proxy_pass http://default-web-http;', 'set $service_port "http";'] }],
  },
  {
    name: 'unnamed Service port with a numeric targetPort and a slice without ports',
    input: { ingresses: [route('a', 'h.test', '/', 'web')], services: [svc('web', { ports: [{ port: 80, targetPort: 9090 }] })], endpointSlices: [eps('web', null, [{ ip: '127.203.1.4' }])] },
    checks: [{ server: 'h.test', location: '/', has: [PROXY_WEB] }],
  },
  {
    name: '503 when the Service is missing, has no such port, or has no ready endpoint',
    input: {
      ingresses: [
        route('missing', 'missing.test', '/', 'ghost'),
        ing('port', { rules: [{ host: 'port.test', paths: [{ svc: 'web', port: 81 }] }] }),
        route('noep', 'noep.test', '/', 'noep'),
      ],
      services: [svc('web'), svc('noep')],
      endpointSlices: [eps('noep', { name: 'http', port: 8080 }, [{ ip: '127.203.1.1', ready: false }])],
    },
    checks: [
      { server: 'missing.test', location: '/', has: ['# Service default/ghost not found: ingress-nginx\'s balancer answers 503.', 'return 503;'] },
      { server: 'port.test', location: '/', has: ['return 503;', 'set $proxy_upstream_name "default-web-81";'] },
      { server: 'noep.test', location: '/', has: ['return 503;'], lacks: ['proxy_pass http://default-noep-80;'] },
    ],
  },
  {
    name: 'defaultBackend without rules takes over the catch-all server',
    input: { ingresses: [ing('fallback', { defaultBackend: { svc: 'web', port: 80 } })], ...web },
    checks: [{ server: '_', location: '/', has: [PROXY_WEB, 'set $ingress_name "fallback";'], lacks: ['return 404;'] }],
  },
  {
    name: 'defaultBackend with rules serves the unmatched paths of its hosts, not the catch-all',
    input: { ingresses: [ing('a', { defaultBackend: { svc: 'web', port: 80 }, rules: [{ host: 'h.test', paths: [{ path: '/api', svc: 'other', port: 80 }] }] })], ...web },
    checks: [
      { server: 'h.test', location: '/', has: [PROXY_WEB] },
      { server: 'h.test', location: '/api/', has: ['return 503;'] },
      { server: '_', location: '/', has: ['return 404;'] },
    ],
  },
  {
    name: 'annotations: timeouts in seconds, buffer size, invalid values fall back to the defaults',
    input: {
      ingresses: [
        route('a', 'a.test', '/', 'web', { annotations: { 'nginx.ingress.kubernetes.io/proxy-read-timeout': '30', 'nginx.ingress.kubernetes.io/proxy-connect-timeout': '3', 'nginx.ingress.kubernetes.io/proxy-send-timeout': '7', 'nginx.ingress.kubernetes.io/proxy-buffer-size': '16k' } }),
        route('b', 'b.test', '/', 'web', { annotations: { 'nginx.ingress.kubernetes.io/proxy-read-timeout': 'soon', 'nginx.ingress.kubernetes.io/proxy-buffer-size': 'huge' } }),
      ],
      ...web,
    },
    checks: [
      { server: 'a.test', location: '/', has: ['proxy_read_timeout 30s;', 'proxy_connect_timeout 3s;', 'proxy_send_timeout 7s;', 'proxy_buffer_size 16k;', 'proxy_buffers 4 16k;'] },
      { server: 'b.test', location: '/', has: ['proxy_read_timeout 60s;', 'proxy_connect_timeout 5s;', 'proxy_buffer_size 4k;', 'proxy_buffers 4 4k;'] },
    ],
  },
  {
    name: 'ingress-nginx defaults on every proxied location',
    input: { ingresses: [route('a', 'h.test', '/', 'web')], ...web },
    checks: [
      {
        server: 'h.test',
        location: '/',
        has: [
          'proxy_connect_timeout 5s;',
          'proxy_send_timeout 60s;',
          'proxy_read_timeout 60s;',
          'proxy_buffering off;',
          'proxy_buffer_size 4k;',
          'proxy_buffers 4 4k;',
          'proxy_http_version 1.1;',
          'proxy_set_header Connection $connection_upgrade;',
          'proxy_set_header Host $best_http_host;',
          'proxy_set_header X-Forwarded-For $remote_addr;',
          'proxy_set_header X-Forwarded-Proto $pass_access_scheme;',
          'proxy_next_upstream error timeout;',
          'proxy_next_upstream_tries 3;',
        ],
      },
    ],
  },
  {
    name: 'lab timeouts from the options (1s/2s/2s), still overridable per Ingress',
    input: { ingresses: [route('a', 'a.test', '/', 'web'), route('b', 'b.test', '/', 'web', { annotations: { 'nginx.ingress.kubernetes.io/proxy-read-timeout': '9' } })], ...web },
    options: { timeouts: { connectMs: 1000, readMs: 2000, sendMs: 2000 }, proxyBufferSize: '8k' },
    checks: [
      { server: 'a.test', location: '/', has: ['proxy_connect_timeout 1s;', 'proxy_read_timeout 2s;', 'proxy_send_timeout 2s;', 'proxy_buffer_size 8k;'] },
      { server: 'b.test', location: '/', has: ['proxy_read_timeout 9s;', 'proxy_connect_timeout 1s;'] },
    ],
  },
  {
    name: 'backend-protocol: HTTPS proxies over TLS, GRPC uses grpc_pass and grpc_set_header',
    input: {
      ingresses: [
        route('s', 's.test', '/', 'web', { annotations: { 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS' } }),
        route('g', 'g.test', '/', 'web', { annotations: { 'nginx.ingress.kubernetes.io/backend-protocol': 'GRPC' } }),
      ],
      ...web,
    },
    options: { timeouts: { readMs: 2000 } },
    checks: [
      { server: 's.test', location: '/', has: ['proxy_pass https://default-web-80;'] },
      { server: 'g.test', location: '/', has: ['grpc_pass grpc://default-web-80;', 'grpc_set_header Host $best_http_host;', 'grpc_read_timeout 2s;'], lacks: [PROXY_WEB] },
    ],
  },
  {
    name: 'service-upstream: the ClusterIP and Service port instead of the endpoints',
    input: { ingresses: [route('a', 'h.test', '/', 'web', { annotations: { 'nginx.ingress.kubernetes.io/service-upstream': 'true' } })], ...web },
    checks: [{ server: 'h.test', location: '/', has: [PROXY_WEB] }],
  },
  {
    name: 'ExternalName: resolved at request time through the lab DNS; 503 without a resolver',
    input: { ingresses: [route('a', 'ext.test', '/', 'ext')], services: [svc('ext', { externalName: 'web.default.svc.cluster.local' })], endpointSlices: [] },
    options: { resolver: '127.203.0.53:5353' },
    checks: [
      {
        server: 'ext.test',
        location: '/',
        has: ['resolver 127.203.0.53:5353 ipv6=off valid=1s;', 'set $external_name_upstream "web.default.svc.cluster.local:80";', 'proxy_pass http://$external_name_upstream;'],
      },
    ],
  },
  {
    name: 'ExternalName without a resolver answers 503',
    input: { ingresses: [route('a', 'ext.test', '/', 'ext')], services: [svc('ext', { externalName: 'web.default.svc.cluster.local' })], endpointSlices: [] },
    checks: [{ server: 'ext.test', location: '/', has: ['return 503;'] }],
  },
  {
    name: 'ExternalName of a loopback IP is used directly; of another IP it answers 503',
    input: {
      ingresses: [route('a', 'ip.test', '/', 'ip'), route('b', 'far.test', '/', 'far')],
      services: [svc('ip', { externalName: '127.203.2.9' }), svc('far', { externalName: '192.0.2.1' })],
      endpointSlices: [],
    },
    checks: [
      { server: 'ip.test', location: '/', has: ['proxy_pass http://default-ip-80;'] },
      { server: 'far.test', location: '/', has: ['return 503;'] },
    ],
  },
  {
    name: 'use-regex turns every location of the server into a case-insensitive regex',
    input: {
      ingresses: [
        route('r', 'h.test', '/api/v[0-9]+', 'web', { annotations: { 'nginx.ingress.kubernetes.io/use-regex': 'true' } }),
        route('p', 'h.test', '/static', 'web'),
      ],
      ...web,
    },
    checks: [{ server: 'h.test', order: ['~* "^/api/v[0-9]+"', '~* "^/static/"', '~* "^/static"', '~* "^/"'] }],
  },
  {
    name: 'rewrite-target rewrites the location path before the pass and makes the server\'s locations regex ones',
    input: { ingresses: [route('r', 'rw.test', '/app', 'web', { annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/' } })], ...web },
    checks: [
      { server: 'rw.test', order: ['~* "^/app/"', '~* "^/app"', '~* "^/"'] },
      { server: 'rw.test', location: '~* "^/app/"', has: ['rewrite "(?i)/app/" / break;'] },
    ],
  },
  {
    name: 'paths and hosts that cannot be written safely are skipped, with a comment',
    input: { ingresses: [route('a', 'h.test', '/x;y', 'web'), route('b', 'bad host', '/', 'web')], ...web },
    checks: [{ server: 'h.test', order: ['/'] }],
  },
  {
    name: 'worker user and listen address come from the options',
    input: { ingresses: [] },
    options: { workerUser: 'root root', listen: { address: '127.203.3.7', port: 28080 } },
    checks: [{ server: '_', has: ['listen 127.203.3.7:28080 default_server;'] }],
  },
];

const baseInput: NginxConfigInput = { ingresses: [], services: [], endpointSlices: [], ingressClass: 'nginx', isDefaultClass: true };

function renderScenario(scenario: Scenario, dir: string): string {
  const options: NginxConfigOptions = { listen: { address: '127.203.3.1', port: 18080 }, dir, ...scenario.options };
  return renderNginxConfig({ ...baseInput, ...scenario.input }, options);
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hopwatch-nginx-config-'));
});
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('renderNginxConfig', () => {
  it.each(scenarios.map((s) => [s.name, s] as const))('%s', async (_name, scenario) => {
    const conf = renderScenario(scenario, dir);
    for (const check of scenario.checks) {
      const where = check.location === undefined ? null : location(conf, check.server, check.location);
      if (check.absent) {
        expect(where, `${check.server} ${check.location}`).toBeNull();
        continue;
      }
      if (check.order) expect(locationKeys(conf, check.server)).toEqual(check.order);
      const lines = check.location === undefined ? server(conf, check.server).split('\n').map((l) => l.trim()) : where;
      expect(lines, `${check.server} ${check.location ?? ''}`).not.toBeNull();
      for (const line of check.has ?? []) expect(lines).toContain(line);
      for (const line of check.lacks ?? []) expect(lines).not.toContain(line);
    }
    // Whatever was rendered, real nginx must accept it.
    const file = join(dir, `${scenario.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.conf`);
    await writeFile(file, conf);
    await testNginxConfig(file, dir);
  });

  it('upstream blocks hold the ready endpoints (sorted, loopback, this namespace) with ingress-nginx keep-alive', () => {
    const scenario = scenarios.find((s) => s.name.startsWith('upstream: ready endpoints only'));
    const conf = renderScenario(scenario as Scenario, dir);
    expect(block(conf, 'upstream default-web-80')).toEqual([
      'server 127.203.1.1:8080 max_fails=0;',
      'server 127.203.1.2:8080 max_fails=0;',
      'keepalive 320;',
      'keepalive_time 1h;',
      'keepalive_timeout 60s;',
      'keepalive_requests 10000;',
    ]);
  });

  it('service-upstream points the upstream at ClusterIP:port', () => {
    const scenario = scenarios.find((s) => s.name.startsWith('service-upstream'));
    expect(block(renderScenario(scenario as Scenario, dir), 'upstream default-web-80')?.[0]).toBe('server 127.203.2.1:80 max_fails=0;');
  });

  it('numeric targetPort fallback: a slice without ports uses the Service targetPort', () => {
    const scenario = scenarios.find((s) => s.name.startsWith('unnamed Service port'));
    expect(block(renderScenario(scenario as Scenario, dir), 'upstream default-web-80')?.[0]).toBe('server 127.203.1.4:9090 max_fails=0;');
  });

  it('non-loopback endpoint addresses are never rendered', () => {
    const conf = renderNginxConfig(
      { ...baseInput, ingresses: [route('a', 'h.test', '/', 'web')], services: [svc('web')], endpointSlices: [eps('web', { name: 'http', port: 8080 }, [{ ip: '10.1.2.3' }])] },
      { listen: { address: '127.203.3.1', port: 18080 }, dir },
    );
    expect(conf).not.toContain('10.1.2.3');
    expect(location(conf, 'h.test', '/')).toContain('return 503;');
  });

  it('skipped entries are listed in the plan', () => {
    const scenario = scenarios.find((s) => s.name.startsWith('paths and hosts'));
    const plan = planNginx({ ...baseInput, ...(scenario as Scenario).input });
    expect(plan.skipped).toEqual([expect.stringContaining('"bad host"'), expect.stringContaining('/x;y'), expect.stringContaining('/x;y')]);
  });

  it('main context: foreground master, every path inside the prefix, notice-level error log, server_tokens off', () => {
    const conf = renderNginxConfig(baseInput, { listen: { address: '127.203.3.1', port: 18080 }, dir: '/lab/c0', workerUser: 'root root' });
    const lines = conf.split('\n').map((l) => l.trim());
    for (const line of [
      'user root root;',
      'daemon off;',
      'master_process on;',
      'pid /lab/c0/nginx.pid;',
      'error_log /lab/c0/error.log notice;',
      'access_log /lab/c0/access.log upstreaminfo;',
      'client_body_temp_path /lab/c0/client-body;',
      'proxy_temp_path /lab/c0/proxy-temp;',
      'fastcgi_temp_path /lab/c0/fastcgi-temp;',
      'uwsgi_temp_path /lab/c0/uwsgi-temp;',
      'scgi_temp_path /lab/c0/scgi-temp;',
      'server_tokens off;',
    ]) {
      expect(lines).toContain(line);
    }
    expect(renderNginxConfig(baseInput, { listen: { address: '127.203.3.1', port: 18080 }, dir: '/lab/c0' })).not.toMatch(/^user /m);
  });

  it.each([
    ['a non-loopback listen address', { listen: { address: '0.0.0.0', port: 80 } }, 'LAB_BAD_ADDRESS'],
    ['a non-loopback resolver', { resolver: '8.8.8.8:53' }, 'LAB_BAD_ADDRESS'],
    ['a bad port', { listen: { address: '127.203.3.1', port: 0 } }, 'LAB_BAD_OPTION'],
    ['a bad buffer size', { proxyBufferSize: 'big' }, 'LAB_BAD_OPTION'],
    ['a bad timeout', { timeouts: { readMs: -1 } }, 'LAB_BAD_OPTION'],
  ] as [string, Partial<NginxConfigOptions>, string][])('refuses %s', (_name, options, code) => {
    expect(() => renderNginxConfig(baseInput, { listen: { address: '127.203.3.1', port: 18080 }, dir, ...options })).toThrow(expect.objectContaining({ code }));
  });

  it('effectiveTimeouts: ingress-nginx defaults where absent', () => {
    expect(effectiveTimeouts({})).toEqual({ connectMs: 5000, readMs: 60_000, sendMs: 60_000 });
    expect(effectiveTimeouts({ timeouts: { readMs: 2000 } })).toEqual({ connectMs: 5000, readMs: 2000, sendMs: 60_000 });
  });

  it('nginxWorkerUser: root runs workers as root, others as themselves', () => {
    expect(nginxWorkerUser(0)).toBe('root root');
    expect(nginxWorkerUser(1000)).toBeNull();
  });
});
