-- Migration 0003: sessions remember where they were last used (the client address) and a
-- short label of the client's User-Agent, so that GET /v1/sessions can tell them apart.
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN device TEXT;
