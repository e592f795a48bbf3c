//! The one error type of the API: every failure maps to a status and a stable code here.

use serde::Serialize;
use serde_json::Value;

/// What every error answer carries: a stable code, a sentence, and the fields some add.
#[derive(Serialize)]
pub struct ErrorBody {
    pub error: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_remaining: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factor: Option<&'static str>,
}

#[derive(Debug)]
pub enum ApiError {
    InvalidRequest(String),
    InvalidUsername(&'static str),
    WeakPassword(&'static str),
    UsernameTaken,
    /// Another account has verified that address.
    EmailTaken,
    InvalidCredentials,
    InvalidCode {
        attempts_remaining: Option<i64>,
    },
    InvalidMfaToken,
    InvalidGrant,
    InvalidToken,
    /// The token is valid but too weak for this action (RFC 9470 step-up); with
    /// `max_age` when its second factor is older than the aal2 lifetime.
    InsufficientAuthentication {
        max_age: Option<i64>,
    },
    AlreadyEnabled,
    NotEnabled,
    EnrollmentExpired,
    /// The factor (`password`, `totp`, `recovery_code`) failed 100 times in a row for
    /// this account (800-63B's hard limit) and stays locked until the account recovers.
    FactorLocked {
        factor: &'static str,
    },
    /// Per-account brute-force throttle.
    TooManyAttempts {
        retry_after: i64,
    },
    /// Per-client-IP rate limit.
    RateLimited {
        retry_after: i64,
    },
    NotFound,
    /// `DELETE /v1/sessions/{id}` for an id that is not one of the caller's live sessions.
    SessionNotFound,
    /// A code sent by email (verification, password reset) that is unknown, spent or expired.
    InvalidEmailCode,
    MethodNotAllowed(&'static str),
    PayloadTooLarge,
    /// A body that is not declared `application/json` (simple cross-site requests send
    /// `text/plain` or form bodies without a preflight).
    UnsupportedMediaType,
    /// Detail goes to the log only; the client sees a generic message.
    /// Too many Argon2id computations are waiting: shed, come back in `retry_after` s.
    Overloaded {
        retry_after: i64,
    },
    /// A binding the Worker needs is missing (the detail is logged, never returned).
    Unavailable(String),
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidRequest(_) | Self::InvalidUsername(_) | Self::WeakPassword(_) => 400,
            Self::InvalidCredentials
            | Self::InvalidCode { .. }
            | Self::InvalidMfaToken
            | Self::InvalidEmailCode
            | Self::InvalidGrant
            | Self::InvalidToken
            | Self::InsufficientAuthentication { .. } => 401,
            Self::NotFound | Self::SessionNotFound => 404,
            Self::MethodNotAllowed(_) => 405,
            Self::UsernameTaken | Self::EmailTaken | Self::AlreadyEnabled | Self::NotEnabled => 409,
            Self::EnrollmentExpired => 410,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::FactorLocked { .. } => 423,
            Self::TooManyAttempts { .. } | Self::RateLimited { .. } => 429,
            Self::Internal(_) => 500,
            Self::Unavailable(_) | Self::Overloaded { .. } => 503,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidUsername(_) => "invalid_username",
            Self::WeakPassword(_) => "weak_password",
            Self::UsernameTaken => "username_taken",
            Self::EmailTaken => "email_taken",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidCode { .. } => "invalid_code",
            Self::InvalidMfaToken => "invalid_mfa_token",
            Self::InvalidGrant => "invalid_grant",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientAuthentication { .. } => "insufficient_user_authentication",
            Self::AlreadyEnabled => "already_enabled",
            Self::NotEnabled => "not_enabled",
            Self::FactorLocked { .. } => "factor_locked",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::RateLimited { .. } => "rate_limited",
            Self::EnrollmentExpired => "enrollment_expired",
            Self::NotFound => "not_found",
            Self::SessionNotFound => "session_not_found",
            Self::InvalidEmailCode => "invalid_email_code",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Internal(_) => "internal_error",
            Self::Unavailable(_) => "service_unavailable",
            Self::Overloaded { .. } => "overloaded",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::InvalidRequest(m) => m.clone(),
            Self::InvalidUsername(m) | Self::WeakPassword(m) => (*m).to_owned(),
            Self::UsernameTaken => "that username is already registered".into(),
            Self::EmailTaken => "another account has verified that email address".into(),
            Self::InvalidCredentials => "invalid username or password".into(),
            Self::InvalidCode { .. } => "the code is not valid".into(),
            Self::InvalidMfaToken => {
                "the mfa_token is unknown, expired or used up; log in again".into()
            }
            Self::InvalidGrant => "the refresh token is invalid, expired or revoked".into(),
            Self::InvalidToken => "a valid access token is required".into(),
            Self::InsufficientAuthentication { max_age: None } => {
                "this action needs a session that used a second factor (aal2); log in again".into()
            }
            Self::InsufficientAuthentication {
                max_age: Some(max_age),
            } => format!(
                "this action needs a second factor used within the last {max_age} seconds; log in again"
            ),
            Self::AlreadyEnabled => "two-factor authentication is already enabled".into(),
            Self::NotEnabled => "two-factor authentication is not enabled".into(),
            Self::FactorLocked { factor: "totp" } => "too many wrong authenticator codes in a row: \
                the authenticator is locked for this account; log in with a recovery code to unlock it"
                .into(),
            Self::FactorLocked {
                factor: "recovery_code",
            } => "too many wrong recovery codes in a row: recovery codes are locked for this \
                account; log in with the authenticator and create new ones to unlock them"
                .into(),
            Self::FactorLocked { .. } => "too many failed attempts in a row: password login is \
                locked for this account until it is recovered"
                .into(),
            Self::TooManyAttempts { retry_after } => {
                format!("too many failed attempts; try again in {retry_after} seconds")
            }
            Self::RateLimited { retry_after } => {
                format!("too many requests from this address; try again in {retry_after} seconds")
            }
            Self::EnrollmentExpired => {
                "no pending enrolment (it may have expired); start again".into()
            }
            Self::NotFound => "no such route".into(),
            Self::SessionNotFound => "you have no live session with this id".into(),
            Self::InvalidEmailCode => "the code is unknown, already used or expired".into(),
            Self::MethodNotAllowed(allow) => format!("method not allowed; use {allow}"),
            Self::PayloadTooLarge => "request body is larger than 16 KiB".into(),
            Self::UnsupportedMediaType => {
                "the request body must be sent as Content-Type: application/json".into()
            }
            Self::Internal(_) => "internal error".into(),
            Self::Unavailable(_) => {
                "the service cannot take this request now; try again later".into()
            }
            Self::Overloaded { retry_after } => {
                format!("the service is busy; try again in {retry_after} seconds")
            }
        }
    }

    /// The JSON body, typed: serialized straight to bytes, with no `Value` map in between.
    pub fn error_body(&self) -> ErrorBody {
        let mut body = ErrorBody {
            error: self.code(),
            message: self.message(),
            attempts_remaining: None,
            retry_after: None,
            max_age: None,
            factor: None,
        };
        match self {
            Self::InvalidCode {
                attempts_remaining: Some(n),
            } => body.attempts_remaining = Some(*n),
            Self::TooManyAttempts { retry_after }
            | Self::RateLimited { retry_after }
            | Self::Overloaded { retry_after } => body.retry_after = Some(*retry_after),
            Self::InsufficientAuthentication {
                max_age: Some(max_age),
            } => body.max_age = Some(*max_age),
            Self::FactorLocked { factor } => body.factor = Some(factor),
            _ => {}
        }
        body
    }

    pub fn body(&self) -> Value {
        serde_json::to_value(self.error_body()).expect("plain struct serializes")
    }

    /// Extra headers the HTTP semantics ask for.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::InvalidToken => vec![(
                "WWW-Authenticate",
                r#"Bearer error="invalid_token""#.to_owned(),
            )],
            Self::InsufficientAuthentication { max_age } => vec![(
                "WWW-Authenticate",
                match max_age {
                    None => r#"Bearer error="insufficient_user_authentication", acr_values="aal2""#
                        .to_owned(),
                    Some(age) => format!(
                        r#"Bearer error="insufficient_user_authentication", acr_values="aal2", max_age="{age}""#
                    ),
                },
            )],
            Self::MethodNotAllowed(allow) => vec![("Allow", (*allow).to_owned())],
            Self::TooManyAttempts { retry_after }
            | Self::RateLimited { retry_after }
            | Self::Overloaded { retry_after } => {
                vec![("Retry-After", retry_after.to_string())]
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_detail_never_reaches_the_body() {
        let e = ApiError::Internal("D1_ERROR: secret detail".into());
        assert_eq!(e.status(), 500);
        assert!(!e.body().to_string().contains("secret detail"));
    }

    #[test]
    fn invalid_code_reports_remaining_attempts() {
        let e = ApiError::InvalidCode {
            attempts_remaining: Some(3),
        };
        assert_eq!(e.body()["attempts_remaining"], 3);
        assert_eq!(e.status(), 401);
    }

    #[test]
    fn throttling_says_when_to_come_back() {
        let e = ApiError::TooManyAttempts { retry_after: 30 };
        assert_eq!(e.status(), 429);
        assert_eq!(e.body()["retry_after"], 30);
        assert_eq!(e.headers(), vec![("Retry-After", "30".to_owned())]);
    }

    #[test]
    fn a_locked_factor_is_named_and_says_how_to_recover() {
        let e = ApiError::FactorLocked { factor: "totp" };
        assert_eq!((e.status(), e.code()), (423, "factor_locked"));
        assert_eq!(e.body()["factor"], "totp");
        assert!(e.message().contains("recovery code"));
        assert!(
            e.headers().is_empty(),
            "no Retry-After: waiting does not help"
        );
    }

    #[test]
    fn bearer_failures_carry_the_challenge_header() {
        let h = ApiError::InvalidToken.headers();
        assert_eq!(h[0].0, "WWW-Authenticate");
        assert!(h[0].1.contains("invalid_token"));
    }

    #[test]
    fn a_second_factor_too_long_ago_says_how_recent_it_must_be() {
        let e = ApiError::InsufficientAuthentication {
            max_age: Some(86_400),
        };
        assert_eq!(e.status(), 401);
        assert_eq!(e.body()["max_age"], 86_400);
        assert!(e.headers()[0]
            .1
            .ends_with(r#"acr_values="aal2", max_age="86400""#));
        let weak = ApiError::InsufficientAuthentication { max_age: None };
        assert!(weak.body().get("max_age").is_none());
    }
}
