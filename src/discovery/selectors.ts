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

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabelSelectorError';
  }
}

// Key: optional DNS-subdomain prefix and "/", then a name; values: name characters.
const KEY = String.raw`[A-Za-z0-9](?:[A-Za-z0-9._\-/]*[A-Za-z0-9])?`;
const VALUE = String.raw`(?:[A-Za-z0-9](?:[A-Za-z0-9._\-]*[A-Za-z0-9])?)?`;
const EXISTS = new RegExp(`^(${KEY})$`);
const NOT_EXISTS = new RegExp(`^!\\s*(${KEY})$`);
const EQUALITY = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\((.*)\\)$`);
const SET_VALUE = new RegExp(`^${VALUE}$`);

/**
 * Parses the string form of a label selector ("a=b,c!=d,e in (x,y),f notin (z),g,!h").
 * An empty string selects everything. Throws LabelSelectorError on bad syntax.
 */
export function parseLabelSelector(text: string): LabelSelector {
  const terms = splitTerms(text);
  if (terms.length === 1 && terms[0] === '') return [];
  return terms.map((term) => parseTerm(term, text));
}

/** Splits on commas outside parentheses, trimming each term. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      terms.push(current.trim());
      current = '';
    } else {
      current += char;
    }
  }
  terms.push(current.trim());
  return terms;
}

function parseTerm(term: string, whole: string): LabelRequirement {
  const bad = (why: string): LabelSelectorError =>
    new LabelSelectorError(`bad label selector ${JSON.stringify(whole)}: ${why} in ${JSON.stringify(term)}`);
  let match = SET.exec(term);
  if (match) {
    const values = (match[3] ?? '').split(',').map((value) => value.trim());
    if (values.some((value) => value === '' || !SET_VALUE.test(value))) throw bad('bad value list');
    return { key: match[1] ?? '', operator: match[2] === 'in' ? 'In' : 'NotIn', values };
  }
  match = EQUALITY.exec(term);
  if (match) return { key: match[1] ?? '', operator: match[2] === '!=' ? 'NotIn' : 'In', values: [match[3] ?? ''] };
  match = NOT_EXISTS.exec(term);
  if (match) return { key: match[1] ?? '', operator: 'DoesNotExist', values: [] };
  match = EXISTS.exec(term);
  if (match) return { key: match[1] ?? '', operator: 'Exists', values: [] };
  throw bad(term === '' ? 'empty requirement' : 'unrecognised requirement');
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
