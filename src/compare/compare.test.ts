import { describe, expect, it } from 'vitest';
import { controllerFacts, routeFixture } from '../../test/fixtures.js';
import type { ControllerKind, HopResult, Route, RouteRound, Verdict } from '../model.js';
import { bodyDigest, comparePair, compareExitCode, maskTokens, notCompared, routeDifferences, volatileBody } from './compare.js';
import { findPairs, PairSelectionError, parseObjectName } from './pairs.js';
import { groupedDifferences, renderCompareTable } from './report.js';
import { predictRisks } from './risks.js';
import { variantReason } from './reasons.js';
import { controllerSettings } from '../classify/knowledge.js';
import type { Answer, Pair, Variant, VariantResult } from './types.js';
import { planVariants, toggleSlash, encodedPath, UNDERSCORE_HEADER, PAD_HEADER } from './variants.js';

/** A route of kind `kind` for shop.example.test/ through IngressClass `cls`. */
function side(id: string, name: string, cls: string, kind: ControllerKind, overrides: Partial<Route> = {}): Route {
  return routeFixture({
    id, name, ingress: name, ingressClass: cls,
    parent: { kind: 'IngressClass', namespace: null, name: cls, sectionName: null, port: null },
    controller: controllerFacts({ ingressClass: cls, kind }),
    ...overrides,
  });
}

const nginx = (overrides: Partial<Route> = {}): Route => side('r-nginx', 'web', 'nginx', 'ingress-nginx', overrides);
const haproxy = (overrides: Partial<Route> = {}): Route => side('r-haproxy', 'web-hp', 'haproxy', 'haproxy', overrides);
const pairOf = (old: Route, fresh: Route): Pair => ({ id: `${old.id} -> ${fresh.id}`, old, new: fresh, key: 'shop.example.test/', origin: 'automatic' });

function answer(overrides: Partial<Answer> = {}): Answer {
  return { hop: 'edge', target: '192.0.2.10:80', pod: null, status: 200, error: null, errorDetail: null, ms: 20, headers: { 'content-type': 'application/json' }, bodyBytes: 40, bodyDigest: 'aaa', generator: 'upstream', ...overrides };
}

/** Edge and one proxy pod answering the same. */
function both(overrides: Partial<Answer> = {}): Answer[] {
  return [answer(overrides), answer({ ...overrides, hop: 'controller', target: '10.1.0.1:80', pod: 'ingress-nginx/ctrl-a' })];
}

const OK: Verdict = { status: 'ok', hop: null, cause: 'ok', summary: 'answers 200 through every hop', evidence: [] };

function round(route: Route, verdict: Verdict = OK, hops: HopResult[] = []): RouteRound {
  return { route, startedAt: 0, durationMs: 1, hops, verdict };
}

function variant(kind: Variant['kind'], name: string = kind): Variant {
  return { name, kind, method: 'GET', path: '/', headers: [], body: null, summary: name };
}

function results(pair: Pair, perVariant: Partial<Record<Variant['kind'], [Answer[], Answer[]]>>): VariantResult[] {
  const kinds: Variant['kind'][] = ['probe', 'underscore-header', 'large-header', 'trailing-slash', 'cors'];
  return kinds.map((kind) => {
    const [old, fresh] = perVariant[kind] ?? perVariant.probe ?? [both(), both()];
    return { variant: variant(kind), old, new: fresh };
  });
}

describe('pairs', () => {
  it('finds the same host and path through two IngressClasses, ingress-nginx as the old side', () => {
    const pairs = findPairs([haproxy(), nginx(), routeFixture({ id: 'other', host: 'other.example.test' })], {});
    expect(pairs.map((p) => [p.old.id, p.new.id, p.key, p.origin])).toEqual([['r-nginx', 'r-haproxy', 'shop.example.test/', 'automatic']]);
  });

  it('an HTTPRoute is the new side of an Ingress, whatever the controller', () => {
    const gateway = haproxy({ id: 'r-gw', kind: 'HTTPRoute', parent: { kind: 'Gateway', namespace: 'infra', name: 'public', sectionName: 'http', port: 80 } });
    const [pair] = findPairs([gateway, haproxy()], {});
    expect([pair?.old.id, pair?.new.id]).toEqual(['r-haproxy', 'r-gw']);
  });

  it('two routes through the same front door are not a pair (a conflict, not a migration)', () => {
    expect(findPairs([nginx(), nginx({ id: 'r-nginx-2', name: 'web2' })], {})).toEqual([]);
  });

  it('--from/--to name the two sides, in that order', () => {
    const from = parseObjectName('--from', 'ingress/web-hp', 'shop');
    const to = parseObjectName('--to', 'ingress/web', 'shop');
    const [pair] = findPairs([nginx(), haproxy()], { from, to });
    expect([pair?.old.id, pair?.new.id, pair?.origin]).toEqual(['r-haproxy', 'r-nginx', 'explicit']);
  });

  it.each([
    ['a malformed name', () => parseObjectName('--from', 'web', undefined), '--from'],
    ['an unknown kind', () => parseObjectName('--to', 'service/web', undefined), '--to'],
    ['a namespace contradicting -n', () => parseObjectName('--from', 'ingress/other/web', 'shop'), '--from'],
    ['--from without --to', () => findPairs([nginx()], { from: { kind: 'Ingress', namespace: 'shop', name: 'web' } }), '--to'],
    ['an object with no route', () => findPairs([nginx(), haproxy()], { from: { kind: 'Ingress', namespace: 'shop', name: 'nope' }, to: { kind: 'Ingress', namespace: 'shop', name: 'web' } }), '--from'],
    ['two objects sharing no host and path', () => findPairs([nginx(), haproxy({ host: 'elsewhere.test' })], { from: { kind: 'Ingress', namespace: 'shop', name: 'web' }, to: { kind: 'Ingress', namespace: 'shop', name: 'web-hp' } }), '--to'],
  ])('%s is an error naming %s', (_name, run, flag) => {
    expect(run).toThrow(PairSelectionError);
    try {
      run();
    } catch (error) {
      expect((error as PairSelectionError).flag).toBe(flag);
      expect((error as Error).message).toContain(flag);
    }
  });
});

describe('variants', () => {
  it('GET and HEAD only by default: probe, head, underscore, large header, slash, encoded path', () => {
    const variants = planVariants(pairOf(nginx({ probe: { ...nginx().probe, path: '/api' } }), haproxy()), { methods: [] });
    expect(variants.map((v) => `${v.method} ${v.path} ${v.name}`)).toEqual([
      'GET /api probe', 'HEAD /api head', 'GET /api underscore-header', 'GET /api large-header', 'GET /api/ trailing-slash', 'GET /api/hopwatch%2Fcompare encoded-path', 'GET /api cors',
    ]);
    expect(variants[6]?.headers).toEqual([['origin', 'https://hopwatch-compare.invalid']]);
    expect(variants[2]?.headers).toEqual([[UNDERSCORE_HEADER, '1']]);
  });

  it('the large header fills 90 % of the old path\'s limit: ingress-nginx\'s 8 KiB line, HAProxy\'s 15 KiB block', () => {
    const size = (old: Route): number => {
      const v = planVariants(pairOf(old, nginx()), { methods: [] }).find((x) => x.kind === 'large-header');
      const [name, value] = v?.headers[0] ?? ['', ''];
      expect(name).toBe(PAD_HEADER);
      return name.length + value.length + 4;
    };
    expect(size(nginx())).toBe(Math.floor(8192 * 0.9));
    expect(size(haproxy())).toBe(Math.floor(15_360 * 0.9));
  });

  it('a rule match per canary header, and other methods only when asked', () => {
    const canary = { ...nginx().backends[0]!, key: 'shop/web-canary:80', role: 'canary' as const, selector: { header: { name: 'x-canary', value: 'always' }, cookie: null } };
    const old = nginx({ backends: [nginx().backends[0]!, canary] });
    const variants = planVariants(pairOf(old, haproxy()), { methods: ['POST'] });
    expect(variants.filter((v) => v.kind === 'match').map((v) => v.headers)).toEqual([[['x-canary', 'always']]]);
    expect(variants.filter((v) => v.kind === 'method').map((v) => [v.method, v.body])).toEqual([['POST', '{"hopwatch":"compare"}']]);
  });

  it.each([
    ['/', null, '/hopwatch%2Fcompare'],
    ['/api', '/api/', '/api/hopwatch%2Fcompare'],
    ['/api/', '/api', '/api/hopwatch%2Fcompare'],
    ['/api?x=1', '/api/?x=1', '/api/hopwatch%2Fcompare'],
  ])('%s: slash toggled %s, encoded %s', (path, slash, encoded) => {
    expect(toggleSlash(path)).toBe(slash);
    expect(encodedPath(path)).toBe(encoded);
  });
});

describe('bodies', () => {
  it('masks the backend pods\' names and addresses, so replicas digest alike', () => {
    const pair = pairOf(nginx(), haproxy());
    const tokens = maskTokens(pair);
    const a = bodyDigest(Buffer.from('{"pod":"web-1","ip":"10.2.0.1","path":"/"}'), tokens);
    const b = bodyDigest(Buffer.from('{"pod":"web-2","ip":"10.2.0.2","path":"/"}'), tokens);
    const c = bodyDigest(Buffer.from('{"pod":"web-2","ip":"10.2.0.2","path":"/app"}'), tokens);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it('a body that differs between one side\'s own answers is volatile', () => {
    const probe = (digests: string[]): VariantResult => ({ variant: variant('probe'), old: digests.map((d) => answer({ bodyDigest: d })), new: [answer()] });
    expect(volatileBody(probe(['aaa', 'aaa']))).toBe(false);
    expect(volatileBody(probe(['aaa', 'bbb']))).toBe(true);
  });
});

/** Named scenarios: both sides' answers -> outcome, differences and reasons. */
describe('comparePair', () => {
  const noHops: HopResult[] = [];
  const scenarios: {
    name: string;
    old: Route;
    fresh: Route;
    variants: Partial<Record<Variant['kind'], [Answer[], Answer[]]>>;
    rounds?: [Verdict, Verdict, HopResult[]];
    ignoreBody?: boolean;
    outcome: 'alike' | 'different';
    expect: { variant: string; kind: string; reason?: RegExp }[];
  }[] = [
    { name: 'identical paths', old: nginx(), fresh: haproxy(), variants: {}, outcome: 'alike', expect: [] },
    {
      name: 'a slow backend: the new path times out first, both timeouts named',
      old: haproxy({ controller: controllerFacts({ ingressClass: 'haproxy', kind: 'haproxy', settings: { readTimeoutMs: 6000 } }) }),
      fresh: nginx({ controller: controllerFacts({ settings: { readTimeoutMs: 2000 } }) }),
      variants: { probe: [both({ ms: 3000 }), both({ status: 504, ms: 4000, generator: 'nginx' })] },
      outcome: 'different',
      expect: [{ variant: 'probe', kind: 'status', reason: /new path: 504 after 4\.0 s — ingress-nginx proxy-read-timeout 2\.0 s \(configured\), retried on the next pod; old path: 200 after 3\.0 s — HAProxy timeout server 6\.0 s \(configured\)/ }],
    },
    {
      name: 'a response header block between the buffers: the smaller side\'s 502 named with its buffer',
      old: nginx(), fresh: haproxy(),
      variants: { probe: [both({ status: 502, generator: 'nginx' }), both()] },
      rounds: [{ ...OK, status: 'failing', hop: 'pod', cause: 'pod.headers-too-large' }, OK, [{ ...podHop(), headerBytes: 8200 }]],
      outcome: 'different',
      expect: [{ variant: 'probe', kind: 'status', reason: /old path: 502 — the pods' 8 KiB response header block exceeds ingress-nginx proxy-buffer-size 4 KiB \(ingress-nginx default\); new path: 200 after 20 ms — HAProxy tune\.bufsize - tune\.maxrewrite 15 KiB/ }],
    },
    {
      name: 'a header with an underscore reaches the pods through one side only',
      old: nginx(), fresh: haproxy(),
      variants: { probe: [both(), both()], 'underscore-header': [both({ bodyDigest: 'without' }), both({ bodyDigest: 'with' })] },
      outcome: 'different',
      expect: [{ variant: 'underscore-header', kind: 'body', reason: /old path: ingress-nginx drops headers whose name has an underscore.*new path: HAProxy passes headers with underscores/ }],
    },
    {
      name: 'a rewrite on one side only: the pods see other paths, bodies differ',
      old: nginx({ annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/' } }), fresh: haproxy(),
      variants: { probe: [both({ bodyDigest: 'root', bodyBytes: 60 }), both({ bodyDigest: 'app', bodyBytes: 63 })] },
      outcome: 'different',
      expect: [{ variant: 'probe', kind: 'body', reason: /rewrites the path \(annotation nginx\.ingress\.kubernetes\.io\/rewrite-target: \/\).*HAProxy passes the path unchanged/ }],
    },
    {
      name: 'the same rewrite difference, bodies ignored: only what is not the body is compared',
      old: nginx({ annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/' } }), fresh: haproxy(),
      variants: { probe: [both({ bodyDigest: 'root' }), both({ bodyDigest: 'app' })] },
      ignoreBody: true, outcome: 'alike', expect: [],
    },
    {
      name: 'a redirect elsewhere and another cookie matter',
      old: nginx(), fresh: haproxy(),
      variants: { 'trailing-slash': [both({ status: 301, headers: { location: 'http://shop.example.test/api/' } }), both({ status: 301, headers: { location: 'https://shop.example.test/api/', 'set-cookie': 'session' } })] },
      outcome: 'different',
      expect: [{ variant: 'trailing-slash', kind: 'location' }, { variant: 'trailing-slash', kind: 'cookies' }],
    },
    {
      name: 'CORS answered by the old controller (enable-cors), not translated to the new one',
      old: nginx({ annotations: { 'nginx.ingress.kubernetes.io/enable-cors': 'true' } }), fresh: haproxy(),
      variants: { probe: [both(), both()], cors: [both({ headers: { 'content-type': 'application/json', 'access-control-allow-origin': '*' } }), both()] },
      outcome: 'different',
      expect: [{ variant: 'cors', kind: 'header', reason: /^old path: ingress-nginx answers CORS itself \(annotation nginx\.ingress\.kubernetes\.io\/enable-cors: true\); new path: HAProxy leaves CORS to the app$/ }],
    },
    {
      name: 'slower alone does not matter',
      old: nginx(), fresh: haproxy(),
      variants: { probe: [both({ ms: 20 }), both({ ms: 900 })] },
      outcome: 'alike',
      expect: [{ variant: 'probe', kind: 'latency' }],
    },
  ];

  function podHop(): HopResult {
    return { hop: 'pod', target: '10.2.0.1:8080', address: '10.2.0.1', port: 8080, scheme: 'http', pod: 'shop/web-1', ready: true, terminating: false, status: 200, error: null, errorDetail: null, timings: { totalMs: 1 }, bytes: 10, headerBytes: 100, headers: {}, generator: 'upstream', addresses: [] };
  }

  it.each(scenarios)('$name', (s) => {
    const pair = pairOf(s.old, s.fresh);
    const [vo, vn, hops] = s.rounds ?? [OK, OK, noHops];
    const comparison = comparePair(pair, { variants: results(pair, s.variants), rounds: { old: round(s.old, vo, hops), new: round(s.fresh, vn, hops) } }, { ignoreBody: s.ignoreBody ?? false });
    expect(comparison.outcome).toBe(s.outcome);
    const shown = comparison.differences.filter((d) => d.variant !== 'route');
    for (const e of s.expect) {
      const found = shown.find((d) => d.variant === e.variant && d.kind === e.kind);
      expect(found, `${e.variant} ${e.kind} in ${JSON.stringify(shown.map((d) => d.summary))}`).toBeDefined();
      if (e.reason) expect(found?.reason ?? '').toMatch(e.reason);
    }
    if (s.expect.length === 0) expect(shown).toEqual([]);
  });

  it('a variant answered otherwise than the probe request keeps its own reason; the others share the probe\'s, on one table line', () => {
    const old = haproxy({ controller: controllerFacts({ ingressClass: 'haproxy', kind: 'haproxy', settings: { readTimeoutMs: 6000 } }) });
    const fresh = nginx({ controller: controllerFacts({ settings: { readTimeoutMs: 2000 } }) });
    const pair = pairOf(old, fresh);
    const timeout: [Answer[], Answer[]] = [both({ ms: 3000 }), both({ status: 504, ms: 4000 })];
    const variants = results(pair, { probe: timeout, 'large-header': [both({ ms: 3000 }), both({ status: 400, ms: 5 })] });
    const c = comparePair(pair, { variants, rounds: { old: round(old), new: round(fresh) } }, { ignoreBody: false });
    const large = c.differences.find((d) => d.variant === 'large-header');
    expect(large?.reason).toBe('old path: HAProxy tune.bufsize - tune.maxrewrite: 15 KiB in all; new path: ingress-nginx large-client-header-buffers 4 8k: 8 KiB per line, 32 KiB in all');
    expect(c.differences.find((d) => d.variant === 'underscore-header')?.cause).toBe('timeout');
    expect(c.risks.map((r) => r.kind)).not.toContain('request-headers');
    const lines = groupedDifferences(c.differences).map((d) => d.variant);
    expect(lines).toEqual(['probe, underscore-header, trailing-slash, cors', 'large-header']);
    expect(renderCompareTable([c])).toContain('✗ probe, underscore-header, trailing-slash, cors: status differs at the proxy pods: old 200 after 3.0 s, new 504 after 4.0 s — new path: 504');
  });

  it('a verdict that differs hop by hop is a difference of the routes; worse on the new side, it matters', () => {
    const pair = pairOf(nginx(), haproxy());
    const failing: Verdict = { status: 'failing', hop: 'controller', cause: 'controller.error', summary: 'every controller pod answers 502', evidence: [] };
    const c = comparePair(pair, { variants: results(pair, {}), rounds: { old: round(pair.old), new: round(pair.new, failing) } }, { ignoreBody: false });
    expect(c.differences[0]).toMatchObject({ variant: 'route', kind: 'verdict', matters: true, new: 'failing at controller: controller.error' });
  });

  it('exit codes: 1 when a pair differs, 2 when one could not be compared or none was found, else 0', () => {
    const pair = pairOf(nginx(), haproxy());
    const alike = comparePair(pair, { variants: results(pair, {}), rounds: { old: round(pair.old), new: round(pair.new) } }, { ignoreBody: false });
    const different = { ...alike, outcome: 'different' as const };
    expect(compareExitCode([alike])).toBe(0);
    expect(compareExitCode([alike, different, notCompared(pair, 'x')])).toBe(1);
    expect(compareExitCode([alike, notCompared(pair, 'x')])).toBe(2);
    expect(compareExitCode([])).toBe(2);
  });
});

describe('variant reasons', () => {
  it('an underscore or large-header variant is explained by its setting only when the two sides\' settings differ', () => {
    const ngf = side('r-gw', 'web', 'gw-class', 'nginx-gateway-fabric', { kind: 'HTTPRoute', parent: { kind: 'Gateway', namespace: 'infra', name: 'public', sectionName: 'http', port: 80 } });
    const same = { settings: { old: controllerSettings(nginx()), new: controllerSettings(ngf) }, podHeaderBytes: null };
    expect(variantReason(variant('underscore-header'), same)).toBeNull();
    expect(variantReason(variant('large-header'), same)).toBeNull();
    const other = { settings: { old: controllerSettings(nginx()), new: controllerSettings({ ...ngf, controller: controllerFacts({ ingressClass: 'gw-class', kind: 'envoy-gateway' }) }) }, podHeaderBytes: null };
    expect(variantReason(variant('underscore-header'), other)?.text).toBe(
      'old path: ingress-nginx drops headers whose name has an underscore (enable-underscores-in-headers: false); new path: Envoy Gateway rejects requests with such headers (400) (ClientTrafficPolicy headers.withUnderscoresAction: RejectRequest (default))',
    );
    expect(variantReason(variant('large-header'), other)?.cause).toBe('request-headers');
  });
});

describe('route differences', () => {
  it('the same Service port named by name on the Ingress and by number on the HTTPRoute is the same backend', () => {
    const old = nginx();
    const primary = old.backends[0]!;
    expect(primary.servicePort).not.toBeNull();
    const byNumber = { ...primary, key: `${primary.ref.namespace}/${primary.ref.service}:${primary.servicePort?.port ?? 0}`, ref: { ...primary.ref, port: primary.servicePort?.port ?? 0 } };
    const byName = { ...primary, key: `${primary.ref.namespace}/${primary.ref.service}:http`, ref: { ...primary.ref, port: 'http' } };
    const fresh = haproxy({ kind: 'HTTPRoute', backends: [byNumber] });
    expect(routeDifferences(pairOf({ ...old, backends: [byName] }, fresh), { old: round(old), new: round(fresh) })).toEqual([]);
    const elsewhere = { ...byNumber, ref: { ...byNumber.ref, service: 'other' } };
    expect(routeDifferences(pairOf({ ...old, backends: [byName] }, haproxy({ backends: [elsewhere] })), { old: round(old), new: round(fresh) }).map((d) => d.kind)).toEqual(['backends']);
  });
});

describe('risks', () => {
  const settings = (old: Route, fresh: Route) => ({ old: controllerSettings(old), new: controllerSettings(fresh) });

  it('ingress-nginx -> HAProxy: retries lost, a smaller request header block, underscores passed; no timeout risk (50 s < 60 s is one)', () => {
    const risks = predictRisks(settings(nginx(), haproxy()), new Set());
    expect(risks.map((r) => r.kind).sort()).toEqual(['request-headers', 'retries', 'timeout', 'underscores']);
    expect(risks.find((r) => r.kind === 'timeout')?.summary).toBe('a response taking between 50.0 s and 60.0 s: the new path answers 504 where the old one waits');
    expect(risks.find((r) => r.kind === 'retries')?.old).toContain('retries errors and timeouts on the next pod');
  });

  it('ingress-nginx -> Contour (Envoy): the 15 s route timeout and a longer keep-alive window', () => {
    const contour = side('r-contour', 'web-c', 'contour', 'contour');
    const risks = predictRisks(settings(nginx(), contour), new Set());
    expect(risks.find((r) => r.kind === 'timeout')).toMatchObject({ old: 'ingress-nginx proxy-read-timeout 60.0 s (ingress-nginx default)', new: 'Contour (Envoy) response timeout 15.0 s (Contour (Envoy) default)' });
    expect(risks.find((r) => r.kind === 'keepalive')?.summary).toBe('pods that close idle connections after 60.0 s to 3600.0 s: the new path reuses connections the pods are closing (rare 502s)');
  });

  it('a kind the sample already showed is not listed again; a body limit tightened by annotation is', () => {
    const fresh = nginx({ id: 'r2', annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '64k' } });
    const risks = predictRisks(settings(haproxy(), fresh), new Set(['underscores']));
    expect(risks.map((r) => r.kind)).not.toContain('underscores');
    expect(risks.find((r) => r.kind === 'body-limit')?.summary).toBe('a request body over 64 KiB (uploads): the new path answers 413 where the old one takes it');
  });

  /** An HTTPRoute of the Gateway "infra/public" served by `kind`. */
  const httpRoute = (kind: ControllerKind, probe: Partial<Route['probe']> = {}): Route => {
    const base = side('r-gw', 'web', 'gw-class', kind, { kind: 'HTTPRoute', parent: { kind: 'Gateway', namespace: 'infra', name: 'public', sectionName: 'http', port: 80 } });
    return { ...base, probe: { ...base.probe, ...probe } };
  };

  it('ingress-nginx -> Envoy Gateway: underscores rejected with 400, 15 s route timeout, retries lost; no body-limit risk (Envoy has none)', () => {
    const risks = predictRisks(settings(nginx(), httpRoute('envoy-gateway')), new Set());
    expect(risks.map((r) => r.kind).sort()).toEqual(['keepalive', 'retries', 'timeout', 'underscores']);
    expect(risks.find((r) => r.kind === 'underscores')).toMatchObject({
      old: 'ingress-nginx drops headers whose name has an underscore (enable-underscores-in-headers: false)',
      new: 'Envoy Gateway rejects requests with such headers (400) (ClientTrafficPolicy headers.withUnderscoresAction: RejectRequest (default))',
      summary: 'a client sending a header whose name has an underscore: the new path rejects the request (400)',
    });
  });

  it('ingress-nginx -> NGINX Gateway Fabric: the same request limits (nginx\'s defaults), so no request risk; keep-alive off is no risk either', () => {
    const risks = predictRisks(settings(nginx(), httpRoute('nginx-gateway-fabric')), new Set());
    expect(risks.map((r) => r.kind).sort()).toEqual([]);
    expect(controllerSettings(httpRoute('nginx-gateway-fabric'))?.requestBodyBytes).toEqual({ value: 1024 * 1024, source: 'NGINX Gateway Fabric default' });
  });

  it('a rewrite-target on the Ingress side and a URLRewrite on the HTTPRoute side: compared by the path the pods get', () => {
    const old = nginx({ annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/' } });
    const rewritten = httpRoute('nginx-gateway-fabric', { path: '/app', backendPath: '/' });
    expect(predictRisks(settings(old, rewritten), new Set()).map((r) => r.kind)).not.toContain('rewrite');
    const wrong = httpRoute('nginx-gateway-fabric', { path: '/app', backendPath: '/app/' });
    expect(predictRisks(settings(old, wrong), new Set()).find((r) => r.kind === 'rewrite')?.new).toBe('NGINX Gateway Fabric rewrites the path (HTTPRoute URLRewrite: the pods get /app/ for /app)');
    // Only on the HTTPRoute side: the Ingress passes the path, the Gateway rewrites it.
    expect(predictRisks(settings(nginx(), rewritten), new Set()).find((r) => r.kind === 'rewrite')).toMatchObject({ old: 'ingress-nginx passes the path unchanged' });
  });

  it('no settings on a side, no prediction', () => {
    expect(predictRisks({ old: null, new: controllerSettings(nginx()) }, new Set())).toEqual([]);
  });
});
