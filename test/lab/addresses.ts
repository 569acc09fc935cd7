// Loopback address layout of one lab instance.
//
// Every lab instance owns a block 127.B.0.0/16 (B in 1..250). Within a block:
//   127.B.0.1        Kubernetes API server (its bind is the block's lock)
//   127.B.0.53       DNS server (dnsmasq)
//   127.B.0.80       edge ("load balancer") in front of the controller pods
//   127.B.1.x        pods 0..253, then 127.B.16.x .. 127.B.127.x
//   127.B.2.x        Service ClusterIPs 0..253, then 127.B.128.x .. 127.B.191.x
//   127.B.3.x        ingress controller pods
//   127.B.0.100+i    the address (edge) of lab Gateway i
//   127.B.4.x        data-plane pods of the lab Gateways (4 per Gateway)
// Test files run in parallel, each in its own process: a block is claimed by
// binding the API server to 127.B.0.1:API_PORT, which only one process can do.

/** Port of the lab's API server on its block address. */
export const API_PORT = 16443;
/** Port of the lab's DNS server. */
export const DNS_PORT = 5353;
/** Port the edge listens on for HTTP. */
export const EDGE_HTTP_PORT = 18080;
/** Port the controller pods serve HTTP on. */
export const CONTROLLER_HTTP_PORT = 18080;

const FIRST_BLOCK = 1;
const LAST_BLOCK = 250;
const PER_OCTET = 254;

/** Every block number a lab may claim, starting at a pseudo-random one so parallel claims spread out. */
export function candidateBlocks(seed: number = process.pid): number[] {
  const count = LAST_BLOCK - FIRST_BLOCK + 1;
  const start = seed % count;
  return Array.from({ length: count }, (_, i) => FIRST_BLOCK + ((start + i) % count));
}

function spread(block: number, firstOctet: number, overflowOctet: number, overflowOctets: number, index: number): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`address index must be a non-negative integer, got ${index}`);
  if (index < PER_OCTET) return `127.${block}.${firstOctet}.${index + 1}`;
  const rest = index - PER_OCTET;
  const octet = overflowOctet + Math.floor(rest / PER_OCTET);
  if (octet >= overflowOctet + overflowOctets) throw new RangeError(`address index ${index} is beyond the lab's range`);
  return `127.${block}.${octet}.${(rest % PER_OCTET) + 1}`;
}

/** The addresses of one lab block. */
export class LabAddresses {
  /** The block number B of 127.B.0.0/16. */
  readonly block: number;

  constructor(block: number) {
    if (!Number.isInteger(block) || block < FIRST_BLOCK || block > LAST_BLOCK) {
      throw new RangeError(`lab block must be ${FIRST_BLOCK}..${LAST_BLOCK}, got ${block}`);
    }
    this.block = block;
  }

  /** The API server's address. */
  get api(): string {
    return `127.${this.block}.0.1`;
  }

  /** The DNS server's address. */
  get dns(): string {
    return `127.${this.block}.0.53`;
  }

  /** The edge's address. */
  get edge(): string {
    return `127.${this.block}.0.80`;
  }

  /** The IP of the pod with this index. */
  pod(index: number): string {
    return spread(this.block, 1, 16, 112, index);
  }

  /** The ClusterIP of the Service with this index. */
  service(index: number): string {
    return spread(this.block, 2, 128, 64, index);
  }

  /** The IP of the controller pod with this index. */
  controller(index: number): string {
    if (!Number.isInteger(index) || index < 0 || index >= PER_OCTET) throw new RangeError(`controller index ${index} out of range`);
    return `127.${this.block}.3.${index + 1}`;
  }

  /** The address (edge) of lab Gateway `index`. */
  gatewayEdge(index: number): string {
    if (!Number.isInteger(index) || index < 0 || index > 100) throw new RangeError(`gateway index ${index} out of range`);
    return `127.${this.block}.0.${100 + index}`;
  }

  /** The IP of data-plane replica `replica` of lab Gateway `index`. */
  gatewayPod(index: number, replica: number): string {
    if (!Number.isInteger(replica) || replica < 0 || replica >= 4 || !Number.isInteger(index) || index < 0 || index > 60) {
      throw new RangeError(`gateway pod ${index}/${replica} out of range`);
    }
    return `127.${this.block}.4.${index * 4 + replica + 1}`;
  }
}

/** True when the address is inside 127.0.0.0/8. */
export function isLoopback(address: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}
