// Pure: hop results grouped into layers (dns, edge, controller, service, pod) and judged healthy or not.

import type { HopKind, HopResult, Route } from '../model.js';

/** The state of a layer of hops. */
export type LayerState = 'absent' | 'unknown' | 'ok' | 'partial' | 'failed';

/** The results of one layer, split by judgement. */
export interface Layer {
  /** Every result of the layer. */
  all: HopResult[];
  /** Results judged healthy. */
  ok: HopResult[];
  /** Results judged failing. */
  failed: HopResult[];
  /** Results that say nothing (hopwatch cannot reach the target from where it runs). */
  unknown: HopResult[];
  /** Summary state. */
  state: LayerState;
}

/** Every layer of one route's round. */
export interface Layers {
  /** DNS lookups of the Service name. */
  dns: Layer;
  /** The address users hit. */
  edge: Layer;
  /** Each controller pod. */
  controller: Layer;
  /** The Service ClusterIP (or ExternalName target). */
  service: Layer;
  /** Ready, not terminating endpoints: the pods that get traffic. */
  pod: Layer;
  /** Endpoints that are not ready or terminating: reported apart, they get no traffic. */
  podOutOfRotation: Layer;
  /** What users get: the edge when probed, else the controller pods. */
  front: Layer;
}

/** True when the hop result carries no judgement (the target is unreachable from where hopwatch runs). */
export function isUnknown(result: HopResult): boolean {
  return result.error === 'unreachable';
}

/** The status most pods answered with, null when no pod answered. */
export function podAnswer(results: HopResult[]): number | null {
  const counts = new Map<number, number>();
  for (const r of results) if (r.status !== null) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  let best: number | null = null;
  for (const [status, count] of counts) if (best === null || count > (counts.get(best) ?? 0)) best = status;
  return best;
}

/**
 * Judges one result. Default rule: a response that is not a 5xx; for the edge and the controller,
 * also one that agrees with the pods (a 4xx in front of pods answering < 400 is a routing failure).
 * hopwatch.io/expect-status replaces the rule with its list. Behind a front that answers as
 * expected, a pod or the Service passes the default rule too: the expected answer may be the
 * controller's own (a 401 from its auth annotation, in front of pods that answer 200).
 */
export function isHealthy(result: HopResult, route: Route, pods: number | null, frontAsExpected = false): boolean {
  if (result.error !== null) return false;
  if (result.hop === 'dns') return true;
  const status = result.status;
  if (status === null) return false;
  const front = result.hop === 'edge' || result.hop === 'controller';
  const expected = route.probe.expectStatus;
  if (expected) {
    if (expected.includes(status)) return true;
    if (front || !frontAsExpected) return false;
  }
  if (status >= 500) return false;
  return !(front && status >= 400 && pods !== null && pods < 400);
}

function layerOf(results: HopResult[], route: Route, pods: number | null, frontAsExpected = false): Layer {
  const layer: Layer = { all: results, ok: [], failed: [], unknown: [], state: 'absent' };
  for (const r of results) {
    if (isUnknown(r)) layer.unknown.push(r);
    else if (isHealthy(r, route, pods, frontAsExpected)) layer.ok.push(r);
    else layer.failed.push(r);
  }
  layer.state = stateOf(layer);
  return layer;
}

function stateOf(layer: Layer): LayerState {
  if (layer.all.length === 0) return 'absent';
  const judged = layer.ok.length + layer.failed.length;
  if (judged === 0) return 'unknown';
  if (layer.failed.length === 0) return 'ok';
  return layer.ok.length === 0 ? 'failed' : 'partial';
}

function ofKind(results: HopResult[], hop: HopKind): HopResult[] {
  return results.filter((r) => r.hop === hop);
}

/** Groups and judges a round's results. */
export function layersOf(route: Route, results: HopResult[]): Layers {
  const pods = ofKind(results, 'pod');
  const inRotation = pods.filter((r) => r.ready !== false && r.terminating !== true);
  const outOfRotation = pods.filter((r) => r.ready === false || r.terminating === true);
  const answer = podAnswer(inRotation.filter((r) => !isUnknown(r)));
  const edge = layerOf(ofKind(results, 'edge'), route, answer);
  const controller = layerOf(ofKind(results, 'controller'), route, answer);
  const useEdge = edge.state !== 'absent' && edge.state !== 'unknown';
  const frontAsExpected = route.probe.expectStatus !== null && edge.failed.length === 0 && controller.failed.length === 0 && edge.ok.length + controller.ok.length > 0;
  return {
    dns: layerOf(ofKind(results, 'dns'), route, answer),
    edge,
    controller,
    service: layerOf(ofKind(results, 'service'), route, answer, frontAsExpected),
    pod: layerOf(inRotation, route, answer, frontAsExpected),
    podOutOfRotation: layerOf(outOfRotation, route, answer, frontAsExpected),
    front: useEdge ? edge : controller,
  };
}

/** True when the layer has at least one failing result. */
export function hasFailures(layer: Layer): boolean {
  return layer.state === 'failed' || layer.state === 'partial';
}
