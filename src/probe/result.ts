// Small helpers shared by the probers: where a hop was probed, and how to write an address.

import type { HopResult, HopTarget, PlannedHop } from '../model.js';
import { isIPv6 } from 'node:net';

/** Everything a result holds besides where the hop was probed. */
export type Outcome = Omit<HopResult, keyof HopTarget>;

/**
 * A result for a hop. One object literal with every field (no spread): V8 builds it in one go,
 * where spreading the target and adding fields walks a chain of hidden-class transitions per probe.
 */
export function resultFor(hop: PlannedHop, outcome: Outcome): HopResult {
  return {
    hop: hop.hop,
    target: hop.target,
    address: hop.address,
    port: hop.port,
    scheme: hop.scheme,
    pod: hop.pod,
    ready: hop.ready,
    terminating: hop.terminating,
    backend: hop.backend ?? null,
    status: outcome.status,
    error: outcome.error,
    errorDetail: outcome.errorDetail,
    timings: outcome.timings,
    bytes: outcome.bytes,
    headerBytes: outcome.headerBytes,
    headers: outcome.headers,
    generator: outcome.generator,
    addresses: outcome.addresses,
  };
}

/** "host:port", with brackets around an IPv6 address. */
export function formatHostPort(address: string, port: number): string {
  return isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

/** SNI for a Host header value: the name without port; none for an IP (SNI must not carry one). */
export function serverNameOf(host: string | null): string | undefined {
  if (host === null) return undefined;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return /^[\d.]+$/.test(name) || name.includes(':') || name === '' ? undefined : name;
}

/** The `code` of an error-like value, or null. */
export function errorCodeOf(err: unknown): string | null {
  if (typeof err !== 'object' || err === null || !('code' in err)) return null;
  return typeof err.code === 'string' ? err.code : null;
}

/** The message of an error-like value; OpenSSL's one-line reason instead of its raw error queue. */
export function errorMessageOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if ('reason' in err && typeof err.reason === 'string' && err.message.includes(':error:')) return err.reason;
  return err.message.trim();
}

/** Hops whose addresses live inside the cluster network (pod, ClusterIP and controller-pod IPs). */
const IN_CLUSTER_HOPS = new Set<HopResult['hop']>(['pod', 'service', 'controller']);

/**
 * A result as seen by a hopwatch running outside the cluster (a laptop with a kubeconfig): pod,
 * ClusterIP and controller-pod addresses are usually not routable from there, and packets to them
 * are dropped silently, so a connect timeout says nothing about the route: it is 'unreachable'
 * (no judgement), not a failure. Inside the cluster the same timeout is real evidence.
 */
export function seenFromOutside(result: HopResult): HopResult {
  if (result.error !== 'connect-timeout' || !IN_CLUSTER_HOPS.has(result.hop)) return result;
  return { ...result, error: 'unreachable', errorDetail: `not reachable from outside the cluster (${result.errorDetail ?? 'connect timeout'})` };
}
