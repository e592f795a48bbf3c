//! Verify edge-login access tokens in a downstream service.
//!
//! edge-login issues access tokens as EdDSA (Ed25519) JWTs with `typ: at+jwt`
//! (RFC 9068) and publishes its public keys at `GET /.well-known/jwks.json`. This crate
//! checks such a token against that key set: `kid` lookup, `alg` exactly `EdDSA`, `typ`,
//! the Ed25519 signature, then `iss`, `aud`, `exp` (and `nbf` if present).
//!
//! It does no I/O and reads no clock, so it runs the same in a Cloudflare Worker
//! (`wasm32-unknown-unknown`, where `SystemTime::now()` panics) and in a native
//! service: fetch and cache the JWKS however suits you, and pass the current time in.
//!
//! ```
//! use edge_login_verifier::{Expectations, Jwks, Verifier, VerifyError};
//!
//! # const JWKS_JSON: &str = r#"{"keys":[{"alg":"EdDSA","crv":"Ed25519","kid":"2025-01","kty":"OKP","use":"sig","x":"6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw"}]}"#;
//! # const TOKEN: &str = "eyJhbGciOiJFZERTQSIsImtpZCI6IjIwMjUtMDEiLCJ0eXAiOiJhdCtqd3QifQ.eyJleHAiOjE4MDAwMDA5MDAsImlhdCI6MTgwMDAwMDAwMCwiaXNzIjoiaHR0cHM6Ly9sb2dpbi5leGFtcGxlLmNvbSIsImF1ZCI6Imh0dHBzOi8vYXBpLmV4YW1wbGUuY29tIiwic3ViIjoidXNlci0xMjMiLCJjbGllbnRfaWQiOiJkZW1vLWFwcCIsImp0aSI6Imp0aS0xIiwic2lkIjoic2Vzc2lvbi0xIiwiYW1yIjpbInB3ZCIsIm90cCIsIm1mYSJdLCJhYWwiOiJhYWwyIiwiYWNyIjoiYWFsMiIsImF1dGhfdGltZSI6MTc5OTk5OTk5MCwicHJlZmVycmVkX3VzZXJuYW1lIjoiYWxpY2UiLCJtZmFfZW5hYmxlZCI6dHJ1ZX0.XVknrJLvH32q4y_tPPQw0eOaooUVhuQgXg-l4oszc3m2YqBAZTcv-4kMaxBmnqfTvE5l109QqAgAF4In6AsvCg";
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The body of GET https://login.example.com/.well-known/jwks.json, fetched and cached
//! // by the caller.
//! let jwks = Jwks::from_json(JWKS_JSON)?;
//! let verifier = Verifier::new(
//!     jwks,
//!     Expectations {
//!         issuer: "https://login.example.com".into(),
//!         audience: "https://api.example.com".into(),
//!         leeway_seconds: 30,
//!     },
//! );
//!
//! let now_unix = 1_800_000_000; // e.g. `worker::Date::now().as_millis() / 1000`
//! let claims = verifier.verify(TOKEN, now_unix)?;
//! assert_eq!(claims.sub, "user-123");
//! assert_eq!(claims.preferred_username, "alice");
//! assert!(claims.is_aal2());
//!
//! // Fifteen minutes and the leeway later, the same token has expired.
//! assert_eq!(verifier.verify(TOKEN, now_unix + 900 + 30), Err(VerifyError::Expired));
//! // Anything else is refused with the reason.
//! assert_eq!(verifier.verify("not.a.token", now_unix), Err(VerifyError::Malformed));
//! # Ok(())
//! # }
//! ```
//!
//! Every failure is a [`VerifyError`] naming the check that failed; treat them all as
//! "401 Unauthorized", and refetch the JWKS (rate-limited) on
//! [`VerifyError::UnknownKid`], which is what a key rotation looks like from here.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod claims;
mod json;
mod jwks;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use ed25519_compact::Signature;
use serde_json::Value;

pub use claims::AccessClaims;
pub use jwks::{Jwks, JwksError};

use claims::{audiences, number, required, string};
use json::{numeric_date, strict_object};

/// The only `alg` accepted.
pub const ALGORITHM: &str = "EdDSA";

/// The `typ` edge-login puts in the header of every access token (RFC 9068 §2.1).
/// Verification also accepts `application/at+jwt`, in any case (RFC 7515 §4.1.9).
pub const TOKEN_TYPE: &str = "at+jwt";

/// Tokens longer than this are refused as [`VerifyError::Malformed`] before any decoding
/// (edge-login's are well under 1 KiB).
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Header parameters that make a token refused outright: each would let the token say
/// where its verification key comes from (`jku`, `jwk`, `x5u`, `x5c`) or demand
/// extensions this crate does not implement (`crit`).
pub const FORBIDDEN_HEADERS: [&str; 5] = ["jku", "jwk", "x5u", "x5c", "crit"];

/// What a valid token must say about who issued it and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectations {
    /// Exact `iss`: edge-login's `JWT_ISSUER` setting, e.g. `https://login.example.com`.
    pub issuer: String,
    /// The audience this service accepts: `aud` must equal it, or be an array that
    /// contains it. edge-login's `JWT_AUDIENCE` setting.
    pub audience: String,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds. A token is valid while
    /// `now < exp + leeway` and `nbf <= now + leeway`.
    pub leeway_seconds: u32,
}

/// Why a token was refused. The variants are ordered as the checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerifyError {
    /// Not three base64url (unpadded) segments whose first two are JSON objects (without
    /// duplicate member names), or longer than [`MAX_TOKEN_LEN`].
    Malformed,
    /// `alg` is not exactly `"EdDSA"` (`none`, `HS256`, `ES256`, missing, ...).
    WrongAlgorithm,
    /// The header has one of [`FORBIDDEN_HEADERS`]; names which.
    ForbiddenHeader(&'static str),
    /// `typ` is missing or not `at+jwt` / `application/at+jwt` (case-insensitive).
    WrongType,
    /// `kid` is missing or not in the JWKS. After a key rotation the JWKS may be stale:
    /// refetch it, then retry once.
    UnknownKid,
    /// The signature is missing, not 64 bytes, or does not verify with the `kid`'s key.
    BadSignature,
    /// A required claim is absent; names which.
    MissingClaim(&'static str),
    /// A claim has the wrong JSON type (e.g. `exp` as a string); names which.
    InvalidClaim(&'static str),
    /// `iss` is not [`Expectations::issuer`].
    WrongIssuer,
    /// `aud` neither is nor contains [`Expectations::audience`].
    WrongAudience,
    /// `now >= exp + leeway`.
    Expired,
    /// `nbf > now + leeway`.
    NotYetValid,
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed => f.write_str("token is malformed"),
            Self::WrongAlgorithm => f.write_str("token algorithm is not EdDSA"),
            Self::ForbiddenHeader(name) => write!(f, "token header has forbidden `{name}`"),
            Self::WrongType => f.write_str("token type is not at+jwt"),
            Self::UnknownKid => f.write_str("token key id is not in the JWKS"),
            Self::BadSignature => f.write_str("token signature is invalid"),
            Self::MissingClaim(name) => write!(f, "token lacks the `{name}` claim"),
            Self::InvalidClaim(name) => write!(f, "token claim `{name}` has the wrong type"),
            Self::WrongIssuer => f.write_str("token issuer is not the expected one"),
            Self::WrongAudience => f.write_str("token audience is not this service"),
            Self::Expired => f.write_str("token has expired"),
            Self::NotYetValid => f.write_str("token is not valid yet"),
        }
    }
}

impl std::error::Error for VerifyError {}

/// Checks access tokens against one JWKS and one set of [`Expectations`].
///
/// Cheap to clone; keep one per JWKS version and replace the key set with
/// [`set_jwks`](Self::set_jwks) when you refetch it.
#[derive(Debug, Clone)]
pub struct Verifier {
    jwks: Jwks,
    expectations: Expectations,
}

impl Verifier {
    /// A verifier trusting exactly the keys in `jwks`.
    pub fn new(jwks: Jwks, expectations: Expectations) -> Self {
        Self { jwks, expectations }
    }

    /// The key set in use.
    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }

    /// Replaces the key set, e.g. after refetching the JWKS.
    pub fn set_jwks(&mut self, jwks: Jwks) {
        self.jwks = jwks;
    }

    /// The expectations in use.
    pub fn expectations(&self) -> &Expectations {
        &self.expectations
    }

    /// Verifies `token` (the compact JWS, without any `Bearer ` prefix: see
    /// [`bearer_token`]) at `now_unix` (seconds since the Unix epoch) and returns its
    /// claims.
    ///
    /// Checks, in order: the token's shape; `alg` is `EdDSA`; no
    /// [`FORBIDDEN_HEADERS`]; `typ`; `kid` is in the JWKS; the Ed25519 signature over the
    /// first two segments; `iss`; `aud`; `exp`; `nbf` if present; then that the other
    /// claims of [`AccessClaims`] are present with the right types.
    pub fn verify(&self, token: &str, now_unix: i64) -> Result<AccessClaims, VerifyError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(VerifyError::Malformed);
        }
        let mut segments = token.split('.');
        let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(VerifyError::Malformed);
        };
        let decode = |segment: &str| URL_SAFE_NO_PAD.decode(segment).ok();
        let header = decode(header_b64)
            .and_then(|bytes| strict_object(&bytes))
            .ok_or(VerifyError::Malformed)?;
        let claims_json = decode(claims_b64).ok_or(VerifyError::Malformed)?;
        let signature = decode(signature_b64).ok_or(VerifyError::Malformed)?;

        // The header decides nothing: the algorithm is fixed and the key comes from our
        // JWKS, picked by `kid`.
        if header.get("alg").and_then(Value::as_str) != Some(ALGORITHM) {
            return Err(VerifyError::WrongAlgorithm);
        }
        if let Some(name) = FORBIDDEN_HEADERS
            .into_iter()
            .find(|name| header.contains_key(*name))
        {
            return Err(VerifyError::ForbiddenHeader(name));
        }
        if !header
            .get("typ")
            .and_then(Value::as_str)
            .is_some_and(is_access_token_type)
        {
            return Err(VerifyError::WrongType);
        }
        let key = header
            .get("kid")
            .and_then(Value::as_str)
            .and_then(|kid| self.jwks.key(kid))
            .ok_or(VerifyError::UnknownKid)?;
        let signature = Signature::from_slice(&signature).map_err(|_| VerifyError::BadSignature)?;
        let signing_input = &token[..header_b64.len() + 1 + claims_b64.len()];
        key.verify(signing_input, &signature)
            .map_err(|_| VerifyError::BadSignature)?;

        // Signed by the issuer; now check it is meant for us, and now.
        let claims = strict_object(&claims_json).ok_or(VerifyError::Malformed)?;
        let expected = &self.expectations;
        let iss = string(&claims, "iss")?;
        if iss != expected.issuer {
            return Err(VerifyError::WrongIssuer);
        }
        let aud = audiences(required(&claims, "aud")?).ok_or(VerifyError::InvalidClaim("aud"))?;
        if !aud.contains(&expected.audience) {
            return Err(VerifyError::WrongAudience);
        }
        let exp = number(&claims, "exp")?;
        self.check_expiry(exp, now_unix)?;
        let nbf = match claims.get("nbf") {
            None => None,
            Some(v) => Some(numeric_date(v).ok_or(VerifyError::InvalidClaim("nbf"))?),
        };
        self.check_not_before(nbf, now_unix)?;
        AccessClaims::from_checked(&claims, iss, aud, exp, nbf)
    }

    /// Checks again only the time window (`exp`, then `nbf`) of claims that
    /// [`verify`](Self::verify) returned earlier, at `now_unix`, with the same leeway.
    ///
    /// Every other check depends only on the token's bytes, the JWKS and the
    /// [`Expectations`], so a cache keyed by the whole token string (against one
    /// unchanged verifier) needs nothing else on a hit.
    pub fn check_time(&self, claims: &AccessClaims, now_unix: i64) -> Result<(), VerifyError> {
        self.check_expiry(claims.exp, now_unix)?;
        self.check_not_before(claims.nbf, now_unix)
    }

    fn leeway(&self) -> i64 {
        i64::from(self.expectations.leeway_seconds)
    }

    /// Valid while `now < exp + leeway`.
    fn check_expiry(&self, exp: i64, now_unix: i64) -> Result<(), VerifyError> {
        if now_unix >= exp.saturating_add(self.leeway()) {
            return Err(VerifyError::Expired);
        }
        Ok(())
    }

    /// Valid once `nbf <= now + leeway` (always, without `nbf`).
    fn check_not_before(&self, nbf: Option<i64>, now_unix: i64) -> Result<(), VerifyError> {
        if nbf.is_some_and(|nbf| nbf > now_unix.saturating_add(self.leeway())) {
            return Err(VerifyError::NotYetValid);
        }
        Ok(())
    }
}

/// `at+jwt` or `application/at+jwt`, case-insensitively (RFC 9068 §4, RFC 7515 §4.1.9).
fn is_access_token_type(typ: &str) -> bool {
    let typ = typ.to_ascii_lowercase();
    typ.strip_prefix("application/").unwrap_or(&typ) == TOKEN_TYPE
}

/// The token in an `Authorization: Bearer <token>` header value (scheme
/// case-insensitive, RFC 6750), or `None` for any other scheme or an empty token.
///
/// ```
/// use edge_login_verifier::bearer_token;
///
/// assert_eq!(bearer_token("Bearer abc.def.ghi"), Some("abc.def.ghi"));
/// assert_eq!(bearer_token("bearer   abc.def.ghi "), Some("abc.def.ghi"));
/// assert_eq!(bearer_token("Basic dXNlcjpwYXNz"), None);
/// assert_eq!(bearer_token("Bearer "), None);
/// ```
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
        .then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_token_types() {
        for ok in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/At+Jwt",
        ] {
            assert!(is_access_token_type(ok), "{ok}");
        }
        for bad in [
            "JWT",
            "jwt",
            "",
            "at+jwt ",
            "application/application/at+jwt",
            "x/at+jwt",
        ] {
            assert!(!is_access_token_type(bad), "{bad}");
        }
    }
}
