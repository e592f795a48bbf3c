//! GET /v1/sessions, DELETE /v1/sessions/{id}, POST /v1/sessions/revoke-others.

use worker::Request;

use super::Handled;
use crate::api::responses::{SessionInfo, Sessions};
use crate::domain::opaque::SessionId;
use crate::error::ApiError;
use crate::http::{request, Reply};
use crate::services::{sessions, Ctx};

pub async fn list(req: &Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    let claims = request::bearer(req, ctx)?;
    let body = Sessions {
        sessions: sessions::list(ctx, &claims)
            .await?
            .into_iter()
            .map(|s| SessionInfo {
                amr: s.authentication.amr(),
                aal: s.authentication.aal().to_owned(),
                id: s.id,
                created_at: s.created_at,
                last_used_at: s.last_used_at,
                ip: s.ip,
                device: s.device,
                current: s.current,
            })
            .collect(),
    };
    Ok((Reply::ok(&body), Some(claims.sub)))
}

/// `DELETE /v1/sessions/{id}` (`Some(id)`) or `POST /v1/sessions/revoke-others`.
pub async fn end(req: &Request, ctx: &Ctx, id: Option<&str>) -> Result<Handled, ApiError> {
    let claims = request::bearer(req, ctx)?;
    let id = match id {
        // Not an id we could have made: no need to ask D1.
        Some(raw) => Some(SessionId::parse(raw).ok_or(ApiError::SessionNotFound)?),
        None => None,
    };
    sessions::end(ctx, &claims, id.as_ref()).await?;
    Ok((Reply::no_content(), Some(claims.sub)))
}
