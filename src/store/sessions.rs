//! The `sessions` table: one row per refresh-token family.

use serde::Deserialize;
use worker::D1PreparedStatement;

use super::{args, changes, rows, Arg, Db};
use crate::error::ApiError;

pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub refresh_hash: &'a str,
    pub authentication: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

const INSERT: &str =
    "INSERT INTO sessions (id, user_id, refresh_hash, authentication, created_at, expires_at) ";

/// The INSERT as a statement for a batch. With a `guard` (an SQL condition whose
/// parameters start at ?7) the row is inserted only when the guard holds inside the
/// same transaction: that is how a session is created exactly when a code was consumed.
pub fn insert_statement(
    db: &Db,
    s: &NewSession<'_>,
    guard: Option<(&str, &[Arg<'_>])>,
) -> Result<D1PreparedStatement, ApiError> {
    let mut all: Vec<Arg<'_>> = vec![
        s.id.into(),
        s.user_id.into(),
        s.refresh_hash.into(),
        s.authentication.into(),
        s.now.into(),
        s.expires_at.into(),
    ];
    let sql = match guard {
        None => format!("{INSERT} VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        Some((condition, extra)) => {
            all.extend_from_slice(extra);
            format!("{INSERT} SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE {condition}")
        }
    };
    db.statement(&sql, &all)
}

pub async fn insert(db: &Db, s: &NewSession<'_>) -> Result<(), ApiError> {
    let stmt = insert_statement(db, s, None)?;
    db.run("sessions.insert", stmt).await?;
    Ok(())
}

/// A session joined with its user: what a refreshed access token is made of.
#[derive(Debug, Deserialize)]
pub struct RefreshedSession {
    pub id: String,
    pub user_id: String,
    pub authentication: String,
    pub username: String,
    pub email: Option<String>,
    pub totp_enabled_at: Option<i64>,
}

pub struct Rotation {
    pub session: Option<RefreshedSession>,
    /// The owner of a replayed token, when a replay revoked its session.
    pub reuse_by: Option<String>,
}

/// Rotates a refresh token in one batch (one transaction):
/// 1. if the presented token was already rotated away, revoke its whole session
///    (a replayed token means a copy exists somewhere it should not);
/// 2. retire the presented token and install the new one, if the session is live;
/// 3. read back the session under the new token.
pub async fn rotate(
    db: &Db,
    old_hash: &str,
    new_hash: &str,
    now: i64,
) -> Result<Rotation, ApiError> {
    let revoke_on_reuse = db.statement(
        "UPDATE sessions SET revoked_at = ?2 WHERE revoked_at IS NULL AND id = \
         (SELECT session_id FROM retired_refresh_tokens WHERE hash = ?1)",
        args![old_hash, now],
    )?;
    let reuse_owner = db.statement(
        "SELECT s.user_id FROM retired_refresh_tokens r JOIN sessions s ON s.id = r.session_id \
         WHERE r.hash = ?1",
        args![old_hash],
    )?;
    let retire = db.statement(
        "INSERT INTO retired_refresh_tokens (hash, session_id, retired_at) \
         SELECT refresh_hash, id, ?2 FROM sessions \
         WHERE refresh_hash = ?1 AND revoked_at IS NULL AND expires_at > ?2",
        args![old_hash, now],
    )?;
    let rotate = db.statement(
        "UPDATE sessions SET refresh_hash = ?2, rotated_at = ?3 \
         WHERE refresh_hash = ?1 AND revoked_at IS NULL AND expires_at > ?3",
        args![old_hash, new_hash, now],
    )?;
    let read = db.statement(
        "SELECT s.id, s.user_id, s.authentication, u.username, u.email, u.totp_enabled_at \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.refresh_hash = ?1 AND s.revoked_at IS NULL",
        args![new_hash],
    )?;
    let results = db
        .batch(
            "sessions.rotate",
            vec![revoke_on_reuse, reuse_owner, retire, rotate, read],
        )
        .await?;
    #[derive(Deserialize)]
    struct Owner {
        user_id: String,
    }
    let reuse_by = if changes(&results[0]) > 0 {
        rows::<Owner>(&results[1], "reuse owner")?
            .into_iter()
            .next()
            .map(|o| o.user_id)
    } else {
        None
    };
    Ok(Rotation {
        session: rows::<RefreshedSession>(&results[4], "rotated session")?
            .into_iter()
            .next(),
        reuse_by,
    })
}

/// Revokes the caller's session and, if given, the session of a refresh token that
/// belongs to the same user.
pub async fn revoke(
    db: &Db,
    user_id: &str,
    session_id: &str,
    refresh_hash: Option<&str>,
    now: i64,
) -> Result<(), ApiError> {
    let stmt = db.statement(
        "UPDATE sessions SET revoked_at = ?4 WHERE user_id = ?1 AND revoked_at IS NULL \
         AND (id = ?2 OR refresh_hash = ?3)",
        args![user_id, session_id, refresh_hash, now],
    )?;
    db.run("sessions.revoke", stmt).await?;
    Ok(())
}

/// Every live session of the user, for a batch; `guard` as in `insert_statement`
/// but with parameters from ?3.
pub fn revoke_all_statement(
    db: &Db,
    user_id: &str,
    now: i64,
    guard: &str,
    guard_args: &[Arg<'_>],
) -> Result<D1PreparedStatement, ApiError> {
    let mut all: Vec<Arg<'_>> = vec![user_id.into(), now.into()];
    all.extend_from_slice(guard_args);
    db.statement(
        &format!(
            "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL AND {guard}"
        ),
        &all,
    )
}
