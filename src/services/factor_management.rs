//! The caller's second factors: what is on, turning TOTP off, and a new set of recovery
//! codes. Changes need a fresh second factor (and the password to turn TOTP off).

use super::password_check::check_caller_password;
use super::step_up::FreshFactor;
use super::{Ctx, ServiceError};
use crate::domain::events::EventKind;
use crate::domain::factors::Submitted;
use crate::domain::password::Password;
use crate::domain::throttle::CappedFactor;
use crate::domain::tokens::AccessClaims;
use crate::store::users::{self, FactorStatus};
use crate::store::{step_up, StoreError};

pub async fn status(ctx: &Ctx, claims: &AccessClaims) -> Result<FactorStatus, ServiceError> {
    users::factor_status(&ctx.db()?, &claims.sub)
        .await?
        .ok_or(ServiceError::InvalidToken)
}

/// Turns TOTP off and ends every session of the user.
pub async fn disable_totp(
    ctx: &Ctx,
    claims: &AccessClaims,
    password: &Password,
    submitted: &Submitted,
) -> Result<(), ServiceError> {
    let config = ctx.config()?;
    let db = ctx.db()?;
    let user = check_caller_password(ctx, &db, claims, password).await?;
    // Without its second factor the password stands alone: it must be long enough to.
    // Checked once the password is proven, so a wrong one is a wrong one (401).
    password
        .can_stand_alone()
        .map_err(ServiceError::WeakPassword)?;
    // Without TOTP its lock and the codes' lock mean nothing; a later enrolment starts clean.
    let factor = FreshFactor::examine(ctx, &config, &user, submitted)?
        .recovering(CappedFactor::Totp)
        .recovering(CappedFactor::RecoveryCode);
    let outcome = step_up::disable_totp(&db, &factor.check()).await?;
    factor.settle(ctx, outcome)?;
    ctx.event(EventKind::TotpDisabled, &user.id);
    Ok(())
}

/// A new set of recovery codes replaces the old one; returns the codes to show once.
pub async fn regenerate_recovery_codes(
    ctx: &Ctx,
    claims: &AccessClaims,
    submitted: &Submitted,
) -> Result<Vec<String>, ServiceError> {
    let config = ctx.config()?;
    let db = ctx.db()?;
    let user = users::caller(&db, &claims.sub, &claims.sid, ctx.now)
        .await?
        .ok_or(ServiceError::InvalidToken)?;
    let factor = FreshFactor::examine(ctx, &config, &user, submitted)?
        .recovering(CappedFactor::RecoveryCode);
    let (codes, hashes) = config.recovery.generate_set(&user.id);
    let hashes = serde_json::to_string(&hashes)
        .map_err(|e| StoreError::new("encode hashes", e.to_string()))?;
    let outcome = step_up::replace_recovery_codes(&db, &factor.check(), &hashes).await?;
    factor.settle(ctx, outcome)?;
    ctx.event(EventKind::RecoveryCodesRegenerated, &user.id);
    Ok(codes)
}
