import { describe, expect, it } from 'vitest';
import { addToOutbox, outboxEntries, removeFromOutbox } from './outbox.js';
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
