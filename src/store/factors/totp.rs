//! TOTP evidence in D1: a step is accepted only if it is later than the last accepted
//! one, and the row remembers which request accepted it.

use crate::store::sql::{sql, Sql};

pub(super) fn accept<'a>(
    step: u64,
    user_id: &'a str,
    nonce: &'a str,
    unlocked: Sql<'a>,
    extra: Sql<'a>,
) -> Sql<'a> {
    let step = step as i64;
    sql![
        "UPDATE users SET totp_last_step = " (step) ", totp_last_used_by = " (nonce)
        " WHERE id = " (user_id) " AND totp_enabled_at IS NOT NULL AND totp_last_step < " (step)
        " AND " [unlocked] " AND " [extra]
    ]
}

pub(super) fn accepted<'a>(user_id: &'a str, nonce: &'a str) -> Sql<'a> {
    sql!["EXISTS (SELECT 1 FROM users WHERE id = " (user_id) " AND totp_last_used_by = " (nonce) ")"]
}
