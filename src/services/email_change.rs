//! Changing the email address: the password, and a fresh second factor when 2FA is on,
//! prove the caller. The new address must be verified again; the old one, if verified,
//! hears of the change, and every code sent to it stops working.

use super::password_check::check_caller_password;
use super::step_up::FreshFactor;
use super::{Ctx, ServiceError};
use crate::domain::email::Email;
use crate::domain::events::EventKind;
use crate::domain::factors::Submitted;
use crate::domain::mail;
use crate::domain::opaque::EmailCode;
use crate::domain::password::Password;
use crate::domain::tokens::AccessClaims;
use crate::store::email_change::{self, EmailChange};

pub async fn change_email(
    ctx: &Ctx,
    claims: &AccessClaims,
    password: &Password,
    email: &Email,
    submitted: Option<&Submitted>,
) -> Result<(), ServiceError> {
    let config = ctx.config()?;
    let db = ctx.db()?;
    let user = check_caller_password(ctx, &db, claims, password).await?;
    let code = EmailCode::generate();
    let code_hash = code.hash();
    let change = EmailChange {
        user_id: &user.id,
        email: email.as_str(),
        code_hash: &code_hash,
        now: ctx.now,
        expires_at: ctx.now + mail::VERIFY_TTL,
    };
    let changed = if user.totp_enabled() {
        let submitted = submitted.ok_or(ServiceError::SecondFactorRequired)?;
        let fresh = FreshFactor::examine(ctx, &config, &user, submitted)?;
        let (outcome, changed) = email_change::with_factor(&db, &fresh.check(), &change).await?;
        fresh.settle(ctx, outcome)?;
        changed
    } else {
        email_change::with_password(&db, &change, &user.password_hash).await?
    };
    if changed.taken == 1 {
        return Err(ServiceError::EmailTaken);
    }
    if changed.changed != 1 {
        // The password changed between the check and the batch.
        return Err(ServiceError::InvalidCredentials);
    }
    ctx.event(EventKind::EmailChanged, &user.id);
    // The old address is no longer the account's: it is told here, not by the events.
    if let Some(m) = user
        .email
        .as_deref()
        .and_then(|old| mail::notice(old, EventKind::EmailChanged, ctx.ip.as_deref()))
    {
        ctx.send_mail(m);
    }
    ctx.send_mail(mail::verification(
        email.as_str(),
        &config.mail.public_url,
        code.expose(),
    ));
    Ok(())
}
