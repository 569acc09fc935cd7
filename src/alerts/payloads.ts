// Pure: the bodies sent to alert receivers when an incident opens or closes. A generic JSON
// document for any receiver, and a Slack incoming-webhook message (`text` as the notification
// fallback, Block Kit `blocks` for the message itself) kept within Slack's documented limits:
// header text <= 150 chars, section text <= 3000, section fields <= 10 of <= 2000 chars each.

import type { Route } from '../model.js';
import type { Incident, IncidentChange } from '../store/incidents.js';

/** The route an alert is about (what the daemon knows of it when the incident opens or closes). */
export type AlertRoute = Pick<Route, 'id' | 'namespace' | 'ingress' | 'host' | 'path'>;

/** An incident opened or closed. */
export interface AlertEvent {
  /** Which transition (escalated: a degraded incident's route now fails outright). */
  kind: 'opened' | 'escalated' | 'closed';
  /** The incident as stored after the transition. */
  incident: Incident;
  /** The incident's route. */
  route: AlertRoute;
  /** Why a closed incident closed: its route answered again, or the route is gone (its Ingress or rule was removed). */
  reason?: 'recovered' | 'route-removed';
}

/** An incident change with its time as ISO-8601. */
export interface JsonIncidentChange extends Omit<IncidentChange, 'at'> {
  /** When the change was seen. */
  at: string | null;
}

/** The incident as sent to generic receivers: every field, times as ISO-8601 (null when unset). */
export interface JsonIncident extends Omit<Incident, 'openedAt' | 'closedAt' | 'changes'> {
  /** First non-ok round counted into it. */
  openedAt: string | null;
  /** When it closed, null while open. */
  closedAt: string | null;
  /** Later changes of hop or cause, oldest first. */
  changes: JsonIncidentChange[];
}

/** The generic JSON alert. */
export interface JsonAlertPayload {
  /** incident.opened, incident.escalated or incident.closed. */
  event: 'incident.opened' | 'incident.escalated' | 'incident.closed';
  /** The incident. */
  incident: JsonIncident;
  /** The route. */
  route: AlertRoute;
  /** One line for humans (the same as Slack's fallback text, without emoji). */
  summary: string;
  /** For incident.closed: why it closed (recovered, or route-removed: a closed incident that is no all-clear). */
  reason?: 'recovered' | 'route-removed';
  /** Link to hopwatch's dashboard, null when none is configured. */
  dashboard: string | null;
  /**
   * The same for every alert about this route from every replica of hopwatch in this cluster:
   * "<cluster>/<route id>" (just the route id without metrics.labels.cluster). Receivers drop
   * duplicates by it: an opened while the key is open, a closed while it is closed (a failover
   * re-sends what the old leader may not have delivered).
   */
  dedupKey: string;
  /** metrics.labels.cluster of the sending hopwatch, null when not set. */
  cluster: string | null;
}

/** A Slack text object. */
export interface SlackText {
  /** plain_text (header) or mrkdwn (sections, context). */
  type: 'plain_text' | 'mrkdwn';
  /** The text. */
  text: string;
  /** Render :emoji: codes in plain_text. */
  emoji?: boolean;
}

/** The Block Kit blocks hopwatch sends. */
export type SlackBlock =
  | { type: 'header'; text: SlackText }
  | { type: 'section'; text: SlackText }
  | { type: 'section'; fields: SlackText[] }
  | { type: 'context'; elements: SlackText[] };

/** A Slack incoming-webhook message. */
export interface SlackAlertPayload {
  /** Notification fallback (mrkdwn, escaped). */
  text: string;
  /** The message. */
  blocks: SlackBlock[];
}

/** Slack's limits (Block Kit reference). */
export const SLACK_LIMITS = { headerText: 150, sectionText: 3000, fieldText: 2000, fields: 10 } as const;

/** A duration in words: "45s", "4m 10s", "2h 5m", "3d 4h" (the two largest units, zeros left out). */
export function formatDuration(ms: number): string {
  const total = Number.isFinite(ms) && ms > 0 ? Math.round(ms / 1000) : 0;
  const parts: [number, string][] = [
    [Math.floor(total / 86_400), 'd'],
    [Math.floor((total % 86_400) / 3600), 'h'],
    [Math.floor((total % 3600) / 60), 'm'],
    [total % 60, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first === -1) return '0s';
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n}${unit}`)
    .join(' ');
}

/** "shop/web shop.example.test/" — the Ingress and the URL it serves ("*" for a rule without host). */
export function routeLabel(route: AlertRoute): string {
  return `${route.namespace}/${route.ingress} ${route.host ?? '*'}${route.path}`;
}

/** "failing at pod: pod.refused" — how the incident failed when it opened. */
export function failureLabel(incident: Incident): string {
  return `${incident.severity}${incident.hop === null ? '' : ` at ${incident.hop}`}: ${incident.cause}`;
}

/** The one-line summary of an event. */
export function summarize(event: AlertEvent): string {
  const { incident } = event;
  const route = routeLabel(event.route);
  if (event.kind === 'opened') return `hopwatch: ${route} ${failureLabel(incident)}`;
  if (event.kind === 'escalated') return `hopwatch: ${route} now fails outright: ${latestFailure(incident)} (degraded since ${isoTime(incident.openedAt) ?? '?'})`;
  if (event.reason === 'route-removed') return `hopwatch: ${route} closed after ${incidentDuration(incident)}: the route was removed, not recovered (was ${failureLabel(incident)})`;
  return `hopwatch: ${route} resolved after ${incidentDuration(incident)} (was ${failureLabel(incident)})`;
}

/** The incident's latest hop and cause ("at pod: pod.refused"): its last change, else how it opened. */
function latestFailure(incident: Incident): string {
  const last = incident.changes[incident.changes.length - 1] ?? { hop: incident.hop, cause: incident.cause };
  return `${last.hop === null ? '' : `at ${last.hop}: `}${last.cause}`;
}

/** How long a closed incident lasted ("?" while it has no close time). */
function incidentDuration(incident: Incident): string {
  return incident.closedAt === null ? '?' : formatDuration(incident.closedAt - incident.openedAt);
}

/** ISO-8601 of a time in ms, null when it is not a valid time (never throws). */
export function isoTime(ms: number | null): string | null {
  if (ms === null || !Number.isFinite(ms)) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** The key every replica gives alerts about a route (JsonAlertPayload.dedupKey). */
export function dedupKeyOf(routeId: string, cluster: string | null): string {
  return cluster === null ? routeId : `${cluster}/${routeId}`;
}

/** The generic JSON alert of an event. */
export function jsonPayload(event: AlertEvent, dashboardUrl: string | null, cluster: string | null = null): JsonAlertPayload {
  const { incident } = event;
  return {
    event: `incident.${event.kind}`,
    incident: {
      ...incident,
      openedAt: isoTime(incident.openedAt),
      closedAt: isoTime(incident.closedAt),
      changes: incident.changes.map((c) => ({ ...c, at: isoTime(c.at) })),
    },
    route: { id: event.route.id, namespace: event.route.namespace, ingress: event.route.ingress, host: event.route.host, path: event.route.path },
    summary: summarize(event),
    ...(event.kind === 'closed' ? { reason: event.reason ?? 'recovered' } : {}),
    dashboard: dashboardUrl,
    dedupKey: dedupKeyOf(event.route.id, cluster),
    cluster,
  };
}

/** Escapes the three characters Slack's mrkdwn treats as markup (so `<!channel>` in evidence pings no one). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The first `max` UTF-16 units of a string, "…" last when cut, never splitting a surrogate pair or an escape. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  // A lone high surrogate is invalid text for Slack: cut before the pair instead.
  if (end > 0 && /[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end--;
  // Cutting inside "&amp;" would show "&am": drop a partial entity.
  const head = text.slice(0, end).replace(/&[a-z]{0,3}$/, '');
  return `${head}…`;
}

/** A title and lines joined by newlines within `limit` chars; what does not fit is counted in a last line. */
export function fitLines(title: string, lines: readonly string[], limit: number): string {
  const reserve = 32; // room for the "… N more lines" marker
  let text = title;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const isLast = i === lines.length - 1;
    if (text.length + 1 + line.length <= (isLast ? limit : limit - reserve)) {
      text += `\n${line}`;
      continue;
    }
    let rest = lines.length - i;
    const room = limit - reserve - text.length - 1;
    // Show the head of a long line rather than nothing, when there is useful room for it.
    if (room >= 40) {
      text += `\n${cutText(line, room)}`;
      rest--;
    }
    return rest > 0 ? `${text}\n_… ${rest} more line${rest === 1 ? '' : 's'}_` : text;
  }
  return text;
}

/** A comma-separated list within `limit` chars, "… and N more" when cut. */
function fitList(items: readonly string[], limit: number): string {
  let text = '';
  for (let i = 0; i < items.length; i++) {
    const next = text === '' ? (items[i] as string) : `${text}, ${items[i] as string}`;
    if (next.length > limit - 24) return `${text} … and ${items.length - i} more`;
    text = next;
  }
  return text;
}

/** The emoji of an event: green when resolved, red when failing, orange when degraded. */
function slackEmoji(event: AlertEvent): string {
  if (event.kind === 'closed') return event.reason === 'route-removed' ? ':white_circle:' : ':large_green_circle:';
  return event.incident.severity === 'failing' ? ':red_circle:' : ':large_orange_circle:';
}

/** The header line: an emoji, the route and what happened. */
function slackHeader(event: AlertEvent): string {
  if (event.kind === 'closed') {
    const what = event.reason === 'route-removed' ? 'closed: the route was removed, not recovered,' : 'resolved';
    return `${slackEmoji(event)} hopwatch: ${routeLabel(event.route)} ${what} after ${incidentDuration(event.incident)}`;
  }
  return `${slackEmoji(event)} ${summarize(event)}`;
}

/** The short facts shown side by side. */
function slackFields(event: AlertEvent): SlackText[] {
  const { incident } = event;
  const pods = incident.pods.length === 0 ? '(none named)' : fitList(incident.pods, SLACK_LIMITS.fieldText - 16);
  const facts: [string, string][] = [
    ['Route', routeLabel(event.route)],
    ['Cause', failureLabel(incident)],
    ['Opened', isoTime(incident.openedAt) ?? '?'],
    event.kind === 'closed' ? ['Closed', `${isoTime(incident.closedAt) ?? '?'} (after ${incidentDuration(incident)})`] : ['Failing rounds', String(incident.failingRounds)],
    ['Pods', pods],
    ['Rollout', incident.rollout ? 'yes: lines up with a rollout of the backend' : 'no'],
  ];
  return facts.map(([name, value]) => ({ type: 'mrkdwn', text: cutText(`*${name}*\n${escapeMrkdwn(value)}`, SLACK_LIMITS.fieldText) }));
}

/** The Slack incoming-webhook message of an event. */
export function slackPayload(event: AlertEvent, dashboardUrl: string | null): SlackAlertPayload {
  const { incident } = event;
  const blocks: SlackBlock[] = [{ type: 'header', text: { type: 'plain_text', text: cutText(slackHeader(event), SLACK_LIMITS.headerText), emoji: true } }];
  const evidence = incident.firstEvidence.map((line) => `• ${escapeMrkdwn(line)}`);
  if (evidence.length > 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: fitLines('*Evidence*', evidence, SLACK_LIMITS.sectionText) } });
  blocks.push({ type: 'section', fields: slackFields(event).slice(0, SLACK_LIMITS.fields) });
  if (incident.changes.length > 0) {
    const changes = incident.changes.map((c) => `• ${isoTime(c.at) ?? '?'}: ${escapeMrkdwn(`${c.hop ?? '-'}: ${c.cause}`)}`);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: fitLines('*Changes while open*', changes, SLACK_LIMITS.sectionText) } });
  }
  const context = `incident #${incident.id}`;
  const link = dashboardUrl === null ? '' : ` · <${slackUrl(dashboardUrl)}|open in hopwatch>`;
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: cutText(`${context}${link}`, SLACK_LIMITS.fieldText) }] });
  return { text: cutText(`${slackEmoji(event)} ${escapeMrkdwn(summarize(event))}`, SLACK_LIMITS.sectionText), blocks };
}

/** A URL safe inside Slack's `<url|label>` link syntax. */
function slackUrl(url: string): string {
  // `|` ends the URL part and `<` `>` end the link: percent-encode them, escape `&` as Slack asks.
  return url.replace(/\|/g, '%7C').replace(/</g, '%3C').replace(/>/g, '%3E').replace(/&/g, '&amp;');
}

/** The body of an event for a receiver kind. */
export function renderPayload(kind: 'json' | 'slack', event: AlertEvent, dashboardUrl: string | null, cluster: string | null = null): JsonAlertPayload | SlackAlertPayload {
  switch (kind) {
    case 'json':
      return jsonPayload(event, dashboardUrl, cluster);
    case 'slack':
      return slackPayload(event, dashboardUrl);
  }
}
