import { describe, expect, it } from 'vitest';
import type { Incident } from '../store/incidents.js';
import {
  type AlertEvent,
  type AlertRoute,
  type SlackBlock,
  SLACK_LIMITS,
  cutText,
  escapeMrkdwn,
  fitLines,
  formatDuration,
  jsonPayload,
  slackPayload,
  summarize,
} from './payloads.js';

const OPENED_AT = Date.UTC(2025, 0, 2, 3, 4, 5);

function incident(over: Partial<Incident> = {}): Incident {
  return {
    id: 12,
    routeId: 'shop/web/shop.example.test/',
    severity: 'failing',
    openedAt: OPENED_AT,
    closedAt: null,
    hop: 'pod',
    cause: 'pod.refused',
    changes: [],
    pods: ['shop/web-1', 'shop/web-2'],
    firstEvidence: ['pod shop/web-1 127.0.1.1:8080: refused', 'pod shop/web-2 127.0.1.2:8080: refused'],
    failingRounds: 3,
    rollout: false,
    ...over,
  };
}

const ROUTE: AlertRoute = { id: 'shop/web/shop.example.test/', namespace: 'shop', ingress: 'web', host: 'shop.example.test', path: '/' };

function event(kind: AlertEvent['kind'], over: Partial<Incident> = {}, route: Partial<AlertRoute> = {}): AlertEvent {
  return { kind, incident: incident(over), route: { ...ROUTE, ...route } };
}

function headerOf(blocks: SlackBlock[]): string {
  const first = blocks[0];
  if (first?.type !== 'header') throw new Error('first block is not a header');
  return first.text.text;
}

function sectionTexts(blocks: SlackBlock[]): string[] {
  return blocks.flatMap((b) => (b.type === 'section' && 'text' in b ? [b.text.text] : []));
}

function fieldTexts(blocks: SlackBlock[]): string[] {
  return blocks.flatMap((b) => (b.type === 'section' && 'fields' in b ? b.fields.map((f) => f.text) : []));
}

describe('formatDuration', () => {
  const rows: [number, string][] = [
    [0, '0s'],
    [-5, '0s'],
    [Number.NaN, '0s'],
    [999, '1s'],
    [45_000, '45s'],
    [60_000, '1m'],
    [250_000, '4m 10s'],
    [3_600_000, '1h'],
    [3_725_000, '1h 2m'],
    [90_061_000, '1d 1h'],
    [2 * 86_400_000 + 59_000, '2d'],
  ];
  it.each(rows)('%d ms -> %s', (ms, words) => {
    expect(formatDuration(ms)).toBe(words);
  });
});

describe('summary and Slack header', () => {
  const rows: { name: string; event: AlertEvent; summary: string; header: string }[] = [
    {
      name: 'opened, failing at a hop',
      event: event('opened'),
      summary: 'hopwatch: shop/web shop.example.test/ failing at pod: pod.refused',
      header: ':red_circle: hopwatch: shop/web shop.example.test/ failing at pod: pod.refused',
    },
    {
      name: 'opened, degraded, no hop, rule without host',
      event: event('opened', { severity: 'degraded', hop: null, cause: 'route.unexplained' }, { host: null, path: '/api' }),
      summary: 'hopwatch: shop/web */api degraded: route.unexplained',
      header: ':large_orange_circle: hopwatch: shop/web */api degraded: route.unexplained',
    },
    {
      name: 'closed after 4m 10s',
      event: event('closed', { closedAt: OPENED_AT + 250_000 }),
      summary: 'hopwatch: shop/web shop.example.test/ resolved after 4m 10s (was failing at pod: pod.refused)',
      header: ':large_green_circle: hopwatch: shop/web shop.example.test/ resolved after 4m 10s',
    },
    {
      name: 'closed without a close time',
      event: event('closed', { closedAt: null, hop: 'controller', cause: 'controller.error' }),
      summary: 'hopwatch: shop/web shop.example.test/ resolved after ? (was failing at controller: controller.error)',
      header: ':large_green_circle: hopwatch: shop/web shop.example.test/ resolved after ?',
    },
  ];
  it.each(rows)('$name', ({ event: e, summary, header }) => {
    expect(summarize(e)).toBe(summary);
    expect(jsonPayload(e, null).summary).toBe(summary);
    const slack = slackPayload(e, null);
    expect(headerOf(slack.blocks)).toBe(header);
    expect(slack.text).toBe(escapeMrkdwn(header.split(' ')[0] + ' ' + summary));
  });
});

describe('jsonPayload', () => {
  it('carries every incident field with ISO times, the route, the summary and the dashboard link', () => {
    const e = event('closed', {
      closedAt: OPENED_AT + 250_000,
      changes: [{ at: OPENED_AT + 60_000, hop: 'controller', cause: 'controller.error' }],
      rollout: true,
    });
    expect(jsonPayload(e, 'http://hopwatch.example.test/')).toEqual({
      event: 'incident.closed',
      incident: {
        id: 12,
        routeId: 'shop/web/shop.example.test/',
        severity: 'failing',
        openedAt: '2025-01-02T03:04:05.000Z',
        closedAt: '2025-01-02T03:08:15.000Z',
        hop: 'pod',
        cause: 'pod.refused',
        changes: [{ at: '2025-01-02T03:05:05.000Z', hop: 'controller', cause: 'controller.error' }],
        pods: ['shop/web-1', 'shop/web-2'],
        firstEvidence: ['pod shop/web-1 127.0.1.1:8080: refused', 'pod shop/web-2 127.0.1.2:8080: refused'],
        failingRounds: 3,
        rollout: true,
      },
      route: ROUTE,
      summary: 'hopwatch: shop/web shop.example.test/ resolved after 4m 10s (was failing at pod: pod.refused)',
      reason: 'recovered',
      dashboard: 'http://hopwatch.example.test/',
      dedupKey: 'shop/web/shop.example.test/',
      cluster: null,
    });
    // With a cluster, the key names it: two clusters' alerts about the same-named route stay apart.
    expect(jsonPayload(e, null, 'eu')).toMatchObject({ dedupKey: 'eu/shop/web/shop.example.test/', cluster: 'eu' });
  });

  it('escalated: a degraded incident whose route now fails outright, with its latest hop and cause', () => {
    const e: AlertEvent = { ...event('opened', { severity: 'failing', changes: [{ at: OPENED_AT + 60_000, hop: 'pod', cause: 'pod.app-error' }] }), kind: 'escalated' };
    expect(jsonPayload(e, null)).toMatchObject({
      event: 'incident.escalated',
      summary: 'hopwatch: shop/web shop.example.test/ now fails outright: at pod: pod.app-error (degraded since 2025-01-02T03:04:05.000Z)',
    });
    expect(JSON.stringify(slackPayload(e, null))).toContain(':red_circle: hopwatch: shop/web shop.example.test/ now fails outright');
  });

  it('says when a closed incident is no all-clear: its route was removed', () => {
    const e: AlertEvent = { ...event('closed', { closedAt: OPENED_AT + 60_000 }), reason: 'route-removed' };
    expect(jsonPayload(e, null)).toMatchObject({
      reason: 'route-removed',
      summary: 'hopwatch: shop/web shop.example.test/ closed after 1m: the route was removed, not recovered (was failing at pod: pod.refused)',
    });
    expect(JSON.stringify(slackPayload(e, null))).toContain(':white_circle: hopwatch: shop/web shop.example.test/ closed: the route was removed, not recovered, after 1m');
  });

  it('opened: event name, closedAt null, dashboard null; extra route fields are not copied', () => {
    const e: AlertEvent = { kind: 'opened', incident: incident(), route: { ...ROUTE, ...{ annotations: { secret: 'x' } } } as AlertRoute };
    const p = jsonPayload(e, null);
    expect(p.event).toBe('incident.opened');
    expect(p.incident.closedAt).toBeNull();
    expect(p.dashboard).toBeNull();
    expect(Object.keys(p.route).sort()).toEqual(['host', 'id', 'ingress', 'namespace', 'path']);
  });
});

/** Every Slack limit the payload must respect. */
function expectWithinSlackLimits(blocks: SlackBlock[]): void {
  expect(blocks.length).toBeLessThanOrEqual(50);
  expect(headerOf(blocks).length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
  for (const text of sectionTexts(blocks)) expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
  for (const b of blocks) if (b.type === 'section' && 'fields' in b) expect(b.fields.length).toBeLessThanOrEqual(SLACK_LIMITS.fields);
  for (const text of fieldTexts(blocks)) expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
  // No lone surrogates: JSON.stringify would write them as \udXXX escapes Slack rejects.
  expect(JSON.stringify(blocks)).not.toMatch(/\\ud[89a-f][0-9a-f]{2}/i);
}

describe('slackPayload', () => {
  it('opened: header, evidence section, facts, dashboard link', () => {
    const p = slackPayload(event('opened'), 'http://hopwatch.example.test/?route=a&b=c');
    expect(p.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context']);
    expect(p.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: expect.any(String), emoji: true } });
    expect(sectionTexts(p.blocks)[0]).toBe('*Evidence*\n• pod shop/web-1 127.0.1.1:8080: refused\n• pod shop/web-2 127.0.1.2:8080: refused');
    expect(fieldTexts(p.blocks)).toEqual([
      '*Route*\nshop/web shop.example.test/',
      '*Cause*\nfailing at pod: pod.refused',
      '*Opened*\n2025-01-02T03:04:05.000Z',
      '*Failing rounds*\n3',
      '*Pods*\nshop/web-1, shop/web-2',
      '*Rollout*\nno',
    ]);
    expect(p.blocks[3]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: 'incident #12 · <http://hopwatch.example.test/?route=a&amp;b=c|open in hopwatch>' }] });
  });

  it('closed: close time and duration, rollout flag, changes section, no link without a dashboard', () => {
    const p = slackPayload(
      event('closed', { closedAt: OPENED_AT + 250_000, rollout: true, changes: [{ at: OPENED_AT + 60_000, hop: null, cause: 'rollout.drain' }] }),
      null,
    );
    expect(fieldTexts(p.blocks)).toContain('*Closed*\n2025-01-02T03:08:15.000Z (after 4m 10s)');
    expect(fieldTexts(p.blocks)).toContain('*Rollout*\nyes: lines up with a rollout of the backend');
    expect(sectionTexts(p.blocks)).toContain('*Changes while open*\n• 2025-01-02T03:05:05.000Z: -: rollout.drain');
    expect(p.blocks[p.blocks.length - 1]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: 'incident #12' }] });
  });

  it('escapes mrkdwn markup in evidence, pods and route, but not in the plain-text header', () => {
    const p = slackPayload(event('opened', { firstEvidence: ['<!channel> a & b'], pods: ['ns/<pod>'] }, { path: '/a&b' }), null);
    expect(sectionTexts(p.blocks)[0]).toBe('*Evidence*\n• &lt;!channel&gt; a &amp; b');
    expect(fieldTexts(p.blocks)).toContain('*Pods*\nns/&lt;pod&gt;');
    expect(fieldTexts(p.blocks)).toContain('*Route*\nshop/web shop.example.test/a&amp;b');
    expect(headerOf(p.blocks)).toContain('/a&b failing');
    expect(p.text).toContain('/a&amp;b failing');
  });

  it('leaves the evidence section out when there is no evidence', () => {
    const p = slackPayload(event('opened', { firstEvidence: [] }), null);
    expect(p.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
  });

  const big = {
    'many evidence lines': event('opened', { firstEvidence: Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(90)}`) }),
    'one huge evidence line': event('opened', { firstEvidence: ['y'.repeat(10_000), 'second'] }),
    'evidence of emoji and entities': event('opened', { firstEvidence: Array.from({ length: 50 }, () => '😀&<>'.repeat(40)) }),
    'many pods': event('opened', { pods: Array.from({ length: 500 }, (_, i) => `shop/web-7d9f8c6b5-${i}`) }),
    'a very long host': event('opened', {}, { host: `${'a'.repeat(200)}.example.test` }),
    'many changes': event('closed', { closedAt: OPENED_AT + 1, changes: Array.from({ length: 400 }, (_, i) => ({ at: OPENED_AT + i, hop: 'pod', cause: 'pod.reset' })) }),
  };
  it.each(Object.entries(big))('%s: stays within Slack limits', (_name, e) => {
    expectWithinSlackLimits(slackPayload(e, 'http://hopwatch.example.test/').blocks);
  });

  it('counts the evidence lines it leaves out', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(90)}`);
    const text = sectionTexts(slackPayload(event('opened', { firstEvidence: lines }), null).blocks)[0] as string;
    const shown = text.split('\n').filter((l) => l.startsWith('• line ')).length;
    const more = /_… (\d+) more lines_$/.exec(text);
    expect(more).not.toBeNull();
    expect(shown).toBeGreaterThan(20);
    expect(shown + Number(more?.[1])).toBe(200);
  });

  it('cuts a huge line instead of leaving the section empty, and counts the rest', () => {
    const text = sectionTexts(slackPayload(event('opened', { firstEvidence: ['y'.repeat(10_000), 'second'] }), null).blocks)[0] as string;
    expect(text).toMatch(/^\*Evidence\*\n• y{1000,}…\n_… 1 more line_$/);
  });

  it('names how many pods it leaves out', () => {
    const pods = Array.from({ length: 500 }, (_, i) => `shop/web-7d9f8c6b5-${i}`);
    const field = fieldTexts(slackPayload(event('opened', { pods }), null).blocks).find((f) => f.startsWith('*Pods*')) as string;
    const more = /… and (\d+) more$/.exec(field);
    expect(more).not.toBeNull();
    const shown = field.replace('*Pods*\n', '').replace(/ … and \d+ more$/, '').split(', ').length;
    expect(shown + Number(more?.[1])).toBe(500);
  });
});

describe('cutText and fitLines', () => {
  const cuts: [string, string, number, string][] = [
    ['short text is kept', 'abc', 5, 'abc'],
    ['exact fit is kept', 'abcde', 5, 'abcde'],
    ['cut with an ellipsis', 'abcdefgh', 5, 'abcd…'],
    ['never splits a surrogate pair', 'abc😀def', 5, 'abc…'],
    ['drops a partial entity', 'ab&amp;cd', 5, 'ab…'],
  ];
  it.each(cuts)('cutText: %s', (_name, text, max, out) => {
    expect(cutText(text, max)).toBe(out);
    expect(cutText(text, max).length).toBeLessThanOrEqual(max);
  });

  const fits: [string, string[], number, string][] = [
    ['everything fits', ['a', 'b'], 100, 'T\na\nb'],
    ['no lines', [], 100, 'T'],
    ['the last line may use the reserve', ['a'.repeat(90)], 95, `T\n${'a'.repeat(90)}`],
    ['lines that do not fit are counted', ['a'.repeat(30), 'b'.repeat(30), 'c'.repeat(30)], 80, `T\n${'a'.repeat(30)}\n_… 2 more lines_`],
  ];
  it.each(fits)('fitLines: %s', (_name, lines, limit, out) => {
    expect(fitLines('T', lines, limit)).toBe(out);
    expect(fitLines('T', lines, limit).length).toBeLessThanOrEqual(limit);
  });
});
