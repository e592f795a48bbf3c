//! Actions that need a fresh second factor: each is one batch in which the factor is
//! spent (`factors::spend_for_action`) and the action happens if and only if it was
//! accepted.

use super::factors::{recovery_code, spend_for_action, CodeCheck, CodeOutcome};
use super::password_reset::spend_all;
use super::sessions::{insert_statement, revoke_all_statement, NewSession};
use super::sql::sql;
use super::{Db, StoreError};

/// Turns TOTP off: the secret and the recovery codes go, and every session ends.
pub async fn disable_totp(db: &Db, c: &CodeCheck<'_>) -> Result<CodeOutcome, StoreError> {
    let actions = vec![
        revoke_all_statement(c.user_id, c.now, c.accepted()),
        sql![
            "UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL WHERE id = " (c.user_id)
            " AND " [c.accepted()]
        ],
        recovery_code::discard(c.user_id, Some(c.nonce), c.accepted()),
        spend_all(c.user_id, c.now, c.accepted()),
    ];
    spend_for_action(db, c, "step_up.disable_totp", actions).await
}

/// Replaces the recovery codes with a new set (a JSON array of hashes).
pub async fn replace_recovery_codes(
    db: &Db,
    c: &CodeCheck<'_>,
    hashes_json: &str,
) -> Result<CodeOutcome, StoreError> {
    let actions = vec![
        recovery_code::discard(c.user_id, Some(c.nonce), c.accepted()),
        recovery_code::insert_set(c.user_id, hashes_json, c.accepted()),
    ];
    spend_for_action(db, c, "step_up.replace_recovery_codes", actions).await
}

/// Changes the password, ends every session and starts `session`.
pub async fn change_password(
    db: &Db,
    c: &CodeCheck<'_>,
    new_hash: &str,
    session: &NewSession<'_>,
) -> Result<CodeOutcome, StoreError> {
    let actions = vec![
        sql![
            "UPDATE users SET password_hash = " (new_hash) " WHERE id = " (c.user_id) " AND "
            [c.accepted()]
        ],
        revoke_all_statement(c.user_id, c.now, c.accepted()),
        insert_statement(session, Some(c.accepted())),
    ];
    spend_for_action(db, c, "step_up.change_password", actions).await
}
