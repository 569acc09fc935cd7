// One probe signature, one map of probers keyed by scheme (blackbox_exporter prober/prober.go).
// A hop's kind is data: edge, controller, service and pod hops all go to the HTTP prober.

import type { HopResult, PlannedHop } from '../model.js';
import { type DnsProbeOptions, probeDns } from './dns.js';
import { type HttpProbeOptions, probeHttp } from './http.js';

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

/** Probes one hop with the prober of its scheme. */
export function probeHop(hop: PlannedHop, options?: ProbeOptions, probers: Probers = PROBERS): Promise<HopResult> {
  return proberFor(hop.scheme, probers)(hop, options);
}

function assertNever(value: never): never {
  throw new Error(`no prober for scheme ${String(value)}`);
}
