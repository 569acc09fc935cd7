// The spine of hopwatch: routes, hops, results and verdicts. Imports nothing.
//
// Everything here is plain data (JSON-serialisable), so the same values flow
// from discovery through planning, probing and classification into the store,
// the API and the CLI without conversion.

/** The hops a user's request crosses, from the outside in. */
export type HopKind = 'dns' | 'edge' | 'controller' | 'service' | 'pod';

/** Every hop kind, outermost first. */
export const HOP_KINDS: readonly HopKind[] = ['dns', 'edge', 'controller', 'service', 'pod'];

/** Where a verdict places a failure: a hop, or the objects (`config`) or the network between hops. */
export type VerdictHop = HopKind | 'config' | 'network';

/** Ingress path matching, as in networking.k8s.io/v1. */
export type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';

/** Reference to a Kubernetes object by namespace and name. */
export interface ObjectRef {
  /** Namespace of the object. */
  namespace: string;
  /** Name of the object. */
  name: string;
}

/** One port of a Service. */
export interface ServicePortFacts {
  /** Port name, null when unnamed. */
  name: string | null;
  /** The Service port (what the ClusterIP listens on). */
  port: number;
  /** targetPort: a container port number or a container port name. */
  targetPort: number | string;
  /** L4 protocol, TCP unless stated. */
  protocol: string;
  /** spec.ports[].appProtocol, null when unset. */
  appProtocol: string | null;
}

/** What hopwatch knows about a Service. */
export interface ServiceFacts extends ObjectRef {
  /** spec.type. */
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** spec.clusterIP; null for ExternalName or headless ("None"). */
  clusterIP: string | null;
  /** spec.externalName for ExternalName Services. */
  externalName: string | null;
  /** spec.ports. */
  ports: ServicePortFacts[];
  /** spec.selector; empty when the Service has none. */
  selector: Record<string, string>;
}

/** One container port declared on a Pod. */
export interface ContainerPortFacts {
  /** Port name, null when unnamed. */
  name: string | null;
  /** containerPort. */
  port: number;
  /** L4 protocol. */
  protocol: string;
}

/** What hopwatch knows about a Pod. */
export interface PodFacts extends ObjectRef {
  /** status.podIP, null before scheduling. */
  ip: string | null;
  /** status.phase. */
  phase: string;
  /** The Ready condition. */
  ready: boolean;
  /** Sum of container restart counts. */
  restarts: number;
  /** A waiting or terminated reason of a container (CrashLoopBackOff, Error, ...), null when running. */
  stateReason: string | null;
  /** Every container port declared by every container. */
  containerPorts: ContainerPortFacts[];
  /** metadata.labels. */
  labels: Record<string, string>;
  /** The pod-template-hash label, null when absent. */
  templateHash: string | null;
  /** Name of the owning ReplicaSet, null when not owned by one. */
  replicaSet: string | null;
  /** Pod is being deleted (metadata.deletionTimestamp set). */
  terminating: boolean;
  /** A short description of the readiness probe (e.g. "http-get :8080/healthz"), null when none. */
  readinessProbe: string | null;
}

/** One backend address of a Service, from its EndpointSlices. */
export interface EndpointFacts {
  /** The endpoint IP. */
  address: string;
  /** The resolved target port for the route's Service port. */
  port: number;
  /** conditions.ready (unset counts as ready, as in Kubernetes). */
  ready: boolean;
  /** conditions.serving. */
  serving: boolean;
  /** conditions.terminating. */
  terminating: boolean;
  /** The Pod behind the endpoint (targetRef), null when none. */
  pod: ObjectRef | null;
}

/** A NetworkPolicy that selects the route's backend pods, reduced to what classification needs. */
export interface PolicyFacts extends ObjectRef {
  /** True when the policy admits ingress from the controller's pods to the backend port. */
  admitsController: boolean;
  /** True when the policy admits ingress from hopwatch itself (when hopwatch's own location is known). */
  admitsProber: boolean | null;
}

/** Which kind of ingress controller serves a class; keys the controller knowledge table. */
export type ControllerKind =
  | 'ingress-nginx'
  | 'haproxy'
  | 'traefik'
  | 'contour'
  | 'kong'
  | 'envoy-gateway'
  | 'nginx-gateway-fabric'
  | 'istio'
  | 'kgateway'
  | 'cilium'
  | 'generic';

/** A controller pod that hopwatch probes directly. */
export interface ControllerPodFacts extends ObjectRef {
  /** The pod IP. */
  ip: string | null;
  /** The Ready condition. */
  ready: boolean;
}

/** The controller that serves a route. */
export interface ControllerFacts {
  /** IngressClass name it serves. */
  ingressClass: string;
  /** Kind of controller (decides defaults: how it reaches backends, timeouts, buffers). */
  kind: ControllerKind;
  /** How it reaches backends: pod endpoints directly, or the Service ClusterIP. */
  upstream: 'endpoints' | 'service';
  /** The address users hit (http), e.g. http://203.0.113.10:80; null when unknown. */
  edge: string | null;
  /** The address users hit over TLS, null when unknown. */
  edgeHttps: string | null;
  /** Port the controller pods serve plain HTTP on. */
  httpPort: number;
  /** Port the controller pods serve HTTPS on. */
  httpsPort: number;
  /** The controller's pods. */
  pods: ControllerPodFacts[];
  /** Controller-wide settings that differ from the kind's defaults (config `controllers[].settings`); absent: the defaults. */
  settings?: ControllerSettingsOverrides;
}

/**
 * Controller-wide settings that differ from the kind's defaults (an ingress-nginx ConfigMap, a HAProxy
 * defaults section, ...). Each absent field keeps the default of the controller knowledge table
 * (src/classify/knowledge.ts); Ingress annotations still override them per route.
 */
export interface ControllerSettingsOverrides {
  /** Upstream connect timeout (ingress-nginx proxy-connect-timeout, HAProxy timeout connect). */
  connectTimeoutMs?: number;
  /** Longest wait for the upstream's response headers (ingress-nginx proxy-read-timeout, HAProxy timeout server). */
  readTimeoutMs?: number;
  /** Largest upstream response header block accepted (ingress-nginx proxy-buffer-size, HAProxy bufsize - maxrewrite). */
  proxyBufferBytes?: number;
  /** How long idle upstream keep-alive connections are kept for reuse; 0: upstream connections are never reused. */
  upstreamKeepaliveTimeoutMs?: number;
}

/** Per-route settings read from hopwatch.io/* annotations. */
export interface RouteProbeSettings {
  /** Path to request (hopwatch.io/probe-path, else the route's path). */
  path: string;
  /** Host header and SNI to send; wildcard hosts get a concrete label. */
  hostHeader: string | null;
  /** Expected status codes (hopwatch.io/expect-status), null for the default rule. */
  expectStatus: number[] | null;
  /** hopwatch.io/ignore: discovered but never probed. */
  ignore: boolean;
  /** hopwatch.io/schedule override, null for the default. */
  schedule: string | null;
  /** Request method to send (an HTTPRoute method match); absent: GET. */
  method?: string;
  /** Request headers to send (an HTTPRoute header match); absent: none. */
  headers?: Record<string, string>;
  /** The path the backend pods receive when the proxy rewrites it (HTTPRoute URLRewrite); absent: `path`. */
  backendPath?: string;
  /** The headers the backend pods receive (the proxy's header modifiers applied to `headers`); absent: `headers`. */
  backendHeaders?: Record<string, string>;
  /** The Host header the backend pods receive (URLRewrite hostname); absent: `hostHeader`. */
  backendHost?: string;
}

/** One status condition an implementation wrote (Accepted, ResolvedRefs, Programmed). */
export interface ConditionFacts {
  /** "True", "False" or "Unknown". */
  status: string;
  /** The reason (NoMatchingListenerHostname, RefNotPermitted, ...). */
  reason: string;
  /** The message. */
  message: string;
}

/** What a route from an HTTPRoute knows about its Gateway and the status written for it. */
export interface GatewayRouteFacts {
  /** The Gateway's GatewayClass, null when the Gateway does not exist. */
  gatewayClass: string | null;
  /** The GatewayClass's controllerName, null when unknown. */
  controllerName: string | null;
  /** True when the Gateway object exists. */
  gatewayFound: boolean;
  /** The route's Accepted condition for this parent, null when no implementation wrote one. */
  accepted: ConditionFacts | null;
  /** The route's ResolvedRefs condition for this parent, null when none was written. */
  resolvedRefs: ConditionFacts | null;
  /** The Gateway's Programmed condition, null when none was written. */
  programmed: ConditionFacts | null;
  /** The Gateway's status.addresses. */
  addresses: string[];
  /** The listener's protocol (HTTP, HTTPS). */
  listenerProtocol: string;
  /** The rule's timeouts as written ("1s"), null when unset. */
  timeouts: { request: string | null; backendRequest: string | null };
  /** The route that wins this host and match when this one loses (HTTPRoute precedence), null when none. */
  conflictWinner: string | null;
}

/** The kind of routing object a route comes from (its front door); GRPCRoute routes are listed, not probed. */
export type RouteKind = 'Ingress' | 'HTTPRoute' | 'GRPCRoute';

/** What a route hangs off: the IngressClass (and its controller) of an Ingress, or a Gateway listener of an HTTPRoute. */
export interface RouteParent {
  /** IngressClass for Ingress routes, Gateway for HTTPRoute routes. */
  kind: 'IngressClass' | 'Gateway';
  /** Namespace of the Gateway; null for an IngressClass (cluster-scoped). */
  namespace: string | null;
  /** Name of the IngressClass or Gateway (null-free: "" when an Ingress has no class). */
  name: string;
  /** The Gateway listener's name (parentRef sectionName, or the listener that accepted the route); null for Ingress. */
  sectionName: string | null;
  /** The Gateway listener's port; null for Ingress. */
  port: number | null;
}

/** A request that selects a backend regardless of weight (ingress-nginx canary-by-header / canary-by-cookie). */
export interface BackendSelector {
  /** A request header and the value that selects the backend ("always" when no value is configured). */
  header: { name: string; value: string } | null;
  /** A cookie and the value that selects the backend ("always"). */
  cookie: { name: string; value: string } | null;
}

/**
 * One weighted backend of a route: a Service port, how much of the route's traffic it gets,
 * and everything discovery knows behind it.
 */
export interface Backend {
  /** Stable key within the route: "namespace/service:port". */
  key: string;
  /** The backend as written in the routing object: the Service's namespace and name, the port by number or name. */
  ref: { namespace: string; service: string; port: number | string };
  /** The relative weight as the controller applies it (an Ingress without canaries: 100; a backendRef: its weight, default 1). */
  weight: number;
  /** This backend's share of the route's traffic by weight, 0..1 (0 for a header/cookie-only canary). */
  share: number;
  /** primary: the route's own (first) backend; canary: a canary Ingress's, or another backendRef. */
  role: 'primary' | 'canary';
  /** The routing object that contributes this backend (a canary Ingress names itself here). */
  source: { kind: RouteKind; namespace: string; name: string };
  /** A request that selects this backend regardless of weight, null when none. */
  selector: BackendSelector | null;
  /** Why the backend cannot be used as written (a resource backend, a ref not permitted), null when it can. */
  problem: string | null;
  /** The backend Service, null when it does not exist. */
  service: ServiceFacts | null;
  /** The Service port the backend names, null when the Service has no such port. */
  servicePort: ServicePortFacts | null;
  /** Endpoints of the Service port (ready and not ready). */
  endpoints: EndpointFacts[];
  /** Pods the Service selector matches. */
  pods: PodFacts[];
  /** NetworkPolicies that select the backend pods. */
  policies: PolicyFacts[];
}

/** One host+path of one routing object, with its weighted backends and everything discovery knows about them. */
export interface Route {
  /** Stable id: derived from namespace, ingress, host and path. */
  id: string;
  /** The kind of routing object that defines the route. */
  kind: RouteKind;
  /** Namespace of the routing object. */
  namespace: string;
  /** Name of the routing object (the Ingress or the HTTPRoute). */
  name: string;
  /** Name of the Ingress (kept for scripts that read it; equals name for Ingress routes, and the HTTPRoute's name for HTTPRoute routes). */
  ingress: string;
  /** The IngressClass or Gateway listener the route hangs off, null when an Ingress has no class. */
  parent: RouteParent | null;
  /** Every backend of the route with its weight, primary first. */
  backends: Backend[];
  /** Resolved IngressClass (spec.ingressClassName, the annotation, or the default class), null when none; for HTTPRoute routes the Gateway's GatewayClass. */
  ingressClass: string | null;
  /** The rule's host, null for a rule without host; may be a wildcard (*.example.com). */
  host: string | null;
  /** The path ("/" for a default backend). */
  path: string;
  /** The path type. */
  pathType: PathType;
  /** True when the host is covered by the Ingress's spec.tls. */
  tls: boolean;
  /** True when this route is the Ingress's spec.defaultBackend. */
  defaultBackend: boolean;
  /** Probe settings from annotations. */
  probe: RouteProbeSettings;
  /** Why the route cannot be probed (e.g. a regex path without probe-path), null when it can. */
  notProbeable: string | null;
  /** The controller serving the route's class, null when no configured controller serves it. */
  controller: ControllerFacts | null;
  /** Ingress status.loadBalancer addresses (IP or hostname). */
  loadBalancer: string[];
  /** Ingress annotations (all of them; the classifier reads controller-specific ones). */
  annotations: Record<string, string>;
  /** For HTTPRoute routes: the Gateway and the status written for the route; absent for Ingress routes. */
  gateway?: GatewayRouteFacts;
  /** Another routing object wins this route's host and path on the same controller (absent when none does). */
  conflict?: RouteConflict;
}

/** The routing object that wins a host and path this route also claims, and the controller's rule that makes it win. */
export interface RouteConflict {
  /** The winner, "namespace/name" of its Ingress. */
  winner: string;
  /** The rule the controller applies, with its source, for evidence. */
  rule: string;
  /** Why the winner wins here, e.g. "created 2026-01-01T00:00:00Z, before this one (2026-01-02T00:00:00Z)". */
  because: string;
}

/** Stable error codes of a failed hop. */
export type ErrorCode =
  | 'refused' // connection refused
  | 'reset' // connection reset or closed before a complete response
  | 'timeout' // no response headers before the deadline
  | 'connect-timeout' // no TCP connection before the deadline
  | 'tls' // TLS handshake failed, or TLS spoken to a plain-HTTP peer or the reverse
  | 'dns' // the name did not resolve
  | 'protocol' // the peer answered with something that is not HTTP/1.x
  | 'headers-too-large' // the response header block exceeded the client's limit
  | 'unreachable' // hopwatch cannot reach this address from where it runs (not a failure of the route)
  | 'other'; // anything else, with the detail in errorDetail

/** Phase timings of one request in milliseconds; a phase that did not happen is absent. */
export interface Phases {
  /** Name resolution (dns hops, or an edge given by name). */
  dnsMs?: number;
  /** TCP connect. */
  connectMs?: number;
  /** TLS handshake. */
  tlsMs?: number;
  /** From request start to the first byte of the response headers. */
  ttfbMs?: number;
  /** From start to the end of the body or the failure. */
  totalMs: number;
}

/** Which component produced a response, recognised from body and headers. */
export type Generator = 'nginx' | 'envoy' | 'haproxy' | 'traefik' | 'kong' | 'aws-alb' | 'gcp-lb' | 'cloud-lb' | 'upstream';

/** Where and how one hop was probed. */
export interface HopTarget {
  /** The hop kind. */
  hop: HopKind;
  /** What was dialled: "ip:port", or the DNS name for dns hops. */
  target: string;
  /** The IP or name dialled. */
  address: string;
  /** The port dialled (53-style for dns hops: the DNS server port). */
  port: number;
  /** http or https (dns for dns hops). */
  scheme: 'http' | 'https' | 'dns';
  /** namespace/name of the controller or backend pod, null for edge, service and dns hops. */
  pod: string | null;
  /** Endpoint readiness for pod hops, null otherwise. */
  ready: boolean | null;
  /** Endpoint terminating condition for pod hops, null otherwise. */
  terminating: boolean | null;
  /**
   * The key of the backend (Backend.key) a dns, service or pod hop belongs to; for an edge or
   * controller hop, the backend its request selects by header or cookie; null for the plain front
   * request (absent in results stored before backends existed: read as null).
   */
  backend?: string | null;
}

/** What to send to every HTTP hop of a route. */
export interface HopRequest {
  /** Host header (and SNI for https), null to send the target address. */
  host: string | null;
  /** Request path including query. */
  path: string;
  /** Per-hop deadline. */
  timeoutMs: number;
  /** Request method; absent: GET. */
  method?: string;
  /** Extra request headers (a header match of the route, the header or cookie that selects a canary backend); absent: none. */
  headers?: Record<string, string>;
}

/** A planned hop: where to send and what. */
export interface PlannedHop extends HopTarget {
  /** The request for HTTP hops; for dns hops, host is the name to resolve. */
  request: HopRequest;
  /** The DNS server for dns hops ("ip:port"), null for the system resolver. */
  dnsServer: string | null;
}

/** The outcome of probing one hop. Failures of the probed thing are data, never exceptions. */
export interface HopResult extends HopTarget {
  /** HTTP status, null when no response arrived (and for dns hops). */
  status: number | null;
  /** Stable error code, null when a response arrived (or the name resolved). */
  error: ErrorCode | null;
  /** Human detail of the error (the underlying code and message), null when none. */
  errorDetail: string | null;
  /** Phase timings. */
  timings: Phases;
  /** Response body bytes read. */
  bytes: number;
  /** Size of the response header block in bytes (status line and headers). */
  headerBytes: number;
  /** A few response headers: server, via, x-envoy-*, content-type. */
  headers: Record<string, string>;
  /** Which component generated the response, when recognised; 'upstream' for the app's own answer. */
  generator: Generator | null;
  /** Resolved addresses for dns hops. */
  addresses: string[];
}

/** Overall state of a route. */
export type VerdictStatus = 'ok' | 'degraded' | 'failing' | 'unknown';

/** Stable cause ids (DESIGN.md "Causes"). */
export type Cause =
  | 'ok'
  | 'config.service-missing'
  | 'config.port-mismatch'
  | 'config.no-endpoints'
  | 'config.no-controller'
  | 'pod.refused'
  | 'pod.crashloop'
  | 'pod.timeout'
  | 'pod.reset'
  | 'pod.app-error'
  | 'pod.headers-too-large'
  | 'pod.protocol-mismatch'
  | 'pod.keepalive-race'
  | 'service.unreachable'
  | 'controller.error'
  | 'controller.replica-divergence'
  | 'edge.error'
  | 'dns.failure'
  | 'network.blocked'
  | 'rollout.drain'
  | 'config.route-conflict'
  | 'config.route-not-accepted'
  | 'config.ref-not-permitted'
  | 'config.gateway-not-programmed'
  | 'route.not-probeable'
  | 'route.unexplained';

/** Every cause id, for validation and documentation. */
export const CAUSES: readonly Cause[] = [
  'ok',
  'config.service-missing',
  'config.port-mismatch',
  'config.no-endpoints',
  'config.no-controller',
  'pod.refused',
  'pod.crashloop',
  'pod.timeout',
  'pod.reset',
  'pod.app-error',
  'pod.headers-too-large',
  'pod.protocol-mismatch',
  'pod.keepalive-race',
  'service.unreachable',
  'controller.error',
  'controller.replica-divergence',
  'edge.error',
  'dns.failure',
  'network.blocked',
  'rollout.drain',
  'config.route-conflict',
  'config.route-not-accepted',
  'config.ref-not-permitted',
  'config.gateway-not-programmed',
  'route.not-probeable',
  'route.unexplained',
];

/** The answer for one route in one round. */
export interface Verdict {
  /** ok, degraded, failing or unknown. */
  status: VerdictStatus;
  /** The hop where the failure starts, null when ok. */
  hop: VerdictHop | null;
  /** The stable cause id. */
  cause: Cause;
  /** One line for humans. */
  summary: string;
  /** Lines naming the pods, ports, objects and results that prove the cause. */
  evidence: string[];
}

/** One route probed once: every hop's result and the verdict. */
export interface RouteRound {
  /** The route as discovered at probe time. */
  route: Route;
  /** When the round started (ms since epoch). */
  startedAt: number;
  /** Wall time of the round. */
  durationMs: number;
  /** Every hop's result, in plan order. */
  hops: HopResult[];
  /** The classification. */
  verdict: Verdict;
  /** What the extra diagnostic requests learned about the backend pods (absent when none ran). */
  diagnoses?: PodDiagnosis[];
}

/** How long a pod keeps an idle keep-alive connection open, as measured by holding one. */
export type IdleTimeoutMeasure =
  /** The pod closed the idle connection this long after its response ended. */
  | { kind: 'closed'; afterMs: number }
  /** The connection was still open when the measurement stopped. */
  | { kind: 'open'; atLeastMs: number }
  /** The pod does not keep connections alive (Connection: close, HTTP/1.0, or a body delimited by close). */
  | { kind: 'no-keepalive' }
  /** The pod announced its idle timeout in a `Keep-Alive: timeout=N` response header (no measurement needed). */
  | { kind: 'announced'; afterMs: number }
  /** Not measured: the pod announces nothing and this caller does not hold idle connections (a one-shot `probe`). */
  | { kind: 'not-measured' };

/** The protocol a backend pod was found to speak on its target port. */
export type PeerProtocol = 'http1' | 'tls' | 'h2c';

/** What extra diagnostic requests (src/probe/diagnose.ts) learned about one backend pod. */
export interface PodDiagnosis {
  /** The pod hop's target, "ip:port". */
  target: string;
  /** namespace/name of the pod, null when the endpoint names none. */
  pod: string | null;
  /** The pod's keep-alive idle timeout, null when not measured (or the measurement is still running). */
  idleTimeout: IdleTimeoutMeasure | null;
  /** The protocol an alternative request succeeded with, null when none was tried or none succeeded. */
  protocol: PeerProtocol | null;
}
