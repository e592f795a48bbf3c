//! Per-account attempt counters in D1 (policy in `domain::throttle`).
//!
//! Password checks happen in the Worker between round trips, so a password attempt is
//! admitted *before* it is checked: admission counts it as a failure in advance, and
//! a success gives the count back. Fifty parallel guesses therefore meet the limit
//! exactly as fifty sequential ones do. Second-factor checks are decided inside one
//! transaction, so they are counted there directly (see `mfa` and `factor`).

use serde::Deserialize;

use super::hard_cap::Cap;
use super::sessions::live;
use super::sql::sql;
use super::users::{UserRow, USER_COLUMNS_U};
use super::{verdict, Db, StoreError};
use crate::domain::throttle::delay_sql;

/// Who is asking for a password check.
pub enum Lookup<'a> {
    Username(&'a str),
    /// A signed-in caller: their user id and the session of their access token.
    Caller {
        user_id: &'a str,
        session_id: &'a str,
    },
}

pub enum Admission {
    /// The attempt may proceed; `failures` includes this attempt, counted in advance.
    Admitted {
        failures: i64,
        /// The account's consecutive password failures, this attempt included.
        cap_failures: i64,
        user: Option<UserRow>,
        /// For [`Lookup::Caller`]: whether the caller's session is still live.
        session_live: bool,
    },
    Throttled {
        locked_until: i64,
    },
    /// The hard cap is reached: no password attempt until the account recovers.
    Locked,
}

/// One batch: count the attempt on the delay counter `key` (the username's, or a known
/// device's) and on the account's hard cap, if neither is locked; read the user.
pub async fn admit_password(
    db: &Db,
    key: &str,
    cap: &Cap<'_>,
    lookup: Lookup<'_>,
    nonce: &str,
    now: i64,
) -> Result<Admission, StoreError> {
    let count = sql![
        "INSERT INTO throttle (key, failures, locked_until, last_by) SELECT " (key) ", 1, "
        (now) ", " (nonce) " WHERE " [cap.open()] " ON CONFLICT(key) DO UPDATE SET "
        "failures = failures + 1, locked_until = " (now) " + " {delay_sql("failures + 1")}
        ", last_by = " (nonce) " WHERE locked_until <= " (now)
    ];
    let admitted =
        sql!["EXISTS (SELECT 1 FROM throttle WHERE key = " (key) " AND last_by = " (nonce) ")"];
    let strike = cap.strike(nonce, admitted);
    let (column, value, session_live) = match lookup {
        Lookup::Username(name) => ("username", name, sql!["1"]),
        Lookup::Caller {
            user_id,
            session_id,
        } => ("id", user_id, live(session_id, user_id, now)),
    };
    // From a one-row table, so there is a verdict even when no counter row exists.
    let read = sql![
        "SELECT (t.last_by IS " (nonce) ") AS admitted, COALESCE(t.failures, 0) AS throttle_failures, "
        "COALESCE(t.locked_until, 0) AS throttle_locked_until, " [cap.count()] " AS cap_failures, "
        [session_live] " AS session_live, " {USER_COLUMNS_U}
        " FROM (SELECT 1) AS one LEFT JOIN throttle t ON t.key = " (key)
        " LEFT JOIN users u ON u." {column} " = " (value)
    ];
    let results = db
        .batch("throttle.admit_password", &[count, strike, read])
        .await?;

    #[derive(Deserialize)]
    struct Row {
        admitted: i64,
        throttle_failures: i64,
        throttle_locked_until: i64,
        cap_failures: i64,
        session_live: i64,
        #[serde(flatten)]
        user: Option<UserRow>,
    }
    let row: Row = verdict(&results, "read admission")?;
    Ok(if row.admitted == 1 {
        Admission::Admitted {
            failures: row.throttle_failures,
            cap_failures: row.cap_failures,
            user: row.user,
            session_live: row.session_live == 1,
        }
    } else if row.cap_failures >= cap.limit {
        Admission::Locked
    } else {
        Admission::Throttled {
            locked_until: row.throttle_locked_until,
        }
    })
}

/// After a correct password: the attempt counted in advance was not a failure. If no
/// other attempt was admitted since ours, the count starts over; otherwise only our
/// own advance is given back, so parallel guesses keep theirs.
pub async fn settle_success(
    db: &Db,
    key: &str,
    cap: &Cap<'_>,
    nonce: &str,
) -> Result<(), StoreError> {
    let delay = sql![
        "UPDATE throttle SET "
        "failures = CASE WHEN last_by IS " (nonce) " THEN 0 ELSE MAX(failures - 1, 0) END, "
        "locked_until = CASE WHEN last_by IS " (nonce) " THEN 0 ELSE locked_until END "
        "WHERE key = " (key)
    ];
    let [end_run, give_back] = cap.settle_success(nonce);
    db.batch("throttle.settle", &[delay, end_run, give_back])
        .await?;
    Ok(())
}
