// One route: its verdict with evidence, uptime, the latest failing round hop by hop (on the first
// screen: that is what someone opening a failing route came for), the timeline chart over a picked
// range with its incidents marked, the incidents list and the rounds list.
//
// The page is a list of sections (sections below); a new one (a route's backends, its kind) is one
// more entry there.

import { api, seg } from './api.js';
import { drawTimeline } from './chart.js';
import { UPTIME_MEANING, ago, duration, h, hopChip, millis, percent, parentText, routeNames, showLoadError, statusPill, stepText, utc } from './format.js';
import { incidentRows, incidentTableHead } from './incidents-page.js';
import { roundDetail } from './waterfall.js';

/** The range picker's choices, in ms. */
export const RANGES = { '15m': 900_000, '1h': 3_600_000, '6h': 21_600_000, '24h': 86_400_000, '7d': 604_800_000, '30d': 2_592_000_000, '90d': 7_776_000_000 };

/** Where the range a user picked is remembered (per browser). */
const RANGE_KEY = 'hopwatch.range';

const notOk = (status) => status === 'failing' || status === 'degraded';

/** The range a page opens on: the URL's, else the one the user picked last, else the smallest that holds the route's history (at most 24 h). */
export function openingRange(query, stored, historyMs) {
  if (RANGES[query]) return query;
  if (RANGES[stored]) return stored;
  return ['15m', '1h', '6h'].find((r) => historyMs <= RANGES[r] * 0.9) ?? '24h';
}

function storedRange() {
  try {
    return localStorage.getItem(RANGE_KEY);
  } catch {
    return null;
  }
}

function rememberRange(range) {
  try {
    localStorage.setItem(RANGE_KEY, range);
  } catch {
    // Storage refused (private mode): the choice lasts for this page only.
  }
}

function verdictBlock(detail) {
  const v = detail.verdict;
  if (!v) return h('div', { class: 'verdict verdict-none' }, statusPill('none'), h('span', { class: 'muted' }, 'No round stored yet.'));
  return h('div', { class: `verdict verdict-${v.status}`, 'data-status': v.status },
    h('div', { class: 'verdict-line' }, statusPill(v.status), v.hop ? hopChip(v.hop) : null, h('code', { class: 'cause', 'data-cause': v.cause }, v.cause), h('span', { class: 'summary' }, v.summary)),
    v.evidence && v.evidence.length ? h('ul', { class: 'evidence' }, ...v.evidence.map((e) => h('li', {}, e))) : null);
}

/** "3m", "5h", "2d": how much history an uptime figure rests on. */
function span(ms) {
  const m = Math.max(1, Math.round(ms / 60_000));
  if (m < 60) return `${m}m`;
  if (m < 2880) return `${Math.round(m / 60)}h`;
  return `${Math.round(m / 1440)}d`;
}

/**
 * One uptime window: the figure, and under it how much history it covers when that is less than the
 * window (7 d from three minutes of rounds says so). Degraded rounds count as up, so a window with
 * any is never green: amber, with their count.
 */
export function uptimeStat(window, u, firstSeenAt, now) {
  const windowMs = { '24h': 86_400_000, '7d': 604_800_000, '30d': 2_592_000_000 }[window];
  const covered = now - Math.max(Date.parse(u.from), Date.parse(firstSeenAt));
  const partial = covered < windowMs * 0.95;
  const cls = u.uptime === null ? 'muted' : u.uptime < 0.99 ? 'up-bad' : u.degraded > 0 || u.uptime < 0.999 ? 'up-warn' : 'up-good';
  const label = `uptime ${window}${partial ? ` · ${span(covered)} of history` : ''}`;
  const counts = `${u.rounds} rounds: ${u.ok} ok, ${u.degraded} degraded, ${u.failing} failing`;
  return h('div', { class: 'stat', 'data-uptime': window, title: `${UPTIME_MEANING}. ${counts}.` },
    h('span', { class: `stat-value ${cls}` }, percent(u.uptime), u.degraded > 0 ? h('span', { class: 'stat-note' }, ` ${u.degraded} degraded`) : null),
    h('span', { class: 'stat-label' }, label));
}

/** The incident stat: the open one, one that is opening (failing rounds so far of those it takes), or none. */
function incidentStat(detail, streak) {
  const stat = (label, value, cls, attrs = {}) => h('div', { class: 'stat', ...attrs }, h('span', { class: `stat-value ${cls}` }, value), h('span', { class: 'stat-label' }, label));
  const open = detail.openIncident;
  if (open) {
    return h('a', { class: 'stat stat-link', href: `#/incident/${open.id}` }, h('span', { class: 'stat-value up-bad' }, `#${open.id}`), h('span', { class: 'stat-label' }, `open incident, ${duration(open.durationMs)}`));
  }
  if (detail.verdict && notOk(detail.verdict.status) && streak > 0) {
    const after = detail.incidentOpensAfter;
    const value = after ? `${Math.min(streak, after)} of ${after} failing rounds` : `${streak} failing round${streak === 1 ? '' : 's'}`;
    return stat('incident opening', value, detail.verdict.status === 'failing' ? 'up-bad' : 'up-warn', { 'data-opening': String(streak), title: after ? `an incident opens after ${after} failing rounds in a row` : undefined });
  }
  return stat('open incident', 'none', 'muted');
}

function statsBlock(detail, streak, now) {
  const last = detail.latestRound;
  const edge = last ? last.hops.find((x) => x.hop === 'edge') : null;
  const stat = (label, value) => h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, value), h('span', { class: 'stat-label' }, label));
  return h('div', { class: 'stats' },
    ...['24h', '7d', '30d'].map((w) => uptimeStat(w, detail.uptime[w], detail.firstSeenAt, now)),
    stat('edge latency', millis(edge && edge.error !== 'unreachable' ? edge.timings.totalMs : null)),
    stat('last round', last ? ago(last.startedAt) : '–'),
    incidentStat(detail, streak));
}

/** Non-ok rounds in a row, newest first ('unknown' rounds count neither way, as for incidents). */
function failingStreak(rounds) {
  let n = 0;
  for (const r of rounds) {
    if (r.verdict.status === 'unknown') continue;
    if (!notOk(r.verdict.status)) break;
    n++;
  }
  return n;
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
  let range = null;
  const go = (patch) => setQuery({ ...state, ...patch });
  const pickRange = (r) => {
    rememberRange(r);
    go({ range: r, from: undefined, to: undefined });
  };
  const head = h('div');
  const pickerSlot = h('div');
  const chartEl = h('div', { class: 'chart', id: 'timeline-chart' });
  const chartNote = h('p', { class: 'muted small' });
  const incidentsBody = h('tbody');
  const roundsBody = h('tbody');
  const roundsTitle = h('h2', { id: 'rounds-title' }, 'Rounds');
  const detailTitle = h('h2', { id: 'round-title' }, 'Round');
  const detailSlot = h('div', { id: 'round-detail' }, h('p', { class: 'muted' }, 'Click a round to see each hop.'));
  // The page's sections, top to bottom.
  const sections = [
    head,
    h('div', { class: 'panel', id: 'round-panel' }, detailTitle, detailSlot),
    h('div', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', {}, 'Failed rounds by hop, edge latency'), pickerSlot), chartEl, chartNote),
    h('div', { class: 'panel' }, h('h2', {}, 'Incidents'), h('div', { class: 'table-wrap' }, h('table', { class: 'grid incidents' }, incidentTableHead(false), incidentsBody))),
    h('div', { class: 'panel' }, roundsTitle, h('div', { class: 'table-wrap scroll' }, h('table', { class: 'grid rounds' }, h('thead', {}, h('tr', {}, ...['Started (UTC)', 'Status', 'Hop', 'Cause', 'Wall'].map((t, i) => h('th', { class: i === 4 ? 'num' : undefined }, t)))), roundsBody))),
  ];
  view.replaceChildren(h('section', { class: 'page' }, ...sections));

  const showRound = async (at, title) => {
    const round = await api(`routes/${seg(id)}/rounds/${at}`);
    detailTitle.textContent = title ?? 'Picked round';
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
      const failed = rounds.filter((r) => notOk(r.verdict.status));
      const first = failed[failed.length - 1] ?? rounds[rounds.length - 1];
      if (first) pickRound(Date.parse(first.startedAt));
      // Nothing in that span: the round shown before belongs elsewhere.
      else detailSlot.replaceChildren(h('p', { class: 'muted' }, 'No round in this span.'));
    }).catch((error) => showLoadError(view, error));
  };

  /** The round shown when none was picked: the newest failing one in the range, else the newest. */
  const showDefaultRound = async (rounds, latestRound) => {
    const failing = rounds.find((r) => notOk(r.verdict.status));
    if (failing) return showRound(Date.parse(failing.startedAt), failing === rounds[0] ? 'Latest round: failing' : 'Latest failing round');
    if (latestRound) return showRound(Date.parse(latestRound.startedAt), 'Latest round');
    return undefined;
  };

  const load = async () => {
    const now = Date.now();
    const detail = await api(`routes/${seg(id)}`);
    const d = detail.data;
    range ??= openingRange(state.range, storedRange(), now - Date.parse(d.firstSeenAt));
    const from = new Date(now - RANGES[range]).toISOString();
    const [timeline, incidents, recent] = await Promise.all([
      api('timeline', { route: id, from }),
      api('incidents', { route: id, from, limit: 100 }),
      bucketShown ? null : loadRounds(from, undefined, `Rounds, last ${range} (newest first)`),
    ]);
    const streak = failingStreak(recent ?? (await api(`routes/${seg(id)}/rounds`, { limit: 20 })).data);
    const { owner, where } = routeNames(d);
    head.replaceChildren(
      h('nav', { class: 'crumbs' }, h('a', { href: '#/' }, 'Routes'), ' / ', h('a', { href: `#/?ns=${encodeURIComponent(d.namespace)}` }, d.namespace), ' / ', d.name ?? d.ingress,
        parentText(d) ? h('span', { class: 'muted route-parent' }, ` · ${d.kind ?? 'Ingress'} via ${parentText(d)}`) : ''),
      h('div', { class: 'page-head' }, h('h1', {}, owner, ' ', h('span', { class: 'route-where' }, where)),
        h('p', { class: 'muted mono small' }, `${d.kind ?? 'Ingress'} ${d.namespace}/${d.name ?? d.ingress} · ${d.ingressClass ?? 'no class'} · ${backendsText(d)} · probes ${d.probePath}${d.tls ? ' · tls' : ''}`)),
      verdictBlock(d), statsBlock(d, streak, now));
    pickerSlot.replaceChildren(rangePicker(range, pickRange));
    const t = timeline.data;
    const firstSeen = Date.parse(d.firstSeenAt);
    const young = firstSeen > now - RANGES[range];
    drawTimeline(chartEl, t, incidents.data, (b) => onBucket(b, t.stepMs), young ? { startMs: firstSeen } : {});
    chartNote.textContent = `${t.buckets.length} buckets of ${stepText(t.stepMs)} from the ${t.tier === 'raw' ? 'raw rounds' : `${t.tier} rollups`}${young ? `; the route's history starts ${utc(d.firstSeenAt, false)}, where the chart starts` : ''}; shaded spans are incidents; click a bar for its rounds. Times in UTC.${t.expiredBefore ? ` Before ${utc(t.expiredBefore, false)} this detail has expired (store retention): a longer range reads a coarser tier.` : ''}`;
    incidentsBody.replaceChildren(...(incidents.data.length ? incidentRows(incidents.data, false) : [h('tr', {}, h('td', { colspan: 9, class: 'empty' }, `No incident in the last ${range}.`))]));
    if (detailSlot.querySelector('.round-detail') === null) {
      const picked = Number(state.round);
      if (picked) await showRound(picked).catch(() => undefined);
      else await showDefaultRound(recent ?? [], d.latestRound).catch(() => undefined);
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
