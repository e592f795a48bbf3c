//! POST /v1/login and POST /v1/login/mfa: the two steps of a login.

use serde::Deserialize;
use serde_json::json;
use worker::Request;

use super::grant::{authenticated, Grant, Profile};
use super::password_check::check_password;
use super::second_factor::open_totp_secret;
use super::Handled;
use crate::domain::events::EventKind;
use crate::domain::factor::Submitted;
use crate::domain::opaque::MfaToken;
use crate::domain::password::Password;
use crate::domain::session::{
    after_password, Authentication, PasswordOutcome, SecondFactor, MFA_METHODS,
};
use crate::domain::throttle::{second_factor_key, FREE_FAILURES};
use crate::domain::username::Username;
use crate::error::ApiError;
use crate::http::app::{db_from, kv_from, Limit};
use crate::http::{body, App, Reply};
use crate::store::challenges::{mfa_key, MfaChallenge};
use crate::store::mfa::{self, Attempt, Outcome};
use crate::store::throttle::Lookup;
use crate::store::{sessions, Timings};

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

pub async fn login(mut req: Request, app: &App) -> Result<Handled, ApiError> {
    app.rate_limit(Limit::Login).await?;
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
    let db = app.db()?;
    let user = check_password(
        app,
        &db,
        username.as_str(),
        Lookup::Username(username.as_str()),
        &password,
    )
    .await?;

    match after_password(user.totp_enabled(), app.now) {
        PasswordOutcome::Authenticated(auth) => {
            let grant = Grant::new(&config, auth, app.now);
            let refresh_hash = grant.refresh.hash();
            sessions::insert(&db, &grant.session(&user.id, &refresh_hash)).await?;
            app.event(EventKind::LoginSucceeded, &user.id);
            let body = authenticated(
                &config,
                &Profile::of(&user, false),
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
            app.kv()?
                .put(&mfa_key(&token.hash()), &challenge, config.mfa_ttl)
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

pub async fn login_mfa(mut req: Request, app: &App) -> Result<Handled, ApiError> {
    app.rate_limit(Limit::SecondFactor).await?;
    let input: MfaBody = body::json(&mut req).await?;
    let submitted = Submitted::parse(input.code.as_deref(), input.recovery_code.as_deref())
        .map_err(|m| ApiError::InvalidRequest(m.into()))?;
    let token = MfaToken::parse(&input.mfa_token).ok_or(ApiError::InvalidMfaToken)?;
    let token_hash = token.hash();
    let config = app.config()?;
    let kv_key = mfa_key(&token_hash);
    let challenge: MfaChallenge = app
        .kv()?
        .get(&kv_key, app.now)
        .await?
        .ok_or(ApiError::InvalidMfaToken)?;
    let user_id = challenge.user_id.as_str();

    let secret = match submitted {
        Submitted::Totp(_) => Some(open_totp_secret(
            app,
            &config,
            user_id,
            &challenge.totp_secret,
        )?),
        Submitted::RecoveryCode(_) => None,
    };
    let evidence = submitted.examine(user_id, secret.as_ref(), &config.recovery, app.now);
    let grant = Grant::new(
        &config,
        Authentication::password_only(challenge.auth_time).with_second_factor(submitted.factor()),
        app.now,
    );
    let refresh_hash = grant.refresh.hash();
    let throttle_key = second_factor_key(user_id);
    let outcome = mfa::spend(
        &app.db()?,
        &Attempt {
            token_hash: &token_hash,
            user_id,
            token_expires_at: challenge.expires_at,
            totp_enabled_at: challenge.totp_enabled_at,
            throttle_key: &throttle_key,
            now: app.now,
        },
        &evidence,
        &grant.session(user_id, &refresh_hash),
    )
    .await?;

    match outcome {
        Outcome::Accepted => {
            let now = app.now;
            app.after_response("mfa cleanup", move |env| async move {
                kv_from(&env)?.delete(&kv_key).await?;
                mfa::purge_stale(&db_from(&env, std::rc::Rc::new(Timings::default()))?, now).await
            });
            app.event(EventKind::LoginSucceeded, user_id);
            if submitted.factor() == SecondFactor::RecoveryCode {
                app.event(EventKind::RecoveryCodeUsed, user_id);
            }
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
            Ok((Reply::ok(body), Some(challenge.user_id.clone())))
        }
        Outcome::WrongCode {
            attempts_remaining,
            account_failures,
        } => {
            app.event(EventKind::SecondFactorFailed, user_id);
            if account_failures == FREE_FAILURES {
                app.event_with(EventKind::Lockout, user_id, "second_factor".into());
            }
            Err(ApiError::InvalidCode {
                attempts_remaining: Some(attempts_remaining),
            })
        }
        Outcome::Throttled { locked_until } => Err(app.throttled(locked_until)),
        Outcome::TokenDead => Err(ApiError::InvalidMfaToken),
    }
}
