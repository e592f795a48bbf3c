//! POST /v1/2fa/totp/enroll and POST /v1/2fa/totp/confirm.

use worker::Request;

use super::Handled;
use crate::api::requests::{ConfirmRequest, EnrollRequest};
use crate::api::responses::{TotpConfirmed, TotpEnrollment};
use crate::domain::password::Password;
use crate::domain::totp::TotpCode;
use crate::error::ApiError;
use crate::http::{render, request, Reply};
use crate::services::{totp_enrolment, Ctx, Limit};

pub async fn enroll(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    ctx.rate_limit(Limit::Sensitive).await?;
    let claims = request::bearer(&req, ctx)?;
    let input: EnrollRequest = request::json(&mut req).await?;
    let password = Password::for_login(&input.password).ok_or(ApiError::InvalidCredentials)?;
    let e = totp_enrolment::enroll(ctx, &claims, &password).await?;
    let body = TotpEnrollment {
        secret: e.secret_base32,
        qr_svg: e.qr_svg,
        otpauth_uri: e.otpauth_uri,
        expires_in: e.expires_in,
    };
    Ok((Reply::ok(&body), Some(e.user_id)))
}

pub async fn confirm(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    ctx.rate_limit(Limit::SecondFactor).await?;
    let claims = request::bearer(&req, ctx)?;
    let input: ConfirmRequest = request::json(&mut req).await?;
    let code = TotpCode::parse(&input.code)
        .map_err(|_| ApiError::InvalidRequest("code must be exactly 6 digits".into()))?;
    let done = totp_enrolment::confirm(ctx, &claims, &code).await?;
    let body = TotpConfirmed {
        tokens: render::authenticated(&done.tokens),
        recovery_codes: done.recovery_codes,
    };
    Ok((Reply::ok(&body), Some(claims.sub)))
}
