//! Response bodies. The routes fill these from what the services return
//! (`http/render.rs`), so the JSON the Worker sends and the schema in the document come
//! from the same struct.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;

use super::schema::{
    self, DEVICE_TOKEN_PATTERN, JWT_PATTERN, MFA_TOKEN_PATTERN, REFRESH_TOKEN_PATTERN,
};
use crate::domain::events::EventKind;
use crate::domain::factors::{self, MFA_METHODS};

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Health {
    #[schemars(extend("const" = "ok"))]
    pub status: &'static str,
}

impl Health {
    pub const OK: Health = Health { status: "ok" };
}

/// The answer to `POST /v1/password/forgot`, whatever the account.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ResetRequested {
    #[schemars(extend("const" = "requested"))]
    pub status: &'static str,
}

impl ResetRequested {
    pub const REQUESTED: ResetRequested = ResetRequested {
        status: "requested",
    };
}

/// A finished login: a short-lived access token (EdDSA JWT, `typ: at+jwt`) and a refresh token that is rotated on every use.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Authenticated {
    #[schemars(extend("const" = "authenticated"))]
    pub status: &'static str,
    /// EdDSA (Ed25519) JWT; verify with `/.well-known/jwks.json`.
    #[schemars(regex(pattern = JWT_PATTERN))]
    pub access_token: String,
    #[schemars(extend("const" = "Bearer"))]
    pub token_type: &'static str,
    /// Access token lifetime in seconds.
    #[schemars(range(min = 1))]
    pub expires_in: i64,
    /// Single use: `POST /v1/token/refresh` returns a new one. Reusing a spent one ends the session.
    #[schemars(regex(pattern = REFRESH_TOKEN_PATTERN))]
    pub refresh_token: String,
    /// Logins only: names this client as a known device of the account. Keep it with the app and send it with later `POST /v1/login` requests: its password attempts then wait only for its own failures, not for those of strangers guessing at the same username. Valid 90 days from the last login that returned it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DEVICE_TOKEN_PATTERN))]
    pub device_token: Option<String>,
}

impl Authenticated {
    pub fn new(access_token: String, expires_in: i64, refresh_token: String) -> Self {
        Self {
            status: "authenticated",
            access_token,
            token_type: "Bearer",
            expires_in,
            refresh_token,
            device_token: None,
        }
    }
}

/// The password was right and the account has two-factor authentication: finish with `POST /v1/login/mfa`.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct MfaRequired {
    #[schemars(extend("const" = "mfa_required"))]
    pub status: &'static str,
    /// Proof of the password step, for `POST /v1/login/mfa`.
    #[schemars(regex(pattern = MFA_TOKEN_PATTERN))]
    pub mfa_token: String,
    /// Seconds the mfa_token stays valid.
    #[schemars(range(min = 1))]
    pub expires_in: i64,
    /// Second factors accepted by `POST /v1/login/mfa`.
    #[schemars(schema_with = "mfa_methods")]
    pub methods: &'static [&'static str],
}

fn mfa_methods(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "array", "items": { "type": "string", "enum": MFA_METHODS } })
}

/// The answer of `POST /v1/login`: finished, or waiting for the second factor.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
#[schemars(transform = discriminated_by_status)]
pub enum LoginResult {
    Authenticated(Authenticated),
    MfaRequired(MfaRequired),
}

fn discriminated_by_status(schema: &mut Schema) {
    if let Some(any_of) = schema.remove("anyOf") {
        schema.insert("oneOf".into(), any_of);
    }
    schema.insert(
        "discriminator".into(),
        serde_json::json!({
            "propertyName": "status",
            "mapping": {
                "authenticated": "#/components/schemas/Authenticated",
                "mfa_required": "#/components/schemas/MfaRequired"
            }
        }),
    );
}

/// `Authenticated` (an aal2 session replacing the one that enrolled) plus the ten recovery codes, shown this once.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct TotpConfirmed {
    #[serde(flatten)]
    pub tokens: Authenticated,
    #[schemars(with = "schema::RecoveryCodes")]
    pub recovery_codes: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Registered {
    #[schemars(with = "schema::UserId")]
    pub user_id: String,
    #[schemars(with = "schema::Username")]
    pub username: String,
}

/// The caller, read from the verified access token alone (no storage call).
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Me {
    #[schemars(with = "schema::UserId")]
    pub user_id: String,
    #[schemars(with = "schema::Username")]
    pub username: String,
    /// The account's address once verified; `null` while there is none or it is not verified yet.
    pub email: Option<String>,
    /// True when `email` is set (it is only ever a verified address).
    pub email_verified: bool,
    /// Whether the account had two-factor authentication on when the token was issued.
    pub mfa_enabled: bool,
    /// Authentication methods of this session (RFC 8176): `[pwd]`, `[pwd, otp, mfa]` or `[pwd, recovery, mfa]`.
    #[schemars(schema_with = "amr_values")]
    pub amr: Vec<String>,
    /// `aal2` when a second factor was used.
    #[schemars(extend("enum" = ["aal1", "aal2"]))]
    pub aal: String,
    /// Unix time of the password step.
    #[schemars(range(min = 0))]
    pub auth_time: i64,
}

fn amr_values(_: &mut SchemaGenerator) -> Schema {
    let values = [
        "pwd",
        factors::totp::AMR,
        factors::recovery_code::AMR,
        "mfa",
    ];
    json_schema!({ "type": "array", "minItems": 1, "items": { "type": "string", "enum": values } })
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Events {
    /// Security events of the caller's account, newest first: at most `limit` (50 by default, 100 at most).
    #[schemars(length(max = 100))]
    pub events: Vec<Event>,
    /// Pass as `before` for the next, older page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields, inline)]
pub struct Event {
    #[schemars(schema_with = "event_kinds")]
    pub kind: String,
    /// Unix time.
    #[schemars(range(min = 0))]
    pub at: i64,
    /// The client address (`CF-Connecting-IP`), when known.
    pub ip: Option<String>,
    /// A short fixed phrase (for `lockout`: `password` or `second_factor`; for
    /// `factor_locked`: `password`, `totp` or `recovery_code`).
    pub detail: Option<String>,
}

fn event_kinds(_: &mut SchemaGenerator) -> Schema {
    let kinds: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
    json_schema!({ "type": "string", "enum": kinds })
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct FactorStatus {
    pub totp_enabled: bool,
    /// Unix time TOTP was turned on; `null` when off.
    pub enabled_at: Option<i64>,
    #[schemars(range(min = 0, max = 10))]
    pub recovery_codes_remaining: i64,
}

/// A pending TOTP enrolment: show the QR code (or the secret), then confirm with a code within `expires_in` seconds.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct TotpEnrollment {
    /// The 160-bit TOTP secret, base32 (RFC 4648, no padding).
    #[schemars(regex(pattern = "^[A-Z2-7]{32}$"))]
    pub secret: String,
    /// A standalone SVG QR code of `otpauth_uri`.
    #[schemars(regex(pattern = "^<svg"))]
    pub qr_svg: String,
    /// SHA1, 6 digits, 30-second period.
    #[schemars(regex(pattern = "^otpauth://totp/"))]
    pub otpauth_uri: String,
    #[schemars(range(min = 1))]
    pub expires_in: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RecoveryCodesIssued {
    #[schemars(with = "schema::RecoveryCodes")]
    pub recovery_codes: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Sessions {
    /// The caller's live sessions, most recently used first (at most 100).
    #[schemars(length(max = 100))]
    pub sessions: Vec<SessionInfo>,
}

/// One live session: a login and the refresh tokens that followed it.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields, inline)]
pub struct SessionInfo {
    /// Pass to `DELETE /v1/sessions/{id}` to end it. The `sid` claim of its access tokens.
    pub id: String,
    /// Unix time of the login.
    #[schemars(range(min = 0))]
    pub created_at: i64,
    /// Unix time of the last login or refresh.
    #[schemars(range(min = 0))]
    pub last_used_at: i64,
    /// The client address of that last use (`CF-Connecting-IP`), when known.
    pub ip: Option<String>,
    /// A short label of the client's User-Agent at login ("Firefox on Linux"), never the raw header.
    pub device: String,
    /// What the session's login proved (RFC 8176).
    #[schemars(schema_with = "amr_values")]
    pub amr: Vec<String>,
    /// `aal2` while the session's second factor still counts.
    #[schemars(extend("enum" = ["aal1", "aal2"]))]
    pub aal: String,
    /// True for the session of the token making this request.
    pub current: bool,
}
