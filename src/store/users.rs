//! The `users` table.

use serde::Deserialize;

use super::sessions::NewSession;
use super::{args, internal, rows, Db};
use crate::error::ApiError;

/// Everything the login step needs, in one SELECT.
#[derive(Debug, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub username: String,
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

pub const USER_COLUMNS: &str = "id, username, email, password_hash, totp_secret, totp_enabled_at";

pub async fn by_id(db: &Db, id: &str) -> Result<Option<UserRow>, ApiError> {
    let stmt = db.statement(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
        args![id],
    )?;
    db.first("users.by_id", stmt).await
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
pub async fn insert(db: &Db, user: &NewUser<'_>) -> Result<bool, ApiError> {
    #[derive(Deserialize)]
    struct Inserted {
        #[allow(dead_code)]
        id: String,
    }
    let stmt = db.statement(
        "INSERT INTO users (id, username, email, password_hash, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(username) DO NOTHING RETURNING id",
        args![
            user.id,
            user.username,
            user.email,
            user.password_hash,
            user.now
        ],
    )?;
    let row: Option<Inserted> = db.first("users.insert", stmt).await?;
    Ok(row.is_some())
}

/// A sealed value replaced only if it is still what the caller read, so a concurrent
/// change is never overwritten with stale data.
pub async fn replace_password_hash(
    db: &Db,
    id: &str,
    old: &str,
    new: &str,
) -> Result<(), ApiError> {
    let stmt = db.statement(
        "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2",
        args![id, old, new],
    )?;
    db.run("users.rehash", stmt).await?;
    Ok(())
}

pub async fn replace_totp_secret(db: &Db, id: &str, old: &str, new: &str) -> Result<(), ApiError> {
    let stmt = db.statement(
        "UPDATE users SET totp_secret = ?3 WHERE id = ?1 AND totp_secret = ?2",
        args![id, old, new],
    )?;
    db.run("users.reseal_totp", stmt).await?;
    Ok(())
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
) -> Result<bool, ApiError> {
    let unchanged = "EXISTS (SELECT 1 FROM users WHERE id = ?1 AND password_hash = ?3)";
    let batch = vec![
        super::sessions::revoke_all_statement(db, user_id, now, unchanged, args![old_hash])?,
        super::sessions::insert_statement(
            db,
            session,
            Some((
                "EXISTS (SELECT 1 FROM users WHERE id = ?2 AND password_hash = ?7)",
                args![old_hash],
            )),
        )?,
        db.statement(
            &format!("UPDATE users SET password_hash = ?2 WHERE {unchanged}"),
            args![user_id, new_hash, old_hash],
        )?,
        db.statement(
            "SELECT password_hash = ?2 AS changed FROM users WHERE id = ?1",
            args![user_id, new_hash],
        )?,
    ];
    let results = db.batch("users.replace_password", batch).await?;
    #[derive(Deserialize)]
    struct Changed {
        changed: i64,
    }
    Ok(rows::<Changed>(&results[3], "password verdict")?
        .into_iter()
        .next()
        .is_some_and(|c| c.changed == 1))
}

pub struct EnableTotp<'a> {
    pub user_id: &'a str,
    pub sealed_secret: &'a str,
    pub first_step: u64,
    pub recovery_hashes: &'a [String],
    pub replaced_session: &'a str,
    pub now: i64,
}

/// Turns TOTP on in one transaction: store the secret with its first (consumed) step,
/// replace the recovery codes, and swap the enrolling session for an aal2 one. Every
/// statement after the first is guarded on the first having taken effect, so a second
/// confirm racing this one changes nothing. Returns whether this call enabled TOTP.
pub async fn enable_totp(
    db: &Db,
    e: &EnableTotp<'_>,
    session: &NewSession<'_>,
) -> Result<bool, ApiError> {
    // The sealed secret is unique (random nonce), so it identifies this confirmation.
    let ours = |user: u8, secret: u8, time: u8| {
        format!(
            "EXISTS (SELECT 1 FROM users WHERE id = ?{user} AND totp_secret = ?{secret} \
             AND totp_enabled_at = ?{time})"
        )
    };
    let hashes = serde_json::to_string(e.recovery_hashes).map_err(internal("encode hashes"))?;
    let step = e.first_step as i64;
    let batch = vec![
        db.statement(
            "UPDATE users SET totp_secret = ?2, totp_enabled_at = ?3, totp_last_step = ?4 \
             WHERE id = ?1 AND totp_enabled_at IS NULL",
            args![e.user_id, e.sealed_secret, e.now, step],
        )?,
        db.statement(
            &format!(
                "DELETE FROM recovery_codes WHERE user_id = ?1 AND {}",
                ours(1, 2, 3)
            ),
            args![e.user_id, e.sealed_secret, e.now],
        )?,
        db.statement(
            &format!(
                "INSERT INTO recovery_codes (user_id, code_hash) \
                 SELECT ?1, value FROM json_each(?4) WHERE {}",
                ours(1, 2, 3)
            ),
            args![e.user_id, e.sealed_secret, e.now, hashes.as_str()],
        )?,
        db.statement(
            &format!(
                "UPDATE sessions SET revoked_at = ?3 WHERE id = ?4 AND user_id = ?1 \
                 AND revoked_at IS NULL AND {}",
                ours(1, 2, 3)
            ),
            args![e.user_id, e.sealed_secret, e.now, e.replaced_session],
        )?,
        super::sessions::insert_statement(
            db,
            session,
            Some((&ours(7, 8, 9), args![e.user_id, e.sealed_secret, e.now])),
        )?,
        db.statement(
            &format!("SELECT {} AS won", ours(1, 2, 3)),
            args![e.user_id, e.sealed_secret, e.now],
        )?,
    ];
    let results = db.batch("users.enable_totp", batch).await?;
    #[derive(Deserialize)]
    struct Won {
        won: i64,
    }
    Ok(rows::<Won>(
        results.last().expect("batch ends with a SELECT"),
        "enable verdict",
    )?
    .into_iter()
    .next()
    .is_some_and(|w| w.won == 1))
}

/// What `GET /v1/2fa` shows.
#[derive(Debug, Deserialize)]
pub struct FactorStatus {
    pub totp_enabled_at: Option<i64>,
    pub recovery_codes_remaining: i64,
}

pub async fn factor_status(db: &Db, user_id: &str) -> Result<Option<FactorStatus>, ApiError> {
    let stmt = db.statement(
        "SELECT totp_enabled_at, (SELECT COUNT(*) FROM recovery_codes r \
         WHERE r.user_id = users.id AND r.used_at IS NULL) AS recovery_codes_remaining \
         FROM users WHERE id = ?1",
        args![user_id],
    )?;
    db.first("users.factor_status", stmt).await
}
