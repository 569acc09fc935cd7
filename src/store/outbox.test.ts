import { describe, expect, it } from 'vitest';
import { addToOutbox, oldestOutboxEntry, outboxEntries, removeFromOutbox, removeOutboxBefore } from './outbox.js';
import { openStore } from './sqlite.js';

describe('alert outbox', () => {
  it('keeps alerts until they are settled, oldest first, across a reopen of the file', () => {
    const db = openStore(':memory:');
    const a = addToOutbox(db, { incidentId: 7, event: 'opened', reason: null, createdAt: 1000 });
    const b = addToOutbox(db, { incidentId: 7, event: 'closed', reason: 'route-removed', createdAt: 2000 });
    addToOutbox(db, { incidentId: 9, event: 'escalated', reason: null, createdAt: 3000 });
    removeFromOutbox(db, a);
    expect(outboxEntries(db)).toEqual([
      { id: b, incidentId: 7, event: 'closed', reason: 'route-removed', createdAt: 2000 },
      { id: b + 1, incidentId: 9, event: 'escalated', reason: null, createdAt: 3000 },
    ]);
    db.close();
  });
});

describe('a standby\'s held alerts', () => {
  it('drops those written before a time, and tells when the oldest waiting one was written', () => {
    const db = openStore(':memory:');
    expect(oldestOutboxEntry(db)).toBeNull();
    addToOutbox(db, { incidentId: 1, event: 'opened', reason: null, createdAt: 1000 });
    addToOutbox(db, { incidentId: 1, event: 'closed', reason: 'recovered', createdAt: 5000 });
    expect(oldestOutboxEntry(db)).toBe(1000);
    expect(removeOutboxBefore(db, 5000)).toBe(1);
    expect(outboxEntries(db).map((e) => e.createdAt)).toEqual([5000]);
    expect(oldestOutboxEntry(db)).toBe(5000);
    db.close();
  });
});
