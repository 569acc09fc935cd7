import { describe, expect, it } from 'vitest';
import type { V1LabelSelector } from '@kubernetes/client-node';
import {
  LabelSelectorError,
  labelSelectorFromMap,
  labelSelectorFromObject,
  matchesLabels,
  parseLabelSelector,
} from './selectors.js';

const web = { app: 'web', tier: 'front', 'app.kubernetes.io/name': 'shop' };

describe('parseLabelSelector + matchesLabels', () => {
  const cases: { name: string; selector: string; labels: Record<string, string>; matches: boolean }[] = [
    { name: 'empty selects all', selector: '', labels: web, matches: true },
    { name: 'equality', selector: 'app=web', labels: web, matches: true },
    { name: 'double equals', selector: 'app==web', labels: web, matches: true },
    { name: 'equality other value', selector: 'app=api', labels: web, matches: false },
    { name: 'inequality', selector: 'app!=api', labels: web, matches: true },
    { name: 'inequality on missing key matches', selector: 'track!=canary', labels: web, matches: true },
    { name: 'inequality same value', selector: 'app!=web', labels: web, matches: false },
    { name: 'and of two', selector: 'app=web, tier=front', labels: web, matches: true },
    { name: 'and, one fails', selector: 'app=web,tier=back', labels: web, matches: false },
    { name: 'set in', selector: 'tier in (back, front)', labels: web, matches: true },
    { name: 'set in, no value matches', selector: 'tier in (back,db)', labels: web, matches: false },
    { name: 'set in, key missing', selector: 'track in (stable)', labels: web, matches: false },
    { name: 'set notin', selector: 'tier notin (back)', labels: web, matches: true },
    { name: 'set notin, value listed', selector: 'tier notin (front,back)', labels: web, matches: false },
    { name: 'exists', selector: 'tier', labels: web, matches: true },
    { name: 'exists, missing', selector: 'track', labels: web, matches: false },
    { name: 'does not exist', selector: '!track', labels: web, matches: true },
    { name: 'does not exist, present', selector: '!tier', labels: web, matches: false },
    { name: 'prefixed key', selector: 'app.kubernetes.io/name=shop', labels: web, matches: true },
    { name: 'mixed', selector: 'app=web,tier in (front),!track,app.kubernetes.io/name', labels: web, matches: true },
    { name: 'empty value equality', selector: 'app=', labels: { app: '' }, matches: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(matchesLabels(parseLabelSelector(c.selector), c.labels)).toBe(c.matches);
    });
  }

  it('parses into requirements', () => {
    expect(parseLabelSelector('a=b,c in (x,y),!d,e')).toEqual([
      { key: 'a', operator: 'In', values: ['b'] },
      { key: 'c', operator: 'In', values: ['x', 'y'] },
      { key: 'd', operator: 'DoesNotExist', values: [] },
      { key: 'e', operator: 'Exists', values: [] },
    ]);
  });
});

describe('parseLabelSelector: requirements', () => {
  const eq = (key: string, value: string) => ({ key, operator: 'In', values: [value] });
  it.each([
    ['', []],
    ['   ', []],
    ['app=web', [eq('app', 'web')]],
    ['app==web', [eq('app', 'web')]],
    ['app = web , tier!=db', [eq('app', 'web'), { key: 'tier', operator: 'NotIn', values: ['db'] }]],
    ['app.kubernetes.io/name=ingress-nginx', [eq('app.kubernetes.io/name', 'ingress-nginx')]],
    ['env in (prod, staging),!legacy', [{ key: 'env', operator: 'In', values: ['prod', 'staging'] }, { key: 'legacy', operator: 'DoesNotExist', values: [] }]],
    ['env notin (dev),canary', [{ key: 'env', operator: 'NotIn', values: ['dev'] }, { key: 'canary', operator: 'Exists', values: [] }]],
    ['! legacy', [{ key: 'legacy', operator: 'DoesNotExist', values: [] }]],
    ['app=', [eq('app', '')]],
    [`${'k'.repeat(63)}=${'v'.repeat(63)}`, [eq('k'.repeat(63), 'v'.repeat(63))]],
  ])('%j', (text, expected) => {
    expect(parseLabelSelector(text)).toEqual(expected);
  });
});

describe('parseLabelSelector: errors carry a reason and name the selector', () => {
  const notARequirement = 'is not a requirement: expected key, !key, key=value, key!=value, key in (a,b) or key notin (a,b)';
  const nameRule = 'letters, digits, "-", "_" or ".", starting and ending with a letter or digit';
  it.each([
    ['app in (a', 'unbalanced parentheses'],
    ['a in (x', 'unbalanced parentheses'],
    ['app)', 'unbalanced parentheses'],
    ['a in ((x))', 'unbalanced parentheses'],
    ['app=web,,tier=db', 'empty requirement: a stray comma?'],
    ['app=web,', 'empty requirement: a stray comma?'],
    ['a=b,', 'empty requirement: a stray comma?'],
    ['app=a=b', `label value "a=b": expected at most 63 ${nameRule}`],
    ['a=b=c', `label value "b=c": expected at most 63 ${nameRule}`],
    ['-app=web', `label key "-app": expected a name of 1-63 ${nameRule}`],
    ['!', `label key "": expected a name of 1-63 ${nameRule}`],
    ['a/b/c', `label key "a/b/c": expected a name of 1-63 ${nameRule}`],
    [`${'k'.repeat(64)}=v`, `label key "${'k'.repeat(64)}": expected a name of 1-63 ${nameRule}`],
    ['Example.COM/app=web', 'label key "Example.COM/app": the prefix must be a lowercase DNS subdomain'],
    [`app=${'x'.repeat(64)}`, `label value "${'x'.repeat(64)}": expected at most 63 ${nameRule}`],
    ['app in ()', '"app in ()": expected at least one value in the parentheses'],
    ['a in (x,,y)', '"a in (x,,y)": empty value in the parentheses: a stray comma?'],
    ['a in (x,)', '"a in (x,)": empty value in the parentheses: a stray comma?'],
    ['a in (x y)', `label value "x y": expected at most 63 ${nameRule}`],
    ['app web', `"app web" ${notARequirement}`],
    ['a b', `"a b" ${notARequirement}`],
    ['=b', `"=b" ${notARequirement}`],
    ['replicas>2', `"replicas>2" ${notARequirement}`],
  ])('%j: %s', (text, reason) => {
    let caught: unknown;
    try {
      parseLabelSelector(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LabelSelectorError);
    expect(caught).toMatchObject({ code: 'discovery.bad-selector', reason, message: `bad label selector ${JSON.stringify(text)}: ${reason}` });
  });
});

describe('matchesLabels: controller-style labels', () => {
  const labels = { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller', env: 'prod' };
  it.each([
    ['', true],
    ['app.kubernetes.io/name=ingress-nginx,app.kubernetes.io/component=controller', true],
    ['app.kubernetes.io/name=traefik', false],
    ['env!=dev', true],
    ['env!=prod', false],
    ['missing!=x', true],
    ['env in (prod,staging)', true],
    ['env in (dev)', false],
    ['env notin (dev)', true],
    ['missing notin (dev)', true],
    ['missing in (dev)', false],
    ['env', true],
    ['missing', false],
    ['!missing', true],
    ['!env', false],
  ])('%j -> %s', (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it('does not treat inherited properties as labels', () => {
    expect(matchesLabels(parseLabelSelector('constructor'), {})).toBe(false);
    expect(matchesLabels(parseLabelSelector('!toString'), {})).toBe(true);
  });
});

describe('labelSelectorFromObject', () => {
  const cases: { name: string; selector: V1LabelSelector; labels: Record<string, string>; matches: boolean | 'invalid' }[] = [
    { name: 'empty selects all', selector: {}, labels: web, matches: true },
    { name: 'matchLabels', selector: { matchLabels: { app: 'web' } }, labels: web, matches: true },
    { name: 'matchLabels mismatch', selector: { matchLabels: { app: 'api' } }, labels: web, matches: false },
    {
      name: 'matchLabels AND matchExpressions',
      selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] },
      labels: web,
      matches: false,
    },
    { name: 'NotIn', selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['back'] }] }, labels: web, matches: true },
    { name: 'Exists', selector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, labels: web, matches: true },
    { name: 'DoesNotExist', selector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, labels: web, matches: false },
    { name: 'unknown operator', selector: { matchExpressions: [{ key: 'tier', operator: 'Gt', values: ['1'] }] }, labels: web, matches: 'invalid' },
    { name: 'In without values', selector: { matchExpressions: [{ key: 'tier', operator: 'In' }] }, labels: web, matches: 'invalid' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const parsed = labelSelectorFromObject(c.selector);
      if (c.matches === 'invalid') expect(parsed).toBeNull();
      else expect(parsed !== null && matchesLabels(parsed, c.labels)).toBe(c.matches);
    });
  }

  it('map form: every key equals its value', () => {
    expect(matchesLabels(labelSelectorFromMap({ app: 'web', tier: 'front' }), web)).toBe(true);
    expect(matchesLabels(labelSelectorFromMap({ app: 'web', tier: 'back' }), web)).toBe(false);
    expect(matchesLabels(labelSelectorFromMap({ app: 'web' }), undefined)).toBe(false);
  });
});
