//! Spending an mfa_token: the single D1 batch that decides a second-factor attempt.
//!
//! Everything that must be exact happens inside one transaction: the token's attempt
//! counter, the account's second-factor throttle, single use of the token, single use
//! of the TOTP step (or recovery code), and the creation of the session. Parallel
//! requests serialise on D1, so of twenty racing requests with one valid code exactly
//! one gets a session.

use serde::Deserialize;

use super::factor::{accept_statement, accepted, count_failure_statement, reset_statement};
use super::sessions::{insert_statement, NewSession};
use super::{args, rows, Db};
use crate::domain::factor::Evidence;
use crate::domain::session::MAX_CODE_ATTEMPTS;
use crate::error::ApiError;

pub struct Attempt<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub token_expires_at: i64,
    pub totp_enabled_at: i64,
    /// The account's second-factor throttle key.
    pub throttle_key: &'a str,
    pub now: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    WrongCode {
        attempts_remaining: i64,
        account_failures: i64,
    },
    /// Unknown to D1, expired, used up by wrong codes, or already spent.
    TokenDead,
    /// The account has failed too often lately.
    Throttled {
        locked_until: i64,
    },
}

pub async fn spend(
    db: &Db,
    a: &Attempt<'_>,
    evidence: &Evidence,
    session: &NewSession<'_>,
) -> Result<Outcome, ApiError> {
    let sid = session.id;
    let mut batch = vec![db.statement(
        "INSERT INTO mfa_attempts (token_hash, user_id, failures, expires_at) \
         VALUES (?1, ?2, 0, ?3) ON CONFLICT(token_hash) DO NOTHING",
        args![a.token_hash, a.user_id, a.token_expires_at],
    )?];

    // The token must be live, and for TOTP the factor must be the one enrolled when
    // the password step ran (not one disabled and re-enrolled since).
    let live = format!(
        "EXISTS (SELECT 1 FROM mfa_attempts WHERE token_hash = ?6 AND consumed_by IS NULL \
         AND failures < {MAX_CODE_ATTEMPTS} AND expires_at > ?5) \
         AND EXISTS (SELECT 1 FROM users WHERE id = ?1 AND totp_enabled_at = ?7)"
    );
    if let Some(accept) = accept_statement(
        db,
        evidence,
        a.user_id,
        a.throttle_key,
        sid,
        a.now,
        &live,
        args![a.token_hash, a.totp_enabled_at],
    )? {
        batch.push(accept);
    }
    batch.push(db.statement(
        &format!(
            "UPDATE mfa_attempts SET consumed_by = ?2 WHERE token_hash = ?1 \
             AND consumed_by IS NULL AND {}",
            accepted(evidence, 3, 2)
        ),
        args![a.token_hash, sid, a.user_id],
    )?);
    let won = "EXISTS (SELECT 1 FROM mfa_attempts WHERE token_hash = ?7 AND consumed_by = ?1)";
    batch.push(insert_statement(
        db,
        session,
        Some((won, args![a.token_hash])),
    )?);
    // A failure counts against the token (5 and it is dead) and the account (delays),
    // only while the token is live and the account not locked.
    batch.push(db.statement(
        &format!(
            "UPDATE mfa_attempts SET failures = failures + 1, last_failure_by = ?2 \
             WHERE token_hash = ?1 AND consumed_by IS NULL AND failures < {MAX_CODE_ATTEMPTS} \
             AND expires_at > ?3 AND {}",
            super::factor::unlocked(4, 3)
        ),
        args![a.token_hash, sid, a.now, a.throttle_key],
    )?);
    batch.push(count_failure_statement(
        db,
        a.throttle_key,
        sid,
        a.now,
        "EXISTS (SELECT 1 FROM mfa_attempts WHERE token_hash = ?4 AND last_failure_by = ?2)",
        args![a.token_hash],
    )?);
    batch.push(reset_statement(
        db,
        a.throttle_key,
        sid,
        "EXISTS (SELECT 1 FROM mfa_attempts WHERE token_hash = ?3 AND consumed_by = ?2)",
        args![a.token_hash],
    )?);
    batch.push(db.statement(
        &format!(
            "SELECT (consumed_by IS ?2) AS won, (last_failure_by IS ?2) AS counted, failures, \
             (consumed_by IS NULL AND failures < {MAX_CODE_ATTEMPTS} AND expires_at > ?3) AS live, \
             COALESCE((SELECT locked_until FROM throttle WHERE key = ?4), 0) AS locked_until, \
             COALESCE((SELECT failures FROM throttle WHERE key = ?4), 0) AS account_failures \
             FROM mfa_attempts WHERE token_hash = ?1"
        ),
        args![a.token_hash, sid, a.now, a.throttle_key],
    )?);

    let results = db.batch("mfa.spend", batch).await?;
    #[derive(Deserialize)]
    struct Verdict {
        won: i64,
        counted: i64,
        failures: i64,
        live: i64,
        locked_until: i64,
        account_failures: i64,
    }
    let v = rows::<Verdict>(results.last().expect("verdict"), "mfa verdict")?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal("mfa attempt row missing".into()))?;
    Ok(if v.won == 1 {
        Outcome::Accepted
    } else if v.counted == 1 {
        Outcome::WrongCode {
            attempts_remaining: (MAX_CODE_ATTEMPTS - v.failures).max(0),
            account_failures: v.account_failures,
        }
    } else if v.live == 1 && v.locked_until > a.now {
        Outcome::Throttled {
            locked_until: v.locked_until,
        }
    } else {
        Outcome::TokenDead
    })
}

/// Housekeeping off the response path: attempt rows are only needed while their token
/// lives, and a throttle row idle for a day is forgotten (its count starts over).
pub async fn purge_stale(db: &Db, now: i64) -> Result<(), ApiError> {
    let batch = vec![
        db.statement(
            "DELETE FROM mfa_attempts WHERE expires_at < ?1",
            args![now - 60],
        )?,
        db.statement(
            "DELETE FROM throttle WHERE locked_until < ?1",
            args![now - THROTTLE_MEMORY_SECONDS],
        )?,
    ];
    db.batch("purge_stale", batch).await?;
    Ok(())
}

/// How long an idle attempt counter is kept.
pub const THROTTLE_MEMORY_SECONDS: i64 = 86_400;
