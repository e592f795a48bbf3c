//! Password reset: a code mailed to the account proves the mailbox, and with 2FA on a
//! fresh second factor must come with it, so a mailbox alone never gets past 2FA. The
//! reset signs in nowhere: every session ends, and the user logs in with the new password.

use super::context::kv_from;
use super::step_up::FreshFactor;
use super::{Ctx, ServiceError};
use crate::domain::blocklist::Blocklist;
use crate::domain::email::Email;
use crate::domain::events::EventKind;
use crate::domain::factors::Submitted;
use crate::domain::mail;
use crate::domain::opaque::{random_id, ResetCode};
use crate::domain::password::{hash_password, Password, PasswordUse};
use crate::domain::throttle::{password_key, CappedFactor};
use crate::domain::username::Username;
use crate::store::challenges::{self, ResetChallenge};
use crate::store::password_reset::{self, Lookup, Reset};
use crate::store::{Db, Timings};

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
    let code_hash = code.hash();
    let expires_at = ctx.now + mail::RESET_TTL;
    let lookup = match account {
        Account::Username(name) => Lookup::Username(name.as_str()),
        Account::Email(email) => Lookup::VerifiedEmail(email.as_str()),
    };
    let requested = password_reset::request(
        &ctx.db()?,
        &lookup,
        &code_hash,
        ctx.now,
        expires_at,
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
        let challenge = ResetChallenge {
            user_id: r.user_id,
            username: r.username,
            totp_secret: r.totp_secret,
            expires_at,
        };
        ctx.after_response("reset challenge", move |env| async move {
            let kv = kv_from(&env, std::rc::Rc::new(Timings::default()))?;
            challenges::save_reset_challenge(&kv, &code_hash, &challenge, mail::RESET_TTL).await
        });
    }
    Ok(())
}

/// The account of a usable code, as D1 has it.
async fn owner(db: &Db, code_hash: &str, now: i64) -> Result<Option<ResetChallenge>, ServiceError> {
    Ok(password_reset::owner(db, code_hash, now)
        .await?
        .map(|user| ResetChallenge {
            totp_secret: user.totp_secret.clone().filter(|_| user.totp_enabled()),
            user_id: user.id,
            username: user.username,
            expires_at: 0,
        }))
}

/// The new password under the account's rules, and the second factor it needs.
fn judge<'a>(
    account: &ResetChallenge,
    new_password: &str,
    submitted: Option<&'a Submitted>,
    blocklist: &Blocklist,
) -> Result<(Password, Option<&'a Submitted>), ServiceError> {
    let totp_on = account.totp_secret.is_some();
    let password = Password::new_for_user(
        new_password,
        &account.username,
        PasswordUse::for_account(totp_on),
        blocklist,
    )
    .map_err(ServiceError::WeakPassword)?;
    let factor = submitted.filter(|_| totp_on);
    if totp_on && factor.is_none() {
        return Err(ServiceError::SecondFactorRequired);
    }
    Ok((password, factor))
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
    let blocklist = ctx.blocklist().await?;
    // What KV remembers is trusted only to go ahead: D1 decides in the batch. A miss (KV
    // is eventually consistent) or any refusal is settled by D1's own view, so a
    // remembered account that has changed since never earns a misleading answer.
    let remembered = challenges::reset_challenge(&ctx.kv()?, &code_hash, ctx.now).await?;
    let ahead = remembered.and_then(|account| {
        let judged = judge(&account, new_password, submitted, &blocklist).ok()?;
        Some((account, judged))
    });
    let (account, (new_password, factor)) = match ahead {
        Some(ready) => ready,
        None => {
            let account = owner(&db, &code_hash, ctx.now)
                .await?
                .ok_or(ServiceError::InvalidEmailCode)?;
            let judged = judge(&account, new_password, submitted, &blocklist)?;
            (account, judged)
        }
    };
    let totp = account.totp_secret.as_deref();
    ctx.shed_if_busy()?;
    let new_hash = ctx.argon2(|| hash_password(&new_password)).await;
    let password_keys = [
        password_key(&account.username),
        CappedFactor::Password.key(&account.username),
    ];
    let nonce = random_id();
    let reset = Reset {
        user_id: &account.user_id,
        code_hash: &code_hash,
        new_hash: &new_hash,
        password_keys: &password_keys,
        nonce: &nonce,
        now: ctx.now,
    };
    let done = match factor {
        Some(submitted) => {
            let fresh = FreshFactor::examine_for(ctx, &config, &account.user_id, totp, submitted)?;
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
    // Spent in D1; KV forgets it too, so a replay is refused before any Argon2id work.
    ctx.after_response("reset challenge cleanup", move |env| async move {
        let kv = kv_from(&env, std::rc::Rc::new(Timings::default()))?;
        challenges::forget_reset_challenge(&kv, &code_hash).await
    });
    ctx.event(EventKind::PasswordReset, &account.user_id);
    Ok(account.user_id)
}
