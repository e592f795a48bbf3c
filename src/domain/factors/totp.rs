//! TOTP (RFC 6238) as a second factor: a 6-digit code, checked against the user's secret
//! in the time window; storage accepts only a step later than the last accepted one.

use super::Evidence;
use crate::domain::totp::{matching_step, TotpCode, TotpSecret};

/// The name in `methods` of an `mfa_required` answer.
pub const METHOD: &str = "totp";
/// RFC 8176: one-time password.
pub const AMR: &str = "otp";
pub const FORMAT: &str = "code must be exactly 6 digits";

pub fn parse(raw: &str) -> Result<TotpCode, &'static str> {
    TotpCode::parse(raw).map_err(|_| FORMAT)
}

/// The matched time step, or `None`; without a secret (none enrolled) nothing matches.
pub fn examine(code: &TotpCode, secret: Option<&TotpSecret>, now: i64) -> Evidence {
    Evidence::TotpStep(secret.and_then(|s| matching_step(s, code, now)))
}
