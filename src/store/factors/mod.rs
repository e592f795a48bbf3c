//! Spending a second factor: the SQL shared by login/mfa and by the step-up actions
//! (disabling TOTP, new recovery codes, changing the password). Each factor's own SQL
//! is in the module of its name; the match arms below are its registration.
//!
//! Within one transaction: the account's second-factor throttle is checked, the
//! evidence is accepted only if fresh (a later TOTP step than the last accepted one,
//! or an unused recovery code) and marked with the request's nonce, and a failure is
//! counted otherwise. Statements that must happen only on success are guarded on
//! that nonce mark ([`accepted`]).

pub mod recovery_code;
mod totp;

use serde::Deserialize;
use worker::D1Result;

use super::hard_cap::{self, Cap};
use super::sql::{sql, Sql};
use super::{verdict, Db, StoreError};
use crate::domain::factors::Evidence;
use crate::domain::throttle::delay_sql;

/// No lock on throttle `key` at `now`.
pub fn unlocked<'a>(key: &'a str, now: i64) -> Sql<'a> {
    sql!["NOT EXISTS (SELECT 1 FROM throttle WHERE key = " (key) " AND locked_until > " (now) ")"]
}

/// True inside the transaction once the evidence was accepted for request `nonce`.
pub fn accepted<'a>(evidence: &Evidence, user_id: &'a str, nonce: &'a str) -> Sql<'a> {
    match evidence {
        Evidence::TotpStep(_) => totp::accepted(user_id, nonce),
        Evidence::RecoveryHash(_) => recovery_code::accepted(user_id, nonce),
    }
}

/// Accepts the evidence if fresh, the account is not locked and `extra` holds; `None`
/// when there is nothing that could be accepted (a code that matched no step).
pub fn accept<'a>(
    evidence: &'a Evidence,
    user_id: &'a str,
    key: &'a str,
    nonce: &'a str,
    now: i64,
    extra: Sql<'a>,
) -> Option<Sql<'a>> {
    let unlocked = unlocked(key, now);
    match evidence {
        Evidence::TotpStep(None) => None,
        Evidence::TotpStep(Some(step)) => {
            Some(totp::accept(*step, user_id, nonce, unlocked, extra))
        }
        Evidence::RecoveryHash(hash) => Some(recovery_code::accept(
            hash, user_id, nonce, now, unlocked, extra,
        )),
    }
}

/// Counts a failed attempt against throttle `key` when `failed` holds.
pub fn count_failure<'a>(key: &'a str, nonce: &'a str, now: i64, failed: Sql<'a>) -> Sql<'a> {
    sql![
        "INSERT INTO throttle (key, failures, locked_until, last_by) SELECT " (key) ", 1, "
        (now) ", " (nonce) " WHERE " [failed] " AND " [unlocked(key, now)]
        " ON CONFLICT(key) DO UPDATE SET failures = failures + 1, locked_until = " (now)
        " + " {delay_sql("failures + 1")} ", last_by = " (nonce)
    ]
}

/// Clears throttle `key` once `succeeded` holds.
pub fn reset<'a>(key: &'a str, succeeded: Sql<'a>) -> Sql<'a> {
    sql!["UPDATE throttle SET failures = 0, locked_until = 0 WHERE key = " (key) " AND " [succeeded]]
}

#[derive(Debug, PartialEq, Eq)]
pub enum CodeOutcome {
    Accepted,
    Wrong {
        account_failures: i64,
        /// Consecutive failures of this factor, this one included.
        cap_failures: i64,
    },
    Throttled {
        locked_until: i64,
    },
    /// The factor reached its hard cap.
    Locked,
}

/// A fresh second factor offered for a step-up action.
pub struct CodeCheck<'a> {
    pub user_id: &'a str,
    /// The account's second-factor throttle key.
    pub key: &'a str,
    /// This request's mark on whatever it spends.
    pub nonce: &'a str,
    pub now: i64,
    pub evidence: &'a Evidence,
    /// The hard cap of the submitted factor.
    pub cap: Cap<'a>,
    /// Hard caps that a success ends (the factor's own, and those it recovers).
    pub recovers: &'a [String],
}

impl<'a> CodeCheck<'a> {
    /// The guard for statements that must run only if this factor is accepted.
    pub fn accepted(&self) -> Sql<'a> {
        accepted(self.evidence, self.user_id, self.nonce)
    }
}

/// One batch: spend the evidence, run `actions` (guarded with [`CodeCheck::accepted`])
/// only if it was accepted, count or reset the throttle, and report.
pub async fn spend_for_action(
    db: &Db,
    c: &CodeCheck<'_>,
    label: &'static str,
    actions: Vec<Sql<'_>>,
) -> Result<CodeOutcome, StoreError> {
    Ok(spend_for_action_then(db, c, label, actions, Vec::new())
        .await?
        .0)
}

/// [`spend_for_action`], and `after` once the verdict is read, in the same batch: for
/// actions that remove the rows [`CodeCheck::accepted`] looks at (deleting the account)
/// or report on the actions (a password reset). Also returns the results of `after`.
pub async fn spend_for_action_then(
    db: &Db,
    c: &CodeCheck<'_>,
    label: &'static str,
    actions: Vec<Sql<'_>>,
    after: Vec<Sql<'_>>,
) -> Result<(CodeOutcome, Vec<D1Result>), StoreError> {
    let after_len = after.len();
    let mut batch = Vec::with_capacity(actions.len() + after_len + 6);
    batch.extend(accept(
        c.evidence,
        c.user_id,
        c.key,
        c.nonce,
        c.now,
        c.cap.open(),
    ));
    batch.extend(actions);
    batch.push(count_failure(
        c.key,
        c.nonce,
        c.now,
        sql!["NOT " [c.accepted()] " AND " [c.cap.open()]],
    ));
    let counted =
        sql!["EXISTS (SELECT 1 FROM throttle WHERE key = " (c.key) " AND last_by = " (c.nonce) ")"];
    batch.push(c.cap.strike(c.nonce, counted));
    batch.extend(c.recovers.iter().map(|k| hard_cap::clear(k, c.accepted())));
    batch.push(reset(c.key, c.accepted()));
    batch.push(sql![
        "SELECT " [c.accepted()] " AS accepted, "
        "COALESCE((SELECT locked_until FROM throttle WHERE key = " (c.key) "), 0) AS locked_until, "
        "COALESCE((SELECT failures FROM throttle WHERE key = " (c.key) "), 0) AS failures, "
        "COALESCE((SELECT last_by = " (c.nonce) " FROM throttle WHERE key = " (c.key) "), 0) AS counted, "
        [c.cap.count()] " AS cap_failures"
    ]);
    batch.extend(after);
    let mut results = db.batch(label, &batch).await?;
    let after = results.split_off(results.len().saturating_sub(after_len));
    #[derive(Deserialize)]
    struct Verdict {
        accepted: i64,
        locked_until: i64,
        failures: i64,
        counted: i64,
        cap_failures: i64,
    }
    let v: Verdict = verdict(&results, "code verdict")?;
    let outcome = if v.accepted == 1 {
        CodeOutcome::Accepted
    } else if v.counted == 1 {
        CodeOutcome::Wrong {
            account_failures: v.failures,
            cap_failures: v.cap_failures,
        }
    } else if v.locked_until > c.now {
        CodeOutcome::Throttled {
            locked_until: v.locked_until,
        }
    } else if v.cap_failures >= c.cap.limit {
        CodeOutcome::Locked
    } else {
        CodeOutcome::Wrong {
            account_failures: v.failures,
            cap_failures: v.cap_failures,
        }
    };
    Ok((outcome, after))
}
