// Formatting shared by the pages: hop colours (palette.js), times,
// durations, and small DOM builders.

import { ApiError } from './api.js';
import { HOP_COLOURS } from './palette.js';

export { HOP_COLOURS } from './palette.js';

/** Hops in the order a request crosses them (outermost first), then the non-hop places. */
export const HOPS = ['dns', 'edge', 'controller', 'service', 'pod', 'config', 'network'];

/** Builds an element: h('td', { class: 'x', onclick }, child, 'text', ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'style' && typeof value === 'object') {
      // Custom properties (--hop) only take effect through setProperty.
      for (const [prop, v] of Object.entries(value)) {
        if (prop.startsWith('--')) el.style.setProperty(prop, v);
        else el.style[prop] = v;
      }
    }
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Shows why a load failed at the top of a page (the next successful refresh removes it). */
export function showLoadError(view, error) {
  // fetch() rejects with a TypeError when the daemon cannot be reached at all ("Failed to fetch" says nothing).
  const unreachable = error instanceof TypeError ? `hopwatch is not reachable at ${location.host} (stopped, or the network is down); retrying` : null;
  const message = error instanceof ApiError ? `${error.message} (${error.code})` : (unreachable ?? String(error && error.message ? error.message : error));
  let box = view.querySelector('.load-error');
  if (!box) {
    box = h('div', { class: 'load-error', role: 'alert' });
    view.prepend(box);
  }
  box.textContent = `Could not load: ${message}`;
}

/** A status pill. */
export function statusPill(status) {
  const s = status ?? 'none';
  return h('span', { class: `pill status-${s}`, 'data-status': s }, s === 'none' ? 'no data' : s);
}

/** A hop chip in the hop's colour ("–" when none). */
export function hopChip(hop) {
  if (!hop) return h('span', { class: 'muted' }, '–');
  return h('span', { class: 'hop-chip', 'data-hop': hop, style: { '--hop': HOP_COLOURS[hop] ?? HOP_COLOURS.none } }, hop);
}

/** "2026-01-31 10:05:07" in UTC. */
export function utc(iso, seconds = true) {
  if (!iso) return '–';
  return `${iso.slice(0, 10)} ${iso.slice(11, seconds ? 19 : 16)}`;
}

/** "12s ago", "5m ago", "3h ago", "2d ago". */
export function ago(iso, now = Date.now()) {
  if (!iso) return '–';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** "45s", "17m", "1h 02m", "3d 4h". */
export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const hours = Math.floor(m / 60);
  if (hours < 24) return `${hours}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** A bucket width for people: "5 min", "6 h", "1 d". */
export function stepText(ms) {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

/** What uptime counts, for the tooltips of uptime figures. */
export const UPTIME_MEANING = 'share of rounds in which the route answered: degraded rounds (a hop failing behind a working front) count as up';

/** "99.95%", "–" for null. */
export function percent(ratio) {
  if (ratio === null || ratio === undefined) return '–';
  const p = Math.floor(ratio * 10000) / 100;
  return `${p.toFixed(p === 100 ? 0 : 2)}%`;
}

/** "12.3 ms", "1.24 s", "–". */
export function millis(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms >= 100 ? Math.round(ms) : Math.round(ms * 10) / 10} ms`;
}

/** The CSS class of an uptime ratio. */
export function uptimeClass(ratio) {
  if (ratio === null || ratio === undefined) return 'muted';
  if (ratio >= 0.999) return 'up-good';
  if (ratio >= 0.99) return 'up-warn';
  return 'up-bad';
}

/** "shop/web" and "web.example.com/api". */
export function routeNames(r) {
  // An HTTPRoute's route says its kind; an Ingress route reads as before.
  const kind = r.kind && r.kind !== 'Ingress' ? `${r.kind} ` : '';
  return { owner: `${kind}${r.namespace}/${r.name ?? r.ingress}`, where: `${r.host ?? '*'}${r.path}` };
}

/** What a route hangs off, for its page: "Gateway infra/gw · listener http :80", "IngressClass nginx", '' when none. */
export function parentText(r) {
  const p = r.parent;
  if (!p) return '';
  if (p.kind !== 'Gateway') return `${p.kind} ${p.name}`;
  const listener = p.sectionName || p.port ? ` · listener ${[p.sectionName, p.port ? `:${p.port}` : null].filter(Boolean).join(' ')}` : '';
  return `Gateway ${p.namespace}/${p.name}${listener}`;
}

/** A summary, cut to the cell's width with an ellipsis (CSS), whole on hover. */
export function summaryCell(summary) {
  return h('td', { class: 'summary-cell', title: summary ?? '' }, summary ? h('span', { class: 'clip' }, summary) : h('span', { class: 'muted' }, '–'));
}
