//! POST /v1/register

use worker::Request;

use super::Handled;
use crate::api::requests::RegisterRequest;
use crate::api::responses::Registered;
use crate::domain::password::{Password, PasswordUse};
use crate::domain::username::Username;
use crate::error::ApiError;
use crate::http::{request, Reply};
use crate::services::{registration, Ctx, Limit};

pub async fn register(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    ctx.rate_limit(Limit::Register).await?;
    let input: RegisterRequest = request::json(&mut req).await?;
    let username =
        Username::parse(&input.username).map_err(|e| ApiError::InvalidUsername(e.message()))?;
    let password = Password::new_for_user(
        &input.password,
        username.as_str(),
        PasswordUse::Alone,
        &*ctx.blocklist().await?,
    )
    .map_err(|r| ApiError::WeakPassword(r.message()))?;
    let email = match input.email.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(request::email(raw)?),
    };
    let done = registration::register(ctx, username, password, email).await?;
    let body = Registered {
        username: done.username.as_str().to_owned(),
        user_id: done.user_id,
    };
    let reply = Reply::json(201, &body);
    Ok((reply, Some(body.user_id)))
}
