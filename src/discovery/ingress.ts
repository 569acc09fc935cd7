// Reading an Ingress: its class, its rule x path entries and default backend,
// TLS coverage of hosts, and the Host header hopwatch sends for a host.

import type { V1Ingress, V1IngressBackend, V1IngressClass } from '@kubernetes/client-node';
import type { PathType } from '../model.js';
import { compareText } from './services.js';

/** The legacy annotation naming an Ingress's class (before spec.ingressClassName). */
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
/** The IngressClass annotation marking the cluster's default class. */
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
/**
 * The label hopwatch puts in place of "*" to probe a wildcard host:
 * `*.example.test` is probed with Host `hopwatch-probe.example.test`.
 */
export const WILDCARD_PROBE_LABEL = 'hopwatch-probe';

/** One probeable entry of an Ingress: a rule's path, or the default backend. */
export interface IngressEntry {
  /** The rule's host, null for a rule without host and for the default backend. */
  host: string | null;
  /** The path ("/" for the default backend and for paths left empty). */
  path: string;
  /** The path type. */
  pathType: PathType;
  /** True for spec.defaultBackend. */
  defaultBackend: boolean;
  /** The backend as written. */
  backend: V1IngressBackend;
}

const PATH_TYPES: readonly PathType[] = ['Exact', 'Prefix', 'ImplementationSpecific'];

/**
 * The Ingress's class: spec.ingressClassName, else the legacy annotation, else the
 * IngressClass marked default (the first by name when several are), else null.
 */
export function resolveIngressClass(ingress: V1Ingress, classes: readonly V1IngressClass[]): string | null {
  const named = ingress.spec?.ingressClassName || ingress.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (named) return named;
  const defaults = classes
    .filter((candidate) => candidate.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true')
    .map((candidate) => candidate.metadata?.name ?? '')
    .filter((name) => name !== '')
    .sort(compareText);
  return defaults[0] ?? null;
}

/** Every rule x path of the Ingress, then its default backend, as written. */
export function ingressEntries(ingress: V1Ingress): IngressEntry[] {
  const entries: IngressEntry[] = [];
  for (const rule of ingress.spec?.rules ?? []) {
    // A rule with a host but no http paths sends that host to the default backend: nothing of its own to probe.
    for (const httpPath of rule.http?.paths ?? []) {
      entries.push({
        host: rule.host || null,
        path: httpPath.path || '/',
        pathType: PATH_TYPES.find((known) => known === httpPath.pathType) ?? 'ImplementationSpecific',
        defaultBackend: false,
        backend: httpPath.backend,
      });
    }
  }
  const fallback = ingress.spec?.defaultBackend;
  if (fallback) entries.push({ host: null, path: '/', pathType: 'Prefix', defaultBackend: true, backend: fallback });
  return entries;
}

/**
 * True when the host is covered by spec.tls: an exact (case-insensitive) entry, a
 * wildcard entry covering one leftmost label, or a tls entry without hosts (the
 * controller's default certificate, which also covers routes without a host).
 */
export function tlsCovers(ingress: V1Ingress, host: string | null): boolean {
  return (ingress.spec?.tls ?? []).some((entry) => {
    const hosts = entry.hosts ?? [];
    if (hosts.length === 0) return true;
    return host !== null && hosts.some((tlsHost) => hostMatches(tlsHost, host));
  });
}

function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p === h) return true;
  if (!p.startsWith('*.')) return false;
  // A wildcard covers exactly one label: *.example.test covers a.example.test, not a.b.example.test.
  const firstDot = h.indexOf('.');
  return firstDot > 0 && h.slice(firstDot) === p.slice(1) && !h.slice(0, firstDot).includes('*');
}

/** The Host header (and SNI) hopwatch sends for a rule host: wildcards get a concrete label; null stays null. */
export function probeHostHeader(host: string | null): string | null {
  if (host === null) return null;
  return host.startsWith('*.') ? `${WILDCARD_PROBE_LABEL}${host.slice(1)}` : host;
}

/** True when an ImplementationSpecific path looks like a regular expression rather than a literal prefix. */
export function looksLikeRegex(path: string): boolean {
  return /[()[\]*+?$^|\\{}]/.test(path);
}
