//! Password reset: a code mailed to the account's address, then spent once together
//! with the new password (and, with 2FA on, a fresh second factor) in one batch.

use serde::Deserialize;

use super::email_codes::RESET_PASSWORD;
use super::factors::{spend_for_action_then, CodeCheck, CodeOutcome};
use super::sessions::revoke_all_statement;
use super::sql::{sql, Sql};
use super::users::{UserRow, ADDRESS_UNCLAIMED, USER_COLUMNS_U};
use super::{rows, verdict, Db, StoreError};

/// How `POST /v1/password/forgot` names the account.
pub enum Lookup<'a> {
    Username(&'a str),
    /// Only an address that was verified finds an account (at most one account can
    /// have verified a given address).
    VerifiedEmail(&'a str),
}

#[derive(Deserialize)]
pub struct Requested {
    pub user_id: String,
    pub email: String,
    pub username: String,
    /// Sealed, while TOTP is on.
    pub totp_secret: Option<String>,
}

/// Stores a reset code for the account, if it exists, has an address and got fewer than
/// `per_hour` codes in the last hour: one statement whatever the outcome, so that an
/// unknown account costs the same as a known one. `None` when nothing was stored.
pub async fn request(
    db: &Db,
    lookup: &Lookup<'_>,
    code_hash: &str,
    now: i64,
    expires_at: i64,
    per_hour: i64,
) -> Result<Option<Requested>, StoreError> {
    let account = match lookup {
        Lookup::Username(name) => sql!["username = "(*name)],
        Lookup::VerifiedEmail(email) => {
            sql!["email = " (*email) " AND email_verified_at IS NOT NULL"]
        }
    };
    let query = sql![
        "INSERT INTO email_codes (code_hash, user_id, purpose, email, created_at, expires_at) "
        "SELECT " (code_hash) ", id, " (RESET_PASSWORD) ", email, " (now) ", " (expires_at)
        " FROM users WHERE " [account] " AND email IS NOT NULL AND (SELECT COUNT(*) FROM "
        "email_codes c WHERE c.user_id = users.id AND c.purpose = " (RESET_PASSWORD)
        " AND c.created_at > " (now - 3600) ") < " (per_hour) " LIMIT 1 "
        "RETURNING user_id, email, (SELECT username FROM users WHERE id = user_id) AS username, "
        "(SELECT CASE WHEN totp_enabled_at IS NOT NULL THEN totp_secret END FROM users "
        "WHERE id = user_id) AS totp_secret"
    ];
    let result = db.run("password_reset.request", &query).await?;
    Ok(rows::<Requested>(&result, "requested reset")?
        .into_iter()
        .next())
}

/// The account a usable reset code belongs to.
pub async fn owner(db: &Db, code_hash: &str, now: i64) -> Result<Option<UserRow>, StoreError> {
    let query = sql![
        "SELECT " {USER_COLUMNS_U} " FROM email_codes c JOIN users u ON u.id = c.user_id WHERE "
        [usable(code_hash, now)]
    ];
    db.first("password_reset.owner", &query).await
}

fn usable(code_hash: &str, now: i64) -> Sql<'_> {
    sql![
        "c.code_hash = " (code_hash) " AND c.purpose = " (RESET_PASSWORD)
        " AND c.used_at IS NULL AND c.expires_at > " (now)
    ]
}

/// What one reset changes.
pub struct Reset<'a> {
    pub user_id: &'a str,
    pub code_hash: &'a str,
    pub new_hash: &'a str,
    /// Throttle rows the reset ends (the password's delay counter and hard cap).
    pub password_keys: &'a [String],
    pub nonce: &'a str,
    pub now: i64,
}

impl<'a> Reset<'a> {
    /// Spends this code, marked with the request's nonce, if it is still usable and
    /// `allowed` holds. Every other statement runs only under that mark, so parallel
    /// redemptions of one code change the account exactly once.
    fn spend(&self, allowed: Sql<'a>) -> Sql<'a> {
        sql![
            "UPDATE email_codes AS c SET used_at = " (self.now) ", used_by = " (self.nonce)
            " WHERE " [usable(self.code_hash, self.now)] " AND c.user_id = " (self.user_id)
            " AND " [allowed]
        ]
    }

    fn spent(&self) -> Sql<'a> {
        sql![
            "EXISTS (SELECT 1 FROM email_codes WHERE code_hash = " (self.code_hash)
            " AND used_by = " (self.nonce) ")"
        ]
    }

    /// The new password, every session ended, every other reset code spent, the
    /// password unlocked; the address is verified if the code went to it (the code
    /// proved it) and no other account has verified it.
    fn actions(&self, allowed: Sql<'a>) -> Vec<Sql<'a>> {
        let spent = self.spent();
        vec![
            self.spend(allowed),
            sql![
                "UPDATE users SET password_hash = " (self.new_hash) ", email_verified_at = "
                "CASE WHEN email_verified_at IS NULL AND email = (SELECT email FROM email_codes "
                "WHERE code_hash = " (self.code_hash) ") AND " {ADDRESS_UNCLAIMED} " THEN " (self.now)
                " ELSE email_verified_at END WHERE id = " (self.user_id) " AND " [spent.clone()]
            ],
            revoke_all_statement(self.user_id, self.now, spent.clone()),
            spend_all(self.user_id, self.now, spent.clone()),
            sql![
                "DELETE FROM throttle WHERE key IN " [Sql::list(self.password_keys)] " AND "
                [spent]
            ],
        ]
    }

    fn verdict(&self) -> Sql<'a> {
        sql!["SELECT " [self.spent()] " AS reset"]
    }
}

#[derive(Deserialize)]
struct Verdict {
    reset: i64,
}

/// Spends every reset code of the account when `guard` holds: a change of its second
/// factor makes earlier codes (and what KV remembers for them) worthless.
pub fn spend_all<'a>(user_id: &'a str, now: i64, guard: Sql<'a>) -> Sql<'a> {
    sql![
        "UPDATE email_codes SET used_at = " (now) " WHERE user_id = " (user_id) " AND purpose = "
        (RESET_PASSWORD) " AND used_at IS NULL AND " [guard]
    ]
}

/// For an account without 2FA (still without it when the batch runs). `true` when the
/// password was reset.
pub async fn without_factor(db: &Db, r: &Reset<'_>) -> Result<bool, StoreError> {
    let no_second_factor = sql![
        "EXISTS (SELECT 1 FROM users WHERE id = " (r.user_id) " AND totp_enabled_at IS NULL)"
    ];
    let mut batch = r.actions(no_second_factor);
    batch.push(r.verdict());
    let results = db.batch("password_reset.without_factor", &batch).await?;
    Ok(verdict::<Verdict>(&results, "reset verdict")?.reset == 1)
}

/// For an account with 2FA: the factor is spent and judged in the same batch, and the
/// code only with it. `Accepted` with `false` when the factor was right but the code
/// was spent meanwhile.
pub async fn with_factor(
    db: &Db,
    c: &CodeCheck<'_>,
    r: &Reset<'_>,
) -> Result<(CodeOutcome, bool), StoreError> {
    let (outcome, after) = spend_for_action_then(
        db,
        c,
        "password_reset.with_factor",
        r.actions(c.accepted()),
        vec![r.verdict()],
    )
    .await?;
    Ok((
        outcome,
        verdict::<Verdict>(&after, "reset verdict")?.reset == 1,
    ))
}
