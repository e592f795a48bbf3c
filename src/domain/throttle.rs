//! Per-account brute-force throttling policy.
//!
//! Five failures are free; after that every further attempt must wait, twice as long
//! each time, up to a cap. A success resets the count. The counts live in D1 and are
//! changed atomically there (see `store::throttle`); this module is the policy, and
//! renders it as SQL so the two can never disagree.

/// Failures allowed before any delay applies.
pub const FREE_FAILURES: i64 = 5;
/// Delay after the first failure beyond the free ones, in seconds.
pub const BASE_DELAY: i64 = 30;
/// No single wait is longer than this (15 minutes).
pub const MAX_DELAY: i64 = 900;

/// Seconds to wait after `failures` consecutive failures before the next attempt.
pub fn delay_after(failures: i64) -> i64 {
    if failures < FREE_FAILURES {
        0
    } else {
        // Shift is bounded so the doubling cannot overflow before the cap applies.
        (BASE_DELAY << (failures - FREE_FAILURES).min(16)).min(MAX_DELAY)
    }
}

/// `delay_after(<failures_expr>)` as an SQLite expression.
pub fn delay_sql(failures_expr: &str) -> String {
    format!(
        "(CASE WHEN {f} >= {free} THEN MIN({base} << MIN({f} - {free}, 16), {max}) ELSE 0 END)",
        f = failures_expr,
        free = FREE_FAILURES,
        base = BASE_DELAY,
        max = MAX_DELAY
    )
}

/// What a throttled caller is told: whole seconds, at least one.
pub fn retry_after(locked_until: i64, now: i64) -> i64 {
    (locked_until - now).max(1)
}

/// Throttle keys: one counter for password attempts per username (known or not, so an
/// unknown name is throttled exactly like a real one) and one for second-factor
/// attempts per account (shared by every mfa_token, so fresh tokens don't reset it).
pub fn password_key(canonical_username: &str) -> String {
    format!("pwd:{canonical_username}")
}

pub fn second_factor_key(user_id: &str) -> String {
    format!("mfa:{user_id}")
}

/// A password attempt from a client holding a valid device token for the account: its
/// own counter, so strangers locking the username out do not lock that client out.
pub fn device_key(device_id: &str) -> String {
    format!("dev:{device_id}")
}

/// NIST SP 800-63B rev 4 (3.2.2): at most 100 consecutive failed attempts per account
/// and factor. `MAX_FAILED_ATTEMPTS` may set it lower, never higher.
pub const HARD_CAP: i64 = 100;

/// The factors with a hard cap of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CappedFactor {
    Password,
    Totp,
    RecoveryCode,
}

impl CappedFactor {
    pub fn name(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Totp => "totp",
            Self::RecoveryCode => "recovery_code",
        }
    }

    /// The consecutive-failure counter: by canonical username for the password (so an
    /// unknown name locks exactly like a real one), by user id for second factors.
    /// Rows under `cap:` are never forgotten by age, unlike the delay counters: a
    /// guesser pacing itself must not get a fresh hundred every day.
    pub fn key(self, subject: &str) -> String {
        format!("{CAP_PREFIX}{}:{subject}", self.name())
    }
}

/// Every counter that names the account: what deleting it removes (a device's own delay
/// counter names only the device and is forgotten by age).
pub fn account_keys(canonical_username: &str, user_id: &str) -> [String; 5] {
    [
        password_key(canonical_username),
        CappedFactor::Password.key(canonical_username),
        second_factor_key(user_id),
        CappedFactor::Totp.key(user_id),
        CappedFactor::RecoveryCode.key(user_id),
    ]
}

/// What every hard-cap key starts with (housekeeping must leave these rows alone).
pub const CAP_PREFIX: &str = "cap:";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accounts_counters_are_named_by_its_username_and_id() {
        assert_eq!(
            account_keys("olga", "u1"),
            [
                "pwd:olga",
                "cap:password:olga",
                "mfa:u1",
                "cap:totp:u1",
                "cap:recovery_code:u1"
            ]
        );
    }

    #[test]
    fn five_failures_are_free_then_delays_double_up_to_the_cap() {
        for n in 0..FREE_FAILURES {
            assert_eq!(delay_after(n), 0);
        }
        assert_eq!(delay_after(5), 30);
        assert_eq!(delay_after(6), 60);
        assert_eq!(delay_after(7), 120);
        assert_eq!(delay_after(9), 480);
        assert_eq!(delay_after(10), 900);
        assert_eq!(delay_after(1_000), 900);
    }

    #[test]
    fn hard_cap_keys_are_per_factor_and_marked_as_such() {
        let keys = [
            CappedFactor::Password.key("alice"),
            CappedFactor::Totp.key("u1"),
            CappedFactor::RecoveryCode.key("u1"),
        ];
        assert_eq!(keys[0], "cap:password:alice");
        assert!(keys.iter().all(|k| k.starts_with(CAP_PREFIX)));
        assert_ne!(keys[1], keys[2]);
        assert!(!password_key("alice").starts_with(CAP_PREFIX));
        assert!(!device_key("d").starts_with(CAP_PREFIX));
    }

    #[test]
    fn retry_after_is_never_zero() {
        assert_eq!(retry_after(100, 100), 1);
        assert_eq!(retry_after(130, 100), 30);
    }
}
