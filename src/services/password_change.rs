//! Changing the password: the current one (and a fresh second factor when 2FA is on)
//! proves the caller; every session ends and a new one starts here.

use super::grant::{Grant, Issued, Profile};
use super::password_check::check_caller_password;
use super::step_up::FreshFactor;
use super::{Ctx, ServiceError};
use crate::domain::events::EventKind;
use crate::domain::factors::Submitted;
use crate::domain::password::{hash_password, Password};
use crate::domain::session::Authentication;
use crate::domain::tokens::AccessClaims;
use crate::store::{step_up, users};

pub async fn change_password(
    ctx: &Ctx,
    claims: &AccessClaims,
    current: &Password,
    new_password: &Password,
    submitted: Option<&Submitted>,
) -> Result<Issued, ServiceError> {
    let config = ctx.config()?;
    let db = ctx.db()?;
    let user = check_caller_password(ctx, &db, claims, current).await?;
    if user.totp_enabled() && submitted.is_none() {
        return Err(ServiceError::SecondFactorRequired);
    }

    let new_hash = ctx.argon2(|| hash_password(new_password)).await;
    let factor = submitted.filter(|_| user.totp_enabled());
    let authentication = match factor {
        Some(f) => Authentication::password_only(ctx.now).with_second_factor(f.factor()),
        None => Authentication::password_only(ctx.now),
    };
    let grant = Grant::new(ctx, &config, authentication);
    let session = grant.session(&user.id);

    match factor {
        Some(submitted) => {
            let fresh = FreshFactor::examine(ctx, &config, &user, submitted)?;
            let outcome =
                step_up::change_password(&db, &fresh.check(), &new_hash, &session).await?;
            fresh.settle(ctx, outcome)?;
        }
        None => {
            let changed = users::replace_password(
                &db,
                &user.id,
                &user.password_hash,
                &new_hash,
                ctx.now,
                &session,
            )
            .await?;
            if !changed {
                return Err(ServiceError::InvalidCredentials);
            }
        }
    }
    ctx.event(EventKind::PasswordChanged, &user.id);
    grant
        .issue(&config, &Profile::of(&user, user.totp_enabled()))
        .await
}
