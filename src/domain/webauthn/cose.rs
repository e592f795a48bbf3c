//! Credential public keys as COSE_Key (RFC 9052 §7, RFC 9053 §2, 7), for the two
//! algorithms this relying party implements.

use super::cbor::{self, Value};
use super::p256_point;
use super::WebAuthnError;

/// A signature algorithm, by its COSE identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoseAlgorithm {
    /// -7: ECDSA over P-256 with SHA-256.
    Es256,
    /// -8: EdDSA; WebAuthn only ever pairs it with Ed25519.
    EdDsa,
}

impl CoseAlgorithm {
    /// The COSE identifier, as offered in `pubKeyCredParams`.
    pub const fn id(self) -> i64 {
        match self {
            Self::Es256 => -7,
            Self::EdDsa => -8,
        }
    }

    pub fn from_id(id: i64) -> Option<Self> {
        match id {
            -7 => Some(Self::Es256),
            -8 => Some(Self::EdDsa),
            _ => None,
        }
    }
}

/// A validated credential public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoseKey {
    /// An uncompressed P-256 point, checked to lie on the curve.
    Es256 { x: [u8; 32], y: [u8; 32] },
    /// An Ed25519 point, checked canonical and not of small order.
    Ed25519 { x: [u8; 32] },
}

const KTY: i64 = 1;
const ALG: i64 = 3;
const CRV: i64 = -1;
const X: i64 = -2;
const Y: i64 = -3;
const D: i64 = -4;
const KTY_OKP: i64 = 1;
const KTY_EC2: i64 = 2;
const CRV_P256: i64 = 1;
const CRV_ED25519: i64 = 6;

impl CoseKey {
    /// A key as stored from [`NewCredential::public_key_cose`](super::NewCredential):
    /// the same checks as at registration, bar the offered-algorithm one.
    pub fn from_cose(bytes: &[u8]) -> Result<Self, WebAuthnError> {
        let value = cbor::decode(bytes).map_err(|_| WebAuthnError::MalformedCbor)?;
        Self::from_value(&value)
    }

    pub(crate) fn from_value(key: &Value<'_>) -> Result<Self, WebAuthnError> {
        if !matches!(key, Value::Map(_)) {
            return Err(WebAuthnError::MalformedCoseKey);
        }
        let int = |label| {
            key.get_int(label)
                .and_then(Value::as_i64)
                .ok_or(WebAuthnError::MalformedCoseKey)
        };
        let coordinate = |label| match key.get_int(label) {
            Some(Value::Bytes(bytes)) => {
                <[u8; 32]>::try_from(*bytes).map_err(|_| WebAuthnError::InvalidPublicKey)
            }
            _ => Err(WebAuthnError::MalformedCoseKey),
        };
        let alg = CoseAlgorithm::from_id(int(ALG)?).ok_or(WebAuthnError::UnsupportedAlgorithm)?;
        let (kty, crv) = (int(KTY)?, int(CRV)?);
        // A credential *public* key carrying its private half is an authenticator bug
        // at best; storing it would be worse.
        if key.get_int(D).is_some() {
            return Err(WebAuthnError::MalformedCoseKey);
        }
        match alg {
            CoseAlgorithm::Es256 => {
                if kty != KTY_EC2 || crv != CRV_P256 {
                    return Err(WebAuthnError::CoseKeyMismatch);
                }
                // y must be the coordinate itself: WebAuthn keys are uncompressed
                // (RFC 9053 also allows a sign bit, a boolean, which lands here).
                let (x, y) = (coordinate(X)?, coordinate(Y)?);
                if !p256_point::is_on_curve(&x, &y) {
                    return Err(WebAuthnError::InvalidPublicKey);
                }
                Ok(Self::Es256 { x, y })
            }
            CoseAlgorithm::EdDsa => {
                if kty != KTY_OKP || crv != CRV_ED25519 {
                    return Err(WebAuthnError::CoseKeyMismatch);
                }
                if key.get_int(Y).is_some() {
                    return Err(WebAuthnError::MalformedCoseKey);
                }
                let x = coordinate(X)?;
                // Decodes the point: the same check every verification repeats, and
                // code the token verifier already links into the Worker.
                ed25519_compact::PublicKey::new(x)
                    .validate()
                    .map_err(|_| WebAuthnError::InvalidPublicKey)?;
                Ok(Self::Ed25519 { x })
            }
        }
    }

    pub fn algorithm(&self) -> CoseAlgorithm {
        match self {
            Self::Es256 { .. } => CoseAlgorithm::Es256,
            Self::Ed25519 { .. } => CoseAlgorithm::EdDsa,
        }
    }

    /// The key as WebCrypto's `importKey("raw", ...)` takes it: the 65-byte SEC1
    /// uncompressed point for P-256, the 32 bytes for Ed25519.
    pub fn raw_public_key(&self) -> Vec<u8> {
        match self {
            Self::Es256 { x, y } => [&[0x04][..], x, y].concat(),
            Self::Ed25519 { x } => x.to_vec(),
        }
    }
}
