// Pure: routing objects that claim the same host and path on the same controller. The controller
// serves one of them; the others are dead letters whose backends get no traffic. Which one wins is
// the controller's rule, data per controller kind:
// - ingress-nginx: Ingresses are sorted by creationTimestamp, oldest first, and on a tie by
//   "namespace/name" in descending order (internal/ingress/controller/store/store.go
//   sortIngressSlice); building the servers, the first Ingress to add a host's location keeps it and
//   later ones are skipped ("avoiding replacement of ingress rule", controller.go createServers /
//   getBackendServers). Canary Ingresses (nginx.ingress.kubernetes.io/canary: "true") are merged into
//   the main one as weighted backends, not conflicts.
// Other kinds: no rule is known, so no conflict is reported for them.

import type { V1Ingress } from '@kubernetes/client-node';
import type { ControllerKind, Route, RouteConflict } from '../model.js';

/** How a controller kind orders the Ingresses that claim the same host and path: the first wins. */
interface ConflictRule {
  /** The rule, with its source, for evidence. */
  text: string;
}

const RULES: Partial<Record<ControllerKind, ConflictRule>> = {
  'ingress-nginx': {
    text: 'ingress-nginx serves the oldest Ingress (creationTimestamp), on a tie the greater namespace/name, and skips the others (store.go sortIngressSlice, controller.go "avoiding replacement of ingress rule")',
  },
};

/** The annotation that makes an Ingress an ingress-nginx canary of another. */
const CANARY = 'nginx.ingress.kubernetes.io/canary';

interface Claim {
  route: Route;
  key: string;
  created: string;
}

/** The Ingress's creationTimestamp as ISO-8601 ('' when unknown: it sorts first, as the zero time does). */
function createdOf(ingress: V1Ingress | undefined): string {
  const at = ingress?.metadata?.creationTimestamp as unknown;
  if (at instanceof Date) return at.toISOString();
  return typeof at === 'string' ? at : '';
}

/** ingress-nginx's order: older first; on the same instant, greater "namespace/name" first. */
function beforeInNginxOrder(a: Claim, b: Claim): number {
  if (a.created !== b.created) return a.created < b.created ? -1 : 1;
  const [an, bn] = [`${a.route.namespace}/${a.route.ingress}`, `${b.route.namespace}/${b.route.ingress}`];
  return an === bn ? 0 : an > bn ? -1 : 1;
}

/** The claims of routes whose controller has a known rule, grouped by controller class, host and path. */
function claimsByKey(routes: readonly Route[], ingresses: readonly V1Ingress[]): Map<string, Claim[]> {
  const created = new Map(ingresses.map((i) => [`${i.metadata?.namespace ?? 'default'}/${i.metadata?.name ?? ''}`, createdOf(i)]));
  const groups = new Map<string, Claim[]>();
  for (const route of routes) {
    const kind = route.controller?.kind;
    if (kind === undefined || RULES[kind] === undefined || route.defaultBackend || route.annotations[CANARY] === 'true') continue;
    const key = `${route.controller?.ingressClass ?? ''}|${route.host ?? ''}|${route.path}`;
    const claim = { route, key, created: created.get(`${route.namespace}/${route.ingress}`) ?? '' };
    groups.set(key, [...(groups.get(key) ?? []), claim]);
  }
  return groups;
}

/** The routes with `conflict` set on each one that loses its host and path to another Ingress. */
export function markConflicts(routes: readonly Route[], ingresses: readonly V1Ingress[]): Route[] {
  const losers = new Map<string, RouteConflict>();
  for (const claims of claimsByKey(routes, ingresses).values()) {
    const owners = new Set(claims.map((c) => `${c.route.namespace}/${c.route.ingress}`));
    if (owners.size < 2) continue;
    const [winner, ...rest] = [...claims].sort(beforeInNginxOrder);
    if (winner === undefined) continue;
    const rule = RULES[winner.route.controller?.kind ?? 'generic']?.text ?? '';
    for (const loser of rest) {
      if (loser.route.namespace === winner.route.namespace && loser.route.ingress === winner.route.ingress) continue;
      const because = winner.created === loser.created ? `both created ${winner.created || 'at the same instant'}: the names decide` : `created ${winner.created}, before this one (${loser.created})`;
      losers.set(loser.route.id, { winner: `${winner.route.namespace}/${winner.route.ingress}`, rule, because });
    }
  }
  return routes.map((r) => {
    const conflict = losers.get(r.id);
    return conflict === undefined ? r : { ...r, conflict };
  });
}
