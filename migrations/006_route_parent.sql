-- Routes carry what they hang off (issue #15): a Gateway listener for an HTTPRoute, the IngressClass
-- for an Ingress. JSON {kind, namespace, name, sectionName, port} as Route.parent, NULL for none.
-- Route ids do not change, so history stays attached. A route stored before this migration was an
-- Ingress route: its parent is its IngressClass (none without a class), as discovery writes it.
ALTER TABLE routes ADD COLUMN parent TEXT;
UPDATE routes SET parent = json_object(
  'kind', 'IngressClass', 'namespace', json('null'), 'name', ingress_class, 'sectionName', json('null'), 'port', json('null')
) WHERE kind = 'Ingress' AND ingress_class IS NOT NULL;
