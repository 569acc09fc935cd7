// The alert outbox: alerts written in the store beside the incident change that causes them, and
// deleted once every receiver has settled them, so a stop or a crash between the two loses none.

import type { Db } from './sqlite.js';

/** An alert waiting to be settled. */
export interface OutboxEntry {
  /** Row id. */
  id: number;
  /** The incident it is about. */
  incidentId: number;
  /** Which transition. */
  event: 'opened' | 'escalated' | 'closed';
  /** A close's reason, null otherwise. */
  reason: 'recovered' | 'route-removed' | null;
  /** When it was written (ms). */
  createdAt: number;
}

interface OutboxRow {
  id: number;
  incident_id: number;
  event: string;
  reason: string | null;
  created_at: number;
}

/** Writes an alert to the outbox; returns its id. */
export function addToOutbox(db: Db, entry: Omit<OutboxEntry, 'id'>): number {
  const r = db
    .prepare('INSERT INTO alert_outbox (incident_id, event, reason, created_at) VALUES (?, ?, ?, ?)')
    .run(entry.incidentId, entry.event, entry.reason, entry.createdAt);
  return Number(r.lastInsertRowid);
}

/** Deletes a settled alert. */
export function removeFromOutbox(db: Db, id: number): void {
  db.prepare('DELETE FROM alert_outbox WHERE id = ?').run(id);
}

/** Every alert not yet settled, oldest first. */
export function outboxEntries(db: Db): OutboxEntry[] {
  const rows = db.prepare('SELECT * FROM alert_outbox ORDER BY id').all() as OutboxRow[];
  return rows.flatMap((r): OutboxEntry[] => {
    const event = r.event === 'opened' || r.event === 'escalated' || r.event === 'closed' ? r.event : null;
    if (event === null) return [];
    const reason = r.reason === 'recovered' || r.reason === 'route-removed' ? r.reason : null;
    return [{ id: r.id, incidentId: r.incident_id, event, reason, createdAt: r.created_at }];
  });
}

/** Deletes the alerts written before `beforeMs` (a standby's held alerts that the leader has settled); returns how many. */
export function removeOutboxBefore(db: Db, beforeMs: number): number {
  return db.prepare('DELETE FROM alert_outbox WHERE created_at < ?').run(beforeMs).changes;
}

/** When the oldest alert not yet settled was written, null when none waits. */
export function oldestOutboxEntry(db: Db): number | null {
  const row = db.prepare('SELECT MIN(created_at) AS at FROM alert_outbox').get() as { at: number | null } | undefined;
  return row?.at ?? null;
}
