//! A running session: refresh-token rotation and logout.

use super::grant::{issue, Issued, Profile};
use super::{Ctx, ServiceError};
use crate::domain::events::EventKind;
use crate::domain::opaque::RefreshToken;
use crate::domain::session::Authentication;
use crate::domain::tokens::AccessClaims;
use crate::store::sessions;

/// Rotates the refresh token (a replayed one revokes its whole session) and issues new
/// tokens carrying the session's original authentication facts.
pub async fn refresh(ctx: &Ctx, old: &RefreshToken) -> Result<Issued, ServiceError> {
    let config = ctx.config()?;
    let new = RefreshToken::generate();
    let rotation = sessions::rotate(
        &ctx.db()?,
        &old.hash(),
        &new.hash(),
        ctx.now,
        config.aal2.floors(ctx.now),
        ctx.ip.as_deref(),
    )
    .await?;
    if let Some(owner) = &rotation.reuse_by {
        ctx.event(EventKind::RefreshReuseDetected, owner);
    }
    let session = rotation.session.ok_or(ServiceError::InvalidGrant)?;
    let authentication = Authentication::from_stored(&session.authentication).ok_or_else(|| {
        ServiceError::Internal(format!(
            "session {} has unreadable authentication",
            session.id
        ))
    })?;
    issue(
        &config,
        &Profile {
            user_id: &session.user_id,
            username: &session.username,
            email: session.email.as_deref(),
            mfa_enabled: session.totp_enabled_at.is_some(),
        },
        &session.id,
        &authentication,
        &new,
        ctx.now,
    )
    .await
}

/// Ends the caller's session and, if given, the session of one of their refresh tokens.
pub async fn logout(
    ctx: &Ctx,
    claims: &AccessClaims,
    refresh: Option<&RefreshToken>,
) -> Result<(), ServiceError> {
    let refresh_hash = refresh.map(RefreshToken::hash);
    sessions::revoke(
        &ctx.db()?,
        &claims.sub,
        &claims.sid,
        refresh_hash.as_deref(),
        ctx.now,
    )
    .await?;
    Ok(())
}
