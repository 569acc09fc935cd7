// Kubernetes label selectors: the string form ("app=web,tier in (a,b),!canary")
// used in hopwatch's configuration, the V1LabelSelector form used by objects
// (matchLabels/matchExpressions), the map form of Service selectors, and matching.

import type { V1LabelSelector } from '@kubernetes/client-node';

/** One requirement of a label selector. */
export interface LabelRequirement {
  /** The label key. */
  key: string;
  /** In: key present with one of values; NotIn: key absent or another value; Exists / DoesNotExist: key presence. */
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  /** Values for In / NotIn; empty otherwise. */
  values: string[];
}

/** A parsed label selector: every requirement must hold; no requirements selects everything. */
export type LabelSelector = readonly LabelRequirement[];

/** A selector string that cannot be parsed (bad configuration). */
export class LabelSelectorError extends Error {
  /** Stable error code. */
  readonly code = 'discovery.bad-selector';
  /** What was wrong, without the selector text (e.g. "unbalanced parentheses"). */
  readonly reason: string;

  constructor(selector: string, reason: string, options?: { cause?: unknown }) {
    super(`bad label selector ${JSON.stringify(selector)}: ${reason}`, options);
    this.name = 'LabelSelectorError';
    this.reason = reason;
  }
}

// The syntax of apimachinery's labels.Parse without the numeric gt/lt operators.
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SET_FORM = /^(\S+?)\s+(in|notin)\s*\((.*)\)$/;
const EQUALITY_FORM = /^([^\s=!]+)\s*(==|!=|=)\s*(.*)$/;
const NOT_A_REQUIREMENT = 'is not a requirement: expected key, !key, key=value, key!=value, key in (a,b) or key notin (a,b)';
const NAME_RULE = 'letters, digits, "-", "_" or ".", starting and ending with a letter or digit';

/**
 * Parses the string form of a label selector ("a=b,c!=d,e in (x,y),f notin (z),g,!h").
 * An empty (or blank) string selects everything. Throws LabelSelectorError on bad syntax.
 */
export function parseLabelSelector(text: string): LabelSelector {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  return splitTerms(text, trimmed).map((term) => parseTerm(text, term.trim()));
}

/** Splits on commas outside parentheses ("a in (x,y),b" is two terms); checks the parentheses. */
function splitTerms(text: string, trimmed: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < trimmed.length; i++) {
    const char = trimmed[i];
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    // Value lists are flat, so a second "(" is as unbalanced as a stray ")".
    if (depth < 0 || depth > 1) throw new LabelSelectorError(text, 'unbalanced parentheses');
    if (char === ',' && depth === 0) {
      terms.push(trimmed.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new LabelSelectorError(text, 'unbalanced parentheses');
  terms.push(trimmed.slice(start));
  return terms;
}

/** Parses one term: key, !key, key=value, key==value, key!=value, key in (...), key notin (...). */
function parseTerm(text: string, term: string): LabelRequirement {
  if (term === '') throw new LabelSelectorError(text, 'empty requirement: a stray comma?');
  if (term.startsWith('!')) return { key: checkKey(text, term.slice(1).trim()), operator: 'DoesNotExist', values: [] };
  const set = SET_FORM.exec(term);
  if (set !== null) {
    const [, key = '', operator, list = ''] = set;
    return { key: checkKey(text, key), operator: operator === 'in' ? 'In' : 'NotIn', values: checkValueList(text, term, list) };
  }
  const equality = EQUALITY_FORM.exec(term);
  if (equality !== null) {
    const [, key = '', operator, value = ''] = equality;
    return { key: checkKey(text, key), operator: operator === '!=' ? 'NotIn' : 'In', values: [checkValue(text, value.trim())] };
  }
  // Anything with an operator character left over is a malformed requirement, not a key.
  if (/[\s=!()<>]/.test(term)) throw new LabelSelectorError(text, `"${term}" ${NOT_A_REQUIREMENT}`);
  return { key: checkKey(text, term), operator: 'Exists', values: [] };
}

/** Checks the inside of "key in (...)": at least one value, none empty. */
function checkValueList(text: string, term: string, list: string): string[] {
  if (list.trim() === '') throw new LabelSelectorError(text, `"${term}": expected at least one value in the parentheses`);
  const values = list.split(',').map((value) => value.trim());
  if (values.includes('')) throw new LabelSelectorError(text, `"${term}": empty value in the parentheses: a stray comma?`);
  return values.map((value) => checkValue(text, value));
}

/** Checks a label key: an optional lowercase DNS-subdomain prefix and "/", then a name of at most 63 characters. */
function checkKey(text: string, key: string): string {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : null;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== null && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    throw new LabelSelectorError(text, `label key "${key}": the prefix must be a lowercase DNS subdomain`);
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    throw new LabelSelectorError(text, `label key "${key}": expected a name of 1-63 ${NAME_RULE}`);
  }
  return key;
}

/** Checks a label value: empty, or at most 63 characters of the label-name alphabet. */
function checkValue(text: string, value: string): string {
  if (value === '') return value;
  if (value.length > 63 || !NAME.test(value)) {
    throw new LabelSelectorError(text, `label value "${value}": expected at most 63 ${NAME_RULE}`);
  }
  return value;
}

/**
 * Converts an object's V1LabelSelector (matchLabels AND matchExpressions).
 * Returns null when the selector is invalid (unknown operator, missing values), which callers treat as matching nothing.
 */
export function labelSelectorFromObject(selector: V1LabelSelector): LabelSelector | null {
  const requirements: LabelRequirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
    key,
    operator: 'In',
    values: [value],
  }));
  for (const expression of selector.matchExpressions ?? []) {
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
      case 'NotIn':
        // The API server rejects In/NotIn without values; a selector that slipped through selects nothing.
        if (values.length === 0) return null;
        requirements.push({ key: expression.key, operator: expression.operator, values: [...values] });
        break;
      case 'Exists':
      case 'DoesNotExist':
        requirements.push({ key: expression.key, operator: expression.operator, values: [] });
        break;
      default:
        return null;
    }
  }
  return requirements;
}

/** Converts a Service-style selector map (every key equals its value). */
export function labelSelectorFromMap(map: Readonly<Record<string, string>>): LabelSelector {
  return Object.entries(map).map(([key, value]) => ({ key, operator: 'In', values: [value] }));
}

/** True when the labels satisfy every requirement of the selector. */
export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const present = labels ?? {};
  return selector.every((requirement) => matchesRequirement(requirement, present));
}

function matchesRequirement(requirement: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, requirement.key);
  const value = has ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && requirement.values.includes(value);
    case 'NotIn':
      return value === undefined || !requirement.values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}
