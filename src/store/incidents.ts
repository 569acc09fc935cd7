// Incidents: what the daemon's incident tracker opens, updates and closes.

import type { Cause, VerdictHop } from '../model.js';
import { StoreError } from './errors.js';
import type { Db } from './sqlite.js';
import { decodeCursor, encodeCursor } from './cursor.js';

/** How bad an incident is. */
export type IncidentSeverity = 'failing' | 'degraded';

/** A change of where or why an open incident fails. */
export interface IncidentChange {
  /** When the change was seen (ms since epoch). */
  at: number;
  /** The verdict's hop from then on. */
  hop: VerdictHop | null;
  /** The cause from then on. */
  cause: Cause;
}

/** An incident as stored. */
export interface Incident {
  /** Incident id. */
  id: number;
  /** Route id (Route.id). */
  routeId: string;
  /** failing or degraded (the worst seen while open). */
  severity: IncidentSeverity;
  /** First non-ok round counted into it (ms since epoch). */
  openedAt: number;
  /** When it closed, null while open. */
  closedAt: number | null;
  /** The hop named when it opened. */
  hop: VerdictHop | null;
  /** The cause named when it opened. */
  cause: Cause;
  /** Later changes of hop or cause, oldest first. */
  changes: IncidentChange[];
  /** Pods involved ("namespace/name"). */
  pods: string[];
  /** Evidence lines of the verdict that opened it. */
  firstEvidence: string[];
  /** Non-ok rounds counted while open. */
  failingRounds: number;
  /** True when it lines up with a rollout of the route's backend. */
  rollout: boolean;
  /** One line for humans: the summary of the verdict that opened it (absent for incidents stored before migration 004). */
  summary?: string;
}

/** What opening an incident records. */
export type NewIncident = Omit<Incident, 'id' | 'closedAt' | 'changes' | 'pods' | 'failingRounds' | 'rollout'> &
  Partial<Pick<Incident, 'closedAt' | 'changes' | 'pods' | 'failingRounds' | 'rollout'>>;

/** Fields an update may change. */
export type IncidentPatch = Partial<Omit<Incident, 'id' | 'routeId' | 'openedAt'>>;

/** Filters of listIncidents. */
export interface IncidentQuery {
  /** Only incidents open at some instant at or after this (closed_at >= from or still open). */
  from?: number;
  /** Only incidents opened before this. */
  to?: number;
  /** Only this route's. */
  routeId?: string;
  /** open, closed or all (default). */
  state?: 'open' | 'closed' | 'all';
  /** Only routes of this namespace. */
  namespace?: string;
  /** Page size (default 100, at most 1000). */
  limit?: number;
  /** nextCursor of the previous page. */
  cursor?: string;
}

/** A page of incidents, newest opened first. */
export interface IncidentPage {
  /** The incidents. */
  incidents: Incident[];
  /** Cursor of the next page, null on the last. */
  nextCursor: string | null;
}

interface IncidentRow {
  id: number;
  route_id: string;
  severity: IncidentSeverity;
  opened_at: number;
  closed_at: number | null;
  hop: VerdictHop | null;
  cause: Cause;
  changes: string;
  pods: string;
  first_evidence: string;
  failing_rounds: number;
  rollout: number;
  summary: string | null;
}

function fromRow(r: IncidentRow): Incident {
  return {
    id: r.id, routeId: r.route_id, severity: r.severity, openedAt: r.opened_at, closedAt: r.closed_at,
    hop: r.hop, cause: r.cause, changes: JSON.parse(r.changes) as IncidentChange[],
    pods: JSON.parse(r.pods) as string[], firstEvidence: JSON.parse(r.first_evidence) as string[],
    failingRounds: r.failing_rounds, rollout: r.rollout === 1, ...(r.summary === null ? {} : { summary: r.summary }),
  };
}

/** Records a new incident and returns it with its id. */
export function insertIncident(db: Db, inc: NewIncident): Incident {
  const res = db
    .prepare(
      `INSERT INTO incidents (route_id, severity, opened_at, closed_at, hop, cause, changes, pods, first_evidence, failing_rounds, rollout, summary)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      inc.routeId, inc.severity, inc.openedAt, inc.closedAt ?? null, inc.hop, inc.cause, JSON.stringify(inc.changes ?? []),
      JSON.stringify(inc.pods ?? []), JSON.stringify(inc.firstEvidence), inc.failingRounds ?? 0, inc.rollout ? 1 : 0, inc.summary ?? null,
    );
  return getIncident(db, Number(res.lastInsertRowid))!;
}

const PATCH_COLUMNS: Record<keyof IncidentPatch, string> = {
  severity: 'severity', closedAt: 'closed_at', hop: 'hop', cause: 'cause', changes: 'changes', pods: 'pods',
  firstEvidence: 'first_evidence', failingRounds: 'failing_rounds', rollout: 'rollout', summary: 'summary',
};

/** Changes the given fields of an incident and returns it; NOT_FOUND when there is no such incident. */
export function updateIncident(db: Db, id: number, patch: IncidentPatch): Incident {
  const sets: string[] = [];
  const values: unknown[] = [];
  for (const key of Object.keys(patch) as (keyof IncidentPatch)[]) {
    const column = PATCH_COLUMNS[key];
    if (column === undefined || patch[key] === undefined) continue;
    sets.push(`${column} = ?`);
    values.push(sqlValue(key, patch[key]));
  }
  if (sets.length > 0) {
    const res = db.prepare(`UPDATE incidents SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
    if (res.changes === 0) throw new StoreError('NOT_FOUND', `no incident ${id}`);
  }
  const inc = getIncident(db, id);
  if (inc === null) throw new StoreError('NOT_FOUND', `no incident ${id}`);
  return inc;
}

function sqlValue(key: keyof IncidentPatch, value: unknown): unknown {
  if (key === 'changes' || key === 'pods' || key === 'firstEvidence') return JSON.stringify(value);
  if (key === 'rollout') return value ? 1 : 0;
  return value;
}

/** One incident, or null. */
export function getIncident(db: Db, id: number): Incident | null {
  const r = db.prepare('SELECT * FROM incidents WHERE id = ?').get(id) as IncidentRow | undefined;
  return r === undefined ? null : fromRow(r);
}

/**
 * Incidents matching the filters, keyset-paginated: newest opened first by the second (what the
 * dashboard and the CLI show), then the highest id first, so incidents opened in the same second
 * come out in one stable order instead of by their milliseconds (2, 4, 5, 3, 1, 6).
 */
export function listIncidents(db: Db, q: IncidentQuery = {}): IncidentPage {
  const limit = Math.min(Math.max(1, Math.floor(q.limit ?? 100)), 1000);
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.cursor !== undefined) {
    const [openedAt, id] = decodeCursor(q.cursor, 'i', 2);
    where.push('(i.opened_at / 1000, i.id) < (?, ?)');
    args.push(Math.floor(Number(openedAt) / 1000), id);
  }
  if (q.to !== undefined) where.push('i.opened_at < ?'), args.push(q.to);
  if (q.from !== undefined) where.push('(i.closed_at IS NULL OR i.closed_at >= ?)'), args.push(q.from);
  if (q.routeId !== undefined) where.push('i.route_id = ?'), args.push(q.routeId);
  if (q.state === 'open') where.push('i.closed_at IS NULL');
  if (q.state === 'closed') where.push('i.closed_at IS NOT NULL');
  if (q.namespace !== undefined) {
    where.push('i.route_id IN (SELECT id FROM routes WHERE namespace = ?)');
    args.push(q.namespace);
  }
  const sql = `SELECT i.* FROM incidents i ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY i.opened_at / 1000 DESC, i.id DESC LIMIT ?`;
  const rows = db.prepare(sql).all(...args, limit + 1) as IncidentRow[];
  const page = rows.slice(0, limit).map(fromRow);
  const last = page[page.length - 1];
  return { incidents: page, nextCursor: rows.length > limit && last ? encodeCursor('i', [last.openedAt, last.id]) : null };
}
