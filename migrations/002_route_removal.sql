-- When a route disappeared from the cluster (its Ingress rule was deleted); NULL while it exists.
-- Its history stays; the routes list shows current routes unless asked for removed ones too.
ALTER TABLE routes ADD COLUMN removed_at INTEGER;
