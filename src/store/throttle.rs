//! Per-account attempt counters in D1 (policy in `domain::throttle`).
//!
//! Password checks happen in the Worker between round trips, so a password attempt is
//! admitted *before* it is checked: admission counts it as a failure in advance, and
//! a success gives the count back. Fifty parallel guesses therefore meet the limit
//! exactly as fifty sequential ones do. Second-factor checks are decided inside one
//! transaction, so they are counted there directly (see `mfa` and `factor`).

use serde::Deserialize;

use super::sessions::live;
use super::sql::sql;
use super::users::{user_columns, UserRow};
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
        user: Option<UserRow>,
        /// For [`Lookup::Caller`]: whether the caller's session is still live.
        session_live: bool,
    },
    Throttled {
        locked_until: i64,
    },
}

/// One batch: count the attempt if the key is not locked, and read the user.
pub async fn admit_password(
    db: &Db,
    key: &str,
    lookup: Lookup<'_>,
    nonce: &str,
    now: i64,
) -> Result<Admission, StoreError> {
    let count = sql![
        "INSERT INTO throttle (key, failures, locked_until, last_by) VALUES (" (key) ", 1, "
        (now) ", " (nonce) ") ON CONFLICT(key) DO UPDATE SET failures = failures + 1, "
        "locked_until = " (now) " + " {delay_sql("failures + 1")} ", last_by = " (nonce)
        " WHERE locked_until <= " (now)
    ];
    let (column, value, session_live) = match lookup {
        Lookup::Username(name) => ("username", name, sql!["1"]),
        Lookup::Caller {
            user_id,
            session_id,
        } => ("id", user_id, live(session_id, user_id, now)),
    };
    let read = sql![
        "SELECT (t.last_by IS " (nonce) ") AS admitted, t.failures AS throttle_failures, "
        "t.locked_until AS throttle_locked_until, " [session_live] " AS session_live, "
        {user_columns(Some("u"))}
        " FROM throttle t LEFT JOIN users u ON u." {column} " = " (value) " WHERE t.key = " (key)
    ];
    let results = db.batch("throttle.admit_password", &[count, read]).await?;

    #[derive(Deserialize)]
    struct Row {
        admitted: i64,
        throttle_failures: i64,
        throttle_locked_until: i64,
        session_live: i64,
        #[serde(flatten)]
        user: Option<UserRow>,
    }
    let row: Row = verdict(&results, "read admission")?;
    Ok(if row.admitted == 1 {
        Admission::Admitted {
            failures: row.throttle_failures,
            user: row.user,
            session_live: row.session_live == 1,
        }
    } else {
        Admission::Throttled {
            locked_until: row.throttle_locked_until,
        }
    })
}

/// After a correct password: the attempt counted in advance was not a failure. If no
/// other attempt was admitted since ours, the count starts over; otherwise only our
/// own advance is given back, so parallel guesses keep theirs.
pub async fn settle_success(db: &Db, key: &str, nonce: &str) -> Result<(), StoreError> {
    let stmt = sql![
        "UPDATE throttle SET "
        "failures = CASE WHEN last_by IS " (nonce) " THEN 0 ELSE MAX(failures - 1, 0) END, "
        "locked_until = CASE WHEN last_by IS " (nonce) " THEN 0 ELSE locked_until END "
        "WHERE key = " (key)
    ];
    db.run("throttle.settle", &stmt).await?;
    Ok(())
}
