//! Second factors behind one interface, one module per factor (the way Ory Kratos keeps
//! a strategy per method). A factor module says how its input is parsed, what the pure
//! check finds (the evidence), and what it is called in `methods` and `amr`; its SQL
//! (how the evidence is spent exactly once) lives in `store::factors`, beside the same
//! module name. This file is the one registration point: the enums below.

pub mod recovery_code;
pub mod totp;

use serde::{Deserialize, Serialize};

use super::recovery::{RecoveryCode, RecoveryHasher};
use super::throttle::CappedFactor;
use super::totp::{TotpCode, TotpSecret};

/// Which second factor a session used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactor {
    Totp,
    RecoveryCode,
}

impl SecondFactor {
    pub fn amr(self) -> &'static str {
        match self {
            SecondFactor::Totp => totp::AMR,
            SecondFactor::RecoveryCode => recovery_code::AMR,
        }
    }

    pub fn capped(self) -> CappedFactor {
        match self {
            SecondFactor::Totp => CappedFactor::Totp,
            SecondFactor::RecoveryCode => CappedFactor::RecoveryCode,
        }
    }

    /// The hard caps a success with this factor ends: its own run of failures, and for
    /// a recovery code a locked TOTP too (that is what recovery codes are for).
    pub fn recovers(self) -> &'static [CappedFactor] {
        match self {
            SecondFactor::Totp => &[CappedFactor::Totp],
            SecondFactor::RecoveryCode => &[CappedFactor::RecoveryCode, CappedFactor::Totp],
        }
    }
}

/// Second-factor methods a user with TOTP on may use to finish logging in.
pub const MFA_METHODS: [&str; 2] = [totp::METHOD, recovery_code::METHOD];

/// A second factor as submitted, already well-formed.
pub enum Submitted {
    Totp(TotpCode),
    RecoveryCode(RecoveryCode),
}

/// What the pure check found. Storage decides whether it is fresh (a later TOTP step,
/// an unused recovery code) inside the same transaction that records its use.
pub enum Evidence {
    /// The time step the code matched, or `None` when it matched no step in the window.
    TotpStep(Option<u64>),
    /// The recovery code's keyed hash under each recovery-code key, to look up among
    /// the user's unused codes.
    RecoveryHash(Vec<String>),
}

pub const TOTP_FORMAT: &str = totp::FORMAT;
pub const RECOVERY_FORMAT: &str = recovery_code::FORMAT;

impl Submitted {
    /// Exactly one of the two fields, well-formed.
    pub fn parse(code: Option<&str>, recovery_code: Option<&str>) -> Result<Self, &'static str> {
        match (code, recovery_code) {
            (Some(code), None) => totp::parse(code).map(Self::Totp),
            (None, Some(rc)) => recovery_code::parse(rc).map(Self::RecoveryCode),
            _ => Err("send exactly one of code or recovery_code"),
        }
    }

    pub fn factor(&self) -> SecondFactor {
        match self {
            Self::Totp(_) => SecondFactor::Totp,
            Self::RecoveryCode(_) => SecondFactor::RecoveryCode,
        }
    }

    /// Whether checking this factor needs the user's TOTP secret opened.
    pub fn needs_totp_secret(&self) -> bool {
        matches!(self, Self::Totp(_))
    }

    pub fn examine(
        &self,
        user_id: &str,
        totp_secret: Option<&TotpSecret>,
        recovery: &RecoveryHasher,
        now: i64,
    ) -> Evidence {
        match self {
            Self::Totp(code) => totp::examine(code, totp_secret, now),
            Self::RecoveryCode(code) => recovery_code::examine(code, user_id, recovery),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::totp::code_at;

    #[test]
    fn exactly_one_well_formed_factor() {
        assert!(matches!(
            Submitted::parse(Some("123456"), None),
            Ok(Submitted::Totp(_))
        ));
        assert!(matches!(
            Submitted::parse(None, Some("0000-1111-2222-3333")),
            Ok(Submitted::RecoveryCode(_))
        ));
        assert_eq!(
            Submitted::parse(Some("12345"), None).err(),
            Some(TOTP_FORMAT)
        );
        assert_eq!(
            Submitted::parse(None, Some("nope")).err(),
            Some(RECOVERY_FORMAT)
        );
        assert!(Submitted::parse(None, None).is_err());
        assert!(Submitted::parse(Some("123456"), Some("0000-1111-2222-3333")).is_err());
    }

    #[test]
    fn evidence_names_the_matched_step_or_the_code_hash() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890");
        let hasher = crate::domain::recovery::test_hasher(1);
        let now = 1_800_000_000;
        let good = Submitted::parse(Some(&code_at(&secret, now)), None).unwrap();
        assert!(matches!(
            good.examine("u", Some(&secret), &hasher, now),
            Evidence::TotpStep(Some(s)) if s == (now / 30) as u64
        ));
        let rc = Submitted::parse(None, Some("0000-1111-2222-3333")).unwrap();
        let Evidence::RecoveryHash(h) = rc.examine("u", Some(&secret), &hasher, now) else {
            panic!("recovery code must yield a hash")
        };
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].len(), 64);
        assert!(matches!(
            good.examine("u", None, &hasher, now),
            Evidence::TotpStep(None)
        ));
        assert_eq!(rc.factor(), SecondFactor::RecoveryCode);
    }

    #[test]
    fn a_recovery_code_recovers_a_locked_totp_but_not_the_reverse() {
        for f in [SecondFactor::Totp, SecondFactor::RecoveryCode] {
            assert!(f.recovers().contains(&f.capped()));
        }
        assert!(SecondFactor::RecoveryCode
            .recovers()
            .contains(&CappedFactor::Totp));
        assert!(!SecondFactor::Totp
            .recovers()
            .contains(&CappedFactor::RecoveryCode));
    }
}
