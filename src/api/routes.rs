//! The API surface as data, shared by the Worker's router and the tests that check the
//! OpenAPI document against it.

/// Every route and the one method it answers (GET also answers HEAD).
pub const ROUTES: &[(&str, &str)] = &[
    ("/", "GET"),
    ("/health", "GET"),
    ("/openapi.json", "GET"),
    ("/.well-known/jwks.json", "GET"),
    ("/v1/register", "POST"),
    ("/v1/login", "POST"),
    ("/v1/login/mfa", "POST"),
    ("/v1/token/refresh", "POST"),
    ("/v1/logout", "POST"),
    ("/v1/me", "GET"),
    ("/v1/password", "POST"),
    ("/v1/events", "GET"),
    ("/v1/2fa", "GET"),
    ("/v1/2fa/totp/enroll", "POST"),
    ("/v1/2fa/totp/confirm", "POST"),
    ("/v1/2fa/totp", "DELETE"),
    ("/v1/2fa/recovery-codes", "POST"),
];
