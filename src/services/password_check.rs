//! The password check shared by login, enrolment and password change: throttled per
//! account, with the same Argon2 work whether or not the account exists.

use super::context::db_from;
use super::{Ctx, ServiceError};
use crate::domain::device::DeviceId;
use crate::domain::events::EventKind;
use crate::domain::opaque::random_id;
use crate::domain::password::{hash_password, needs_rehash, verify_password, Password, DUMMY_PHC};
use crate::domain::throttle::{device_key, password_key, CappedFactor, FREE_FAILURES};
use crate::domain::tokens::AccessClaims;
use crate::store::hard_cap::Cap;
use crate::store::throttle::{admit_password, settle_success, Admission, Lookup};
use crate::store::users::{self, UserRow};
use crate::store::{Db, Timings};

/// The signed-in caller re-proves their password (enrolment, factor and password
/// changes), under the same per-account throttle as logins.
pub async fn check_caller_password(
    ctx: &Ctx,
    db: &Db,
    claims: &AccessClaims,
    password: &Password,
) -> Result<UserRow, ServiceError> {
    check_password(
        ctx,
        db,
        &claims.preferred_username,
        Lookup::Caller {
            user_id: &claims.sub,
            session_id: &claims.sid,
        },
        password,
        None,
    )
    .await
}

/// `username` is the canonical name the throttle is keyed on; `lookup` finds the row.
/// A known `device` waits only for its own failures; everyone else shares the
/// username's delay. All of them count toward the account's hard cap.
pub async fn check_password(
    ctx: &Ctx,
    db: &Db,
    username: &str,
    lookup: Lookup<'_>,
    password: &Password,
    device: Option<&DeviceId>,
) -> Result<UserRow, ServiceError> {
    ctx.shed_if_busy()?;
    let config = ctx.config()?;
    let key = device.map_or_else(|| password_key(username), |d| device_key(d.as_str()));
    let cap_key = CappedFactor::Password.key(username);
    let cap = Cap {
        key: &cap_key,
        limit: config.max_failed_attempts,
    };
    let nonce = random_id();
    let admission = admit_password(db, &key, &cap, lookup, &nonce, ctx.now).await?;
    let (failures, cap_failures, user) = match admission {
        Admission::Throttled { locked_until } => return Err(ctx.throttled(locked_until)),
        Admission::Locked => return Err(ServiceError::FactorLocked(CappedFactor::Password)),
        Admission::Admitted {
            session_live: false,
            ..
        } => {
            // A logged-out or ended session: no Argon2 work, no change. The attempt
            // counted in advance stays counted (it was made with a stolen or stale token).
            return Err(ServiceError::InvalidToken);
        }
        Admission::Admitted {
            failures,
            cap_failures,
            user,
            ..
        } => (failures, cap_failures, user),
    };
    // Unknown users cost the same Argon2 work as known ones.
    let phc = user
        .as_ref()
        .map_or(DUMMY_PHC, |u| u.password_hash.as_str());
    let correct = ctx.argon2(|| verify_password(password, phc)).await;
    let user = match user {
        Some(u) if correct => u,
        Some(u) => {
            ctx.event(EventKind::LoginFailed, &u.id);
            if failures == FREE_FAILURES {
                ctx.event_with(EventKind::Lockout, &u.id, "password".into());
            }
            ctx.count_toward_cap(
                &u.id,
                CappedFactor::Password,
                cap_failures,
                config.max_failed_attempts,
            );
            return Err(ServiceError::InvalidCredentials);
        }
        None => return Err(ServiceError::InvalidCredentials),
    };

    let rehash = if needs_rehash(&user.password_hash) {
        let new = ctx.argon2(|| hash_password(password)).await;
        Some((user.id.clone(), user.password_hash.clone(), new))
    } else {
        None
    };
    let limit = config.max_failed_attempts;
    ctx.after_response("settle password throttle", move |env| async move {
        let db = db_from(&env, std::rc::Rc::new(Timings::default()))?;
        let cap = Cap {
            key: &cap_key,
            limit,
        };
        settle_success(&db, &key, &cap, &nonce).await?;
        // Hashes made under older parameters are upgraded while the password is at hand.
        if let Some((id, old, new)) = rehash {
            users::replace_password_hash(&db, &id, &old, &new).await?;
        }
        Ok(())
    });
    Ok(user)
}
