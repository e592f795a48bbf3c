//! Password reset: a code mailed to the account proves the mailbox, and with 2FA on a
//! fresh second factor must come with it, so a mailbox alone never gets past 2FA. The
//! reset signs in nowhere: every session ends, and the user logs in with the new password.

use super::step_up::FreshFactor;
use super::{Ctx, ServiceError};
use crate::domain::email::Email;
use crate::domain::events::EventKind;
use crate::domain::factors::Submitted;
use crate::domain::mail;
use crate::domain::opaque::{random_id, ResetCode};
use crate::domain::password::{hash_password, Password, PasswordUse};
use crate::domain::throttle::{password_key, CappedFactor};
use crate::domain::username::Username;
use crate::store::password_reset::{self, Lookup, Reset};

/// Codes an account can be sent per hour: enough for a lost mail, too few to flood a
/// mailbox.
pub const RESETS_PER_HOUR: i64 = 3;

pub enum Account {
    Username(Username),
    Email(Email),
}

/// Stores and mails a code when the account exists. The work on the response path is
/// one statement either way and the mail goes after the response, so neither the answer
/// nor its timing tells whether the account exists.
pub async fn forgot(ctx: &Ctx, account: &Account) -> Result<(), ServiceError> {
    let config = ctx.config()?;
    let code = ResetCode::generate();
    let lookup = match account {
        Account::Username(name) => Lookup::Username(name.as_str()),
        Account::Email(email) => Lookup::VerifiedEmail(email.as_str()),
    };
    let requested = password_reset::request(
        &ctx.db()?,
        &lookup,
        &code.hash(),
        ctx.now,
        ctx.now + mail::RESET_TTL,
        RESETS_PER_HOUR,
    )
    .await?;
    if let Some(r) = requested {
        ctx.send_mail(mail::reset(
            &r.email,
            &config.mail.public_url,
            &r.username,
            code.expose(),
        ));
    }
    Ok(())
}

/// Spends the code and sets the password; returns the user id. The new password is
/// judged here, not at the edge, because the rules depend on the account (its username,
/// whether it has a second factor).
pub async fn reset(
    ctx: &Ctx,
    code: &ResetCode,
    new_password: &str,
    submitted: Option<&Submitted>,
) -> Result<String, ServiceError> {
    let config = ctx.config()?;
    let db = ctx.db()?;
    let code_hash = code.hash();
    let user = password_reset::owner(&db, &code_hash, ctx.now)
        .await?
        .ok_or(ServiceError::InvalidEmailCode)?;
    let new_password = Password::new_for_user(
        new_password,
        &user.username,
        PasswordUse::for_account(user.totp_enabled()),
        &*ctx.blocklist().await?,
    )
    .map_err(ServiceError::WeakPassword)?;
    let factor = submitted.filter(|_| user.totp_enabled());
    if user.totp_enabled() && factor.is_none() {
        return Err(ServiceError::SecondFactorRequired);
    }
    ctx.shed_if_busy()?;
    let new_hash = ctx.argon2(|| hash_password(&new_password)).await;
    let password_keys = [
        password_key(&user.username),
        CappedFactor::Password.key(&user.username),
    ];
    let nonce = random_id();
    let reset = Reset {
        user_id: &user.id,
        code_hash: &code_hash,
        new_hash: &new_hash,
        password_keys: &password_keys,
        nonce: &nonce,
        now: ctx.now,
    };
    let done = match factor {
        Some(submitted) => {
            let fresh = FreshFactor::examine(ctx, &config, &user, submitted)?;
            let (outcome, done) = password_reset::with_factor(&db, &fresh.check(), &reset).await?;
            fresh.settle(ctx, outcome)?;
            done
        }
        None => password_reset::without_factor(&db, &reset).await?,
    };
    if !done {
        // Spent by a parallel request (or 2FA turned on) since the code was read.
        return Err(ServiceError::InvalidEmailCode);
    }
    ctx.event(EventKind::PasswordReset, &user.id);
    Ok(user.id)
}
