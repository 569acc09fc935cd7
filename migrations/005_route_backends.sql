-- Routes carry their routing object (kind and name) and their weighted backends (issue #14: a
-- canary Ingress is a weighted backend of the main route; an HTTPRoute rule has several backendRefs).
-- Route ids do not change, so history stays attached. A route stored before this migration had one
-- backend, written in backend_service/backend_port (kept: they stay the primary backend's):
-- it becomes that route's only backend, with the whole share.
ALTER TABLE routes ADD COLUMN kind TEXT NOT NULL DEFAULT 'Ingress';
ALTER TABLE routes ADD COLUMN name TEXT;
-- JSON [{namespace, service, port, weight, share, role, source: {kind, namespace, name}, selector}], primary first.
ALTER TABLE routes ADD COLUMN backends TEXT NOT NULL DEFAULT '[]';
UPDATE routes SET
  name = ingress,
  backends = json_array(json_object(
    'namespace', namespace, 'service', backend_service, 'port', json(backend_port), 'weight', 100, 'share', 1,
    'role', 'primary', 'source', json_object('kind', 'Ingress', 'namespace', namespace, 'name', ingress),
    'selector', json('null')
  ));
