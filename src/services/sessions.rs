//! The caller's sessions: the list, ending one, ending all the others.

use super::{Ctx, ServiceError};
use crate::domain::events::EventKind;
use crate::domain::opaque::SessionId;
use crate::domain::session::Authentication;
use crate::domain::tokens::AccessClaims;
use crate::domain::user_agent;
use crate::store::sessions;

/// The most the list shows; a user with more has stale sessions to end anyway.
const LIST_LIMIT: i64 = 100;

pub struct SessionView {
    pub id: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub ip: Option<String>,
    pub device: String,
    pub authentication: Authentication,
    pub current: bool,
}

pub async fn list(ctx: &Ctx, claims: &AccessClaims) -> Result<Vec<SessionView>, ServiceError> {
    let floors = ctx.config()?.aal2.floors(ctx.now);
    let rows = sessions::list(&ctx.db()?, &claims.sub, &claims.sid, ctx.now, LIST_LIMIT).await?;
    // A token whose session has ended sees nothing (the caller's live session comes first).
    if rows.first().is_none_or(|r| r.id != claims.sid) {
        return Err(ServiceError::InvalidToken);
    }
    let mut views = Vec::with_capacity(rows.len());
    for r in rows {
        let stored = Authentication::from_stored(&r.authentication).ok_or_else(|| {
            ServiceError::Internal(format!("session {} has unreadable authentication", r.id))
        })?;
        let last_used_at = r.last_used_at.unwrap_or(r.created_at);
        views.push(SessionView {
            current: r.id == claims.sid,
            authentication: floors.apply(stored, last_used_at),
            device: r.device.unwrap_or_else(|| user_agent::UNKNOWN.to_owned()),
            id: r.id,
            created_at: r.created_at,
            last_used_at,
            ip: r.ip,
        });
    }
    // The others are in order already (most recently used first); the caller's own
    // goes to its place among them.
    let mine = views.remove(0);
    let at = views
        .iter()
        .position(|v| {
            mine.last_used_at > v.last_used_at
                || (mine.last_used_at == v.last_used_at && mine.id < v.id)
        })
        .unwrap_or(views.len());
    views.insert(at, mine);
    Ok(views)
}

/// Ends one of the caller's sessions (`Some`: their own included, that is a logout) or
/// every one but the caller's (`None`). Their refresh tokens
/// stop working at once; their access tokens at `exp`, or at once on the routes that
/// check the session.
pub async fn end(
    ctx: &Ctx,
    claims: &AccessClaims,
    which: Option<&SessionId>,
) -> Result<(), ServiceError> {
    let target = which.map(SessionId::as_str);
    let ended = sessions::end(&ctx.db()?, &claims.sub, &claims.sid, target, ctx.now).await?;
    if !ended.caller_live {
        return Err(ServiceError::InvalidToken);
    }
    // Another user's id, an ended session or garbage: all look the same.
    if ended.ended == 0 && which.is_some() {
        return Err(ServiceError::SessionNotFound);
    }
    if ended.ended > 0 {
        ctx.event_with(
            EventKind::SessionsEnded,
            &claims.sub,
            ended.ended.to_string(),
        );
    }
    Ok(())
}
