//! POST /v1/login and POST /v1/login/mfa: the two steps of a login.

use serde::Deserialize;
use serde_json::json;
use worker::Request;

use super::grant::{authenticated, Grant, Profile};
use super::Handled;
use crate::domain::opaque::MfaToken;
use crate::domain::password::{hash_password, needs_rehash, verify_password, Password, DUMMY_PHC};
use crate::domain::recovery::RecoveryCode;
use crate::domain::session::{after_password, PasswordOutcome, SecondFactor, MFA_METHODS};
use crate::domain::totp::{matching_step, TotpCode, TotpSecret};
use crate::domain::username::Username;
use crate::error::ApiError;
use crate::http::{body, App, Reply};
use crate::store::challenges::{self, mfa_key, MfaChallenge};
use crate::store::mfa::{self, Attempt, Outcome, Proof};
use crate::store::{sessions, users};

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

pub async fn login(mut req: Request, app: &App) -> Result<Handled, ApiError> {
    let input: LoginBody = body::json(&mut req).await?;
    let config = app.config()?;
    // Input that cannot belong to any account is refused before storage is touched;
    // that answer does not depend on which accounts exist, so it reveals nothing.
    let (Ok(username), Some(password)) = (
        Username::parse(&input.username),
        Password::for_login(&input.password),
    ) else {
        return Err(ApiError::InvalidCredentials);
    };

    let user = users::by_username(&app.db()?, username.as_str()).await?;
    // Unknown users cost the same Argon2 work as known ones.
    let phc = user
        .as_ref()
        .map_or(DUMMY_PHC, |u| u.password_hash.as_str());
    let password_ok = verify_password(&password, phc);
    let user = match user {
        Some(u) if password_ok => u,
        _ => return Err(ApiError::InvalidCredentials),
    };
    if needs_rehash(&user.password_hash) {
        // Hashes made under older parameters are upgraded while the password is at hand.
        let (id, old, new) = (
            user.id.clone(),
            user.password_hash.clone(),
            hash_password(&password),
        );
        app.after_response("password rehash", move |env| async move {
            let db = env
                .d1("DB")
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            users::update_password_hash(&db, &id, &old, &new).await
        });
    }

    match after_password(user.totp_enabled(), app.now) {
        PasswordOutcome::Authenticated(auth) => {
            let grant = Grant::new(&config, auth, app.now);
            let refresh_hash = grant.refresh.hash();
            sessions::insert(&app.db()?, &grant.session(&user.id, &refresh_hash)).await?;
            let body = authenticated(
                &config,
                &Profile {
                    user_id: &user.id,
                    username: &user.username,
                    email: user.email.as_deref(),
                    mfa_enabled: false,
                },
                &grant.session_id,
                &grant.authentication,
                &grant.refresh,
                app.now,
            );
            Ok((Reply::ok(body), Some(user.id)))
        }
        PasswordOutcome::SecondFactorRequired { auth_time } => {
            let token = MfaToken::generate();
            let challenge = MfaChallenge {
                user_id: user.id.clone(),
                username: user.username,
                email: user.email,
                totp_secret: user.totp_secret.unwrap_or_default(),
                totp_enabled_at: user.totp_enabled_at.unwrap_or_default(),
                auth_time,
                expires_at: app.now + config.mfa_ttl,
            };
            challenges::put(
                &app.kv()?,
                &mfa_key(&token.hash()),
                &challenge,
                config.mfa_ttl,
            )
            .await?;
            let body = json!({
                "status": "mfa_required",
                "mfa_token": token.expose(),
                "expires_in": config.mfa_ttl,
                "methods": MFA_METHODS,
            });
            Ok((Reply::ok(body), Some(user.id)))
        }
    }
}

#[derive(Deserialize)]
struct MfaBody {
    mfa_token: String,
    code: Option<String>,
    recovery_code: Option<String>,
}

enum Submitted {
    Totp(TotpCode),
    Recovery(RecoveryCode),
}

pub async fn login_mfa(mut req: Request, app: &App) -> Result<Handled, ApiError> {
    let input: MfaBody = body::json(&mut req).await?;
    let submitted = match (input.code.as_deref(), input.recovery_code.as_deref()) {
        (Some(code), None) => Submitted::Totp(
            TotpCode::parse(code)
                .map_err(|_| ApiError::InvalidRequest("code must be exactly 6 digits".into()))?,
        ),
        (None, Some(code)) => Submitted::Recovery(RecoveryCode::parse(code).ok_or_else(|| {
            ApiError::InvalidRequest(
                "recovery_code must be 16 letters and digits, as shown when it was issued".into(),
            )
        })?),
        _ => {
            return Err(ApiError::InvalidRequest(
                "send exactly one of code or recovery_code".into(),
            ))
        }
    };
    let token = MfaToken::parse(&input.mfa_token).ok_or(ApiError::InvalidMfaToken)?;
    let token_hash = token.hash();
    let config = app.config()?;
    let kv_key = mfa_key(&token_hash);
    let challenge: MfaChallenge = challenges::get(&app.kv()?, &kv_key, app.now)
        .await?
        .ok_or(ApiError::InvalidMfaToken)?;
    let user_id = challenge.user_id.as_str();

    let recovery_hash;
    let (proof, factor) = match &submitted {
        Submitted::Totp(code) => {
            let opened = config
                .totp_box
                .open(&challenge.totp_secret, user_id)
                .map_err(|e| ApiError::Internal(format!("open totp secret: {e:?}")))?;
            let secret = TotpSecret::from_bytes(&opened.plaintext);
            let step = matching_step(&secret, code, app.now);
            (
                Proof::Totp {
                    step,
                    enabled_at: challenge.totp_enabled_at,
                },
                SecondFactor::Totp,
            )
        }
        Submitted::Recovery(code) => {
            recovery_hash = config.recovery.hash(user_id, code);
            (
                Proof::RecoveryCode {
                    code_hash: &recovery_hash,
                },
                SecondFactor::RecoveryCode,
            )
        }
    };

    let grant = Grant::new(
        &config,
        crate::domain::session::Authentication::password_only(challenge.auth_time)
            .with_second_factor(factor),
        app.now,
    );
    let refresh_hash = grant.refresh.hash();
    let outcome = mfa::spend(
        &app.db()?,
        &Attempt {
            token_hash: &token_hash,
            user_id,
            token_expires_at: challenge.expires_at,
            now: app.now,
        },
        &proof,
        &grant.session(user_id, &refresh_hash),
    )
    .await?;

    match outcome {
        Outcome::Accepted => {
            let now = app.now;
            app.after_response("mfa cleanup", move |env| async move {
                let kv = env
                    .kv("CHALLENGES")
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                challenges::delete(&kv, &kv_key).await?;
                let db = env
                    .d1("DB")
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                mfa::purge_expired(&db, now).await
            });
            let body = authenticated(
                &config,
                &Profile {
                    user_id,
                    username: &challenge.username,
                    email: challenge.email.as_deref(),
                    mfa_enabled: true,
                },
                &grant.session_id,
                &grant.authentication,
                &grant.refresh,
                app.now,
            );
            Ok((Reply::ok(body), Some(challenge.user_id)))
        }
        Outcome::WrongCode { attempts_remaining } => Err(ApiError::InvalidCode {
            attempts_remaining: Some(attempts_remaining),
        }),
        Outcome::TokenDead => Err(ApiError::InvalidMfaToken),
    }
}
