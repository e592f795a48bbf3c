//! Access tokens as other APIs see them: the JWKS, the header, and what gets rejected.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::{json, Value};

use crate::common::{spawn_app, TestApp};
use crate::support::*;

fn reencode(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        signature
    )
}

fn assert_rejected(app: &TestApp, token: &str, what: &str) {
    let response = app.get_with_token("/v1/me", token);
    assert_eq!(
        response.status, 401,
        "{what} was accepted: {}",
        response.body
    );
    assert_eq!(response.json()["error"], "invalid_token", "{what}");
    assert_eq!(
        response.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token""#),
        "{what}"
    );
}

#[test]
fn access_tokens_verify_against_the_published_jwks() {
    let app = spawn_app();
    let tokens = register_and_login(&app, "kim");

    let jwks = app.get("/.well-known/jwks.json");
    assert_eq!(jwks.status, 200, "{}", jwks.body);
    let keys = jwks.json()["keys"].as_array().unwrap().clone();
    assert!(!keys.is_empty());
    for key in &keys {
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["alg"], "EdDSA");
        assert_eq!(key["use"], "sig");
        assert!(key.get("d").is_none(), "private key material published");
    }

    let (header, claims) = decode_jwt(&tokens.access);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "at+jwt");
    let key = keys
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("signing kid is published");
    for claim in [
        "iss",
        "aud",
        "sub",
        "iat",
        "exp",
        "jti",
        "sid",
        "amr",
        "aal",
        "auth_time",
    ] {
        assert!(claims.get(claim).is_some(), "missing claim {claim}");
    }
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    assert_eq!(claims["aud"], "edge-login-clients");
    // RFC 9068: the client the token was issued to, and the level as an `acr` value (the
    // name step-up challenges use: `acr_values="aal2"`).
    assert_eq!(claims["client_id"], "edge-login-demo");
    assert_eq!(claims["acr"], claims["aal"]);
    assert_eq!(claims["acr"], "aal1");

    // Verify the signature the way a downstream API would: public key from the JWKS.
    let x = URL_SAFE_NO_PAD.decode(key["x"].as_str().unwrap()).unwrap();
    let public = ed25519_compact::PublicKey::from_slice(&x).unwrap();
    let (signed, signature) = tokens.access.rsplit_once('.').unwrap();
    let signature =
        ed25519_compact::Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap())
            .unwrap();
    public
        .verify(signed.as_bytes(), &signature)
        .expect("valid EdDSA signature");
}

#[test]
fn forged_and_tampered_tokens_are_rejected() {
    let app = spawn_app();
    let tokens = register_and_login(&app, "leo");
    let (header, claims) = decode_jwt(&tokens.access);
    let signature = tokens.access.rsplit('.').next().unwrap().to_owned();
    assert_eq!(app.get_with_token("/v1/me", &tokens.access).status, 200);

    // A changed claim under the original signature.
    let mut elevated = claims.clone();
    elevated["aal"] = json!("aal2");
    assert_rejected(
        &app,
        &reencode(&header, &elevated, &signature),
        "altered claims",
    );

    // A flipped signature byte, a stripped signature.
    let mut sig = URL_SAFE_NO_PAD.decode(&signature).unwrap();
    sig[0] ^= 1;
    let flipped = reencode(&header, &claims, &URL_SAFE_NO_PAD.encode(&sig));
    assert_rejected(&app, &flipped, "flipped signature");
    assert_rejected(&app, &reencode(&header, &claims, ""), "stripped signature");

    // alg none and friends.
    for alg in ["none", "None", "HS256"] {
        let mut h = header.clone();
        h["alg"] = json!(alg);
        assert_rejected(&app, &reencode(&h, &claims, ""), alg);
        assert_rejected(&app, &reencode(&h, &claims, &signature), alg);
    }
    // An unknown kid, and no kid.
    let mut h = header.clone();
    h["kid"] = json!("someone-elses-key");
    assert_rejected(&app, &reencode(&h, &claims, &signature), "unknown kid");

    // Garbage and the wrong scheme.
    assert_rejected(&app, "not.a.jwt", "garbage");
    let basic = app.request(
        "GET",
        "/v1/me",
        None,
        &[("authorization", &format!("Basic {}", tokens.access))],
    );
    assert_eq!(basic.status, 401);
    let none = app.get("/v1/me");
    assert_eq!(none.status, 401);
    assert_eq!(none.json()["error"], "invalid_token");
}
