import { describe, expect, it } from 'vitest';
import { admits, type LabPolicy, type PolicyPod, type PolicyWorld } from './netpol.js';

const web: PolicyPod = { namespace: 'shop', labels: { app: 'web' }, ip: '127.9.1.1', ports: { http: 8080 } };
const ctrl: PolicyPod = { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' }, ip: '127.9.3.1', ports: {} };
const other: PolicyPod = { namespace: 'shop', labels: { app: 'batch' }, ip: '127.9.1.9', ports: {} };

function world(...policies: LabPolicy[]): PolicyWorld {
  return {
    policies,
    namespaceLabels: { shop: { 'kubernetes.io/metadata.name': 'shop' }, 'ingress-nginx': { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
    podsByIp: new Map([web, ctrl, other].map((p) => [p.ip, p])),
  };
}

const denyAll: LabPolicy = { namespace: 'shop', spec: { podSelector: {}, policyTypes: ['Ingress'] } };
const fromController: LabPolicy = {
  namespace: 'shop',
  spec: {
    podSelector: { matchLabels: { app: 'web' } },
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }], ports: [{ port: 'http' }] }],
  },
};

describe('lab NetworkPolicy enforcement', () => {
  it.each([
    ['no policy admits everything', world(), ctrl.ip, 8080, true],
    ['deny-all blocks the controller', world(denyAll), ctrl.ip, 8080, false],
    ['deny-all blocks pods of the same namespace', world(denyAll), other.ip, 8080, false],
    ['host traffic (hopwatch) is not filtered', world(denyAll), '127.0.0.1', 8080, true],
    ['allow from the controller namespace on the named port', world(denyAll, fromController), ctrl.ip, 8080, true],
    ['... but not on another port', world(denyAll, fromController), ctrl.ip, 9090, false],
    ['... and not from another namespace pod', world(denyAll, fromController), other.ip, 8080, false],
    [
      'ipBlock covering the controller',
      world({ namespace: 'shop', spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '127.9.3.0/24' } }] }] } }),
      ctrl.ip,
      8080,
      true,
    ],
    [
      'ipBlock with the controller excepted',
      world({ namespace: 'shop', spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '127.9.0.0/16', except: ['127.9.3.0/24'] } }] }] } }),
      ctrl.ip,
      8080,
      false,
    ],
    ['an egress-only policy does not filter ingress', world({ namespace: 'shop', spec: { podSelector: {}, policyTypes: ['Egress'] } }), ctrl.ip, 8080, true],
  ])('%s', (_name, w, source, port, want) => {
    expect(admits(w, web, source, port)).toBe(want);
  });
});
