// The DNS prober: A and AAAA lookups of one name, via the configured DNS server or the system resolver.
//
// `addresses` holds only IPs (A first, then AAAA), whatever CNAMEs led to them: the resolver follows
// the chain. When the name has no address records, the CNAME it points to (one hop, as the server
// answers it) is named in errorDetail, e.g. an ExternalName Service whose target has no records.
// A failing lookup is data: error 'dns', with NXDOMAIN, SERVFAIL, NODATA, REFUSED or timeout in errorDetail.

import { promises as dns } from 'node:dns';
import { performance } from 'node:perf_hooks';
import type { HopResult, PlannedHop } from '../model.js';
import { errorCodeOf, errorMessageOf, resultFor } from './result.js';

/** Tuning of one DNS probe; every field has a default. */
export interface DnsProbeOptions {
  /** Monotonic clock in fractional ms; default performance.now. */
  now?: () => number;
}

/** A name that exists but has no address records. */
const NODATA = 'NODATA: no A or AAAA records';

/** What a resolver error code means, as a DNS operator would say it. */
const MEANINGS: Readonly<Record<string, string>> = {
  ENOTFOUND: 'NXDOMAIN',
  ENODATA: NODATA,
  ESERVFAIL: 'SERVFAIL',
  EREFUSED: 'REFUSED',
  ETIMEOUT: 'timeout',
  ECANCELLED: 'timeout',
  ECONNREFUSED: 'DNS server refused the connection',
  EAI_AGAIN: 'temporary failure (timeout or SERVFAIL)',
};

/** Which error explains a failed lookup best when A and AAAA failed differently. */
const PRECEDENCE = ['ENOTFOUND', 'ESERVFAIL', 'EREFUSED', 'ECONNREFUSED', 'ETIMEOUT', 'ECANCELLED', 'ENODATA'];

/** Outcome of the lookups of one name. */
interface Lookup {
  addresses: string[];
  errors: unknown[];
  cname: string | null;
}

/** Resolves one dns hop. Never throws for a failing name or server. */
export async function probeDns(hop: PlannedHop, options: DnsProbeOptions = {}): Promise<HopResult> {
  const now = options.now ?? (() => performance.now());
  const name = hop.request.host ?? hop.target;
  const start = now();
  const lookup = hop.dnsServer === null ? await lookupSystem(name, hop.request.timeoutMs) : await lookupVia(hop.dnsServer, name, hop.request.timeoutMs);
  const elapsed = Math.round((now() - start) * 1000) / 1000;
  const failed = lookup.addresses.length === 0;
  return resultFor(hop, {
    status: null,
    error: failed ? 'dns' : null,
    errorDetail: failed ? describeDnsFailure(name, lookup) : null,
    timings: { dnsMs: elapsed, totalMs: elapsed },
    bytes: 0,
    headerBytes: 0,
    headers: {},
    generator: null,
    addresses: lookup.addresses,
  });
}

/** Resolves a name through the given DNS server (or the system resolver): its addresses, or why there are none. */
export async function resolveName(server: string | null, name: string, timeoutMs: number): Promise<{ addresses: string[]; failure: string | null }> {
  const lookup = server === null ? await lookupSystem(name, timeoutMs) : await lookupVia(server, name, timeoutMs);
  return { addresses: lookup.addresses, failure: lookup.addresses.length === 0 ? describeDnsFailure(name, lookup) : null };
}

/** A and AAAA from one server ("ip:port" or "ip"), with c-ares' timeout and one try, bounded by the deadline. */
async function lookupVia(server: string, name: string, timeoutMs: number): Promise<Lookup> {
  const resolver = new dns.Resolver({ timeout: Math.max(1, Math.floor(timeoutMs)), tries: 1 });
  resolver.setServers([server]);
  // c-ares may retry on another transport or with a longer timeout: cancel at the deadline.
  const timer = setTimeout(() => resolver.cancel(), timeoutMs);
  try {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
    const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    const errors = [v4, v6].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    // NODATA on both may be a CNAME whose target has no address: name that target.
    const cname = addresses.length === 0 && errors.every((e) => errorCodeOf(e) === 'ENODATA') ? await firstCname(resolver, name) : null;
    return { addresses, errors, cname };
  } finally {
    clearTimeout(timer);
  }
}

async function firstCname(resolver: dns.Resolver, name: string): Promise<string | null> {
  try {
    return (await resolver.resolveCname(name))[0] ?? null;
  } catch {
    return null; // no CNAME (or the deadline passed): nothing more to tell
  }
}

/** The system resolver (getaddrinfo: /etc/hosts, nsswitch), bounded by the deadline. */
async function lookupSystem(name: string, timeoutMs: number): Promise<Lookup> {
  let timer: NodeJS.Timeout | undefined;
  // getaddrinfo cannot be cancelled: stop waiting at the deadline and let it finish in the threadpool.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEOUT' })), timeoutMs);
  });
  try {
    const found = await Promise.race([dns.lookup(name, { all: true, order: 'verbatim' }), deadline]);
    return { addresses: found.map((entry) => entry.address), errors: [], cname: null };
  } catch (err) {
    return { addresses: [], errors: [err], cname: null };
  } finally {
    clearTimeout(timer);
  }
}

/** "NXDOMAIN (ENOTFOUND) for web.shop.svc.cluster.local", and the CNAME target when one is known. */
function describeDnsFailure(name: string, lookup: Lookup): string {
  const codes = lookup.errors.map((e) => errorCodeOf(e) ?? '');
  const code = PRECEDENCE.find((c) => codes.includes(c)) ?? codes.find((c) => c !== '') ?? '';
  const meaning = MEANINGS[code];
  // c-ares answers an empty list (no error) when the server returns only a CNAME: that is NODATA too.
  const what = meaning !== undefined ? `${meaning} (${code})` : code !== '' ? `${code}: ${errorMessageOf(lookup.errors[0])}` : NODATA;
  const via = lookup.cname === null ? '' : `; CNAME -> ${lookup.cname}`;
  return `${what} for ${name}${via}`;
}
