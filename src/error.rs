//! The one error type of the API: every failure maps to a status and a stable code here.

use serde_json::{json, Value};

#[derive(Debug)]
pub enum ApiError {
    InvalidRequest(String),
    InvalidUsername(&'static str),
    WeakPassword(&'static str),
    UsernameTaken,
    InvalidCredentials,
    InvalidCode {
        attempts_remaining: Option<i64>,
    },
    InvalidMfaToken,
    InvalidGrant,
    InvalidToken,
    AlreadyEnabled,
    EnrollmentExpired,
    NotFound,
    MethodNotAllowed(&'static str),
    PayloadTooLarge,
    /// Detail goes to the log only; the client sees a generic message.
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidRequest(_) | Self::InvalidUsername(_) | Self::WeakPassword(_) => 400,
            Self::InvalidCredentials
            | Self::InvalidCode { .. }
            | Self::InvalidMfaToken
            | Self::InvalidGrant
            | Self::InvalidToken => 401,
            Self::NotFound => 404,
            Self::MethodNotAllowed(_) => 405,
            Self::UsernameTaken | Self::AlreadyEnabled => 409,
            Self::EnrollmentExpired => 410,
            Self::PayloadTooLarge => 413,
            Self::Internal(_) => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidUsername(_) => "invalid_username",
            Self::WeakPassword(_) => "weak_password",
            Self::UsernameTaken => "username_taken",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidCode { .. } => "invalid_code",
            Self::InvalidMfaToken => "invalid_mfa_token",
            Self::InvalidGrant => "invalid_grant",
            Self::InvalidToken => "invalid_token",
            Self::AlreadyEnabled => "already_enabled",
            Self::EnrollmentExpired => "enrollment_expired",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::Internal(_) => "internal_error",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::InvalidRequest(m) => m.clone(),
            Self::InvalidUsername(m) | Self::WeakPassword(m) => (*m).to_owned(),
            Self::UsernameTaken => "that username is already registered".into(),
            Self::InvalidCredentials => "invalid username or password".into(),
            Self::InvalidCode { .. } => "the code is not valid".into(),
            Self::InvalidMfaToken => {
                "the mfa_token is unknown, expired or used up; log in again".into()
            }
            Self::InvalidGrant => "the refresh token is invalid, expired or revoked".into(),
            Self::InvalidToken => "a valid access token is required".into(),
            Self::AlreadyEnabled => "two-factor authentication is already enabled".into(),
            Self::EnrollmentExpired => {
                "no pending enrolment (it may have expired); start again".into()
            }
            Self::NotFound => "no such route".into(),
            Self::MethodNotAllowed(allow) => format!("method not allowed; use {allow}"),
            Self::PayloadTooLarge => "request body is larger than 16 KiB".into(),
            Self::Internal(_) => "internal error".into(),
        }
    }

    pub fn body(&self) -> Value {
        let mut body = json!({ "error": self.code(), "message": self.message() });
        if let Self::InvalidCode {
            attempts_remaining: Some(n),
        } = self
        {
            body["attempts_remaining"] = json!(n);
        }
        body
    }

    /// Extra headers the HTTP semantics ask for.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::InvalidToken => vec![(
                "WWW-Authenticate",
                r#"Bearer error="invalid_token""#.to_owned(),
            )],
            Self::MethodNotAllowed(allow) => vec![("Allow", (*allow).to_owned())],
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
    fn bearer_failures_carry_the_challenge_header() {
        let h = ApiError::InvalidToken.headers();
        assert_eq!(h[0].0, "WWW-Authenticate");
        assert!(h[0].1.contains("invalid_token"));
    }
}
