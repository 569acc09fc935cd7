// The typed form discovery reads, made in place on parsed JSON.
//
// client-node's ObjectSerializer.deserialize builds a class instance per nested object, one property
// at a time, so V8 gives those objects grown property stores: the watch held 35.7 MB of typed objects
// against 18.1 MB for the same lists as JSON.parse left them, and a sync spent ~375 ms in it
// (bench/README.md). What the typed form changes for the kinds hopwatch watches is small: a few
// timestamps become Dates and NetworkPolicy's `from` is renamed `_from`. So the parsed objects are
// kept and only those fields are converted, walking only the parts of a model that contain one (read
// from client-node's own attribute maps, so a newer model is followed, not a hand-kept list).
// metadata.managedFields (server-side apply's bookkeeping, often the largest part of a real object)
// is dropped: nothing in hopwatch reads it.

import * as models from '@kubernetes/client-node';

/** One attribute of a client-node model, as its generated `attributeTypeMap` lists it. */
interface Attribute {
  name: string;
  baseName: string;
  type: string;
}

/** What to do with one JSON field of a model. */
interface Step {
  /** Field name in the JSON. */
  json: string;
  /** Field name in the typed form (differs for reserved words, e.g. `from` -> `_from`). */
  typed: string;
  /** The value's shape, null when the value itself needs no work (only a rename, or dropped). */
  shape: Shape | null;
  /** The field is dropped (see DROPPED). */
  drop: boolean;
}

/** How a value converts: a Date, a model with steps, or a list or map of either. */
type Shape = { kind: 'date' } | { kind: 'model'; steps: Step[] } | { kind: 'array' | 'map'; of: Shape };

/** Fields dropped from every object: read by nothing in hopwatch, large in real clusters. */
const DROPPED: ReadonlyMap<string, ReadonlySet<string>> = new Map([['V1ObjectMeta', new Set(['managedFields'])]]);

const shapes = new Map<string, Shape | null>();

function attributesOf(type: string): Attribute[] | null {
  const model = (models as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] } | undefined>)[type];
  return typeof model?.getAttributeTypeMap === 'function' ? model.getAttributeTypeMap() : null;
}

/** Pure: the shape of a client-node type string, null when values of it are kept as parsed. */
function shapeOf(type: string): Shape | null {
  if (type === 'Date') return { kind: 'date' };
  const list = /^Array<(.+)>$/.exec(type);
  if (list) return wrap('array', shapeOf(list[1] ?? ''));
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return wrap('map', shapeOf(map[1] ?? ''));
  if (shapes.has(type)) return shapes.get(type) ?? null;
  // Recursive models (none among the watched kinds today) end here as "nothing to do".
  shapes.set(type, null);
  const attributes = attributesOf(type);
  const dropped = DROPPED.get(type);
  const steps: Step[] = [];
  for (const a of attributes ?? []) {
    const drop = dropped?.has(a.baseName) ?? false;
    const shape = drop ? null : shapeOf(a.type);
    if (drop || shape !== null || a.name !== a.baseName) steps.push({ json: a.baseName, typed: a.name, shape, drop });
  }
  const shape: Shape | null = steps.length > 0 ? { kind: 'model', steps } : null;
  shapes.set(type, shape);
  return shape;
}

function wrap(kind: 'array' | 'map', of: Shape | null): Shape | null {
  return of === null ? null : { kind, of };
}

function convert(value: unknown, shape: Shape): unknown {
  if (value === null || value === undefined) return value;
  switch (shape.kind) {
    case 'date':
      return typeof value === 'string' ? new Date(value) : value;
    case 'array':
      if (Array.isArray(value)) for (let i = 0; i < value.length; i++) value[i] = convert(value[i], shape.of);
      return value;
    case 'map':
      if (typeof value === 'object') for (const key of Object.keys(value)) (value as Record<string, unknown>)[key] = convert((value as Record<string, unknown>)[key], shape.of);
      return value;
    case 'model':
      if (typeof value === 'object' && !Array.isArray(value)) convertModel(value as Record<string, unknown>, shape.steps);
      return value;
  }
}

function convertModel(object: Record<string, unknown>, steps: readonly Step[]): void {
  for (const step of steps) {
    const value = object[step.json];
    if (value === undefined) continue;
    if (step.drop) {
      // Assigned, not deleted: a delete would turn the object into a slower, larger dictionary.
      object[step.json] = undefined;
      continue;
    }
    const converted = step.shape === null ? value : convert(value, step.shape);
    if (step.typed === step.json) {
      object[step.json] = converted;
    } else {
      object[step.typed] = converted;
      delete object[step.json];
    }
  }
}

/**
 * Turns a parsed JSON object of client-node model `model` (e.g. 'V1Pod') into the typed form consumers
 * read, in place, and returns it: Date fields are Dates, renamed fields carry the model's name,
 * metadata.managedFields is dropped. Fields the model does not know are kept as they are.
 */
export function typeInPlace<T>(object: T, model: string): T {
  const shape = shapeOf(model);
  return shape === null ? object : (convert(object, shape) as T);
}
