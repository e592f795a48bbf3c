//! GET /v1/2fa, DELETE /v1/2fa/totp, POST /v1/2fa/recovery-codes: factor changes, each
//! needing an aal2 session plus a fresh second factor (and the password to disable).

use serde::Deserialize;
use serde_json::json;
use worker::Request;

use super::password_check::check_caller_password;
use super::Handled;
use crate::domain::config::Config;
use crate::domain::events::EventKind;
use crate::domain::factor::{Evidence, Submitted};
use crate::domain::opaque::random_id;
use crate::domain::password::Password;
use crate::domain::throttle::{second_factor_key, FREE_FAILURES};
use crate::domain::tokens::AccessClaims;
use crate::domain::totp::TotpSecret;
use crate::error::ApiError;
use crate::http::app::db_from;
use crate::http::{body, App, Reply};
use crate::store::factor::{accepted, spend_for_action, CodeCheck, CodeOutcome};
use crate::store::sessions::revoke_all_statement;
use crate::store::users::{self, UserRow};
use crate::store::{args, Db, Timings};

pub async fn status(req: &Request, app: &App) -> Result<Handled, ApiError> {
    let claims = body::bearer(req, app)?;
    let status = users::factor_status(&app.db()?, &claims.sub)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    let body = json!({
        "totp_enabled": status.totp_enabled_at.is_some(),
        "enabled_at": status.totp_enabled_at,
        "recovery_codes_remaining": status.recovery_codes_remaining,
    });
    Ok((Reply::ok(body), Some(claims.sub)))
}

#[derive(Deserialize)]
struct DisableBody {
    password: String,
    code: Option<String>,
    recovery_code: Option<String>,
}

pub async fn disable_totp(mut req: Request, app: &App) -> Result<Handled, ApiError> {
    let claims = require_aal2(&req, app)?;
    let input: DisableBody = body::json(&mut req).await?;
    let submitted = parse_factor(input.code.as_deref(), input.recovery_code.as_deref())?;
    let password = Password::for_login(&input.password).ok_or(ApiError::InvalidCredentials)?;
    let config = app.config()?;
    let db = app.db()?;
    let user = check_caller_password(app, &db, &claims, &password).await?;
    let step = FreshFactor::examine(app, &config, &user, &submitted)?;
    let guard = accepted(&step.evidence, 1, 2);
    let actions = vec![
        step.revoke_all_sessions(&db, &user.id, app.now)?,
        db.statement(
            &format!(
                "UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL \
                 WHERE id = ?1 AND {guard}"
            ),
            args![user.id.as_str(), step.nonce.as_str()],
        )?,
        db.statement(
            &format!(
                "DELETE FROM recovery_codes WHERE user_id = ?1 AND used_by IS NOT ?2 AND {guard}"
            ),
            args![user.id.as_str(), step.nonce.as_str()],
        )?,
    ];
    step.spend(app, &db, &user.id, actions).await?;
    app.event(EventKind::TotpDisabled, &user.id);
    Ok((Reply::no_content(), Some(user.id)))
}

#[derive(Deserialize)]
struct RegenerateBody {
    code: Option<String>,
    recovery_code: Option<String>,
}

pub async fn regenerate_recovery_codes(mut req: Request, app: &App) -> Result<Handled, ApiError> {
    let claims = require_aal2(&req, app)?;
    let input: RegenerateBody = body::json(&mut req).await?;
    let submitted = parse_factor(input.code.as_deref(), input.recovery_code.as_deref())?;
    let config = app.config()?;
    let db = app.db()?;
    let user = users::by_id(&db, &claims.sub)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    let step = FreshFactor::examine(app, &config, &user, &submitted)?;
    let (codes, hashes) = config.recovery.generate_set(&user.id);
    let hashes = serde_json::to_string(&hashes)
        .map_err(|e| ApiError::Internal(format!("encode hashes: {e}")))?;
    let guard = accepted(&step.evidence, 1, 2);
    let actions = vec![
        db.statement(
            &format!(
                "DELETE FROM recovery_codes WHERE user_id = ?1 AND used_by IS NOT ?2 AND {guard}"
            ),
            args![user.id.as_str(), step.nonce.as_str()],
        )?,
        db.statement(
            &format!(
                "INSERT INTO recovery_codes (user_id, code_hash) \
                 SELECT ?1, value FROM json_each(?3) WHERE {guard}"
            ),
            args![user.id.as_str(), step.nonce.as_str(), hashes.as_str()],
        )?,
    ];
    step.spend(app, &db, &user.id, actions).await?;
    app.event(EventKind::RecoveryCodesRegenerated, &user.id);
    Ok((Reply::ok(json!({ "recovery_codes": codes })), Some(user.id)))
}

/// Factor changes need proof of a second factor in this session (RFC 9470 step-up).
pub(super) fn require_aal2(req: &Request, app: &App) -> Result<AccessClaims, ApiError> {
    let claims = body::bearer(req, app)?;
    if claims.aal != "aal2" {
        return Err(ApiError::InsufficientAuthentication);
    }
    Ok(claims)
}

pub(super) fn parse_factor(
    code: Option<&str>,
    recovery: Option<&str>,
) -> Result<Submitted, ApiError> {
    Submitted::parse(code, recovery).map_err(|m| ApiError::InvalidRequest(m.into()))
}

/// A submitted second factor, examined and ready to be spent in one batch together with
/// the actions it authorises.
pub(super) struct FreshFactor {
    pub evidence: Evidence,
    pub nonce: String,
    key: String,
}

impl FreshFactor {
    pub fn examine(
        app: &App,
        config: &Config,
        user: &UserRow,
        submitted: &Submitted,
    ) -> Result<Self, ApiError> {
        let (Some(sealed), true) = (user.totp_secret.as_deref(), user.totp_enabled()) else {
            return Err(ApiError::NotEnabled);
        };
        let secret = match submitted {
            Submitted::Totp(_) => Some(open_totp_secret(app, config, &user.id, sealed)?),
            Submitted::RecoveryCode(_) => None,
        };
        Ok(Self {
            evidence: submitted.examine(&user.id, secret.as_ref(), &config.recovery, app.now),
            nonce: random_id(),
            key: second_factor_key(&user.id),
        })
    }

    /// Ends every session of the user, if and only if this factor is accepted.
    pub fn revoke_all_sessions(
        &self,
        db: &Db,
        user_id: &str,
        now: i64,
    ) -> Result<worker::D1PreparedStatement, ApiError> {
        revoke_all_statement(
            db,
            user_id,
            now,
            &accepted(&self.evidence, 1, 3),
            args![self.nonce.as_str()],
        )
    }

    /// Runs `actions` (guarded with `accepted(&self.evidence, ..)` on `self.nonce`) if
    /// and only if the factor is accepted; maps the other outcomes to API errors.
    pub async fn spend(
        &self,
        app: &App,
        db: &Db,
        user_id: &str,
        actions: Vec<worker::D1PreparedStatement>,
    ) -> Result<(), ApiError> {
        let check = CodeCheck {
            user_id,
            key: &self.key,
            nonce: &self.nonce,
            now: app.now,
            evidence: &self.evidence,
        };
        match spend_for_action(db, &check, actions).await? {
            CodeOutcome::Accepted => {
                if matches!(self.evidence, Evidence::RecoveryHash(_)) {
                    app.event(EventKind::RecoveryCodeUsed, user_id);
                }
                Ok(())
            }
            CodeOutcome::Wrong { account_failures } => {
                app.event(EventKind::SecondFactorFailed, user_id);
                if account_failures == FREE_FAILURES {
                    app.event_with(EventKind::Lockout, user_id, "second_factor".into());
                }
                Err(ApiError::InvalidCode {
                    attempts_remaining: None,
                })
            }
            CodeOutcome::Throttled { locked_until } => Err(app.throttled(locked_until)),
        }
    }
}

/// Decrypts a stored TOTP secret; one sealed under an old key is re-sealed under the
/// newest, off the response path.
pub(super) fn open_totp_secret(
    app: &App,
    config: &Config,
    user_id: &str,
    sealed: &str,
) -> Result<TotpSecret, ApiError> {
    let opened = config
        .totp_box
        .open(sealed, user_id)
        .map_err(|e| ApiError::Internal(format!("open totp secret: {e:?}")))?;
    if opened.stale_key {
        let resealed = config.totp_box.seal(&opened.plaintext, user_id);
        let (id, old) = (user_id.to_owned(), sealed.to_owned());
        app.after_response("reseal totp secret", move |env| async move {
            let db = db_from(&env, std::rc::Rc::new(Timings::default()))?;
            users::replace_totp_secret(&db, &id, &old, &resealed).await
        });
    }
    Ok(TotpSecret::from_bytes(&opened.plaintext))
}
