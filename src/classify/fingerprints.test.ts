import { describe, expect, it } from 'vitest';
import type { Generator } from '../model.js';
import { recogniseGenerator } from './fingerprints.js';

// Bodies are the components' real pages: nginx 1.22.1 and HAProxy 2.6 captured from the installed
// binaries, the others from their sources (see fingerprints.ts).
const NGINX_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n';
const NGINX_504_NO_TOKENS =
  '<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
const NGINX_308 =
  '<html>\r\n<head><title>308 Permanent Redirect</title></head>\r\n<body>\r\n<center><h1>308 Permanent Redirect</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
const HAPROXY_502 = '<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n';
const HAPROXY_503 = '<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n';
const HAPROXY_504 = "<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n";
const ENVOY_RESET = 'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: delayed connect error: 111';
const KONG_502 = '{\n  "message":"An invalid response was received from the upstream server"\n}';
const KONG_503_WITH_ID = '{\n  "message":"The upstream server is currently unavailable",\n  "request_id":"5d3e2a"\n}';
const ALB_502 = '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n';
const GOOGLE_502 =
  '<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 502 (Server Error)!!1</title>\n  <p><b>502.</b> <ins>That’s an error.</ins>\n  <p>The server encountered a temporary error and could not complete your request.<p>Please try again in 30 seconds.  <ins>That’s all we know.</ins>\n';

const TEXT = 'text/plain; charset=utf-8';

interface Row {
  name: string;
  status: number;
  headers: Record<string, string>;
  body: string;
  expected: Generator | null;
}

// Envoy Gateway removes `server` and `x-envoy-*` from its own answers, so only the body tells; these are
// Envoy's local-reply bodies (source/common/router/router.cc, upstream_request.cc) as it sends them.
const EG_REFUSED = 'upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused';
const EG_RESET = 'upstream connect error or disconnect/reset before headers. retried and the latest reset reason: connection termination';

const ROWS: Row[] = [
  { name: 'Envoy Gateway: pod refuses (no server header)', status: 503, headers: { 'content-type': 'text/plain' }, body: EG_REFUSED, expected: 'envoy' },
  { name: 'Envoy Gateway: pod resets after a retry (no server header)', status: 503, headers: { 'content-type': 'text/plain' }, body: EG_RESET, expected: 'envoy' },
  { name: 'Envoy Gateway: no ready endpoint (no server header)', status: 503, headers: { 'content-type': 'text/plain' }, body: 'no healthy upstream', expected: 'envoy' },
  { name: 'Envoy Gateway: HTTPRoute timeouts.request exceeded (no server header)', status: 504, headers: { 'content-type': 'text/plain' }, body: 'upstream request timeout', expected: 'envoy' },
  // An invalid backendRef is a direct_response 500 with an empty body and no server header: nothing tells who sent it.
  { name: 'Envoy Gateway: invalid backendRef (empty 500)', status: 500, headers: {}, body: '', expected: null },
  { name: "nginx's 502 page", status: 502, headers: { server: 'nginx/1.22.1', 'content-type': 'text/html' }, body: NGINX_502, expected: 'nginx' },
  { name: "nginx's 504 page with server_tokens off", status: 504, headers: { server: 'nginx' }, body: NGINX_504_NO_TOKENS, expected: 'nginx' },
  { name: "ingress-nginx's own ssl-redirect", status: 308, headers: { server: 'nginx', location: 'https://a.test/' }, body: NGINX_308, expected: 'nginx' },
  { name: "an app's JSON 500 passed through nginx", status: 500, headers: { server: 'nginx', 'content-type': 'application/json' }, body: '{"error":"db down"}', expected: 'upstream' },
  { name: "an app's 200 passed through nginx", status: 200, headers: { server: 'nginx', 'content-type': 'text/html' }, body: '<html>shop</html>', expected: 'upstream' },
  { name: "HAProxy's 502", status: 502, headers: { 'content-type': 'text/html' }, body: HAPROXY_502, expected: 'haproxy' },
  { name: "HAProxy's 503", status: 503, headers: { 'content-type': 'text/html' }, body: HAPROXY_503, expected: 'haproxy' },
  { name: "HAProxy's 504", status: 504, headers: { 'content-type': 'text/html' }, body: HAPROXY_504, expected: 'haproxy' },
  { name: "Envoy's connect failure", status: 503, headers: { server: 'envoy', 'content-type': 'text/plain' }, body: ENVOY_RESET, expected: 'envoy' },
  { name: "Envoy's no healthy upstream", status: 503, headers: { server: 'envoy' }, body: 'no healthy upstream', expected: 'envoy' },
  { name: "Envoy's upstream timeout", status: 504, headers: { server: 'envoy' }, body: 'upstream request timeout', expected: 'envoy' },
  { name: "Envoy's empty 404 (no route)", status: 404, headers: { server: 'envoy' }, body: '', expected: 'envoy' },
  {
    name: "an inner proxy's page relayed by Envoy (it has x-envoy-upstream-service-time)",
    status: 503,
    headers: { server: 'envoy', 'x-envoy-upstream-service-time': '2' },
    body: 'no healthy upstream',
    expected: 'upstream',
  },
  { name: "an app's 500 relayed by Envoy", status: 500, headers: { server: 'envoy', 'x-envoy-upstream-service-time': '12' }, body: 'oops', expected: 'upstream' },
  { name: "Traefik's 502", status: 502, headers: { 'content-type': TEXT }, body: 'Bad Gateway', expected: 'traefik' },
  { name: "Traefik's 504", status: 504, headers: { 'content-type': TEXT }, body: 'Gateway Timeout', expected: 'traefik' },
  { name: "Traefik's balancer with no server", status: 503, headers: { 'content-type': TEXT, 'x-content-type-options': 'nosniff' }, body: 'no available server\n', expected: 'traefik' },
  { name: "a Go app's http.Error 502 (trailing newline)", status: 502, headers: { 'content-type': TEXT }, body: 'Bad Gateway\n', expected: null },
  { name: "Kong's 502", status: 502, headers: { server: 'kong/3.4.2', 'content-type': 'application/json; charset=utf-8' }, body: KONG_502, expected: 'kong' },
  { name: "Kong's 503 with a request id", status: 503, headers: { 'content-type': 'application/json', 'x-kong-response-latency': '1' }, body: KONG_503_WITH_ID, expected: 'kong' },
  {
    name: "an app's JSON 500 relayed by Kong",
    status: 500,
    headers: { via: '1.1 kong/3.4.2', 'x-kong-upstream-latency': '7', 'content-type': 'application/json' },
    body: '{"message":"boom"}',
    expected: 'upstream',
  },
  { name: "AWS ALB's 502", status: 502, headers: { server: 'awselb/2.0', 'content-type': 'text/html' }, body: ALB_502, expected: 'aws-alb' },
  { name: "AWS ALB's empty 502", status: 502, headers: { server: 'awselb/2.0' }, body: '', expected: 'aws-alb' },
  { name: "Google Cloud LB's 502 page", status: 502, headers: { 'content-type': 'text/html; charset=UTF-8' }, body: GOOGLE_502, expected: 'gcp-lb' },
  { name: "Google Cloud LB's own no healthy upstream", status: 503, headers: { via: '1.1 google' }, body: 'no healthy upstream', expected: 'gcp-lb' },
  { name: "an app's 503 relayed by Google Cloud LB", status: 503, headers: { via: '1.1 google', 'content-type': 'application/json' }, body: '{"busy":true}', expected: 'upstream' },
  { name: "Cloudflare's 502", status: 502, headers: { server: 'cloudflare', 'cf-ray': '8a1b' }, body: 'error code: 502', expected: 'cloud-lb' },
  { name: "Azure Application Gateway's 502", status: 502, headers: { server: 'Microsoft-Azure-Application-Gateway/v2' }, body: '<html>...</html>', expected: 'cloud-lb' },
  { name: "an Express app's 500", status: 500, headers: { 'x-powered-by': 'Express', 'content-type': 'text/html' }, body: 'Internal Server Error', expected: 'upstream' },
  { name: "a gunicorn app's 503", status: 503, headers: { server: 'gunicorn' }, body: 'busy', expected: 'upstream' },
  { name: 'a bare 502 with nothing to go by', status: 502, headers: {}, body: '', expected: null },
  { name: 'a bare 200', status: 200, headers: {}, body: 'ok', expected: 'upstream' },
];

describe('recogniseGenerator', () => {
  it.each(ROWS)('$name -> $expected', ({ status, headers, body, expected }) => {
    expect(recogniseGenerator(status, headers, body)).toBe(expected);
  });
});
