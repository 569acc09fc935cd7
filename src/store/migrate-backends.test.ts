// A store written before routes had weighted backends (schema 003, by the previous code: testdata/store-003.sql)
// opens with migrations 004-006: its routes keep their ids and history, and gain kind, name, backends and parent.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { routeId } from '../discovery/routes.js';
import { fixtureHop, fixtureRound, fixtureRoute } from './fixtures.js';
import { listIncidents } from './incidents.js';
import { listRoutes, roundsOf } from './queries.js';
import { appliedVersions, openStore, type Db } from './sqlite.js';
import { createWriter } from './write.js';

const OLD_SQL = readFileSync(new URL('./testdata/store-003.sql', import.meta.url), 'utf8');
const CART = routeId({ namespace: 'shop', ingress: 'cart', host: 'cart.example.test', path: '/', pathType: 'Prefix', defaultBackend: false });
const CHECKOUT = routeId({ namespace: 'pay', ingress: 'checkout', host: 'checkout.example.test', path: '/', pathType: 'Prefix', defaultBackend: false });

let dir: string;
let db: Db;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hopwatch-migrate-'));
  const path = join(dir, 'old.db');
  const old = new Database(path);
  old.exec(OLD_SQL);
  old.close();
  db = openStore(path);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a store from before weighted backends', () => {
  it('migrates: same route ids, each route one primary backend from its old backend columns', () => {
    expect(appliedVersions(db)).toEqual([1, 2, 3, 4, 5, 6]);
    const routes = listRoutes(db);
    expect(routes.map((r) => r.id).sort()).toEqual([CART, CHECKOUT].sort());
    const cart = routes.find((r) => r.id === CART);
    expect(cart).toMatchObject({ kind: 'Ingress', name: 'cart', ingress: 'cart', backend: { service: 'cart', port: 8080 } });
    expect(cart?.backends).toEqual([
      { namespace: 'shop', service: 'cart', port: 8080, weight: 100, share: 1, role: 'primary', source: { kind: 'Ingress', namespace: 'shop', name: 'cart' }, selector: null },
    ]);
    expect(routes.find((r) => r.id === CHECKOUT)?.backends[0]).toMatchObject({ service: 'checkout', port: 'http' });
    // 006: an Ingress route's parent is its IngressClass, as discovery writes it.
    expect(cart?.parent).toEqual({ kind: 'IngressClass', namespace: null, name: 'nginx', sectionName: null, port: null });
  });

  it('keeps the history: every round with its hops and verdict, the newest verdict, the incident', () => {
    const rounds = roundsOf(db, CHECKOUT).rounds;
    expect(rounds).toHaveLength(6);
    expect(rounds.map((r) => r.verdict.status)).toEqual(['ok', 'ok', 'failing', 'ok', 'ok', 'ok']);
    expect(rounds[0]?.hops.map((h) => [h.hop, h.pod, h.backend])).toEqual([['edge', null, null], ['pod', 'pay/checkout-0', null]]);
    expect(listRoutes(db).find((r) => r.id === CART)?.latest?.verdict.status).toBe('ok');
    expect(listIncidents(db).incidents.map((i) => [i.routeId, i.cause])).toEqual([[CHECKOUT, 'controller.error']]);
  });

  it('takes new rounds onto the same route row, reusing the old hop shapes for hops of no backend', () => {
    const shapes = (): number => db.prepare('SELECT count(*) FROM hop_shapes').pluck().get() as number;
    const before = shapes();
    const route = fixtureRoute('shop', 'cart', { id: CART });
    const last = roundsOf(db, CART).rounds[0]!;
    createWriter(db).writeRounds([{ ...fixtureRound(route, last.startedAt + 60_000, 'ok', 3), hops: [fixtureHop()] }]);
    expect(shapes()).toBe(before);
    const withBackend = fixtureHop({ backend: 'shop/cart:http' });
    createWriter(db).writeRounds([{ ...fixtureRound(route, last.startedAt + 120_000, 'ok', 3), hops: [withBackend] }]);
    expect(shapes()).toBe(before + 1);
    const rounds = roundsOf(db, CART).rounds;
    expect(rounds).toHaveLength(8);
    expect(rounds[0]?.hops[0]?.backend).toBe('shop/cart:http');
    expect(listRoutes(db).find((r) => r.id === CART)?.backends[0]).toMatchObject({ service: 'cart', port: 'http' });
  });
});
