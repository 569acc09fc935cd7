import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import type { Config } from './types.js';
import { ConfigError, KubeconfigError, SERVICE_ACCOUNT_TOKEN_PATH, loadConfig, resolveKubeconfigSource } from './load.js';

const here = dirname(fileURLToPath(import.meta.url));
const testdata = join(here, 'testdata');
const examplePath = join(here, '..', '..', 'config', 'hopwatch.example.yaml');
const readTestdata = (name: string) => readFileSync(join(testdata, name), 'utf8');

/** Loads YAML text, returning the ConfigError it throws (fails when it loads). */
function configError(text: string, options: Parameters<typeof loadConfig>[0] = {}): ConfigError {
  try {
    loadConfig({ file: 'test.yaml', ...options, text });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, the config loaded');
}

const DEFAULTS: Config = {
  cluster: { kubeconfig: null, context: null, clusterDomain: 'cluster.local', dnsServer: null, namespaces: null },
  controllers: [
    {
      ingressClass: 'nginx',
      kind: 'ingress-nginx',
      edge: null,
      edgeHttps: null,
      pods: { namespace: 'ingress-nginx', selector: 'app.kubernetes.io/name=ingress-nginx,app.kubernetes.io/component=controller', httpPort: 80, httpsPort: 443 },
      upstream: 'endpoints',
    },
  ],
  gateways: [],
  probe: { timeoutMs: 5000, concurrency: 64 },
  schedule: { default: { kind: 'interval', everyMs: 30_000 }, overrides: [], lateAfterMs: 30_000 },
  store: { path: 'hopwatch.db', retention: { rawDays: 7, minuteDays: 30, hourDays: 365, dayDays: null }, maxSizeMb: null },
  incidents: { openAfter: 2, closeAfter: 2 },
  server: { listen: '127.0.0.1:8080', token: null },
  alerts: { webhooks: [], dashboardUrl: null },
  metrics: { labels: {} },
  ha: { enabled: false, leaseName: 'hopwatch', leaseNamespace: null, identity: null, leaseDurationMs: 15_000, renewEveryMs: 5000 },
  discovery: { watchIdleRestartMs: 300_000, maxBackoffMs: 30_000, gatewayApiRecheckMs: 60_000 },
};

describe('bad configs (testdata/bad-*.yaml -> the exact .error text)', () => {
  const cases = readdirSync(testdata).filter((name) => /^bad-.*\.yaml$/.test(name)).sort();

  test('there are enough cases, each with its .error file', () => {
    expect(cases.length).toBeGreaterThanOrEqual(12);
    for (const name of cases) expect(readdirSync(testdata)).toContain(name.replace(/\.yaml$/, '.error'));
  });

  test.each(cases)('%s', (name) => {
    const expected = readTestdata(name.replace(/\.yaml$/, '.error')).trimEnd();
    let caught: unknown;
    try {
      loadConfig({ file: name, readFile: readTestdata });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({ code: 'BAD_CONFIG', source: name });
    expect((caught as ConfigError).message).toBe(expected);
    // problems are the message's lines, one each.
    expect((caught as ConfigError).problems.map((p) => `  ${p}`)).toEqual(expected.split('\n').slice(1));
  });
});

describe('defaults', () => {
  test.each([
    ['an empty file', ''],
    ['only comments', '# nothing set\n'],
    ['empty sections', 'cluster:\nprobe:\nschedule:\nstore:\n  retention:\nalerts:\ndiscovery:\n'],
    ['an explicit empty mapping', '{}'],
  ])('%s gives every default', (_name, text) => {
    expect(loadConfig({ text })).toEqual(DEFAULTS);
  });

  test('no file and no text gives every default', () => {
    expect(loadConfig()).toEqual(DEFAULTS);
  });

  test('a controller given in YAML gets the per-field defaults', () => {
    const config = loadConfig({ text: 'controllers:\n  - ingressClass: public\n    pods:\n      httpPort: 8080\n' });
    expect(config.controllers).toEqual([
      { ...DEFAULTS.controllers[0], ingressClass: 'public', pods: { ...DEFAULTS.controllers[0]?.pods, httpPort: 8080 } },
    ]);
  });

  test.each([
    ['ingress-nginx', 'endpoints'],
    ['traefik', 'endpoints'],
    ['contour', 'endpoints'],
    ['haproxy', 'endpoints'],
    ['kong', 'endpoints'],
    ['generic', 'service'],
  ])('upstream defaults from kind %s to %s', (kind, upstream) => {
    const config = loadConfig({ text: `controllers:\n  - ingressClass: c\n    kind: ${kind}\n` });
    expect(config.controllers[0]?.upstream).toBe(upstream);
  });

  test('an explicit upstream wins over the kind default', () => {
    const config = loadConfig({ text: 'controllers:\n  - ingressClass: c\n    upstream: service\n' });
    expect(config.controllers[0]?.upstream).toBe('service');
  });

  test('lateAfterMs defaults to the period of the default schedule', () => {
    expect(loadConfig({ text: 'schedule:\n  default: every 2m\n' }).schedule.lateAfterMs).toBe(120_000);
    const cron = loadConfig({ text: 'schedule:\n  default: "0 */6 * * *"\n', now: Date.UTC(2024, 0, 1, 1) });
    expect(cron.schedule).toMatchObject({ default: { kind: 'cron', expression: '0 */6 * * *' }, lateAfterMs: 6 * 3_600_000 });
  });

  test('durations are accepted for millisecond fields', () => {
    const config = loadConfig({ text: 'probe:\n  timeoutMs: 2s\nschedule:\n  lateAfterMs: 1m30s\ndiscovery:\n  watchIdleRestartMs: 10m\n' });
    expect([config.probe.timeoutMs, config.schedule.lateAfterMs, config.discovery.watchIdleRestartMs]).toEqual([2_000, 90_000, 600_000]);
  });

  test('edges are normalised to their origin', () => {
    const config = loadConfig({ text: 'controllers:\n  - ingressClass: c\n    edge: http://LB.example:80/\n    edgeHttps: https://127.0.0.1:18443\n' });
    expect(config.controllers[0]).toMatchObject({ edge: 'http://lb.example', edgeHttps: 'https://127.0.0.1:18443' });
  });
});

describe('the example config', () => {
  test('loads cleanly and says what it shows', () => {
    const config = loadConfig({ file: examplePath });
    expect(config.controllers[0]).toEqual({
      ingressClass: 'nginx',
      kind: 'ingress-nginx',
      edge: 'http://127.0.0.1:18080',
      edgeHttps: 'https://127.0.0.1:18443',
      pods: { namespace: 'ingress-nginx', selector: 'app.kubernetes.io/name=ingress-nginx,app.kubernetes.io/component=controller', httpPort: 80, httpsPort: 443 },
      upstream: 'endpoints',
      // ingress-nginx's own defaults, written out.
      settings: { connectTimeoutMs: 5000, readTimeoutMs: 60_000, proxyBufferBytes: 4096, upstreamKeepaliveTimeoutMs: 60_000 },
    });
    expect(config.schedule.overrides).toEqual([
      { match: { namespace: 'payments', ingress: 'checkout' }, schedule: { kind: 'interval', everyMs: 10_000 } },
      { match: { namespace: 'batch', ingress: null }, schedule: { kind: 'cron', expression: '*/5 * * * *' } },
    ]);
    expect(config.alerts.webhooks).toEqual([
      { url: 'https://hooks.example.com/hopwatch', kind: 'json', headers: { Authorization: 'Bearer change-me' } },
      { url: 'https://chat.example.com/hooks/T000/B000/XXXX', kind: 'slack', headers: {} },
    ]);
    // Apart from what it shows, the example's values are the defaults.
    expect({ ...config, controllers: DEFAULTS.controllers, schedule: { ...config.schedule, overrides: [] }, alerts: DEFAULTS.alerts }).toEqual(DEFAULTS);
  });

  test('names every field of Config', () => {
    const text = readFileSync(examplePath, 'utf8');
    const fields = ['kubeconfig', 'context', 'clusterDomain', 'dnsServer', 'namespaces', 'ingressClass', 'kind', 'edge', 'edgeHttps', 'namespace', 'selector', 'httpPort', 'httpsPort', 'upstream', 'timeoutMs', 'concurrency', 'default', 'overrides', 'match', 'ingress', 'schedule', 'lateAfterMs', 'path', 'rawDays', 'minuteDays', 'hourDays', 'dayDays', 'maxSizeMb', 'openAfter', 'closeAfter', 'listen', 'token', 'webhooks', 'url', 'headers', 'watchIdleRestartMs', 'maxBackoffMs', 'labels', 'enabled', 'leaseName', 'leaseNamespace', 'identity', 'leaseDurationMs', 'renewEveryMs', 'gatewayApiRecheckMs', 'gateways'];
    for (const field of fields) expect(text).toMatch(new RegExp(`^\\s*(- )?${field}:`, 'm'));
  });
});

describe('flags, environment and file', () => {
  const file = 'cluster:\n  kubeconfig: /etc/kube/a\n  context: lab\nstore:\n  path: /var/lib/hopwatch.db\nserver:\n  listen: 127.0.0.1:9000\n';

  test('flags override the file', () => {
    const config = loadConfig({
      text: file,
      flags: { kubeconfig: '/tmp/b', context: 'prod', db: ':memory:', listen: '127.204.0.1:0', namespaces: ['shop', 'shop', 'pay'], dnsServer: '127.204.0.53:5353', timeoutMs: '750ms', concurrency: 8 },
    });
    expect(config.cluster).toEqual({ kubeconfig: '/tmp/b', context: 'prod', clusterDomain: 'cluster.local', dnsServer: '127.204.0.53:5353', namespaces: ['shop', 'pay'] });
    expect(config.store.path).toBe(':memory:');
    expect(config.server.listen).toBe('127.204.0.1:0');
    expect(config.probe).toEqual({ timeoutMs: 750, concurrency: 8 });
  });

  test('unset flags leave the file alone', () => {
    const config = loadConfig({ text: file, flags: { db: 'x.db' } });
    expect(config.cluster).toMatchObject({ kubeconfig: '/etc/kube/a', context: 'lab' });
    expect(config.server.listen).toBe('127.0.0.1:9000');
    expect(config.store.path).toBe('x.db');
  });

  test('a bad flag is named as the flag', () => {
    const error = configError(file, { flags: { listen: 'nowhere', concurrency: 0 } });
    expect(error.problems).toEqual([
      '--concurrency (probe.concurrency): expected an integer from 1 to 10000, got 0',
      '--listen (server.listen): expected host:port like 127.0.0.1:8080 or 0.0.0.0:8080, got "nowhere"',
    ]);
  });

  test('flags apply to an empty file too', () => {
    expect(configError('', { flags: { dnsServer: 'dns.local' } }).problems).toEqual([
      '--dns-server (cluster.dnsServer): expected an IP address or ip:port like 10.96.0.10 or 127.0.0.1:5353, got "dns.local"',
    ]);
  });

  test('HOPWATCH_TOKEN sets server.token when the file has none', () => {
    expect(loadConfig({ text: '', env: { HOPWATCH_TOKEN: 's3cret' } }).server.token).toBe('s3cret');
    expect(loadConfig({ text: 'server:\n  listen: 127.0.0.1:1\n', env: { HOPWATCH_TOKEN: 's3cret' } }).server).toEqual({ listen: '127.0.0.1:1', token: 's3cret' });
    expect(loadConfig({ text: 'server:\n  token: null\n', env: { HOPWATCH_TOKEN: 's3cret' } }).server.token).toBe('s3cret');
  });

  test('a token the server could never match is refused, naming the field or the variable and never echoing it', () => {
    // A Secret made with --from-file ends in a newline: trimmed, as $HOPWATCH_LISTEN and $HOPWATCH_DB are.
    expect(loadConfig({ text: '', env: { HOPWATCH_TOKEN: 's3cret\n' } }).server.token).toBe('s3cret');
    expect(configError('server:\n  token: "two words"\n').problems).toEqual([
      'test.yaml:2: server.token: expected a bearer token (visible ASCII characters, no spaces or line breaks), got a value with other characters',
    ]);
    expect(configError('', { env: { HOPWATCH_TOKEN: 'sec ret' } }).problems).toEqual([
      '$HOPWATCH_TOKEN (server.token): expected a bearer token (visible ASCII characters, no spaces or line breaks), got a value with other characters',
    ]);
    expect(configError('alerts:\n  dashboardUrl: hopwatch.example.com\n').problems).toEqual([
      'test.yaml:2: alerts.dashboardUrl: expected an http or https URL like http://host:port, got "hopwatch.example.com"',
    ]);
    expect(configError('server:\n  token: 12345\n').problems).toEqual([
      'test.yaml:2: server.token: expected a bearer token (visible ASCII characters, no spaces or line breaks) as a string, got a number (quote it)',
    ]);
  });

  test('the file token wins over HOPWATCH_TOKEN; a blank HOPWATCH_TOKEN is ignored', () => {
    expect(loadConfig({ text: 'server:\n  token: from-file\n', env: { HOPWATCH_TOKEN: 's3cret' } }).server.token).toBe('from-file');
    expect(loadConfig({ text: '', env: { HOPWATCH_TOKEN: '  ' } }).server.token).toBeNull();
    expect(loadConfig({ text: '', env: {} }).server.token).toBeNull();
  });
});

describe('files', () => {
  test('a missing file named explicitly is an error naming the path', () => {
    const missing = join(testdata, 'does-not-exist.yaml');
    let caught: unknown;
    try {
      loadConfig({ file: missing });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).message).toBe(`invalid configuration in ${missing} (1 problem):\n  ${missing}: cannot load the config file: no such file`);
    expect((caught as ConfigError).cause).toMatchObject({ code: 'ENOENT' });
  });

  test('an alias bomb is refused as bad YAML', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) levels.push(`${'abcdefgh'[i]}: &${'abcdefgh'[i]} [${Array(10).fill(`*${'abcdefgh'[i - 1]}`).join(', ')}]`);
    const error = configError(levels.join('\n'));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^test\.yaml: YAML error: .*alias/i);
  });

  test('a directory is not a config file', () => {
    expect(() => loadConfig({ file: testdata })).toThrow(`${testdata}: cannot load the config file: it is a directory`);
  });
});

describe('the loaded config is deep-frozen', () => {
  test.each<[string, (c: Config) => void]>([
    ['a section field', (c) => void (c.probe.timeoutMs = 1)],
    ['a top-level field', (c) => void (c.probe = { timeoutMs: 1, concurrency: 1 })],
    ['a nested field in a list', (c) => void ((c.controllers[0] as Config['controllers'][number]).pods.httpPort = 1)],
    ['a list', (c) => void c.controllers.push(c.controllers[0] as Config['controllers'][number])],
    ['a schedule', (c) => void ((c.schedule.default as { everyMs: number }).everyMs = 1)],
    ['the retention', (c) => void (c.store.retention.rawDays = null)],
    ['headers', (c) => void ((c.alerts.webhooks[0] as Config['alerts']['webhooks'][number]).headers['x'] = 'y')],
  ])('mutating %s throws', (_name, mutate) => {
    const config = loadConfig({ text: 'alerts:\n  webhooks:\n    - url: http://127.204.0.9:1/hook\n' }) as Config;
    expect(() => mutate(config)).toThrow(TypeError);
    expect(config.probe.timeoutMs).toBe(5000);
  });

  test('each load returns its own objects', () => {
    const a = loadConfig();
    const b = loadConfig();
    expect(a).toEqual(b);
    expect(a.schedule.default).not.toBe(b.schedule.default);
  });
});

describe('resolveKubeconfigSource', () => {
  const withCluster = (cluster: Partial<Config['cluster']>) => loadConfig({ text: `cluster: ${JSON.stringify(cluster)}` });
  const files = (...paths: string[]) => (p: string) => paths.includes(p);
  const inCluster = { KUBERNETES_SERVICE_HOST: '10.96.0.1' };

  test.each([
    ['explicit path first', { kubeconfig: '/k/a' }, { ...inCluster, KUBECONFIG: '/k/env', HOME: '/home/u' }, files('/k/a', SERVICE_ACCOUNT_TOKEN_PATH, '/k/env', '/home/u/.kube/config'), { kind: 'kubeconfig', paths: ['/k/a'], origin: 'config', context: null }],
    ['in-cluster next', {}, { ...inCluster, KUBECONFIG: '/k/env', HOME: '/home/u' }, files(SERVICE_ACCOUNT_TOKEN_PATH, '/k/env', '/home/u/.kube/config'), { kind: 'in-cluster' }],
    ['in-cluster needs the token file', {}, { ...inCluster, KUBECONFIG: '/k/env' }, files('/k/env'), { kind: 'kubeconfig', paths: ['/k/env'], origin: 'env', context: null }],
    ['a context means a kubeconfig even in a cluster', { context: 'lab' }, { ...inCluster, HOME: '/home/u' }, files(SERVICE_ACCOUNT_TOKEN_PATH, '/home/u/.kube/config'), { kind: 'kubeconfig', paths: ['/home/u/.kube/config'], origin: 'home', context: 'lab' }],
    ['$KUBECONFIG lists several files; missing ones are skipped', {}, { KUBECONFIG: '/k/a::/k/missing:/k/b', HOME: '/home/u' }, files('/k/a', '/k/b', '/home/u/.kube/config'), { kind: 'kubeconfig', paths: ['/k/a', '/k/b'], origin: 'env', context: null }],
    ['~/.kube/config last', { context: 'kind' }, { HOME: '/home/u', KUBECONFIG: '' }, files('/home/u/.kube/config'), { kind: 'kubeconfig', paths: ['/home/u/.kube/config'], origin: 'home', context: 'kind' }],
  ])('%s', (_name, cluster, env, exists, expected) => {
    expect(resolveKubeconfigSource(withCluster(cluster), env, exists)).toEqual(expected);
  });

  test.each([
    ['an explicit path that does not exist', { kubeconfig: '/k/a' }, { HOME: '/home/u' }, files('/home/u/.kube/config'), 'kubeconfig /k/a (from --kubeconfig or cluster.kubeconfig) does not exist'],
    ['$KUBECONFIG naming only missing files', {}, { KUBECONFIG: '/k/x:/k/y', HOME: '/home/u' }, files('/home/u/.kube/config'), '$KUBECONFIG names /k/x, /k/y, and none of it exists; fix $KUBECONFIG or pass --kubeconfig FILE'],
    ['nothing at all', {}, { HOME: '/home/u' }, files(), 'no Kubernetes credentials found: not in a cluster (no KUBERNETES_SERVICE_HOST and service-account token), $KUBECONFIG unset, no ~/.kube/config; pass --kubeconfig FILE or set cluster.kubeconfig (or try `hopwatch demo` for a simulated cluster)'],
  ])('%s is an error', (_name, cluster, env, exists, message) => {
    let caught: unknown;
    try {
      resolveKubeconfigSource(withCluster(cluster), env, exists);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KubeconfigError);
    expect(caught).toMatchObject({ code: 'NO_KUBECONFIG', message });
  });
});
