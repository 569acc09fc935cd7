// Pure: the bounded set of requests sent through both front doors of a pair. Each variant
// exercises one difference known to break migrations (underscores, header limits, slashes,
// encodings, rule matches); methods with side effects only when the user asks for them.

import { controllerSettings } from '../classify/knowledge.js';
import type { Route } from '../model.js';
import type { Pair, Variant } from './types.js';

/** The methods sent without asking: they have no side effects. */
export const SAFE_METHODS: readonly string[] = ['GET', 'HEAD'];
/** Methods the user may ask for with --methods. */
export const ASKABLE_METHODS: readonly string[] = ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
/** The request header whose name has an underscore. */
export const UNDERSCORE_HEADER = 'x_hopwatch_compare';
/** The origin of the cross-origin variant (reserved .invalid name: no real site). */
export const CORS_ORIGIN = 'https://hopwatch-compare.invalid';
/** The header that fills a request header block near the old path's limit. */
export const PAD_HEADER = 'x-hopwatch-pad';
/** The header block assumed when the old side's limit is unknown (nginx's and many proxies' 8 KiB line). */
const DEFAULT_HEADER_LIMIT = 8192;
/** How near the limit the large header goes: far enough under it that the old side's own headers still fit. */
const HEADER_FILL = 0.9;
/** At most this many rule-match variants per pair. */
const MAX_MATCHES = 4;

/** What the user asked for. */
export interface VariantOptions {
  /** Methods to send beyond GET and HEAD (upper case, from ASKABLE_METHODS). */
  methods: readonly string[];
}

/** The variants for a pair, in the order they are reported. */
export function planVariants(pair: Pair, options: VariantOptions): Variant[] {
  const path = pair.old.probe.path;
  const get = (name: string, kind: Variant['kind'], p: string, headers: [string, string][], summary: string): Variant => ({ name, kind, method: 'GET', path: p, headers, body: null, summary });
  const variants: Variant[] = [
    get('probe', 'probe', path, [], `GET ${path}`),
    { ...get('head', 'head', path, [], `HEAD ${path}`), method: 'HEAD' },
    get('underscore-header', 'underscore-header', path, [[UNDERSCORE_HEADER, '1']], `GET ${path} with header ${UNDERSCORE_HEADER}`),
    largeHeader(pair.old, path),
  ];
  const slash = toggleSlash(path);
  if (slash !== null) variants.push(get('trailing-slash', 'trailing-slash', slash, [], `GET ${slash}`));
  const encoded = encodedPath(path);
  variants.push(get('encoded-path', 'encoded-path', encoded, [], `GET ${encoded}`));
  variants.push(get('cors', 'cors', path, [['origin', CORS_ORIGIN]], `GET ${path} with Origin ${CORS_ORIGIN}`));
  variants.push(...matchVariants(pair, path));
  for (const method of options.methods) variants.push(methodVariant(method, path));
  return variants;
}

/** One header line filling the old side's request header limit to 90 %: the old path takes it, a stricter new one does not. */
function largeHeader(old: Route, path: string): Variant {
  const request = controllerSettings(old)?.request ?? null;
  const limits = [request?.headerLineBytes, request?.headerBlockBytes].filter((n): n is number => typeof n === 'number');
  const limit = Math.min(64 * 1024, limits.length === 0 ? DEFAULT_HEADER_LIMIT : Math.min(...limits));
  const valueLength = Math.max(1, Math.floor(limit * HEADER_FILL) - PAD_HEADER.length - 4);
  const kib = ((valueLength + PAD_HEADER.length + 4) / 1024).toFixed(1);
  return {
    name: 'large-header', kind: 'large-header', method: 'GET', path, headers: [[PAD_HEADER, 'h'.repeat(valueLength)]], body: null,
    summary: `GET ${path} with a ${kib} KiB header line (90 % of the old path's limit of ${(limit / 1024).toFixed(1)} KiB)`,
  };
}

/** The path with its trailing slash removed or added; null for "/". */
export function toggleSlash(path: string): string | null {
  const [base = '/', query] = splitQuery(path);
  if (base === '/') return null;
  const toggled = base.endsWith('/') ? base.slice(0, -1) : `${base}/`;
  return query === null ? toggled : `${toggled}?${query}`;
}

/** A path below the probe path with a percent-encoded slash (proxies decode, keep or reject it differently). */
export function encodedPath(path: string): string {
  const [base = '/'] = splitQuery(path);
  return `${base.endsWith('/') ? base : `${base}/`}hopwatch%2Fcompare`;
}

function splitQuery(path: string): [string, string | null] {
  const at = path.indexOf('?');
  return at < 0 ? [path, null] : [path.slice(0, at), path.slice(at + 1)];
}

/** A request per rule match that selects a backend regardless of weight (canary by header or cookie), from both sides. */
function matchVariants(pair: Pair, path: string): Variant[] {
  const seen = new Set<string>();
  const variants: Variant[] = [];
  for (const backend of [...pair.old.backends, ...pair.new.backends]) {
    const selector = backend.selector;
    if (selector === null) continue;
    const header: [string, string] | null = selector.header !== null ? [selector.header.name, selector.header.value] : selector.cookie !== null ? ['cookie', `${selector.cookie.name}=${selector.cookie.value}`] : null;
    if (header === null || seen.has(header.join(':')) || variants.length >= MAX_MATCHES) continue;
    seen.add(header.join(':'));
    const name = `match ${header[0] === 'cookie' ? `cookie ${selector.cookie?.name ?? ''}` : `header ${header[0]}`}`;
    variants.push({ name, kind: 'match', method: 'GET', path, headers: [header], body: null, summary: `GET ${path} with ${header[0]}: ${header[1]} (selects ${backend.key})` });
  }
  return variants;
}

function methodVariant(method: string, path: string): Variant {
  const withBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
  return {
    name: `method ${method}`, kind: 'method', method, path,
    headers: withBody ? [['content-type', 'application/json']] : [],
    body: withBody ? '{"hopwatch":"compare"}' : null,
    summary: `${method} ${path}${withBody ? ' with a small JSON body' : ''}`,
  };
}
