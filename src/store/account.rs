//! Deleting an account: every row that names the user, in one batch, `users` last.

use super::factors::{spend_for_action_then, CodeCheck, CodeOutcome};
use super::sql::{sql, Sql};
use super::users::password_unchanged;
use super::{changes, Db, StoreError};

/// The DELETEs, each only while `guard` holds; `users` goes last because the guards
/// look at it.
fn delete_all<'a>(user_id: &'a str, keys: &'a [String], guard: Sql<'a>) -> Vec<Sql<'a>> {
    let mut batch = vec![sql![
        "DELETE FROM retired_refresh_tokens WHERE session_id IN "
        "(SELECT id FROM sessions WHERE user_id = " (user_id) ") AND " [guard.clone()]
    ]];
    for table in [
        "sessions",
        "recovery_codes",
        "email_codes",
        "mfa_attempts",
        "security_events",
    ] {
        batch.push(sql![
            "DELETE FROM " {table} " WHERE user_id = " (user_id) " AND " [guard.clone()]
        ]);
    }
    batch.push(sql![
        "DELETE FROM throttle WHERE key IN " [Sql::list(keys)] " AND " [guard.clone()]
    ]);
    batch.push(sql!["DELETE FROM users WHERE id = " (user_id) " AND " [guard]]);
    batch
}

/// For an account without a second factor: deleted only while its password hash is
/// still the one the caller just proved. `true` when it was deleted.
pub async fn delete_with_password(
    db: &Db,
    user_id: &str,
    password_hash: &str,
    keys: &[String],
) -> Result<bool, StoreError> {
    let unchanged = password_unchanged(user_id, password_hash);
    let results = db
        .batch("account.delete", &delete_all(user_id, keys, unchanged))
        .await?;
    Ok(results.last().is_some_and(|r| changes(r) == 1))
}

/// For an account with 2FA: the fresh factor is spent and judged first; then, once the
/// verdict is read, the account is marked with this request's nonce (the factor's own
/// rows go with the account) and everything is deleted under that mark.
pub async fn delete_with_factor(
    db: &Db,
    c: &CodeCheck<'_>,
    keys: &[String],
) -> Result<CodeOutcome, StoreError> {
    let mut after = vec![sql![
        "UPDATE users SET totp_last_used_by = " (c.nonce) " WHERE id = " (c.user_id)
        " AND " [c.accepted()]
    ]];
    let marked = sql![
        "EXISTS (SELECT 1 FROM users WHERE id = " (c.user_id) " AND totp_last_used_by = " (c.nonce) ")"
    ];
    after.extend(delete_all(c.user_id, keys, marked));
    Ok(
        spend_for_action_then(db, c, "account.delete", Vec::new(), after)
            .await?
            .0,
    )
}
