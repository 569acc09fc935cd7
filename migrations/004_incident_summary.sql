-- The one-line summary of the verdict that opened an incident, for the incidents tables (issue #17:
-- a cause id alone, `network.blocked`, does not say what is wrong). Incidents stored before this
-- migration have none (NULL); the dashboard shows their first evidence line instead.
ALTER TABLE incidents ADD COLUMN summary TEXT;
