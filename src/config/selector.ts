// Kubernetes label selectors in their string form ("app=web,tier!=db,env in (a,b),!legacy"),
// parsed with the syntax of apimachinery's labels.Parse (without the numeric gt/lt
// operators) so a typo in the config is caught at start-up, and matched against labels.

/** One requirement of a label selector. */
export type LabelRequirement =
  | { op: 'exists' | 'not-exists'; key: string }
  | { op: 'equals' | 'not-equals'; key: string; value: string }
  | { op: 'in' | 'not-in'; key: string; values: string[] };

/** A label selector that does not parse. */
export class SelectorError extends Error {
  /** Stable error code. */
  readonly code = 'BAD_SELECTOR';
  /** What was wrong, without the selector text. */
  readonly reason: string;

  constructor(text: string, reason: string) {
    super(`invalid label selector ${JSON.stringify(text)}: ${reason}`);
    this.name = 'SelectorError';
    this.reason = reason;
  }
}

const NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SET_FORM = /^(\S+?)\s+(in|notin)\s*\((.*)\)$/;
const EQUALITY_FORM = /^([^\s=!]+)\s*(==|!=|=)\s*(.*)$/;

/** Parses a label selector; the empty string selects everything (no requirements). */
export function parseLabelSelector(text: string): LabelRequirement[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  return splitRequirements(text, trimmed).map((part) => parseRequirement(text, part.trim()));
}

/** Splits on commas outside parentheses ("a in (x,y),b" is two requirements). */
function splitRequirements(text: string, trimmed: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < trimmed.length; i++) {
    const c = trimmed[i];
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (depth < 0 || depth > 1) throw new SelectorError(text, 'unbalanced parentheses');
    if (c === ',' && depth === 0) {
      parts.push(trimmed.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new SelectorError(text, 'unbalanced parentheses');
  parts.push(trimmed.slice(start));
  return parts;
}

/** Parses one requirement: key, !key, key=value, key==value, key!=value, key in (...), key notin (...). */
function parseRequirement(text: string, part: string): LabelRequirement {
  if (part === '') throw new SelectorError(text, 'empty requirement: a stray comma?');
  if (part.startsWith('!')) return { op: 'not-exists', key: checkKey(text, part.slice(1).trim()) };
  const set = SET_FORM.exec(part);
  if (set !== null) {
    const [, key, op, list] = set as unknown as [string, string, string, string];
    const values = list.split(',').map((v) => checkValue(text, v.trim()));
    if (list.trim() === '') throw new SelectorError(text, `"${part}": expected at least one value in the parentheses`);
    return { op: op === 'in' ? 'in' : 'not-in', key: checkKey(text, key), values };
  }
  const equality = EQUALITY_FORM.exec(part);
  if (equality !== null) {
    const [, key, op, value] = equality as unknown as [string, string, string, string];
    return { op: op === '!=' ? 'not-equals' : 'equals', key: checkKey(text, key), value: checkValue(text, value.trim()) };
  }
  if (/[\s=!()<>]/.test(part)) {
    throw new SelectorError(text, `"${part}" is not a requirement: expected key, !key, key=value, key!=value, key in (a,b) or key notin (a,b)`);
  }
  return { op: 'exists', key: checkKey(text, part) };
}

/** Checks a label key: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters. */
function checkKey(text: string, key: string): string {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : null;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== null && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    throw new SelectorError(text, `label key "${key}": the prefix must be a lowercase DNS subdomain`);
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    throw new SelectorError(text, `label key "${key}": expected a name of 1-63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`);
  }
  return key;
}

/** Checks a label value: empty, or at most 63 characters of the label-name alphabet. */
function checkValue(text: string, value: string): string {
  if (value === '') return value;
  if (value.length > 63 || !NAME.test(value)) {
    throw new SelectorError(text, `label value "${value}": expected at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`);
  }
  return value;
}

/** True when the labels satisfy every requirement. */
export function matchesLabelSelector(requirements: readonly LabelRequirement[], labels: Readonly<Record<string, string>>): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const value = labels[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case 'not-exists':
        return !has;
      case 'equals':
        return has && value === r.value;
      case 'not-equals':
        return !has || value !== r.value;
      case 'in':
        return has && r.values.includes(value as string);
      case 'not-in':
        return !has || !r.values.includes(value as string);
    }
  });
}
