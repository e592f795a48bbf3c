-- The full current schema of the D1 database (binding DB), for a fresh database:
--   npx wrangler d1 execute DB --file schema.sql [--local | --remote]
-- An existing database is brought up to date with the numbered files in migrations/
-- (npx wrangler d1 migrations apply DB --remote); scripts/check-schema.py checks that
-- both roads lead to the same schema.
-- Times are unix seconds from the Worker clock.

-- One row per account. The TOTP secret is AES-256-GCM ciphertext ("kid.base64"),
-- bound to the user id; totp_last_step is the last accepted RFC 6238 time step, so
-- each code is accepted at most once.
CREATE TABLE IF NOT EXISTS users (
  id              TEXT PRIMARY KEY,
  username        TEXT NOT NULL UNIQUE,          -- canonical: NFKC + lowercase
  email           TEXT,
  password_hash   TEXT NOT NULL,                 -- Argon2id PHC string
  created_at      INTEGER NOT NULL,
  totp_secret     TEXT,
  totp_enabled_at INTEGER,
  totp_last_step  INTEGER NOT NULL DEFAULT 0,
  totp_last_used_by TEXT,                        -- nonce of the request that spent that step
  email_verified_at INTEGER                      -- when a code sent to `email` came back
);

-- One row per login session (a refresh-token family). Only the SHA-256 of the current
-- refresh token is stored; the authentication facts are kept so that refreshed access
-- tokens say what the original login proved.
CREATE TABLE IF NOT EXISTS sessions (
  id             TEXT PRIMARY KEY,
  user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  refresh_hash   TEXT NOT NULL UNIQUE,
  authentication TEXT NOT NULL,                  -- JSON: second factor + auth_time
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,
  rotated_at     INTEGER,
  revoked_at     INTEGER,
  last_used_at   INTEGER,                        -- last login or refresh (aal2 idle limit)
  ip             TEXT,                           -- client address of that last use
  device         TEXT                            -- short User-Agent label ("Firefox on Linux")
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions(user_id);

-- Refresh tokens that were rotated away. Seeing one again means a copy was stolen or
-- raced: the whole session is revoked.
CREATE TABLE IF NOT EXISTS retired_refresh_tokens (
  hash       TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  retired_at INTEGER NOT NULL
);

-- The exact, race-free half of an mfa_token (the challenge itself lives in KV):
-- how many wrong codes it has seen and which session, if any, consumed it.
CREATE TABLE IF NOT EXISTS mfa_attempts (
  token_hash      TEXT PRIMARY KEY,
  user_id         TEXT NOT NULL,
  failures        INTEGER NOT NULL DEFAULT 0,
  last_failure_by TEXT,
  consumed_by     TEXT,
  expires_at      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS mfa_attempts_by_expiry ON mfa_attempts(expires_at);

-- Recovery codes, as HMAC-SHA-256(key, user_id || code); used_by names the session
-- that spent the code.
CREATE TABLE IF NOT EXISTS recovery_codes (
  user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  used_at   INTEGER,
  used_by   TEXT,
  PRIMARY KEY (user_id, code_hash)
);

-- Per-account attempt counters (policy in src/domain/throttle.rs). Keys are
-- "pwd:<username>" (password attempts, whether or not the name exists) and
-- "mfa:<user id>" (second-factor attempts, across all mfa_tokens). last_by is the
-- nonce of the request that last changed the row, so a batch can tell its own
-- effect from a concurrent one.
CREATE TABLE IF NOT EXISTS throttle (
  key          TEXT PRIMARY KEY,
  failures     INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER NOT NULL DEFAULT 0,
  last_by      TEXT
);

-- Security events, shown to their user by GET /v1/events. Never holds a password,
-- code, token or secret.
CREATE TABLE IF NOT EXISTS security_events (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id TEXT NOT NULL,
  kind    TEXT NOT NULL,
  at      INTEGER NOT NULL,
  ip      TEXT,
  detail  TEXT
);
CREATE INDEX IF NOT EXISTS security_events_by_user ON security_events(user_id, id);

-- Single-use codes sent by email (verification, password reset). Only the SHA-256 of
-- the code is stored; a code is spent by setting used_at in the batch that acts on it.
CREATE TABLE IF NOT EXISTS email_codes (
  code_hash  TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  purpose    TEXT NOT NULL,                    -- 'verify_email' or 'reset_password'
  email      TEXT NOT NULL,                    -- the address the code was sent to
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER,
  used_by    TEXT                              -- nonce of the request that spent it (reset)
);
CREATE INDEX IF NOT EXISTS email_codes_by_user ON email_codes(user_id, purpose);
