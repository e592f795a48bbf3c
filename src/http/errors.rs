//! The one place where a service's failure becomes an API error (status and code).

use crate::error::ApiError;
use crate::services::ServiceError;

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::UsernameTaken => ApiError::UsernameTaken,
            ServiceError::EmailTaken => ApiError::EmailTaken,
            ServiceError::InvalidCredentials => ApiError::InvalidCredentials,
            ServiceError::InvalidCode { attempts_remaining } => {
                ApiError::InvalidCode { attempts_remaining }
            }
            ServiceError::InvalidMfaToken => ApiError::InvalidMfaToken,
            ServiceError::InvalidGrant => ApiError::InvalidGrant,
            ServiceError::InvalidToken => ApiError::InvalidToken,
            ServiceError::InsufficientAuthentication { max_age } => {
                ApiError::InsufficientAuthentication { max_age }
            }
            ServiceError::WeakPassword(rejection) => ApiError::WeakPassword(rejection.message()),
            ServiceError::AlreadyEnabled => ApiError::AlreadyEnabled,
            ServiceError::NotEnabled => ApiError::NotEnabled,
            ServiceError::EnrollmentExpired => ApiError::EnrollmentExpired,
            ServiceError::SessionNotFound => ApiError::SessionNotFound,
            ServiceError::InvalidEmailCode => ApiError::InvalidEmailCode,
            ServiceError::SecondFactorRequired => ApiError::InvalidRequest(
                "two-factor authentication is on: send code (or recovery_code) too".into(),
            ),
            ServiceError::FactorLocked(factor) => ApiError::FactorLocked {
                factor: factor.name(),
            },
            ServiceError::TooManyAttempts { retry_after } => {
                ApiError::TooManyAttempts { retry_after }
            }
            ServiceError::RateLimited { retry_after } => ApiError::RateLimited { retry_after },
            ServiceError::Overloaded { retry_after } => ApiError::Overloaded { retry_after },
            ServiceError::Unavailable(detail) => ApiError::Unavailable(detail),
            ServiceError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}
