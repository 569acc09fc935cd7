// The kubectl plugin (bin/kubectl-hopwatch): `kubectl hopwatch probe -n shop --context prod` runs
// `hopwatch probe --namespace shop --context prod`. kubectl hands a plugin every argument after its
// name, so kubectl's own habits arrive as they are typed: -n/--namespace, -A, --context and
// --kubeconfig anywhere on the line, in every spelling pflag accepts (-n shop, -nshop, -n=shop,
// --namespace=shop). This module turns them into hopwatch's flags, placed after the subcommand.
//
// Namespaces follow kubectl: `probe` without -n uses the current context's namespace when the
// context sets one (all namespaces when it sets none, or with -A); `verify --ingress NAME` becomes
// NS/NAME with -n, else the context's namespace, else "default", as `kubectl get ingress NAME` would.

import { KubeConfig } from '@kubernetes/client-node';

/** kubectl's flags the plugin understands, and everything else in order. */
export interface KubectlFlags {
  /** -n/--namespace, null when not given. */
  namespace: string | null;
  /** -A/--all-namespaces. */
  allNamespaces: boolean;
  /** --context, null when not given. */
  context: string | null;
  /** --kubeconfig, null when not given. */
  kubeconfig: string | null;
  /** The other arguments, in order (the subcommand and hopwatch's own flags). */
  rest: string[];
  /** --server and --token as typed (flag and value): hopwatch's own for the history commands, kubectl's for the others. */
  shared: string[];
}

/** The translation: hopwatch's argv (without node and script), or why the line cannot be run. */
export type PluginArgs = { ok: true; args: string[] } | { ok: false; error: string };

/** The namespace of a kubeconfig context: (kubeconfig file or null for kubectl's default, context or null for the current one). */
export type NamespaceLookup = (kubeconfig: string | null, context: string | null) => string | null;

/** Names kubectl and hopwatch's history commands (a daemon's URL and bearer token) both use. */
const SHARED = ['server', 'token'];

/** The commands for which --server and --token are hopwatch's: they read a daemon's history. */
const HISTORY_COMMANDS = ['timeline', 'incidents'];

/** kubectl global flags that select credentials hopwatch reads only from the kubeconfig context. */
const UNSUPPORTED = [...SHARED, 'cluster', 'user', 'as', 'as-group', 'as-uid', 'username', 'password', 'certificate-authority', 'client-certificate', 'client-key', 'insecure-skip-tls-verify', 'tls-server-name', 'request-timeout'];

/** Flags that take a value, by every name kubectl accepts. */
const VALUE_FLAGS: Readonly<Record<string, 'namespace' | 'context' | 'kubeconfig'>> = { '-n': 'namespace', '--namespace': 'namespace', '--context': 'context', '--kubeconfig': 'kubeconfig' };

/** Splits kubectl's flags out of the argument list; stops at "--" (what follows is not kubectl's). */
export function parseKubectlFlags(argv: readonly string[]): { ok: true; flags: KubectlFlags } | { ok: false; error: string } {
  const flags: KubectlFlags = { namespace: null, allNamespaces: false, context: null, kubeconfig: null, rest: [], shared: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      flags.rest.push(...argv.slice(i));
      break;
    }
    const [name, inline] = splitFlag(arg);
    const field = VALUE_FLAGS[name];
    if (field !== undefined) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') return { ok: false, error: `${name} needs a value` };
      flags[field] = value;
    } else if (name === '-A' || name === '--all-namespaces') {
      if (inline !== undefined && inline !== 'true' && inline !== 'false') return { ok: false, error: `${name} takes true or false, got ${inline}` };
      flags.allNamespaces = inline !== 'false';
    } else if (name.startsWith('--') && SHARED.includes(name.slice(2))) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') return { ok: false, error: `${name} needs a value` };
      flags.shared.push(name, value);
    } else if (name.startsWith('--') && UNSUPPORTED.includes(name.slice(2))) {
      return { ok: false, error: unsupported(name) };
    } else flags.rest.push(arg);
  }
  return { ok: true, flags };
}

function unsupported(name: string): string {
  return `kubectl's ${name} is not supported: hopwatch takes the cluster and user from a kubeconfig context (--context, --kubeconfig)`;
}

/** "--flag=value" -> ["--flag", "value"]; "-nshop" and "-n=shop" -> ["-n", "shop"]; anything else -> [arg, undefined]. */
function splitFlag(arg: string): [string, string | undefined] {
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    return eq < 0 ? [arg, undefined] : [arg.slice(0, eq), arg.slice(eq + 1)];
  }
  if (/^-[nA]./.test(arg)) return [arg.slice(0, 2), arg.slice(arg[2] === '=' ? 3 : 2)];
  return [arg, undefined];
}

/** Translates a kubectl plugin command line into hopwatch's; `lookup` is asked only when a namespace must be defaulted. */
export function translateKubectlArgs(argv: readonly string[], lookup: NamespaceLookup): PluginArgs {
  const parsed = parseKubectlFlags(argv);
  if (!parsed.ok) return parsed;
  const { flags } = parsed;
  const at = flags.rest.findIndex((arg) => !arg.startsWith('-'));
  const command = at < 0 ? null : (flags.rest[at] as string);
  // No subcommand (--help, --version) or `help`: nothing to translate into.
  if (command === null || command === 'help') return flags.shared.length > 0 ? { ok: false, error: unsupported(flags.shared[0] as string) } : { ok: true, args: flags.rest };
  const before = flags.rest.slice(0, at + 1);
  const after = flags.rest.slice(at + 1);
  // timeline and incidents read a daemon with --server URL --token T; elsewhere these are kubectl's, which hopwatch does not take.
  if (flags.shared.length > 0 && !HISTORY_COMMANDS.includes(command)) return { ok: false, error: unsupported(flags.shared[0] as string) };
  const end = after.indexOf('--');
  after.splice(end < 0 ? after.length : end, 0, ...flags.shared);
  const contextNamespace = (): string | null => lookup(flags.kubeconfig, flags.context);
  const added: string[] = [];
  if (command === 'verify') {
    const rewritten = qualifyIngress(after, flags, contextNamespace);
    if (!rewritten.ok) return rewritten;
    after.splice(0, after.length, ...rewritten.args);
  } else {
    // probe defaults to the context's namespace as kubectl does; other commands get -n only when typed.
    const namespace = flags.allNamespaces ? null : (flags.namespace ?? (command === 'probe' ? contextNamespace() : null));
    if (namespace !== null) added.push('--namespace', namespace);
  }
  if (flags.context !== null) added.push('--context', flags.context);
  if (flags.kubeconfig !== null) added.push('--kubeconfig', flags.kubeconfig);
  return { ok: true, args: [...before, ...added, ...after] };
}

/** `verify --ingress NAME` -> `--ingress NS/NAME` (NS: -n, the context's namespace, "default"); NS/NAME must agree with -n. */
function qualifyIngress(args: readonly string[], flags: KubectlFlags, contextNamespace: () => string | null): PluginArgs {
  const out = [...args];
  for (let i = 0; i < out.length; i++) {
    const arg = out[i] as string;
    if (arg === '--') break;
    const inline = arg.startsWith('--ingress=');
    if (arg !== '--ingress' && !inline) continue;
    const index = inline ? i : i + 1;
    const value = inline ? arg.slice('--ingress='.length) : out[index];
    if (value === undefined) return { ok: true, args: out };
    const slash = value.indexOf('/');
    if (slash >= 0 && flags.namespace !== null && value.slice(0, slash) !== flags.namespace) {
      return { ok: false, error: `--ingress ${value} names namespace ${value.slice(0, slash)}, but -n says ${flags.namespace}` };
    }
    const qualified = slash >= 0 ? value : `${flags.namespace ?? contextNamespace() ?? 'default'}/${value}`;
    out[index] = inline ? `--ingress=${qualified}` : qualified;
    return { ok: true, args: out };
  }
  return { ok: true, args: out };
}

/** The namespace the kubeconfig's context sets (kubectl's rules: --kubeconfig, else $KUBECONFIG, else ~/.kube/config); null when none or unreadable. */
export function kubeconfigNamespace(kubeconfig: string | null, context: string | null): string | null {
  try {
    const kc = new KubeConfig();
    if (kubeconfig !== null) kc.loadFromFile(kubeconfig);
    else kc.loadFromDefault();
    const namespace = kc.getContextObject(context ?? kc.getCurrentContext())?.namespace;
    return namespace === undefined || namespace === '' ? null : namespace;
  } catch {
    // An unreadable kubeconfig is hopwatch's to report (with its own message), not the plugin's.
    return null;
  }
}
