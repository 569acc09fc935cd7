import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { kubeconfigNamespace, type NamespaceLookup, translateKubectlArgs } from './kubectl.js';

/** A lookup that records its calls and answers `namespace`. */
function lookupOf(namespace: string | null): NamespaceLookup & { calls: [string | null, string | null][] } {
  const calls: [string | null, string | null][] = [];
  return Object.assign((kubeconfig: string | null, context: string | null) => {
    calls.push([kubeconfig, context]);
    return namespace;
  }, { calls });
}

const args = (line: string, namespace: string | null = null) => translateKubectlArgs(line === '' ? [] : line.split(' '), lookupOf(namespace));

describe('translateKubectlArgs', () => {
  test.each([
    ['-n before the subcommand moves after it', '-n shop probe', ['probe', '--namespace', 'shop']],
    ['-n after', 'probe -n shop -o json', ['probe', '--namespace', 'shop', '-o', 'json']],
    ['--namespace=', 'probe --namespace=shop', ['probe', '--namespace', 'shop']],
    ['-nshop', 'probe -nshop', ['probe', '--namespace', 'shop']],
    ['-n=shop', 'probe -n=shop', ['probe', '--namespace', 'shop']],
    ['--context and --kubeconfig, both spellings', '--context prod probe --kubeconfig=/k/config', ['probe', '--context', 'prod', '--kubeconfig', '/k/config']],
    ['-A: all namespaces, the context namespace is not asked', 'probe -A', ['probe']],
    ['-A wins over -n, as in kubectl', 'probe -n shop --all-namespaces', ['probe']],
    ['--all-namespaces=false keeps -n', 'probe -n shop --all-namespaces=false', ['probe', '--namespace', 'shop']],
    ['hopwatch flags stay in place, after ours', 'probe --ingress web -o json', ['probe', '--ingress', 'web', '-o', 'json']],
    ['other commands get -n only when typed', 'timeline -n shop --context c', ['timeline', '--namespace', 'shop', '--context', 'c']],
    ['run: no namespace added from the context', 'run --context c', ['run', '--context', 'c']],
    ['nothing after "--" is kubectl\'s', 'probe -- -n x', ['probe', '--', '-n', 'x']],
    ['no subcommand: passed as is', '--help', ['--help']],
    ['help subcommand: passed as is', 'help probe', ['help', 'probe']],
  ] as const)('%s', (_name, line, expected) => {
    expect(args(line)).toEqual({ ok: true, args: expected });
  });

  test('probe without -n uses the context namespace, asked with the typed kubeconfig and context', () => {
    const lookup = lookupOf('payments');
    expect(translateKubectlArgs(['probe', '--context', 'prod', '--kubeconfig', '/k'], lookup)).toEqual({
      ok: true,
      args: ['probe', '--namespace', 'payments', '--context', 'prod', '--kubeconfig', '/k'],
    });
    expect(lookup.calls).toEqual([['/k', 'prod']]);
    // A context without a namespace: every namespace (hopwatch's own default), not "default".
    expect(args('probe', null)).toEqual({ ok: true, args: ['probe'] });
  });

  test('verify --ingress NAME is qualified with -n, the context namespace, or default', () => {
    expect(args('verify -n shop --ingress web --duration 10s')).toEqual({ ok: true, args: ['verify', '--ingress', 'shop/web', '--duration', '10s'] });
    expect(args('verify --ingress=web', 'payments')).toEqual({ ok: true, args: ['verify', '--ingress=payments/web'] });
    expect(args('verify --ingress web')).toEqual({ ok: true, args: ['verify', '--ingress', 'default/web'] });
    expect(args('verify --ingress shop/web -n shop')).toEqual({ ok: true, args: ['verify', '--ingress', 'shop/web'] });
  });

  test('timeline and incidents keep --server and --token: they read a daemon, where they are hopwatch\'s own', () => {
    expect(args('--server http://127.0.0.1:8080 timeline -n shop --token=t')).toEqual({
      ok: true, args: ['timeline', '--namespace', 'shop', '--server', 'http://127.0.0.1:8080', '--token', 't'],
    });
    expect(args('incidents show 7 --server=http://127.0.0.1:8080')).toEqual({ ok: true, args: ['incidents', 'show', '7', '--server', 'http://127.0.0.1:8080'] });
  });

  test.each([
    ['--token for a command that talks to the cluster', 'verify --ingress web --token t', /--token is not supported/],
    ['a namespace that disagrees with --ingress NS/NAME', 'verify -n a --ingress b/web', /names namespace b, but -n says a/],
    ['-n without a value', 'probe -n', /-n needs a value/],
    ['credentials flags hopwatch does not take', 'probe --user admin', /kubectl's --user is not supported/],
    ['--server', 'probe --server=https://x', /--server is not supported/],
    ['a bad -A value', 'probe --all-namespaces=maybe', /takes true or false/],
  ])('refuses %s', (_name, line, message) => {
    const result = args(line);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });
});

describe('kubeconfigNamespace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hopwatch-plugin-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, 'config');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: a',
      'clusters: [{name: c, cluster: {server: "https://127.211.0.1:6443"}}]',
      'users: [{name: u, user: {token: t}}]',
      'contexts:',
      '  - {name: a, context: {cluster: c, user: u, namespace: shop}}',
      '  - {name: b, context: {cluster: c, user: u}}',
    ].join('\n'),
  );

  test('reads the namespace of the current or the named context', () => {
    expect(kubeconfigNamespace(kubeconfig, null)).toBe('shop');
    expect(kubeconfigNamespace(kubeconfig, 'a')).toBe('shop');
    expect(kubeconfigNamespace(kubeconfig, 'b')).toBeNull();
    expect(kubeconfigNamespace(kubeconfig, 'missing')).toBeNull();
  });

  test('an unreadable kubeconfig gives null (hopwatch reports it with its own message)', () => {
    expect(kubeconfigNamespace(join(dir, 'nope'), null)).toBeNull();
  });
});
