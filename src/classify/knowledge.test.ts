import { describe, expect, it } from 'vitest';
import { controllerFacts, routeFixture } from '../../test/fixtures.js';
import type { ControllerKind, ControllerSettingsOverrides } from '../model.js';
import { DEFAULT_UPSTREAM } from '../config/schema.js';
import { controllerSettings, gatewayDuration, gatewayImplementation, haproxyTime, KNOWLEDGE, nginxSize } from './knowledge.js';

const nginxRoute = (annotations: Record<string, string> = {}, settings?: ControllerSettingsOverrides) =>
  routeFixture({ annotations, controller: controllerFacts(settings === undefined ? {} : { settings }) });

describe('controllerSettings', () => {
  it('gives ingress-nginx defaults with their source', () => {
    const s = controllerSettings(nginxRoute());
    expect(s).toMatchObject({
      kind: 'ingress-nginx',
      connectTimeoutMs: { value: 5000, source: 'ingress-nginx default' },
      readTimeoutMs: { value: 60_000, source: 'ingress-nginx default' },
      proxyBufferBytes: { value: 4096 },
      upstreamKeepaliveTimeoutMs: { value: 60_000 },
      backendProtocol: { value: 'http' },
    });
    expect(s?.retries.retriesNonIdempotent).toBe(false);
  });

  it('configured overrides replace the defaults; annotations win over both', () => {
    const route = nginxRoute(
      { 'nginx.ingress.kubernetes.io/proxy-read-timeout': '7', 'nginx.ingress.kubernetes.io/proxy-buffer-size': '16k' },
      { readTimeoutMs: 2000, connectTimeoutMs: 1000, upstreamKeepaliveTimeoutMs: 1000 },
    );
    const s = controllerSettings(route);
    expect(s?.readTimeoutMs).toEqual({ value: 7000, source: 'annotation nginx.ingress.kubernetes.io/proxy-read-timeout: 7' });
    expect(s?.connectTimeoutMs).toEqual({ value: 1000, source: 'configured' });
    expect(s?.proxyBufferBytes.value).toBe(16 * 1024);
    expect(s?.upstreamKeepaliveTimeoutMs).toEqual({ value: 1000, source: 'configured' });
  });

  it('ignores an annotation the controller would ignore', () => {
    const s = controllerSettings(nginxRoute({ 'nginx.ingress.kubernetes.io/proxy-read-timeout': '5s' }, { readTimeoutMs: 2000 }));
    expect(s?.readTimeoutMs).toEqual({ value: 2000, source: 'configured' });
  });

  it.each<[string, ControllerKind, Record<string, string>, string]>([
    ['ingress-nginx backend-protocol GRPC', 'ingress-nginx', { 'nginx.ingress.kubernetes.io/backend-protocol': 'GRPC' }, 'grpc'],
    ['ingress-nginx backend-protocol HTTPS', 'ingress-nginx', { 'nginx.ingress.kubernetes.io/backend-protocol': 'https' }, 'https'],
    ['HAProxy server-ssl', 'haproxy', { 'haproxy.org/server-ssl': 'true' }, 'https'],
    ['HAProxy server-proto h2', 'haproxy', { 'haproxy.org/server-proto': 'h2' }, 'h2c'],
    ['Traefik serversscheme h2c', 'traefik', { 'traefik.ingress.kubernetes.io/service.serversscheme': 'h2c' }, 'h2c'],
    ['Contour upstream-protocol.h2c naming the port', 'contour', { 'projectcontour.io/upstream-protocol.h2c': '80' }, 'h2c'],
    ['Contour upstream-protocol.h2c naming another port', 'contour', { 'projectcontour.io/upstream-protocol.h2c': '9999' }, 'http'],
    ['Kong protocol grpcs', 'kong', { 'konghq.com/protocol': 'grpcs' }, 'grpcs'],
  ])('%s', (_name, kind, annotations, protocol) => {
    const s = controllerSettings(routeFixture({ annotations, controller: controllerFacts({ kind }) }));
    expect(s?.backendProtocol.value).toBe(protocol);
  });

  it('Contour reads appProtocol; ingress-nginx does not, and says so as a hint', () => {
    const servicePort = { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' };
    const contour = controllerSettings(routeFixture({ servicePort, controller: controllerFacts({ kind: 'contour' }) }));
    expect(contour?.backendProtocol.value).toBe('h2c');
    expect(contour?.protocolHints).toEqual([]);
    const nginx = controllerSettings(routeFixture({ servicePort }));
    expect(nginx?.backendProtocol.value).toBe('http');
    expect(nginx?.protocolHints.join()).toContain('does not read appProtocol');
  });

  it('reads HAProxy and Contour timeout annotations in their own units', () => {
    const haproxy = controllerSettings(routeFixture({ annotations: { 'haproxy.org/timeout-server': '3s' }, controller: controllerFacts({ kind: 'haproxy' }) }));
    expect(haproxy?.readTimeoutMs.value).toBe(3000);
    const contour = controllerSettings(routeFixture({ annotations: { 'projectcontour.io/response-timeout': '1m30s' }, controller: controllerFacts({ kind: 'contour' }) }));
    expect(contour?.readTimeoutMs.value).toBe(90_000);
    const infinite = controllerSettings(routeFixture({ annotations: { 'projectcontour.io/response-timeout': 'infinity' }, controller: controllerFacts({ kind: 'contour' }) }));
    expect(infinite?.readTimeoutMs.value).toBeNull();
  });

  it('what each controller does with the request: underscores, header and body limits, rewrites; unknown for a kind without an entry', () => {
    const nginx = controllerSettings(nginxRoute({ 'nginx.ingress.kubernetes.io/rewrite-target': '/$2', 'nginx.ingress.kubernetes.io/proxy-body-size': '0' }));
    expect(nginx?.request).toMatchObject({ underscores: 'dropped', headerLineBytes: 8192, headerBlockBytes: 32_768 });
    expect(nginx?.requestBodyBytes).toEqual({ value: null, source: 'annotation nginx.ingress.kubernetes.io/proxy-body-size: 0' });
    expect(nginx?.rewrite).toEqual({ value: '/$2', source: 'annotation nginx.ingress.kubernetes.io/rewrite-target: /$2' });
    expect(controllerSettings(nginxRoute())?.requestBodyBytes).toEqual({ value: 1024 * 1024, source: 'ingress-nginx default' });
    const haproxy = controllerSettings(routeFixture({ controller: controllerFacts({ kind: 'haproxy' }) }));
    expect([haproxy?.request?.underscores, haproxy?.request?.headerBlockBytes, haproxy?.requestBodyBytes?.value, haproxy?.rewrite]).toEqual(['passed', 15_360, null, null]);
    const kong = controllerSettings(routeFixture({ controller: controllerFacts({ kind: 'kong' }) }));
    expect([kong?.request, kong?.requestBodyBytes]).toEqual([null, null]);
  });

  it('is null without a controller', () => {
    expect(controllerSettings(routeFixture({ controller: null }))).toBeNull();
  });
});

describe('the table', () => {
  it('has an entry for every kind, and config defaults come from it', () => {
    for (const kind of Object.keys(DEFAULT_UPSTREAM) as ControllerKind[]) expect(DEFAULT_UPSTREAM[kind]).toBe(KNOWLEDGE[kind].upstream);
  });

  it.each([
    ['4096', 4096],
    ['4k', 4096],
    ['8K', 8192],
    ['1m', 1024 * 1024],
    ['4kb', undefined],
  ])('nginxSize(%j) is %j', (text, bytes) => expect(nginxSize(text)).toBe(bytes));

  it.each([
    ['5000', 5000],
    ['5s', 5000],
    ['2m', 120_000],
    ['0', undefined],
    ['5 s', undefined],
  ])('haproxyTime(%j) is %j', (text, ms) => expect(haproxyTime(text)).toBe(ms));
});

describe('Gateway API implementations', () => {
  it.each<[string, ControllerKind | null]>([
    ['gateway.envoyproxy.io/gatewayclass-controller', 'envoy-gateway'],
    ['gateway.nginx.org/nginx-gateway-controller', 'nginx-gateway-fabric'],
    ['istio.io/gateway-controller', 'istio'],
    ['kgateway.dev/kgateway', 'kgateway'],
    ['io.cilium/gateway-controller', 'cilium'],
    ['traefik.io/gateway-controller', 'traefik'],
    ['example.com/unknown', null],
  ])('controllerName %s is %s', (name, kind) => expect(gatewayImplementation(name)).toBe(kind));

  it.each<[ControllerKind, number | null, number | null, number | null, boolean, string | null]>([
    // kind, connect, read (route) timeout, keep-alive idle, retries a reused idempotent request, pod namespace
    ['envoy-gateway', 10_000, 15_000, 3_600_000, false, 'envoy-gateway-system'],
    ['nginx-gateway-fabric', 60_000, 60_000, 0, true, null],
    ['istio', 10_000, null, 3_600_000, true, null],
    ['kgateway', 5000, 15_000, 3_600_000, false, null],
    ['cilium', null, null, 3_600_000, false, null],
    ['traefik', 30_000, null, 90_000, true, '*'],
  ])('%s: connect %s ms, route %s ms, idle %s ms, retries %s, pods in %s', (kind, connect, read, idle, retries, namespace) => {
    const k = KNOWLEDGE[kind];
    expect([k.connectTimeoutMs, k.readTimeoutMs, k.upstreamKeepaliveTimeoutMs, k.retries.retriesReusedIdempotent, k.gateway?.podNamespace]).toEqual([connect, read, idle, retries, namespace]);
    expect(k.upstream).toBe('endpoints');
  });

  it('finds per-Gateway pods by GEP-1762 except where the implementation has its own labels or none', () => {
    expect(KNOWLEDGE['nginx-gateway-fabric'].gateway?.podLabels).toEqual({ 'gateway.networking.k8s.io/gateway-name': '{gateway}' });
    expect(KNOWLEDGE.istio.gateway?.podLabels).toEqual({ 'gateway.networking.k8s.io/gateway-name': '{gateway}' });
    expect(KNOWLEDGE['envoy-gateway'].gateway).toMatchObject({ podLabels: { 'gateway.envoyproxy.io/owning-gateway-name': '{gateway}' }, lowPortOffset: 10_000 });
    expect(KNOWLEDGE.cilium.gateway?.podLabels).toBeNull();
    expect(KNOWLEDGE['envoy-gateway'].gateway?.answers.invalidBackend).toBe('500 with an empty body');
  });

  it.each([
    ['1s', 1000],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['0s', null],
    ['1.5s', undefined],
    ['10', undefined],
  ])('gatewayDuration(%j) is %j', (text, ms) => expect(gatewayDuration(text)).toBe(ms));
});
