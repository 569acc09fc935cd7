// The ingress controller serving a route: configuration joined with the
// controller pods found in the cluster and the Ingress's load balancer status.

import { isIPv6 } from 'node:net';
import type { V1Ingress, V1Pod } from '@kubernetes/client-node';
import type { ControllerConfig } from '../config/types.js';
import type { ControllerFacts, ControllerPodFacts } from '../model.js';
import { isPodReady } from './pods.js';
import { type LabelSelector, matchesLabels, parseLabelSelector } from './selectors.js';
import { compareText } from './services.js';

/** A configured controller with its pods found in the snapshot. */
export interface ResolvedController {
  /** The configuration. */
  config: ControllerConfig;
  /** Its pods (pods.namespace, matching pods.selector), sorted by name. */
  pods: V1Pod[];
}

/** Finds each configured controller's pods. Throws LabelSelectorError on a bad configured selector. */
export function resolveControllers(controllers: readonly ControllerConfig[], pods: readonly V1Pod[]): ResolvedController[] {
  return controllers.map((config) => {
    const selector: LabelSelector = parseLabelSelector(config.pods.selector);
    const own = pods
      .filter((pod) => pod.metadata?.namespace === config.pods.namespace && matchesLabels(selector, pod.metadata?.labels))
      .sort((a, b) => compareText(a.metadata?.name ?? '', b.metadata?.name ?? ''));
    return { config, pods: own };
  });
}

/** The configured controller serving a class, null when the class is null or no controller serves it. */
export function controllerForClass(
  controllers: readonly ResolvedController[],
  ingressClass: string | null,
): ResolvedController | null {
  if (ingressClass === null) return null;
  return controllers.find((controller) => controller.config.ingressClass === ingressClass) ?? null;
}

/** The Ingress's status.loadBalancer addresses (ip, else hostname), in status order. */
export function loadBalancerAddresses(ingress: V1Ingress): string[] {
  const entries = ingress.status?.loadBalancer?.ingress ?? [];
  return entries.flatMap((entry) => {
    const address = entry.ip || entry.hostname;
    return address ? [address] : [];
  });
}

/** Controller facts by resolved controller and first load balancer address: one object for every route they serve (read only). */
const FACTS = new WeakMap<ResolvedController, Map<string, ControllerFacts>>();

/** Controller facts for one Ingress: the edge comes from config, else the first load balancer address. Shared, read only. */
export function controllerFacts(controller: ResolvedController, loadBalancer: readonly string[]): ControllerFacts {
  let byAddress = FACTS.get(controller);
  if (byAddress === undefined) FACTS.set(controller, (byAddress = new Map()));
  const first = loadBalancer[0];
  let facts = byAddress.get(first ?? '');
  if (facts === undefined) byAddress.set(first ?? '', (facts = buildControllerFacts(controller, first)));
  return facts;
}

function buildControllerFacts(controller: ResolvedController, first: string | undefined): ControllerFacts {
  const { config } = controller;
  return {
    ingressClass: config.ingressClass,
    kind: config.kind,
    upstream: config.upstream,
    edge: config.edge ?? (first ? edgeUrl('http', first, 80) : null),
    edgeHttps: config.edgeHttps ?? (first ? edgeUrl('https', first, 443) : null),
    httpPort: config.pods.httpPort,
    httpsPort: config.pods.httpsPort,
    pods: podFactsOf(controller),
    // Only when configured: absent means the kind's defaults (src/classify/knowledge.ts).
    ...(config.settings === undefined ? {} : { settings: { ...config.settings } }),
  };
}

/** The pod facts of each resolved controller, made once: every route of the controller shares them (read only), not a copy per route. */
const POD_FACTS = new WeakMap<ResolvedController, ControllerPodFacts[]>();

function podFactsOf(controller: ResolvedController): ControllerPodFacts[] {
  let facts = POD_FACTS.get(controller);
  if (facts === undefined) POD_FACTS.set(controller, (facts = controller.pods.map(controllerPodFacts)));
  return facts;
}

/** A URL for an address (IPv6 literals bracketed). */
export function edgeUrl(scheme: 'http' | 'https', address: string, port: number): string {
  const host = isIPv6(address) ? `[${address}]` : address;
  return `${scheme}://${host}:${port}`;
}

/** What hopwatch keeps of a proxy pod it probes directly. */
export function controllerPodFacts(pod: V1Pod): ControllerPodFacts {
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    ip: pod.status?.podIP || null,
    ready: isPodReady(pod),
  };
}
