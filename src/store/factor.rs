//! Spending a second factor: the SQL shared by login/mfa and by the routes that need a
//! fresh code (disabling TOTP, new recovery codes, changing the password).
//!
//! Within one transaction: the account's second-factor throttle is checked, the
//! evidence is accepted only if fresh (a later TOTP step than the last accepted one,
//! or an unused recovery code) and marked with the request's nonce, and a failure is
//! counted otherwise. Statements that must happen only on success are guarded on
//! that nonce mark.

use serde::Deserialize;
use worker::D1PreparedStatement;

use super::{args, rows, Arg, Db};
use crate::domain::factor::Evidence;
use crate::domain::throttle::delay_sql;
use crate::error::ApiError;

/// `NOT EXISTS` a lock on throttle key `?k` at time `?n`.
pub fn unlocked(k: u8, n: u8) -> String {
    format!("NOT EXISTS (SELECT 1 FROM throttle WHERE key = ?{k} AND locked_until > ?{n})")
}

/// True inside the transaction once the evidence was accepted for request nonce `?n`
/// of user `?u`.
pub fn accepted(evidence: &Evidence, u: u8, n: u8) -> String {
    match evidence {
        Evidence::TotpStep(_) => {
            format!("EXISTS (SELECT 1 FROM users WHERE id = ?{u} AND totp_last_used_by = ?{n})")
        }
        Evidence::RecoveryHash(_) => {
            format!("EXISTS (SELECT 1 FROM recovery_codes WHERE user_id = ?{u} AND used_by = ?{n})")
        }
    }
}

/// Accepts the evidence if fresh, the account is not locked and `extra` holds.
/// Binds ?1 user, ?2 throttle key, ?3 step or code hash, ?4 nonce, ?5 now; `extra`
/// may use those and its own `extra_args` from ?6 on.
#[allow(clippy::too_many_arguments)]
pub fn accept_statement(
    db: &Db,
    evidence: &Evidence,
    user_id: &str,
    key: &str,
    nonce: &str,
    now: i64,
    extra: &str,
    extra_args: &[Arg<'_>],
) -> Result<Option<D1PreparedStatement>, ApiError> {
    let lock_free = unlocked(2, 5);
    let (sql, evidence_arg): (String, Arg<'_>) = match evidence {
        Evidence::TotpStep(None) => return Ok(None),
        Evidence::TotpStep(Some(step)) => (
            format!(
                "UPDATE users SET totp_last_step = ?3, totp_last_used_by = ?4 WHERE id = ?1 \
                 AND totp_enabled_at IS NOT NULL AND totp_last_step < ?3 AND {lock_free} AND {extra}"
            ),
            Arg::Int(*step as i64),
        ),
        Evidence::RecoveryHash(hash) => (
            format!(
                "UPDATE recovery_codes SET used_at = ?5, used_by = ?4 WHERE user_id = ?1 \
                 AND code_hash = ?3 AND used_at IS NULL AND {lock_free} AND {extra} \
                 AND EXISTS (SELECT 1 FROM users WHERE id = ?1 AND totp_enabled_at IS NOT NULL)"
            ),
            Arg::Text(hash),
        ),
    };
    let mut all: Vec<Arg<'_>> = vec![
        user_id.into(),
        key.into(),
        evidence_arg,
        nonce.into(),
        now.into(),
    ];
    all.extend_from_slice(extra_args);
    Ok(Some(db.statement(&sql, &all)?))
}

/// Counts a failed attempt against the account when `failed` (params from ?4) holds.
pub fn count_failure_statement(
    db: &Db,
    key: &str,
    nonce: &str,
    now: i64,
    failed: &str,
    failed_args: &[Arg<'_>],
) -> Result<D1PreparedStatement, ApiError> {
    let mut all: Vec<Arg<'_>> = vec![key.into(), nonce.into(), now.into()];
    all.extend_from_slice(failed_args);
    db.statement(
        &format!(
            "INSERT INTO throttle (key, failures, locked_until, last_by) SELECT ?1, 1, ?3, ?2 \
             WHERE {failed} AND {lock_free} \
             ON CONFLICT(key) DO UPDATE SET failures = failures + 1, \
             locked_until = ?3 + {delay}, last_by = ?2",
            lock_free = unlocked(1, 3),
            delay = delay_sql("failures + 1")
        ),
        &all,
    )
}

/// Clears the account's count once `succeeded` (params from ?3) holds.
pub fn reset_statement(
    db: &Db,
    key: &str,
    nonce: &str,
    succeeded: &str,
    succeeded_args: &[Arg<'_>],
) -> Result<D1PreparedStatement, ApiError> {
    let mut all: Vec<Arg<'_>> = vec![key.into(), nonce.into()];
    all.extend_from_slice(succeeded_args);
    db.statement(
        &format!(
            "UPDATE throttle SET failures = 0, locked_until = 0 WHERE key = ?1 AND {succeeded}"
        ),
        &all,
    )
}

#[derive(Debug, PartialEq, Eq)]
pub enum CodeOutcome {
    Accepted,
    Wrong { account_failures: i64 },
    Throttled { locked_until: i64 },
}

pub struct CodeCheck<'a> {
    pub user_id: &'a str,
    pub key: &'a str,
    pub nonce: &'a str,
    pub now: i64,
    pub evidence: &'a Evidence,
}

/// One batch: spend the evidence, run `actions` (built with `accepted(evidence, u, n)`
/// as their guard) only if it was accepted, count or reset the throttle, and report.
pub async fn spend_for_action(
    db: &Db,
    c: &CodeCheck<'_>,
    actions: Vec<D1PreparedStatement>,
) -> Result<CodeOutcome, ApiError> {
    let mut batch = Vec::with_capacity(actions.len() + 4);
    if let Some(s) = accept_statement(db, c.evidence, c.user_id, c.key, c.nonce, c.now, "1", &[])? {
        batch.push(s);
    }
    batch.extend(actions);
    batch.push(count_failure_statement(
        db,
        c.key,
        c.nonce,
        c.now,
        &format!("NOT {}", accepted(c.evidence, 4, 2)),
        args![c.user_id],
    )?);
    batch.push(reset_statement(
        db,
        c.key,
        c.nonce,
        &accepted(c.evidence, 3, 2),
        args![c.user_id],
    )?);
    batch.push(db.statement(
        &format!(
            "SELECT {} AS accepted, \
             COALESCE((SELECT locked_until FROM throttle WHERE key = ?3), 0) AS locked_until, \
             COALESCE((SELECT failures FROM throttle WHERE key = ?3), 0) AS failures, \
             COALESCE((SELECT last_by = ?2 FROM throttle WHERE key = ?3), 0) AS counted",
            accepted(c.evidence, 1, 2)
        ),
        args![c.user_id, c.nonce, c.key],
    )?);
    let results = db.batch("factor.spend_for_action", batch).await?;
    #[derive(Deserialize)]
    struct Verdict {
        accepted: i64,
        locked_until: i64,
        failures: i64,
        counted: i64,
    }
    let v = rows::<Verdict>(results.last().expect("verdict"), "code verdict")?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal("code verdict missing".into()))?;
    Ok(if v.accepted == 1 {
        CodeOutcome::Accepted
    } else if v.counted == 1 {
        CodeOutcome::Wrong {
            account_failures: v.failures,
        }
    } else if v.locked_until > c.now {
        CodeOutcome::Throttled {
            locked_until: v.locked_until,
        }
    } else {
        CodeOutcome::Wrong {
            account_failures: v.failures,
        }
    })
}
