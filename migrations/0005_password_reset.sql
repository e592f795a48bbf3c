-- Migration 0005: password reset. A reset code is spent under the nonce of the request
-- that spent it, so the statements of that request's batch can tell it was theirs.
ALTER TABLE email_codes ADD COLUMN used_by TEXT;
