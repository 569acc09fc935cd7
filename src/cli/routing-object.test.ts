// `timeline` and `incidents` by routing object: --ingress and --httproute pick the routes of that kind
// only, when an Ingress and an HTTPRoute of the same name live in one namespace (migration guides run
// the old and new front door side by side under the same names).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureRound, fixtureRoute } from '../store/fixtures.js';
import { insertIncident } from '../store/incidents.js';
import { MINUTE_MS } from '../store/rollup.js';
import { openStore, type Db } from '../store/sqlite.js';
import { createWriter } from '../store/write.js';
import { connectionSource } from './history-source.js';
import { collectIncidents, incidentsRequest } from './incidents.js';
import { collectTimeline, scopeFromFlags } from './timeline.js';

const NOW = Date.UTC(2026, 0, 31, 12, 0, 0);
const ingress = fixtureRoute('shop', 'web', { id: 'ing-web' });
const httpRoute = fixtureRoute('shop', 'web', {
  id: 'gw-web', kind: 'HTTPRoute', host: 'web.gw.test', ingressClass: null,
  parent: { kind: 'Gateway', namespace: 'infra', name: 'gw', sectionName: 'http', port: 80 },
});

let db: Db;
beforeAll(() => {
  db = openStore(':memory:');
  const rounds = [0, 1, 2].flatMap((i) => [fixtureRound(ingress, NOW - (i + 1) * MINUTE_MS, 'ok', 3), fixtureRound(httpRoute, NOW - (i + 1) * MINUTE_MS, 'failing', 5)]);
  createWriter(db).writeRounds(rounds);
  insertIncident(db, { routeId: 'gw-web', severity: 'failing', openedAt: NOW - 3 * MINUTE_MS, hop: 'pod', cause: 'pod.refused', firstEvidence: [] });
});
afterAll(() => db?.close());

describe('timeline and incidents by routing object', () => {
  it('timeline --httproute sums the HTTPRoute\'s routes only; --ingress the Ingress\'s only', async () => {
    const source = connectionSource(db, 'test store', () => NOW);
    const range = { from: NOW - 10 * MINUTE_MS, to: NOW, stepMs: 10 * MINUTE_MS };
    const gw = await collectTimeline(source, { scope: scopeFromFlags({ httproute: 'shop/web' }), ...range });
    expect(gw.routes.map((r) => r.route.id)).toEqual(['gw-web']);
    expect(gw.timeline.scope).toEqual({ httproute: 'shop/web' });
    expect(gw.timeline.buckets.reduce((n, b) => n + b.failing, 0)).toBe(3);
    const ing = await collectTimeline(source, { scope: scopeFromFlags({ ingress: 'shop/web' }), ...range });
    expect(ing.routes.map((r) => r.route.id)).toEqual(['ing-web']);
    expect(ing.timeline.buckets.reduce((n, b) => n + b.ok, 0)).toBe(3);
    await expect(collectTimeline(source, { scope: scopeFromFlags({ httproute: 'shop/other' }), ...range })).rejects.toThrow('no route of httproute shop/other in the history');
    await source.close();
  });

  it('incidents --httproute lists the HTTPRoute\'s incident; --ingress none', async () => {
    const source = connectionSource(db, 'test store', () => NOW);
    const flags = { limit: '100', output: 'json' as const };
    const gw = await collectIncidents(source, incidentsRequest({ ...flags, httproute: 'shop/web' }, NOW));
    expect(gw.incidents.map((i) => [i.routeId, i.route?.kind, i.route?.name])).toEqual([['gw-web', 'HTTPRoute', 'web']]);
    const ing = await collectIncidents(source, incidentsRequest({ ...flags, ingress: 'shop/web' }, NOW));
    expect(ing.incidents).toEqual([]);
    await source.close();
  });
});
