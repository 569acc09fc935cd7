-- hopwatch history store, first schema.
--
-- PRAGMAs at the very top of a migration are run by the migration runner
-- outside the transaction and only on a new, empty database: SQLite fixes
-- auto_vacuum and page_size when the first table is created (and before WAL).
-- page_size must come first: setting auto_vacuum fixes the page size.
-- 16 KiB pages: chunks are ~2 KB blobs, and small pages waste a partial chunk each.
PRAGMA page_size = 16384;
PRAGMA auto_vacuum = INCREMENTAL;

-- Small key/value state of the store (retention watermarks).
CREATE TABLE store_meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;

-- Routes as last described by discovery; rid is the compact id every other table uses.
CREATE TABLE routes (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  namespace TEXT NOT NULL,
  ingress TEXT NOT NULL,
  ingress_class TEXT,
  host TEXT,
  path TEXT NOT NULL,
  path_type TEXT NOT NULL,
  tls INTEGER NOT NULL,
  default_backend INTEGER NOT NULL,
  backend_service TEXT NOT NULL,
  backend_port TEXT NOT NULL,
  probe_path TEXT NOT NULL,
  first_seen_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX routes_namespace ON routes (namespace);

-- Interned hop "shapes": everything about a hop result except timings and body size
-- (hop, target, pod, status, error, headers, generator, ...), as canonical JSON.
CREATE TABLE hop_shapes (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE
);

-- Interned verdicts: JSON [status, hop, cause, summary, evidence].
CREATE TABLE verdicts (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE
);

-- Head block: recent rounds, one row each, hops packed (codec.ts writeHopResult).
-- Rowid order is insertion order, so inserts append; the (route, time) index is
-- small and also grows at each route's end. compact.ts moves rounds of closed
-- hours into round_chunks and per-route rollups, in one transaction.
CREATE TABLE rounds_head (
  id INTEGER PRIMARY KEY,
  route_rid INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  duration INTEGER NOT NULL, -- tenths of a millisecond
  verdict_id INTEGER NOT NULL,
  hops BLOB NOT NULL
);
CREATE UNIQUE INDEX rounds_head_route ON rounds_head (route_rid, started_at);

-- Compacted rounds: one compressed columnar chunk per route and hour (codec.ts encodeChunk).
CREATE TABLE round_chunks (
  id INTEGER PRIMARY KEY,
  route_rid INTEGER NOT NULL,
  first_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  rounds INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX round_chunks_route ON round_chunks (route_rid, last_at);
CREATE INDEX round_chunks_age ON round_chunks (last_at);

-- Rollups. scope 0 is all routes (maintained as rounds are written); scope > 0 is
-- routes.rid (materialised by compaction; newer rounds are read from the head).
-- tier 0 = minute (scope 0 only, until compaction folds it into the hour's
-- minutes), 1 = hour, 2 = day (UTC). detail: latency histogram and failures by
-- hop and cause (rollup.ts encodeDetail); minutes: an hour's minute slots (encodeSlots).
CREATE TABLE rollups (
  scope INTEGER NOT NULL,
  tier INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  rounds INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  degraded INTEGER NOT NULL,
  failing INTEGER NOT NULL,
  unknown INTEGER NOT NULL,
  detail BLOB NOT NULL,
  minutes BLOB,
  PRIMARY KEY (scope, tier, bucket)
) WITHOUT ROWID;

-- Incidents, written by the daemon's incident tracker.
CREATE TABLE incidents (
  id INTEGER PRIMARY KEY,
  route_id TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('failing', 'degraded')),
  opened_at INTEGER NOT NULL,
  closed_at INTEGER,
  hop TEXT,
  cause TEXT NOT NULL,
  changes TEXT NOT NULL DEFAULT '[]', -- JSON [{at, hop, cause}]
  pods TEXT NOT NULL DEFAULT '[]', -- JSON ["namespace/name", ...]
  first_evidence TEXT NOT NULL DEFAULT '[]', -- JSON: the evidence lines of the opening verdict
  failing_rounds INTEGER NOT NULL DEFAULT 0,
  rollout INTEGER NOT NULL DEFAULT 0 CHECK (rollout IN (0, 1)),
  CHECK (closed_at IS NULL OR closed_at >= opened_at)
);
CREATE INDEX incidents_opened ON incidents (opened_at, id);
CREATE INDEX incidents_route ON incidents (route_id, opened_at, id);
CREATE INDEX incidents_open ON incidents (route_id) WHERE closed_at IS NULL;
