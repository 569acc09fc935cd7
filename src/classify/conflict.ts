// Pure: a route whose host and path another routing object wins on the same controller. The
// controller serves the winner; this route's backend gets no traffic whatever it answers, so what the
// front answers for it is the winner's answer. Reported on the loser only, naming the winner and the
// controller's rule (src/discovery/conflicts.ts); the winner is judged as any route.

import type { VerdictStatus } from '../model.js';
import type { Context, Finding } from './context.js';
import { describeResult } from './evidence.js';

/** The conflict finding of a losing route, null when the route wins (or claims its host and path alone). */
export function routeConflict(ctx: Context): Finding | null {
  const conflict = ctx.route.conflict;
  if (conflict === undefined) return null;
  const { route } = ctx;
  const claim = `${route.host ?? '(any host)'}${route.path}`;
  const inside = ctx.layers.pod.all.slice(0, 1).map((r) => `this route's own backend (never reached through the controller): ${describeResult(r)}`);
  return {
    hop: 'config',
    cause: 'config.route-conflict',
    summary: `Ingress ${route.namespace}/${route.ingress} claims ${claim}, which Ingress ${conflict.winner} also claims and wins: the controller serves ${conflict.winner} here`,
    evidence: [`${conflict.winner} wins ${claim}: ${conflict.because}`, conflict.rule, ...inside],
  };
}

/** A losing route fails when users get a failure from the winner's backend, and is degraded otherwise (its backend gets no traffic). */
export function conflictStatus(frontFailed: boolean): VerdictStatus {
  return frontFailed ? 'failing' : 'degraded';
}
