//! CollectedClientData (WebAuthn §5.8.1): what the browser says about the ceremony, and
//! the base64url the challenge (and every binary field of a response) is written in.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::Value;
use subtle::ConstantTimeEq;

use super::WebAuthnError;

/// §7.1 steps 5-10, §7.2 steps 9-14. The JSON is decoded properly rather than matched
/// against a template, so unknown members (browsers add some on purpose) are ignored.
/// `topOrigin` is not read: cross-origin ceremonies are refused outright, and only they
/// carry it.
pub(crate) fn check(
    json: &[u8],
    ceremony: &str,
    challenge: &[u8],
    origins: &[String],
) -> Result<(), WebAuthnError> {
    let malformed = || WebAuthnError::MalformedClientData;
    // Into a Value, the way the Worker already reads request bodies: a typed struct
    // would bring another copy of serde_json's parser into the WASM (1.8 KB gzipped).
    // Of duplicate members the last wins; only this relying party ever parses these
    // bytes (the authenticator just hashes them), so no other parser can disagree.
    let data: Value = serde_json::from_slice(json).map_err(|_| malformed())?;
    let text = |name| data.get(name).and_then(Value::as_str).ok_or_else(malformed);
    let (received_ceremony, received_challenge, origin) =
        (text("type")?, text("challenge")?, text("origin")?);
    let cross_origin = match data.get("crossOrigin") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(cross_origin)) => *cross_origin,
        Some(_) => return Err(malformed()),
    };
    if received_ceremony != ceremony {
        return Err(WebAuthnError::WrongCeremonyType);
    }
    let received = URL_SAFE_NO_PAD
        .decode(received_challenge)
        .map_err(|_| WebAuthnError::MalformedBase64url)?;
    // Challenges are public once sent, but comparing them like secrets costs nothing.
    if !bool::from(received.ct_eq(challenge)) {
        return Err(WebAuthnError::ChallengeMismatch);
    }
    // Exact: an origin is scheme://host[:port], and any normalisation here would be a
    // second, different parser from the browser's.
    if !origins.iter().any(|allowed| allowed == origin) {
        return Err(WebAuthnError::OriginNotAllowed);
    }
    if cross_origin {
        return Err(WebAuthnError::CrossOrigin);
    }
    Ok(())
}

/// Unpadded, URL-safe, canonical (no stray trailing bits), as WebAuthn's JSON forms
/// write it. `max` is the decoded cap, checked on the text first so that an oversized
/// field is never decoded.
pub(crate) fn base64url(
    text: &str,
    max: usize,
    too_large: WebAuthnError,
) -> Result<Vec<u8>, WebAuthnError> {
    if text.len() > max.div_ceil(3) * 4 {
        return Err(too_large);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| WebAuthnError::MalformedBase64url)?;
    if bytes.len() > max {
        return Err(too_large);
    }
    Ok(bytes)
}
