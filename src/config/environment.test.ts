import { describe, expect, test } from 'vitest';
import { environmentDefaults, IN_CLUSTER_DB, IN_CLUSTER_LISTEN, runsInCluster, SERVICE_ACCOUNT_TOKEN_PATH } from './environment.js';
import { ConfigError, loadConfig, resolveKubeconfigSource } from './load.js';

const POD_ENV = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
/** A pod's file system: the service-account token is mounted. */
const podFs = (path: string) => path === SERVICE_ACCOUNT_TOKEN_PATH;
/** A laptop: no token. */
const laptopFs = () => false;

/** Loads YAML text with the given environment and file system; fails the test on a ConfigError. */
function load(text: string, env: NodeJS.ProcessEnv, fileExists: (path: string) => boolean, flags: Parameters<typeof loadConfig>[0] = {}) {
  return loadConfig({ text, env, fileExists, ...flags });
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, the config loaded');
}

describe('runsInCluster', () => {
  test.each([
    ['service host and token', POD_ENV, podFs, true],
    ['service host, no token (a laptop with the variable exported)', POD_ENV, laptopFs, false],
    ['token, no service host', {}, podFs, false],
    ['blank service host', { KUBERNETES_SERVICE_HOST: ' ' }, podFs, false],
  ] as const)('%s -> %s', (_name, env, fs, expected) => {
    expect(runsInCluster(env, fs)).toBe(expected);
  });
});

describe('in-cluster defaults', () => {
  test('in a pod, an empty config listens on 0.0.0.0:8080 and stores under /data', () => {
    const config = load('', POD_ENV, podFs);
    expect(config.server.listen).toBe(IN_CLUSTER_LISTEN);
    expect(IN_CLUSTER_LISTEN).toBe('0.0.0.0:8080');
    expect(config.store.path).toBe(IN_CLUSTER_DB);
    expect(IN_CLUSTER_DB).toBe('/data/hopwatch.db');
  });

  test('outside a pod the built-in defaults stay: loopback and ./hopwatch.db', () => {
    const config = load('', POD_ENV, laptopFs);
    expect(config.server.listen).toBe('127.0.0.1:8080');
    expect(config.store.path).toBe('hopwatch.db');
  });

  test('fields the user set win over the in-cluster defaults (file, null as unset, flags)', () => {
    const fromFile = load('server:\n  listen: 127.0.0.1:9090\nstore:\n  path: /var/lib/hw.db\n', POD_ENV, podFs);
    expect([fromFile.server.listen, fromFile.store.path]).toEqual(['127.0.0.1:9090', '/var/lib/hw.db']);
    const nullMeansUnset = load('server:\n  listen: null\n', POD_ENV, podFs);
    expect(nullMeansUnset.server.listen).toBe(IN_CLUSTER_LISTEN);
    const fromFlags = load('', POD_ENV, podFs, { flags: { listen: '0.0.0.0:9999', db: ':memory:' } });
    expect([fromFlags.server.listen, fromFlags.store.path]).toEqual(['0.0.0.0:9999', ':memory:']);
  });

  test('only the unset fields are filled: other sections keep every default and the file values', () => {
    const config = load('server:\n  token: t0ken\nstore:\n  maxSizeMb: 100\n', POD_ENV, podFs);
    expect(config.server).toEqual({ listen: IN_CLUSTER_LISTEN, token: 't0ken' });
    expect(config.store).toMatchObject({ path: IN_CLUSTER_DB, maxSizeMb: 100, retention: { rawDays: 7 } });
  });

  test('without controllers, the ingress-nginx controller is found by its usual labels in namespace ingress-nginx', () => {
    const [controller, ...rest] = load('', POD_ENV, podFs).controllers;
    expect(rest).toEqual([]);
    expect(controller).toMatchObject({
      ingressClass: 'nginx',
      kind: 'ingress-nginx',
      edge: null,
      pods: { namespace: 'ingress-nginx', selector: 'app.kubernetes.io/name=ingress-nginx,app.kubernetes.io/component=controller', httpPort: 80 },
    });
  });

  test('the kubeconfig source in a pod is the service account, with the same detection', () => {
    const config = load('', POD_ENV, podFs);
    expect(resolveKubeconfigSource(config, POD_ENV, podFs)).toEqual({ kind: 'in-cluster' });
    expect(() => resolveKubeconfigSource(load('', POD_ENV, laptopFs), POD_ENV, laptopFs)).toThrow(/no Kubernetes credentials/);
  });
});

describe('HOPWATCH_* variables', () => {
  test('HOPWATCH_LISTEN and HOPWATCH_DB set the defaults outside a pod, and win over the in-cluster ones', () => {
    const env = { HOPWATCH_LISTEN: '0.0.0.0:8081', HOPWATCH_DB: '/data/x.db' };
    expect(load('', env, laptopFs).server.listen).toBe('0.0.0.0:8081');
    expect(load('', { ...POD_ENV, ...env }, podFs).store.path).toBe('/data/x.db');
  });

  test('the file and flags win over HOPWATCH_LISTEN and HOPWATCH_DB; blank variables are ignored', () => {
    const env = { HOPWATCH_LISTEN: '0.0.0.0:8081', HOPWATCH_DB: '/data/x.db' };
    expect(load('server:\n  listen: 127.0.0.1:1\n', env, laptopFs).server.listen).toBe('127.0.0.1:1');
    expect(load('', env, laptopFs, { flags: { db: 'flag.db' } }).store.path).toBe('flag.db');
    expect(load('', { HOPWATCH_LISTEN: '  ', HOPWATCH_DB: '' }, laptopFs).server.listen).toBe('127.0.0.1:8080');
  });

  test('a bad HOPWATCH_LISTEN is reported as the variable, not as a line of the file', () => {
    const error = configError(() => load('probe:\n  concurrency: 4\n', { HOPWATCH_LISTEN: 'everywhere' }, laptopFs));
    expect(error.problems).toEqual(['$HOPWATCH_LISTEN (server.listen): expected host:port like 127.0.0.1:8080 or 0.0.0.0:8080, got "everywhere"']);
  });

  test('HOPWATCH_CONFIG names the file when none is given; --config wins; a missing one names the variable', () => {
    const files: Record<string, string> = { '/etc/hopwatch/hopwatch.yaml': 'probe:\n  concurrency: 7\n', 'other.yaml': 'probe:\n  concurrency: 3\n' };
    const readFile = (path: string): string => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    };
    const env = { HOPWATCH_CONFIG: '/etc/hopwatch/hopwatch.yaml' };
    expect(loadConfig({ env, readFile, fileExists: laptopFs }).probe.concurrency).toBe(7);
    expect(loadConfig({ file: 'other.yaml', env, readFile, fileExists: laptopFs }).probe.concurrency).toBe(3);
    // Inline text (the demo's generated config) is never replaced by the variable.
    expect(loadConfig({ text: '', env, readFile, fileExists: laptopFs }).probe.concurrency).toBe(64);
    const missing = configError(() => loadConfig({ env: { HOPWATCH_CONFIG: '/nope.yaml' }, readFile, fileExists: laptopFs }));
    expect(missing.problems).toEqual(['/nope.yaml ($HOPWATCH_CONFIG): cannot load the config file: no such file']);
  });

  test('environmentDefaults says where each default came from', () => {
    expect(environmentDefaults({ HOPWATCH_LISTEN: ' 0.0.0.0:1 ' }, laptopFs)).toEqual({ listen: { value: '0.0.0.0:1', origin: '$HOPWATCH_LISTEN' }, db: null });
    expect(environmentDefaults(POD_ENV, podFs)).toEqual({
      listen: { value: IN_CLUSTER_LISTEN, origin: 'in-cluster default' },
      db: { value: IN_CLUSTER_DB, origin: 'in-cluster default' },
    });
  });
});
