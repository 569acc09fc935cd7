// Pure: a Gateway and its listener -> the "controller" of its routes: the implementation (from the
// GatewayClass's controllerName, or configured), the address users hit (status.addresses on the
// listener port, or configured), and the data-plane pods with the container port behind the listener
// (found by the implementation's labels, GEP-1762 for most; the generated Service's targetPort says
// which container port serves the listener port).

import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { gatewayImplementation, KNOWLEDGE } from '../classify/knowledge.js';
import type { GatewayConfig } from '../config/types.js';
import type { ConditionFacts, ControllerFacts, ControllerKind } from '../model.js';
import { controllerPodFacts, edgeUrl } from './controllers.js';
import type { GatewayCondition, GatewayObject, ListenerSpec } from './gateway-types.js';
import { type LabelSelector, labelSelectorFromMap, matchesLabels, parseLabelSelector } from './selectors.js';
import { compareText } from './services.js';
import type { ClusterSnapshot } from './snapshot.js';

/** A Gateway with what discovery found around it. */
export interface ResolvedGateway {
  /** The object. */
  object: GatewayObject;
  /** Namespace. */
  namespace: string;
  /** Name. */
  name: string;
  /** spec.gatewayClassName, null when unset. */
  gatewayClass: string | null;
  /** The GatewayClass's controllerName, null when the class is missing. */
  controllerName: string | null;
  /** The implementation. */
  kind: ControllerKind;
  /** The configured overrides, null when none. */
  config: GatewayConfig | null;
  /** The data-plane pods, sorted by name. */
  pods: V1Pod[];
  /** status.addresses values. */
  addresses: string[];
  /** The Programmed condition, null when none was written. */
  programmed: ConditionFacts | null;
}

/** Every Gateway of the snapshot by "namespace/name", with its implementation and data-plane pods. */
export function resolveGateways(snapshot: ClusterSnapshot, configs: readonly GatewayConfig[]): Map<string, ResolvedGateway> {
  const classes = new Map(snapshot.gatewayClasses.map((c) => [c.metadata?.name ?? '', c.spec?.controllerName ?? null]));
  const resolved = new Map<string, ResolvedGateway>();
  for (const object of snapshot.gateways) {
    const identity = gatewayIdentity(object, (name) => classes.get(name) ?? null, configs);
    const { namespace, name, kind, config } = identity;
    resolved.set(`${namespace}/${name}`, {
      object, ...identity,
      pods: dataPlanePods(snapshot.pods, dataPlaneSelector(kind, namespace, name, config)),
      addresses: (object.status?.addresses ?? []).flatMap((a) => (a.value ? [a.value] : [])),
      programmed: conditionOf(object.status?.conditions, 'Programmed'),
    });
  }
  return resolved;
}

/** Who serves a Gateway: its class, the class's controllerName, the implementation, the configured overrides. */
export function gatewayIdentity(object: GatewayObject, controllerNameOf: (gatewayClass: string) => string | null, configs: readonly GatewayConfig[]): Pick<ResolvedGateway, 'namespace' | 'name' | 'gatewayClass' | 'controllerName' | 'kind' | 'config'> {
  const namespace = object.metadata?.namespace ?? 'default';
  const name = object.metadata?.name ?? '';
  const gatewayClass = object.spec?.gatewayClassName ?? null;
  const controllerName = gatewayClass === null ? null : controllerNameOf(gatewayClass);
  const config = configs.find((c) => c.namespace === namespace && c.name === name) ?? null;
  const kind = config?.kind ?? gatewayImplementation(controllerName) ?? 'generic';
  return { namespace, name, gatewayClass, controllerName, kind, config };
}

/** One condition of a status, null when absent. */
export function conditionOf(conditions: readonly GatewayCondition[] | undefined, type: string): ConditionFacts | null {
  const found = (conditions ?? []).find((c) => c.type === type);
  return found ? { status: found.status ?? 'Unknown', reason: found.reason ?? '', message: found.message ?? '' } : null;
}

/** Where a Gateway's data-plane pods are ("*": any namespace) and the labels that pick them: the configured selector, else the implementation's labels; null when neither. */
export function dataPlaneSelector(kind: ControllerKind, namespace: string, name: string, config: GatewayConfig | null): { selector: LabelSelector; where: string } | null {
  if (config?.pods) return { selector: parseLabelSelector(config.pods.selector), where: config.pods.namespace };
  const implementation = KNOWLEDGE[kind].gateway;
  if (!implementation?.podLabels) return null;
  const fill = (value: string): string => value.replaceAll('{gateway}', name).replaceAll('{namespace}', namespace);
  const selector = labelSelectorFromMap(Object.fromEntries(Object.entries(implementation.podLabels).map(([k, v]) => [k, fill(v)])));
  return { selector, where: implementation.podNamespace ?? namespace };
}

/** True when a pod (its namespace and labels) is one of a Gateway's data-plane pods by its selector. */
export function isDataPlanePod(picker: { selector: LabelSelector; where: string }, namespace: string | undefined, labels: Record<string, string> | undefined): boolean {
  return (picker.where === '*' || namespace === picker.where) && matchesLabels(picker.selector, labels);
}

/** The data-plane pods, sorted by name. */
function dataPlanePods(pods: readonly V1Pod[], picker: { selector: LabelSelector; where: string } | null): V1Pod[] {
  if (picker === null) return [];
  return pods
    .filter((pod) => isDataPlanePod(picker, pod.metadata?.namespace, pod.metadata?.labels))
    .sort((a, b) => compareText(a.metadata?.name ?? '', b.metadata?.name ?? ''));
}

/**
 * The container port behind a listener port: the generated Service (in the pods' namespace, selecting
 * them) maps the listener port to a targetPort; without one, the implementation's rule (Envoy Gateway
 * adds 10000 below 1024); a configured httpPort wins.
 */
export function listenerContainerPort(gateway: ResolvedGateway, listenerPort: number, services: readonly V1Service[]): number {
  if (gateway.config?.pods?.httpPort) return gateway.config.pods.httpPort;
  const pod = gateway.pods[0];
  const labels = pod?.metadata?.labels ?? {};
  const service = services.find((s) =>
    s.metadata?.namespace === pod?.metadata?.namespace &&
    Object.keys(s.spec?.selector ?? {}).length > 0 &&
    matchesLabels(labelSelectorFromMap(s.spec?.selector ?? {}), labels) &&
    (s.spec?.ports ?? []).some((p) => p.port === listenerPort));
  const target = service?.spec?.ports?.find((p) => p.port === listenerPort)?.targetPort;
  if (typeof target === 'number') return target;
  if (typeof target === 'string') {
    const named = (pod?.spec?.containers ?? []).flatMap((c) => c.ports ?? []).find((p) => p.name === target);
    if (named) return named.containerPort;
    if (/^\d+$/.test(target)) return Number(target);
  }
  const offset = KNOWLEDGE[gateway.kind].gateway?.lowPortOffset ?? 0;
  return listenerPort < 1024 ? listenerPort + offset : listenerPort;
}

/** The controller facts of a Gateway listener: implementation, edge, data-plane pods and their port. */
export function gatewayControllerFacts(gateway: ResolvedGateway, listener: ListenerSpec, services: readonly V1Service[]): ControllerFacts {
  const port = listener.port ?? 80;
  const address = gateway.addresses[0];
  const containerPort = listenerContainerPort(gateway, port, services);
  return {
    ingressClass: gateway.gatewayClass ?? '',
    kind: gateway.kind,
    upstream: KNOWLEDGE[gateway.kind].upstream,
    edge: gateway.config?.edge ?? (address ? edgeUrl('http', address, port) : null),
    edgeHttps: gateway.config?.edgeHttps ?? (address ? edgeUrl('https', address, port) : null),
    httpPort: containerPort,
    httpsPort: containerPort,
    pods: gateway.pods.map(controllerPodFacts),
    ...(gateway.config?.settings === undefined ? {} : { settings: { ...gateway.config.settings } }),
  };
}
