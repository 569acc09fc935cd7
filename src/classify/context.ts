// Pure: what every classification rule sees, and what it returns.

import type { Backend, Cause, HopResult, PodDiagnosis, Route, VerdictHop } from '../model.js';
import type { ControllerSettings } from './knowledge.js';
import type { Layers } from './layers.js';

/** A cause that fits the evidence. */
export interface Finding {
  /** Where the failure starts. */
  hop: VerdictHop;
  /** The stable cause id. */
  cause: Cause;
  /** One line for humans. */
  summary: string;
  /** Lines that prove it. */
  evidence: string[];
}

/** What every rule sees. */
export interface Context {
  /** The route and its facts. */
  route: Route;
  /** The backend this walk judges (the route's only one, or one of its weighted backends). */
  backend: Backend;
  /** The round's results, grouped and judged. */
  layers: Layers;
  /** The settings in effect for the route's controller towards the backend, null without a controller. */
  settings: ControllerSettings | null;
  /** What the extra diagnostic requests learned about the pods. */
  diagnoses: readonly PodDiagnosis[];
  /** When the round started (ms since epoch), null when unknown. */
  at: number | null;
}

/** "pod web-1, pod web-2": the pods (or targets) of some results. */
export function podNames(results: readonly HopResult[]): string {
  return results.map((r) => r.pod ?? r.target).join(', ');
}

/** The most common value of key among the results. */
export function mostCommon<T>(results: readonly HopResult[], key: (r: HopResult) => T): T | undefined {
  const counts = new Map<T, number>();
  for (const r of results) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** The diagnosis of a pod result, when one ran. */
export function diagnosisOf(ctx: Context, result: HopResult): PodDiagnosis | undefined {
  return ctx.diagnoses.find((d) => d.target === result.target && d.pod === result.pod);
}

/** The controller's name for evidence, e.g. "ingress-nginx". */
export function controllerName(ctx: Context): string {
  return ctx.settings?.name ?? 'the ingress controller';
}
