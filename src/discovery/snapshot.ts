// The Kubernetes objects discovery works from: what the informers hold at one moment.

import type {
  V1Deployment,
  V1EndpointSlice,
  V1Ingress,
  V1IngressClass,
  V1Namespace,
  V1NetworkPolicy,
  V1Pod,
  V1ReplicaSet,
  V1Service,
} from '@kubernetes/client-node';
import type { GatewayClassObject, GatewayObject, GrpcRouteObject, HttpRouteObject, ReferenceGrantObject } from './gateway-types.js';

/** Every object kind hopwatch watches, normalised to client-node's typed form (Date fields are Dates). */
export interface ClusterSnapshot {
  /** networking.k8s.io/v1 Ingress. */
  ingresses: V1Ingress[];
  /** networking.k8s.io/v1 IngressClass. */
  ingressClasses: V1IngressClass[];
  /** v1 Service. */
  services: V1Service[];
  /** discovery.k8s.io/v1 EndpointSlice. */
  endpointSlices: V1EndpointSlice[];
  /** v1 Pod. */
  pods: V1Pod[];
  /** networking.k8s.io/v1 NetworkPolicy. */
  networkPolicies: V1NetworkPolicy[];
  /** v1 Namespace (for namespaceSelector). */
  namespaces: V1Namespace[];
  /** apps/v1 ReplicaSet (rollouts). */
  replicaSets: V1ReplicaSet[];
  /** apps/v1 Deployment (rollouts). */
  deployments: V1Deployment[];
  /** gateway.networking.k8s.io/v1 GatewayClass (empty while the Gateway API is not installed). */
  gatewayClasses: GatewayClassObject[];
  /** gateway.networking.k8s.io/v1 Gateway. */
  gateways: GatewayObject[];
  /** gateway.networking.k8s.io/v1 HTTPRoute. */
  httpRoutes: HttpRouteObject[];
  /** gateway.networking.k8s.io/v1 GRPCRoute. */
  grpcRoutes: GrpcRouteObject[];
  /** gateway.networking.k8s.io ReferenceGrant (v1, else v1beta1). */
  referenceGrants: ReferenceGrantObject[];
}

/** A snapshot with no objects. */
export function emptySnapshot(): ClusterSnapshot {
  return {
    ingresses: [],
    ingressClasses: [],
    services: [],
    endpointSlices: [],
    pods: [],
    networkPolicies: [],
    namespaces: [],
    replicaSets: [],
    deployments: [],
    gatewayClasses: [],
    gateways: [],
    httpRoutes: [],
    grpcRoutes: [],
    referenceGrants: [],
  };
}
