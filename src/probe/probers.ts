// One probe signature, one map of probers keyed by scheme (blackbox_exporter prober/prober.go).
// A hop's kind is data: edge, controller, service and pod hops all go to the HTTP prober.

import { isIP } from 'node:net';
import type { HopResult, PlannedHop } from '../model.js';
import { type DnsProbeOptions, probeDns, resolveName } from './dns.js';
import { type HttpProbeOptions, probeHttp } from './http.js';
import { resultFor } from './result.js';

/** Options every prober accepts (each ignores what it does not use). */
export type ProbeOptions = HttpProbeOptions & DnsProbeOptions;

/** Probes one hop; resolves with the result, also for a failing target. */
export type ProbeFn = (hop: PlannedHop, options?: ProbeOptions) => Promise<HopResult>;

/** The prober of each scheme a planned hop can have. */
export type Probers = Readonly<Record<PlannedHop['scheme'], ProbeFn>>;

/** The real probers. */
export const PROBERS: Probers = Object.freeze({ http: probeHttp, https: probeHttp, dns: probeDns });

/** The prober for a scheme; a new scheme fails to compile here until it has one. */
export function proberFor(scheme: PlannedHop['scheme'], probers: Probers = PROBERS): ProbeFn {
  switch (scheme) {
    case 'http':
      return probers.http;
    case 'https':
      return probers.https;
    case 'dns':
      return probers.dns;
    default:
      return assertNever(scheme);
  }
}

/**
 * Probes one hop with the prober of its scheme. An HTTP hop that dials a name (an ExternalName
 * Service) and carries a DNS server resolves the name there first, as a pod resolves it through
 * the cluster's DNS: the system resolver of a machine outside the cluster does not know it.
 */
export async function probeHop(hop: PlannedHop, options?: ProbeOptions, probers: Probers = PROBERS): Promise<HopResult> {
  if (hop.scheme === 'dns' || hop.dnsServer === null || isIP(hop.address) !== 0) return proberFor(hop.scheme, probers)(hop, options);
  const now = options?.now ?? (() => performance.now());
  const start = now();
  const { addresses, failure } = await resolveName(hop.dnsServer, hop.address, hop.request.timeoutMs);
  const first = addresses[0];
  if (first === undefined) {
    const elapsed = Math.round((now() - start) * 1000) / 1000;
    return resultFor(hop, {
      status: null, error: 'dns', errorDetail: failure, timings: { dnsMs: elapsed, totalMs: elapsed },
      bytes: 0, headerBytes: 0, headers: {}, generator: null, addresses: [],
    });
  }
  return proberFor(hop.scheme, probers)({ ...hop, address: first }, options);
}

function assertNever(value: never): never {
  throw new Error(`no prober for scheme ${String(value)}`);
}
