//! POST /v1/token/refresh, POST /v1/logout, GET /v1/me.

use serde::Deserialize;
use serde_json::json;
use worker::Request;

use super::grant::{authenticated, Profile};
use super::Handled;
use crate::domain::events::EventKind;
use crate::domain::opaque::RefreshToken;
use crate::domain::session::Authentication;
use crate::error::ApiError;
use crate::http::{body, App, Reply};
use crate::store::sessions;

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

pub async fn refresh(mut req: Request, app: &App) -> Result<Handled, ApiError> {
    let input: RefreshBody = body::json(&mut req).await?;
    let old = RefreshToken::parse(&input.refresh_token).ok_or(ApiError::InvalidGrant)?;
    let config = app.config()?;
    let new = RefreshToken::generate();
    let rotation = sessions::rotate(&app.db()?, &old.hash(), &new.hash(), app.now).await?;
    if let Some(owner) = &rotation.reuse_by {
        app.event(EventKind::RefreshReuseDetected, owner);
    }
    let session = rotation.session.ok_or(ApiError::InvalidGrant)?;
    let authentication = Authentication::from_stored(&session.authentication).ok_or_else(|| {
        ApiError::Internal(format!(
            "session {} has unreadable authentication",
            session.id
        ))
    })?;
    let body = authenticated(
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
        app.now,
    );
    Ok((Reply::ok(body), Some(session.user_id)))
}

#[derive(Deserialize)]
struct LogoutBody {
    refresh_token: Option<String>,
}

pub async fn logout(mut req: Request, app: &App) -> Result<Handled, ApiError> {
    let claims = body::bearer(&req, app)?;
    let input: LogoutBody = body::json(&mut req).await?;
    let refresh_hash = match input.refresh_token.as_deref() {
        None => None,
        Some(raw) => Some(
            RefreshToken::parse(raw)
                .ok_or_else(|| ApiError::InvalidRequest("refresh_token is malformed".into()))?
                .hash(),
        ),
    };
    sessions::revoke(
        &app.db()?,
        &claims.sub,
        &claims.sid,
        refresh_hash.as_deref(),
        app.now,
    )
    .await?;
    Ok((Reply::no_content(), Some(claims.sub)))
}

/// Answered from the verified token alone: no storage call.
pub fn me(req: &Request, app: &App) -> Result<Handled, ApiError> {
    let c = body::bearer(req, app)?;
    let body = json!({
        "user_id": c.sub,
        "username": c.preferred_username,
        "email": c.email,
        "mfa_enabled": c.mfa_enabled,
        "amr": c.amr,
        "aal": c.aal,
        "auth_time": c.auth_time,
    });
    Ok((Reply::ok(body), Some(c.sub)))
}
