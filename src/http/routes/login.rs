//! POST /v1/login and POST /v1/login/mfa: the two steps of a login.

use serde::Deserialize;
use serde_json::json;
use worker::Request;

use super::Handled;
use crate::domain::opaque::MfaToken;
use crate::domain::password::Password;
use crate::domain::username::Username;
use crate::error::ApiError;
use crate::http::{render, request, Reply};
use crate::services::password_login::{self, LoginOutcome};
use crate::services::{second_step, Ctx, Limit};

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

pub async fn login(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    ctx.rate_limit(Limit::Login).await?;
    let input: LoginBody = request::json(&mut req).await?;
    // Input that cannot belong to any account is refused before storage is touched;
    // that answer does not depend on which accounts exist, so it reveals nothing.
    let (Ok(username), Some(password)) = (
        Username::parse(&input.username),
        Password::for_login(&input.password),
    ) else {
        return Err(ApiError::InvalidCredentials);
    };
    match password_login::login(ctx, &username, &password).await? {
        LoginOutcome::Authenticated(issued) => {
            let reply = Reply::ok(render::authenticated(&issued));
            Ok((reply, Some(issued.user_id)))
        }
        LoginOutcome::MfaRequired {
            user_id,
            mfa_token,
            expires_in,
            methods,
        } => {
            let body = json!({
                "status": "mfa_required",
                "mfa_token": mfa_token.expose(),
                "expires_in": expires_in,
                "methods": methods,
            });
            Ok((Reply::ok(body), Some(user_id)))
        }
    }
}

#[derive(Deserialize)]
struct MfaBody {
    mfa_token: String,
    code: Option<String>,
    recovery_code: Option<String>,
}

pub async fn login_mfa(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    ctx.rate_limit(Limit::SecondFactor).await?;
    let input: MfaBody = request::json(&mut req).await?;
    let submitted = request::second_factor(input.code.as_deref(), input.recovery_code.as_deref())?;
    let token = MfaToken::parse(&input.mfa_token).ok_or(ApiError::InvalidMfaToken)?;
    let issued = second_step::complete(ctx, &token, &submitted).await?;
    Ok((
        Reply::ok(render::authenticated(&issued)),
        Some(issued.user_id),
    ))
}
