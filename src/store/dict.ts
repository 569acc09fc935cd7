// The interned dictionaries: hop shapes and verdicts, by id (for readers) and
// by key (for the writer). Entries are never changed or deleted, so a cached
// entry stays valid for the life of the database.

import type { Cause, Verdict, VerdictHop, VerdictStatus } from '../model.js';
import { parseShapeKey, shapeKey, type HopShape } from './codec.js';
import { StoreError } from './errors.js';
import type { Db } from './sqlite.js';

/** A verdict as interned. */
export interface StoredVerdict extends Verdict {
  /** Interned id. */
  id: number;
}

/** The canonical text a verdict is interned under. */
export function verdictKey(v: Verdict): string {
  return JSON.stringify([v.status, v.hop, v.cause, v.summary, v.evidence]);
}

function parseVerdictKey(id: number, key: string): StoredVerdict {
  const v: unknown = JSON.parse(key);
  if (!Array.isArray(v) || v.length !== 5) throw new StoreError('CORRUPT', `verdict ${id} is not a 5-element array`);
  return {
    id,
    status: v[0] as VerdictStatus,
    hop: v[1] as VerdictHop | null,
    cause: v[2] as Cause,
    summary: String(v[3]),
    evidence: (v[4] as unknown[]).map(String),
  };
}

/** Lazily loaded id -> entry views of both dictionaries. */
export class Dictionaries {
  private readonly shapes = new Map<number, HopShape>();
  private readonly verdicts = new Map<number, StoredVerdict>();
  private readonly shapeById;
  private readonly verdictById;

  constructor(db: Db) {
    this.shapeById = db.prepare('SELECT key FROM hop_shapes WHERE id = ?').pluck();
    this.verdictById = db.prepare('SELECT key FROM verdicts WHERE id = ?').pluck();
  }

  /** The shape with this id. */
  shape(id: number): HopShape {
    let s = this.shapes.get(id);
    if (s === undefined) {
      const key = this.shapeById.get(id);
      if (typeof key !== 'string') throw new StoreError('CORRUPT', `hop shape ${id} is missing`);
      s = parseShapeKey(key);
      this.shapes.set(id, s);
    }
    return s;
  }

  /** The phase mask of the shape with this id. */
  readonly maskOf = (id: number): number => this.shape(id).phaseMask;

  /** The verdict with this id. */
  verdict(id: number): StoredVerdict {
    let v = this.verdicts.get(id);
    if (v === undefined) {
      const key = this.verdictById.get(id);
      if (typeof key !== 'string') throw new StoreError('CORRUPT', `verdict ${id} is missing`);
      v = parseVerdictKey(id, key);
      this.verdicts.set(id, v);
    }
    return v;
  }
}

/** key -> id interning of shapes and verdicts, for the writer. */
export class Interner {
  private readonly shapeIds = new Map<string, number>();
  private readonly verdictIds = new Map<string, number>();
  private readonly insShape;
  private readonly getShape;
  private readonly insVerdict;
  private readonly getVerdict;

  constructor(db: Db) {
    this.insShape = db.prepare('INSERT OR IGNORE INTO hop_shapes (key) VALUES (?)');
    this.getShape = db.prepare('SELECT id FROM hop_shapes WHERE key = ?').pluck();
    this.insVerdict = db.prepare('INSERT OR IGNORE INTO verdicts (key) VALUES (?)');
    this.getVerdict = db.prepare('SELECT id FROM verdicts WHERE key = ?').pluck();
  }

  /** Forgets every cached id (after a rolled-back transaction, whose inserts are gone). */
  clear(): void {
    this.shapeIds.clear();
    this.verdictIds.clear();
  }

  /** The id of a shape, interning it when new. */
  shapeId(s: HopShape): number {
    const key = shapeKey(s);
    let id = this.shapeIds.get(key);
    if (id === undefined) {
      this.insShape.run(key);
      id = this.getShape.get(key) as number;
      this.shapeIds.set(key, id);
    }
    return id;
  }

  /** The id of a verdict, interning it when new. */
  verdictId(v: Verdict): number {
    const key = verdictKey(v);
    let id = this.verdictIds.get(key);
    if (id === undefined) {
      this.insVerdict.run(key);
      id = this.getVerdict.get(key) as number;
      this.verdictIds.set(key, id);
    }
    return id;
  }
}
