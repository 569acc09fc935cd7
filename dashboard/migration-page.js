// Migration: every host and path served through two front doors (an Ingress and an HTTPRoute, or
// two IngressClasses), compared round by round by the daemon: alike or different, since when, the
// differences that matter with their likely reason, and the risks the two sides' settings predict.

import { api, seg } from './api.js';
import { ago, h, percent, utc } from './format.js';

/** Most pairs whose history is fetched per refresh. */
const MAX_DETAILED = 50;
/** Comparisons drawn in a pair's strip (newest on the right). */
const STRIP_POINTS = 120;

function outcomePill(outcome) {
  const cls = outcome === 'alike' ? 'status-ok' : outcome === 'different' ? 'status-failing' : 'status-none';
  return h('span', { class: `pill ${cls}`, 'data-outcome': outcome }, outcome);
}

function verdictText(v) {
  return v.status === 'ok' ? 'ok' : v.status === 'unknown' ? 'not probed yet' : `${v.status} at ${v.hop ?? '?'}: ${v.cause}`;
}

function sideLine(label, side) {
  return h('div', { class: 'pair-side' }, h('span', { class: 'pair-side-label' }, label), ' ', h('span', { class: 'mono' }, side.object),
    side.frontDoor ? h('span', { class: 'muted' }, ` via ${side.frontDoor}`) : null, ' · ', h('span', { class: 'pair-verdict' }, verdictText(side.verdict)));
}

/** The comparisons over time, one cell each: green alike, red different. */
function strip(history) {
  const points = history.slice(-STRIP_POINTS);
  return h('div', { class: 'parity-strip', 'aria-label': 'parity over time' },
    ...points.map((p) => h('span', { class: `parity-cell parity-${p.outcome}`, title: `${utc(p.at)} UTC: ${p.outcome}${p.differences ? ` (${p.differences} differences)` : ''}` })));
}

function pairCard(pair) {
  const differences = pair.differences.filter((d) => d.matters);
  const since = pair.since ? `since ${utc(pair.since)} UTC (${ago(pair.since)})` : 'waiting for a round of both routes';
  return h('section', { class: 'pair', 'data-pair': pair.id, 'data-outcome': pair.outcome },
    h('div', { class: 'pair-head' }, h('h2', { class: 'mono' }, pair.key), outcomePill(pair.outcome), h('span', { class: 'muted pair-since' }, since)),
    sideLine('old', pair.old), sideLine('new', pair.new),
    h('p', { class: 'pair-parity' }, pair.parity.compared === 0 ? 'not compared yet' : `${percent(pair.parity.alikeShare)} of ${pair.parity.compared} comparisons alike since ${utc(pair.parity.from)} UTC`),
    pair.history ? strip(pair.history) : null,
    differences.length ? h('div', { class: 'pair-list' }, h('h3', {}, 'Differences'), h('ul', { class: 'differences' }, ...differences.map((d) => h('li', { 'data-kind': d.kind }, d.summary)))) : null,
    pair.risks.length ? h('div', { class: 'pair-list' }, h('h3', {}, 'Risks the rounds cannot show'),
      h('ul', { class: 'risks' }, ...pair.risks.map((r) => h('li', { 'data-kind': r.kind }, h('strong', {}, r.kind), `: ${r.summary}`, h('div', { class: 'muted small' }, `old: ${r.old} · new: ${r.new}`))))) : null);
}

/** Renders the Migration page; returns { load }. */
export function migrationPage(view) {
  const list = h('div', { class: 'pairs' });
  const summary = h('p', { class: 'muted' });
  view.replaceChildren(h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Migration'),
      h('p', { class: 'muted' }, 'Hosts served through two front doors (an Ingress and an HTTPRoute, or two IngressClasses), each round of one compared with its twin\'s: do they answer alike? Run `hopwatch compare` for the full set of requests.')),
    summary, list));
  return {
    async load() {
      const { pairs } = await api('pairs');
      const detailed = await Promise.all(pairs.slice(0, MAX_DETAILED).map((p) => api(`pairs/${seg(p.id)}`).catch(() => p)));
      const shown = [...detailed, ...pairs.slice(MAX_DETAILED)];
      const different = shown.filter((p) => p.outcome === 'different').length;
      summary.textContent = shown.length === 0 ? 'No host is served through two front doors.' : `${shown.length} pairs: ${different} different, ${shown.length - different} alike or pending.`;
      list.replaceChildren(...shown.map(pairCard));
    },
  };
}
