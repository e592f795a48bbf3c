//! POST /v1/2fa/totp/enroll and POST /v1/2fa/totp/confirm.

use serde::Deserialize;
use serde_json::json;
use worker::Request;

use super::grant::{authenticated, Grant, Profile};
use super::password_check::check_caller_password;
use super::Handled;
use crate::domain::events::EventKind;
use crate::domain::password::Password;
use crate::domain::session::{Authentication, SecondFactor};
use crate::domain::totp::{matching_step, otpauth_uri, qr_svg, TotpCode, TotpSecret};
use crate::error::ApiError;
use crate::http::app::kv_from;
use crate::http::{body, App, Reply};
use crate::store::challenges::{enrollment_key, Enrollment};
use crate::store::users::{self, EnableTotp};

#[derive(Deserialize)]
struct EnrollBody {
    password: String,
}

pub async fn enroll(mut req: Request, app: &App) -> Result<Handled, ApiError> {
    let claims = body::bearer(&req, app)?;
    let input: EnrollBody = body::json(&mut req).await?;
    let config = app.config()?;
    // Adding a factor is a security change: whoever holds a stolen access token must
    // still know the password.
    let password = Password::for_login(&input.password).ok_or(ApiError::InvalidCredentials)?;
    let user = check_caller_password(app, &app.db()?, &claims, &password).await?;
    if user.totp_enabled() {
        return Err(ApiError::AlreadyEnabled);
    }

    let secret = TotpSecret::generate();
    let enrollment = Enrollment {
        totp_secret: config.totp_box.seal(secret.as_bytes(), &user.id),
        expires_at: app.now + config.enrollment_ttl,
    };
    app.kv()?
        .put(
            &enrollment_key(&user.id),
            &enrollment,
            config.enrollment_ttl,
        )
        .await?;
    let uri = otpauth_uri(&config.totp_issuer, &user.username, &secret);
    let body = json!({
        "secret": secret.to_base32(),
        "qr_svg": qr_svg(&uri),
        "otpauth_uri": uri,
        "expires_in": config.enrollment_ttl,
    });
    Ok((Reply::ok(body), Some(user.id)))
}

#[derive(Deserialize)]
struct ConfirmBody {
    code: String,
}

pub async fn confirm(mut req: Request, app: &App) -> Result<Handled, ApiError> {
    let claims = body::bearer(&req, app)?;
    let input: ConfirmBody = body::json(&mut req).await?;
    let code = TotpCode::parse(&input.code)
        .map_err(|_| ApiError::InvalidRequest("code must be exactly 6 digits".into()))?;
    let config = app.config()?;
    let key = enrollment_key(&claims.sub);
    let enrollment: Enrollment = app
        .kv()?
        .get(&key, app.now)
        .await?
        .ok_or(ApiError::EnrollmentExpired)?;
    let opened = config
        .totp_box
        .open(&enrollment.totp_secret, &claims.sub)
        .map_err(|e| ApiError::Internal(format!("open enrollment secret: {e:?}")))?;
    let secret = TotpSecret::from_bytes(&opened.plaintext);
    let step = matching_step(&secret, &code, app.now).ok_or(ApiError::InvalidCode {
        attempts_remaining: None,
    })?;

    let (recovery_codes, recovery_hashes) = config.recovery.generate_set(&claims.sub);
    // The new session proves password + TOTP; the aal1 session that enrolled is replaced.
    let grant = Grant::new(
        &config,
        Authentication::password_only(claims.auth_time).with_second_factor(SecondFactor::Totp),
        app.now,
    );
    let refresh_hash = grant.refresh.hash();
    let enabled = users::enable_totp(
        &app.db()?,
        &EnableTotp {
            user_id: &claims.sub,
            sealed_secret: &enrollment.totp_secret,
            first_step: step,
            recovery_hashes: &recovery_hashes,
            replaced_session: &claims.sid,
            now: app.now,
        },
        &grant.session(&claims.sub, &refresh_hash),
    )
    .await?;
    if !enabled {
        return Err(ApiError::AlreadyEnabled);
    }
    app.after_response("enrollment cleanup", move |env| async move {
        kv_from(&env)?.delete(&key).await
    });
    app.event(EventKind::TotpEnabled, &claims.sub);

    let mut body = authenticated(
        &config,
        &Profile {
            user_id: &claims.sub,
            username: &claims.preferred_username,
            email: claims.email.as_deref(),
            mfa_enabled: true,
        },
        &grant.session_id,
        &grant.authentication,
        &grant.refresh,
        app.now,
    );
    body["recovery_codes"] = json!(recovery_codes);
    Ok((Reply::ok(body), Some(claims.sub)))
}
