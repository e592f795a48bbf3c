//! POST /v1/password/forgot and POST /v1/password/reset.

use worker::Request;

use super::Handled;
use crate::api::requests::{ForgotPasswordRequest, ResetPasswordRequest};
use crate::api::responses::ResetRequested;
use crate::domain::opaque::ResetCode;
use crate::domain::username::Username;
use crate::error::ApiError;
use crate::http::{request, Reply};
use crate::services::password_reset::{self, Account};
use crate::services::{Ctx, Limit};

/// Mails a reset code if the account exists; the answer is the same either way.
pub async fn forgot(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    ctx.rate_limit(Limit::Sensitive).await?;
    let input: ForgotPasswordRequest = request::json(&mut req).await?;
    let account = match (input.username.as_deref(), input.email.as_deref()) {
        (Some(name), None) => Account::Username(
            Username::parse(name).map_err(|e| ApiError::InvalidUsername(e.message()))?,
        ),
        (None, Some(email)) => Account::Email(request::email(email)?),
        _ => {
            return Err(ApiError::InvalidRequest(
                "send exactly one of username or email".into(),
            ))
        }
    };
    password_reset::forgot(ctx, &account).await?;
    Ok((Reply::json(202, &ResetRequested::REQUESTED), None))
}

/// Sets a new password with a mailed code (and a fresh second factor when 2FA is on).
/// It logs in nowhere: every session ends and the client logs in again.
pub async fn reset(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    ctx.rate_limit(Limit::Sensitive).await?;
    let input: ResetPasswordRequest = request::json(&mut req).await?;
    let code = ResetCode::parse(input.reset_code.trim()).ok_or(ApiError::InvalidEmailCode)?;
    let submitted =
        request::optional_second_factor(input.code.as_deref(), input.recovery_code.as_deref())?;
    let user_id =
        password_reset::reset(ctx, &code, &input.new_password, submitted.as_ref()).await?;
    Ok((Reply::no_content(), Some(user_id)))
}
