//! The login state machine: what a caller has proven so far, and what that is worth.
//!
//! ```text
//!   password ok ──(2FA off)──────────────────────────▶ Authenticated(aal1, [pwd])
//!        │
//!        └─(2FA on)─▶ MfaRequired(mfa_token) ─totp───▶ Authenticated(aal2, [pwd, otp, mfa])
//!                                           └recovery▶ Authenticated(aal2, [pwd, recovery, mfa])
//! ```

use serde::{Deserialize, Serialize};

pub use super::factors::{SecondFactor, MFA_METHODS};

/// What the current session proved, and when the user last proved their password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authentication {
    pub second_factor: Option<SecondFactor>,
    pub auth_time: i64,
}

impl Authentication {
    pub fn password_only(auth_time: i64) -> Self {
        Self {
            second_factor: None,
            auth_time,
        }
    }

    pub fn with_second_factor(self, factor: SecondFactor) -> Self {
        Self {
            second_factor: Some(factor),
            ..self
        }
    }

    pub fn amr(&self) -> Vec<String> {
        let mut amr = vec!["pwd".to_owned()];
        if let Some(f) = self.second_factor {
            amr.push(f.amr().to_owned());
            amr.push("mfa".to_owned());
        }
        amr
    }

    /// NIST SP 800-63B: a password alone is AAL1; password plus an OTP device or a
    /// look-up secret is AAL2.
    pub fn aal(&self) -> &'static str {
        if self.second_factor.is_some() {
            "aal2"
        } else {
            "aal1"
        }
    }

    /// Stored with the session so that refreshed tokens keep the original facts.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).expect("plain struct serializes")
    }

    pub fn from_stored(stored: &str) -> Option<Self> {
        serde_json::from_str(stored).ok()
    }
}

/// How long a session's second factor keeps counting (NIST SP 800-63B rev 4, AAL2
/// reauthentication): at most `max_age` seconds after `auth_time`, and no more than
/// `idle` seconds between two uses of the session. After that the session goes on at
/// aal1 until the user logs in again with a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aal2Lifetime {
    pub max_age: i64,
    pub idle: i64,
}

impl Aal2Lifetime {
    /// The oldest `auth_time` and the oldest last use that still count at `now`. The
    /// refresh batch compares the session row with these (`store::sessions::rotate`).
    pub fn floors(&self, now: i64) -> Aal2Floors {
        Aal2Floors {
            auth_time: now - self.max_age,
            last_used_at: now - self.idle,
        }
    }

    /// An access token proves its aal2 only while its `auth_time` is young enough; its
    /// own lifetime (minutes) is far under the idle limit.
    pub fn token_holds(&self, aal: &str, auth_time: i64, now: i64) -> Aal2Check {
        if aal != "aal2" {
            Aal2Check::NotAal2
        } else if auth_time < self.floors(now).auth_time {
            Aal2Check::TooOld {
                max_age: self.max_age,
            }
        } else {
            Aal2Check::Holds
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aal2Floors {
    pub auth_time: i64,
    pub last_used_at: i64,
}

impl Aal2Floors {
    /// What a session last used at `last_used_at` is worth now: its second factor stops
    /// counting below either floor (the next refresh drops it for good).
    pub fn apply(&self, auth: Authentication, last_used_at: i64) -> Authentication {
        if auth.auth_time < self.auth_time || last_used_at < self.last_used_at {
            Authentication::password_only(auth.auth_time)
        } else {
            auth
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aal2Check {
    Holds,
    NotAal2,
    /// It was aal2, but longer ago than `max_age` seconds (RFC 9470 `max_age`).
    TooOld {
        max_age: i64,
    },
}

/// The decision after a correct password.
#[derive(Debug, PartialEq, Eq)]
pub enum PasswordOutcome {
    Authenticated(Authentication),
    SecondFactorRequired { auth_time: i64 },
}

pub fn after_password(totp_enabled: bool, now: i64) -> PasswordOutcome {
    if totp_enabled {
        PasswordOutcome::SecondFactorRequired { auth_time: now }
    } else {
        PasswordOutcome::Authenticated(Authentication::password_only(now))
    }
}

/// How many wrong second-factor codes one mfa_token survives.
pub const MAX_CODE_ATTEMPTS: i64 = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_alone_is_aal1() {
        let PasswordOutcome::Authenticated(a) = after_password(false, 100) else {
            panic!("2FA off must authenticate")
        };
        assert_eq!(a.amr(), vec!["pwd"]);
        assert_eq!(a.aal(), "aal1");
        assert_eq!(a.auth_time, 100);
    }

    #[test]
    fn totp_user_needs_a_second_step() {
        assert_eq!(
            after_password(true, 100),
            PasswordOutcome::SecondFactorRequired { auth_time: 100 }
        );
    }

    #[test]
    fn second_factors_are_aal2_and_distinguishable() {
        let totp = Authentication::password_only(1).with_second_factor(SecondFactor::Totp);
        let rc = Authentication::password_only(1).with_second_factor(SecondFactor::RecoveryCode);
        assert_eq!(totp.amr(), vec!["pwd", "otp", "mfa"]);
        assert_eq!(rc.amr(), vec!["pwd", "recovery", "mfa"]);
        assert_eq!(totp.aal(), "aal2");
        assert_eq!(rc.aal(), "aal2");
    }

    #[test]
    fn aal2_ends_after_its_maximum_age_or_when_idle() {
        let life = Aal2Lifetime {
            max_age: 86_400,
            idle: 3_600,
        };
        // Exactly 24 h after auth_time and exactly 1 h idle still count; a second more not.
        let floors = life.floors(90_000);
        assert_eq!(floors.auth_time, 3_600);
        assert_eq!(floors.last_used_at, 86_400);
        assert_eq!(life.token_holds("aal2", 0, 86_400), Aal2Check::Holds);
        assert_eq!(
            life.token_holds("aal2", 0, 86_401),
            Aal2Check::TooOld { max_age: 86_400 }
        );
        assert_eq!(life.token_holds("aal1", 0, 1), Aal2Check::NotAal2);
    }

    #[test]
    fn stored_form_roundtrips() {
        let a = Authentication::password_only(42).with_second_factor(SecondFactor::RecoveryCode);
        assert_eq!(Authentication::from_stored(&a.to_stored()), Some(a));
        assert_eq!(Authentication::from_stored("nope"), None);
    }

    #[test]
    fn floors_take_the_second_factor_from_a_stale_session() {
        let floors = Aal2Floors {
            auth_time: 1_000,
            last_used_at: 2_000,
        };
        let aal2 = Authentication::password_only(1_500).with_second_factor(SecondFactor::Totp);
        assert_eq!(floors.apply(aal2.clone(), 2_000).aal(), "aal2");
        assert_eq!(floors.apply(aal2.clone(), 1_999).aal(), "aal1");
        let old = Authentication::password_only(999).with_second_factor(SecondFactor::Totp);
        assert_eq!(floors.apply(old, 5_000).amr(), ["pwd"]);
    }
}
