//! The claims of a verified access token.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::json::numeric_date;
use crate::VerifyError;

/// The claims of an edge-login access token, returned only after every check passed.
///
/// Mirrors what the issuer puts in every token; all fields but `nbf`, `email` and `email_verified` are
/// required, and a token missing one is refused with [`VerifyError::MissingClaim`].
/// Claims this struct does not know are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer URL; equal to [`Expectations::issuer`](crate::Expectations::issuer).
    pub iss: String,
    /// Audiences; one of them equals [`Expectations::audience`](crate::Expectations::audience).
    /// A token may carry `aud` as a string (as edge-login issues it) or an array
    /// (RFC 7519 §4.1.3); one audience serializes back as a string.
    #[serde(
        serialize_with = "serialize_audience",
        deserialize_with = "deserialize_audience"
    )]
    pub aud: Vec<String>,
    /// The user id.
    pub sub: String,
    /// The client (application) the token was issued to (RFC 9068 §2.2).
    pub client_id: String,
    /// Issued at, unix seconds.
    pub iat: i64,
    /// Expires at, unix seconds.
    pub exp: i64,
    /// Not before, unix seconds (edge-login does not set it; honoured if present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Unique token id.
    pub jti: String,
    /// The login session this token belongs to (revocation is per session).
    pub sid: String,
    /// Authentication methods (RFC 8176), e.g. `["pwd"]` or `["pwd", "otp", "mfa"]`.
    pub amr: Vec<String>,
    /// Authentication assurance level: `"aal1"` (password) or `"aal2"` (password + TOTP
    /// or recovery code).
    pub aal: String,
    /// The same level as an `acr` value (RFC 9068 §2.2.1), the name step-up challenges
    /// use (`acr_values="aal2"`, RFC 9470).
    pub acr: String,
    /// When the user last authenticated, unix seconds.
    pub auth_time: i64,
    /// The user's username.
    pub preferred_username: String,
    /// The user's email address, only once verified (then `email_verified` is true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `true` beside a verified `email` (OpenID Connect's claim); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// Whether the user has two-factor authentication enrolled (not whether this login
    /// used it: see [`aal`](Self::aal) and [`is_aal2`](Self::is_aal2)).
    pub mfa_enabled: bool,
}

impl AccessClaims {
    /// Whether this login used a second factor (`aal` is `"aal2"`).
    pub fn is_aal2(&self) -> bool {
        self.aal == "aal2"
    }

    /// Reads the claims that the registered-claim checks did not already read.
    pub(crate) fn from_checked(
        map: &Map<String, Value>,
        iss: String,
        aud: Vec<String>,
        exp: i64,
        nbf: Option<i64>,
    ) -> Result<Self, VerifyError> {
        Ok(Self {
            iss,
            aud,
            sub: string(map, "sub")?,
            client_id: string(map, "client_id")?,
            iat: number(map, "iat")?,
            exp,
            nbf,
            jti: string(map, "jti")?,
            sid: string(map, "sid")?,
            amr: strings(map, "amr")?,
            aal: string(map, "aal")?,
            acr: string(map, "acr")?,
            auth_time: number(map, "auth_time")?,
            preferred_username: string(map, "preferred_username")?,
            email: match map.get("email") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(VerifyError::InvalidClaim("email")),
            },
            email_verified: match map.get("email_verified") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => return Err(VerifyError::InvalidClaim("email_verified")),
            },
            mfa_enabled: required(map, "mfa_enabled")?
                .as_bool()
                .ok_or(VerifyError::InvalidClaim("mfa_enabled"))?,
        })
    }
}

pub(crate) fn required<'a>(
    map: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a Value, VerifyError> {
    map.get(name).ok_or(VerifyError::MissingClaim(name))
}

pub(crate) fn string(map: &Map<String, Value>, name: &'static str) -> Result<String, VerifyError> {
    required(map, name)?
        .as_str()
        .map(str::to_owned)
        .ok_or(VerifyError::InvalidClaim(name))
}

pub(crate) fn number(map: &Map<String, Value>, name: &'static str) -> Result<i64, VerifyError> {
    numeric_date(required(map, name)?).ok_or(VerifyError::InvalidClaim(name))
}

fn strings(map: &Map<String, Value>, name: &'static str) -> Result<Vec<String>, VerifyError> {
    required(map, name)?
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .ok_or(VerifyError::InvalidClaim(name))
}

/// `aud` as RFC 7519 allows it: one string, or an array of strings.
pub(crate) fn audiences(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

fn serialize_audience<S: Serializer>(aud: &[String], serializer: S) -> Result<S::Ok, S::Error> {
    match aud {
        [one] => serializer.serialize_str(one),
        many => many.serialize(serializer),
    }
}

fn deserialize_audience<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}
