//! POST /v1/login and POST /v1/login/mfa: the two steps of a login.

use worker::Request;

use super::Handled;
use crate::api::requests::{LoginRequest, MfaRequest};
use crate::api::responses::MfaRequired;
use crate::domain::opaque::MfaToken;
use crate::domain::password::Password;
use crate::domain::username::Username;
use crate::error::ApiError;
use crate::http::{render, request, Reply};
use crate::services::password_login::{self, LoginOutcome};
use crate::services::{second_step, Ctx, Limit};

pub async fn login(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    ctx.rate_limit(Limit::Login).await?;
    let input: LoginRequest = request::json(&mut req).await?;
    // Input that cannot belong to any account is refused before storage is touched;
    // that answer does not depend on which accounts exist, so it reveals nothing.
    let (Ok(username), Some(password)) = (
        Username::parse(&input.username),
        Password::for_login(&input.password),
    ) else {
        return Err(ApiError::InvalidCredentials);
    };
    let device_token = input.device_token.as_deref();
    match password_login::login(ctx, &username, &password, device_token).await? {
        LoginOutcome::Authenticated(issued) => {
            let reply = Reply::ok(&render::authenticated(&issued));
            Ok((reply, Some(issued.user_id)))
        }
        LoginOutcome::MfaRequired {
            user_id,
            mfa_token,
            expires_in,
            methods,
        } => {
            let body = MfaRequired {
                status: "mfa_required",
                mfa_token: mfa_token.expose().to_owned(),
                expires_in,
                methods,
            };
            Ok((Reply::ok(&body), Some(user_id)))
        }
    }
}

pub async fn login_mfa(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    ctx.rate_limit(Limit::SecondFactor).await?;
    let input: MfaRequest = request::json(&mut req).await?;
    let submitted = request::second_factor(input.code.as_deref(), input.recovery_code.as_deref())?;
    let token = MfaToken::parse(&input.mfa_token).ok_or(ApiError::InvalidMfaToken)?;
    let issued = second_step::complete(ctx, &token, &submitted).await?;
    Ok((
        Reply::ok(&render::authenticated(&issued)),
        Some(issued.user_id),
    ))
}
