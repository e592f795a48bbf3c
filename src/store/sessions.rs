//! The `sessions` table: one row per refresh-token family.

use serde::Deserialize;

use super::sql::{sql, Sql};
use super::{changes, rows, Db, StoreError};
use crate::domain::session::Aal2Floors;

pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub refresh_hash: &'a str,
    pub authentication: &'a str,
    pub now: i64,
    pub expires_at: i64,
    pub ip: Option<&'a str>,
    /// A short User-Agent label (domain::user_agent).
    pub device: &'a str,
}

/// The INSERT as a statement for a batch. With a `guard` the row is inserted only when
/// the guard holds inside the same transaction: that is how a session is created
/// exactly when a code was consumed.
pub fn insert_statement<'a>(s: &NewSession<'a>, guard: Option<Sql<'a>>) -> Sql<'a> {
    let values = sql![
        (s.id) ", " (s.user_id) ", " (s.refresh_hash) ", " (s.authentication) ", "
        (s.now) ", " (s.expires_at) ", " (s.now) ", " (s.ip) ", " (s.device)
    ];
    let insert = sql![
        "INSERT INTO sessions (id, user_id, refresh_hash, authentication, created_at, expires_at, last_used_at, ip, device) "
    ];
    match guard {
        None => sql![[insert] "VALUES (" [values] ")"],
        Some(guard) => sql![[insert] "SELECT " [values] " WHERE " [guard]],
    }
}

pub async fn insert(db: &Db, s: &NewSession<'_>) -> Result<(), StoreError> {
    db.run("sessions.insert", &insert_statement(s, None))
        .await?;
    Ok(())
}

/// A session joined with its user: what a refreshed access token is made of.
#[derive(Debug, Deserialize)]
pub struct RefreshedSession {
    pub id: String,
    pub user_id: String,
    pub authentication: String,
    pub username: String,
    /// Verified only.
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
/// 2. if the session's second factor no longer counts (older than the aal2 floors:
///    `domain::session::Aal2Lifetime`), drop it from the session for good, so the
///    session goes on at aal1;
/// 3. retire the presented token and install the new one, if the session is live, and
///    record the use;
/// 4. read back the session under the new token.
pub async fn rotate(
    db: &Db,
    old_hash: &str,
    new_hash: &str,
    now: i64,
    aal2: Aal2Floors,
    ip: Option<&str>,
) -> Result<Rotation, StoreError> {
    let batch = [
        sql![
            "UPDATE sessions SET authentication = json_set(authentication, '$.second_factor', json('null')) "
            "WHERE refresh_hash = " (old_hash) " AND revoked_at IS NULL AND expires_at > " (now)
            " AND json_extract(authentication, '$.second_factor') IS NOT NULL"
            " AND (json_extract(authentication, '$.auth_time') < " (aal2.auth_time)
            " OR COALESCE(last_used_at, rotated_at, created_at) < " (aal2.last_used_at) ")"
        ],
        sql![
            "UPDATE sessions SET revoked_at = " (now) " WHERE revoked_at IS NULL AND id = "
            "(SELECT session_id FROM retired_refresh_tokens WHERE hash = " (old_hash) ")"
        ],
        sql![
            "SELECT s.user_id FROM retired_refresh_tokens r JOIN sessions s ON s.id = r.session_id "
            "WHERE r.hash = " (old_hash)
        ],
        sql![
            "INSERT INTO retired_refresh_tokens (hash, session_id, retired_at) "
            "SELECT refresh_hash, id, " (now) " FROM sessions WHERE refresh_hash = " (old_hash)
            " AND revoked_at IS NULL AND expires_at > " (now)
        ],
        sql![
            "UPDATE sessions SET refresh_hash = " (new_hash) ", rotated_at = " (now)
            ", last_used_at = " (now) ", ip = COALESCE(" (ip) ", ip) WHERE refresh_hash = " (old_hash) " AND revoked_at IS NULL AND expires_at > " (now)
        ],
        sql![
            "SELECT s.id, s.user_id, s.authentication, u.username, CASE WHEN u.email_verified_at IS NOT NULL THEN u.email END AS email, u.totp_enabled_at "
            "FROM sessions s JOIN users u ON u.id = s.user_id "
            "WHERE s.refresh_hash = " (new_hash) " AND s.revoked_at IS NULL"
        ],
    ];
    let results = db.batch("sessions.rotate", &batch).await?;
    #[derive(Deserialize)]
    struct Owner {
        user_id: String,
    }
    let reuse_by = if changes(&results[1]) > 0 {
        rows::<Owner>(&results[2], "reuse owner")?
            .into_iter()
            .next()
            .map(|o| o.user_id)
    } else {
        None
    };
    Ok(Rotation {
        session: rows::<RefreshedSession>(&results[5], "rotated session")?
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
) -> Result<(), StoreError> {
    let stmt = sql![
        "UPDATE sessions SET revoked_at = " (now) " WHERE user_id = " (user_id)
        " AND revoked_at IS NULL AND (id = " (session_id) " OR refresh_hash = " (refresh_hash) ")"
    ];
    db.run("sessions.revoke", &stmt).await?;
    Ok(())
}

/// Every live session of the user, for a batch, when `guard` holds.
/// True while session `session_id` of `user_id` can still be used: not revoked, not
/// expired. Writes on behalf of an access token check it, so a session that logged out
/// or was ended cannot keep changing the account for the rest of its token's life.
pub fn live<'a>(session_id: &'a str, user_id: &'a str, now: i64) -> Sql<'a> {
    sql![
        "EXISTS (SELECT 1 FROM sessions WHERE id = " (session_id) " AND user_id = " (user_id)
        " AND revoked_at IS NULL AND expires_at > " (now) ")"
    ]
}

pub fn revoke_all_statement<'a>(user_id: &'a str, now: i64, guard: Sql<'a>) -> Sql<'a> {
    sql![
        "UPDATE sessions SET revoked_at = " (now) " WHERE user_id = " (user_id)
        " AND revoked_at IS NULL AND " [guard]
    ]
}

/// A live session as the sessions list shows it.
#[derive(Debug, Deserialize)]
pub struct ListedSession {
    pub id: String,
    pub authentication: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub ip: Option<String>,
    pub device: Option<String>,
}

/// The user's live sessions (at most `limit`): `sid`'s first when it is live, so that
/// its absence means it has ended however many others there are; then the most
/// recently used.
pub async fn list(
    db: &Db,
    user_id: &str,
    sid: &str,
    now: i64,
    limit: i64,
) -> Result<Vec<ListedSession>, StoreError> {
    let stmt = sql![
        "SELECT id, authentication, created_at, last_used_at, ip, device FROM sessions "
        "WHERE user_id = " (user_id) " AND revoked_at IS NULL AND expires_at > " (now)
        " ORDER BY id = " (sid) " DESC, COALESCE(last_used_at, created_at) DESC, id LIMIT " (limit)
    ];
    db.all("sessions.list", &stmt).await
}

/// What ending sessions did: whether the caller's own session was live (if not, it
/// changed nothing) and how many sessions it ended.
pub struct Ended {
    pub caller_live: bool,
    pub ended: usize,
}

/// Ends session `target` of the user (`None`: every session but the caller's), in one
/// batch, only while the caller's session `sid` is live.
pub async fn end(
    db: &Db,
    user_id: &str,
    sid: &str,
    target: Option<&str>,
    now: i64,
) -> Result<Ended, StoreError> {
    let which = match target {
        Some(id) => sql![" AND id = "(id)],
        None => sql![" AND id != "(sid)],
    };
    let batch = [
        // A no-op write that tells, by its change count, whether the caller's own session
        // is live (cheaper to read back than a row).
        sql![
            "UPDATE sessions SET revoked_at = NULL WHERE id = " (sid) " AND user_id = " (user_id)
            " AND revoked_at IS NULL AND expires_at > " (now)
        ],
        sql![
            "UPDATE sessions SET revoked_at = " (now) " WHERE user_id = " (user_id)
            " AND revoked_at IS NULL AND expires_at > " (now) [which]
            " AND " [live(sid, user_id, now)]
        ],
    ];
    let results = db.batch("sessions.end", &batch).await?;
    Ok(Ended {
        caller_live: changes(&results[0]) == 1,
        ended: changes(&results[1]),
    })
}
