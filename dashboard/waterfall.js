// A round's detail: each hop's result as a row with a waterfall of its phases (dns, connect, tls,
// ttfb, then the body), its status, error and which component generated the answer.

import { h, hopChip, millis, statusPill, utc } from './format.js';
import { PHASE_COLOURS } from './palette.js';

const PHASES = [
  { key: 'dns', label: 'dns' },
  { key: 'connect', label: 'connect' },
  { key: 'tls', label: 'tls' },
  { key: 'wait', label: 'ttfb' },
  { key: 'body', label: 'body' },
  { key: 'error', label: 'until the error' },
];

/**
 * The phases of one hop as consecutive [name, ms] pieces (ttfb counts from the request start, so what
 * is before it is taken off). Time after the last phase reached is the body only when a first byte
 * came; a hop that failed before it (refused, reset, timed out) spent it waiting for the error.
 */
export function phasesOf(t, failed = false) {
  const dns = t.dnsMs ?? 0;
  const connect = t.connectMs ?? 0;
  const tls = t.tlsMs ?? 0;
  const before = dns + connect + tls;
  const wait = t.ttfbMs === undefined ? 0 : Math.max(0, t.ttfbMs - before);
  const reached = t.ttfbMs === undefined ? before : Math.max(before, t.ttfbMs);
  const rest = Math.max(0, t.totalMs - reached);
  const last = failed && t.ttfbMs === undefined ? 'error' : 'body';
  return [['dns', dns], ['connect', connect], ['tls', tls], ['wait', wait], [last, rest]];
}

function bar(hop, scaleMs) {
  const pieces = phasesOf(hop.timings, hop.error !== null).filter(([, ms]) => ms > 0);
  const title = pieces.map(([k, ms]) => `${PHASES.find((p) => p.key === k).label} ${millis(ms)}`).join(', ');
  return h('div', { class: 'wf-track', title },
    ...pieces.map(([k, ms]) => h('span', { class: `wf-seg wf-${k}`, style: { width: `${Math.max(0.4, (ms / scaleMs) * 100)}%`, background: PHASE_COLOURS[k] } })),
    h('span', { class: 'wf-total' }, millis(hop.timings.totalMs)));
}

function result(hop) {
  if (hop.error) return h('span', { class: 'hop-error', title: hop.errorDetail ?? '' }, hop.error);
  if (hop.hop === 'dns') return h('span', { class: 'hop-ok' }, (hop.addresses ?? []).join(', ') || 'resolved');
  const cls = hop.status >= 500 ? 'hop-error' : hop.status >= 400 ? 'hop-warn' : 'hop-ok';
  return h('span', { class: cls }, String(hop.status));
}

/**
 * A name or address that may wrap only after a dot, colon, slash or dash, never inside a word:
 * "checkout.payments.svc.c luster.local" read as two words.
 */
export function breakable(text) {
  return text.split(/(?<=[.:/-])/).flatMap((part, i) => (i === 0 ? [part] : [h('wbr'), part]));
}

/** Per-backend pod results of a round whose pods belong to several backends: "shop/web-v2:80: 0 of 2 pods answer (refused)". */
function backendPods(hops) {
  const byBackend = new Map();
  for (const hp of hops) {
    if (hp.hop !== 'pod' || !hp.backend) continue;
    const list = byBackend.get(hp.backend) ?? [];
    list.push(hp);
    byBackend.set(hp.backend, list);
  }
  if (byBackend.size < 2) return null;
  const line = ([backend, pods]) => {
    const failing = pods.filter((p) => p.error || p.status >= 500);
    const why = [...new Set(failing.map((p) => p.error ?? String(p.status)))].join(', ');
    return h('li', { 'data-backend': backend }, h('span', { class: 'mono' }, backend), `: ${pods.length - failing.length} of ${pods.length} pods answer${why ? ` (${why}: ${failing.map((p) => p.pod ?? p.target).join(', ')})` : ''}`);
  };
  return h('ul', { class: 'evidence backends' }, ...[...byBackend.entries()].map(line));
}

/** The round detail block. */
export function roundDetail(round) {
  const scaleMs = Math.max(1, ...round.hops.map((hp) => hp.timings.totalMs));
  const v = round.verdict;
  return h('div', { class: 'round-detail', 'data-round': round.startedAt },
    h('div', { class: 'round-head' },
      h('h3', {}, `Round ${utc(round.startedAt)} UTC`),
      statusPill(v.status), v.hop ? hopChip(v.hop) : null, h('code', { class: 'cause' }, v.cause),
      h('span', { class: 'muted' }, `${millis(round.durationMs)} wall time`)),
    h('p', { class: 'summary' }, v.summary),
    v.evidence.length ? h('ul', { class: 'evidence' }, ...v.evidence.map((e) => h('li', {}, e))) : null,
    backendPods(round.hops),
    h('div', { class: 'wf-legend' }, ...PHASES.map((p) => h('span', {}, h('i', { class: `wf-seg wf-${p.key}`, style: { background: PHASE_COLOURS[p.key] } }), p.label))),
    h('div', { class: 'table-wrap' }, h('table', { class: 'grid waterfall' },
      h('thead', {}, h('tr', {}, ...['Hop', 'Target', 'Result', 'Generator', 'Phases'].map((t) => h('th', {}, t)))),
      h('tbody', {}, ...round.hops.map((hp) => h('tr', { 'data-hop': hp.hop },
        h('td', {}, hopChip(hp.hop)),
        h('td', { class: 'target-cell' },
          hp.pod ? h('div', { class: 'mono' }, ...breakable(hp.pod), hp.terminating ? h('span', { class: 'tag' }, 'terminating') : null, hp.ready === false ? h('span', { class: 'tag' }, 'not ready') : null) : null,
          hp.backend && (hp.hop === 'edge' || hp.hop === 'controller') ? h('span', { class: 'tag', title: 'sent with the header or cookie that selects this backend' }, `for ${hp.backend}`) : null,
          h('div', { class: hp.pod ? 'mono muted small' : 'mono' }, ...breakable(hp.target))),
        h('td', { class: 'result-cell' }, result(hp), hp.error && hp.errorDetail ? h('div', { class: 'muted small' }, hp.errorDetail) : null),
        h('td', {}, hp.generator ?? '–'),
        h('td', { class: 'wf-cell' }, bar(hp, scaleMs))))))));
}
