//! Step-up: a fresh second factor presented with a sensitive action, spent in the same
//! batch as the action (RFC 9470's idea of proving it again, here and now).

use super::context::db_from;
use super::{Ctx, ServiceError};
use crate::domain::config::Config;
use crate::domain::events::EventKind;
use crate::domain::factors::{Evidence, SecondFactor, Submitted};
use crate::domain::opaque::random_id;
use crate::domain::throttle::{second_factor_key, CappedFactor};
use crate::domain::totp::TotpSecret;
use crate::store::factors::{CodeCheck, CodeOutcome};
use crate::store::hard_cap::Cap;
use crate::store::users::{self, UserRow};
use crate::store::Timings;

/// A submitted second factor, examined and ready to be spent in one batch together with
/// the action it authorises.
pub struct FreshFactor {
    user_id: String,
    evidence: Evidence,
    nonce: String,
    key: String,
    factor: SecondFactor,
    cap_key: String,
    cap_limit: i64,
    recovers: Vec<String>,
    now: i64,
}

impl FreshFactor {
    pub fn examine(
        ctx: &Ctx,
        config: &Config,
        user: &UserRow,
        submitted: &Submitted,
    ) -> Result<Self, ServiceError> {
        let sealed = user.totp_secret.as_deref().filter(|_| user.totp_enabled());
        Self::examine_for(ctx, config, &user.id, sealed, submitted)
    }

    /// [`Self::examine`] for an account known by its id and sealed TOTP secret (`None`
    /// while TOTP is off).
    pub fn examine_for(
        ctx: &Ctx,
        config: &Config,
        user_id: &str,
        sealed_totp_secret: Option<&str>,
        submitted: &Submitted,
    ) -> Result<Self, ServiceError> {
        let sealed = sealed_totp_secret.ok_or(ServiceError::NotEnabled)?;
        let secret = if submitted.needs_totp_secret() {
            Some(open_totp_secret(ctx, config, user_id, sealed)?)
        } else {
            None
        };
        let factor = submitted.factor();
        Ok(Self {
            user_id: user_id.to_owned(),
            evidence: submitted.examine(user_id, secret.as_ref(), &config.recovery, ctx.now),
            nonce: random_id(),
            key: second_factor_key(user_id),
            factor,
            cap_key: factor.capped().key(user_id),
            cap_limit: config.max_failed_attempts,
            recovers: factor.recovers().iter().map(|c| c.key(user_id)).collect(),
            now: ctx.now,
        })
    }

    /// The action itself ends `cap` too (new recovery codes end a locked set's lock).
    pub fn recovering(mut self, cap: CappedFactor) -> Self {
        let key = cap.key(&self.user_id);
        if !self.recovers.contains(&key) {
            self.recovers.push(key);
        }
        self
    }

    /// What the store needs to spend this factor with an action.
    pub fn check(&self) -> CodeCheck<'_> {
        CodeCheck {
            user_id: &self.user_id,
            key: &self.key,
            nonce: &self.nonce,
            now: self.now,
            evidence: &self.evidence,
            cap: Cap {
                key: &self.cap_key,
                limit: self.cap_limit,
            },
            recovers: &self.recovers,
        }
    }

    /// Maps what the batch decided to the caller's answer, and records the events.
    pub fn settle(&self, ctx: &Ctx, outcome: CodeOutcome) -> Result<(), ServiceError> {
        let user_id = self.user_id.as_str();
        match outcome {
            CodeOutcome::Accepted => {
                if matches!(self.evidence, Evidence::RecoveryHash(_)) {
                    ctx.event(EventKind::RecoveryCodeUsed, user_id);
                }
                Ok(())
            }
            CodeOutcome::Wrong {
                account_failures,
                cap_failures,
            } => {
                ctx.second_factor_failed(user_id, account_failures);
                ctx.count_toward_cap(user_id, self.factor.capped(), cap_failures, self.cap_limit);
                Err(ServiceError::InvalidCode {
                    attempts_remaining: None,
                })
            }
            CodeOutcome::Throttled { locked_until } => Err(ctx.throttled(locked_until)),
            CodeOutcome::Locked => Err(ServiceError::FactorLocked(self.factor.capped())),
        }
    }
}

/// Decrypts a stored TOTP secret; one sealed under an old key is re-sealed under the
/// newest, off the response path.
pub fn open_totp_secret(
    ctx: &Ctx,
    config: &Config,
    user_id: &str,
    sealed: &str,
) -> Result<TotpSecret, ServiceError> {
    let opened = config
        .totp_box
        .open(sealed, user_id)
        .map_err(|e| ServiceError::Internal(format!("open totp secret: {e:?}")))?;
    if opened.stale_key {
        let resealed = config.totp_box.seal(&opened.plaintext, user_id);
        let (id, old) = (user_id.to_owned(), sealed.to_owned());
        ctx.after_response("reseal totp secret", move |env| async move {
            let db = db_from(&env, std::rc::Rc::new(Timings::default()))?;
            users::replace_totp_secret(&db, &id, &old, &resealed).await
        });
    }
    Ok(TotpSecret::from_bytes(&opened.plaintext))
}
