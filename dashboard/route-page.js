// One route: its verdict with evidence, uptime, the timeline chart over a picked range with its
// incidents marked, the incidents list, the rounds list and one round's hop-by-hop waterfall.

import { api, seg } from './api.js';
import { drawTimeline } from './chart.js';
import { UPTIME_MEANING, ago, duration, h, hopChip, millis, percent, routeNames, showLoadError, statusPill, stepText, uptimeClass, utc } from './format.js';
import { incidentRows, incidentTableHead } from './incidents-page.js';
import { roundDetail } from './waterfall.js';

/** The range picker's choices, in ms. */
export const RANGES = { '1h': 3_600_000, '6h': 21_600_000, '24h': 86_400_000, '7d': 604_800_000, '30d': 2_592_000_000, '90d': 7_776_000_000 };

function verdictBlock(detail) {
  const v = detail.verdict;
  if (!v) return h('div', { class: 'verdict verdict-none' }, statusPill('none'), h('span', { class: 'muted' }, 'No round stored yet.'));
  return h('div', { class: `verdict verdict-${v.status}`, 'data-status': v.status },
    h('div', { class: 'verdict-line' }, statusPill(v.status), v.hop ? hopChip(v.hop) : null, h('code', { class: 'cause', 'data-cause': v.cause }, v.cause), h('span', { class: 'summary' }, v.summary)),
    v.evidence && v.evidence.length ? h('ul', { class: 'evidence' }, ...v.evidence.map((e) => h('li', {}, e))) : null);
}

function statsBlock(detail) {
  const stat = (label, value, cls = '', title = undefined) => h('div', { class: 'stat', title }, h('span', { class: `stat-value ${cls}` }, value), h('span', { class: 'stat-label' }, label));
  const last = detail.latestRound;
  const edge = last ? last.hops.find((x) => x.hop === 'edge') : null;
  return h('div', { class: 'stats' },
    ...['24h', '7d', '30d'].map((w) => stat(`uptime ${w}`, percent(detail.uptime[w].uptime), uptimeClass(detail.uptime[w].uptime), UPTIME_MEANING)),
    stat('edge latency', millis(edge && edge.error !== 'unreachable' ? edge.timings.totalMs : null)),
    stat('last round', last ? ago(last.startedAt) : '–'),
    detail.openIncident
      ? h('a', { class: 'stat stat-link', href: `#/incident/${detail.openIncident.id}` }, h('span', { class: 'stat-value up-bad' }, `#${detail.openIncident.id}`), h('span', { class: 'stat-label' }, `open incident, ${duration(detail.openIncident.durationMs)}`))
      : stat('open incident', 'none', 'muted'));
}

function rangePicker(current, pick) {
  return h('div', { class: 'segmented', role: 'group', 'aria-label': 'range' },
    ...Object.keys(RANGES).map((r) => h('button', { class: r === current ? 'active' : '', 'data-range': r, onclick: () => pick(r) }, r)));
}

function roundRow(r, selected, pick) {
  const v = r.verdict;
  const at = Date.parse(r.startedAt);
  return h('tr', { class: `clickable${selected === at ? ' selected' : ''}`, 'data-round': r.startedAt, onclick: () => pick(at) },
    h('td', { class: 'mono' }, utc(r.startedAt)), h('td', {}, statusPill(v.status)), h('td', {}, hopChip(v.hop)),
    h('td', { class: 'cause', title: v.summary }, v.cause === 'ok' ? h('span', { class: 'muted' }, 'ok') : v.cause), h('td', { class: 'num' }, millis(r.durationMs)));
}

/** Renders a route's page; returns { load } (load refreshes everything but the round shown). */
export function routePage(view, id, state, setQuery) {
  const range = RANGES[state.range] ? state.range : '24h';
  const go = (patch) => setQuery({ ...state, ...patch });
  const head = h('div');
  const chartEl = h('div', { class: 'chart', id: 'timeline-chart' });
  const chartNote = h('p', { class: 'muted small' });
  const incidentsBody = h('tbody');
  const roundsBody = h('tbody');
  const roundsTitle = h('h2', {}, 'Rounds');
  const detailSlot = h('div', { id: 'round-detail' }, h('p', { class: 'muted' }, 'Click a round to see each hop.'));
  view.replaceChildren(h('section', { class: 'page' },
    head,
    h('div', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', {}, 'Failed rounds by hop, edge latency'), rangePicker(range, (r) => go({ range: r, from: undefined, to: undefined }))), chartEl, chartNote),
    h('div', { class: 'panel' }, h('h2', {}, 'Incidents'), h('div', { class: 'table-wrap' }, h('table', { class: 'grid incidents' }, incidentTableHead(false), incidentsBody))),
    h('div', { class: 'columns' },
      h('div', { class: 'panel' }, roundsTitle, h('div', { class: 'table-wrap scroll' }, h('table', { class: 'grid rounds' }, h('thead', {}, h('tr', {}, ...['Started (UTC)', 'Status', 'Hop', 'Cause', 'Wall'].map((t) => h('th', {}, t)))), roundsBody))),
      h('div', { class: 'panel' }, detailSlot))));

  const showRound = async (at) => {
    const round = await api(`routes/${seg(id)}/rounds/${at}`);
    detailSlot.replaceChildren(roundDetail(round.data));
    for (const tr of roundsBody.children) tr.classList.toggle('selected', Date.parse(tr.dataset.round) === at);
  };
  const pickRound = (at) => {
    state.round = String(at);
    setQuery(state, { quiet: true });
    showRound(at).catch((error) => showLoadError(view, error));
  };
  // The rounds listed: the range's newest (refreshed with the page), or a clicked bucket's (kept until another click).
  let bucketShown = false;
  const loadRounds = async (from, to, label) => {
    const rounds = await api(`routes/${seg(id)}/rounds`, { from, to, limit: 200 });
    roundsTitle.textContent = label;
    roundsBody.replaceChildren(...(rounds.data.length ? rounds.data.map((r) => roundRow(r, Number(state.round), pickRound)) : [h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No rounds stored in this span (raw rounds are kept for store.retention.rawDays).'))]));
    return rounds.data;
  };
  const onBucket = (bucket, stepMs) => {
    const from = Date.parse(bucket.start);
    bucketShown = true;
    void loadRounds(new Date(from).toISOString(), new Date(from + stepMs).toISOString(), `Rounds ${utc(bucket.start, false)}, ${stepText(stepMs)}`).then((rounds) => {
      const failed = rounds.filter((r) => r.verdict.status === 'failing' || r.verdict.status === 'degraded');
      const first = failed[failed.length - 1] ?? rounds[rounds.length - 1];
      if (first) pickRound(Date.parse(first.startedAt));
      // Nothing in that span: the round shown before belongs elsewhere.
      else detailSlot.replaceChildren(h('p', { class: 'muted' }, 'No round in this span.'));
    }).catch((error) => showLoadError(view, error));
  };

  const load = async () => {
    const now = Date.now();
    const from = new Date(now - RANGES[range]).toISOString();
    const [detail, timeline, incidents] = await Promise.all([
      api(`routes/${seg(id)}`),
      api('timeline', { route: id, from }),
      api('incidents', { route: id, from, limit: 100 }),
    ]);
    const d = detail.data;
    const { owner, where } = routeNames(d);
    head.replaceChildren(
      h('nav', { class: 'crumbs' }, h('a', { href: '#/' }, 'Routes'), ' / ', h('a', { href: `#/?ns=${encodeURIComponent(d.namespace)}` }, d.namespace), ' / ', d.ingress),
      h('div', { class: 'page-head' }, h('h1', {}, owner, ' ', h('span', { class: 'route-where' }, where)),
        h('p', { class: 'muted mono small' }, `${d.kind ?? 'Ingress'} ${d.namespace}/${d.name ?? d.ingress} · ${d.ingressClass ?? 'no class'} · ${backendsText(d)} · probes ${d.probePath}${d.tls ? ' · tls' : ''}`)),
      verdictBlock(d), statsBlock(d));
    const t = timeline.data;
    drawTimeline(chartEl, t, incidents.data, (b) => onBucket(b, t.stepMs));
    chartNote.textContent = `${t.buckets.length} buckets of ${stepText(t.stepMs)} from the ${t.tier === 'raw' ? 'raw rounds' : `${t.tier} rollups`}; shaded spans are incidents; click a bar for its rounds. Times in UTC.${t.expiredBefore ? ` Before ${utc(t.expiredBefore, false)} this detail has expired (store retention): a longer range reads a coarser tier.` : ''}`;
    incidentsBody.replaceChildren(...(incidents.data.length ? incidentRows(incidents.data, false) : [h('tr', {}, h('td', { colspan: 8, class: 'empty' }, `No incident in the last ${range}.`))]));
    if (!bucketShown) await loadRounds(from, undefined, `Rounds, last ${range} (newest first)`);
    if (detailSlot.querySelector('.round-detail') === null) {
      const at = Number(state.round) || (d.latestRound ? Date.parse(d.latestRound.startedAt) : 0);
      if (at) await showRound(at).catch(() => undefined);
    }
  };
  return { load };
}

/** "backend web:http" for one backend; "backends web:http 75 %, web-v2:http 25 % (canary web-canary, header X-Canary)" for a split route. */
function backendsText(d) {
  const backends = d.backends ?? [];
  if (backends.length <= 1) return `backend ${d.backend.service}:${d.backend.port}`;
  const one = (b) => {
    const how = [b.role === 'canary' ? `canary ${b.source?.name ?? ''}`.trim() : null,
      b.selector?.header ? `header ${b.selector.header.name}` : null,
      b.selector?.cookie ? `cookie ${b.selector.cookie.name}` : null].filter(Boolean);
    return `${b.service}:${b.port} ${Math.round(b.share * 1000) / 10} %${how.length ? ` (${how.join(', ')})` : ''}`;
  };
  return `backends ${backends.map(one).join(', ')}`;
}
