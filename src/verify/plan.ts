// Pure: the hops one verification tick probes for a route. The route's own plan (planHops: DNS,
// edge, each controller pod, the Service, each endpoint) plus the canary and stable pods that are
// not endpoints of the route's Service (a separate canary Service, Flagger's primary/canary split),
// each pod hop marked canary, stable or neither.

import { primaryBackend } from '../discovery/backends.js';
import type { HopRequest, PlannedHop, PodFacts, Route } from '../model.js';
import { backendSpeaksTls, formatTarget, type PlanOptions, planHops } from '../probe/plan.js';
import type { RolePods } from './select.js';

/** What a probed target stands for in a verification: a front hop, or a pod of the canary, of stable, or neither. */
export type TargetRole = 'dns' | 'edge' | 'controller' | 'service' | 'canary' | 'stable' | 'pod';

/** A planned hop and its role. */
export interface VerifyHop {
  /** The hop as the prober takes it. */
  hop: PlannedHop;
  /** Its role. */
  role: TargetRole;
}

/** The container port a Service targetPort resolves to on a pod, null when the pod declares no such named port. */
export function resolvePodPort(targetPort: number | string, pod: PodFacts): number | null {
  if (typeof targetPort === 'number') return targetPort;
  return pod.containerPorts.find((p) => p.name === targetPort)?.port ?? null;
}

function extraPodHop(route: Route, pod: PodFacts, request: HopRequest): PlannedHop | null {
  const targetPort = primaryBackend(route)?.servicePort?.targetPort;
  if (!pod.ip || targetPort === undefined) return null;
  const port = resolvePodPort(targetPort, pod);
  if (port === null) return null;
  return {
    hop: 'pod',
    target: formatTarget(pod.ip, port),
    address: pod.ip,
    port,
    scheme: backendSpeaksTls(route) ? 'https' : 'http',
    pod: `${pod.namespace}/${pod.name}`,
    ready: pod.ready,
    terminating: pod.terminating,
    request,
    dnsServer: null,
  };
}

/** Every hop of one tick for a route, with roles; empty when the route cannot be probed. */
export function planVerifyHops(route: Route, pods: RolePods, options: PlanOptions): VerifyHop[] {
  const planned = planHops(route, options);
  if (planned.length === 0) return [];
  const roles = new Map<string, TargetRole>();
  for (const pod of pods.stable) roles.set(`${pod.namespace}/${pod.name}`, 'stable');
  // A pod both selected as canary and as stable (selector overlap) is judged as the canary.
  for (const pod of pods.canary) roles.set(`${pod.namespace}/${pod.name}`, 'canary');
  const hops: VerifyHop[] = planned.map((hop) => ({ hop, role: hop.hop === 'pod' ? (roles.get(hop.pod ?? '') ?? 'pod') : hop.hop }));
  const plannedPods = new Set(planned.filter((h) => h.hop === 'pod').map((h) => h.pod));
  const request: HopRequest = { host: route.probe.hostHeader, path: route.probe.path, timeoutMs: options.timeoutMs };
  for (const pod of [...pods.canary, ...pods.stable]) {
    const name = `${pod.namespace}/${pod.name}`;
    if (plannedPods.has(name)) continue;
    plannedPods.add(name);
    const hop = extraPodHop(route, pod, request);
    if (hop) hops.push({ hop, role: roles.get(name) ?? 'pod' });
  }
  return hops;
}
