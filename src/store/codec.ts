// Compact binary encodings for the store: LEB128 varints, the hop-shape key,
// one round's hops in a head row, and the columnar per-route chunks that older
// rounds are compacted into.
//
// Why: one SQL row per hop with text columns costs ~100 bytes per hop; the
// size budget is ~40 bytes per round with all its hops. Everything about a hop
// that repeats round after round (target, pod, status, error, headers, ...) is
// interned once as a "shape"; a round stores only shape ids, body sizes and
// phase timings as varints, and a chunk lays those out column by column so
// deflate squeezes the repetition out.

import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { HopResult, Phases } from '../model.js';
import { StoreError } from './errors.js';

/** Resolution of stored timings: phases and round durations are kept in tenths of a millisecond. */
export const TIME_UNITS_PER_MS = 10;

/** Milliseconds to stored units (rounded; negative and non-finite values become 0). */
export function toUnits(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(Math.round(ms * TIME_UNITS_PER_MS), Number.MAX_SAFE_INTEGER);
}

/** Stored units back to milliseconds. */
export function fromUnits(units: number): number {
  return units / TIME_UNITS_PER_MS;
}

/** Appends varints, strings and bytes to a growable buffer that is reused between records. */
export class ByteWriter {
  private buf: Buffer;
  private len = 0;

  constructor(initialBytes = 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes written since the last reset. */
  get length(): number {
    return this.len;
  }

  /** Forgets what was written; the buffer is kept for the next record. */
  reset(): void {
    this.len = 0;
  }

  /** Appends a non-negative safe integer as an unsigned LEB128 varint. */
  uint(value: number): void {
    if (this.len + 10 > this.buf.length) this.grow(10);
    const buf = this.buf;
    let x = value;
    // Bit operations are exact below 2^31 and much faster; larger values take the arithmetic path.
    if (x < 0x80000000) {
      while (x > 0x7f) {
        buf[this.len++] = (x & 0x7f) | 0x80;
        x >>>= 7;
      }
      buf[this.len++] = x;
      return;
    }
    while (x > 0x7f) {
      buf[this.len++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    buf[this.len++] = x;
  }

  /** Appends a signed integer with |value| < 2^52 (zigzag, then varint). */
  sint(value: number): void {
    this.uint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  /** Appends a UTF-8 string with its byte length. */
  str(value: string): void {
    const bytes = Buffer.byteLength(value);
    this.uint(bytes);
    if (this.len + bytes > this.buf.length) this.grow(bytes);
    this.buf.write(value, this.len, 'utf8');
    this.len += bytes;
  }

  /** Appends raw bytes. */
  bytes(data: Uint8Array): void {
    if (this.len + data.length > this.buf.length) this.grow(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  /** A view of the bytes written (valid until the next write or reset; SQLite copies bound blobs). */
  view(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  /** A copy of the bytes written. */
  copy(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }

  private grow(extra: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + extra + 64));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
}

/** Reads what a ByteWriter wrote; a truncated or malformed input throws StoreError CORRUPT. */
export class ByteReader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  /** True when every byte has been read. */
  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** Reads an unsigned varint. */
  uint(): number {
    const buf = this.buf;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= buf.length) throw corrupt('varint runs past the end');
      const byte = buf[this.pos++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 0x80;
    }
    throw corrupt('varint longer than 8 bytes');
  }

  /** Reads a zigzag-encoded signed varint. */
  sint(): number {
    const z = this.uint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  /** Reads a length-prefixed UTF-8 string. */
  str(): string {
    const n = this.uint();
    if (this.pos + n > this.buf.length) throw corrupt('string runs past the end');
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, n).toString('utf8');
    this.pos += n;
    return s;
  }

  /** Reads n raw bytes. */
  bytes(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw corrupt('bytes run past the end');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

function corrupt(detail: string): StoreError {
  return new StoreError('CORRUPT', `stored data is malformed: ${detail}`);
}

/** Phase bits of a shape's mask: which optional phases a hop carries (totalMs is always present). */
export const PHASE_DNS = 1;
/** connectMs present. */
export const PHASE_CONNECT = 2;
/** tlsMs present. */
export const PHASE_TLS = 4;
/** ttfbMs present. */
export const PHASE_TTFB = 8;

/** Which optional phases a timing record carries. */
export function phaseMask(t: Phases): number {
  return (
    (t.dnsMs !== undefined ? PHASE_DNS : 0) |
    (t.connectMs !== undefined ? PHASE_CONNECT : 0) |
    (t.tlsMs !== undefined ? PHASE_TLS : 0) |
    (t.ttfbMs !== undefined ? PHASE_TTFB : 0)
  );
}

/** Everything about a hop result except its timings and body size: what repeats round after round. */
export type HopShape = Omit<HopResult, 'timings' | 'bytes'> & { phaseMask: number };

/** The shape of a hop result (values copied, so later mutation of the result cannot change it). */
export function shapeOf(hop: HopResult): HopShape {
  return {
    hop: hop.hop,
    target: hop.target,
    address: hop.address,
    port: hop.port,
    scheme: hop.scheme,
    pod: hop.pod,
    ready: hop.ready,
    terminating: hop.terminating,
    status: hop.status,
    error: hop.error,
    errorDetail: hop.errorDetail,
    headerBytes: hop.headerBytes,
    headers: { ...hop.headers },
    generator: hop.generator,
    addresses: [...hop.addresses],
    phaseMask: phaseMask(hop.timings),
    backend: hop.backend ?? null,
  };
}

/**
 * The canonical text of a shape (header names sorted), the key it is interned under. The backend a
 * hop belongs to is a 17th element only when set, so a hop without one keeps the key stores written
 * before backends existed interned it under (and keeps sharing its row).
 */
export function shapeKey(s: HopShape): string {
  const headers = Object.keys(s.headers)
    .sort()
    .map((k) => [k, s.headers[k]]);
  const fields: unknown[] = [
    s.hop, s.target, s.address, s.port, s.scheme, s.pod, s.ready, s.terminating, s.status,
    s.error, s.errorDetail, s.headerBytes, headers, s.generator, s.addresses, s.phaseMask,
  ];
  if ((s.backend ?? null) !== null) fields.push(s.backend);
  return JSON.stringify(fields);
}

/** True when a hop result has exactly the given shape (cheap field checks, no allocation). */
export function hasShape(hop: HopResult, s: HopShape): boolean {
  if (
    hop.target !== s.target || hop.status !== s.status || hop.error !== s.error || hop.hop !== s.hop ||
    hop.pod !== s.pod || hop.address !== s.address || hop.port !== s.port || hop.scheme !== s.scheme ||
    hop.ready !== s.ready || hop.terminating !== s.terminating || hop.errorDetail !== s.errorDetail ||
    hop.headerBytes !== s.headerBytes || hop.generator !== s.generator || phaseMask(hop.timings) !== s.phaseMask ||
    (hop.backend ?? null) !== (s.backend ?? null)
  ) {
    return false;
  }
  return sameStrings(hop.addresses, s.addresses) && sameHeaders(hop.headers, s.headers);
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameHeaders(a: Record<string, string>, b: Record<string, string>): boolean {
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

/** Parses an interned shape key back into a shape. */
export function parseShapeKey(key: string): HopShape {
  const v: unknown = JSON.parse(key);
  // 16 elements: written before backends existed, or a hop of no particular backend; 17: with its backend.
  if (!Array.isArray(v) || (v.length !== 16 && v.length !== 17)) throw corrupt('hop shape is not a 16- or 17-element array');
  const headers: Record<string, string> = {};
  for (const pair of v[12] as unknown[]) {
    const [k, val] = pair as [string, string];
    headers[k] = val;
  }
  return {
    hop: v[0], target: v[1], address: v[2], port: v[3], scheme: v[4], pod: v[5], ready: v[6],
    terminating: v[7], status: v[8], error: v[9], errorDetail: v[10], headerBytes: v[11], headers,
    generator: v[13], addresses: v[14] as string[], phaseMask: v[15] as number, backend: (v[16] as string | undefined) ?? null,
  } as HopShape;
}

/** One hop as stored: its interned shape, body size and timings in units (absent phases are -1). */
export interface PackedHop {
  /** Interned shape id. */
  shape: number;
  /** Response body bytes. */
  bytes: number;
  /** dnsMs in units, -1 when absent. */
  dns: number;
  /** connectMs in units, -1 when absent. */
  connect: number;
  /** tlsMs in units, -1 when absent. */
  tls: number;
  /** ttfbMs in units, -1 when absent. */
  ttfb: number;
  /** totalMs in units. */
  total: number;
}

/** One round as stored. */
export interface PackedRound {
  /** startedAt, ms since epoch. */
  startedAt: number;
  /** durationMs in units. */
  duration: number;
  /** Interned verdict id. */
  verdict: number;
  /** The hops, in plan order. */
  hops: PackedHop[];
}

/** Rebuilds a hop result from its shape and packed values. */
export function unpackHop(p: PackedHop, s: HopShape): HopResult {
  const timings: Phases = { totalMs: fromUnits(p.total) };
  if (p.dns >= 0) timings.dnsMs = fromUnits(p.dns);
  if (p.connect >= 0) timings.connectMs = fromUnits(p.connect);
  if (p.tls >= 0) timings.tlsMs = fromUnits(p.tls);
  if (p.ttfb >= 0) timings.ttfbMs = fromUnits(p.ttfb);
  return {
    hop: s.hop, target: s.target, address: s.address, port: s.port, scheme: s.scheme, pod: s.pod,
    ready: s.ready, terminating: s.terminating, status: s.status, error: s.error,
    errorDetail: s.errorDetail, timings, bytes: p.bytes, headerBytes: s.headerBytes,
    headers: { ...s.headers }, generator: s.generator, addresses: [...s.addresses], backend: s.backend ?? null,
  };
}

/** Writes one hop of a head-row blob straight from the probe's object: shape, bytes, the present phases, total (readHeadHops reads it). */
export function writeHopResult(w: ByteWriter, hop: HopResult, shape: number): void {
  const t = hop.timings;
  w.uint(shape);
  w.uint(hop.bytes > 0 ? Math.round(hop.bytes) : 0);
  if (t.dnsMs !== undefined) w.uint(toUnits(t.dnsMs));
  if (t.connectMs !== undefined) w.uint(toUnits(t.connectMs));
  if (t.tlsMs !== undefined) w.uint(toUnits(t.tlsMs));
  if (t.ttfbMs !== undefined) w.uint(toUnits(t.ttfbMs));
  w.uint(toUnits(t.totalMs));
}

/** Reads a head-row blob; maskOf gives each shape's phase mask. */
export function readHeadHops(blob: Uint8Array, maskOf: (shape: number) => number): PackedHop[] {
  const r = new ByteReader(blob);
  const n = r.uint();
  const hops: PackedHop[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const shape = r.uint();
    const bytes = r.uint();
    const m = maskOf(shape);
    const dns = m & PHASE_DNS ? r.uint() : -1;
    const connect = m & PHASE_CONNECT ? r.uint() : -1;
    const tls = m & PHASE_TLS ? r.uint() : -1;
    const ttfb = m & PHASE_TTFB ? r.uint() : -1;
    hops[i] = { shape, bytes, dns, connect, tls, ttfb, total: r.uint() };
  }
  return hops;
}

const CHUNK_FORMAT = 1;
const PHASES: readonly (keyof Omit<PackedHop, 'shape' | 'bytes'>)[] = ['dns', 'connect', 'tls', 'ttfb', 'total'];

/**
 * Packs rounds (sorted by startedAt) into a compressed columnar chunk: start-time
 * deltas-of-deltas, durations, verdicts, hop counts, shapes, sizes, then each phase.
 * Columns put alike values next to each other, so deflate finds the repetition.
 */
export function encodeChunk(rounds: readonly PackedRound[]): Buffer {
  const w = new ByteWriter(64 + rounds.length * 48);
  w.uint(rounds.length);
  let prev = rounds.length > 0 ? rounds[0]!.startedAt : 0;
  let prevDelta = 0;
  for (const r of rounds) {
    const delta = r.startedAt - prev;
    w.sint(delta - prevDelta);
    prev = r.startedAt;
    prevDelta = delta;
  }
  for (const r of rounds) w.uint(r.duration);
  for (const r of rounds) w.uint(r.verdict);
  for (const r of rounds) w.uint(r.hops.length);
  for (const r of rounds) for (const h of r.hops) w.uint(h.shape);
  for (const r of rounds) for (const h of r.hops) w.uint(h.bytes);
  for (const phase of PHASES) {
    for (const r of rounds) for (const h of r.hops) if (h[phase] >= 0) w.uint(h[phase]);
  }
  const packed = deflateRawSync(w.view(), { level: 9, memLevel: 9 });
  return Buffer.concat([Buffer.of(CHUNK_FORMAT), packed]);
}

/** Unpacks a chunk; firstAt is the chunk's first startedAt, maskOf gives each shape's phase mask. */
export function decodeChunk(data: Uint8Array, firstAt: number, maskOf: (shape: number) => number): PackedRound[] {
  if (data[0] !== CHUNK_FORMAT) throw corrupt(`unknown chunk format ${data[0]}`);
  const r = new ByteReader(inflateRawSync(data.subarray(1)));
  const n = r.uint();
  const rounds: PackedRound[] = new Array(n);
  let at = firstAt;
  let delta = 0;
  for (let i = 0; i < n; i++) {
    delta += r.sint();
    at += delta;
    rounds[i] = { startedAt: at, duration: 0, verdict: 0, hops: [] };
  }
  for (const x of rounds) x.duration = r.uint();
  for (const x of rounds) x.verdict = r.uint();
  for (const x of rounds) x.hops = new Array(r.uint());
  for (const x of rounds) {
    for (let i = 0; i < x.hops.length; i++) {
      x.hops[i] = { shape: r.uint(), bytes: 0, dns: -1, connect: -1, tls: -1, ttfb: -1, total: 0 };
    }
  }
  for (const x of rounds) for (const h of x.hops) h.bytes = r.uint();
  const bits = [PHASE_DNS, PHASE_CONNECT, PHASE_TLS, PHASE_TTFB, 0];
  PHASES.forEach((phase, i) => {
    const bit = bits[i]!;
    for (const x of rounds) for (const h of x.hops) if (bit === 0 || maskOf(h.shape) & bit) h[phase] = r.uint();
  });
  return rounds;
}
