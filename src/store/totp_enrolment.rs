//! Confirming a TOTP enrolment: the single D1 batch that decides a first code.
//!
//! The enrolment's secret waits in KV; what must be exact lives here, in one transaction:
//! the enrolment's attempt counter (an `mfa_attempts` row keyed `enrolment:<id>`: five
//! wrong codes and it is over), the account's second-factor throttle, and turning TOTP
//! on at most once. The secret is sealed afresh for each confirmation (a random
//! AES-GCM nonce), so the stored ciphertext names the request that won: of two
//! confirmations racing with a right code, exactly one turns TOTP on and gets the
//! recovery codes; the other changes nothing.

use serde::Deserialize;

use super::factors::{count_failure, recovery_code, reset, unlocked};
use super::password_reset::spend_all;
use super::sessions::{insert_statement, live, revoke_all_statement, NewSession};
use super::sql::{sql, Sql};
use super::{verdict, Db, StoreError};
use crate::domain::session::MAX_CODE_ATTEMPTS;

pub struct Confirmation<'a> {
    pub user_id: &'a str,
    /// `enrolment:<id>` of the pending enrolment.
    pub attempt_key: &'a str,
    pub enrolment_expires_at: i64,
    /// The account's second-factor throttle key.
    pub throttle_key: &'a str,
    /// The code's time step, or `None` when it matched no step.
    pub step: Option<u64>,
    /// The secret sealed for this request only.
    pub sealed_secret: &'a str,
    /// The new recovery-code hashes as a JSON array.
    pub recovery_hashes_json: &'a str,
    pub replaced_session: &'a str,
    pub now: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Enabled,
    WrongCode {
        attempts_remaining: i64,
        account_failures: i64,
    },
    /// Used up by wrong codes, expired, or confirmed by another request.
    EnrolmentOver,
    /// Two-factor authentication was already on.
    AlreadyEnabled,
    Throttled {
        locked_until: i64,
    },
    /// The enrolling session logged out or was ended: nothing was counted or changed.
    SessionEnded,
}

pub async fn confirm(
    db: &Db,
    c: &Confirmation<'_>,
    session: &NewSession<'_>,
) -> Result<Outcome, StoreError> {
    let key = c.attempt_key;
    let sid = session.id;
    let max = MAX_CODE_ATTEMPTS.to_string();
    let open = || -> Sql<'_> {
        sql![
            "EXISTS (SELECT 1 FROM mfa_attempts WHERE token_hash = " (key)
            " AND consumed_by IS NULL AND failures < " {max.clone()} " AND expires_at > " (c.now)
            ") AND " [unlocked(c.throttle_key, c.now)] " AND "
            [live(c.replaced_session, c.user_id, c.now)]
        ]
    };
    let mut batch = vec![sql![
        "INSERT INTO mfa_attempts (token_hash, user_id, failures, expires_at) VALUES ("
        (key) ", " (c.user_id) ", 0, " (c.enrolment_expires_at)
        ") ON CONFLICT(token_hash) DO NOTHING"
    ]];
    // Ours once this request's ciphertext is the stored one.
    let ours: Sql<'_> = sql![
        "EXISTS (SELECT 1 FROM users WHERE id = " (c.user_id) " AND totp_secret = "
        (c.sealed_secret) ")"
    ];
    if let Some(step) = c.step {
        batch.push(sql![
            "UPDATE users SET totp_secret = " (c.sealed_secret) ", totp_enabled_at = " (c.now)
            ", totp_last_step = " (step as i64) " WHERE id = " (c.user_id)
            " AND totp_enabled_at IS NULL AND " [open()]
        ]);
        batch.push(sql![
            "UPDATE mfa_attempts SET consumed_by = " (sid) " WHERE token_hash = " (key)
            " AND " [ours.clone()]
        ]);
        batch.push(recovery_code::discard(c.user_id, None, ours.clone()));
        batch.push(recovery_code::insert_set(
            c.user_id,
            c.recovery_hashes_json,
            ours.clone(),
        ));
        // Every session so far proved the password alone: turning 2FA on ends them all,
        // the enrolling one included, and the new aal2 session replaces it.
        batch.push(revoke_all_statement(c.user_id, c.now, ours.clone()));
        batch.push(spend_all(c.user_id, c.now, ours.clone()));
        batch.push(insert_statement(session, Some(ours.clone())));
        batch.push(reset(c.throttle_key, ours.clone()));
    } else {
        // A wrong code counts against the enrolment and the account while both are live.
        batch.push(sql![
            "UPDATE mfa_attempts SET failures = failures + 1, last_failure_by = " (sid)
            " WHERE token_hash = " (key) " AND " [open()]
        ]);
        let failed = sql![
            "EXISTS (SELECT 1 FROM mfa_attempts WHERE token_hash = " (key)
            " AND last_failure_by = " (sid) ")"
        ];
        batch.push(count_failure(c.throttle_key, sid, c.now, failed));
    }
    batch.push(sql![
        "SELECT " [ours] " AS won, (last_failure_by IS " (sid) ") AS counted, failures, "
        "(consumed_by IS NULL AND failures < " {max} " AND expires_at > " (c.now) ") AS live, "
        "EXISTS (SELECT 1 FROM users WHERE id = " (c.user_id) " AND totp_enabled_at IS NOT NULL) AS enabled, "
        [live(c.replaced_session, c.user_id, c.now)] " AS session_live, "
        "COALESCE((SELECT locked_until FROM throttle WHERE key = " (c.throttle_key) "), 0) AS locked_until, "
        "COALESCE((SELECT failures FROM throttle WHERE key = " (c.throttle_key) "), 0) AS account_failures "
        "FROM mfa_attempts WHERE token_hash = " (key)
    ]);

    let results = db.batch("totp_enrolment.confirm", &batch).await?;
    #[derive(Deserialize)]
    struct Verdict {
        won: i64,
        counted: i64,
        failures: i64,
        live: i64,
        enabled: i64,
        session_live: i64,
        locked_until: i64,
        account_failures: i64,
    }
    let v: Verdict = verdict(&results, "enrolment verdict")?;
    Ok(if v.won == 1 {
        Outcome::Enabled
    } else if v.session_live == 0 {
        Outcome::SessionEnded
    } else if v.counted == 1 {
        Outcome::WrongCode {
            attempts_remaining: (MAX_CODE_ATTEMPTS - v.failures).max(0),
            account_failures: v.account_failures,
        }
    } else if v.live == 1 && v.locked_until > c.now {
        Outcome::Throttled {
            locked_until: v.locked_until,
        }
    } else if v.enabled == 1 {
        Outcome::AlreadyEnabled
    } else {
        Outcome::EnrolmentOver
    })
}
