// Pods reduced to the facts classification reads: readiness, restarts, the
// container state reason (CrashLoopBackOff, ...), ports, rollout identity and
// the readiness probe.

import type { V1Container, V1ContainerStatus, V1Pod, V1Probe } from '@kubernetes/client-node';
import type { ContainerPortFacts, PodFacts } from '../model.js';

/** The label ReplicaSets put on their pods to tell pod templates apart. */
export const TEMPLATE_HASH_LABEL = 'pod-template-hash';

/**
 * True when a timestamp field is set. Objects may carry Dates (client-node's
 * deserialiser) or strings (raw JSON), so both count; an empty string does not.
 */
export function isTimestampSet(value: unknown): boolean {
  if (value instanceof Date) return true;
  return typeof value === 'string' && value.trim() !== '';
}

/** True when the Pod's Ready condition is "True". */
export function isPodReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((condition) => condition.type === 'Ready' && condition.status === 'True');
}

/** Reduces a Pod to PodFacts. */
export function podFacts(pod: V1Pod): PodFacts {
  const labels = { ...(pod.metadata?.labels ?? {}) };
  const statuses = pod.status?.containerStatuses ?? [];
  const containers = pod.spec?.containers ?? [];
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    ip: pod.status?.podIP || null,
    phase: pod.status?.phase ?? 'Unknown',
    ready: isPodReady(pod),
    restarts: statuses.reduce((sum, status) => sum + (status.restartCount ?? 0), 0),
    stateReason: containerStateReason(statuses),
    containerPorts: containerPorts(containers),
    labels,
    templateHash: labels[TEMPLATE_HASH_LABEL] ?? null,
    replicaSet: owningReplicaSet(pod),
    terminating: isTimestampSet(pod.metadata?.deletionTimestamp),
    readinessProbe: readinessProbeOf(containers),
  };
}

/**
 * The reason a container is not running: the first waiting reason
 * (CrashLoopBackOff, ImagePullBackOff, ...), else the first terminated reason; null when all run.
 * Waiting wins because a crash-looping container waits in CrashLoopBackOff between Error exits.
 */
export function containerStateReason(statuses: readonly V1ContainerStatus[]): string | null {
  for (const status of statuses) {
    const reason = status.state?.waiting?.reason;
    if (reason) return reason;
  }
  for (const status of statuses) {
    const reason = status.state?.terminated?.reason;
    if (reason) return reason;
  }
  return null;
}

/** Every port of every container, in spec order. */
export function containerPorts(containers: readonly V1Container[]): ContainerPortFacts[] {
  return containers.flatMap((container) =>
    (container.ports ?? []).map((port) => ({
      name: port.name || null,
      port: port.containerPort,
      protocol: port.protocol ?? 'TCP',
    })),
  );
}

/** Name of the ReplicaSet owning the Pod (the controller owner first), null when none. */
function owningReplicaSet(pod: V1Pod): string | null {
  const owners = (pod.metadata?.ownerReferences ?? []).filter((owner) => owner.kind === 'ReplicaSet');
  const owner = owners.find((candidate) => candidate.controller === true) ?? owners[0];
  return owner?.name ?? null;
}

/** The first container's readiness probe, summarised; null when no container declares one. */
function readinessProbeOf(containers: readonly V1Container[]): string | null {
  const probe = containers.find((container) => container.readinessProbe !== undefined)?.readinessProbe;
  return probe ? summariseProbe(probe) : null;
}

/** A short description of a probe: "http-get :8080/healthz", "https-get :8443/", "tcp :8080", "grpc :9090", "exec". */
export function summariseProbe(probe: V1Probe): string {
  if (probe.httpGet) {
    const scheme = (probe.httpGet.scheme ?? 'HTTP').toUpperCase() === 'HTTPS' ? 'https-get' : 'http-get';
    return `${scheme} :${probe.httpGet.port}${probe.httpGet.path || '/'}`;
  }
  if (probe.tcpSocket) return `tcp :${probe.tcpSocket.port}`;
  if (probe.grpc) return `grpc :${probe.grpc.port}`;
  if (probe.exec) return 'exec';
  return 'unknown';
}
