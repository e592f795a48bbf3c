//! The scheduled housekeeping's storage: one batch that forgets what no request needs
//! any more, and the TOTP secrets still sealed under an older key.

use serde::Deserialize;

use super::sql::{sql, Sql};
use super::users::reseal_totp_statement;
use super::{changes, Db, StoreError};
use crate::domain::housekeeping::Cutoffs;
use crate::domain::throttle::CAP_PREFIX;

/// Rows deleted by one [`purge`], per table (for the run's log line).
#[derive(Debug, Default)]
pub struct Purged {
    pub sessions: usize,
    pub retired_refresh_tokens: usize,
    pub mfa_attempts: usize,
    pub throttle: usize,
    pub security_events: usize,
}

/// One batch (one transaction): ended sessions with their retired refresh tokens,
/// attempt rows of expired tokens, idle throttle rows (never a hard cap's), and
/// security events past their retention.
pub async fn purge(db: &Db, c: &Cutoffs) -> Result<Purged, StoreError> {
    let ended = || sql!["(expires_at < " (c.sessions_ended_before) " OR revoked_at < " (c.sessions_ended_before) ")"];
    let batch = [
        // Explicitly, not by the foreign key's cascade: the count is logged, and the
        // statement does not depend on the connection's foreign-key setting.
        sql!["DELETE FROM retired_refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE "
            [ended()] ")"],
        sql!["DELETE FROM sessions WHERE "[ended()]],
        sql!["DELETE FROM mfa_attempts WHERE expires_at < "(
            c.attempts_expired_before
        )],
        sql!["DELETE FROM throttle WHERE locked_until < " (c.throttle_idle_before)
            " AND substr(key, 1, " {CAP_PREFIX.len().to_string()} ") <> " {format!("'{CAP_PREFIX}'")}],
        sql!["DELETE FROM security_events WHERE at < "(c.events_before)],
    ];
    let results = db.batch("housekeeping.purge", &batch).await?;
    let n = |i: usize| results.get(i).map_or(0, changes);
    Ok(Purged {
        retired_refresh_tokens: n(0),
        sessions: n(1),
        mfa_attempts: n(2),
        throttle: n(3),
        security_events: n(4),
    })
}

#[derive(Debug, Deserialize)]
pub struct SealedSecret {
    pub id: String,
    pub totp_secret: String,
}

/// Up to `limit` TOTP secrets not sealed under `newest_prefix` (`kid.`), in id order
/// after `after_id` (so a secret that cannot be opened is passed over, not fetched
/// again on every round).
pub async fn stale_totp_secrets(
    db: &Db,
    newest_prefix: &str,
    after_id: &str,
    limit: usize,
) -> Result<Vec<SealedSecret>, StoreError> {
    let query = sql![
        "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL AND substr(totp_secret, 1, "
        (newest_prefix.len() as i64) ") <> " (newest_prefix) " AND id > " (after_id)
        " ORDER BY id LIMIT " {limit.to_string()}
    ];
    db.all("housekeeping.stale_totp_secrets", &query).await
}

/// A re-sealed secret: written only where the row still holds `old`, so a secret
/// replaced meanwhile (2FA turned off and on again) is left alone.
pub struct Resealed {
    pub id: String,
    pub old: String,
    pub new: String,
}

/// One batch; returns how many rows changed.
pub async fn reseal_totp_secrets(db: &Db, resealed: &[Resealed]) -> Result<usize, StoreError> {
    if resealed.is_empty() {
        return Ok(0);
    }
    let batch: Vec<Sql<'_>> = resealed
        .iter()
        .map(|r| reseal_totp_statement(&r.id, &r.old, &r.new))
        .collect();
    let results = db.batch("housekeeping.reseal_totp", &batch).await?;
    Ok(results.iter().map(changes).sum())
}
