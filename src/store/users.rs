//! The `users` table.

use serde::Deserialize;

use super::email_codes::{self, NewEmailCode};
use super::sessions::{insert_statement, live, revoke_all_statement, NewSession};
use super::sql::{sql, Sql};
use super::{changes, rows, Db, StoreError};

/// Everything the login step needs, in one SELECT.
#[derive(Debug, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    /// Only a verified address: tokens may carry nothing else.
    pub email: Option<String>,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_enabled_at: Option<i64>,
}

impl UserRow {
    pub fn totp_enabled(&self) -> bool {
        self.totp_enabled_at.is_some() && self.totp_secret.is_some()
    }
}

/// The `UserRow` columns of `users` (`email` only when verified), unqualified and as
/// `u.` for joins. Written out: one string each costs less WASM than assembling them.
pub const USER_COLUMNS: &str = "CASE WHEN email_verified_at IS NOT NULL THEN email END AS email, \
     id, username, password_hash, totp_secret, totp_enabled_at";
pub const USER_COLUMNS_U: &str =
    "CASE WHEN u.email_verified_at IS NOT NULL THEN u.email END AS email, \
     u.id, u.username, u.password_hash, u.totp_secret, u.totp_enabled_at";

/// The account's password hash is still `hash` (the one a caller just proved).
pub fn password_unchanged<'a>(id: &'a str, hash: &'a str) -> Sql<'a> {
    sql!["EXISTS (SELECT 1 FROM users WHERE id = " (id) " AND password_hash = " (hash) ")"]
}

/// For an UPDATE of `users`: no account has verified the row's address yet. At most one
/// account may hold a verified address (forgot-by-email finds it).
pub const ADDRESS_UNCLAIMED: &str =
    "NOT EXISTS (SELECT 1 FROM users o WHERE o.email = users.email AND o.email_verified_at IS NOT NULL)";

/// The caller's row, only while the session of their access token is live (`None`
/// otherwise, as for an unknown user).
pub async fn caller(
    db: &Db,
    id: &str,
    session_id: &str,
    now: i64,
) -> Result<Option<UserRow>, StoreError> {
    let query = sql![
        "SELECT " {USER_COLUMNS} " FROM users WHERE id = " (id) " AND "
        [live(session_id, id, now)]
    ];
    db.first("users.caller", &query).await
}

pub struct NewUser<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub password_hash: &'a str,
    pub now: i64,
}

/// Inserts the user; `false` when the username is taken (decided by the UNIQUE index,
/// so two simultaneous registrations cannot both win).
/// With `verify`, also stores the code that will prove the address, in the same batch.
pub async fn insert(
    db: &Db,
    user: &NewUser<'_>,
    verify: Option<&NewEmailCode<'_>>,
) -> Result<bool, StoreError> {
    let mut batch = vec![sql![
        "INSERT INTO users (id, username, email, password_hash, created_at) VALUES ("
        (user.id) ", " (user.username) ", " (user.email) ", " (user.password_hash) ", "
        (user.now) ") ON CONFLICT(username) DO NOTHING"
    ]];
    if let Some(code) = verify {
        batch.push(email_codes::insert_statement(code));
    }
    let results = db.batch("users.insert", &batch).await?;
    Ok(changes(&results[0]) == 1)
}

/// A stored value replaced only if it is still what the caller read, so a concurrent
/// change is never overwritten with stale data.
pub async fn replace_password_hash(
    db: &Db,
    id: &str,
    old: &str,
    new: &str,
) -> Result<(), StoreError> {
    let stmt = sql![
        "UPDATE users SET password_hash = " (new) " WHERE id = " (id) " AND password_hash = " (old)
    ];
    db.run("users.rehash", &stmt).await?;
    Ok(())
}

pub async fn replace_totp_secret(
    db: &Db,
    id: &str,
    old: &str,
    new: &str,
) -> Result<(), StoreError> {
    db.run("users.reseal_totp", &reseal_totp_statement(id, old, new))
        .await?;
    Ok(())
}

/// Replaces the TOTP secret only where it is still `old`.
pub fn reseal_totp_statement<'a>(id: &'a str, old: &'a str, new: &'a str) -> Sql<'a> {
    sql!["UPDATE users SET totp_secret = " (new) " WHERE id = " (id) " AND totp_secret = " (old)]
}

/// Changes the password of a user without a second factor, ends every session and
/// starts `session`, all only if the stored hash is still `old_hash` (the one the
/// caller just verified): of two concurrent changes, one wins and the other changes
/// nothing. Returns whether this call changed it.
pub async fn replace_password(
    db: &Db,
    user_id: &str,
    old_hash: &str,
    new_hash: &str,
    now: i64,
    session: &NewSession<'_>,
) -> Result<bool, StoreError> {
    let unchanged = password_unchanged(user_id, old_hash);
    let batch = [
        revoke_all_statement(user_id, now, unchanged.clone()),
        insert_statement(session, Some(unchanged.clone())),
        // Keyed on the row itself: the EXISTS guard above is true for every row of the table.
        sql!["UPDATE users SET password_hash = " (new_hash) " WHERE id = " (user_id) " AND password_hash = " (old_hash)],
        sql!["SELECT password_hash = " (new_hash) " AS changed FROM users WHERE id = " (user_id)],
    ];
    let results = db.batch("users.replace_password", &batch).await?;
    #[derive(Deserialize)]
    struct Changed {
        changed: i64,
    }
    Ok(rows::<Changed>(&results[3], "password verdict")?
        .into_iter()
        .next()
        .is_some_and(|c| c.changed == 1))
}

/// What `GET /v1/2fa` shows.
#[derive(Debug, Deserialize)]
pub struct FactorStatus {
    pub totp_enabled_at: Option<i64>,
    pub recovery_codes_remaining: i64,
}

pub async fn factor_status(db: &Db, user_id: &str) -> Result<Option<FactorStatus>, StoreError> {
    let query = sql![
        "SELECT totp_enabled_at, (SELECT COUNT(*) FROM recovery_codes r "
        "WHERE r.user_id = users.id AND r.used_at IS NULL) AS recovery_codes_remaining "
        "FROM users WHERE id = " (user_id)
    ];
    db.first("users.factor_status", &query).await
}
