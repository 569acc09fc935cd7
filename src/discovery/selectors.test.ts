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

  const bad = ['a=b,', 'a b', 'a in ()', 'a in (x', '=b', 'a=b=c', 'a in (x,,y)', '!'];
  for (const text of bad) {
    it(`rejects ${JSON.stringify(text)} with a coded error`, () => {
      expect(() => parseLabelSelector(text)).toThrow(LabelSelectorError);
      try {
        parseLabelSelector(text);
      } catch (error) {
        expect((error as LabelSelectorError).code).toBe('discovery.bad-selector');
      }
    });
  }
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
