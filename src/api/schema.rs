//! Schemas that several bodies share, named in the document's `components/schemas`.
//! Each is a marker type: fields say `#[schemars(with = "schema::X")]` to point at it.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

/// The refresh token shape (`rt_` + 43 base64url characters).
pub const REFRESH_TOKEN_PATTERN: &str = "^rt_[A-Za-z0-9_-]{43}$";
/// The device token shape (`dvt_` kid `.` device id `.` issued at `.` MAC).
pub const DEVICE_TOKEN_PATTERN: &str =
    r"^dvt_[A-Za-z0-9._-]{1,64}\.[A-Za-z0-9_-]{22}\.[0-9]{1,19}\.[A-Za-z0-9_-]{43}$";
/// The mfa_token shape (`mfa_` + 43 base64url characters).
pub const MFA_TOKEN_PATTERN: &str = "^mfa_[A-Za-z0-9_-]{43}$";

pub const RESET_CODE_PATTERN: &str = "^rst_[A-Za-z0-9_-]{43}$";
/// A compact JWS: three base64url parts.
pub const JWT_PATTERN: &str = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$";
const TOTP_CODE_PATTERN: &str = "^[0-9]{6}$";
const TOTP_CODE_TEXT: &str = "The current 6-digit code of the authenticator app (ASCII digits). Another shape is 400 `invalid_request`.";

macro_rules! named {
    ($name:ident, $doc:literal, $schema:expr) => {
        #[doc = $doc]
        pub struct $name;

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                $schema
            }
        }
    };
}

named!(
    Username,
    "A canonical username.",
    json_schema!({
        "type": "string",
        "pattern": "^[a-z0-9][a-z0-9._-]{1,30}[a-z0-9]$",
        "description": "Canonical username: NFKC-normalised and lowercased, 3 to 32 characters of a-z, 0-9, `.`, `_`, `-`, starting and ending with a letter or digit."
    })
);

named!(
    UserId,
    "An opaque user id.",
    json_schema!({
        "type": "string",
        "pattern": "^[A-Za-z0-9_-]{22}$",
        "description": "Opaque user id (22 base64url characters)."
    })
);

named!(
    RecoveryCodes,
    "The ten recovery codes of a set.",
    json_schema!({
        "type": "array",
        "minItems": 10,
        "maxItems": 10,
        "items": {
            "type": "string",
            "pattern": "^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$"
        },
        "description": "Ten single-use recovery codes (Crockford base32, groups of four). Only their keyed hashes are stored: they are shown once."
    })
);

named!(
    NewPassword,
    "A new password, as sent.",
    json_schema!({
        "type": "string",
        "maxLength": 4096,
        "description": "15 to 128 characters after NFKC normalisation (NIST SP 800-63B rev 4: at least 15 for a password that is the only factor; a password change on an account with two-factor authentication on needs only 8), not among 200,000 common and breached passwords (compared lowercased) and not containing the username; otherwise 400 `weak_password`. No composition rules. (Normalisation can lengthen or shorten a password, so the schema bounds only the raw input: at most 4096 bytes.)"
    })
);

named!(
    TotpCode,
    "A TOTP code, required.",
    json_schema!({
        "type": "string",
        "pattern": TOTP_CODE_PATTERN,
        "description": TOTP_CODE_TEXT
    })
);

named!(
    OptionalTotpCode,
    "A TOTP code, optional.",
    json_schema!({
        "type": ["string", "null"],
        "pattern": TOTP_CODE_PATTERN,
        "description": format!("{TOTP_CODE_TEXT} `null` is the same as leaving the field out.")
    })
);

named!(
    RecoveryCodeInput,
    "A recovery code as a user types it.",
    json_schema!({
        "type": ["string", "null"],
        "maxLength": 64,
        "pattern": "^[ -]*(?:[0-9A-TV-Za-tv-z][ -]*){16}$",
        "description": "One unused recovery code. Case, spaces and dashes do not matter, and `o`, `i`, `l` read as `0`, `1`, `1`. Another shape is 400 `invalid_request`. `null` is the same as leaving the field out."
    })
);

/// Adds "exactly one of `code` and `recovery_code`" to a request schema.
pub fn exactly_one_second_factor(schema: &mut Schema) {
    schema.insert(
        "oneOf".into(),
        serde_json::json!([
            { "required": ["code"], "properties": { "code": { "type": "string" } } },
            { "required": ["recovery_code"], "properties": { "recovery_code": { "type": "string" } } }
        ]),
    );
}

/// Adds "not both of `code` and `recovery_code`" to a request schema.
pub fn at_most_one_second_factor(schema: &mut Schema) {
    schema.insert(
        "not".into(),
        serde_json::json!({
            "required": ["code", "recovery_code"],
            "properties": { "code": { "type": "string" }, "recovery_code": { "type": "string" } }
        }),
    );
}

named!(
    Jwks,
    "The published key set (the body of `/.well-known/jwks.json`).",
    json_schema!({
        "type": "object",
        "description": "The public keys that verify access tokens (RFC 7517); the newest signs, older ones stay listed while tokens they signed may be alive.",
        "required": ["keys"],
        "additionalProperties": false,
        "properties": {
            "keys": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["kty", "crv", "x", "kid", "alg", "use"],
                    "additionalProperties": false,
                    "properties": {
                        "kty": { "type": "string", "const": "OKP" },
                        "crv": { "type": "string", "const": "Ed25519" },
                        "x": { "type": "string", "pattern": "^[A-Za-z0-9_-]{43}$" },
                        "kid": { "type": "string", "minLength": 1, "maxLength": 64 },
                        "alg": { "type": "string", "const": "EdDSA" },
                        "use": { "type": "string", "const": "sig" }
                    }
                }
            }
        }
    })
);

named!(
    OpenApiDocument,
    "This document.",
    json_schema!({
        "type": "object",
        "required": ["openapi", "info", "paths"],
        "properties": {
            "openapi": { "type": "string", "pattern": "^3\\.1\\." },
            "info": { "type": "object" },
            "paths": { "type": "object" }
        }
    })
);
