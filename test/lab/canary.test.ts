// ingress-nginx canaries in the lab's real nginx: a canary Ingress splits its main Ingress's traffic
// by weight, by header and by cookie, header before cookie before weight (balancer.lua).

import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './lab.js';

const app = (name: string) => ({ namespace: 'shop', name, replicas: 2 });
const service = (name: string) => ({ namespace: 'shop', name, ports: [{ name: 'http', port: 8000, targetPort: 'http' }] });
const ingress = (name: string, host: string, svc: string, annotations: Record<string, string> = {}) => ({
  namespace: 'shop', name, annotations, rules: [{ host, paths: [{ path: '/', service: svc, port: 'http' }] }],
});
const canary = (extra: Record<string, string>) => ({ 'nginx.ingress.kubernetes.io/canary': 'true', ...extra });

let lab: Lab;

/** The app (Deployment name) whose pod answered. */
async function appOf(host: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await request(lab.edgeUrl, { headers: { host, ...headers }, reset: true, headersTimeout: 10_000, bodyTimeout: 10_000 });
  await res.body.text();
  const pod = res.headers['x-lab-pod'];
  expect(res.statusCode).toBe(200);
  return typeof pod === 'string' ? pod.replace(/-[0-9a-f]+-\d+$/, '') : '?';
}

async function count(host: string, n: number, headers: Record<string, string> = {}): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const app = await appOf(host, headers);
    counts.set(app, (counts.get(app) ?? 0) + 1);
  }
  return counts;
}

beforeAll(async () => {
  lab = await startLab({
    apps: ['cart', 'cart-v2'].map(app),
    services: ['cart', 'cart-v2'].map(service),
    ingresses: [
      ingress('weighted', 'weighted.test', 'cart'),
      ingress('weighted-canary', 'weighted.test', 'cart-v2', canary({ 'nginx.ingress.kubernetes.io/canary-weight': '25' })),
      ingress('header', 'header.test', 'cart'),
      ingress('header-canary', 'header.test', 'cart-v2', canary({ 'nginx.ingress.kubernetes.io/canary-by-header': 'X-Canary', 'nginx.ingress.kubernetes.io/canary-by-cookie': 'beta' })),
      ingress('valued', 'valued.test', 'cart'),
      ingress('valued-canary', 'valued.test', 'cart-v2', canary({ 'nginx.ingress.kubernetes.io/canary-by-header': 'X-Team', 'nginx.ingress.kubernetes.io/canary-by-header-value': 'blue' })),
      ingress('orphan-canary', 'orphan.test', 'cart-v2', canary({ 'nginx.ingress.kubernetes.io/canary-weight': '100' })),
    ],
  });
}, 60_000);

afterAll(async () => {
  await lab?.stop();
});

describe('canary Ingresses in the lab nginx', () => {
  it('splits by weight: about 25 % of requests reach the canary, the rest the main Service', async () => {
    const counts = await count('weighted.test', 200);
    const v2 = counts.get('cart-v2') ?? 0;
    expect((counts.get('cart') ?? 0) + v2).toBe(200);
    // 25 % of 200 is 50; a binomial spread of 6 either way, bounded generously.
    expect(v2).toBeGreaterThan(20);
    expect(v2).toBeLessThan(85);
  });

  it('selects by header ("always"/"never") and by cookie, header first; no selector: the main Service', async () => {
    expect(await count('header.test', 10)).toEqual(new Map([['cart', 10]]));
    expect(await count('header.test', 5, { 'x-canary': 'always' })).toEqual(new Map([['cart-v2', 5]]));
    expect(await count('header.test', 5, { cookie: 'beta=always' })).toEqual(new Map([['cart-v2', 5]]));
    expect(await count('header.test', 5, { 'x-canary': 'never', cookie: 'beta=always' })).toEqual(new Map([['cart', 5]]));
    expect(await count('header.test', 5, { 'x-canary': 'other', cookie: 'beta=always' })).toEqual(new Map([['cart-v2', 5]]));
  });

  it('selects by header value when one is set ("always" is then just another value)', async () => {
    expect(await count('valued.test', 5, { 'x-team': 'blue' })).toEqual(new Map([['cart-v2', 5]]));
    expect(await count('valued.test', 5, { 'x-team': 'always' })).toEqual(new Map([['cart', 5]]));
  });

  it('serves nothing for a canary without a main Ingress (the default server answers 404)', async () => {
    const res = await request(lab.edgeUrl, { headers: { host: 'orphan.test' }, reset: true });
    await res.body.text();
    expect(res.statusCode).toBe(404);
  });
});
