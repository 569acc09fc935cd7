// Pure: one-line descriptions of hop results and objects, for verdict evidence and the CLI.

import type { Backend, HopResult, PodFacts } from '../model.js';

function ms(value: number | undefined): string {
  if (value === undefined) return '?';
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

/** "pod shop/web-1 (127.0.1.3:8080)" or "edge 127.0.0.80:18080". */
export function describeTarget(result: Pick<HopResult, 'hop' | 'target' | 'pod' | 'ready'>): string {
  const readiness = result.hop === 'pod' && result.ready === false ? ', not ready' : '';
  return result.pod ? `${result.hop} ${result.pod} (${result.target}${readiness})` : `${result.hop} ${result.target}`;
}

/** What came back: "502 from nginx in 1.2 ms", "refused (ECONNREFUSED) after 0.3 ms", "resolves to 10.0.0.1". */
export function describeOutcome(result: HopResult): string {
  if (result.hop === 'dns') {
    return result.error
      ? `does not resolve: ${result.errorDetail ?? result.error}`
      : `resolves to ${result.addresses.join(', ') || 'nothing'}`;
  }
  if (result.error) {
    const detail = result.errorDetail ? ` (${result.errorDetail})` : '';
    return `${result.error}${detail} after ${ms(result.timings.totalMs)}`;
  }
  const from = result.generator && result.generator !== 'upstream' ? ` from ${result.generator}` : '';
  const ttfb = result.timings.ttfbMs !== undefined ? `, first byte at ${ms(result.timings.ttfbMs)}` : '';
  return `${result.status ?? '?'}${from} in ${ms(result.timings.totalMs)}${ttfb}`;
}

/** One evidence line for a hop result. */
export function describeResult(result: HopResult): string {
  return `${describeTarget(result)}: ${describeOutcome(result)}`;
}

/** One evidence line for a pod's state: readiness, restarts, container state, readiness probe. */
export function describePod(pod: PodFacts): string {
  const parts = [pod.ready ? 'ready' : 'not ready', `${pod.restarts} restarts`];
  if (pod.stateReason) parts.push(pod.stateReason);
  if (pod.terminating) parts.push('terminating');
  if (pod.readinessProbe) parts.push(`readiness ${pod.readinessProbe}`);
  return `pod ${pod.namespace}/${pod.name}${pod.ip ? ` (${pod.ip})` : ''}: ${parts.join(', ')}`;
}

/** "Service shop/web port 80 (http) -> targetPort http". */
export function describeServicePort(backend: Backend): string {
  const service = backend.service;
  if (!service) return `Service ${backend.ref.namespace}/${backend.ref.service} does not exist`;
  const port = backend.servicePort;
  if (!port) {
    const ports = service.ports.map((p) => (p.name ? `${p.port} (${p.name})` : `${p.port}`)).join(', ') || 'none';
    return `Service ${service.namespace}/${service.name} has no port ${backend.ref.port} (its ports: ${ports})`;
  }
  const name = port.name ? ` (${port.name})` : '';
  return `Service ${service.namespace}/${service.name} port ${port.port}${name} -> targetPort ${port.targetPort}`;
}

/** "20480 bytes (20.0 KiB)". */
export function formatBytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} bytes` : `${bytes} bytes (${(bytes / 1024).toFixed(1)} KiB)`;
}

/** "ingress-nginx proxy-read-timeout: 2000 ms (configured)", "... : none (HAProxy default)". */
export function describeSetting(controller: string, name: string, setting: { value: number | null; source: string }, unit: 'ms' | 'bytes'): string {
  const value = setting.value === null ? 'none' : unit === 'ms' ? `${setting.value} ms` : formatBytes(setting.value);
  return `${controller} ${name}: ${value} (${setting.source})`;
}
