// hopwatch dashboard: a hash router over its pages (routes, one route, incidents, one incident,
// migration), each reading the public /api/v1 only, refreshed while visible.

import { forgetToken, storedToken } from './api.js';
import { showLoadError } from './format.js';
import { incidentPage, incidentsPage } from './incidents-page.js';
import { migrationPage } from './migration-page.js';
import { routePage } from './route-page.js';
import { routesPage } from './routes-page.js';
import { showReplica } from './replica.js';

const REFRESH_MS = { routes: 10_000, route: 30_000, incidents: 30_000, incident: 0, migration: 10_000 };

/** "#/route/ID?range=24h" -> { parts: ['route', 'ID'], query: { range: '24h' } }. */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs = ''] = raw.split('?');
  const parts = path.split('/').filter((p) => p !== '').map(decodeSegment);
  return { parts, query: Object.fromEntries(new URLSearchParams(qs)) };
}

/** A decoded hash segment; a malformed escape (a hand-edited URL) is kept as typed rather than breaking the page. */
function decodeSegment(p) {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

function hashOf(parts, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const qs = q.toString();
  return `#/${parts.map(encodeURIComponent).join('/')}${qs ? `?${qs}` : ''}`;
}

let current = { stop: () => {} };

/** Runs a page: first load, then a refresh loop while it is the current page. */
function run(view, kind, page) {
  let stopped = false;
  let timer = null;
  const state = document.getElementById('refresh-state');
  const tick = async () => {
    try {
      await page.load();
      if (stopped) return;
      view.querySelector('.load-error')?.remove();
      state.textContent = REFRESH_MS[kind] ? `updated ${new Date().toISOString().slice(11, 19)} UTC` : '';
    } catch (error) {
      // A load that ends after the user moved on must not mark the next page with its error.
      if (stopped) return;
      showLoadError(view, error);
    }
    if (REFRESH_MS[kind]) timer = setTimeout(tick, REFRESH_MS[kind]);
  };
  void tick().then(() => {
    if (!stopped) view.setAttribute('data-loaded', kind);
  });
  return { stop: () => { stopped = true; clearTimeout(timer); } };
}

function route() {
  current.stop();
  const view = document.getElementById('view');
  view.removeAttribute('data-loaded');
  // The previous page goes at once: a page that fails to load must not leave another's content under its error.
  view.replaceChildren();
  const { parts, query } = parseHash();
  const tab = parts[0] === 'incidents' || parts[0] === 'incident' ? 'incidents' : parts[0] === 'migration' ? 'migration' : 'routes';
  for (const a of document.querySelectorAll('.tabs a')) a.classList.toggle('active', a.dataset.tab === tab);
  const setQuery = (base) => (next, opts = {}) => {
    const hash = hashOf(base, next);
    // A quiet update records the state (a picked round) without rebuilding the page: replaceState fires no hashchange.
    if (opts.quiet) {
      history.replaceState(null, '', hash);
      return;
    }
    location.hash = hash;
  };
  if (parts[0] === 'route' && parts[1]) {
    document.title = `${parts[1]} · hopwatch`;
    current = run(view, 'route', routePage(view, parts[1], query, setQuery(['route', parts[1]])));
  } else if (parts[0] === 'incidents') {
    document.title = 'Incidents · hopwatch';
    current = run(view, 'incidents', incidentsPage(view, query, setQuery(['incidents'])));
  } else if (parts[0] === 'migration') {
    document.title = 'Migration · hopwatch';
    current = run(view, 'migration', migrationPage(view));
  } else if (parts[0] === 'incident' && parts[1]) {
    document.title = `Incident #${parts[1]} · hopwatch`;
    current = run(view, 'incident', incidentPage(view, parts[1]));
  } else {
    document.title = 'Routes · hopwatch';
    current = run(view, 'routes', routesPage(view, query, setQuery([])));
  }
}

document.getElementById('logout').hidden = storedToken() === null;
document.getElementById('logout').addEventListener('click', () => {
  forgetToken();
  location.reload();
});
window.addEventListener('hashchange', route);
route();
showReplica(document.getElementById('replica'));
