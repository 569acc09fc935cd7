// Pure: what the Gateway API's status and objects say about a route whose probes fail. These are
// static facts (what an implementation wrote, possibly late): classify() consults them only when the
// front fails, so they explain a failure and are never reported alone while the probes pass.
// Routes without Gateway facts (Ingress routes) get null from every function here.

import type { ConditionFacts, GatewayRouteFacts, Route } from '../model.js';
import type { Context, Finding } from './context.js';
import { describeServicePort } from './evidence.js';

/** "HTTPRoute shop/web Accepted=False (NoMatchingListenerHostname: ...)" for evidence. */
function conditionLine(what: string, type: string, condition: ConditionFacts): string {
  const message = condition.message ? `: ${condition.message}` : '';
  return `${what} ${type}=${condition.status} (${condition.reason}${message})`;
}

function routeName(route: Route): string {
  return `HTTPRoute ${route.namespace}/${route.name}`;
}

function gatewayName(route: Route): string {
  return `Gateway ${route.parent?.namespace ?? ''}/${route.parent?.name ?? ''}`;
}

/** The Gateway does not exist, is not programmed, or has no address to reach it by. */
function gatewayNotProgrammed(route: Route, facts: GatewayRouteFacts): Finding | null {
  if (!facts.gatewayFound) {
    return {
      hop: 'config',
      cause: 'config.route-not-accepted',
      summary: `${routeName(route)} names ${gatewayName(route)}, which does not exist`,
      evidence: [`parentRef ${route.parent?.namespace ?? ''}/${route.parent?.name ?? ''} matches no Gateway (NoMatchingParent)`],
    };
  }
  const programmed = facts.programmed;
  if (programmed?.status !== 'False' && facts.addresses.length > 0) return null;
  const evidence = [
    programmed ? conditionLine(gatewayName(route), 'Programmed', programmed) : `${gatewayName(route)} has no Programmed condition`,
    facts.addresses.length === 0 ? `${gatewayName(route)} has no status.addresses: nothing to reach it by` : `${gatewayName(route)} addresses ${facts.addresses.join(', ')}`,
  ];
  return { hop: 'config', cause: 'config.gateway-not-programmed', summary: `${gatewayName(route)} is not programmed: its data plane does not serve it`, evidence };
}

/** The implementation did not accept the route for this parent (the data plane answers 404). */
function routeNotAccepted(route: Route, facts: GatewayRouteFacts): Finding | null {
  const accepted = facts.accepted;
  if (accepted?.status !== 'False') return null;
  return {
    hop: 'config',
    cause: 'config.route-not-accepted',
    summary: `${routeName(route)} is not accepted by ${gatewayName(route)} listener ${route.parent?.sectionName ?? '(any)'}: ${accepted.reason}`,
    evidence: [conditionLine(routeName(route), 'Accepted', accepted)],
  };
}

/** A backendRef into another namespace without a ReferenceGrant (the data plane answers 500). */
function refNotPermitted(route: Route, facts: GatewayRouteFacts): Finding | null {
  const refused = route.backends.filter((b) => b.problem !== null && b.problem.includes('not permitted'));
  const condition = facts.resolvedRefs?.status === 'False' && facts.resolvedRefs.reason === 'RefNotPermitted' ? facts.resolvedRefs : null;
  if (refused.length === 0 && condition === null) return null;
  const shares = refused.map((b) => `${b.ref.namespace}/${b.ref.service}:${b.ref.port} (${Math.round(b.share * 100)} % of the traffic): ${b.problem ?? ''}`);
  return {
    hop: 'config',
    cause: 'config.ref-not-permitted',
    summary: `${routeName(route)} sends to ${refused.map((b) => `Service ${b.ref.namespace}/${b.ref.service}`).join(', ') || 'another namespace'} without a ReferenceGrant permitting it`,
    evidence: [...(condition ? [conditionLine(routeName(route), 'ResolvedRefs', condition)] : []), ...shares],
  };
}

/** A backendRef to a Service that does not exist, with the implementation's BackendNotFound. */
function backendNotFound(route: Route, facts: GatewayRouteFacts): Finding | null {
  const missing = route.backends.filter((b) => b.problem === null && b.service === null);
  if (missing.length === 0) return null;
  const condition = facts.resolvedRefs?.status === 'False' ? facts.resolvedRefs : null;
  return {
    hop: 'config',
    cause: 'config.service-missing',
    summary: `backendRef Service ${missing.map((b) => `${b.ref.namespace}/${b.ref.service}`).join(', ')} does not exist`,
    evidence: [
      ...(condition ? [conditionLine(routeName(route), 'ResolvedRefs', condition)] : []),
      ...missing.map((b) => `Service ${b.ref.namespace}/${b.ref.service} does not exist (${Math.round(b.share * 100)} % of the traffic)`),
    ],
  };
}

/** Another route wins this host and match by the spec's precedence: this one never gets a request. */
function lostPrecedence(route: Route, facts: GatewayRouteFacts): Finding | null {
  if (facts.conflictWinner === null) return null;
  return {
    hop: 'config',
    cause: 'config.route-conflict',
    summary: `${facts.conflictWinner} takes ${route.host ?? '*'}${route.path} on ${gatewayName(route)} before ${routeName(route)} (HTTPRoute precedence: oldest first, then namespace/name)`,
    evidence: [`${routeName(route)} claims the same host and match as ${facts.conflictWinner}, which wins`],
  };
}

/** The Gateway-side fact that explains a failing front, most specific first; null for Ingress routes or when none applies. */
export function gatewayFinding(ctx: Context): Finding | null {
  const facts = ctx.route.gateway;
  if (facts === undefined) return null;
  const route = ctx.route;
  return (
    gatewayNotProgrammed(route, facts) ??
    routeNotAccepted(route, facts) ??
    lostPrecedence(route, facts) ??
    refNotPermitted(route, facts) ??
    backendNotFound(route, facts)
  );
}

/**
 * A route that loses its host and match to another by the spec's precedence, even while the probes pass:
 * what answers is the winner's backends, so this route's own configuration is dead (a derived fact,
 * not a status an implementation may be late to write).
 */
export function conflictFinding(ctx: Context): Finding | null {
  const facts = ctx.route.gateway;
  return facts === undefined ? null : lostPrecedence(ctx.route, facts);
}
