//! Shared helpers: fixed-seed keys, hand-made JWKS documents and hand-signed tokens.

#![allow(dead_code)]

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use ed25519_compact::{KeyPair, Seed};
use edge_login_verifier::{Expectations, Jwks, Verifier};
use serde_json::{json, Value};

pub const NOW: i64 = 1_800_000_000;
pub const ISSUER: &str = "https://login.example.com";
pub const AUDIENCE: &str = "https://api.example.com";
pub const LIFETIME: i64 = 900;

/// A deterministic key pair: the seed is `[n; 32]`.
pub fn key(n: u8) -> KeyPair {
    KeyPair::from_seed(Seed::new([n; 32]))
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64_json(v: &Value) -> String {
    b64(serde_json::to_vec(v).unwrap())
}

/// A JWK exactly as edge-login publishes it.
pub fn jwk(kid: &str, pair: &KeyPair) -> Value {
    json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64(pair.pk.as_ref()),
        "kid": kid,
        "alg": "EdDSA",
        "use": "sig",
    })
}

pub fn jwks(keys: &[(&str, &KeyPair)]) -> Jwks {
    let keys: Vec<Value> = keys.iter().map(|(kid, pair)| jwk(kid, pair)).collect();
    Jwks::from_json(&json!({ "keys": keys }).to_string()).unwrap()
}

pub fn expectations(leeway_seconds: u32) -> Expectations {
    Expectations {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        leeway_seconds,
    }
}

/// A verifier trusting key 1 under kid `k1`, no leeway.
pub fn verifier() -> Verifier {
    Verifier::new(jwks(&[("k1", &key(1))]), expectations(0))
}

pub fn header(kid: &str) -> Value {
    json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": kid })
}

/// Claims shaped like edge-login's, issued at `NOW`.
pub fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "client_id": "demo-app",
        "iat": NOW,
        "exp": NOW + LIFETIME,
        "jti": "jti-1",
        "sid": "session-1",
        "amr": ["pwd", "otp", "mfa"],
        "aal": "aal2",
        "acr": "aal2",
        "auth_time": NOW - 10,
        "preferred_username": "alice",
        "email": "alice@example.com",
        "email_verified": true,
        "mfa_enabled": true,
    })
}

/// `header.claims` signed with Ed25519 under `pair`, whatever the header says.
pub fn sign(header: &Value, claims: &Value, pair: &KeyPair) -> String {
    sign_raw(&b64_json(header), &b64_json(claims), pair)
}

pub fn sign_raw(header_b64: &str, claims_b64: &str, pair: &KeyPair) -> String {
    let input = format!("{header_b64}.{claims_b64}");
    let signature = pair.sk.sign(input.as_bytes(), None);
    format!("{input}.{}", b64(signature.as_ref()))
}

/// A valid token from key 1 under kid `k1`.
pub fn token() -> String {
    sign(&header("k1"), &claims(), &key(1))
}

/// A token from key 1 under kid `k1` whose claims were edited before signing.
pub fn token_with(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let mut c = claims();
    edit(c.as_object_mut().unwrap());
    sign(&header("k1"), &c, &key(1))
}

/// A token from key 1 whose header was edited before signing.
pub fn token_with_header(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let mut h = header("k1");
    edit(h.as_object_mut().unwrap());
    sign(&h, &claims(), &key(1))
}

/// The three segments of a token.
pub fn segments(token: &str) -> (String, String, String) {
    let mut it = token.split('.');
    let out = (
        it.next().unwrap().to_owned(),
        it.next().unwrap().to_owned(),
        it.next().unwrap().to_owned(),
    );
    assert!(it.next().is_none());
    out
}
