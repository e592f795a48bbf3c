-- Migration 0002: sessions record their last use (a login or a refresh), so that a
-- second factor stops counting after an idle hour (NIST SP 800-63B rev 4, AAL2).
ALTER TABLE sessions ADD COLUMN last_used_at INTEGER;
