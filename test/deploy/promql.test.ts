import { describe, expect, test } from 'vitest';
import { namesInExpression, namesInGrafanaQuery, parseExposition } from './promql.js';

describe('namesInExpression', () => {
  test.each([
    ['a bare name', 'up', ['up']],
    ['a selector', 'hopwatch_route_verdict{status="failing"} == 1', ['hopwatch_route_verdict']],
    ['aggregation with by', 'max by (namespace, hop) (hopwatch_route_verdict{status="failing"})', ['hopwatch_route_verdict']],
    ['by after the argument', 'sum(rate(x_total[5m])) by (job)', ['x_total']],
    ['functions, ranges, numbers', 'histogram_quantile(0.95, sum by (le) (rate(a_bucket{p!="t"}[$__rate_interval])))', ['a_bucket']],
    ['arithmetic of two metrics, scientific numbers', 'sum(rate(a_total[15m])) / (sum(rate(b_total[15m])) + 1e-9) > 0.05', ['a_total', 'b_total']],
    ['or vector(0)', 'count(v{namespace=~"$namespace"}) or vector(0)', ['v']],
    ['offset durations', 'rate(a_total[5m] offset 1h)', ['a_total']],
    ['strings with names inside are not names', 'a{msg="b_total{c=\\"d\\"}"}', ['a']],
    ['a string that looks like a selector', 'a{x="y", z=~"failing|degraded"} and b{w="1"}', ['a', 'b']],
    ['absent()', 'absent(hopwatch_build_info)', ['hopwatch_build_info']],
    ['recording-rule style names with colons', 'job:a_total:rate5m > 0', ['job:a_total:rate5m']],
    ['on/group_left', 'a * on (job) group_left (version) b', ['a', 'b']],
  ])('%s', (_name, expression, expected) => {
    expect(namesInExpression(expression).metrics).toEqual(expected);
  });

  test('selectors carry their matchers\' label names; grouping labels are collected', () => {
    const names = namesInExpression('sum by (hop, result) (rate(h_total{namespace=~"$namespace", result!="ok"}[$__rate_interval]))');
    expect(names.selectors).toEqual([
      { metric: 'h_total', labels: ['namespace', 'result'], matchers: [{ label: 'namespace', op: '=~', value: '' }, { label: 'result', op: '!=', value: 'ok' }] },
    ]);
    expect(names.groupingLabels).toEqual(['hop', 'result']);
  });
});

describe('namesInGrafanaQuery', () => {
  test('label_values(metric, label): the metric, and the label as a selector label', () => {
    expect(namesInGrafanaQuery('label_values(hopwatch_route_verdict, namespace)')).toMatchObject({
      metrics: ['hopwatch_route_verdict'],
      selectors: [{ metric: 'hopwatch_route_verdict', labels: ['namespace'] }],
    });
  });
});

describe('parseExposition', () => {
  test('families with histogram suffixes and the labels of samples', () => {
    const exposition = parseExposition(
      [
        '# HELP h Help.',
        '# TYPE h histogram',
        'h_bucket{le="0.1",hop="pod"} 1',
        'h_sum{hop="pod"} 0.05',
        '# TYPE g gauge',
        'g 1',
        '# TYPE c counter',
        '# TYPE s summary',
      ].join('\n'),
    );
    expect([...exposition.names].sort()).toEqual(['c', 'g', 'h', 'h_bucket', 'h_count', 'h_sum', 's', 's_count', 's_sum']);
    expect(exposition.labels.get('h_bucket')).toEqual(new Map([['le', new Set(['0.1'])], ['hop', new Set(['pod'])]]));
    expect(exposition.labels.get('g')).toEqual(new Map());
  });
});
