//! Deleting the account: the password, and a fresh second factor when 2FA is on, prove
//! the caller; every row that names the user goes in one batch, then a last notice.

use super::password_check::check_caller_password;
use super::step_up::FreshFactor;
use super::{Ctx, ServiceError};
use crate::domain::events::EventKind;
use crate::domain::factors::Submitted;
use crate::domain::mail;
use crate::domain::password::Password;
use crate::domain::throttle::account_keys;
use crate::domain::tokens::AccessClaims;
use crate::store::account;

pub async fn delete_account(
    ctx: &Ctx,
    claims: &AccessClaims,
    password: &Password,
    submitted: Option<&Submitted>,
) -> Result<(), ServiceError> {
    let config = ctx.config()?;
    let db = ctx.db()?;
    let user = check_caller_password(ctx, &db, claims, password).await?;
    let keys = account_keys(&user.username, &user.id);
    if user.totp_enabled() {
        let submitted = submitted.ok_or(ServiceError::SecondFactorRequired)?;
        let fresh = FreshFactor::examine(ctx, &config, &user, submitted)?;
        let outcome = account::delete_with_factor(&db, &fresh.check(), &keys).await?;
        fresh.settle(ctx, outcome)?;
    } else if !account::delete_with_password(&db, &user.id, &user.password_hash, &keys).await? {
        // The password changed between the check and the batch.
        return Err(ServiceError::InvalidCredentials);
    }
    // Its events went with it: the notice goes straight to the (verified) address.
    ctx.discard_events(&user.id);
    if let Some(m) = user
        .email
        .as_deref()
        .and_then(|to| mail::notice(to, EventKind::AccountDeleted, ctx.ip.as_deref()))
    {
        ctx.send_mail(m);
    }
    Ok(())
}
