// Pure: controller knowledge as data. One entry per controller kind says how it reaches backends,
// its default timeouts, the largest upstream header block it accepts, how long it keeps idle
// upstream connections, what it retries, and which Ingress annotations change those per route.
// controllerSettings() joins an entry with the configured overrides (config controllers[].settings)
// and the route's annotations; the classifier reads only that. Adding a controller type is one
// entry in KNOWLEDGE (its Record type makes a missing kind a compile error).
//
// Where each default comes from:
// - ingress-nginx: internal/ingress/controller/config/config.go NewDefault: ProxyConnectTimeout 5,
//   ProxyReadTimeout 60 (seconds), ProxyBufferSize "4k", ProxyNextUpstream "error timeout" with
//   ProxyNextUpstreamTries 3, UpstreamKeepaliveTimeout 60, RetryNonIdempotent false; it proxies to
//   the EndpointSlice addresses unless nginx.ingress.kubernetes.io/service-upstream is "true".
//   Annotations (docs "Annotations"): proxy-connect-timeout, proxy-read-timeout (whole seconds),
//   proxy-buffer-size, backend-protocol (HTTP, HTTPS, GRPC, GRPCS, AUTO_HTTP, FCGI). nginx passes a
//   request that failed on a reused keep-alive connection to the next peer only when it is
//   idempotent (proxy_next_upstream non_idempotent is off since nginx 1.9.13): a POST gets the 502.
// - HAProxy Kubernetes Ingress Controller: pkg/haproxy/env/defaults.go SetDefaults: timeout connect
//   5s, timeout server 50s, timeout http-keep-alive 1m; servers are the endpoints. HAProxy 2.6
//   configuration.txt: responses must fit tune.bufsize (16384) less tune.maxrewrite (1024), else 502;
//   pool-purge-delay 5s (every interval half of the idle server connections are closed); http-reuse
//   safe (a session's first request never rides a reused connection); retries 3 with retry-on
//   conn-failure only (a request that got no answer on a reused connection is not retried).
//   Annotations: haproxy.org/timeout-server, haproxy.org/server-ssl, haproxy.org/server-proto.
// - Traefik: ForwardingTimeouts.SetDefaults (pkg/config/static): dialTimeout 30s, idleConnTimeout
//   90s, responseHeaderTimeout 0 (no limit); Go's http.Transport accepts 10 MiB of response headers
//   and retries idempotent requests that fail on a reused connection; nothing else is retried without
//   the Retry middleware. It proxies to endpoints unless traefik.ingress.kubernetes.io/service.nativelb.
//   traefik.ingress.kubernetes.io/service.serversscheme (https, h2c) sets the backend protocol.
// - Contour (Envoy): pkg/config/parameters.go Defaults: connect-timeout 2s; Envoy's route timeout of
//   15s is Contour's response timeout unless projectcontour.io/response-timeout says otherwise;
//   Envoy's upstream idle_timeout is 1h and max_response_headers_kb 60; no retry policy by default.
//   projectcontour.io/upstream-protocol.{h2c,h2,tls} name the Service ports spoken that way, and
//   Contour reads the Service port's appProtocol (kubernetes.io/h2c, ...).
// - Kong: kong/templates/kong_defaults.lua upstream_keepalive_idle_timeout 60; Kong Service defaults
//   connect_timeout / read_timeout 60000 ms and retries 5; nginx_kong.lua leaves proxy_buffer_size at
//   nginx's default of one memory page (4 KiB on x86-64). Annotations konghq.com/connect-timeout,
//   konghq.com/read-timeout (ms), konghq.com/protocol; ingress.kubernetes.io/service-upstream.
//
// What each does with the client's request (`request`, read by `hopwatch compare`; absent: unknown):
// - ingress-nginx: config.go NewDefault EnableUnderscoresInHeaders false with IgnoreInvalidHeaders
//   true (nginx drops a header whose name has an underscore), LargeClientHeaderBuffers "4 8k" (one
//   line at most 8 KiB, 400 "Request Header Or Cookie Too Large" beyond), ProxyBodySize "1m" (413
//   above; annotation proxy-body-size); annotation rewrite-target rewrites the path sent to the pods
//   (template.go buildProxyPass: `rewrite "(?i)<path>" <target> break;`); enable-cors "true" makes
//   nginx answer CORS itself (Access-Control-Allow-Origin * by default, cors-allow-origin).
// - HAProxy: header names are HTTP tokens, underscores pass; the whole request head must fit
//   tune.bufsize - tune.maxrewrite (15 KiB), else 400; no body limit by default; annotation
//   haproxy.org/path-rewrite rewrites the path; haproxy.org/cors-enable "true" answers CORS.
// - Traefik: Go's net/http passes underscores, DefaultMaxHeaderBytes 1 MiB, no body limit.
// - Contour (Envoy): headers_with_underscores_action ALLOW (Envoy's default), max_request_headers_kb
//   60, no body limit.
// - Envoy Gateway: ClientTrafficPolicy headers.withUnderscoresAction defaults to RejectRequest
//   (github.com/envoyproxy/gateway api/v1alpha1/clienttrafficpolicy_types.go HeaderSettings: "The
//   default action is to reject the request"; the xDS IR HeaderSettings says the same and maps it to
//   Envoy's headers_with_underscores_action REJECT_REQUEST), so a header like x_api_key is a 400
//   before any route; Envoy's max_request_headers_kb 60 (http_connection_manager.proto default); no
//   request body limit (Envoy streams bodies; none is set unless a policy buffers them).
// - NGINX Gateway Fabric: renders none of underscores_in_headers, large_client_header_buffers or
//   client_max_body_size (internal/controller/nginx/config/ http and server templates), so nginx's own
//   defaults apply (nginx.org ngx_http_core_module): underscores_in_headers off with
//   ignore_invalid_headers on (the header is dropped, the request passes), large_client_header_buffers
//   4 8k (400 above 8 KiB in one line), client_max_body_size 1m (413 above) unless a
//   ClientSettingsPolicy sets body.maxSize.
// Gateway API implementations (the `gateway` part says how hopwatch finds a Gateway's data plane):
// - Envoy Gateway (controllerName gateway.envoyproxy.io/gatewayclass-controller): Envoy proxies to the
//   EndpointSlice addresses; BackendTrafficPolicy defaults connectTimeout 10s; Envoy's route timeout is
//   15s (route.RouteAction.timeout default) unless HTTPRoute timeouts.request sets it; Envoy's
//   max_response_headers_kb 60; upstream idle_timeout 1h (core.HttpProtocolOptions); no retries unless
//   a BackendTrafficPolicy sets them. The proxy Deployment and Service live in envoy-gateway-system,
//   labelled gateway.envoyproxy.io/owning-gateway-name/-namespace (internal/infrastructure/kubernetes/
//   proxy testdata), and the Envoy container listens on the listener port + 10000 for ports below 1024
//   (so it needs no privileges). Its own answers: an invalid backendRef is a direct 500 with an empty
//   body; 503 "no healthy upstream"; 503 "upstream connect error or disconnect/reset before headers.
//   reset reason: ..."; 504 "upstream request timeout"; it strips server and x-envoy-* headers.
// - NGINX Gateway Fabric (gateway.nginx.org/nginx-gateway-controller): nginx upstreams are the endpoint
//   addresses (internal/controller/nginx/config/upstreams.go) with no keepalive directive unless an
//   UpstreamSettingsPolicy sets one (processKeepAliveSettings), so upstream connections are not reused;
//   no proxy timeouts are rendered, so nginx's own apply: proxy_connect_timeout 60s, proxy_read_timeout
//   60s, proxy_buffer_size one page (4k); proxy_next_upstream "error timeout" (nginx default). An
//   invalid backendRef proxies to the invalid-backend-ref upstream answering 500, an upstream without
//   endpoints to the nginx-503-server answering 503. NGF 2.x provisions nginx per Gateway in the
//   Gateway's namespace with the GEP-1762 gateway-name label; HTTPRoute timeouts are not supported
//   (graph/httproute.go rejects them).
// - Istio (istio.io/gateway-controller): Envoy to endpoints; connectTimeout 10s (MeshConfig); no route
//   timeout by default (VirtualService timeout disabled); 60 KiB headers and 1h idle (Envoy); retries 2
//   attempts on connect-failure,refused-stream,unavailable,cancelled,503 (MeshConfig defaultHttpRetryPolicy).
//   Automated deployment labels the pods gateway.networking.k8s.io/gateway-name (GEP-1762).
// - kgateway (kgateway.dev/kgateway): Envoy to endpoints with Envoy's defaults (connect 5s, route 15s,
//   60 KiB headers, 1h idle), no retries unless a policy sets them; its deployer labels the proxy pods
//   gateway.networking.k8s.io/gateway-name.
// - Cilium (io.cilium/gateway-controller): a per-node Envoy in cilium-envoy/cilium-agent serves every
//   Gateway; there are no per-Gateway pods to probe, so the controller hop is the Gateway's address only.
// - Traefik (traefik.io/gateway-controller): its one shared Deployment serves Ingress and Gateway alike
//   (pods app.kubernetes.io/name=traefik), with the Traefik defaults above.

import type { Backend, ControllerKind, Route, ServicePortFacts } from '../model.js';

/** What a controller speaks to backend pods. */
export type BackendProtocol = 'http' | 'https' | 'h2c' | 'h2' | 'grpc' | 'grpcs';

/** An annotation and how its value reads: a number, null for "no limit", undefined when it does not parse. */
interface NumberAnnotation {
  key: string;
  parse: (value: string) => number | null | undefined;
}

/** Which annotations of an Ingress change a setting, and how their values read. */
interface AnnotationKeys {
  /** Connect timeout annotation and its unit. */
  connectTimeout?: NumberAnnotation;
  /** Read (response header) timeout annotation and its unit. */
  readTimeout?: NumberAnnotation;
  /** Header buffer size annotation. */
  proxyBuffer?: NumberAnnotation;
  /** Backend protocol annotations, each read by its own function (null: says nothing). */
  backendProtocol?: { key: string; parse: (value: string, route: SettingsScope) => BackendProtocol | null }[];
  /** The annotation that, "true", makes the controller proxy to the Service's ClusterIP instead of the endpoints. */
  serviceUpstream?: string;
  /** Request body limit annotation. */
  bodyLimit?: NumberAnnotation;
  /** Annotations that rewrite the path the pods see (rewrite-target, path-rewrite). */
  rewrite?: string[];
  /** Annotations that make the controller answer CORS itself (enable-cors, cors-enable). */
  cors?: string[];
}

/** What a controller does with the client's request before it reaches the pods. */
export interface RequestHandling {
  /** A request header whose name has an underscore: passed to the pods, dropped silently, or the request rejected (400). */
  underscores: 'passed' | 'dropped' | 'rejected';
  /** Largest single request header line accepted, null when only the block is limited. */
  headerLineBytes: number | null;
  /** Largest request header block accepted, null when no limit is known. */
  headerBlockBytes: number | null;
  /** Largest request body accepted (413 above), null for no limit. */
  bodyBytes: number | null;
  /** The kind's own names of these settings, for evidence. */
  names: { underscores: string; headers: string; body: string };
}

/** How a controller retries a failed upstream request. */
export interface RetryBehaviour {
  /** One line for evidence. */
  summary: string;
  /** True when a request that failed on a reused idle connection is retried (idempotent ones only, at best). */
  retriesReusedIdempotent: boolean;
  /** True when non-idempotent requests (POST) are retried too. */
  retriesNonIdempotent: boolean;
  /** Pods tried one after the other when each times out before its 504 (1: no retry on a timeout); null when unknown. */
  timeoutTries: number | null;
}

/** Everything hopwatch knows about one kind of controller. */
export interface ControllerKnowledge {
  /** Name for humans. */
  name: string;
  /** How it reaches backends unless told otherwise. */
  upstream: 'endpoints' | 'service';
  /** Default upstream connect timeout, null when unknown or none. */
  connectTimeoutMs: number | null;
  /** Default wait for the upstream's response headers, null when none (or unknown). */
  readTimeoutMs: number | null;
  /** Default largest upstream response header block, null when unknown. */
  proxyBufferBytes: number | null;
  /** Default idle time of reused upstream connections; 0: no reuse; null when unknown. */
  upstreamKeepaliveTimeoutMs: number | null;
  /** What it speaks to pods unless told otherwise. */
  backendProtocol: BackendProtocol;
  /** Whether it reads the Service port's appProtocol to choose the backend protocol. */
  readsAppProtocol: boolean;
  /** Retry behaviour. */
  retries: RetryBehaviour;
  /** Names of the settings in its own configuration, for evidence ("proxy-read-timeout"). */
  names: { connectTimeout: string; readTimeout: string; proxyBuffer: string; keepalive: string };
  /** Per-route annotations. */
  annotations: AnnotationKeys;
  /** What it does with the client's request (underscores, header and body limits); absent: unknown. */
  request?: RequestHandling;
  /** For a Gateway API implementation: how a Gateway's data plane is found; absent: not one. */
  gateway?: GatewayImplementation;
}

/** How hopwatch finds the data-plane pods of a Gateway served by one implementation. */
export interface GatewayImplementation {
  /** GatewayClass spec.controllerName values of the implementation. */
  controllerNames: string[];
  /** Labels of the data-plane pods ("{gateway}" and "{namespace}" stand for the Gateway's); null: no per-Gateway pods. */
  podLabels: Record<string, string> | null;
  /** Namespace of those pods: null for the Gateway's own, "*" for any. */
  podNamespace: string | null;
  /** Added to a listener port below 1024 to get the container port when no generated Service says (Envoy Gateway: 10000). */
  lowPortOffset: number;
  /** Its own answers to a probe when it cannot route (for evidence): invalid backendRef, no endpoints. */
  answers: { invalidBackend: string; noEndpoints: string };
}

/** The controller knowledge table. */
export const KNOWLEDGE: Readonly<Record<ControllerKind, ControllerKnowledge>> = {
  'ingress-nginx': {
    name: 'ingress-nginx',
    upstream: 'endpoints',
    connectTimeoutMs: 5000,
    readTimeoutMs: 60_000,
    proxyBufferBytes: 4096,
    upstreamKeepaliveTimeoutMs: 60_000,
    backendProtocol: 'http',
    readsAppProtocol: false,
    retries: {
      summary: 'retries errors and timeouts on the next pod (3 tries), never a non-idempotent request such as POST',
      retriesReusedIdempotent: true,
      retriesNonIdempotent: false,
      // proxy_next_upstream "error timeout", proxy_next_upstream_tries 3 (config.go NewDefault).
      timeoutTries: 3,
    },
    names: { connectTimeout: 'proxy-connect-timeout', readTimeout: 'proxy-read-timeout', proxyBuffer: 'proxy-buffer-size', keepalive: 'upstream-keepalive-timeout' },
    annotations: {
      connectTimeout: { key: 'nginx.ingress.kubernetes.io/proxy-connect-timeout', parse: wholeSeconds },
      readTimeout: { key: 'nginx.ingress.kubernetes.io/proxy-read-timeout', parse: wholeSeconds },
      proxyBuffer: { key: 'nginx.ingress.kubernetes.io/proxy-buffer-size', parse: nginxSize },
      backendProtocol: [{ key: 'nginx.ingress.kubernetes.io/backend-protocol', parse: nginxProtocol }],
      serviceUpstream: 'nginx.ingress.kubernetes.io/service-upstream',
      bodyLimit: { key: 'nginx.ingress.kubernetes.io/proxy-body-size', parse: nginxBodySize },
      rewrite: ['nginx.ingress.kubernetes.io/rewrite-target'],
      cors: ['nginx.ingress.kubernetes.io/enable-cors'],
    },
    request: {
      underscores: 'dropped',
      headerLineBytes: 8192,
      headerBlockBytes: 4 * 8192,
      bodyBytes: 1024 * 1024,
      names: { underscores: 'enable-underscores-in-headers: false', headers: 'large-client-header-buffers 4 8k', body: 'proxy-body-size' },
    },
  },
  haproxy: {
    name: 'HAProxy',
    upstream: 'endpoints',
    connectTimeoutMs: 5000,
    readTimeoutMs: 50_000,
    proxyBufferBytes: 16_384 - 1024,
    upstreamKeepaliveTimeoutMs: 5000,
    backendProtocol: 'http',
    readsAppProtocol: false,
    retries: {
      summary: 'retries only connection failures (retry-on conn-failure); a session\'s first request never reuses an idle connection (http-reuse safe)',
      retriesReusedIdempotent: false,
      retriesNonIdempotent: false,
      timeoutTries: 1,
    },
    names: { connectTimeout: 'timeout connect', readTimeout: 'timeout server', proxyBuffer: 'tune.bufsize - tune.maxrewrite', keepalive: 'pool-purge-delay' },
    annotations: {
      readTimeout: { key: 'haproxy.org/timeout-server', parse: haproxyTime },
      backendProtocol: [
        { key: 'haproxy.org/server-ssl', parse: (v) => (v.trim() === 'true' ? 'https' : null) },
        { key: 'haproxy.org/server-proto', parse: (v, route) => (v.trim() === 'h2' ? (route.annotations['haproxy.org/server-ssl'] === 'true' ? 'h2' : 'h2c') : null) },
      ],
      rewrite: ['haproxy.org/path-rewrite'],
      cors: ['haproxy.org/cors-enable'],
    },
    request: {
      underscores: 'passed',
      headerLineBytes: null,
      headerBlockBytes: 16_384 - 1024,
      bodyBytes: null,
      names: { underscores: 'HTTP header names', headers: 'tune.bufsize - tune.maxrewrite', body: 'no body limit' },
    },
  },
  traefik: {
    name: 'Traefik',
    upstream: 'endpoints',
    connectTimeoutMs: 30_000,
    readTimeoutMs: null,
    proxyBufferBytes: 10 * 1024 * 1024,
    upstreamKeepaliveTimeoutMs: 90_000,
    backendProtocol: 'http',
    readsAppProtocol: false,
    retries: {
      summary: 'retries an idempotent request that failed on a reused connection (Go transport); nothing else without the Retry middleware',
      retriesReusedIdempotent: true,
      retriesNonIdempotent: false,
      timeoutTries: 1,
    },
    names: { connectTimeout: 'forwardingTimeouts.dialTimeout', readTimeout: 'forwardingTimeouts.responseHeaderTimeout', proxyBuffer: 'MaxResponseHeaderBytes', keepalive: 'forwardingTimeouts.idleConnTimeout' },
    annotations: {
      backendProtocol: [{ key: 'traefik.ingress.kubernetes.io/service.serversscheme', parse: traefikScheme }],
    },
    request: {
      underscores: 'passed',
      headerLineBytes: null,
      headerBlockBytes: 1024 * 1024,
      bodyBytes: null,
      names: { underscores: 'Go net/http', headers: 'MaxHeaderBytes', body: 'no body limit' },
    },
    gateway: {
      controllerNames: ['traefik.io/gateway-controller'],
      // One shared Deployment serves every Gateway (and the Ingresses).
      podLabels: { 'app.kubernetes.io/name': 'traefik' },
      podNamespace: '*',
      lowPortOffset: 0,
      answers: { invalidBackend: '500', noEndpoints: '503 "no available server"' },
    },
  },
  contour: {
    name: 'Contour (Envoy)',
    upstream: 'endpoints',
    connectTimeoutMs: 2000,
    readTimeoutMs: 15_000,
    proxyBufferBytes: 60 * 1024,
    upstreamKeepaliveTimeoutMs: 3_600_000,
    backendProtocol: 'http',
    readsAppProtocol: true,
    retries: { summary: 'no retries unless a retry policy is set', retriesReusedIdempotent: false, retriesNonIdempotent: false, timeoutTries: 1 },
    names: { connectTimeout: 'timeouts.connect-timeout', readTimeout: 'response timeout', proxyBuffer: 'max_response_headers_kb', keepalive: 'upstream idle_timeout' },
    annotations: {
      readTimeout: { key: 'projectcontour.io/response-timeout', parse: goDuration },
      backendProtocol: [
        { key: 'projectcontour.io/upstream-protocol.h2c', parse: (v, route) => (namesServicePort(v, route) ? 'h2c' : null) },
        { key: 'projectcontour.io/upstream-protocol.h2', parse: (v, route) => (namesServicePort(v, route) ? 'h2' : null) },
        { key: 'projectcontour.io/upstream-protocol.tls', parse: (v, route) => (namesServicePort(v, route) ? 'https' : null) },
      ],
    },
    request: {
      underscores: 'passed',
      headerLineBytes: null,
      headerBlockBytes: 60 * 1024,
      bodyBytes: null,
      names: { underscores: 'headers_with_underscores_action ALLOW', headers: 'max_request_headers_kb', body: 'no body limit' },
    },
  },
  kong: {
    name: 'Kong',
    upstream: 'endpoints',
    connectTimeoutMs: 60_000,
    readTimeoutMs: 60_000,
    proxyBufferBytes: 4096,
    upstreamKeepaliveTimeoutMs: 60_000,
    backendProtocol: 'http',
    readsAppProtocol: false,
    retries: { summary: 'retries failed connections and timeouts up to 5 times (Service retries)', retriesReusedIdempotent: true, retriesNonIdempotent: false, timeoutTries: 6 },
    names: { connectTimeout: 'connect_timeout', readTimeout: 'read_timeout', proxyBuffer: 'proxy_buffer_size', keepalive: 'upstream_keepalive_idle_timeout' },
    annotations: {
      connectTimeout: { key: 'konghq.com/connect-timeout', parse: wholeMilliseconds },
      readTimeout: { key: 'konghq.com/read-timeout', parse: wholeMilliseconds },
      backendProtocol: [{ key: 'konghq.com/protocol', parse: kongProtocol }],
      serviceUpstream: 'ingress.kubernetes.io/service-upstream',
    },
  },
  'envoy-gateway': {
    name: 'Envoy Gateway',
    upstream: 'endpoints',
    connectTimeoutMs: 10_000,
    readTimeoutMs: 15_000,
    proxyBufferBytes: 60 * 1024,
    upstreamKeepaliveTimeoutMs: 3_600_000,
    backendProtocol: 'http',
    readsAppProtocol: true,
    retries: { summary: 'no retries unless a BackendTrafficPolicy sets them', retriesReusedIdempotent: false, retriesNonIdempotent: false, timeoutTries: 1 },
    names: { connectTimeout: 'BackendTrafficPolicy timeout.tcp.connectTimeout', readTimeout: 'route timeout (HTTPRoute timeouts.request)', proxyBuffer: 'max_response_headers_kb', keepalive: 'upstream idle_timeout' },
    annotations: {},
    request: {
      underscores: 'rejected',
      headerLineBytes: null,
      headerBlockBytes: 60 * 1024,
      bodyBytes: null,
      names: { underscores: 'ClientTrafficPolicy headers.withUnderscoresAction: RejectRequest (default)', headers: 'max_request_headers_kb', body: 'no body limit' },
    },
    gateway: {
      controllerNames: ['gateway.envoyproxy.io/gatewayclass-controller'],
      podLabels: { 'gateway.envoyproxy.io/owning-gateway-name': '{gateway}', 'gateway.envoyproxy.io/owning-gateway-namespace': '{namespace}' },
      podNamespace: 'envoy-gateway-system',
      lowPortOffset: 10_000,
      answers: { invalidBackend: '500 with an empty body', noEndpoints: '503 "no healthy upstream"' },
    },
  },
  'nginx-gateway-fabric': {
    name: 'NGINX Gateway Fabric',
    upstream: 'endpoints',
    connectTimeoutMs: 60_000,
    readTimeoutMs: 60_000,
    proxyBufferBytes: 4096,
    upstreamKeepaliveTimeoutMs: 0,
    backendProtocol: 'http',
    readsAppProtocol: false,
    // proxy_next_upstream_tries is not rendered: nginx's 0 means no limit, so every endpoint may be tried in turn.
    retries: { summary: 'retries errors and timeouts on the next endpoint (nginx proxy_next_upstream error timeout), never a POST', retriesReusedIdempotent: true, retriesNonIdempotent: false, timeoutTries: Number.MAX_SAFE_INTEGER },
    names: { connectTimeout: 'proxy_connect_timeout', readTimeout: 'proxy_read_timeout', proxyBuffer: 'proxy_buffer_size', keepalive: 'UpstreamSettingsPolicy keepAlive' },
    annotations: {},
    request: {
      underscores: 'dropped',
      headerLineBytes: 8192,
      headerBlockBytes: 4 * 8192,
      bodyBytes: 1024 * 1024,
      names: { underscores: 'nginx underscores_in_headers off (default)', headers: 'nginx large_client_header_buffers 4 8k (default)', body: 'client_max_body_size (ClientSettingsPolicy body.maxSize)' },
    },
    gateway: {
      controllerNames: ['gateway.nginx.org/nginx-gateway-controller'],
      podLabels: { 'gateway.networking.k8s.io/gateway-name': '{gateway}' },
      podNamespace: null,
      lowPortOffset: 0,
      answers: { invalidBackend: "500 (nginx's page)", noEndpoints: "503 (nginx's page)" },
    },
  },
  istio: {
    name: 'Istio',
    upstream: 'endpoints',
    connectTimeoutMs: 10_000,
    readTimeoutMs: null,
    proxyBufferBytes: 60 * 1024,
    upstreamKeepaliveTimeoutMs: 3_600_000,
    backendProtocol: 'http',
    readsAppProtocol: true,
    retries: { summary: 'retries twice on connect-failure, refused-stream, unavailable, cancelled and 503', retriesReusedIdempotent: true, retriesNonIdempotent: false, timeoutTries: 1 },
    names: { connectTimeout: 'connectTimeout', readTimeout: 'route timeout', proxyBuffer: 'max_response_headers_kb', keepalive: 'idleTimeout' },
    annotations: {},
    gateway: {
      controllerNames: ['istio.io/gateway-controller'],
      podLabels: { 'gateway.networking.k8s.io/gateway-name': '{gateway}' },
      podNamespace: null,
      lowPortOffset: 0,
      answers: { invalidBackend: '500', noEndpoints: '503 "no healthy upstream"' },
    },
  },
  kgateway: {
    name: 'kgateway',
    upstream: 'endpoints',
    connectTimeoutMs: 5000,
    readTimeoutMs: 15_000,
    proxyBufferBytes: 60 * 1024,
    upstreamKeepaliveTimeoutMs: 3_600_000,
    backendProtocol: 'http',
    readsAppProtocol: true,
    retries: { summary: 'no retries unless a policy sets them', retriesReusedIdempotent: false, retriesNonIdempotent: false, timeoutTries: 1 },
    names: { connectTimeout: 'connect_timeout', readTimeout: 'route timeout', proxyBuffer: 'max_response_headers_kb', keepalive: 'idle_timeout' },
    annotations: {},
    gateway: {
      controllerNames: ['kgateway.dev/kgateway', 'solo.io/gloo-gateway'],
      podLabels: { 'gateway.networking.k8s.io/gateway-name': '{gateway}' },
      podNamespace: null,
      lowPortOffset: 0,
      answers: { invalidBackend: '500', noEndpoints: '503 "no healthy upstream"' },
    },
  },
  cilium: {
    name: 'Cilium (per-node Envoy)',
    upstream: 'endpoints',
    connectTimeoutMs: null,
    readTimeoutMs: null,
    proxyBufferBytes: 60 * 1024,
    upstreamKeepaliveTimeoutMs: 3_600_000,
    backendProtocol: 'http',
    readsAppProtocol: true,
    retries: { summary: 'retry behaviour per CiliumEnvoyConfig; none by default', retriesReusedIdempotent: false, retriesNonIdempotent: false, timeoutTries: 1 },
    names: { connectTimeout: 'connect_timeout', readTimeout: 'route timeout', proxyBuffer: 'max_response_headers_kb', keepalive: 'idle_timeout' },
    annotations: {},
    gateway: {
      controllerNames: ['io.cilium/gateway-controller'],
      // One Envoy per node serves every Gateway: no per-Gateway pods to probe one by one.
      podLabels: null,
      podNamespace: null,
      lowPortOffset: 0,
      answers: { invalidBackend: '500', noEndpoints: '503 "no healthy upstream"' },
    },
  },
  generic: {
    name: 'the ingress controller',
    upstream: 'service',
    connectTimeoutMs: null,
    readTimeoutMs: null,
    proxyBufferBytes: null,
    upstreamKeepaliveTimeoutMs: null,
    backendProtocol: 'http',
    readsAppProtocol: false,
    retries: { summary: 'retry behaviour unknown', retriesReusedIdempotent: false, retriesNonIdempotent: false, timeoutTries: null },
    names: { connectTimeout: 'connect timeout', readTimeout: 'read timeout', proxyBuffer: 'header buffer', keepalive: 'upstream keep-alive timeout' },
    annotations: {},
  },
};

/** One effective setting and where its value comes from (for evidence). */
export interface Setting<T> {
  /** The value in effect. */
  value: T;
  /** Where it comes from: "ingress-nginx default", "configured", "annotation <key>: <value>". */
  source: string;
}

/** The settings in effect for one route's controller. */
export interface ControllerSettings {
  /** The controller kind. */
  kind: ControllerKind;
  /** Name for humans. */
  name: string;
  /** What it proxies this route to: the endpoints (pod IPs) or the Service's ClusterIP. */
  upstream: Setting<'endpoints' | 'service'>;
  /** Upstream connect timeout (null: none or unknown). */
  connectTimeoutMs: Setting<number | null>;
  /** Wait for the upstream's response headers (null: none or unknown). */
  readTimeoutMs: Setting<number | null>;
  /** Largest upstream response header block (null: unknown). */
  proxyBufferBytes: Setting<number | null>;
  /** Idle time of reused upstream connections; 0: no reuse; null: unknown. */
  upstreamKeepaliveTimeoutMs: Setting<number | null>;
  /** What it speaks to the route's pods. */
  backendProtocol: Setting<BackendProtocol>;
  /** Retry behaviour. */
  retries: RetryBehaviour;
  /** The kind's own names of the settings, for evidence. */
  names: ControllerKnowledge['names'];
  /** Protocol hints of the Service the controller does not act on (appProtocol, port name). */
  protocolHints: string[];
  /** What it does with the client's request, null when unknown. */
  request: RequestHandling | null;
  /** The request body limit in effect (null value: no limit), null when unknown. */
  requestBodyBytes: Setting<number | null> | null;
  /** An annotation rewriting the path the pods see, null when none is set. */
  rewrite: Setting<string> | null;
  /** An annotation making the controller answer CORS itself ("true"), null when none is set. */
  cors: Setting<string> | null;
}

/**
 * What the settings of one backend are read from: the routing object's annotations (a canary Ingress's
 * own are ignored by ingress-nginx, which applies the main Ingress's) and the backend's Service port.
 */
export interface SettingsScope {
  /** Annotations of the routing object. */
  annotations: Record<string, string>;
  /** The backend's Service port, null when it has none. */
  servicePort: ServicePortFacts | null;
}

/**
 * The settings in effect for the route's controller towards one backend (the primary unless given):
 * table defaults, then configured overrides, then annotations.
 */
export function controllerSettings(of: Route, backend: Backend | null = of.backends[0] ?? null): ControllerSettings | null {
  const controller = of.controller;
  if (controller === null) return null;
  const route: SettingsScope = { annotations: of.annotations, servicePort: backend?.servicePort ?? null };
  const known = KNOWLEDGE[controller.kind];
  const configured = controller.settings ?? {};
  const annotations = known.annotations;
  const base = <T>(value: T | undefined, fallback: T): Setting<T> =>
    value === undefined ? { value: fallback, source: `${known.name} default` } : { value, source: 'configured' };
  return {
    kind: controller.kind,
    name: known.name,
    upstream: upstreamOf(route, controller.upstream, known),
    connectTimeoutMs: annotated(route, annotations.connectTimeout, base(configured.connectTimeoutMs, known.connectTimeoutMs)),
    readTimeoutMs: routeTimeout(of) ?? annotated(route, annotations.readTimeout, base(configured.readTimeoutMs, known.readTimeoutMs)),
    proxyBufferBytes: annotated(route, annotations.proxyBuffer, base(configured.proxyBufferBytes, known.proxyBufferBytes)),
    upstreamKeepaliveTimeoutMs: base(configured.upstreamKeepaliveTimeoutMs, known.upstreamKeepaliveTimeoutMs),
    backendProtocol: backendProtocolOf(route, known),
    retries: known.retries,
    names: known.names,
    protocolHints: protocolHints(route, known),
    request: known.request ?? null,
    requestBodyBytes: known.request === undefined ? null : annotated(route, annotations.bodyLimit, { value: known.request.bodyBytes, source: `${known.name} default` }),
    rewrite: firstAnnotation(route, known.annotations.rewrite) ?? urlRewriteOf(of),
    cors: firstAnnotation(route, (known.annotations.cors ?? []).filter((key) => route.annotations[key]?.trim() === 'true')),
  };
}

/**
 * An HTTPRoute's URLRewrite as a rewrite setting: its value is the path the pods get for the probe
 * request (discovery's probe.backendPath), so it compares with an Ingress's rewrite-target "/" the
 * way the two really behave; null when the route does not change the path.
 */
function urlRewriteOf(route: Route): Setting<string> | null {
  const to = route.probe.backendPath;
  if (to === undefined || to === route.probe.path) return null;
  return { value: to, source: `HTTPRoute URLRewrite: the pods get ${to} for ${route.probe.path}` };
}

/** The first of these annotations set on the route, with its source, null when none. */
function firstAnnotation(route: SettingsScope, keys: readonly string[] | undefined): Setting<string> | null {
  for (const key of keys ?? []) {
    const value = route.annotations[key];
    if (value !== undefined) return { value, source: `annotation ${key}: ${value}` };
  }
  return null;
}

/** The implementation of a GatewayClass controllerName, null when hopwatch does not know it. */
export function gatewayImplementation(controllerName: string | null): ControllerKind | null {
  if (controllerName === null) return null;
  const kinds = Object.keys(KNOWLEDGE) as ControllerKind[];
  return kinds.find((kind) => KNOWLEDGE[kind].gateway?.controllerNames.includes(controllerName)) ?? null;
}

/** An HTTPRoute rule's timeouts.backendRequest (else timeouts.request): the wait for the pod's answer; null when unset. */
function routeTimeout(route: Route): Setting<number | null> | null {
  const timeouts = route.gateway?.timeouts;
  const [field, raw] = timeouts?.backendRequest != null ? ['backendRequest', timeouts.backendRequest] : ['request', timeouts?.request ?? null];
  if (raw === null) return null;
  const value = gatewayDuration(raw);
  return value === undefined ? null : { value, source: `HTTPRoute rule timeouts.${field}: ${raw}` };
}

/** Gateway API durations (GEP-2257: "1h", "30s", "500ms", combined, "0s" for none); undefined when it does not parse. */
export function gatewayDuration(value: string): number | null | undefined {
  const text = value.trim();
  if (/^0+(h|m|s|ms)$/.test(text)) return null;
  const parts = [...text.matchAll(/(\d+)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  const factor: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  return parts.reduce((sum, p) => sum + Number(p[1]) * (factor[p[2] ?? 's'] ?? 0), 0);
}

/** The route's upstream: the controller's service-upstream annotation when set, else the configured (or default) upstream. */
function upstreamOf(route: SettingsScope, configured: 'endpoints' | 'service', known: ControllerKnowledge): Setting<'endpoints' | 'service'> {
  const key = known.annotations.serviceUpstream;
  const raw = key === undefined ? undefined : route.annotations[key];
  if (key !== undefined && raw !== undefined && (raw.trim() === 'true' || raw.trim() === 'false')) {
    return { value: raw.trim() === 'true' ? 'service' : 'endpoints', source: `annotation ${key}: ${raw}` };
  }
  return { value: configured, source: 'controllers[].upstream' };
}

/** The annotation's value when it parses, else the fallback (as controllers ignore a bad annotation). */
function annotated(route: SettingsScope, rule: NumberAnnotation | undefined, fallback: Setting<number | null>): Setting<number | null> {
  const raw = rule === undefined ? undefined : route.annotations[rule.key];
  if (rule === undefined || raw === undefined) return fallback;
  const value = rule.parse(raw);
  return value === undefined ? fallback : { value, source: `annotation ${rule.key}: ${raw}` };
}

function backendProtocolOf(route: SettingsScope, known: ControllerKnowledge): Setting<BackendProtocol> {
  for (const rule of known.annotations.backendProtocol ?? []) {
    const raw = route.annotations[rule.key];
    if (raw === undefined) continue;
    const value = rule.parse(raw, route);
    if (value !== null) return { value, source: `annotation ${rule.key}: ${raw}` };
  }
  const fromAppProtocol = known.readsAppProtocol ? appProtocolOf(route) : null;
  if (fromAppProtocol !== null) return { value: fromAppProtocol, source: `Service port appProtocol ${route.servicePort?.appProtocol ?? ''}` };
  return { value: known.backendProtocol, source: `${known.name} default` };
}

/** What the Service port's appProtocol says the pods speak, null when it says nothing hopwatch knows. */
export function appProtocolOf(route: SettingsScope): BackendProtocol | null {
  const value = route.servicePort?.appProtocol?.toLowerCase() ?? '';
  if (value === 'kubernetes.io/h2c' || value === 'h2c') return 'h2c';
  if (value === 'grpc') return 'grpc';
  if (value === 'https' || value === 'tls' || value === 'kubernetes.io/wss') return 'https';
  if (value === 'http' || value === 'kubernetes.io/ws') return 'http';
  return null;
}

/** What the Service port's name says the pods speak (Istio-style prefixes), null when nothing. */
function portNameProtocol(route: SettingsScope): BackendProtocol | null {
  const name = route.servicePort?.name?.toLowerCase() ?? '';
  if (/^(grpc|grpc-web)(-|$)/.test(name)) return 'grpc';
  if (/^(h2c|http2)(-|$)/.test(name)) return 'h2c';
  if (/^(https|tls)(-|$)/.test(name)) return 'https';
  return null;
}

/** Hints from the Service that disagree with what the controller speaks, for evidence. */
function protocolHints(route: SettingsScope, known: ControllerKnowledge): string[] {
  const speaks = backendProtocolOf(route, known).value;
  const hints: string[] = [];
  const app = appProtocolOf(route);
  if (app !== null && !sameWire(app, speaks)) {
    const note = known.readsAppProtocol ? '' : ` (${known.name} does not read appProtocol)`;
    hints.push(`Service port appProtocol ${route.servicePort?.appProtocol ?? ''} says ${protocolName(app)}${note}`);
  }
  const named = portNameProtocol(route);
  if (named !== null && !sameWire(named, speaks)) hints.push(`Service port name "${route.servicePort?.name ?? ''}" suggests ${protocolName(named)}`);
  return hints;
}

/** What a backend protocol looks like on the wire. */
export function wireOf(protocol: BackendProtocol): { tls: boolean; h2: boolean } {
  switch (protocol) {
    case 'http':
      return { tls: false, h2: false };
    case 'https':
      return { tls: true, h2: false };
    case 'h2c':
    case 'grpc':
      return { tls: false, h2: true };
    case 'h2':
    case 'grpcs':
      return { tls: true, h2: true };
  }
}

function sameWire(a: BackendProtocol, b: BackendProtocol): boolean {
  const [x, y] = [wireOf(a), wireOf(b)];
  return x.tls === y.tls && x.h2 === y.h2;
}

/** "HTTP/1.1", "HTTPS (HTTP/1.1 over TLS)", "h2c (HTTP/2 without TLS)", ... */
export function protocolName(protocol: BackendProtocol): string {
  switch (protocol) {
    case 'http':
      return 'plain HTTP/1.1';
    case 'https':
      return 'HTTPS (HTTP/1.1 over TLS)';
    case 'h2c':
      return 'h2c (HTTP/2 without TLS)';
    case 'h2':
      return 'HTTP/2 over TLS';
    case 'grpc':
      return 'gRPC (HTTP/2 without TLS)';
    case 'grpcs':
      return 'gRPC over TLS';
  }
}

// ---------------------------------------------------------------- annotation value parsers

/** ingress-nginx timeouts: whole seconds ("5"); anything else is ignored (undefined), as ingress-nginx does. */
function wholeSeconds(value: string): number | undefined {
  const text = value.trim();
  return /^\d+$/.test(text) && Number(text) > 0 ? Number(text) * 1000 : undefined;
}

/** Kong timeouts: whole milliseconds. */
function wholeMilliseconds(value: string): number | undefined {
  const text = value.trim();
  return /^\d+$/.test(text) && Number(text) > 0 ? Number(text) : undefined;
}

/** nginx sizes: "4096", "4k", "8K", "1m"; undefined when it does not parse. */
export function nginxSize(value: string): number | undefined {
  const match = /^(\d+)([kKmM]?)$/.exec(value.trim());
  if (match === null) return undefined;
  const unit = (match[2] ?? '').toLowerCase();
  return Number(match[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1);
}

/** ingress-nginx proxy-body-size: an nginx size; "0" means no limit (null). */
function nginxBodySize(value: string): number | null | undefined {
  const size = nginxSize(value);
  return size === 0 ? null : size;
}

/** HAProxy times: a number with an optional unit (us, ms, s, m, h, d), milliseconds without one; undefined when it does not parse. */
export function haproxyTime(value: string): number | undefined {
  const match = /^(\d+)(us|ms|s|m|h|d)?$/.exec(value.trim());
  if (match === null) return undefined;
  const factor: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const ms = Number(match[1]) * (factor[match[2] ?? 'ms'] ?? 1);
  return ms > 0 ? ms : undefined;
}

/** Go durations as Contour reads them ("30s", "1m30s", "500ms"); "infinity" means no limit (null). */
function goDuration(value: string): number | null | undefined {
  const text = value.trim();
  if (text === 'infinity' || text === 'infinite') return null;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  const factor: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * (factor[p[2] ?? 's'] ?? 0), 0);
  return ms > 0 ? ms : undefined;
}

function nginxProtocol(value: string): BackendProtocol | null {
  switch (value.trim().toUpperCase()) {
    case 'HTTP':
    case 'AUTO_HTTP':
      return 'http';
    case 'HTTPS':
      return 'https';
    case 'GRPC':
      return 'grpc';
    case 'GRPCS':
      return 'grpcs';
    default:
      return null;
  }
}

function traefikScheme(value: string): BackendProtocol | null {
  const scheme = value.trim().toLowerCase();
  return scheme === 'https' ? 'https' : scheme === 'h2c' ? 'h2c' : scheme === 'http' ? 'http' : null;
}

function kongProtocol(value: string): BackendProtocol | null {
  const protocol = value.trim().toLowerCase();
  return protocol === 'http' || protocol === 'https' || protocol === 'grpc' || protocol === 'grpcs' ? protocol : null;
}

/** True when a comma-separated list of port numbers and names includes the route's Service port. */
function namesServicePort(value: string, route: SettingsScope): boolean {
  const port = route.servicePort;
  if (port === null) return false;
  return value.split(',').map((s) => s.trim()).some((item) => item === String(port.port) || (port.name !== null && item === port.name));
}
