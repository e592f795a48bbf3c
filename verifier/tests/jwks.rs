//! JWKS parsing: which keys are kept, skipped, or make the whole document refused.

mod common;

use common::*;
use edge_login_verifier::{Jwks, JwksError, Verifier, VerifyError};
use serde_json::{json, Value};

fn parse(keys: Vec<Value>) -> Result<Jwks, JwksError> {
    Jwks::from_json(&json!({ "keys": keys }).to_string())
}

#[test]
fn parses_what_edge_login_publishes() {
    let doc = json!({ "keys": [jwk("k2", &key(2)), jwk("k1", &key(1))] });
    let from_text = Jwks::from_json(&doc.to_string()).unwrap();
    let from_value = Jwks::from_value(&doc).unwrap();
    assert_eq!(from_text, from_value);
    assert_eq!(from_text.len(), 2);
    assert!(!from_text.is_empty());
    assert_eq!(from_text.kids().collect::<Vec<_>>(), ["k2", "k1"]);
    assert!(from_text.contains_kid("k1"));
    assert!(!from_text.contains_kid("k3"));
}

#[test]
fn alg_and_use_may_be_absent() {
    let mut k = jwk("k1", &key(1));
    let k = k.as_object_mut().unwrap();
    k.remove("alg");
    k.remove("use");
    let jwks = parse(vec![Value::Object(k.clone())]).unwrap();
    let v = Verifier::new(jwks, expectations(0));
    assert!(v.verify(&token(), NOW).is_ok());
}

#[test]
fn keys_of_other_types_or_purposes_are_skipped() {
    let ed = |edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut k = jwk("skipped", &key(3));
        edit(k.as_object_mut().unwrap());
        k
    };
    let keys = vec![
        json!({ "kty": "RSA", "kid": "rsa", "alg": "RS256", "use": "sig", "n": "sXch", "e": "AQAB" }),
        json!({ "kty": "EC", "kid": "ec", "crv": "P-256", "alg": "ES256", "x": "f83O", "y": "x_FE" }),
        json!({ "kty": "oct", "kid": "hmac", "alg": "HS256", "k": "c2VjcmV0" }),
        json!({ "kty": "OKP", "kid": "x", "crv": "X25519", "x": b64([9u8; 32]) }),
        json!({ "kty": "OKP", "kid": "ed448", "crv": "Ed448", "alg": "EdDSA", "x": b64([9u8; 57]) }),
        ed(&|k| {
            k.insert("alg".into(), "ES256".into());
        }),
        ed(&|k| {
            k.insert("alg".into(), json!(null));
        }),
        ed(&|k| {
            k.insert("use".into(), "enc".into());
        }),
        ed(&|k| {
            k.insert("key_ops".into(), json!(["encrypt"]));
        }),
        ed(&|k| {
            k.insert("key_ops".into(), json!("verify"));
        }),
        ed(&|k| {
            k.remove("kid");
        }),
        ed(&|k| {
            k.insert("kid".into(), json!(7));
        }),
        ed(&|k| {
            k.insert("kty".into(), "okp".into());
        }),
        // Usable keys among them.
        jwk("k1", &key(1)),
        ed(&|k| {
            k.insert("kid".into(), "ops".into());
            k.insert("key_ops".into(), json!(["verify"]));
        }),
    ];
    let jwks = parse(keys).unwrap();
    assert_eq!(jwks.kids().collect::<Vec<_>>(), ["k1", "ops"]);
    // Skipped keys verify nothing, even if the token names them.
    let v = Verifier::new(jwks, expectations(0));
    let t = sign(&header("skipped"), &claims(), &key(3));
    assert_eq!(v.verify(&t, NOW), Err(VerifyError::UnknownKid));
    assert!(v.verify(&token(), NOW).is_ok());
}

#[test]
fn a_jwks_without_usable_keys_is_refused() {
    assert_eq!(parse(vec![]), Err(JwksError::NoUsableKeys));
    assert_eq!(
        parse(vec![
            json!({ "kty": "RSA", "kid": "rsa", "n": "sXch", "e": "AQAB" })
        ]),
        Err(JwksError::NoUsableKeys)
    );
}

#[test]
fn malformed_documents_are_refused() {
    for doc in [
        "",
        "not json",
        "[]",
        "{}",
        r#"{"keys": null}"#,
        r#"{"keys": {}}"#,
        r#"{"keys": "k1"}"#,
        r#"{"keys": [1]}"#,
        r#"{"keys": [[]]}"#,
        r#"{"keys": []} trailing"#,
    ] {
        assert_eq!(Jwks::from_json(doc), Err(JwksError::Malformed), "{doc}");
    }
    assert_eq!(
        Jwks::from_value(&json!([jwk("k1", &key(1))])),
        Err(JwksError::Malformed)
    );
}

#[test]
fn broken_ed25519_keys_are_refused() {
    let with_x = |x: Value| {
        let mut k = jwk("bad", &key(1));
        k["x"] = x;
        parse(vec![jwk("k1", &key(1)), k])
    };
    let real = b64(key(1).pk.as_ref());
    let invalid = Err(JwksError::InvalidKey { kid: "bad".into() });
    for x in [
        json!(null),
        json!(42),
        json!(""),
        json!("!!!"),
        json!(format!("{real}=")),
        json!(b64([1u8; 31])),
        json!(b64([1u8; 33])),
        json!(b64(key(1).pk.as_ref()).replace('-', "+").replace('_', "/") + "+"),
        // Small-order points: the identity and a point of order 4.
        json!(b64({
            let mut p = [0u8; 32];
            p[0] = 1;
            p
        })),
        json!(b64([0u8; 32])),
        // Not a point at all (y >= p).
        json!(b64([0xffu8; 32])),
    ] {
        assert_eq!(with_x(x.clone()), invalid, "{x}");
    }
    let mut no_x = jwk("bad", &key(1));
    no_x.as_object_mut().unwrap().remove("x");
    assert_eq!(parse(vec![no_x]), invalid);
}

#[test]
fn a_published_private_key_is_refused() {
    let mut k = jwk("k1", &key(1));
    k["d"] = b64([1u8; 32]).into();
    assert_eq!(
        parse(vec![k]),
        Err(JwksError::PrivateKey { kid: "k1".into() })
    );
}

#[test]
fn duplicate_kids_are_refused() {
    assert_eq!(
        parse(vec![jwk("k1", &key(1)), jwk("k1", &key(2))]),
        Err(JwksError::DuplicateKid("k1".into()))
    );
    // The same kid on a skipped key is no conflict.
    let rsa = json!({ "kty": "RSA", "kid": "k1", "n": "sXch", "e": "AQAB" });
    assert!(parse(vec![rsa, jwk("k1", &key(1))]).is_ok());
}

#[test]
fn errors_display() {
    assert_eq!(
        JwksError::InvalidKey { kid: "k1".into() }.to_string(),
        "JWKS key \"k1\" is not a valid Ed25519 key"
    );
    let err: Box<dyn std::error::Error> = Box::new(JwksError::NoUsableKeys);
    assert_eq!(err.to_string(), "JWKS has no usable Ed25519 (EdDSA) key");
}
