//! Recovery codes as a second factor: one of the user's ten single-use look-up secrets,
//! compared by keyed hash; storage accepts only an unused one.

use super::Evidence;
use crate::domain::recovery::{RecoveryCode, RecoveryHasher};

pub const METHOD: &str = "recovery_code";
/// RFC 8176 has no value for a look-up secret, so recovery-code logins carry our own
/// `recovery` to stay distinguishable from OTP ones.
pub const AMR: &str = "recovery";
pub const FORMAT: &str = "recovery_code must be 16 letters and digits, as shown when it was issued";

pub fn parse(raw: &str) -> Result<RecoveryCode, &'static str> {
    RecoveryCode::parse(raw).ok_or(FORMAT)
}

pub fn examine(code: &RecoveryCode, user_id: &str, hasher: &RecoveryHasher) -> Evidence {
    Evidence::RecoveryHash(hasher.candidates(user_id, code))
}
