// Pure: a route's status from everything measured in the round, not from which pod the one edge
// request happened to reach. One of three pods answering 500 is the same state whether the edge's
// request hit it (a 500 at the edge) or not (a 200): the share of failing pods (or controller
// replicas) decides, so the same state gives the same status every round.

import type { VerdictStatus } from '../model.js';
import type { Context, Finding } from './context.js';

/**
 * The status of a round whose front failed: 'degraded' when the layer the finding names fails only
 * in part (some in-rotation pods, or some controller replicas, answer), so users fail in that share;
 * 'failing' when it fails as a whole.
 */
export function statusOfFailure(ctx: Context, finding: Finding): VerdictStatus {
  const { layers } = ctx;
  if (finding.hop === 'pod' && layers.pod.state === 'partial') return 'degraded';
  if (finding.cause === 'controller.replica-divergence' && layers.controller.state === 'partial') return 'degraded';
  return 'failing';
}
