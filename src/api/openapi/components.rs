//! The parts of the document that no type describes: response headers, the shared
//! failures, the `Error` schema (its codes from `ApiError`), the security scheme.

use serde_json::{json, Map, Value};

use super::build::failure;
use crate::error::ApiError;

pub fn headers() -> Value {
    json!({
        "XContentTypeOptions": {
            "description": "On every response.",
            "required": true,
            "schema": {
                "type": "string",
                "const": "nosniff"
            }
        },
        "CacheControlNoStore": {
            "description": "Tokens, secrets and personal data are never cached.",
            "required": true,
            "schema": {
                "type": "string",
                "const": "no-store"
            }
        },
        "CacheControlPublic": {
            "description": "Public and safe to cache for five minutes.",
            "required": true,
            "schema": {
                "type": "string",
                "const": "public, max-age=300"
            }
        },
        "RetryAfter": {
            "description": "Seconds to wait before trying again (the same as `retry_after` in the body).",
            "required": true,
            "schema": {
                "type": "integer",
                "minimum": 1
            }
        },
        "WWWAuthenticate": {
            "description": "The Bearer challenge (RFC 6750, RFC 9470): `Bearer error=\"invalid_token\"`, or `Bearer error=\"insufficient_user_authentication\", acr_values=\"aal2\"` when the route needs a session that used a second factor (with `, max_age=\"86400\"` when it did, but too long ago).",
            "required": true,
            "schema": {
                "type": "string",
                "pattern": "^Bearer error=\"(invalid_token|insufficient_user_authentication)\""
            }
        },
        "WWWAuthenticateWhenBearer": {
            "description": "Present when `error` is `invalid_token` or `insufficient_user_authentication` (the Bearer challenge); absent for a wrong password or code.",
            "required": false,
            "schema": {
                "type": "string",
                "pattern": "^Bearer error=\"(invalid_token|insufficient_user_authentication)\""
            }
        },
        "Allow": {
            "description": "The one method this path answers (GET paths answer HEAD too).",
            "required": true,
            "schema": {
                "type": "string",
                "enum": [
                    "GET",
                    "POST",
                    "DELETE"
                ]
            }
        },
        "ContentSecurityPolicy": {
            "description": "Only the page's own inline script and style (by hash); no other script, style, frame or form target.",
            "required": true,
            "schema": {
                "type": "string",
                "pattern": "^default-src 'none'"
            }
        },
        "AccessControlAllowMethods": {
            "description": "The method the route answers.",
            "required": true,
            "schema": {
                "type": "string",
                "enum": [
                    "GET",
                    "POST",
                    "DELETE"
                ]
            }
        },
        "AccessControlAllowOrigin": {
            "description": "Present only when the request's `Origin` is allowed by `CORS_ALLOWED_ORIGINS` (`*` or the origin itself).",
            "required": false,
            "schema": {
                "type": "string"
            }
        },
        "AccessControlAllowHeaders": {
            "description": "With an allowed origin: `authorization, content-type`.",
            "required": false,
            "schema": {
                "type": "string"
            }
        },
        "AccessControlMaxAge": {
            "description": "With an allowed origin: 600.",
            "required": false,
            "schema": {
                "type": "integer",
                "minimum": 0
            }
        },
        "Vary": {
            "description": "`Origin` whenever the request had an `Origin` header.",
            "required": false,
            "schema": {
                "type": "string"
            }
        }
    })
}

/// Failures described once and referred to by the operations.
pub fn responses() -> Map<String, Value> {
    let shared = [
        ("PayloadTooLarge", "The request body (or its declared Content-Length) is larger than 16 KiB.", vec![ApiError::PayloadTooLarge]),
        (
            "UnsupportedMediaType",
            "The body is not declared `Content-Type: application/json` (a form or `text/plain` body, or a body without a content type). Nothing was read or changed.",
            vec![ApiError::UnsupportedMediaType],
        ),
        ("InvalidToken", "No `Authorization: Bearer` access token, or one that does not verify (bad signature, unknown key, expired, wrong issuer or audience, malformed). Routes that change the account also refuse a token whose session has ended (logout, password change, 2FA turned on or off).", vec![ApiError::InvalidToken]),
        ("RateLimited", "Per-client-address rate limit (keyed on `CF-Connecting-IP`) exceeded. Wait `Retry-After` seconds.", vec![ApiError::RateLimited { retry_after: 60 }]),
        (
            "Unavailable",
            "`service_unavailable`: a binding the Worker needs is missing (a per-client rate limiter): it refuses rather than run without its limits; the detail is logged, never returned. `overloaded`: too many password checks are waiting in this isolate (`ARGON2_QUEUE_MAX`); try again after `Retry-After` seconds.",
            vec![
                ApiError::Unavailable(String::new()),
                ApiError::Overloaded { retry_after: 1 },
            ],
        ),
        ("InternalError", "Unexpected server-side failure (configuration, storage). The detail is logged, never returned.", vec![ApiError::Internal(String::new())]),
        ("NotFound", "No route has this path (any method). Not listed per operation: it is what any path outside this document answers.", vec![ApiError::NotFound]),
        ("MethodNotAllowed", "The path exists but does not answer this method. `Allow` names the one method it does answer. Not listed per operation: it is what any method outside this document answers on a documented path (HEAD and OPTIONS excepted).", vec![ApiError::MethodNotAllowed("POST")]),
    ];
    shared
        .into_iter()
        .map(|(name, description, errors)| (name.to_owned(), failure(description, &errors)))
        .collect()
}

pub fn security_schemes() -> Value {
    json!({
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from `/v1/login`, `/v1/login/mfa`, `/v1/token/refresh`, `/v1/password` or `/v1/2fa/totp/confirm`."
        }
    })
}

/// One of each `ApiError` variant (the match stops compiling when one is added, so the
/// document's list of codes cannot fall behind).
pub fn every_error() -> Vec<ApiError> {
    let all = vec![
        ApiError::InvalidRequest("request body is not valid JSON".into()),
        ApiError::InvalidUsername("username must be at least 3 characters"),
        ApiError::WeakPassword("password must be at least 15 characters"),
        ApiError::UsernameTaken,
        ApiError::EmailTaken,
        ApiError::InvalidCredentials,
        ApiError::InvalidCode {
            attempts_remaining: Some(3),
        },
        ApiError::InvalidMfaToken,
        ApiError::InvalidGrant,
        ApiError::InvalidToken,
        ApiError::InsufficientAuthentication {
            max_age: Some(86_400),
        },
        ApiError::AlreadyEnabled,
        ApiError::NotEnabled,
        ApiError::EnrollmentExpired,
        ApiError::FactorLocked { factor: "password" },
        ApiError::TooManyAttempts { retry_after: 57 },
        ApiError::RateLimited { retry_after: 60 },
        ApiError::NotFound,
        ApiError::SessionNotFound,
        ApiError::InvalidEmailCode,
        ApiError::MethodNotAllowed("POST"),
        ApiError::PayloadTooLarge,
        ApiError::UnsupportedMediaType,
        ApiError::Internal(String::new()),
        ApiError::Unavailable(String::new()),
        ApiError::Overloaded { retry_after: 1 },
    ];
    for e in &all {
        match e {
            ApiError::InvalidRequest(_)
            | ApiError::InvalidUsername(_)
            | ApiError::WeakPassword(_)
            | ApiError::UsernameTaken
            | ApiError::EmailTaken
            | ApiError::InvalidCredentials
            | ApiError::InvalidCode { .. }
            | ApiError::InvalidMfaToken
            | ApiError::InvalidGrant
            | ApiError::InvalidToken
            | ApiError::InsufficientAuthentication { .. }
            | ApiError::AlreadyEnabled
            | ApiError::NotEnabled
            | ApiError::EnrollmentExpired
            | ApiError::FactorLocked { .. }
            | ApiError::TooManyAttempts { .. }
            | ApiError::RateLimited { .. }
            | ApiError::NotFound
            | ApiError::SessionNotFound
            | ApiError::InvalidEmailCode
            | ApiError::MethodNotAllowed(_)
            | ApiError::PayloadTooLarge
            | ApiError::UnsupportedMediaType
            | ApiError::Internal(_)
            | ApiError::Unavailable(_)
            | ApiError::Overloaded { .. } => {}
        }
    }
    all
}

/// Every error body: a stable code, a sentence, and two fields some codes add.
pub fn error_schema() -> Value {
    let codes: Vec<&str> = every_error().iter().map(ApiError::code).collect();
    json!({
        "type": "object",
        "description": "Every error. `error` is a stable machine-readable code; `message` is a human sentence that may change.",
        "required": ["error", "message"],
        "additionalProperties": false,
        "properties": {
            "error": { "type": "string", "enum": codes },
            "message": { "type": "string", "minLength": 1 },
            "attempts_remaining": {
                "type": "integer",
                "minimum": 0,
                "description": "Only with `invalid_code` from `POST /v1/login/mfa` and `POST /v1/2fa/totp/confirm`: wrong codes this mfa_token (or enrolment) still accepts."
            },
            "max_age": {
                "type": "integer",
                "minimum": 1,
                "description": "Only with `insufficient_user_authentication` when the session did use a second factor, but longer ago than the aal2 lifetime allows (`AAL2_MAX_AGE`): log in again with a second factor. The same as the `max_age` of the `WWW-Authenticate` challenge (RFC 9470)."
            },
            "factor": {
                "type": "string",
                "enum": ["password", "totp", "recovery_code"],
                "description": "Only with 423 `factor_locked`: the factor that failed too often in a row for this account (at most 100, `MAX_FAILED_ATTEMPTS`). Waiting does not unlock it: a recovery code unlocks `totp`; new recovery codes (made with the authenticator) unlock `recovery_code`; `password` stays locked until the account is recovered."
            },
            "retry_after": {
                "type": "integer",
                "minimum": 1,
                "description": "Only with 429 (`too_many_attempts`, `rate_limited`) and 503 `overloaded`: seconds to wait, the same as the `Retry-After` header."
            }
        }
    })
}
