import { describe, expect, test } from 'vitest';
import { SelectorError, matchesLabelSelector, parseLabelSelector } from './selector.js';

describe('parseLabelSelector', () => {
  test.each([
    ['', []],
    ['app=web', [{ op: 'equals', key: 'app', value: 'web' }]],
    ['app==web', [{ op: 'equals', key: 'app', value: 'web' }]],
    ['app = web , tier!=db', [{ op: 'equals', key: 'app', value: 'web' }, { op: 'not-equals', key: 'tier', value: 'db' }]],
    ['app.kubernetes.io/name=ingress-nginx', [{ op: 'equals', key: 'app.kubernetes.io/name', value: 'ingress-nginx' }]],
    ['env in (prod, staging),!legacy', [{ op: 'in', key: 'env', values: ['prod', 'staging'] }, { op: 'not-exists', key: 'legacy' }]],
    ['env notin (dev),canary', [{ op: 'not-in', key: 'env', values: ['dev'] }, { op: 'exists', key: 'canary' }]],
    ['app=', [{ op: 'equals', key: 'app', value: '' }]],
  ])('%j', (text, expected) => {
    expect(parseLabelSelector(text)).toEqual(expected);
  });

  test.each([
    ['app in (a', 'unbalanced parentheses'],
    ['app=web,,tier=db', 'empty requirement: a stray comma?'],
    ['app=web,', 'empty requirement: a stray comma?'],
    ['app=a=b', 'label value "a=b": expected at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit'],
    ['-app=web', 'label key "-app": expected a name of 1-63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit'],
    ['Example.COM/app=web', 'label key "Example.COM/app": the prefix must be a lowercase DNS subdomain'],
    [`app=${'x'.repeat(64)}`, `label value "${'x'.repeat(64)}": expected at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`],
    ['app in ()', '"app in ()": expected at least one value in the parentheses'],
    ['app web', '"app web" is not a requirement: expected key, !key, key=value, key!=value, key in (a,b) or key notin (a,b)'],
    ['replicas>2', '"replicas>2" is not a requirement: expected key, !key, key=value, key!=value, key in (a,b) or key notin (a,b)'],
  ])('%j is rejected', (text, reason) => {
    let caught: unknown;
    try {
      parseLabelSelector(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SelectorError);
    expect(caught).toMatchObject({ code: 'BAD_SELECTOR', reason });
  });
});

describe('matchesLabelSelector', () => {
  const labels = { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller', env: 'prod' };

  test.each([
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
    expect(matchesLabelSelector(parseLabelSelector(selector), labels)).toBe(expected);
  });
});
