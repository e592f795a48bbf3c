//! The flows of the service, one file each. A service owns the order of the store calls
//! and the domain decisions of its flow; it takes values the HTTP layer has already
//! parsed into domain types and returns plain results or a [`ServiceError`], which
//! `http` maps to the API's error type in one place.

pub mod access;
pub mod account_deletion;
pub mod context;
pub mod email_change;
pub mod email_verification;
pub mod events;
pub mod factor_management;
pub mod grant;
pub mod housekeeping;
pub mod password_change;
mod password_check;
pub mod password_login;
pub mod password_reset;
pub mod registration;
pub mod second_step;
pub mod session;
pub mod sessions;
mod step_up;
pub mod totp_enrolment;

pub use context::{Ctx, Limit};

use crate::store::StoreError;

/// Why a flow did not complete.
#[derive(Debug)]
pub enum ServiceError {
    UsernameTaken,
    /// Another account has verified the address.
    EmailTaken,
    InvalidCredentials,
    InvalidCode {
        attempts_remaining: Option<i64>,
    },
    InvalidMfaToken,
    InvalidGrant,
    InvalidToken,
    /// The token is valid but too weak for the action (RFC 9470 step-up); `max_age`
    /// when it was strong enough once but that is too long ago.
    InsufficientAuthentication {
        max_age: Option<i64>,
    },
    AlreadyEnabled,
    NotEnabled,
    EnrollmentExpired,
    SessionNotFound,
    /// An email code (verification or reset) that is unknown, spent or expired.
    InvalidEmailCode,
    /// The password may not take this role (too short to stand alone, say).
    WeakPassword(crate::domain::password::PasswordRejection),
    /// A password change on an account with 2FA came without a second factor.
    SecondFactorRequired,
    /// The factor failed too often in a row (the 800-63B hard cap); it stays locked
    /// until the account recovers.
    FactorLocked(crate::domain::throttle::CappedFactor),
    /// Per-account brute-force throttle.
    TooManyAttempts {
        retry_after: i64,
    },
    /// Per-client-IP rate limit.
    RateLimited {
        retry_after: i64,
    },
    /// Too many Argon2id computations are waiting in this isolate.
    Overloaded {
        retry_after: i64,
    },
    /// A part the service depends on is missing or down (detail for the log only).
    Unavailable(String),
    /// Detail for the log only.
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}
