//! GET /v1/2fa, DELETE /v1/2fa/totp, POST /v1/2fa/recovery-codes: factor changes, each
//! needing an aal2 session plus a fresh second factor (and the password to disable).

use worker::Request;

use super::Handled;
use crate::api::requests::{DisableTotpRequest, RegenerateRecoveryCodesRequest};
use crate::api::responses::{FactorStatus, RecoveryCodesIssued};
use crate::domain::password::Password;
use crate::error::ApiError;
use crate::http::{request, Reply};
use crate::services::{factor_management, Ctx, Limit};

pub async fn status(req: &Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    let claims = request::bearer(req, ctx)?;
    let status = factor_management::status(ctx, &claims).await?;
    let body = FactorStatus {
        totp_enabled: status.totp_enabled_at.is_some(),
        enabled_at: status.totp_enabled_at,
        recovery_codes_remaining: status.recovery_codes_remaining,
    };
    Ok((Reply::ok(&body), Some(claims.sub)))
}

pub async fn disable_totp(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    ctx.rate_limit(Limit::Sensitive).await?;
    let claims = request::require_aal2(&req, ctx)?;
    let input: DisableTotpRequest = request::json(&mut req).await?;
    let submitted = request::second_factor(input.code.as_deref(), input.recovery_code.as_deref())?;
    let password = Password::for_login(&input.password).ok_or(ApiError::InvalidCredentials)?;
    factor_management::disable_totp(ctx, &claims, &password, &submitted).await?;
    Ok((Reply::no_content(), Some(claims.sub)))
}

pub async fn regenerate_recovery_codes(mut req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    ctx.rate_limit(Limit::SecondFactor).await?;
    let claims = request::require_aal2(&req, ctx)?;
    let input: RegenerateRecoveryCodesRequest = request::json(&mut req).await?;
    let submitted = request::second_factor(input.code.as_deref(), input.recovery_code.as_deref())?;
    let codes = factor_management::regenerate_recovery_codes(ctx, &claims, &submitted).await?;
    Ok((
        Reply::ok(&RecoveryCodesIssued {
            recovery_codes: codes,
        }),
        Some(claims.sub),
    ))
}
