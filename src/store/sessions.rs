//! The `sessions` table: one row per refresh-token family.

use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

use super::{args, internal, statement, Arg};
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
    db: &D1Database,
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
    statement(db, &sql, &all)
}

pub async fn insert(db: &D1Database, s: &NewSession<'_>) -> Result<(), ApiError> {
    insert_statement(db, s, None)?
        .run()
        .await
        .map_err(internal("insert session"))?;
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

/// Rotates a refresh token in one batch (one transaction):
/// 1. if the presented token was already rotated away, revoke its whole session
///    (a replayed token means a copy exists somewhere it should not);
/// 2. retire the presented token and install the new one, if the session is live;
/// 3. read back the session under the new token.
///
/// Returns `None` when the token is unknown, expired, revoked or replayed.
pub async fn rotate(
    db: &D1Database,
    old_hash: &str,
    new_hash: &str,
    now: i64,
) -> Result<(Option<RefreshedSession>, bool), ApiError> {
    let revoke_on_reuse = statement(
        db,
        "UPDATE sessions SET revoked_at = ?2 WHERE revoked_at IS NULL AND id = \
         (SELECT session_id FROM retired_refresh_tokens WHERE hash = ?1)",
        args![old_hash, now],
    )?;
    let retire = statement(
        db,
        "INSERT INTO retired_refresh_tokens (hash, session_id, retired_at) \
         SELECT refresh_hash, id, ?2 FROM sessions \
         WHERE refresh_hash = ?1 AND revoked_at IS NULL AND expires_at > ?2",
        args![old_hash, now],
    )?;
    let rotate = statement(
        db,
        "UPDATE sessions SET refresh_hash = ?2, rotated_at = ?3 \
         WHERE refresh_hash = ?1 AND revoked_at IS NULL AND expires_at > ?3",
        args![old_hash, new_hash, now],
    )?;
    let read = statement(
        db,
        "SELECT s.id, s.user_id, s.authentication, u.username, u.email, u.totp_enabled_at \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.refresh_hash = ?1 AND s.revoked_at IS NULL",
        args![new_hash],
    )?;
    let results = db
        .batch(vec![revoke_on_reuse, retire, rotate, read])
        .await
        .map_err(internal("rotate refresh token"))?;
    let reuse_detected = results[0]
        .meta()
        .ok()
        .flatten()
        .and_then(|m| m.changes)
        .unwrap_or(0)
        > 0;
    let session = results[3]
        .results::<RefreshedSession>()
        .map_err(internal("read rotated session"))?
        .into_iter()
        .next();
    Ok((session, reuse_detected))
}

/// Revokes the caller's session and, if given, the session of a refresh token that
/// belongs to the same user.
pub async fn revoke(
    db: &D1Database,
    user_id: &str,
    session_id: &str,
    refresh_hash: Option<&str>,
    now: i64,
) -> Result<(), ApiError> {
    statement(
        db,
        "UPDATE sessions SET revoked_at = ?4 WHERE user_id = ?1 AND revoked_at IS NULL \
         AND (id = ?2 OR refresh_hash = ?3)",
        args![user_id, session_id, refresh_hash, now],
    )?
    .run()
    .await
    .map_err(internal("revoke session"))?;
    Ok(())
}
