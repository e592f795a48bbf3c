//! The second step of a login: the mfa_token from the password step plus a second
//! factor, decided in one D1 batch (store::mfa::spend).

use std::rc::Rc;

use super::context::kv_from;
use super::grant::{Grant, Issued, Profile};
use super::step_up::open_totp_secret;
use super::{Ctx, ServiceError};
use crate::domain::device::DeviceId;
use crate::domain::events::EventKind;
use crate::domain::factors::{SecondFactor, Submitted};
use crate::domain::opaque::MfaToken;
use crate::domain::session::Authentication;
use crate::domain::throttle::second_factor_key;
use crate::store::challenges::{forget_mfa_challenge, mfa_challenge};
use crate::store::hard_cap::Cap;
use crate::store::mfa::{self, Attempt, Outcome};
use crate::store::Timings;

pub async fn complete(
    ctx: &Ctx,
    token: &MfaToken,
    submitted: &Submitted,
) -> Result<Issued, ServiceError> {
    let token_hash = token.hash();
    let config = ctx.config()?;
    let challenge = mfa_challenge(&ctx.kv()?, &token_hash, ctx.now)
        .await?
        .ok_or(ServiceError::InvalidMfaToken)?;
    let user_id = challenge.user_id.as_str();

    let secret = if submitted.needs_totp_secret() {
        Some(open_totp_secret(
            ctx,
            &config,
            user_id,
            &challenge.totp_secret,
        )?)
    } else {
        None
    };
    let evidence = submitted.examine(user_id, secret.as_ref(), &config.recovery, ctx.now);
    let grant = Grant::new(
        ctx,
        &config,
        Authentication::password_only(challenge.auth_time).with_second_factor(submitted.factor()),
    );
    let throttle_key = second_factor_key(user_id);
    let factor = submitted.factor();
    let cap_key = factor.capped().key(user_id);
    let recovers: Vec<String> = factor.recovers().iter().map(|c| c.key(user_id)).collect();
    let outcome = mfa::spend(
        &ctx.db()?,
        &Attempt {
            token_hash: &token_hash,
            user_id,
            token_expires_at: challenge.expires_at,
            totp_enabled_at: challenge.totp_enabled_at,
            throttle_key: &throttle_key,
            cap: Cap {
                key: &cap_key,
                limit: config.max_failed_attempts,
            },
            recovers: &recovers,
            now: ctx.now,
        },
        &evidence,
        &grant.session(user_id),
    )
    .await?;

    match outcome {
        Outcome::Accepted => {
            let now = ctx.now;
            // Its attempt row goes with the scheduled housekeeping.
            ctx.after_response("mfa cleanup", move |env| async move {
                forget_mfa_challenge(&kv_from(&env, Rc::new(Timings::default()))?, &token_hash)
                    .await
            });
            ctx.event(EventKind::LoginSucceeded, user_id);
            if challenge.new_device {
                ctx.event(EventKind::NewDeviceLogin, user_id);
            }
            if factor == SecondFactor::RecoveryCode {
                ctx.event(EventKind::RecoveryCodeUsed, user_id);
            }
            let mut issued = grant
                .issue(
                    &config,
                    &Profile {
                        user_id,
                        username: &challenge.username,
                        email: challenge.email.as_deref(),
                        mfa_enabled: true,
                    },
                )
                .await?;
            issued.device_token = challenge.device_id.clone().map(|id| {
                config
                    .device_tokens
                    .issue(&DeviceId::from_stored(id), &challenge.username, now)
            });
            Ok(issued)
        }
        Outcome::WrongCode {
            attempts_remaining,
            account_failures,
            cap_failures,
        } => {
            ctx.second_factor_failed(user_id, account_failures);
            ctx.count_toward_cap(
                user_id,
                factor.capped(),
                cap_failures,
                config.max_failed_attempts,
            );
            Err(ServiceError::InvalidCode {
                attempts_remaining: Some(attempts_remaining),
            })
        }
        Outcome::Throttled { locked_until } => Err(ctx.throttled(locked_until)),
        Outcome::Locked => Err(ServiceError::FactorLocked(factor.capped())),
        Outcome::TokenDead => Err(ServiceError::InvalidMfaToken),
    }
}
