-- Alerts not yet settled with every receiver: written with the incident change that causes them,
-- deleted once each receiver accepted or finally refused them. Rows left by a stop or a crash
-- are sent again at the next start (at least once: receivers deduplicate on incident id and event).
CREATE TABLE alert_outbox (
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL,
  event TEXT NOT NULL, -- opened | escalated | closed
  reason TEXT, -- a close's reason: recovered | route-removed
  created_at INTEGER NOT NULL
);
