// Plain-data descriptions of a lab scenario and of the faults the lab can stage.

import type { GwHttpRoute, GwListener, GwReferenceGrant } from './gateway-api.js';

/** How a lab pod misbehaves; switchable at run time. */
export type PodFault =
  | { mode: 'healthy' }
  /** Nothing listens on pod IP:port (connection refused). */
  | { mode: 'refuse' }
  /** Listens on 127.0.0.1 only, so the pod IP refuses. */
  | { mode: 'loopback-only' }
  /** Answers every request with this status (e.g. 500). */
  | { mode: 'status'; status: number }
  /** Waits delayMs before sending response headers. */
  | { mode: 'slow'; delayMs: number }
  /** Accepts, reads the request, closes the connection before any header (FIN). */
  | { mode: 'close' }
  /** Accepts, reads the request, resets the connection (RST) before any header. */
  | { mode: 'reset' }
  /** Answers 200 with extra response headers adding up to about `bytes` bytes. */
  | { mode: 'large-headers'; bytes: number }
  /** Speaks TLS only (self-signed), HTTP/1.1 inside. */
  | { mode: 'tls' }
  /** Speaks HTTP/2 cleartext with prior knowledge only. */
  | { mode: 'h2c' }
  /** Healthy, but closes idle keep-alive connections after idleMs. */
  | { mode: 'keepalive'; idleMs: number }
  /** The container keeps crashing: not listening, Pod not ready, restarts growing, CrashLoopBackOff. */
  | { mode: 'crashloop' }
  /**
   * The app is itself a reverse proxy (nginx in the pod) whose own upstream fails: it answers nginx's
   * own error page for that status (502 Bad Gateway, 504 Gateway Time-out) with Server: nginx, byte for
   * byte as nginx writes it (ngx_http_special_response.c).
   */
  | { mode: 'proxy-error'; status: 502 | 503 | 504 }
  /** Healthy; the body also lists the names of the request headers the client sent (an echo app), so a header a proxy dropped shows. */
  | { mode: 'echo' };

/** A Deployment of lab pods (HTTP servers on their own loopback IPs). */
export interface AppSpec {
  /** Namespace. */
  namespace: string;
  /** Deployment name. */
  name: string;
  /** Number of pods. */
  replicas: number;
  /** Pod labels; default { app: name }. */
  labels?: Record<string, string>;
  /** The container port the app serves on; default 8080. */
  containerPort?: number;
  /** The container port's name; default "http". */
  portName?: string;
  /** Fault for every pod; default healthy. */
  fault?: PodFault;
  /** Per-pod faults by pod index, overriding `fault`. */
  podFaults?: Record<number, PodFault>;
  /** Declare an HTTP readiness probe on the container port (pods that fail it are not ready). */
  readinessProbe?: boolean;
  /** Which server the app's answers look like; default 'node'. See AppServer. */
  server?: AppServer;
  /** Per-pod container port numbers by pod index (the same port name on another number), overriding containerPort. */
  podPorts?: Record<number, number>;
}

/**
 * The server an app's answers look like. 'node': Node's http module (announces `Keep-Alive: timeout=5`).
 * 'go': the header set of Go's net/http (text/plain; charset=utf-8, no Server header, keeps the
 * connection alive without announcing an idle timeout, as Go, Python, Java and nginx apps do).
 */
export type AppServer = 'node' | 'go';

/** One port of a lab Service. */
export interface ServicePortSpec {
  /** Port name. */
  name?: string;
  /** The Service port. */
  port: number;
  /** targetPort: number or container port name; default the port. */
  targetPort?: number | string;
  /** spec.ports[].appProtocol. */
  appProtocol?: string;
}

/** A lab Service. ClusterIP Services get an L4 forwarder on their own loopback IP. */
export interface ServiceSpec {
  /** Namespace. */
  namespace: string;
  /** Name. */
  name: string;
  /** Selector; default { app: name } for ClusterIP services; null: none (endpoints written by hand, see ManualSliceSpec). */
  selector?: Record<string, string> | null;
  /** "None": a headless Service (no ClusterIP, no forwarder; its endpoints are still written). */
  clusterIP?: 'None';
  /** Ports; default one port 80 -> "http". */
  ports?: ServicePortSpec[];
  /** ClusterIP (default) or ExternalName. */
  type?: 'ClusterIP' | 'ExternalName';
  /** Target name for ExternalName. */
  externalName?: string;
}

/** One path of an Ingress rule. */
export interface IngressPathSpec {
  /** Path; default "/". */
  path?: string;
  /** Path type; default Prefix. */
  pathType?: 'Exact' | 'Prefix' | 'ImplementationSpecific';
  /** Backend Service name. */
  service: string;
  /** Backend Service port: number or name. */
  port: number | string;
}

/** A lab Ingress. */
export interface IngressSpec {
  /** Namespace. */
  namespace: string;
  /** Name. */
  name: string;
  /** spec.ingressClassName; default the lab's controller class; null for none. */
  className?: string | null;
  /** Annotations. */
  annotations?: Record<string, string>;
  /** Rules. */
  rules?: { host?: string; paths: IngressPathSpec[] }[];
  /** spec.defaultBackend. */
  defaultBackend?: { service: string; port: number | string };
  /** spec.tls hosts. */
  tls?: { hosts: string[]; secretName?: string }[];
}

/** A NetworkPolicy, written as the Kubernetes object's spec. */
export interface NetworkPolicySpec {
  /** Namespace. */
  namespace: string;
  /** Name. */
  name: string;
  /** networking.k8s.io/v1 NetworkPolicySpec, as JSON. */
  spec: Record<string, unknown>;
}

/** The ingress controllers of the lab. */
export interface ControllerSpec {
  /** Number of controller pods (separate nginx instances); default 2. */
  replicas?: number;
  /** IngressClass name; default "nginx". */
  ingressClass?: string;
  /** Mark the IngressClass as the cluster default; default true. */
  isDefaultClass?: boolean;
}

/** A Gateway of the lab's Gateway implementation (GatewayClass lab-nginx). */
export interface LabGatewaySpec {
  /** Namespace. */
  namespace: string;
  /** Name. */
  name: string;
  /** Listeners; default one HTTP listener "http" on port 18090 for any hostname. */
  listeners?: GwListener[];
  /** Data-plane replicas (nginx); default 2. */
  replicas?: number;
}

/** An HTTPRoute (gateway.networking.k8s.io/v1). */
export interface HttpRouteSpec {
  /** Namespace. */
  namespace: string;
  /** Name. */
  name: string;
  /** The object's spec. */
  spec: GwHttpRoute['spec'];
}

/** A ReferenceGrant (gateway.networking.k8s.io/v1beta1). */
export interface ReferenceGrantSpec {
  /** Namespace (of the objects referred to). */
  namespace: string;
  /** Name. */
  name: string;
  /** The object's spec. */
  spec: GwReferenceGrant['spec'];
}

/** The Gateway API in the lab: its CRDs installed, the lab's implementation and its objects. */
export interface GatewayApiSpec {
  /** Gateways, each with its own data plane and edge. */
  gateways?: LabGatewaySpec[];
  /** HTTPRoutes. */
  httpRoutes?: HttpRouteSpec[];
  /** ReferenceGrants. */
  referenceGrants?: ReferenceGrantSpec[];
}

/** A hand-written EndpointSlice, as written for a Service without selector (e.g. in front of VMs). */
export interface ManualSliceSpec {
  /** Namespace. */
  namespace: string;
  /** Slice name. */
  name: string;
  /** The Service it belongs to (label kubernetes.io/service-name). */
  service: string;
  /** The slice's ports, as written (a name may be left out). */
  ports: { name?: string; port: number }[];
  /** The app whose pods' addresses are the endpoints (ready as the pods are), without targetRef. */
  app: string;
}

/** A whole lab scenario. */
export interface LabSpec {
  /** Extra namespaces (namespaces used by objects are created anyway). */
  namespaces?: string[];
  /** The ingress controller; default two nginx pods serving class "nginx". */
  controller?: ControllerSpec;
  /** Deployments of lab pods. */
  apps?: AppSpec[];
  /** Services. */
  services?: ServiceSpec[];
  /** Ingresses. */
  ingresses?: IngressSpec[];
  /** NetworkPolicies. */
  networkPolicies?: NetworkPolicySpec[];
  /** Hand-written EndpointSlices (for Services without selector). */
  endpointSlices?: ManualSliceSpec[];
  /** The Gateway API (CRDs, implementation, objects); absent: the cluster has no Gateway API group. */
  gatewayApi?: GatewayApiSpec;
}
