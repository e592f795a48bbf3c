//! Recovery codes in D1: a code is accepted once, if unused and TOTP is still on; a set
//! is replaced as a whole.

use crate::store::sql::{sql, Sql};

/// `hashes`: the code's stored form under each recovery-code key (one per key of the
/// list, so a code issued before a rotation is still found).
pub(super) fn accept<'a>(
    hashes: &'a [String],
    user_id: &'a str,
    nonce: &'a str,
    now: i64,
    unlocked: Sql<'a>,
    extra: Sql<'a>,
) -> Sql<'a> {
    sql![
        "UPDATE recovery_codes SET used_at = " (now) ", used_by = " (nonce)
        " WHERE user_id = " (user_id) " AND code_hash IN " [Sql::list(hashes)] " AND used_at IS NULL AND "
        [unlocked] " AND " [extra]
        " AND EXISTS (SELECT 1 FROM users WHERE id = " (user_id) " AND totp_enabled_at IS NOT NULL)"
    ]
}

pub(super) fn accepted<'a>(user_id: &'a str, nonce: &'a str) -> Sql<'a> {
    sql![
        "EXISTS (SELECT 1 FROM recovery_codes WHERE user_id = " (user_id) " AND used_by = "
        (nonce) ")"
    ]
}

/// Deletes the user's codes when `guard` holds; with `keep_spent_by`, not the one that
/// request just spent (so its use stays on record).
pub fn discard<'a>(user_id: &'a str, keep_spent_by: Option<&'a str>, guard: Sql<'a>) -> Sql<'a> {
    let keep = match keep_spent_by {
        Some(nonce) => sql![" AND used_by IS NOT "(nonce)],
        None => Sql::default(),
    };
    sql!["DELETE FROM recovery_codes WHERE user_id = " (user_id) [keep] " AND " [guard]]
}

/// Inserts a new set (a JSON array of hashes) when `guard` holds.
pub fn insert_set<'a>(user_id: &'a str, hashes_json: &'a str, guard: Sql<'a>) -> Sql<'a> {
    sql![
        "INSERT INTO recovery_codes (user_id, code_hash) SELECT " (user_id)
        ", value FROM json_each(" (hashes_json) ") WHERE " [guard]
    ]
}
