//! Spending an mfa_token: the single D1 batch that decides a second-factor attempt.
//!
//! Everything that must be exact happens inside one transaction: the token's attempt
//! counter, the account's second-factor throttle, single use of the token, single use
//! of the TOTP step (or recovery code), and the creation of the session. Parallel
//! requests serialise on D1, so of twenty racing requests with one valid code exactly
//! one gets a session.

use serde::Deserialize;

use super::factors::{accept, accepted, count_failure, reset, unlocked};
use super::hard_cap::{self, Cap};
use super::sessions::{insert_statement, NewSession};
use super::sql::sql;
use super::{verdict, Db, StoreError};
use crate::domain::factors::Evidence;
use crate::domain::session::MAX_CODE_ATTEMPTS;

pub struct Attempt<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub token_expires_at: i64,
    pub totp_enabled_at: i64,
    /// The account's second-factor throttle key.
    pub throttle_key: &'a str,
    /// The hard cap of the submitted factor.
    pub cap: Cap<'a>,
    /// Hard caps that a success ends (the factor's own, and those it recovers).
    pub recovers: &'a [String],
    pub now: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    WrongCode {
        attempts_remaining: i64,
        account_failures: i64,
        /// Consecutive failures of this factor, this one included.
        cap_failures: i64,
    },
    /// Unknown to D1, expired, used up by wrong codes, or already spent.
    TokenDead,
    /// The account has failed too often lately.
    Throttled {
        locked_until: i64,
    },
    /// The factor reached its hard cap: only recovery (another factor) opens it.
    Locked,
}

pub async fn spend(
    db: &Db,
    a: &Attempt<'_>,
    evidence: &Evidence,
    session: &NewSession<'_>,
) -> Result<Outcome, StoreError> {
    let sid = session.id;
    let token = a.token_hash;
    let mut batch = vec![sql![
        "INSERT INTO mfa_attempts (token_hash, user_id, failures, expires_at) VALUES ("
        (token) ", " (a.user_id) ", 0, " (a.token_expires_at)
        ") ON CONFLICT(token_hash) DO NOTHING"
    ]];

    // The token must be live, and for TOTP the factor must be the one enrolled when
    // the password step ran (not one disabled and re-enrolled since).
    let live = sql![
        "EXISTS (SELECT 1 FROM mfa_attempts WHERE token_hash = " (token)
        " AND consumed_by IS NULL AND failures < " {MAX_CODE_ATTEMPTS.to_string()}
        " AND expires_at > " (a.now) ") AND EXISTS (SELECT 1 FROM users WHERE id = "
        (a.user_id) " AND totp_enabled_at = " (a.totp_enabled_at) ") AND " [a.cap.open()]
    ];
    batch.extend(accept(
        evidence,
        a.user_id,
        a.throttle_key,
        sid,
        a.now,
        live,
    ));
    batch.push(sql![
        "UPDATE mfa_attempts SET consumed_by = " (sid) " WHERE token_hash = " (token)
        " AND consumed_by IS NULL AND " [accepted(evidence, a.user_id, sid)]
    ]);
    let won = sql![
        "EXISTS (SELECT 1 FROM mfa_attempts WHERE token_hash = " (token) " AND consumed_by = "
        (sid) ")"
    ];
    batch.push(insert_statement(session, Some(won.clone())));
    // A failure counts against the token (5 and it is dead), the account (delays) and
    // the factor's hard cap, only while the token is live and nothing is locked.
    batch.push(sql![
        "UPDATE mfa_attempts SET failures = failures + 1, last_failure_by = " (sid)
        " WHERE token_hash = " (token) " AND consumed_by IS NULL AND failures < "
        {MAX_CODE_ATTEMPTS.to_string()} " AND expires_at > " (a.now) " AND "
        [unlocked(a.throttle_key, a.now)] " AND " [a.cap.open()]
    ]);
    let failed = sql![
        "EXISTS (SELECT 1 FROM mfa_attempts WHERE token_hash = " (token)
        " AND last_failure_by = " (sid) ")"
    ];
    batch.push(a.cap.strike(sid, failed.clone()));
    batch.push(count_failure(a.throttle_key, sid, a.now, failed));
    batch.extend(a.recovers.iter().map(|k| hard_cap::clear(k, won.clone())));
    batch.push(reset(a.throttle_key, won));
    batch.push(sql![
        "SELECT (consumed_by IS " (sid) ") AS won, (last_failure_by IS " (sid) ") AS counted, "
        "failures, (consumed_by IS NULL AND failures < " {MAX_CODE_ATTEMPTS.to_string()}
        " AND expires_at > " (a.now) ") AS live, "
        "COALESCE((SELECT locked_until FROM throttle WHERE key = " (a.throttle_key) "), 0) AS locked_until, "
        "COALESCE((SELECT failures FROM throttle WHERE key = " (a.throttle_key) "), 0) AS account_failures, "
        [a.cap.count()] " AS cap_failures FROM mfa_attempts WHERE token_hash = " (token)
    ]);

    let results = db.batch("mfa.spend", &batch).await?;
    #[derive(Deserialize)]
    struct Verdict {
        won: i64,
        counted: i64,
        failures: i64,
        live: i64,
        locked_until: i64,
        account_failures: i64,
        cap_failures: i64,
    }
    let v: Verdict = verdict(&results, "mfa verdict")?;
    Ok(if v.won == 1 {
        Outcome::Accepted
    } else if v.counted == 1 {
        Outcome::WrongCode {
            attempts_remaining: (MAX_CODE_ATTEMPTS - v.failures).max(0),
            account_failures: v.account_failures,
            cap_failures: v.cap_failures,
        }
    } else if v.live == 1 && v.locked_until > a.now {
        Outcome::Throttled {
            locked_until: v.locked_until,
        }
    } else if v.live == 1 && v.cap_failures >= a.cap.limit {
        Outcome::Locked
    } else {
        Outcome::TokenDead
    })
}
