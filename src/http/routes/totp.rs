//! POST /v1/2fa/totp/enroll and POST /v1/2fa/totp/confirm.

use serde::Deserialize;
use serde_json::json;
use worker::Request;

use super::Handled;
use crate::domain::password::Password;
use crate::domain::totp::TotpCode;
use crate::error::ApiError;
use crate::http::{render, request, Reply};
use crate::services::{totp_enrolment, Ctx};

#[derive(Deserialize)]
struct EnrollBody {
    password: String,
}

pub async fn enroll(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    let claims = request::bearer(&req, ctx)?;
    let input: EnrollBody = request::json(&mut req).await?;
    let password = Password::for_login(&input.password).ok_or(ApiError::InvalidCredentials)?;
    let e = totp_enrolment::enroll(ctx, &claims, &password).await?;
    let body = json!({
        "secret": e.secret_base32,
        "qr_svg": e.qr_svg,
        "otpauth_uri": e.otpauth_uri,
        "expires_in": e.expires_in,
    });
    Ok((Reply::ok(body), Some(e.user_id)))
}

#[derive(Deserialize)]
struct ConfirmBody {
    code: String,
}

pub async fn confirm(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    let claims = request::bearer(&req, ctx)?;
    let input: ConfirmBody = request::json(&mut req).await?;
    let code = TotpCode::parse(&input.code)
        .map_err(|_| ApiError::InvalidRequest("code must be exactly 6 digits".into()))?;
    let done = totp_enrolment::confirm(ctx, &claims, &code).await?;
    let mut body = render::authenticated(&done.tokens);
    body["recovery_codes"] = json!(done.recovery_codes);
    Ok((Reply::ok(body), Some(claims.sub)))
}
