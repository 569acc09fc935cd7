-- A store written by hopwatch before weighted backends (schema 003), by the code of commit d7740c7
-- (src/store/fixtures.ts routes and rounds, one incident); loaded by src/store/migrate-backends.test.ts.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);
INSERT INTO schema_migrations VALUES(1,'init',1767225600000);
INSERT INTO schema_migrations VALUES(2,'route_removal',1767225600000);
INSERT INTO schema_migrations VALUES(3,'alert_outbox',1767225600000);
CREATE TABLE store_meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
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
, removed_at INTEGER);
INSERT INTO routes VALUES(1,'e7945a13988a','shop','cart','nginx','cart.example.test','/','Prefix',0,0,'cart','8080','/',1767225600000,1767225600000,NULL);
INSERT INTO routes VALUES(2,'b51f1d44e234','pay','checkout','nginx','checkout.example.test','/','Prefix',0,0,'checkout','"http"','/',1767225600000,1767225600000,NULL);
CREATE TABLE hop_shapes (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE
);
INSERT INTO hop_shapes VALUES(1,'["edge","127.0.0.80:18080","127.0.0.80",18080,"http",null,null,null,200,null,null,230,[["content-type","text/plain"],["server","nginx"]],"upstream",[],10]');
INSERT INTO hop_shapes VALUES(2,'["pod","127.0.1.1:8080","127.0.1.1",8080,"http","shop/cart-0",true,false,200,null,null,230,[],"upstream",[],2]');
INSERT INTO hop_shapes VALUES(3,'["pod","127.0.1.1:8080","127.0.1.1",8080,"http","pay/checkout-0",true,false,200,null,null,230,[],"upstream",[],2]');
INSERT INTO hop_shapes VALUES(4,'["edge","127.0.0.80:18080","127.0.0.80",18080,"http",null,null,null,502,null,null,230,[["content-type","text/plain"],["server","nginx"]],"nginx",[],10]');
CREATE TABLE verdicts (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE
);
INSERT INTO verdicts VALUES(1,'["ok",null,"ok","every hop answers",[]]');
INSERT INTO verdicts VALUES(2,'["failing","controller","controller.error","controller answers 502",["controller 502, pods 200"]]');
CREATE TABLE rounds_head (
  id INTEGER PRIMARY KEY,
  route_rid INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  duration INTEGER NOT NULL, -- tenths of a millisecond
  verdict_id INTEGER NOT NULL,
  hops BLOB NOT NULL
);
INSERT INTO rounds_head VALUES(1,1,1767225600000,40,1,X'0201e404031c1e02e404010c');
INSERT INTO rounds_head VALUES(2,2,1767225600000,40,1,X'0201e404031c1e03e404010c');
INSERT INTO rounds_head VALUES(3,1,1767225660000,50,1,X'0201e40403262802e404010c');
INSERT INTO rounds_head VALUES(4,2,1767225660000,50,1,X'0201e40403262803e404010c');
INSERT INTO rounds_head VALUES(5,1,1767225720000,60,1,X'0201e40403303202e404010c');
INSERT INTO rounds_head VALUES(6,2,1767225720000,60,1,X'0201e40403303203e404010c');
INSERT INTO rounds_head VALUES(7,1,1767225780000,70,1,X'0201e404033a3c02e404010c');
INSERT INTO rounds_head VALUES(8,2,1767225780000,70,2,X'02049d01033a3c03e404010c');
INSERT INTO rounds_head VALUES(9,1,1767225840000,80,1,X'0201e40403444602e404010c');
INSERT INTO rounds_head VALUES(10,2,1767225840000,80,1,X'0201e40403444603e404010c');
INSERT INTO rounds_head VALUES(11,1,1767225900000,90,1,X'0201e404034e5002e404010c');
INSERT INTO rounds_head VALUES(12,2,1767225900000,90,1,X'0201e404034e5003e404010c');
CREATE TABLE round_chunks (
  id INTEGER PRIMARY KEY,
  route_rid INTEGER NOT NULL,
  first_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  rounds INTEGER NOT NULL,
  data BLOB NOT NULL
);
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
INSERT INTO rollups VALUES(0,0,1767225600000,2,2,0,0,0,X'000000021e00',NULL);
INSERT INTO rollups VALUES(0,0,1767225660000,2,2,0,0,0,X'000000022800',NULL);
INSERT INTO rollups VALUES(0,0,1767225720000,2,2,0,0,0,X'000000023200',NULL);
INSERT INTO rollups VALUES(0,0,1767225780000,2,1,0,1,0,X'020a636f6e74726f6c6c657210636f6e74726f6c6c65722e6572726f72010001010101023c00',NULL);
INSERT INTO rollups VALUES(0,0,1767225840000,2,2,0,0,0,X'000000024600',NULL);
INSERT INTO rollups VALUES(0,0,1767225900000,2,2,0,0,0,X'000000025000',NULL);
INSERT INTO rollups VALUES(0,1,1767225600000,12,11,0,1,0,X'020a636f6e74726f6c6c657210636f6e74726f6c6c65722e6572726f720100010101010c1e32a60406280203020302020202020102',NULL);
INSERT INTO rollups VALUES(0,2,1767225600000,12,11,0,1,0,X'020a636f6e74726f6c6c657210636f6e74726f6c6c65722e6572726f720100010101010c1e32a60406280203020302020202020102',NULL);
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
INSERT INTO incidents VALUES(1,'b51f1d44e234','failing',1767225780000,NULL,'controller','controller.error','[]','[]','["controller 502, pods 200"]',0,0);
CREATE TABLE alert_outbox (
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL,
  event TEXT NOT NULL, -- opened | escalated | closed
  reason TEXT, -- a close's reason: recovered | route-removed
  created_at INTEGER NOT NULL
);
CREATE INDEX routes_namespace ON routes (namespace);
CREATE UNIQUE INDEX rounds_head_route ON rounds_head (route_rid, started_at);
CREATE INDEX round_chunks_route ON round_chunks (route_rid, last_at);
CREATE INDEX round_chunks_age ON round_chunks (last_at);
CREATE INDEX incidents_opened ON incidents (opened_at, id);
CREATE INDEX incidents_route ON incidents (route_id, opened_at, id);
CREATE INDEX incidents_open ON incidents (route_id) WHERE closed_at IS NULL;
COMMIT;
