import { describe, expect, test } from 'vitest';
import { describeValue, formatPath, suggest, validateConfig } from './schema.js';

const NOW = Date.UTC(2024, 0, 1);

/** The problems of a document, as "path: message" lines. */
function problems(document: unknown): string[] {
  const result = validateConfig(document, NOW);
  if (result.ok) throw new Error('expected problems, the document is valid');
  return result.problems.map((p) => `${formatPath(p.path)}: ${p.message}`);
}

describe('validateConfig', () => {
  test.each<[string, unknown, string[]]>([
    ['unknown key inside a list item', { controllers: [{ ingressClass: 'a', pods: { selectr: 'a=b' } }] }, ['controllers[0].pods.selectr: unknown field (did you mean selector?)']],
    ['unknown key inside an override match', { schedule: { overrides: [{ match: { namespaces: 'x' }, schedule: '1m' }] } }, ['schedule.overrides[0].match.namespaces: unknown field (did you mean namespace?)']],
    ['unknown key in a webhook', { alerts: { webhooks: [{ url: 'http://127.204.0.1/', header: {} }] } }, ['alerts.webhooks[0].header: unknown field (did you mean headers?)']],
    ['a far-off unknown key gets no suggestion', { probe: { zzzzzz: 1 } }, ['probe.zzzzzz: unknown field']],
    ['spelling with underscores is suggested', { controllers: [{ ingressClass: 'a', edge_https: 'https://x' }] }, ['controllers[0].edge_https: unknown field (did you mean edgeHttps?)']],
    ['an empty match next to an unrelated problem', { probe: { concurrency: 0 }, schedule: { overrides: [{ match: {}, schedule: '1m' }] } }, ['probe.concurrency: expected an integer from 1 to 10000, got 0', 'schedule.overrides[0].match: expected namespace, ingress or both (to change every route, set schedule.default)']],
    ['an empty controller list', { controllers: [] }, ['controllers: expected at least one of the controllers (leave the field out for the default nginx controller)']],
    ['an empty namespace list', { cluster: { namespaces: [] } }, ['cluster.namespaces: expected at least one namespace (leave the field out to watch all)']],
    ['a bad header name', { alerts: { webhooks: [{ url: 'https://x.example/h', headers: { 'Bad Header': 'v' } }] } }, ['alerts.webhooks[0].headers["Bad Header"]: not a valid HTTP header name']],
    ['a header value with a line break', { alerts: { webhooks: [{ url: 'https://x.example/h', headers: { 'X-A': 'a\r\nb' } }] } }, ['alerts.webhooks[0].headers.X-A: a header value must not contain line breaks']],
    ['a webhook URL with credentials', { alerts: { webhooks: [{ url: 'https://u:p@x.example/h' }] } }, ['alerts.webhooks[0].url: expected an http or https URL like http://host/path without credentials, got a URL with user info']],
    ['a bad schedule override ingress name', { schedule: { overrides: [{ match: { ingress: 'Shop_Front' }, schedule: '1m' }] } }, ['schedule.overrides[0].match.ingress: expected an Ingress name (lowercase letters, digits, "-" and "."), got "Shop_Front"']],
    ['null for a field that needs a value', { probe: { timeoutMs: null } }, ['probe.timeoutMs: expected milliseconds (an integer) or a duration like "5s", got null']],
    ['a port out of range', { controllers: [{ ingressClass: 'a', pods: { httpsPort: 70000 } }] }, ['controllers[0].pods.httpsPort: expected an integer from 1 to 65535, got 70000']],
    ['a DNS server with a zero port', { cluster: { dnsServer: '127.0.0.1:0' } }, ['cluster.dnsServer: expected an IP address or ip:port like 10.96.0.10 or 127.0.0.1:5353, got "127.0.0.1:0"']],
  ])('%s', (_name, document, expected) => {
    expect(problems(document)).toEqual(expected);
  });

  test.each([
    ['IPv6 DNS server with a port', { cluster: { dnsServer: '[::1]:5353' } }],
    ['IPv6 DNS server alone', { cluster: { dnsServer: 'fd00::10' } }],
    ['listen on port 0 (any free port)', { server: { listen: '127.204.0.1:0' } }],
    ['listen by name', { server: { listen: 'localhost:8080' } }],
    ['listen on IPv6', { server: { listen: '[::1]:8080' } }],
    ['retention kept forever', { store: { retention: { rawDays: null, minuteDays: null, hourDays: null, dayDays: null } } }],
    ['a set-based selector', { controllers: [{ ingressClass: 'a', pods: { selector: 'app in (x,y),!legacy' } }] }],
  ])('%s is valid', (_name, document) => {
    expect(validateConfig(document, NOW).ok).toBe(true);
  });
});

describe('controllers[].settings', () => {
  test('parses durations and sizes; absent fields stay absent, absent block stays absent', () => {
    const result = validateConfig(
      { controllers: [{ ingressClass: 'nginx', settings: { readTimeoutMs: '2s', connectTimeoutMs: 1000, proxyBufferBytes: '8k', upstreamKeepaliveTimeoutMs: 0 } }, { ingressClass: 'haproxy', kind: 'haproxy' }] },
      NOW,
    );
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.config.controllers[0]?.settings).toEqual({ readTimeoutMs: 2000, connectTimeoutMs: 1000, proxyBufferBytes: 8192, upstreamKeepaliveTimeoutMs: 0 });
    expect(result.config.controllers[1]?.settings).toBeUndefined();
    expect(result.config.controllers[1]?.upstream).toBe('endpoints');
  });

  test('a partial block keeps only what it sets', () => {
    const result = validateConfig({ controllers: [{ ingressClass: 'nginx', settings: { readTimeoutMs: '90s' } }] }, NOW);
    expect(result.ok && result.config.controllers[0]?.settings).toEqual({ readTimeoutMs: 90_000 });
  });
});

describe('helpers', () => {
  test.each([
    [[], ''],
    [['probe', 'timeoutMs'], 'probe.timeoutMs'],
    [['controllers', 0, 'pods', 'httpPort'], 'controllers[0].pods.httpPort'],
    [['alerts', 'webhooks', 1, 'headers', 'X-Api-Key'], 'alerts.webhooks[1].headers.X-Api-Key'],
    [['headers', 'a.b'], 'headers["a.b"]'],
  ])('formatPath(%j) is %j', (path, expected) => {
    expect(formatPath(path)).toBe(expected);
  });

  test.each([
    [undefined, 'nothing'],
    [null, 'null'],
    ['80x', '"80x"'],
    [80, '80'],
    [true, 'true'],
    [[1], 'a list'],
    [{ a: 1 }, 'a mapping'],
    ['x'.repeat(100), `"${'x'.repeat(77)}..."`],
  ])('describeValue(%j) is %s', (value, expected) => {
    expect(describeValue(value)).toBe(expected);
  });

  test.each([
    ['timeout', ['timeoutMs', 'concurrency'], 'timeoutMs'],
    ['concurency', ['timeoutMs', 'concurrency'], 'concurrency'],
    ['TimeoutMS', ['timeoutMs', 'concurrency'], 'timeoutMs'],
    ['retries', ['timeoutMs', 'concurrency'], null],
    ['x', [], null],
  ])('suggest(%j) is %j', (word, candidates, expected) => {
    expect(suggest(word, candidates)).toBe(expected);
  });
});
