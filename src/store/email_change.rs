//! Changing the account's address: the new one unverified with a fresh verification
//! code, every code sent to the old one spent, in one batch.

use serde::Deserialize;

use super::email_codes::VERIFY_EMAIL;
use super::factors::{spend_for_action_then, CodeCheck, CodeOutcome};
use super::sql::{sql, Sql};
use super::users::password_unchanged;
use super::{verdict, Db, StoreError};

pub struct EmailChange<'a> {
    pub user_id: &'a str,
    pub email: &'a str,
    /// The verification code for the new address.
    pub code_hash: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
pub struct Changed {
    /// The account now has the new address (unverified).
    pub changed: i64,
    /// Another account has verified it: nothing changed.
    pub taken: i64,
}

impl<'a> EmailChange<'a> {
    /// No other account has verified the address.
    fn free(&self) -> Sql<'a> {
        sql![
            "NOT EXISTS (SELECT 1 FROM users WHERE email = " (self.email)
            " AND email_verified_at IS NOT NULL AND id != " (self.user_id) ")"
        ]
    }

    /// Each statement runs only while `allowed` holds (the caller is proven) and the
    /// address is free; neither changes inside the batch.
    fn actions(&self, allowed: Sql<'a>) -> Vec<Sql<'a>> {
        let guard = sql![[allowed] " AND " [self.free()]];
        vec![
            sql![
                "UPDATE email_codes SET used_at = " (self.now) " WHERE user_id = " (self.user_id)
                " AND used_at IS NULL AND " [guard.clone()]
            ],
            sql![
                "UPDATE users SET email = " (self.email) ", email_verified_at = NULL WHERE id = "
                (self.user_id) " AND " [guard.clone()]
            ],
            sql![
                "INSERT INTO email_codes (code_hash, user_id, purpose, email, created_at, expires_at) SELECT "
                (self.code_hash) ", " (self.user_id) ", " (VERIFY_EMAIL) ", " (self.email) ", "
                (self.now) ", " (self.expires_at) " WHERE " [guard]
            ],
        ]
    }

    fn verdict(&self) -> Sql<'a> {
        sql![
            "SELECT EXISTS (SELECT 1 FROM email_codes WHERE code_hash = " (self.code_hash)
            ") AS changed, NOT " [self.free()] " AS taken"
        ]
    }
}

/// For an account without 2FA: only while its password hash is the one just proven.
pub async fn with_password(
    db: &Db,
    c: &EmailChange<'_>,
    password_hash: &str,
) -> Result<Changed, StoreError> {
    let mut batch = c.actions(password_unchanged(c.user_id, password_hash));
    batch.push(c.verdict());
    let results = db.batch("email_change.with_password", &batch).await?;
    verdict(&results, "email change verdict")
}

/// For an account with 2FA: the fresh factor is spent and judged in the same batch.
pub async fn with_factor(
    db: &Db,
    check: &CodeCheck<'_>,
    c: &EmailChange<'_>,
) -> Result<(CodeOutcome, Changed), StoreError> {
    let (outcome, after) = spend_for_action_then(
        db,
        check,
        "email_change.with_factor",
        c.actions(check.accepted()),
        vec![c.verdict()],
    )
    .await?;
    Ok((outcome, verdict(&after, "email change verdict")?))
}
