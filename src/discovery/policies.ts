// NetworkPolicy evaluation: which policies isolate a route's backend pods for
// ingress, and whether each admits the ingress controller's pods on the port
// the controller sends to.

import { BlockList, isIP } from 'node:net';
import type {
  V1NetworkPolicy,
  V1NetworkPolicyIngressRule,
  V1NetworkPolicyPeer,
  V1NetworkPolicyPort,
  V1Pod,
} from '@kubernetes/client-node';
import type { PolicyFacts, ServicePortFacts } from '../model.js';
import { labelSelectorFromObject, matchesLabels } from './selectors.js';
import { compareText } from './services.js';

/** The label the API server sets on every Namespace to its own name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** What policy evaluation needs to know about one route's backend. */
export interface PolicyContext {
  /** Namespace of the backend pods (and of the policies that can select them). */
  namespace: string;
  /** The pods the backend Service selects. */
  backendPods: readonly V1Pod[];
  /** The Service port the route uses; null when unknown (then only port-unrestricted rules can admit). */
  servicePort: ServicePortFacts | null;
  /** The controller's pods (empty when no controller serves the route). */
  controllerPods: readonly V1Pod[];
  /** Labels of a namespace, including kubernetes.io/metadata.name. */
  namespaceLabels: (namespace: string) => Record<string, string>;
}

/** A backend pod and the port number the controller reaches it on. */
interface BackendTarget {
  /** The pod. */
  pod: V1Pod;
  /** The resolved target port number. */
  port: number;
  /** L4 protocol. */
  protocol: string;
}

/** Labels of a namespace as selectors see them: its own labels plus kubernetes.io/metadata.name. */
export function namespaceLabelsOf(
  namespace: string,
  labelsByNamespace: ReadonlyMap<string, Readonly<Record<string, string>>>,
): Record<string, string> {
  return { ...(labelsByNamespace.get(namespace) ?? {}), [NAMESPACE_NAME_LABEL]: namespace };
}

/**
 * The Ingress-type policies in the backend namespace that select at least one
 * backend pod, sorted by name, each with whether it admits the controller.
 */
export function policyFacts(policies: readonly V1NetworkPolicy[], context: PolicyContext): PolicyFacts[] {
  const facts: PolicyFacts[] = [];
  for (const policy of policies) {
    if (policy.metadata?.namespace !== context.namespace || !isIngressPolicy(policy)) continue;
    const selected = selectedPods(policy, context.backendPods);
    if (selected.length === 0) continue;
    facts.push({
      namespace: context.namespace,
      name: policy.metadata?.name ?? '',
      admitsController: admitsController(policy, selected, context),
      admitsProber: null,
    });
  }
  return facts.sort((a, b) => compareText(a.name, b.name));
}

/** policyTypes absent means Ingress (plus Egress when egress rules exist), as in Kubernetes. */
export function isIngressPolicy(policy: V1NetworkPolicy): boolean {
  const types = policy.spec?.policyTypes;
  return types === undefined || types.length === 0 || types.includes('Ingress');
}

/** The pods a policy's podSelector selects (an empty selector selects all pods of the namespace). */
function selectedPods(policy: V1NetworkPolicy, pods: readonly V1Pod[]): V1Pod[] {
  const selector = labelSelectorFromObject(policy.spec?.podSelector ?? {});
  if (!selector) return [];
  return pods.filter((pod) => matchesLabels(selector, pod.metadata?.labels));
}

function admitsController(policy: V1NetworkPolicy, selected: readonly V1Pod[], context: PolicyContext): boolean {
  // An Ingress-type policy without rules isolates the pods and admits nothing.
  const rules = policy.spec?.ingress ?? [];
  const targets = backendTargets(selected, context.servicePort);
  return rules.some(
    (rule) => peersAdmitController(rule, context) && portsAdmit(rule.ports ?? [], targets, context.servicePort),
  );
}

/** True when the rule's `from` admits at least one controller pod (no `from` admits every source). */
function peersAdmitController(rule: V1NetworkPolicyIngressRule, context: PolicyContext): boolean {
  const peers = rule._from ?? [];
  if (peers.length === 0) return true;
  return context.controllerPods.some((pod) => peers.some((peer) => peerMatchesPod(peer, pod, context)));
}

/**
 * Kubernetes peer semantics: podSelector alone selects pods in the policy's
 * namespace; namespaceSelector alone selects every pod in matching namespaces;
 * both in one peer must both hold; ipBlock matches the pod IP.
 */
export function peerMatchesPod(peer: V1NetworkPolicyPeer, pod: V1Pod, context: PolicyContext): boolean {
  if (peer.ipBlock) return ipBlockContains(peer.ipBlock.cidr, peer.ipBlock.except ?? [], pod.status?.podIP);
  if (!peer.podSelector && !peer.namespaceSelector) return false;
  const podNamespace = pod.metadata?.namespace ?? '';
  const namespaceMatches = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, context.namespaceLabels(podNamespace))
    : podNamespace === context.namespace;
  const podMatches = peer.podSelector ? selectorMatches(peer.podSelector, pod.metadata?.labels ?? {}) : true;
  return namespaceMatches && podMatches;
}

function selectorMatches(selector: NonNullable<V1NetworkPolicyPeer['podSelector']>, labels: Record<string, string>): boolean {
  const parsed = labelSelectorFromObject(selector);
  return parsed !== null && matchesLabels(parsed, labels);
}

/** True when the address lies in cidr and in none of the except ranges; invalid input matches nothing. */
export function ipBlockContains(cidr: string, except: readonly string[], address: string | undefined): boolean {
  if (!address || isIP(address) === 0) return false;
  const inside = cidrContains(cidr, address);
  return inside === true && except.every((range) => cidrContains(range, address) === false);
}

/** Whether a CIDR contains the address; null when the CIDR is invalid. */
function cidrContains(cidr: string, address: string): boolean | null {
  const [base = '', prefixText = ''] = cidr.split('/');
  const family = isIP(base);
  const prefix = Number(prefixText);
  const maxPrefix = family === 6 ? 128 : 32;
  if (family === 0 || !/^\d+$/.test(prefixText) || prefix > maxPrefix) return null;
  if (isIP(address) !== family) return false;
  const block = new BlockList();
  const type = family === 6 ? 'ipv6' : 'ipv4';
  block.addSubnet(base, prefix, type);
  return block.check(address, type);
}

/** Resolves the Service's targetPort on each selected pod (a named targetPort goes through the pod's container ports). */
function backendTargets(pods: readonly V1Pod[], servicePort: ServicePortFacts | null): BackendTarget[] {
  if (!servicePort) return [];
  const targets: BackendTarget[] = [];
  for (const pod of pods) {
    const port = resolvePodPort(pod, servicePort.targetPort, servicePort.protocol);
    if (port !== null) targets.push({ pod, port, protocol: servicePort.protocol });
  }
  return targets;
}

/** A port number, or the number of the pod's container port with that name and protocol. */
export function resolvePodPort(pod: V1Pod, port: number | string, protocol: string): number | null {
  if (typeof port === 'number') return port;
  // client-node types targetPort as int-or-string; a numeric string is a number on the wire.
  if (/^\d+$/.test(port)) return Number(port);
  for (const container of pod.spec?.containers ?? []) {
    const found = (container.ports ?? []).find(
      (candidate) => candidate.name === port && (candidate.protocol ?? 'TCP') === protocol,
    );
    if (found) return found.containerPort;
  }
  return null;
}

/** True when no ports are listed, or some listed port covers some backend target. */
function portsAdmit(
  ports: readonly V1NetworkPolicyPort[],
  targets: readonly BackendTarget[],
  servicePort: ServicePortFacts | null,
): boolean {
  if (ports.length === 0) return true;
  if (!servicePort) return false;
  return targets.some((target) => ports.some((policyPort) => policyPortCovers(policyPort, target)));
}

function policyPortCovers(policyPort: V1NetworkPolicyPort, target: BackendTarget): boolean {
  if ((policyPort.protocol ?? 'TCP') !== target.protocol) return false;
  if (policyPort.port === undefined) return true;
  const start = resolvePodPort(target.pod, policyPort.port, target.protocol);
  if (start === null) return false;
  // endPort only applies to numeric ports; with a named port it is ignored.
  const end = typeof policyPort.port === 'number' && policyPort.endPort !== undefined ? policyPort.endPort : start;
  return target.port >= start && target.port <= end;
}
