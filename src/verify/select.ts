// Pure: which pods are the canary and which are stable, from a ClusterSnapshot and a Route.
//
// Revision mode: the ReplicaSets of the workload that owns the backend's pods (a Deployment, or an
// Argo Rollout: both own ReplicaSets), newest first by the revision annotation, then creation time.
// The newest one's pods are the canary, the older ones' pods are stable. Selector mode: the pods of
// the route's namespace a label selector matches are the canary; the Service's other pods are stable.
// The choice is fixed when verification starts; the pods are looked up again on every tick.

import { primaryBackend, primaryRef } from '../discovery/backends.js';
import type { V1ObjectMeta, V1ReplicaSet } from '@kubernetes/client-node';
import { podFacts } from '../discovery/pods.js';
import { type LabelSelector, matchesLabels } from '../discovery/selectors.js';
import type { ClusterSnapshot } from '../discovery/snapshot.js';
import type { Backend, ObjectRef, PodFacts, Route } from '../model.js';
import { CannotVerifyError } from './errors.js';
import type { CanarySpec } from './params.js';

/** Annotations carrying a ReplicaSet's revision: the Deployment controller's, then Argo Rollouts'. */
export const REVISION_ANNOTATIONS = ['deployment.kubernetes.io/revision', 'rollout.argoproj.io/revision'] as const;

/** The workload owning ReplicaSets. */
export interface OwnerRef {
  /** Kind of the owner (Deployment, Rollout, ...). */
  kind: string;
  /** Name of the owner (in the route's namespace). */
  name: string;
}

/** How canary and stable pods are told apart; fixed when verification starts. */
export interface CanarySelection {
  /** For humans: "newest ReplicaSet web-7d9 (revision 2) of Deployment shop/web" or "selector track=canary". */
  description: string;
  /** Namespace of the pods. */
  namespace: string;
  /** The owner of the ReplicaSets (revision mode), null in selector mode. */
  owner: OwnerRef | null;
  /** The canary ReplicaSet's name (revision mode), null in selector mode. */
  canaryReplicaSet: string | null;
  /** The canary ReplicaSet's revision, null when it has none or in selector mode. */
  revision: number | null;
  /** The older ReplicaSets' names (revision mode). */
  stableReplicaSets: string[];
  /** The canary selector (selector mode), null in revision mode. */
  selector: LabelSelector | null;
  /** Backend mode: the key of the route's canary backend whose pods are the canary (the primary's are stable); absent or null otherwise. */
  backend?: string | null;
}

/** Canary and stable pods at one moment. */
export interface RolePods {
  /** The canary's pods. */
  canary: PodFacts[];
  /** The stable pods. */
  stable: PodFacts[];
}

/** Chooses the canary for a route; throws CannotVerifyError when there is no owner or no canary pod. */
export function selectCanary(snapshot: ClusterSnapshot, route: Route, canary: CanarySpec, deployment: ObjectRef | null): CanarySelection {
  const namespace = route.namespace;
  const selection = canary.kind === 'selector'
    ? selectorSelection(namespace, canary.text, canary.selector)
    : canary.kind === 'backend'
      ? backendSelection(route, canary.service)
      : (onlyCanaryBackend(route, deployment) ?? revisionSelection(snapshot, route, deployment));
  if (podsByRole(selection, snapshot, route).canary.length === 0) {
    throw new CannotVerifyError('NO_CANARY', `no canary pods: ${selection.description} has no pods in ${namespace}`);
  }
  return selection;
}

/** The route's canary backend by Service name; throws CannotVerifyError naming the backends it has. */
function backendSelection(route: Route, service: string): CanarySelection {
  const [primary, ...others] = route.backends;
  const backend = others.find((b) => b.ref.service === service);
  if (primary === undefined || backend === undefined) {
    const known = others.map((b) => b.ref.service).join(', ') || 'none';
    throw new CannotVerifyError('NO_CANARY', `route ${route.host ?? '*'}${route.path} has no canary backend ${service} (its canary backends: ${known})`);
  }
  return backendMode(route, primary, backend);
}

/** Without a canary named and without a Deployment to wait for, a route with exactly one canary backend verifies that backend. */
function onlyCanaryBackend(route: Route, deployment: ObjectRef | null): CanarySelection | null {
  const [primary, ...others] = route.backends;
  const usable = others.filter((b) => b.problem === null);
  if (deployment !== null || primary === undefined || usable.length !== 1 || usable[0] === undefined) return null;
  return backendMode(route, primary, usable[0]);
}

function backendMode(route: Route, primary: Backend, backend: Backend): CanarySelection {
  const share = `${Math.round(backend.share * 1000) / 10} % by weight${backend.selector?.header ? `, header ${backend.selector.header.name}` : ''}${backend.selector?.cookie ? `, cookie ${backend.selector.cookie.name}` : ''}`;
  return {
    description: `canary backend Service ${backend.ref.namespace}/${backend.ref.service} (${share}; from ${backend.source.kind} ${backend.source.namespace}/${backend.source.name}) against ${primary.ref.service}`,
    namespace: route.namespace, owner: null, canaryReplicaSet: null, revision: null, stableReplicaSets: [], selector: null, backend: backend.key,
  };
}

function selectorSelection(namespace: string, text: string, selector: LabelSelector): CanarySelection {
  return { description: `selector ${text}`, namespace, owner: null, canaryReplicaSet: null, revision: null, stableReplicaSets: [], selector };
}

function revisionSelection(snapshot: ClusterSnapshot, route: Route, deployment: ObjectRef | null): CanarySelection {
  const namespace = route.namespace;
  const owner = deployment ? deploymentOwner(snapshot, deployment) : ownerOfRoutePods(snapshot, route);
  const sets = replicaSetsOf(snapshot, namespace, owner).sort(newestFirst);
  const [newest, ...older] = sets;
  if (!newest) throw new CannotVerifyError('NO_CANARY', `no canary pods: ${owner.kind} ${namespace}/${owner.name} has no ReplicaSet`);
  const name = newest.metadata?.name ?? '';
  const revision = revisionOf(newest);
  const which = revision === null ? '' : ` (revision ${revision})`;
  return {
    description: `newest ReplicaSet ${name}${which} of ${owner.kind} ${namespace}/${owner.name}`,
    namespace,
    owner,
    canaryReplicaSet: name,
    revision,
    stableReplicaSets: older.map((rs) => rs.metadata?.name ?? ''),
    selector: null,
  };
}

function deploymentOwner(snapshot: ClusterSnapshot, ref: ObjectRef): OwnerRef {
  const found = snapshot.deployments.some((d) => d.metadata?.namespace === ref.namespace && d.metadata?.name === ref.name);
  if (!found) throw new CannotVerifyError('NO_DEPLOYMENT', `Deployment ${ref.namespace}/${ref.name} does not exist`);
  return { kind: 'Deployment', name: ref.name };
}

/** The one workload owning the ReplicaSets of the Service's pods. */
function ownerOfRoutePods(snapshot: ClusterSnapshot, route: Route): OwnerRef {
  const service = `Service ${route.namespace}/${primaryRef(route).service}`;
  const pods = primaryBackend(route)?.pods ?? [];
  const names = new Set(pods.map((p) => p.replicaSet).filter((n): n is string => n !== null));
  const owners = new Map<string, OwnerRef>();
  for (const rs of snapshot.replicaSets) {
    if (rs.metadata?.namespace !== route.namespace || !names.has(rs.metadata?.name ?? '')) continue;
    const owner = controllerOf(rs.metadata);
    if (owner) owners.set(`${owner.kind}/${owner.name}`, owner);
  }
  const [only, ...more] = owners.values();
  if (!only) {
    const why = pods.length === 0 ? `${service} selects no pods` : `the pods of ${service} are not owned by ReplicaSets of a Deployment`;
    throw new CannotVerifyError('NO_OWNER', `${why}: give --canary SELECTOR`);
  }
  if (more.length > 0) {
    const list = [only, ...more].map((o) => `${o.kind} ${o.name}`).join(', ');
    throw new CannotVerifyError('NO_OWNER', `the pods of ${service} belong to several workloads (${list}): give --wait-rollout deployment/NAME or --canary SELECTOR`);
  }
  return only;
}

function controllerOf(metadata: V1ObjectMeta | undefined): OwnerRef | null {
  const refs = metadata?.ownerReferences ?? [];
  const ref = refs.find((r) => r.controller === true) ?? refs[0];
  return ref ? { kind: ref.kind, name: ref.name } : null;
}

/** The ReplicaSets a workload controls. */
export function replicaSetsOf(snapshot: ClusterSnapshot, namespace: string, owner: OwnerRef): V1ReplicaSet[] {
  return snapshot.replicaSets.filter((rs) => {
    const controller = controllerOf(rs.metadata);
    return rs.metadata?.namespace === namespace && controller?.kind === owner.kind && controller.name === owner.name;
  });
}

/** A ReplicaSet's revision annotation as a number, null when absent or not a number. */
export function revisionOf(rs: V1ReplicaSet): number | null {
  const annotations = rs.metadata?.annotations ?? {};
  for (const key of REVISION_ANNOTATIONS) {
    const value = annotations[key];
    if (value !== undefined && /^\d+$/.test(value)) return Number(value);
  }
  return null;
}

function createdMs(rs: V1ReplicaSet): number {
  const created: unknown = rs.metadata?.creationTimestamp;
  if (created instanceof Date) return created.getTime();
  return typeof created === 'string' ? Date.parse(created) || 0 : 0;
}

/** Newest first: higher revision, then later creation, then name (for a stable order). */
export function newestFirst(a: V1ReplicaSet, b: V1ReplicaSet): number {
  const byRevision = (revisionOf(b) ?? -1) - (revisionOf(a) ?? -1);
  if (byRevision !== 0) return byRevision;
  const byCreation = createdMs(b) - createdMs(a);
  if (byCreation !== 0) return byCreation;
  return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

/** The canary and stable pods now. Canary pods may be outside the Service (a canary Service, Flagger's primary split). */
export function podsByRole(selection: CanarySelection, snapshot: ClusterSnapshot, route: Route): RolePods {
  const inNamespace = snapshot.pods.filter((p) => p.metadata?.namespace === selection.namespace).map(podFacts);
  const sorted = (pods: PodFacts[]): PodFacts[] => pods.sort((a, b) => a.name.localeCompare(b.name));
  if (selection.backend) {
    // Backend mode: the pods behind the canary backend now, against the primary's.
    const canary = route.backends.find((b) => b.key === selection.backend);
    return { canary: sorted([...(canary?.pods ?? [])]), stable: sorted([...(primaryBackend(route)?.pods ?? [])]) };
  }
  if (selection.selector) {
    const selector = selection.selector;
    return {
      canary: sorted(inNamespace.filter((p) => matchesLabels(selector, p.labels))),
      stable: sorted((primaryBackend(route)?.pods ?? []).filter((p) => !matchesLabels(selector, p.labels))),
    };
  }
  const stableSets = new Set(selection.stableReplicaSets);
  return {
    canary: sorted(inNamespace.filter((p) => p.replicaSet !== null && p.replicaSet === selection.canaryReplicaSet)),
    stable: sorted(inNamespace.filter((p) => p.replicaSet !== null && stableSets.has(p.replicaSet))),
  };
}
