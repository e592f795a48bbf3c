//! Request bodies. Every field is a string (or absent/null) so that a wrong type is a
//! 400 naming no value; the domain types (`Username`, `Password`, `TotpCode`...) are
//! built from these strings by the routes. Unknown fields are ignored, never honoured.

use schemars::JsonSchema;
use serde::Deserialize;

use super::schema::{self, MFA_TOKEN_PATTERN, REFRESH_TOKEN_PATTERN};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RegisterRequest {
    /// Any case and width: it is NFKC-normalised and lowercased first (`Alice` and `ａｌｉｃｅ` are `alice`). The result must be 3 to 32 characters of a-z, 0-9, `.`, `_`, `-`, starting and ending with a letter or digit, or the answer is 400 `invalid_username`. (Normalisation can lengthen a name, `ﬁx` is `fix`, so only the upper bound is a schema constraint.)
    #[schemars(length(max = 32))]
    pub username: String,
    #[schemars(with = "schema::NewPassword")]
    pub password: String,
    /// Optional; empty or `null` means none. Otherwise at most 254 characters (after trimming), `local@domain` with a dot inside the domain and no whitespace, control characters, `<` or `>`, or the answer is 400 `invalid_request`. The domain is lowercased.
    pub email: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LoginRequest {
    /// Any case and width, as at registration. A username that cannot exist is answered like a wrong password (401).
    pub username: String,
    /// An empty password or one over 1024 bytes is answered like a wrong one (401).
    pub password: String,
    /// The `device_token` of an earlier login from this client, if it has one. A token that is unknown, expired, for another account or malformed is ignored: the client is then treated as any other, and the login is otherwise the same.
    #[serde(default)]
    pub device_token: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(transform = schema::exactly_one_second_factor)]
pub struct MfaRequest {
    /// From the `mfa_required` answer of `POST /v1/login`. Anything else is 401 `invalid_mfa_token`.
    #[schemars(regex(pattern = MFA_TOKEN_PATTERN))]
    pub mfa_token: String,
    #[serde(default)]
    #[schemars(with = "schema::OptionalTotpCode")]
    pub code: Option<String>,
    #[serde(default)]
    #[schemars(with = "schema::RecoveryCodeInput")]
    pub recovery_code: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RefreshRequest {
    /// The latest refresh token of the session. Any other value is 401 `invalid_grant`.
    #[schemars(regex(pattern = REFRESH_TOKEN_PATTERN))]
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LogoutRequest {
    /// Optional (`null` is the same as leaving it out): also revoke the session this refresh token belongs to (if it is the caller's). A malformed value is 400 `invalid_request`.
    #[schemars(regex(pattern = REFRESH_TOKEN_PATTERN))]
    pub refresh_token: Option<String>,
}

/// When two-factor authentication is on, exactly one of `code` or `recovery_code` is required too (400 `invalid_request` without); when it is off they are ignored.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(transform = schema::at_most_one_second_factor)]
pub struct ChangePasswordRequest {
    /// Wrong (or empty) is 401 `invalid_credentials`.
    pub current_password: String,
    #[schemars(with = "schema::NewPassword")]
    pub new_password: String,
    #[serde(default)]
    #[schemars(with = "schema::OptionalTotpCode")]
    pub code: Option<String>,
    #[serde(default)]
    #[schemars(with = "schema::RecoveryCodeInput")]
    pub recovery_code: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct EnrollRequest {
    /// The account password (a stolen access token alone cannot add a factor).
    pub password: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ConfirmRequest {
    #[schemars(with = "schema::TotpCode")]
    pub code: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(transform = schema::exactly_one_second_factor)]
pub struct DisableTotpRequest {
    pub password: String,
    #[serde(default)]
    #[schemars(with = "schema::OptionalTotpCode")]
    pub code: Option<String>,
    #[serde(default)]
    #[schemars(with = "schema::RecoveryCodeInput")]
    pub recovery_code: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(transform = schema::exactly_one_second_factor)]
pub struct RegenerateRecoveryCodesRequest {
    #[serde(default)]
    #[schemars(with = "schema::OptionalTotpCode")]
    pub code: Option<String>,
    #[serde(default)]
    #[schemars(with = "schema::RecoveryCodeInput")]
    pub recovery_code: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct VerifyEmailRequest {
    /// The code from the verification email (`evc_` + 43 characters). Anything else, or a code already used or expired, is 401 `invalid_email_code`.
    pub code: String,
}

/// When two-factor authentication is on, exactly one of `code` or `recovery_code` is required too (400 `invalid_request` without); when it is off they are ignored.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(transform = schema::at_most_one_second_factor)]
pub struct DeleteAccountRequest {
    /// Wrong (or empty) is 401 `invalid_credentials`.
    pub password: String,
    #[serde(default)]
    #[schemars(with = "schema::OptionalTotpCode")]
    pub code: Option<String>,
    #[serde(default)]
    #[schemars(with = "schema::RecoveryCodeInput")]
    pub recovery_code: Option<String>,
}

/// When two-factor authentication is on, exactly one of `code` or `recovery_code` is required too (400 `invalid_request` without); when it is off they are ignored.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(transform = schema::at_most_one_second_factor)]
pub struct ChangeEmailRequest {
    /// Wrong (or empty) is 401 `invalid_credentials`.
    pub password: String,
    /// The new address: at most 254 characters, `local@domain` (400 `invalid_request` otherwise). 409 `email_taken` when another account has verified it.
    #[schemars(length(max = 254))]
    pub email: String,
    #[serde(default)]
    #[schemars(with = "schema::OptionalTotpCode")]
    pub code: Option<String>,
    #[serde(default)]
    #[schemars(with = "schema::RecoveryCodeInput")]
    pub recovery_code: Option<String>,
}

/// Exactly one of `username` or `email`: 400 `invalid_request` for neither or both, and for an address that is not `local@domain`; 400 `invalid_username` for a name that cannot exist.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ForgotPasswordRequest {
    /// As at login (any case and width).
    #[serde(default)]
    #[schemars(length(max = 32))]
    pub username: Option<String>,
    /// Finds the account only if it verified this address (`POST /v1/email/verify`); for an unverified address, give the username.
    #[serde(default)]
    #[schemars(length(max = 254))]
    pub email: Option<String>,
}

/// When two-factor authentication is on, exactly one of `code` or `recovery_code` is required too (400 `invalid_request` without, and nothing changes); when it is off they are ignored.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(transform = schema::at_most_one_second_factor)]
pub struct ResetPasswordRequest {
    /// The code from the reset email (`rst_` + 43 characters). Anything else, or a code already used or expired, is 401 `invalid_email_code`.
    #[schemars(regex(pattern = schema::RESET_CODE_PATTERN))]
    pub reset_code: String,
    #[schemars(with = "schema::NewPassword")]
    pub new_password: String,
    #[serde(default)]
    #[schemars(with = "schema::OptionalTotpCode")]
    pub code: Option<String>,
    #[serde(default)]
    #[schemars(with = "schema::RecoveryCodeInput")]
    pub recovery_code: Option<String>,
}
