//! Spending an mfa_token: the single D1 batch that decides a second-factor attempt.
//!
//! Everything that must be exact happens inside one transaction: the attempt counter,
//! single use of the token, single use of the TOTP step (or recovery code), and the
//! creation of the session. Parallel requests serialise on D1, so of twenty racing
//! requests with one valid code exactly one gets a session.

use serde::Deserialize;
use worker::D1Database;

use super::sessions::{insert_statement, NewSession};
use super::{args, internal, statement};
use crate::domain::session::MAX_CODE_ATTEMPTS;
use crate::error::ApiError;

pub struct Attempt<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub token_expires_at: i64,
    pub now: i64,
}

pub enum Proof<'a> {
    /// `step` is the time step the code matched, or `None` for a code that matched no step.
    Totp {
        step: Option<u64>,
        enabled_at: i64,
    },
    RecoveryCode {
        code_hash: &'a str,
    },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    WrongCode {
        attempts_remaining: i64,
    },
    /// Unknown to D1, expired, used up by wrong codes, or already spent.
    TokenDead,
}

pub async fn spend(
    db: &D1Database,
    attempt: &Attempt<'_>,
    proof: &Proof<'_>,
    session: &NewSession<'_>,
) -> Result<Outcome, ApiError> {
    let Attempt {
        token_hash,
        user_id,
        token_expires_at,
        now,
    } = *attempt;
    let sid = session.id;
    let mut batch = vec![statement(
        db,
        "INSERT INTO mfa_attempts (token_hash, user_id, failures, expires_at) VALUES (?1, ?2, 0, ?3) \
         ON CONFLICT(token_hash) DO NOTHING",
        args![token_hash, user_id, token_expires_at],
    )?];

    match *proof {
        Proof::Totp {
            step: Some(step),
            enabled_at,
        } => {
            let step = step as i64;
            // Consume the token only for a step later than the last accepted one,
            // then record the step: the same code can never be accepted twice.
            batch.push(statement(
                db,
                "UPDATE mfa_attempts SET consumed_by = ?3 WHERE token_hash = ?1 \
                 AND consumed_by IS NULL AND failures < ?6 AND expires_at > ?7 \
                 AND EXISTS (SELECT 1 FROM users WHERE id = ?2 AND totp_enabled_at = ?4 \
                 AND totp_last_step < ?5)",
                args![
                    token_hash,
                    user_id,
                    sid,
                    enabled_at,
                    step,
                    MAX_CODE_ATTEMPTS,
                    now
                ],
            )?);
            batch.push(statement(
                db,
                "UPDATE users SET totp_last_step = ?3 WHERE id = ?2 AND EXISTS \
                 (SELECT 1 FROM mfa_attempts WHERE token_hash = ?1 AND consumed_by = ?4)",
                args![token_hash, user_id, step, sid],
            )?);
        }
        Proof::Totp { step: None, .. } => {}
        Proof::RecoveryCode { code_hash } => {
            batch.push(statement(
                db,
                "UPDATE recovery_codes SET used_at = ?6, used_by = ?4 \
                 WHERE user_id = ?2 AND code_hash = ?3 AND used_at IS NULL AND EXISTS \
                 (SELECT 1 FROM mfa_attempts WHERE token_hash = ?1 AND consumed_by IS NULL \
                 AND failures < ?5 AND expires_at > ?6)",
                args![token_hash, user_id, code_hash, sid, MAX_CODE_ATTEMPTS, now],
            )?);
            batch.push(statement(
                db,
                "UPDATE mfa_attempts SET consumed_by = ?3 WHERE token_hash = ?1 AND consumed_by IS NULL \
                 AND EXISTS (SELECT 1 FROM recovery_codes WHERE user_id = ?2 AND used_by = ?3)",
                args![token_hash, user_id, sid],
            )?);
        }
    }
    let won = "EXISTS (SELECT 1 FROM mfa_attempts WHERE token_hash = ?7 AND consumed_by = ?1)";
    batch.push(insert_statement(
        db,
        session,
        Some((won, args![token_hash])),
    )?);
    // Count a failure only while the token is live, and mark who counted it so the
    // response can tell "wrong code" from "dead token".
    batch.push(statement(
        db,
        "UPDATE mfa_attempts SET failures = failures + 1, last_failure_by = ?2 \
         WHERE token_hash = ?1 AND consumed_by IS NULL AND failures < ?3 AND expires_at > ?4",
        args![token_hash, sid, MAX_CODE_ATTEMPTS, now],
    )?);
    batch.push(statement(
        db,
        "SELECT (consumed_by IS ?2) AS won, (last_failure_by IS ?2) AS counted, failures \
         FROM mfa_attempts WHERE token_hash = ?1",
        args![token_hash, sid],
    )?);

    let results = db.batch(batch).await.map_err(internal("spend mfa token"))?;
    #[derive(Deserialize)]
    struct Verdict {
        won: i64,
        counted: i64,
        failures: i64,
    }
    let verdict = results
        .last()
        .expect("batch has a final SELECT")
        .results::<Verdict>()
        .map_err(internal("read mfa verdict"))?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal("mfa attempt row missing".into()))?;
    Ok(if verdict.won == 1 {
        Outcome::Accepted
    } else if verdict.counted == 1 {
        Outcome::WrongCode {
            attempts_remaining: (MAX_CODE_ATTEMPTS - verdict.failures).max(0),
        }
    } else {
        Outcome::TokenDead
    })
}

/// Housekeeping off the response path: attempt rows are only needed while their token lives.
pub async fn purge_expired(db: &D1Database, now: i64) -> Result<(), ApiError> {
    statement(
        db,
        "DELETE FROM mfa_attempts WHERE expires_at < ?1",
        args![now - 60],
    )?
    .run()
    .await
    .map_err(internal("purge mfa attempts"))?;
    Ok(())
}
