// Pure: who produced an HTTP response — a proxy's own error page, or the app's answer passed through.
//
// Each rule below is taken from the component's source or a captured response, not guessed:
// - nginx 1.22 (captured from /usr/sbin/nginx): "<hr><center>nginx/1.22.1</center>" closes every
//   default error page ("<center>nginx</center>" with server_tokens off; openresty likewise), and
//   "The plain HTTP request was sent to HTTPS port" for plain HTTP on an ssl port.
// - HAProxy 2.6 (strings of /usr/sbin/haproxy): "<html><body><h1>502 Bad Gateway</h1>\nThe server
//   returned an invalid or incomplete response.\n</body></html>\n", its 503 "No server is available
//   to handle this request." and 504 "The server didn't respond in time."; no Server header.
// - Envoy local replies: "upstream connect error or disconnect/reset before headers. reset reason: ...",
//   "no healthy upstream", "upstream request timeout". Envoy overwrites `server: envoy` on every
//   response, so the header alone proves nothing; `x-envoy-upstream-service-time` is only set on
//   responses that came from an upstream.
// - Traefik (pkg/proxy/httputil/proxy.go ErrorHandler): the bare status text, no newline, e.g.
//   "Bad Gateway" (11 bytes), "Gateway Timeout"; its balancer's 503 is http.Error "no available server\n".
// - Kong (kong/error_handlers.lua): {"message":"An invalid response was received from the upstream
//   server"} (502), "The upstream server is currently unavailable" (503), "The upstream server is
//   timing out" (504), in JSON, plain text or an HTML page titled "Kong Error"; `server: kong/x` on
//   its own replies, `via: kong/x` and `x-kong-upstream-latency` on proxied ones.
// - AWS ALB: `server: awselb/2.0` on the responses it generates (it keeps the target's Server header).
// - Google Cloud LB: the "That’s an error." page ("The server encountered a temporary error and could
//   not complete your request.") and `server: Google Frontend`; `via: 1.1 google` on everything it
//   forwards, so a Google-fronted Envoy-style reply ("no healthy upstream") is the LB's own.

import type { Generator } from '../model.js';

/** Response headers as hopwatch keeps them: lowercase names. */
export type ResponseHeaders = Readonly<Record<string, string>>;

interface Rule {
  generator: Generator;
  matches(status: number, headers: ResponseHeaders, body: string): boolean;
}

const HAPROXY_PAGE = /^<html><body><h1>\d{3} [^<]*<\/h1>\n/;
const HAPROXY_LINES = [
  'The server returned an invalid or incomplete response.',
  'No server is available to handle this request.',
  "The server didn't respond in time.",
  'Your browser sent an invalid request.',
  'Request forbidden by administrative rules.',
  "Your browser didn't send a complete request in time.",
  'An internal server error occurred.',
];
const NGINX_PAGE = /<center>(?:nginx|openresty)(?:\/[\d.]+)?<\/center>/;
const ENVOY_REPLY = /^(?:upstream connect error or disconnect\/reset before headers|no healthy upstream$|upstream request timeout$)/;
const KONG_MESSAGES =
  /(?:An invalid response was received from the upstream server|The upstream server is currently unavailable|The upstream server is timing out|failure to get a peer from the ring-balancer|name resolution failed|no Route matched with those values)/;
const KONG_JSON = /^\{\s*"message"\s*:\s*"/;
const TRAEFIK_BODIES: Readonly<Record<number, string>> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'no available server\n',
  504: 'Gateway Timeout',
};
const GOOGLE_PAGE = /That’s an error\.|The server encountered a temporary error and could not complete your request/;

/** Server header values that proxies put on responses they merely forward: never proof of the app. */
const PROXY_SERVERS = /^(?:nginx|openresty|envoy|istio-envoy|kong|awselb|google frontend|gfe|cloudflare|akamaighost|microsoft-azure-application-gateway|haproxy|traefik|caddy|varnish)\b/i;

function header(headers: ResponseHeaders, name: string): string {
  return headers[name] ?? '';
}

function forwardedByEnvoy(headers: ResponseHeaders): boolean {
  return headers['x-envoy-upstream-service-time'] !== undefined;
}

function viaGoogle(headers: ResponseHeaders): boolean {
  return /\bgoogle\b/i.test(header(headers, 'via'));
}

/** Proxy-generated pages, most specific first; the first match wins. */
const RULES: readonly Rule[] = [
  {
    generator: 'gcp-lb',
    matches: (status, headers, body) =>
      GOOGLE_PAGE.test(body) || (status >= 500 && viaGoogle(headers) && ENVOY_REPLY.test(body.trim())),
  },
  {
    generator: 'aws-alb',
    matches: (_status, headers) => /^awselb\//i.test(header(headers, 'server')),
  },
  {
    generator: 'haproxy',
    matches: (_status, _headers, body) => HAPROXY_PAGE.test(body) && HAPROXY_LINES.some((line) => body.includes(line)),
  },
  {
    generator: 'nginx',
    matches: (_status, _headers, body) => NGINX_PAGE.test(body),
  },
  {
    generator: 'kong',
    matches: (_status, headers, body) =>
      /^kong\//i.test(header(headers, 'server')) ||
      ((KONG_JSON.test(body) || body.includes('<h1>Kong Error</h1>') || headers['x-kong-response-latency'] !== undefined) &&
        KONG_MESSAGES.test(body)),
  },
  {
    generator: 'envoy',
    matches: (status, headers, body) =>
      !forwardedByEnvoy(headers) &&
      (ENVOY_REPLY.test(body.trim()) || (status >= 400 && /^(?:istio-)?envoy$/i.test(header(headers, 'server')))),
  },
  {
    generator: 'traefik',
    matches: (status, headers, body) =>
      TRAEFIK_BODIES[status] === body && headers['server'] === undefined && header(headers, 'content-type').startsWith('text/plain'),
  },
  {
    generator: 'cloud-lb',
    matches: (_status, headers, body) =>
      /^(?:microsoft-azure-application-gateway|akamaighost)/i.test(header(headers, 'server')) ||
      (/^cloudflare$/i.test(header(headers, 'server')) && /^error code: \d{3}$|cloudflare/i.test(body.trim())),
  },
];

/** True when headers or body show that a proxy forwarded the response from its upstream. */
function isClearlyUpstream(status: number, headers: ResponseHeaders, body: string): boolean {
  if (forwardedByEnvoy(headers) || headers['x-kong-upstream-latency'] !== undefined) return true;
  // Proxies generate error pages, not successes or redirects (theirs are caught by the rules above).
  if (status < 400) return true;
  if (headers['x-powered-by'] !== undefined) return true;
  const server = header(headers, 'server');
  if (server !== '' && !PROXY_SERVERS.test(server)) return true;
  // Stock proxy pages are HTML or plain text; a JSON body that is not Kong's is the app's.
  return /json/i.test(header(headers, 'content-type')) || /^\s*[[{]/.test(body);
}

/**
 * Who produced a response: a proxy or load balancer that generated it, 'upstream' when it is clearly
 * the app's own answer passed through, null when it cannot be told.
 */
export function recogniseGenerator(status: number, headers: ResponseHeaders, bodySnippet: string): Generator | null {
  for (const rule of RULES) if (rule.matches(status, headers, bodySnippet)) return rule.generator;
  return isClearlyUpstream(status, headers, bodySnippet) ? 'upstream' : null;
}
