// The routes table: every route's current verdict, uptime over 24 h / 7 d / 30 d, last latency.
// Filtering, sorting and paging are the API's (server-side), so 1,000 routes cost one page.

import { api } from './api.js';
import { UPTIME_MEANING, ago, h, hopChip, millis, percent, routeNames, showLoadError, statusPill, summaryCell, uptimeClass } from './format.js';

const PAGE = 100;
const STATUSES = ['failing', 'degraded', 'unknown', 'ok', 'none'];
const COLUMNS = [
  { key: 'status', label: 'Status', sort: 'status' },
  { key: 'route', label: 'Route', sort: 'name' },
  { key: 'hop', label: 'Hop' },
  { key: 'cause', label: 'Cause' },
  { key: 'summary', label: 'Summary' },
  { key: 'uptime24h', label: '24 h', sort: 'uptime24h', num: true },
  { key: 'uptime7d', label: '7 d', sort: 'uptime7d', num: true },
  { key: 'uptime30d', label: '30 d', sort: 'uptime30d', num: true },
  { key: 'latency', label: 'Latency', sort: 'latency', num: true },
  { key: 'lastRound', label: 'Last round', sort: 'lastRound', num: true },
];

function summaryTiles(namespaces) {
  const total = { routes: 0, ok: 0, degraded: 0, failing: 0, unknown: 0, none: 0 };
  for (const ns of namespaces) {
    total.routes += ns.routes;
    for (const s of STATUSES) total[s] += ns.statuses[s];
  }
  const tile = (label, value, cls, status) =>
    h('a', { class: `tile ${cls}`, href: status ? `#/?status=${status}` : '#/' }, h('span', { class: 'tile-value' }, String(value)), h('span', { class: 'tile-label' }, label));
  return h('div', { class: 'tiles' },
    tile('routes', total.routes, ''),
    tile('failing', total.failing, total.failing > 0 ? 'tile-failing' : '', 'failing'),
    tile('degraded', total.degraded, total.degraded > 0 ? 'tile-degraded' : '', 'degraded'),
    tile('ok', total.ok, 'tile-ok', 'ok'),
    tile('unknown / no data', total.unknown + total.none, '', 'unknown,none'));
}

function filters(state, namespaces, go, onSearch) {
  const ns = h('select', { 'aria-label': 'namespace', onchange: (e) => go({ ns: e.target.value || undefined }) },
    h('option', { value: '' }, 'all namespaces'),
    ...namespaces.map((n) => h('option', { value: n.name, selected: n.name === state.ns }, `${n.name} (${n.routes})`)));
  const status = h('select', { 'aria-label': 'status', onchange: (e) => go({ status: e.target.value || undefined }) },
    ...[['', 'any status'], ['failing,degraded', 'failing or degraded'], ['failing', 'failing'], ['degraded', 'degraded'], ['ok', 'ok'], ['unknown,none', 'unknown / no data']]
      .map(([v, label]) => h('option', { value: v, selected: (state.status ?? '') === v }, label)));
  const kind = h('select', { 'aria-label': 'kind', onchange: (e) => go({ kind: e.target.value || undefined }) },
    ...[['', 'any kind'], ['Ingress', 'Ingress'], ['HTTPRoute', 'HTTPRoute'], ['GRPCRoute', 'GRPCRoute']]
      .map(([v, label]) => h('option', { value: v, selected: (state.kind ?? '') === v }, label)));
  let timer = null;
  const search = h('input', {
    type: 'search', placeholder: 'filter: namespace, ingress, host, path', value: state.q ?? '', 'aria-label': 'search',
    oninput: (e) => {
      clearTimeout(timer);
      // In place: going through the hash would rebuild the page and take the input (focus, keystrokes) with it.
      timer = setTimeout(() => onSearch(e.target.value || undefined), 300);
    },
  });
  return h('div', { class: 'filters' }, ns, kind, status, search);
}

function header(state, go) {
  return h('tr', {}, ...COLUMNS.map((c) => {
    if (!c.sort) return h('th', {}, c.label);
    const active = (state.sort ?? 'name') === c.sort;
    const order = active && (state.order ?? 'asc') === 'asc' ? 'desc' : 'asc';
    const arrow = active ? ((state.order ?? 'asc') === 'asc' ? ' ▲' : ' ▼') : '';
    return h('th', { class: `sortable${c.num ? ' num' : ''}${active ? ' active' : ''}`, title: c.key.startsWith('uptime') ? UPTIME_MEANING : undefined, 'aria-sort': active ? ((state.order ?? 'asc') === 'asc' ? 'ascending' : 'descending') : undefined },
      h('button', { class: 'th-button', onclick: () => go({ sort: c.sort, order }) }, c.label + arrow));
  }));
}

const WINDOW_MS = { '24h': 86_400_000, '7d': 604_800_000, '30d': 2_592_000_000 };

/** "3m", "5h", "2d". */
function span(ms) {
  const m = Math.max(1, Math.round(ms / 60_000));
  if (m < 60) return `${m}m`;
  if (m < 2880) return `${Math.round(m / 60)}h`;
  return `${Math.round(m / 1440)}d`;
}

/**
 * An uptime figure with how much history it covers when that is less than the window ("100% · 3m"),
 * amber rather than green while the route is degraded (degraded rounds count as up).
 */
function uptimeCell(r, w, now = Date.now()) {
  const ratio = r.uptime[w];
  const covered = now - Date.parse(r.firstSeenAt);
  const partial = ratio !== null && ratio !== undefined && covered < WINDOW_MS[w] * 0.95;
  let cls = uptimeClass(ratio);
  if (cls === 'up-good' && r.verdict && r.verdict.status === 'degraded') cls = 'up-warn';
  const title = `${UPTIME_MEANING}${partial ? `. Covers the ${span(covered)} since the route was first seen, not the whole ${w}` : ''}`;
  return h('td', { class: `num ${cls}`, 'data-uptime': w, title }, percent(ratio), partial ? h('span', { class: 'covers' }, ` · ${span(covered)}`) : null);
}

function row(r) {
  const { owner, where } = routeNames(r);
  const v = r.verdict;
  const href = `#/route/${encodeURIComponent(r.id)}`;
  return h('tr', { class: 'clickable', 'data-route': r.id, onclick: (e) => { if (e.target.tagName !== 'A') location.hash = href; } },
    h('td', {}, statusPill(v ? v.status : 'none')),
    h('td', { class: 'route-cell' }, h('a', { href }, h('span', { class: 'route-owner' }, owner), ' ', h('span', { class: 'route-where' }, where)),
      r.removedAt ? h('span', { class: 'tag' }, 'removed') : null),
    h('td', {}, hopChip(v ? v.hop : null)),
    h('td', { class: 'cause', title: v ? v.summary : '' }, v && v.cause !== 'ok' ? v.cause : h('span', { class: 'muted' }, v ? 'ok' : '–')),
    summaryCell(v && v.status !== 'ok' ? v.summary : null),
    ...['24h', '7d', '30d'].map((w) => uptimeCell(r, w)),
    h('td', { class: 'num' }, millis(r.lastRound ? r.lastRound.latencyMs : null)),
    h('td', { class: 'num muted', title: r.lastRound ? r.lastRound.startedAt : '' }, r.lastRound ? ago(r.lastRound.startedAt) : '–'));
}

/** Renders the routes page into view; returns { load } (app.js runs and refreshes it). */
export function routesPage(view, initial, setQuery) {
  const cursors = [null];
  let page = 0;
  let state = { ...initial };
  const go = (patch) => setQuery({ ...state, ...patch });
  const onSearch = (q) => {
    state = { ...state, q };
    setQuery(state, { quiet: true });
    cursors.splice(1);
    page = 0;
    load().catch((error) => showLoadError(view, error));
  };
  const body = h('tbody');
  const pager = h('div', { class: 'pager' });
  const tilesSlot = h('div');
  const filterSlot = h('div');
  view.replaceChildren(h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Routes'), h('p', { class: 'muted' }, 'Current verdict of every route, its uptime from the rollups, and the edge latency of its last round.')),
    tilesSlot, filterSlot,
    h('div', { class: 'table-wrap' }, h('table', { class: 'grid routes' }, h('thead', {}, header(state, go)), body)),
    pager));

  let latest = 0;
  const load = async () => {
    // A search, a page turn and the refresh may overlap: only the newest load draws.
    const mine = ++latest;
    const [list, namespaces] = await Promise.all([
      api('routes', { namespace: state.ns, kind: state.kind, status: state.status, q: state.q, sort: state.sort, order: state.order, limit: PAGE, cursor: cursors[page] }),
      api('namespaces'),
    ]);
    if (mine !== latest) return;
    tilesSlot.replaceChildren(summaryTiles(namespaces.data));
    if (filterSlot.childElementCount === 0) filterSlot.replaceChildren(filters(state, namespaces.data, go, onSearch));
    body.replaceChildren(...(list.data.length === 0 ? [h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'empty' }, 'No route matches.'))] : list.data.map(row)));
    cursors[page + 1] = list.nextCursor;
    const first = list.total === 0 ? 0 : page * PAGE + 1;
    pager.replaceChildren(
      h('span', { class: 'muted' }, `${first}–${page * PAGE + list.data.length} of ${list.total}`),
      h('button', { disabled: page === 0, onclick: () => turn(-1) }, '‹ Previous'),
      h('button', { disabled: !list.nextCursor, onclick: () => turn(1) }, 'Next ›'));
  };
  const turn = (by) => {
    page += by;
    load().catch((error) => showLoadError(view, error));
  };
  return { load };
}
