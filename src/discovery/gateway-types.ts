// The Gateway API objects hopwatch reads (gateway.networking.k8s.io, standard channel), as plain JSON:
// client-node has no typed models for CRDs, so the informers hand them over as the API server sent
// them (timestamps are strings). Only the fields discovery reads are named; everything is optional
// because a CRD object is only as complete as whoever wrote it.

/** The Gateway API group. */
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

/** metadata of a Gateway API object. */
export interface GatewayMeta {
  /** Name. */
  name?: string;
  /** Namespace (absent for GatewayClass). */
  namespace?: string;
  /** Generation (status conditions name the one they were computed for). */
  generation?: number;
  /** RFC 3339 creation time (route precedence). */
  creationTimestamp?: string | Date;
  /** Labels. */
  labels?: Record<string, string>;
  /** Annotations (hopwatch.io/*). */
  annotations?: Record<string, string>;
}

/** A status condition. */
export interface GatewayCondition {
  /** Type (Accepted, Programmed, ResolvedRefs, ...). */
  type?: string;
  /** "True", "False" or "Unknown". */
  status?: string;
  /** Reason (CamelCase). */
  reason?: string;
  /** Message. */
  message?: string;
}

/** gateway.networking.k8s.io/v1 GatewayClass. */
export interface GatewayClassObject {
  /** metadata. */
  metadata?: GatewayMeta;
  /** spec. */
  spec?: { controllerName?: string };
}

/** One listener of a Gateway. */
export interface ListenerSpec {
  /** Listener name (a parentRef's sectionName). */
  name?: string;
  /** Port. */
  port?: number;
  /** HTTP, HTTPS, TLS, TCP, UDP. */
  protocol?: string;
  /** Hostname it accepts; absent: any. */
  hostname?: string;
  /** Which routes may attach. */
  allowedRoutes?: { namespaces?: { from?: string; selector?: { matchLabels?: Record<string, string> } } };
}

/** gateway.networking.k8s.io/v1 Gateway. */
export interface GatewayObject {
  /** metadata. */
  metadata?: GatewayMeta;
  /** spec. */
  spec?: { gatewayClassName?: string; listeners?: ListenerSpec[] };
  /** status. */
  status?: {
    addresses?: { type?: string; value?: string }[];
    conditions?: GatewayCondition[];
    listeners?: { name?: string; attachedRoutes?: number; conditions?: GatewayCondition[] }[];
  };
}

/** A parentRef of a route. */
export interface ParentRef {
  /** Group, default gateway.networking.k8s.io. */
  group?: string;
  /** Kind, default Gateway. */
  kind?: string;
  /** Namespace, default the route's. */
  namespace?: string;
  /** Name. */
  name?: string;
  /** Listener name. */
  sectionName?: string;
  /** Listener port. */
  port?: number;
}

/** A header or query parameter match. */
export interface ValueMatch {
  /** Exact (default) or RegularExpression. */
  type?: string;
  /** Name. */
  name?: string;
  /** Value. */
  value?: string;
}

/** One match of an HTTPRoute rule. */
export interface HttpRouteMatch {
  /** Path match; default PathPrefix "/". */
  path?: { type?: string; value?: string };
  /** Header matches. */
  headers?: ValueMatch[];
  /** Query parameter matches. */
  queryParams?: ValueMatch[];
  /** HTTP method. */
  method?: string;
}

/** A path modifier of RequestRedirect or URLRewrite. */
export interface PathModifier {
  /** ReplaceFullPath or ReplacePrefixMatch. */
  type?: string;
  /** The new path. */
  replaceFullPath?: string;
  /** The new prefix. */
  replacePrefixMatch?: string;
}

/** A header modifier. */
export interface HeaderModifier {
  /** Headers set. */
  set?: { name?: string; value?: string }[];
  /** Headers added. */
  add?: { name?: string; value?: string }[];
  /** Headers removed. */
  remove?: string[];
}

/** An HTTPRoute filter. */
export interface HttpRouteFilter {
  /** Type. */
  type?: string;
  /** RequestHeaderModifier. */
  requestHeaderModifier?: HeaderModifier;
  /** RequestRedirect. */
  requestRedirect?: { scheme?: string; hostname?: string; port?: number; statusCode?: number; path?: PathModifier };
  /** URLRewrite. */
  urlRewrite?: { hostname?: string; path?: PathModifier };
}

/** A backendRef. */
export interface BackendRef {
  /** Group; "" for core. */
  group?: string;
  /** Kind; default Service. */
  kind?: string;
  /** Name. */
  name?: string;
  /** Namespace; default the route's. */
  namespace?: string;
  /** Port. */
  port?: number;
  /** Weight; default 1. */
  weight?: number;
}

/** One HTTPRoute rule. */
export interface HttpRouteRule {
  /** Matches; default one PathPrefix "/". */
  matches?: HttpRouteMatch[];
  /** Filters. */
  filters?: HttpRouteFilter[];
  /** Backends. */
  backendRefs?: BackendRef[];
  /** Timeouts (Gateway API durations: "1s", "500ms", "1h"). */
  timeouts?: { request?: string; backendRequest?: string };
}

/** The status one implementation wrote for one parentRef. */
export interface RouteParentStatus {
  /** The parentRef. */
  parentRef?: ParentRef;
  /** The implementation. */
  controllerName?: string;
  /** Accepted, ResolvedRefs, ... */
  conditions?: GatewayCondition[];
}

/** gateway.networking.k8s.io/v1 HTTPRoute. */
export interface HttpRouteObject {
  /** metadata. */
  metadata?: GatewayMeta;
  /** spec. */
  spec?: { parentRefs?: ParentRef[]; hostnames?: string[]; rules?: HttpRouteRule[] };
  /** status. */
  status?: { parents?: RouteParentStatus[] };
}

/** gateway.networking.k8s.io/v1 GRPCRoute (listed; shown as not probeable). */
export interface GrpcRouteObject {
  /** metadata. */
  metadata?: GatewayMeta;
  /** spec. */
  spec?: { parentRefs?: ParentRef[]; hostnames?: string[]; rules?: { backendRefs?: BackendRef[] }[] };
  /** status. */
  status?: { parents?: RouteParentStatus[] };
}

/** gateway.networking.k8s.io ReferenceGrant (v1 or v1beta1). */
export interface ReferenceGrantObject {
  /** metadata. */
  metadata?: GatewayMeta;
  /** spec. */
  spec?: { from?: { group?: string; kind?: string; namespace?: string }[]; to?: { group?: string; kind?: string; name?: string }[] };
}
