//! The issuer's public keys, parsed from `/.well-known/jwks.json`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use ed25519_compact::PublicKey;
use serde_json::Value;

/// Ed25519 public keys by `kid`, parsed from a JWK Set (RFC 7517).
///
/// Only keys this crate can use are kept: `"kty": "OKP"`, `"crv": "Ed25519"`, with a
/// string `kid`, and with `alg` absent or `"EdDSA"`, `use` absent or `"sig"` and
/// `key_ops` absent or containing `"verify"`. Every other key (RSA, EC, X25519, keys for
/// encryption, keys without a `kid`) is skipped, so a JWKS may list them alongside.
///
/// A key that passes those filters but is broken is an error rather than skipped: a
/// JWKS with a bad Ed25519 key, a private key (`d`) or two keys with the same `kid` is
/// not one to trust at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwks {
    keys: Vec<(String, PublicKey)>,
}

/// Why a JWKS document was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksError {
    /// Not JSON, not an object, no `keys` array, or an entry of `keys` is not an object.
    Malformed,
    /// An Ed25519 key whose `x` is missing, not unpadded base64url, not 32 bytes, or not
    /// a valid (non-small-order) curve point.
    InvalidKey {
        /// The `kid` of the offending key.
        kid: String,
    },
    /// An Ed25519 key carries its private part `d`: the issuer has leaked its signing
    /// key, so nothing signed with it can be trusted.
    PrivateKey {
        /// The `kid` of the offending key.
        kid: String,
    },
    /// Two usable keys share a `kid`, so a token's `kid` would not pick one key.
    DuplicateKid(String),
    /// The document is well formed but lists no usable Ed25519 key.
    NoUsableKeys,
}

impl std::fmt::Display for JwksError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed => f.write_str("JWKS is not a JSON object with a `keys` array"),
            Self::InvalidKey { kid } => write!(f, "JWKS key {kid:?} is not a valid Ed25519 key"),
            Self::PrivateKey { kid } => write!(f, "JWKS key {kid:?} contains private key material"),
            Self::DuplicateKid(kid) => write!(f, "JWKS lists kid {kid:?} more than once"),
            Self::NoUsableKeys => f.write_str("JWKS has no usable Ed25519 (EdDSA) key"),
        }
    }
}

impl std::error::Error for JwksError {}

impl Jwks {
    /// Parses the text of a JWKS document, e.g. the body of `GET /.well-known/jwks.json`.
    pub fn from_json(json: &str) -> Result<Self, JwksError> {
        let value: Value = serde_json::from_str(json).map_err(|_| JwksError::Malformed)?;
        Self::from_value(&value)
    }

    /// Parses an already-decoded JWKS document.
    pub fn from_value(value: &Value) -> Result<Self, JwksError> {
        let entries = value
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(JwksError::Malformed)?;
        let mut keys: Vec<(String, PublicKey)> = Vec::new();
        for entry in entries {
            let entry = entry.as_object().ok_or(JwksError::Malformed)?;
            let str_field = |name: &str| entry.get(name).and_then(Value::as_str);
            let usable = str_field("kty") == Some("OKP")
                && str_field("crv") == Some("Ed25519")
                && entry.get("alg").is_none_or(|a| a.as_str() == Some("EdDSA"))
                && entry.get("use").is_none_or(|u| u.as_str() == Some("sig"))
                && entry.get("key_ops").is_none_or(|ops| {
                    ops.as_array()
                        .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")))
                });
            let Some(kid) = str_field("kid").filter(|_| usable) else {
                continue;
            };
            let kid = kid.to_owned();
            if entry.contains_key("d") {
                return Err(JwksError::PrivateKey { kid });
            }
            let Some(key) = str_field("x").and_then(parse_public_key) else {
                return Err(JwksError::InvalidKey { kid });
            };
            if keys.iter().any(|(k, _)| *k == kid) {
                return Err(JwksError::DuplicateKid(kid));
            }
            keys.push((kid, key));
        }
        if keys.is_empty() {
            return Err(JwksError::NoUsableKeys);
        }
        Ok(Self { keys })
    }

    /// The `kid`s of the usable keys, in document order.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(kid, _)| kid.as_str())
    }

    /// Whether a key with this `kid` is listed.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.key(kid).is_some()
    }

    /// How many usable keys are listed (at least one).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always `false`: parsing refuses a JWKS without a usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub(crate) fn key(&self, kid: &str) -> Option<&PublicKey> {
        self.keys.iter().find(|(k, _)| k == kid).map(|(_, key)| key)
    }
}

fn parse_public_key(x: &str) -> Option<PublicKey> {
    // The no-padding engine refuses `=` and non-canonical trailing bits.
    let bytes = URL_SAFE_NO_PAD.decode(x).ok()?;
    let key = PublicKey::from_slice(&bytes).ok()?;
    key.validate().ok()?;
    Some(key)
}
