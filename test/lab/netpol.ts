// The lab's NetworkPolicy enforcement: decides whether a connection from a source address to a lab
// pod is admitted. Written apart from hopwatch's own policy evaluation (src/discovery/policies.ts)
// on purpose: the lab is what hopwatch is tested against, so it must not share hopwatch's mistakes.
//
// Supported: podSelector/namespaceSelector with matchLabels and matchExpressions (In, NotIn,
// Exists, DoesNotExist), ipBlock cidr/except, ports by number or name. Sources that are neither a
// lab pod nor a controller pod (hopwatch itself, probing from the host) count as host traffic,
// which NetworkPolicies in most CNIs do not filter: they are always admitted.

/** A label selector as in Kubernetes. */
interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A peer of an ingress rule. */
interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
}

/** The parts of a NetworkPolicy the lab enforces. */
export interface LabPolicy {
  /** Namespace of the policy. */
  namespace: string;
  /** spec (networking.k8s.io/v1 NetworkPolicySpec). */
  spec: {
    podSelector?: Selector;
    policyTypes?: string[];
    ingress?: { from?: Peer[]; ports?: { port?: number | string; protocol?: string }[] }[];
  };
}

/** A pod as a policy sees it. */
export interface PolicyPod {
  /** Namespace. */
  namespace: string;
  /** Labels. */
  labels: Record<string, string>;
  /** IP. */
  ip: string;
  /** Named container ports. */
  ports: Record<string, number>;
}

/** Everything needed to decide one connection. */
export interface PolicyWorld {
  /** Every policy of the lab. */
  policies: LabPolicy[];
  /** Labels of every namespace. */
  namespaceLabels: Record<string, Record<string, string>>;
  /** Every pod (backend and controller) by IP. */
  podsByIp: Map<string, PolicyPod>;
}

/** True when the selector matches the labels (an empty selector matches everything). */
export function matches(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  return (selector.matchExpressions ?? []).every((e) => {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        return has && (e.values ?? []).includes(value ?? '');
      case 'NotIn':
        return !has || !(e.values ?? []).includes(value ?? '');
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        return false;
    }
  });
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bitsText = '32'] = cidr.split('/');
  // Dividing by 2^(32-bits) drops the host part; plain arithmetic avoids signed 32-bit bit operators.
  const hostSpan = 2 ** (32 - Number(bitsText));
  return Math.floor(ipToInt(ip) / hostSpan) === Math.floor(ipToInt(base) / hostSpan);
}

function peerAdmits(peer: Peer, policyNamespace: string, source: PolicyPod, world: PolicyWorld): boolean {
  if (peer.ipBlock) {
    const { cidr, except = [] } = peer.ipBlock;
    return inCidr(source.ip, cidr) && !except.some((e) => inCidr(source.ip, e));
  }
  const nsLabels = world.namespaceLabels[source.namespace] ?? {};
  const nsOk = peer.namespaceSelector ? matches(peer.namespaceSelector, nsLabels) : source.namespace === policyNamespace;
  return nsOk && matches(peer.podSelector, source.labels);
}

function portAdmits(ports: { port?: number | string }[] | undefined, target: PolicyPod, port: number): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => p.port === undefined || p.port === port || (typeof p.port === 'string' && target.ports[p.port] === port));
}

/** Decides whether a connection from sourceIp to the target pod's port is admitted. */
export function admits(world: PolicyWorld, target: PolicyPod, sourceIp: string, port: number): boolean {
  const source = world.podsByIp.get(sourceIp);
  if (!source) return true;
  const selecting = world.policies.filter(
    (p) => p.namespace === target.namespace && (p.spec.policyTypes ?? ['Ingress']).includes('Ingress') && matches(p.spec.podSelector, target.labels),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    (p.spec.ingress ?? []).some(
      (rule) => portAdmits(rule.ports, target, port) && (!rule.from || rule.from.length === 0 || rule.from.some((peer) => peerAdmits(peer, p.namespace, source, world))),
    ),
  );
}
