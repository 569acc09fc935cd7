// Incidents across all routes (filter by state and namespace, server-side pages), and one
// incident: where and why it failed, its evidence, and its first failing round hop by hop.

import { ApiError, api, seg } from './api.js';
import { duration, h, hopChip, routeNames, showLoadError, summaryCell, utc } from './format.js';
import { roundDetail } from './waterfall.js';

const PAGE = 100;

/** The header row of an incidents table (withRoute: the route column too). */
export function incidentTableHead(withRoute) {
  const cols = ['#', 'State', ...(withRoute ? ['Route'] : []), 'Hop', 'Cause', 'Summary', 'Opened (UTC)', 'Duration', 'Pods', 'Rollout'];
  return h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', {}, c))));
}

function stateBadge(i) {
  return i.state === 'open' ? h('span', { class: `pill status-${i.severity}` }, `open · ${i.severity}`) : h('span', { class: 'pill status-closed' }, 'closed');
}

/** Rows of an incidents table; a click opens the incident. */
export function incidentRows(incidents, withRoute) {
  return incidents.map((i) => {
    const href = `#/incident/${i.id}`;
    const route = i.route ? routeNames(i.route) : null;
    return h('tr', { class: 'clickable', 'data-incident': i.id, onclick: (e) => { if (e.target.tagName !== 'A') location.hash = href; } },
      h('td', { class: 'num' }, h('a', { href }, String(i.id))),
      h('td', {}, stateBadge(i)),
      withRoute ? h('td', { class: 'route-cell' }, route ? [h('span', { class: 'route-owner' }, route.owner), ' ', h('span', { class: 'route-where' }, route.where)] : h('span', { class: 'muted' }, `${i.routeId} (removed)`)) : null,
      h('td', {}, hopChip(i.hop)),
      h('td', { class: 'cause' }, i.cause),
      // Incidents stored before the summary was kept show their first evidence line instead.
      summaryCell(i.summary ?? i.firstEvidence[0] ?? null),
      h('td', { class: 'mono' }, utc(i.openedAt)),
      h('td', { class: 'num' }, `${duration(i.durationMs)}${i.state === 'open' ? '+' : ''}`),
      h('td', { class: 'mono small' }, i.pods.length ? `${i.pods[0].replace(/^[^/]+\//, '')}${i.pods.length > 1 ? ` +${i.pods.length - 1}` : ''}` : '–'),
      h('td', {}, i.rollout ? h('span', { class: 'tag tag-rollout' }, 'rollout') : h('span', { class: 'muted' }, 'no')));
  });
}

/** The incident's first failing round: the round that opened it, else the oldest failed round in the 15 minutes after; null when none is stored. */
export async function firstFailingRound(incident) {
  const openedAt = Date.parse(incident.openedAt);
  try {
    return (await api(`routes/${seg(incident.routeId)}/rounds/${openedAt}`)).data;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
  const end = Math.min(incident.closedAt ? Date.parse(incident.closedAt) + 1 : Infinity, openedAt + 15 * 60_000);
  try {
    const rounds = (await api(`routes/${seg(incident.routeId)}/rounds`, { from: incident.openedAt, to: new Date(end).toISOString(), limit: 1000 })).data;
    const failed = rounds.filter((r) => r.verdict.status === 'failing' || r.verdict.status === 'degraded');
    return failed[failed.length - 1] ?? null;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

/** Renders the incidents page; returns { load }. */
export function incidentsPage(view, state, setQuery) {
  const cursors = [null];
  let page = 0;
  const go = (patch) => setQuery({ ...state, ...patch });
  const body = h('tbody');
  const pager = h('div', { class: 'pager' });
  const nsSelect = h('select', { 'aria-label': 'namespace', onchange: (e) => go({ ns: e.target.value || undefined }) }, h('option', { value: '' }, 'all namespaces'));
  const stateSelect = h('select', { 'aria-label': 'state', onchange: (e) => go({ state: e.target.value || undefined }) },
    ...[['', 'open and closed'], ['open', 'open'], ['closed', 'closed']].map(([v, label]) => h('option', { value: v, selected: (state.state ?? '') === v }, label)));
  view.replaceChildren(h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Incidents'), h('p', { class: 'muted' }, 'Every incident of every route, newest first (in the same second, the highest number first): where the failure started, why, for how long, and whether a rollout was going on.')),
    h('div', { class: 'filters' }, stateSelect, nsSelect),
    h('div', { class: 'table-wrap' }, h('table', { class: 'grid incidents' }, incidentTableHead(true), body)),
    pager));

  const load = async () => {
    const [list, namespaces] = await Promise.all([
      api('incidents', { state: state.state, namespace: state.ns, limit: PAGE, cursor: cursors[page] }),
      api('namespaces'),
    ]);
    if (nsSelect.childElementCount === 1) nsSelect.append(...namespaces.data.map((n) => h('option', { value: n.name, selected: n.name === state.ns }, n.name)));
    body.replaceChildren(...(list.data.length ? incidentRows(list.data, true) : [h('tr', {}, h('td', { colspan: 10, class: 'empty' }, 'No incident matches.'))]));
    cursors[page + 1] = list.nextCursor;
    pager.replaceChildren(
      h('span', { class: 'muted' }, `page ${page + 1}`),
      h('button', { disabled: page === 0, onclick: () => turn(-1) }, '‹ Newer'),
      h('button', { disabled: !list.nextCursor, onclick: () => turn(1) }, 'Older ›'));
  };
  const turn = (by) => {
    page += by;
    load().catch((error) => showLoadError(view, error));
  };
  return { load };
}

/** The smallest range of the route page that shows an incident that opened at `openedAt`. */
function rangeFor(openedAt) {
  const age = Date.now() - openedAt;
  return ['1h', '6h', '24h', '7d', '30d', '90d'].find((r) => age < { '1h': 3.3e6, '6h': 2.1e7, '24h': 8.6e7, '7d': 6e8, '30d': 2.59e9, '90d': 7.77e9 }[r]) ?? '90d';
}

/** Renders one incident; returns { load }. */
export function incidentPage(view, id) {
  const load = async () => {
    const i = (await api(`incidents/${seg(id)}`)).data;
    const round = await firstFailingRound(i);
    const route = i.route ? routeNames(i.route) : null;
    const routeHref = `#/route/${encodeURIComponent(i.routeId)}?range=${rangeFor(Date.parse(i.openedAt))}`;
    const item = (label, ...value) => [h('dt', {}, label), h('dd', {}, ...value)];
    view.replaceChildren(h('section', { class: 'page', 'data-incident': i.id },
      h('nav', { class: 'crumbs' }, h('a', { href: '#/incidents' }, 'Incidents'), ` / #${i.id}`),
      h('div', { class: 'page-head' }, h('h1', {}, `Incident #${i.id} `, stateBadge(i)),
        h('p', {}, route ? h('a', { href: routeHref }, route.owner, ' ', h('span', { class: 'route-where' }, route.where)) : `${i.routeId} (removed)`)),
      h('div', { class: `verdict verdict-${i.severity}` },
        h('div', { class: 'verdict-line' }, hopChip(i.hop), h('code', { class: 'cause', 'data-cause': i.cause }, i.cause),
          h('span', { class: 'summary' }, `${i.state === 'open' ? 'failing for' : 'lasted'} ${duration(i.durationMs)}, ${i.failingRounds} failed rounds`))),
      h('div', { class: 'panel' }, h('dl', { class: 'facts' },
        ...item('Opened', `${utc(i.openedAt)} UTC`),
        ...item('Closed', i.closedAt ? `${utc(i.closedAt)} UTC` : 'still open'),
        ...item('Rollout', i.rollout ? h('span', { class: 'tag tag-rollout' }, 'lines up with a rollout of the backend') : 'no rollout seen'),
        ...item('Pods', i.pods.length ? h('span', { class: 'mono' }, i.pods.join(', ')) : '–'),
        ...(i.changes.length ? item('Changes', h('ul', { class: 'plain' }, ...i.changes.map((c) => h('li', {}, `${utc(c.at)} → `, hopChip(c.hop), ' ', c.cause)))) : []),
        ...item('Evidence', i.firstEvidence.length ? h('ul', { class: 'evidence' }, ...i.firstEvidence.map((e) => h('li', {}, e))) : '–'))),
      h('div', { class: 'panel' }, h('h2', {}, 'First failing round'),
        round ? roundDetail(round) : h('p', { class: 'muted' }, 'No longer stored: raw rounds are kept for store.retention.rawDays.'))));
  };
  return { load };
}
