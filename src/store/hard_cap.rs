//! The hard cap in D1 (policy in `domain::throttle`): consecutive failures per account
//! and factor, in `throttle` rows under `cap:` with `locked_until` unused. Each piece is
//! a statement or guard for a batch that already decides the attempt, so the cap costs
//! no round trip of its own.

use super::sql::{sql, Sql};

pub struct Cap<'a> {
    pub key: &'a str,
    pub limit: i64,
}

impl<'a> Cap<'a> {
    /// Holds while the factor is not locked.
    pub fn open(&self) -> Sql<'a> {
        sql![
            "NOT EXISTS (SELECT 1 FROM throttle WHERE key = " (self.key) " AND failures >= "
            (self.limit) ")"
        ]
    }

    /// Counts one failure of request `nonce` when `failed` holds, never past the limit.
    pub fn strike(&self, nonce: &'a str, failed: Sql<'a>) -> Sql<'a> {
        sql![
            "INSERT INTO throttle (key, failures, locked_until, last_by) SELECT " (self.key)
            ", 1, 0, " (nonce) " WHERE " [failed] " AND " [self.open()]
            " ON CONFLICT(key) DO UPDATE SET failures = failures + 1, last_by = " (nonce)
        ]
    }

    /// The count as the batch leaves it, for the verdict's SELECT.
    pub fn count(&self) -> Sql<'a> {
        sql!["COALESCE((SELECT failures FROM throttle WHERE key = " (self.key) "), 0)"]
    }

    /// For a failure counted in advance by `nonce` that turned out a success: the run
    /// ends, unless another attempt was counted since (then only ours is given back).
    pub fn settle_success(&self, nonce: &'a str) -> [Sql<'a>; 2] {
        [
            sql!["DELETE FROM throttle WHERE key = " (self.key) " AND last_by IS " (nonce)],
            sql![
                "UPDATE throttle SET failures = MAX(failures - 1, 0) WHERE key = " (self.key)
                " AND last_by IS NOT " (nonce)
            ],
        ]
    }
}

/// Ends the run of failures under `key` (the user recovered) when `succeeded` holds.
pub fn clear<'a>(key: &'a str, succeeded: Sql<'a>) -> Sql<'a> {
    sql!["DELETE FROM throttle WHERE key = " (key) " AND " [succeeded]]
}
