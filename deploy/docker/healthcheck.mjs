// The image's HEALTHCHECK: GET /healthz where hopwatch listens ($HOPWATCH_LISTEN, 0.0.0.0:8080 in the
// image; a wildcard host is asked on loopback). Exit 0 healthy, 1 not. The slim image has no curl.
const listen = process.env.HOPWATCH_LISTEN || '0.0.0.0:8080';
const colon = listen.lastIndexOf(':');
const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
const target = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
const url = `http://${target.includes(':') ? `[${target}]` : target}:${listen.slice(colon + 1)}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
