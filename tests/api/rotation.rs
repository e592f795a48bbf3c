//! Key rotation, and tokens signed with the real key but carrying bad claims.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use edge_login::domain::keys::parse_key_list;
use hmac::{Hmac, Mac};
use jwt_compact::alg::Ed25519;
use jwt_compact::{AlgorithmExt, Claims, Header};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::common::{spawn_app_with, TestApp};
use crate::support::*;

/// `kid:base64url(32 bytes)` with the bytes all `fill`.
fn key(kid: &str, fill: u8) -> String {
    format!("{kid}:{}", URL_SAFE_NO_PAD.encode([fill; 32]))
}

fn signing_key(entry: &str) -> ed25519_compact::SecretKey {
    let keys = parse_key_list("K", entry).unwrap();
    ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(*keys[0].key)).sk
}

fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get_with_token("/v1/me", token).status
}

fn kids(app: &TestApp) -> Vec<String> {
    app.get("/.well-known/jwks.json").json()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn signing_keys_rotate_without_logging_anyone_out() {
    let old = key("old", 1);
    let new = key("new", 2);
    let mut app = spawn_app_with(&[("JWT_SIGNING_KEYS", &old)]);
    let before = register_and_login(&app, "hana");
    assert_eq!(decode_jwt(&before.access).0["kid"], "old");
    assert_eq!(kids(&app), ["old"]);

    // Overlap: the new key signs, both are published, old tokens still work.
    app.restart_with(&[("JWT_SIGNING_KEYS", &format!("{new},{old}"))]);
    assert_eq!(kids(&app), ["new", "old"]);
    assert_eq!(me_status(&app, &before.access), 200);
    let during = Tokens::from(&login(&app, "hana", PASSWORD));
    assert_eq!(decode_jwt(&during.access).0["kid"], "new");
    // Refreshing an old session re-signs with the new key.
    let refreshed = Tokens::from(&app.post_json(
        "/v1/token/refresh",
        &json!({ "refresh_token": before.refresh }),
    ));
    assert_eq!(decode_jwt(&refreshed.access).0["kid"], "new");

    // The old key retired: its tokens are refused, the new ones are not.
    app.restart_with(&[("JWT_SIGNING_KEYS", &new)]);
    assert_eq!(kids(&app), ["new"]);
    assert_eq!(me_status(&app, &before.access), 401);
    assert_eq!(me_status(&app, &during.access), 200);
}

#[test]
fn totp_secrets_are_re_encrypted_under_the_newest_key_on_use() {
    let t1 = key("t1", 7);
    let t2 = key("t2", 8);
    let mut app = spawn_app_with(&[("TOTP_ENCRYPTION_KEYS", &t1)]);
    let enrolled = user_with_totp(&app, "ines");

    // Rotation: t2 first, t1 still there. Logging in uses (and re-seals) the secret.
    app.restart_with(&[("TOTP_ENCRYPTION_KEYS", &format!("{t2},{t1}"))]);
    let token = start_mfa_login(&app, "ines");
    let used = code(&enrolled.secret, 1);
    Tokens::from(&submit_code(&app, &token, &used));

    // With t1 gone, the secret still opens: it was re-sealed under t2. (The re-seal
    // runs after the response; allow it a moment.) The code just used is a replay, so
    // the answer is `invalid_code` when the secret opens and a 500 if it cannot.
    std::thread::sleep(std::time::Duration::from_millis(500));
    app.restart_with(&[("TOTP_ENCRYPTION_KEYS", &t2)]);
    let token = start_mfa_login(&app, "ines");
    let replay = submit_code(&app, &token, &used);
    assert_error(&replay, 401, "invalid_code");
    // The recovery codes do not depend on the TOTP key at all.
    let by_recovery = app.post_json(
        "/v1/login/mfa",
        &json!({ "mfa_token": token, "recovery_code": enrolled.recovery_codes[0] }),
    );
    Tokens::from(&by_recovery);
}

fn sign(secret: &ed25519_compact::SecretKey, header: Header, claims: Value) -> String {
    Ed25519
        .token(&header, &Claims::new(claims), secret)
        .unwrap()
}

#[test]
fn only_well_formed_claims_under_a_published_key_are_accepted() {
    let entry = key("k1", 3);
    let app = spawn_app_with(&[("JWT_SIGNING_KEYS", &entry)]);
    let tokens = register_and_login(&app, "jonas");
    let (_, claims) = decode_jwt(&tokens.access);
    let secret = signing_key(&entry);
    let header = || Header::empty().with_key_id("k1").with_token_type("at+jwt");

    // Re-signing the real claims with the real key works: the checks below are
    // about the claims and header, not the signature.
    assert_eq!(
        me_status(&app, &sign(&secret, header(), claims.clone())),
        200
    );

    let with = |field: &str, value: Value| {
        let mut c = claims.clone();
        c[field] = value;
        c
    };
    let now = now();
    for (what, bad) in [
        ("string exp", with("exp", json!((now + 600).to_string()))),
        ("expired", with("exp", json!(now - 60))),
        ("wrong iss", with("iss", json!("https://evil.example"))),
        ("wrong aud", with("aud", json!("someone-else"))),
        ("no sub", {
            let mut c = claims.clone();
            c.as_object_mut().unwrap().remove("sub");
            c
        }),
        ("no exp", {
            let mut c = claims.clone();
            c.as_object_mut().unwrap().remove("exp");
            c
        }),
    ] {
        assert_eq!(
            me_status(&app, &sign(&secret, header(), bad)),
            401,
            "{what}"
        );
    }
    for (what, h) in [
        ("no typ", Header::empty().with_key_id("k1")),
        (
            "typ JWT",
            Header::empty().with_key_id("k1").with_token_type("JWT"),
        ),
        (
            "foreign kid",
            Header::empty().with_key_id("k2").with_token_type("at+jwt"),
        ),
        (
            "jku",
            header().with_key_set_url("https://evil.example/jwks.json"),
        ),
    ] {
        assert_eq!(
            me_status(&app, &sign(&secret, h, claims.clone())),
            401,
            "{what}"
        );
    }
    // An embedded jwk naming a key the attacker controls.
    let attacker = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([9; 32]));
    let embedded = Header::new(json!({ "jwk": {
        "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(attacker.pk.as_ref())
    }}))
    .with_key_id("k1")
    .with_token_type("at+jwt");
    let forged = Ed25519
        .token(&embedded, &Claims::new(claims.clone()), &attacker.sk)
        .unwrap();
    assert_eq!(me_status(&app, &forged), 401, "embedded jwk");

    // HS256 with the public key as the HMAC secret: the classic confusion attack.
    let public_x = URL_SAFE_NO_PAD
        .decode(
            app.get("/.well-known/jwks.json").json()["keys"][0]["x"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let h =
        URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "at+jwt", "kid": "k1"}).to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(&public_x).unwrap();
    mac.update(format!("{h}.{c}").as_bytes());
    let confused = format!(
        "{h}.{c}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    );
    assert_eq!(me_status(&app, &confused), 401, "HS256 with the public key");
}
