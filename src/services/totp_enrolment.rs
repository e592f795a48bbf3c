//! Turning TOTP on: `enroll` shows a new secret (kept sealed in KV until confirmed),
//! `confirm` checks the first code, turns TOTP on with a fresh set of recovery codes and
//! replaces the enrolling session with an aal2 one.

use std::rc::Rc;

use super::context::kv_from;
use super::grant::{Grant, Issued, Profile};
use super::password_check::check_caller_password;
use super::{Ctx, ServiceError};
use crate::domain::events::EventKind;
use crate::domain::opaque::random_id;
use crate::domain::password::Password;
use crate::domain::session::{Authentication, SecondFactor};
use crate::domain::throttle::second_factor_key;
use crate::domain::tokens::AccessClaims;
use crate::domain::totp::{matching_step, otpauth_uri, qr_svg, TotpCode, TotpSecret};
use crate::store::challenges::{enrollment, forget_enrollment, save_enrollment, Enrollment};
use crate::store::totp_enrolment::{self, Confirmation, Outcome};
use crate::store::{StoreError, Timings};

/// What the user needs to add the secret to an authenticator app.
pub struct Enrolment {
    pub user_id: String,
    pub secret_base32: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
    pub expires_in: i64,
}

pub async fn enroll(
    ctx: &Ctx,
    claims: &AccessClaims,
    password: &Password,
) -> Result<Enrolment, ServiceError> {
    let config = ctx.config()?;
    // Adding a factor is a security change: whoever holds a stolen access token must
    // still know the password.
    let user = check_caller_password(ctx, &ctx.db()?, claims, password).await?;
    if user.totp_enabled() {
        return Err(ServiceError::AlreadyEnabled);
    }

    let secret = TotpSecret::generate();
    let pending = Enrollment {
        id: random_id(),
        totp_secret: config.totp_box.seal(secret.as_bytes(), &user.id),
        expires_at: ctx.now + config.enrollment_ttl,
    };
    save_enrollment(&ctx.kv()?, &user.id, &pending, config.enrollment_ttl).await?;
    let uri = otpauth_uri(&config.totp_issuer, &user.username, &secret);
    Ok(Enrolment {
        user_id: user.id,
        secret_base32: secret.to_base32(),
        qr_svg: qr_svg(&uri),
        otpauth_uri: uri,
        expires_in: config.enrollment_ttl,
    })
}

pub struct Confirmed {
    pub tokens: Issued,
    pub recovery_codes: Vec<String>,
}

pub async fn confirm(
    ctx: &Ctx,
    claims: &AccessClaims,
    code: &TotpCode,
) -> Result<Confirmed, ServiceError> {
    let config = ctx.config()?;
    let user_id = claims.sub.as_str();
    let pending = enrollment(&ctx.kv()?, user_id, ctx.now)
        .await?
        .filter(|p| !p.id.is_empty())
        .ok_or(ServiceError::EnrollmentExpired)?;
    let opened = config
        .totp_box
        .open(&pending.totp_secret, user_id)
        .map_err(|e| ServiceError::Internal(format!("open enrollment secret: {e:?}")))?;
    let secret = TotpSecret::from_bytes(&opened.plaintext);
    let step = matching_step(&secret, code, ctx.now);

    let (recovery_codes, recovery_hashes) = config.recovery.generate_set(user_id);
    let recovery_hashes = serde_json::to_string(&recovery_hashes)
        .map_err(|e| StoreError::new("encode hashes", e.to_string()))?;
    // The new session proves password + TOTP; the aal1 session that enrolled is replaced.
    let grant = Grant::new(
        ctx,
        &config,
        Authentication::password_only(claims.auth_time).with_second_factor(SecondFactor::Totp),
    );
    // Sealed afresh (random nonce): the stored ciphertext then says which request won.
    let sealed_secret = config.totp_box.seal(secret.as_bytes(), user_id);
    let attempt_key = format!("enrolment:{}", pending.id);
    let throttle_key = second_factor_key(user_id);
    let outcome = totp_enrolment::confirm(
        &ctx.db()?,
        &Confirmation {
            user_id,
            attempt_key: &attempt_key,
            enrolment_expires_at: pending.expires_at,
            throttle_key: &throttle_key,
            step,
            sealed_secret: &sealed_secret,
            recovery_hashes_json: &recovery_hashes,
            replaced_session: &claims.sid,
            now: ctx.now,
        },
        &grant.session(user_id),
    )
    .await?;
    match outcome {
        Outcome::Enabled => {}
        Outcome::WrongCode {
            attempts_remaining,
            account_failures,
        } => {
            ctx.second_factor_failed(user_id, account_failures);
            return Err(ServiceError::InvalidCode {
                attempts_remaining: Some(attempts_remaining),
            });
        }
        Outcome::Throttled { locked_until } => return Err(ctx.throttled(locked_until)),
        Outcome::AlreadyEnabled => return Err(ServiceError::AlreadyEnabled),
        Outcome::SessionEnded => return Err(ServiceError::InvalidToken),
        Outcome::EnrolmentOver => {
            forget_later(ctx, user_id);
            return Err(ServiceError::EnrollmentExpired);
        }
    }
    forget_later(ctx, user_id);
    ctx.event(EventKind::TotpEnabled, user_id);

    let tokens = grant
        .issue(
            &config,
            &Profile {
                user_id,
                username: &claims.preferred_username,
                email: claims.email.as_deref(),
                mfa_enabled: true,
            },
        )
        .await?;
    Ok(Confirmed {
        tokens,
        recovery_codes,
    })
}

/// Drops the pending secret from KV after the response (D1 already refuses it).
fn forget_later(ctx: &Ctx, user_id: &str) {
    let id = user_id.to_owned();
    ctx.after_response("enrollment cleanup", move |env| async move {
        forget_enrollment(&kv_from(&env, Rc::new(Timings::default()))?, &id).await
    });
}
