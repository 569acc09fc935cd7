import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixtureRound, fixtureRoute } from './fixtures.js';
import { getIncident, insertIncident, listIncidents, updateIncident, type NewIncident } from './incidents.js';
import { openStore, type Db } from './sqlite.js';
import { createWriter } from './write.js';

const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const shop = fixtureRoute('shop', 'web');
const blog = fixtureRoute('blog', 'site');

let db: Db;
beforeEach(() => {
  db = openStore(':memory:');
  createWriter(db).writeRounds([fixtureRound(shop, T0, 'ok', 5), fixtureRound(blog, T0, 'ok', 5)]);
});
afterEach(() => db.close());

function opened(routeId: string, openedAt: number, extra: Partial<NewIncident> = {}): NewIncident {
  return { routeId, severity: 'failing', openedAt, hop: 'pod', cause: 'pod.refused', firstEvidence: ['shop/web-0 :8080 refused'], ...extra };
}

describe('incidents', () => {
  it('inserts with defaults, reads back, and updates fields', () => {
    const inc = insertIncident(db, opened(shop.id, T0, { pods: ['shop/web-0'] }));
    expect(inc).toEqual({
      id: inc.id, routeId: shop.id, severity: 'failing', openedAt: T0, closedAt: null, hop: 'pod', cause: 'pod.refused',
      changes: [], pods: ['shop/web-0'], firstEvidence: ['shop/web-0 :8080 refused'], failingRounds: 0, rollout: false,
    });
    const changes = [{ at: T0 + 60_000, hop: 'controller' as const, cause: 'controller.error' as const }];
    const updated = updateIncident(db, inc.id, { changes, failingRounds: 7, rollout: true, closedAt: T0 + 600_000, severity: 'degraded' });
    expect(updated).toEqual({ ...inc, changes, failingRounds: 7, rollout: true, closedAt: T0 + 600_000, severity: 'degraded' });
    expect(getIncident(db, inc.id)).toEqual(updated);
    expect(getIncident(db, 999)).toBeNull();
    expect(() => updateIncident(db, 999, { failingRounds: 1 })).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('refuses a closing time before the opening and an unknown severity', () => {
    const inc = insertIncident(db, opened(shop.id, T0));
    expect(() => updateIncident(db, inc.id, { closedAt: T0 - 1 })).toThrow(/CHECK/);
    expect(() => insertIncident(db, opened(shop.id, T0, { severity: 'bad' as 'failing' }))).toThrow(/CHECK/);
  });

  it('lists newest first with filters by time overlap, route, state and namespace', () => {
    const a = insertIncident(db, opened(shop.id, T0, { closedAt: T0 + 10 * 60_000 }));
    const b = insertIncident(db, opened(blog.id, T0 + 20 * 60_000, { closedAt: T0 + 30 * 60_000 }));
    const c = insertIncident(db, opened(shop.id, T0 + 40 * 60_000));
    const ids = (q: Parameters<typeof listIncidents>[1]): number[] => listIncidents(db, q).incidents.map((i) => i.id);
    expect(ids({})).toEqual([c.id, b.id, a.id]);
    expect(ids({ state: 'open' })).toEqual([c.id]);
    expect(ids({ state: 'closed' })).toEqual([b.id, a.id]);
    expect(ids({ routeId: shop.id })).toEqual([c.id, a.id]);
    expect(ids({ namespace: 'blog' })).toEqual([b.id]);
    // Overlap: open at some instant of [from, to).
    expect(ids({ from: T0 + 15 * 60_000, to: T0 + 35 * 60_000 })).toEqual([b.id]);
    expect(ids({ from: T0 + 25 * 60_000 })).toEqual([c.id, b.id]);
    expect(ids({ to: T0 + 20 * 60_000 })).toEqual([a.id]);
  });

  it('orders incidents opened in the same second by id, newest first, on every page (not by their milliseconds)', () => {
    // What the demo does: its routes' first failing rounds land in one second, in any order of milliseconds.
    const ms = [420, 130, 990, 50, 700, 310];
    const all = ms.map((m) => insertIncident(db, opened(shop.id, T0 + m)));
    const older = insertIncident(db, opened(blog.id, T0 - 1000 + 999));
    const byId = [...all].map((i) => i.id).sort((a, b) => b - a);
    expect(listIncidents(db, {}).incidents.map((i) => i.id)).toEqual([...byId, older.id]);
    const first = listIncidents(db, { limit: 4 });
    const second = listIncidents(db, { limit: 4, cursor: first.nextCursor ?? undefined });
    expect([...first.incidents, ...second.incidents].map((i) => i.id)).toEqual([...byId, older.id]);
  });

  it('paginates with a cursor, also through incidents opened at the same instant', () => {
    const all = Array.from({ length: 25 }, (_, i) => insertIncident(db, opened(shop.id, T0 + Math.floor(i / 3) * 1000)));
    const seen: number[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = listIncidents(db, { limit: 4, cursor });
      seen.push(...page.incidents.map((x) => x.id));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(all.map((x) => x.id).reverse());
    expect(() => listIncidents(db, { cursor: 'x' })).toThrow(expect.objectContaining({ code: 'BAD_CURSOR' }));
  });
});
