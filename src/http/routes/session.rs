//! POST /v1/token/refresh, POST /v1/logout, GET /v1/me.

use worker::Request;

use super::Handled;
use crate::api::requests::{LogoutRequest, RefreshRequest};
use crate::api::responses::Me;
use crate::domain::opaque::RefreshToken;
use crate::error::ApiError;
use crate::http::{render, request, Reply};
use crate::services::{session, Ctx, Limit};

pub async fn refresh(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    ctx.rate_limit(Limit::Refresh).await?;
    let input: RefreshRequest = request::json(&mut req).await?;
    let old = RefreshToken::parse(&input.refresh_token).ok_or(ApiError::InvalidGrant)?;
    let issued = session::refresh(ctx, &old).await?;
    Ok((
        Reply::ok(&render::authenticated(&issued)),
        Some(issued.user_id),
    ))
}

pub async fn logout(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    let claims = request::bearer(&req, ctx)?;
    let input: LogoutRequest = request::json(&mut req).await?;
    let refresh = match input.refresh_token.as_deref() {
        None => None,
        Some(raw) => Some(
            RefreshToken::parse(raw)
                .ok_or_else(|| ApiError::InvalidRequest("refresh_token is malformed".into()))?,
        ),
    };
    session::logout(ctx, &claims, refresh.as_ref()).await?;
    Ok((Reply::no_content(), Some(claims.sub)))
}

/// Answered from the verified token alone: no storage call.
pub fn me(req: &Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    let c = request::bearer(req, ctx)?;
    let body = Me {
        user_id: c.sub,
        username: c.preferred_username,
        email_verified: c.email.is_some() && c.email_verified == Some(true),
        email: c.email,
        mfa_enabled: c.mfa_enabled,
        amr: c.amr,
        aal: c.aal,
        auth_time: c.auth_time,
    };
    let reply = Reply::ok(&body);
    Ok((reply, Some(body.user_id)))
}
