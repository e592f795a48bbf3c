//! POST /v1/password and GET /v1/events.

use serde::Deserialize;
use serde_json::json;
use worker::Request;

use super::grant::{authenticated, Grant, Profile};
use super::password_check::check_caller_password;
use super::second_factor::{parse_factor, FreshFactor};
use super::Handled;
use crate::domain::events::EventKind;
use crate::domain::password::{hash_password, Password};
use crate::domain::session::Authentication;
use crate::error::ApiError;
use crate::http::{body, App, Reply};
use crate::store::factor::accepted;
use crate::store::sessions::insert_statement;
use crate::store::{args, events, users};

#[derive(Deserialize)]
struct ChangePasswordBody {
    current_password: String,
    new_password: String,
    code: Option<String>,
    recovery_code: Option<String>,
}

/// Changes the password, ends every session of the user, and starts a new one here.
pub async fn change_password(mut req: Request, app: &App) -> Result<Handled, ApiError> {
    let claims = body::bearer(&req, app)?;
    let input: ChangePasswordBody = body::json(&mut req).await?;
    let new_password = Password::new_for_user(&input.new_password, &claims.preferred_username)
        .map_err(|r| ApiError::WeakPassword(r.message()))?;
    let current =
        Password::for_login(&input.current_password).ok_or(ApiError::InvalidCredentials)?;
    let submitted = match (input.code.as_deref(), input.recovery_code.as_deref()) {
        (None, None) => None,
        (code, rc) => Some(parse_factor(code, rc)?),
    };
    let config = app.config()?;
    let db = app.db()?;
    let user = check_caller_password(app, &db, &claims, &current).await?;
    if user.totp_enabled() && submitted.is_none() {
        return Err(ApiError::InvalidRequest(
            "two-factor authentication is on: send code (or recovery_code) too".into(),
        ));
    }

    let new_hash = app.argon2(|| hash_password(&new_password)).await;
    let factor = submitted.as_ref().filter(|_| user.totp_enabled());
    let authentication = match factor {
        Some(f) => Authentication::password_only(app.now).with_second_factor(f.factor()),
        None => Authentication::password_only(app.now),
    };
    let grant = Grant::new(&config, authentication, app.now);
    let refresh_hash = grant.refresh.hash();
    let session = grant.session(&user.id, &refresh_hash);

    match factor {
        Some(submitted) => {
            let step = FreshFactor::examine(app, &config, &user, submitted)?;
            let actions = vec![
                db.statement(
                    &format!(
                        "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND {}",
                        accepted(&step.evidence, 1, 2)
                    ),
                    args![user.id.as_str(), step.nonce.as_str(), new_hash.as_str()],
                )?,
                step.revoke_all_sessions(&db, &user.id, app.now)?,
                insert_statement(
                    &db,
                    &session,
                    Some((&accepted(&step.evidence, 2, 7), args![step.nonce.as_str()])),
                )?,
            ];
            step.spend(app, &db, &user.id, actions).await?;
        }
        None => {
            let changed = users::replace_password(
                &db,
                &user.id,
                &user.password_hash,
                &new_hash,
                app.now,
                &session,
            )
            .await?;
            if !changed {
                return Err(ApiError::InvalidCredentials);
            }
        }
    }
    app.event(EventKind::PasswordChanged, &user.id);
    let body = authenticated(
        &config,
        &Profile::of(&user, user.totp_enabled()),
        &grant.session_id,
        &grant.authentication,
        &grant.refresh,
        app.now,
    );
    Ok((Reply::ok(body), Some(user.id)))
}

pub async fn events(req: &Request, app: &App) -> Result<Handled, ApiError> {
    let claims = body::bearer(req, app)?;
    let events = events::recent(&app.db()?, &claims.sub).await?;
    Ok((Reply::ok(json!({ "events": events })), Some(claims.sub)))
}
