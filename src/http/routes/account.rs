//! POST /v1/password, DELETE /v1/account, POST /v1/email, POST /v1/email/verify and
//! GET /v1/events (paginated).

use worker::Request;

use super::Handled;
use crate::api::requests::{
    ChangeEmailRequest, ChangePasswordRequest, DeleteAccountRequest, VerifyEmailRequest,
};
use crate::api::responses::{Event, Events};
use crate::domain::events::EventPage;
use crate::domain::opaque::EmailCode;
use crate::domain::password::{Password, PasswordUse};
use crate::domain::text::url_query_pairs;
use crate::error::ApiError;
use crate::http::{render, request, Reply};
use crate::services::{
    account_deletion, email_change, email_verification, events, password_change, Ctx, Limit,
};

/// Changes the password, ends every session of the user, and starts a new one here.
pub async fn change_password(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    ctx.rate_limit(Limit::Sensitive).await?;
    let claims = request::bearer(&req, ctx)?;
    let input: ChangePasswordRequest = request::json(&mut req).await?;
    // The claim is the session's view of the account, and a session that predates a
    // change of 2FA has ended (the change below would be refused as `invalid_token`).
    let new_password = Password::new_for_user(
        &input.new_password,
        &claims.preferred_username,
        PasswordUse::for_account(claims.mfa_enabled),
        &*ctx.blocklist().await?,
    )
    .map_err(|r| ApiError::WeakPassword(r.message()))?;
    let current =
        Password::for_login(&input.current_password).ok_or(ApiError::InvalidCredentials)?;
    let submitted =
        request::optional_second_factor(input.code.as_deref(), input.recovery_code.as_deref())?;
    let issued =
        password_change::change_password(ctx, &claims, &current, &new_password, submitted.as_ref())
            .await?;
    Ok((
        Reply::ok(&render::authenticated(&issued)),
        Some(issued.user_id),
    ))
}

pub async fn events(req: &Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    let claims = request::bearer(req, ctx)?;
    let url = req.inner().url();
    let wanted =
        EventPage::parse(url_query_pairs(&url)).map_err(|m| ApiError::InvalidRequest(m.into()))?;
    let page = events::page(ctx, &claims, wanted).await?;
    let body = Events {
        events: page
            .events
            .into_iter()
            .map(|e| Event {
                kind: e.kind,
                at: e.at,
                ip: e.ip,
                detail: e.detail,
            })
            .collect(),
        next_cursor: page.next_cursor,
    };
    Ok((Reply::ok(&body), Some(claims.sub)))
}

pub async fn verify_email(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    ctx.rate_limit(Limit::SecondFactor).await?;
    let input: VerifyEmailRequest = request::json(&mut req).await?;
    let code = EmailCode::parse(input.code.trim()).ok_or(ApiError::InvalidEmailCode)?;
    let user_id = email_verification::verify(ctx, &code).await?;
    Ok((Reply::no_content(), Some(user_id)))
}

/// Deletes the account: the password, and a fresh second factor when 2FA is on.
pub async fn delete_account(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    ctx.rate_limit(Limit::Sensitive).await?;
    let claims = request::bearer(&req, ctx)?;
    let input: DeleteAccountRequest = request::json(&mut req).await?;
    let password = Password::for_login(&input.password).ok_or(ApiError::InvalidCredentials)?;
    let submitted =
        request::optional_second_factor(input.code.as_deref(), input.recovery_code.as_deref())?;
    account_deletion::delete_account(ctx, &claims, &password, submitted.as_ref()).await?;
    Ok((Reply::no_content(), Some(claims.sub)))
}

/// Replaces the address: the password, and a fresh second factor when 2FA is on.
pub async fn change_email(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    ctx.rate_limit(Limit::Sensitive).await?;
    let claims = request::bearer(&req, ctx)?;
    let input: ChangeEmailRequest = request::json(&mut req).await?;
    let email = request::email(&input.email)?;
    let password = Password::for_login(&input.password).ok_or(ApiError::InvalidCredentials)?;
    let submitted =
        request::optional_second_factor(input.code.as_deref(), input.recovery_code.as_deref())?;
    email_change::change_email(ctx, &claims, &password, &email, submitted.as_ref()).await?;
    Ok((Reply::no_content(), Some(claims.sub)))
}
