-- Migration 0004: verified email addresses and single-use email codes (verification,
-- password reset). Only the SHA-256 of a code is stored.
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;
CREATE TABLE IF NOT EXISTS email_codes (
  code_hash  TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  purpose    TEXT NOT NULL,                    -- 'verify_email' or 'reset_password'
  email      TEXT NOT NULL,                    -- the address the code was sent to
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER
);
CREATE INDEX IF NOT EXISTS email_codes_by_user ON email_codes(user_id, purpose);
