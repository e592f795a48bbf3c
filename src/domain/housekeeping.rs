//! What the scheduled housekeeping (the Cron Trigger) forgets, and when. Nothing here is
//! needed by a request any more: the rows only grow the database and its backups.

const DAY: i64 = 86_400;

/// A throttle row idle this long is forgotten (its count starts over). Hard-cap rows
/// are kept whatever their age (`domain::throttle::CAP_PREFIX`): a guesser pacing
/// itself must not get a fresh hundred each day.
pub const THROTTLE_MEMORY_SECONDS: i64 = DAY;

/// An ended session (logged out, revoked, replaced) is kept this long after it ended,
/// so that a look-up right after an incident still finds it and its retired tokens.
pub const ENDED_SESSION_GRACE_SECONDS: i64 = DAY;

/// Second-factor attempt rows outlive their token by this margin (clock skew between
/// the Worker that wrote the KV challenge and the one that spends it).
pub const ATTEMPT_GRACE_SECONDS: i64 = 60;

/// TOTP secrets re-sealed per statement batch, and the most batches per run: a run
/// stays well inside a Cron Trigger's CPU limit, and the next run goes on.
pub const RESEAL_BATCH: usize = 100;
pub const RESEAL_BATCHES_PER_RUN: usize = 10;

/// The oldest moment each kind of row may come from and still be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    pub now: i64,
    /// Sessions whose refresh lifetime ended before this, or that were revoked before it.
    pub sessions_ended_before: i64,
    pub attempts_expired_before: i64,
    pub throttle_idle_before: i64,
    pub events_before: i64,
}

impl Cutoffs {
    pub fn at(now: i64, event_retention_days: i64) -> Self {
        Self {
            now,
            sessions_ended_before: now - ENDED_SESSION_GRACE_SECONDS,
            attempts_expired_before: now - ATTEMPT_GRACE_SECONDS,
            throttle_idle_before: now - THROTTLE_MEMORY_SECONDS,
            events_before: now - event_retention_days * DAY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_row_has_its_own_horizon() {
        let now = 1_800_000_000;
        let c = Cutoffs::at(now, 365);
        assert_eq!(c.events_before, now - 365 * 86_400);
        assert_eq!(c.sessions_ended_before, now - 86_400);
        assert_eq!(c.throttle_idle_before, now - 86_400);
        assert_eq!(c.attempts_expired_before, now - 60);
        assert!(Cutoffs::at(now, 1).events_before > c.events_before);
    }
}
