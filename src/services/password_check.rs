//! The password check shared by login, enrolment and password change: throttled per
//! account, with the same Argon2 work whether or not the account exists.

use super::context::db_from;
use super::{Ctx, ServiceError};
use crate::domain::events::EventKind;
use crate::domain::opaque::random_id;
use crate::domain::password::{hash_password, needs_rehash, verify_password, Password, DUMMY_PHC};
use crate::domain::throttle::{password_key, FREE_FAILURES};
use crate::domain::tokens::AccessClaims;
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
    )
    .await
}

/// `username` is the canonical name the throttle is keyed on; `lookup` finds the row.
pub async fn check_password(
    ctx: &Ctx,
    db: &Db,
    username: &str,
    lookup: Lookup<'_>,
    password: &Password,
) -> Result<UserRow, ServiceError> {
    ctx.shed_if_busy()?;
    let key = password_key(username);
    let nonce = random_id();
    let (failures, user) = match admit_password(db, &key, lookup, &nonce, ctx.now).await? {
        Admission::Throttled { locked_until } => return Err(ctx.throttled(locked_until)),
        Admission::Admitted {
            session_live: false,
            ..
        } => {
            // A logged-out or ended session: no Argon2 work, no change. The attempt
            // counted in advance stays counted (it was made with a stolen or stale token).
            return Err(ServiceError::InvalidToken);
        }
        Admission::Admitted { failures, user, .. } => (failures, user),
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
    ctx.after_response("settle password throttle", move |env| async move {
        let db = db_from(&env, std::rc::Rc::new(Timings::default()))?;
        settle_success(&db, &key, &nonce).await?;
        // Hashes made under older parameters are upgraded while the password is at hand.
        if let Some((id, old, new)) = rehash {
            users::replace_password_hash(&db, &id, &old, &new).await?;
        }
        Ok(())
    });
    Ok(user)
}
