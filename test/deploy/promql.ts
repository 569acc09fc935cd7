// Reads metric names and label names out of PromQL (PrometheusRule expressions, Grafana queries),
// and the metric families out of a Prometheus exposition, so the tests can check that every name
// an alert or a panel uses is one hopwatch really exports. Not a PromQL parser: enough lexing to
// tell metric names from functions, keywords, labels, strings, durations and Grafana variables.

/** One label matcher of a selector. */
export interface Matcher {
  /** Label name. */
  label: string;
  /** =, !=, =~ or !~. */
  op: string;
  /** The value, unquoted; Grafana variables removed. */
  value: string;
}

/** One vector selector: the metric name (null for `{__name__=...}`-style selectors) and the label names its matchers use. */
export interface Selector {
  /** The metric name before the braces, null when none. */
  metric: string | null;
  /** Label names of the matchers. */
  labels: string[];
  /** The matchers. */
  matchers: Matcher[];
}

/** What an expression uses. */
export interface ExpressionNames {
  /** Metric names, in order of first use. */
  metrics: string[];
  /** Every vector selector with braces. */
  selectors: Selector[];
  /** Label names of by/without/on/ignoring/group_left/group_right clauses. */
  groupingLabels: string[];
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'atan2', 'inf', 'nan', 'start', 'end']);
const STRING = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g;
const GRAFANA_VARIABLE = /\$\{[^}]*\}|\$\w+/g;
const GROUPING = /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;
const IDENTIFIER = /[a-zA-Z_:][a-zA-Z0-9_:]*/g;

/** The metric names, selectors and grouping labels of a PromQL expression (Grafana variables allowed). */
export function namesInExpression(expression: string): ExpressionNames {
  // Strings and Grafana variables carry no names: strings become numbered placeholders (kept for
  // matcher values), so braces or names inside them are never read as PromQL.
  const strings: string[] = [];
  const text = expression.replace(GRAFANA_VARIABLE, '').replace(STRING, (quoted) => `"${strings.push(quoted.slice(1, -1)) - 1}"`);
  const selectors = [...text.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}/g)].map((m) => {
    const matchers = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"(\d+)"/g)].map((l) => ({ label: l[1] as string, op: l[2] as string, value: strings[Number(l[3])] ?? '' }));
    return { metric: m[1] !== undefined && !KEYWORDS.has(m[1]) ? m[1] : null, labels: matchers.map((x) => x.label), matchers };
  });
  const groupingLabels = [...text.matchAll(GROUPING)].flatMap((m) => (m[2] ?? '').split(',').map((l) => l.trim()).filter((l) => l !== ''));
  const bare = text
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(GROUPING, ' ')
    // Durations (offset 5m) and numbers (0.95, 1e-9) before identifiers: their letters are not names.
    .replace(/\b\d+(?:ms|[smhdwy])\b/g, ' ')
    .replace(/\b\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b/g, ' ');
  const metrics: string[] = [];
  for (const match of bare.matchAll(IDENTIFIER)) {
    const name = match[0];
    const after = bare.slice((match.index ?? 0) + name.length);
    if (KEYWORDS.has(name.toLowerCase()) || /^\s*\(/.test(after)) continue;
    if (!metrics.includes(name)) metrics.push(name);
  }
  return { metrics, selectors, groupingLabels };
}

/** A Grafana variable query: label_values(selector, label) gives the selector's names plus the label; anything else is PromQL. */
export function namesInGrafanaQuery(query: string): ExpressionNames {
  const labelValues = /^\s*label_values\(\s*(.*?)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/.exec(query);
  if (labelValues === null) return namesInExpression(query);
  const inner = namesInExpression(labelValues[1] as string);
  const metric = inner.metrics[0] ?? null;
  return { ...inner, selectors: [...inner.selectors, { metric, labels: [labelValues[2] as string], matchers: [] }] };
}

/** The series names an exposition offers (histograms and summaries with their _bucket/_sum/_count) and the labels seen per name. */
export interface Exposition {
  /** Every name a query may use. */
  names: Set<string>;
  /** Label values seen on samples: sample name -> label name -> values. */
  labels: Map<string, Map<string, Set<string>>>;
}

/** Parses a Prometheus text exposition (prom-client's /metrics). */
export function parseExposition(text: string): Exposition {
  const names = new Set<string>();
  const labels = new Map<string, Map<string, Set<string>>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)$/.exec(line);
    if (type !== null) {
      const [, name, kind] = type as unknown as [string, string, string];
      names.add(name);
      if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      if (kind === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s/.exec(line);
    if (sample === null) continue;
    const name = sample[1] as string;
    names.add(name);
    const seen = labels.get(name) ?? new Map<string, Set<string>>();
    for (const [, label, value] of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      const values = seen.get(label as string) ?? new Set<string>();
      values.add(value as string);
      seen.set(label as string, values);
    }
    labels.set(name, seen);
  }
  return { names, labels };
}
