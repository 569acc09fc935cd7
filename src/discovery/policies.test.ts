import { describe, expect, it } from 'vitest';
import type { V1NetworkPolicy, V1NetworkPolicySpec, V1Pod } from '@kubernetes/client-node';
import type { ServicePortFacts } from '../model.js';
import { type PolicyContext, ipBlockContains, namespaceLabelsOf, policyFacts } from './policies.js';

function pod(namespace: string, name: string, labels: Record<string, string>, ip: string): V1Pod {
  return {
    metadata: { namespace, name, labels },
    spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }] }] },
    status: { podIP: ip },
  };
}

const backendPods = [pod('shop', 'web-1', { app: 'web' }, '127.9.1.1'), pod('shop', 'web-2', { app: 'web' }, '127.9.1.2')];
const controllerPods = [pod('ingress', 'nginx-1', { 'app.kubernetes.io/name': 'ingress-nginx' }, '127.9.3.1')];
const namedPort: ServicePortFacts = { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: null };
const labels = new Map([['ingress', { team: 'platform' }], ['shop', { team: 'shop' }]]);

function context(overrides: Partial<PolicyContext> = {}): PolicyContext {
  return {
    namespace: 'shop',
    backendPods,
    servicePort: namedPort,
    controllerPods,
    namespaceLabels: (namespace) => namespaceLabelsOf(namespace, labels),
    ...overrides,
  };
}

function policy(name: string, spec: V1NetworkPolicySpec, namespace = 'shop'): V1NetworkPolicy {
  return { metadata: { namespace, name }, spec };
}

const fromIngressNs = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress' } } };
const nginxPods = { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } } };

describe('policyFacts', () => {
  // admits: true/false = selected with that admitsController; 'absent' = not a policy of these pods.
  const cases: { name: string; spec: V1NetworkPolicySpec; namespace?: string; context?: Partial<PolicyContext>; admits: boolean | 'absent' }[] = [
    { name: 'deny-all (empty podSelector, no rules)', spec: { podSelector: {}, policyTypes: ['Ingress'] }, admits: false },
    { name: 'deny-all without policyTypes', spec: { podSelector: {} }, admits: false },
    { name: 'allow all sources: one empty rule', spec: { podSelector: {}, ingress: [{}] }, admits: true },
    { name: 'allow from the controller namespace by name label', spec: { podSelector: {}, ingress: [{ _from: [fromIngressNs] }] }, admits: true },
    {
      name: 'allow from the controller namespace by its own label',
      spec: { podSelector: {}, ingress: [{ _from: [{ namespaceSelector: { matchLabels: { team: 'platform' } } }] }] },
      admits: true,
    },
    {
      name: 'allow only from another namespace',
      spec: { podSelector: {}, ingress: [{ _from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] }] },
      admits: false,
    },
    {
      name: 'namespaceSelector AND podSelector in one peer, both match',
      spec: { podSelector: {}, ingress: [{ _from: [{ ...fromIngressNs, ...nginxPods }] }] },
      admits: true,
    },
    {
      name: 'namespaceSelector AND podSelector in one peer, pod labels differ',
      spec: { podSelector: {}, ingress: [{ _from: [{ ...fromIngressNs, podSelector: { matchLabels: { app: 'traefik' } } }] }] },
      admits: false,
    },
    {
      name: 'podSelector alone means the policy namespace: controller elsewhere is not admitted',
      spec: { podSelector: {}, ingress: [{ _from: [nginxPods] }] },
      admits: false,
    },
    {
      name: 'podSelector alone admits a controller in the same namespace',
      spec: { podSelector: {}, ingress: [{ _from: [nginxPods] }] },
      context: { controllerPods: [pod('shop', 'nginx-1', { 'app.kubernetes.io/name': 'ingress-nginx' }, '127.9.3.1')] },
      admits: true,
    },
    { name: 'allow on the target port number', spec: { podSelector: {}, ingress: [{ _from: [fromIngressNs], ports: [{ port: 8080 }] }] }, admits: true },
    { name: 'allow on the target port by name', spec: { podSelector: {}, ingress: [{ _from: [fromIngressNs], ports: [{ port: 'http' }] }] }, admits: true },
    { name: 'allow on another port only', spec: { podSelector: {}, ingress: [{ _from: [fromIngressNs], ports: [{ port: 9090 }] }] }, admits: false },
    { name: 'allow on another named port only', spec: { podSelector: {}, ingress: [{ _from: [fromIngressNs], ports: [{ port: 'metrics' }] }] }, admits: false },
    { name: 'port range covers the target', spec: { podSelector: {}, ingress: [{ ports: [{ port: 8000, endPort: 8100 }] }] }, admits: true },
    { name: 'UDP only', spec: { podSelector: {}, ingress: [{ ports: [{ port: 8080, protocol: 'UDP' }] }] }, admits: false },
    { name: 'protocol only, any port', spec: { podSelector: {}, ingress: [{ ports: [{ protocol: 'TCP' }] }] }, admits: true },
    {
      name: 'one rule for the wrong port, another for the right source and port',
      spec: { podSelector: {}, ingress: [{ ports: [{ port: 9090 }] }, { _from: [fromIngressNs], ports: [{ port: 8080 }] }] },
      admits: true,
    },
    {
      name: 'port restriction with an unknown Service port admits nothing',
      spec: { podSelector: {}, ingress: [{ ports: [{ port: 8080 }] }] },
      context: { servicePort: null },
      admits: false,
    },
    { name: 'ipBlock containing the controller IP', spec: { podSelector: {}, ingress: [{ _from: [{ ipBlock: { cidr: '127.9.3.0/24' } }] }] }, admits: true },
    {
      name: 'ipBlock with the controller IP excepted',
      spec: { podSelector: {}, ingress: [{ _from: [{ ipBlock: { cidr: '127.9.0.0/16', except: ['127.9.3.0/28'] } }] }] },
      admits: false,
    },
    { name: 'ipBlock elsewhere', spec: { podSelector: {}, ingress: [{ _from: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] }, admits: false },
    {
      name: 'no controller pods: a source-restricted rule admits nothing',
      spec: { podSelector: {}, ingress: [{ _from: [fromIngressNs] }] },
      context: { controllerPods: [] },
      admits: false,
    },
    { name: 'selects the pods by label', spec: { podSelector: { matchLabels: { app: 'web' } } }, admits: false },
    { name: 'a policy not selecting the pods', spec: { podSelector: { matchLabels: { app: 'api' } } }, admits: 'absent' },
    { name: 'Egress-only policy', spec: { podSelector: {}, policyTypes: ['Egress'] }, admits: 'absent' },
    { name: 'Ingress and Egress', spec: { podSelector: {}, policyTypes: ['Egress', 'Ingress'] }, admits: false },
    { name: 'a policy in another namespace', spec: { podSelector: {} }, namespace: 'blog', admits: 'absent' },
    {
      name: 'invalid podSelector selects nothing',
      spec: { podSelector: { matchExpressions: [{ key: 'app', operator: 'Bogus' }] } },
      admits: 'absent',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const facts = policyFacts([policy('p', c.spec, c.namespace)], context(c.context));
      if (c.admits === 'absent') expect(facts).toEqual([]);
      else expect(facts).toEqual([{ namespace: 'shop', name: 'p', admitsController: c.admits, admitsProber: null }]);
    });
  }

  it('no backend pods: no policy can select them', () => {
    expect(policyFacts([policy('deny', { podSelector: {} })], context({ backendPods: [] }))).toEqual([]);
  });

  it('several policies, sorted by name', () => {
    const facts = policyFacts(
      [policy('z-allow', { podSelector: {}, ingress: [{ _from: [fromIngressNs] }] }), policy('a-deny', { podSelector: {} })],
      context(),
    );
    expect(facts.map((f) => [f.name, f.admitsController])).toEqual([['a-deny', false], ['z-allow', true]]);
  });
});

describe('ipBlockContains', () => {
  const cases: { cidr: string; except?: string[]; address: string | undefined; inside: boolean }[] = [
    { cidr: '127.9.0.0/16', address: '127.9.3.1', inside: true },
    { cidr: '127.9.3.1/32', address: '127.9.3.1', inside: true },
    { cidr: '0.0.0.0/0', address: '127.9.3.1', inside: true },
    { cidr: '127.9.0.0/16', except: ['127.9.3.0/24'], address: '127.9.3.1', inside: false },
    { cidr: '127.9.0.0/16', address: '127.8.0.1', inside: false },
    { cidr: 'fd00::/8', address: 'fd00::1', inside: true },
    { cidr: 'fd00::/8', address: '127.9.3.1', inside: false },
    { cidr: 'not-a-cidr', address: '127.9.3.1', inside: false },
    { cidr: '127.9.0.0/33', address: '127.9.3.1', inside: false },
    { cidr: '127.9.0.0/16', address: undefined, inside: false },
  ];
  for (const c of cases) {
    it(`${c.cidr} except ${JSON.stringify(c.except ?? [])} contains ${String(c.address)}: ${c.inside}`, () => {
      expect(ipBlockContains(c.cidr, c.except ?? [], c.address)).toBe(c.inside);
    });
  }
});
