//! The `email_codes` table: single-use codes sent by email, stored as SHA-256.

use serde::Deserialize;

use super::sql::{sql, Sql};
use super::users::ADDRESS_UNCLAIMED;
use super::{rows, Db, StoreError};

pub const VERIFY_EMAIL: &str = "verify_email";
pub const RESET_PASSWORD: &str = "reset_password";

pub struct NewEmailCode<'a> {
    pub code_hash: &'a str,
    pub user_id: &'a str,
    pub purpose: &'static str,
    pub email: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

/// Inserted only while the user exists (their row may be inserted by the same batch).
pub fn insert_statement<'a>(c: &NewEmailCode<'a>) -> Sql<'a> {
    sql![
        "INSERT INTO email_codes (code_hash, user_id, purpose, email, created_at, expires_at) SELECT "
        (c.code_hash) ", " (c.user_id) ", " (c.purpose) ", " (c.email) ", " (c.now) ", " (c.expires_at)
        " WHERE EXISTS (SELECT 1 FROM users WHERE id = " (c.user_id) ")"
    ]
}

/// An unspent, unexpired code of `purpose`, as a SQL condition on `email_codes`.
fn usable<'a>(code_hash: &'a str, purpose: &'static str, now: i64) -> Sql<'a> {
    sql![
        "code_hash = " (code_hash) " AND purpose = " (purpose)
        " AND used_at IS NULL AND expires_at > " (now)
    ]
}

#[derive(Deserialize)]
pub struct Spent {
    pub user_id: String,
}

/// Spends a verification code and marks the address it was sent to as verified, if it
/// is still the user's address and no other account has verified it, in one batch.
/// `None` for an unknown, spent or expired code, and when the address was not verified.
pub async fn verify_email(db: &Db, code_hash: &str, now: i64) -> Result<Option<Spent>, StoreError> {
    let batch = [
        sql![
            "UPDATE users SET email_verified_at = " (now) " WHERE email_verified_at IS NULL AND "
            "(id, email) IN (SELECT user_id, email FROM email_codes WHERE "
            [usable(code_hash, VERIFY_EMAIL, now)] ") AND " {ADDRESS_UNCLAIMED}
        ],
        sql![
            "UPDATE email_codes SET used_at = " (now) " WHERE " [usable(code_hash, VERIFY_EMAIL, now)]
            " AND EXISTS (SELECT 1 FROM users WHERE id = email_codes.user_id AND email = "
            "email_codes.email AND email_verified_at IS NOT NULL) RETURNING user_id"
        ],
    ];
    let results = db.batch("email_codes.verify", &batch).await?;
    Ok(rows::<Spent>(&results[1], "spent code")?.into_iter().next())
}
