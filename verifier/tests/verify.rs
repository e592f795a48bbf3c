//! Token checks, one concern per test, with hand-signed tokens.

mod common;

use common::*;
use edge_login_verifier::{AccessClaims, Verifier, VerifyError, MAX_TOKEN_LEN};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

#[test]
fn valid_token_verifies_and_returns_its_claims() {
    let claims = verifier().verify(&token(), NOW).unwrap();
    assert_eq!(
        claims,
        AccessClaims {
            iss: ISSUER.into(),
            aud: vec![AUDIENCE.into()],
            sub: "user-1".into(),
            client_id: "demo-app".into(),
            iat: NOW,
            exp: NOW + LIFETIME,
            nbf: None,
            jti: "jti-1".into(),
            sid: "session-1".into(),
            amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
            aal: "aal2".into(),
            acr: "aal2".into(),
            auth_time: NOW - 10,
            preferred_username: "alice".into(),
            email: Some("alice@example.com".into()),
            email_verified: Some(true),
            mfa_enabled: true,
        }
    );
    assert!(claims.is_aal2());
}

#[test]
fn email_is_optional_and_unknown_claims_are_ignored() {
    let token = token_with(|c| {
        c.remove("email");
        c.insert("aal".into(), "aal1".into());
        c.insert("scope".into(), "future claim".into());
    });
    let claims = verifier().verify(&token, NOW).unwrap();
    assert_eq!(claims.email, None);
    assert!(!claims.is_aal2());
    let token = token_with(|c| {
        c.insert("email".into(), Value::Null);
    });
    assert_eq!(verifier().verify(&token, NOW).unwrap().email, None);
    let token = token_with(|c| {
        c.insert("email".into(), json!(42));
    });
    assert_eq!(
        verifier().verify(&token, NOW),
        Err(VerifyError::InvalidClaim("email"))
    );
}

#[test]
fn unknown_or_missing_kid_is_rejected() {
    let v = verifier();
    // Signed by a key the JWKS does not list.
    let other = sign(&header("k9"), &claims(), &key(9));
    assert_eq!(v.verify(&other, NOW), Err(VerifyError::UnknownKid));
    let no_kid = token_with_header(|h| {
        h.remove("kid");
    });
    assert_eq!(v.verify(&no_kid, NOW), Err(VerifyError::UnknownKid));
    let numeric_kid = token_with_header(|h| {
        h.insert("kid".into(), json!(1));
    });
    assert_eq!(v.verify(&numeric_kid, NOW), Err(VerifyError::UnknownKid));
}

#[test]
fn a_listed_kid_with_another_keys_signature_is_rejected() {
    // Key 9 signs but claims to be k1.
    let forged = sign(&header("k1"), &claims(), &key(9));
    assert_eq!(
        verifier().verify(&forged, NOW),
        Err(VerifyError::BadSignature)
    );
    // Both keys listed, kid points at the other one.
    let v = Verifier::new(jwks(&[("k1", &key(1)), ("k2", &key(2))]), expectations(0));
    let swapped = sign(&header("k2"), &claims(), &key(1));
    assert_eq!(v.verify(&swapped, NOW), Err(VerifyError::BadSignature));
}

#[test]
fn alg_none_in_any_spelling_is_rejected() {
    let v = verifier();
    let (_, claims_b64, sig) = segments(&token());
    for alg in ["none", "None", "NONE", "nOnE", ""] {
        let mut h = header("k1");
        h["alg"] = alg.into();
        let unsigned = format!("{}.{claims_b64}.", b64_json(&h));
        assert_eq!(
            v.verify(&unsigned, NOW),
            Err(VerifyError::WrongAlgorithm),
            "{alg:?} unsigned"
        );
        let with_old_sig = format!("{}.{claims_b64}.{sig}", b64_json(&h));
        assert_eq!(
            v.verify(&with_old_sig, NOW),
            Err(VerifyError::WrongAlgorithm),
            "{alg:?} with a signature"
        );
    }
}

#[test]
fn hs256_with_the_public_key_as_hmac_secret_is_rejected() {
    // The key-confusion attack: the attacker knows the public key (it is in the JWKS)
    // and uses its bytes as an HMAC secret, hoping the verifier does the same.
    let pair = key(1);
    let mut h = header("k1");
    h["alg"] = "HS256".into();
    let input = format!("{}.{}", b64_json(&h), b64_json(&claims()));
    for secret in [
        pair.pk.as_ref().to_vec(),
        b64(pair.pk.as_ref()).into_bytes(),
        common::jwk("k1", &pair).to_string().into_bytes(),
    ] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&secret).unwrap();
        mac.update(input.as_bytes());
        let forged = format!("{input}.{}", b64(mac.finalize().into_bytes()));
        assert_eq!(
            verifier().verify(&forged, NOW),
            Err(VerifyError::WrongAlgorithm)
        );
    }
}

#[test]
fn other_algorithms_are_rejected_even_with_a_valid_ed25519_signature() {
    for alg in [
        json!("ES256"),
        json!("RS256"),
        json!("HS256"),
        json!("PS256"),
        json!("ES256K"),
        json!("Ed25519"),
        json!("Ed448"),
        json!("eddsa"),
        json!("EDDSA"),
        json!("EdDSA "),
        json!(["EdDSA"]),
        json!(null),
    ] {
        let token = token_with_header(|h| {
            h.insert("alg".into(), alg.clone());
        });
        assert_eq!(
            verifier().verify(&token, NOW),
            Err(VerifyError::WrongAlgorithm),
            "{alg}"
        );
    }
    let no_alg = token_with_header(|h| {
        h.remove("alg");
    });
    assert_eq!(
        verifier().verify(&no_alg, NOW),
        Err(VerifyError::WrongAlgorithm)
    );
}

#[test]
fn stripped_signature_is_rejected() {
    let (h, c, _) = segments(&token());
    assert_eq!(
        verifier().verify(&format!("{h}.{c}."), NOW),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        verifier().verify(&format!("{h}.{c}"), NOW),
        Err(VerifyError::Malformed)
    );
}

#[test]
fn altered_signature_is_rejected() {
    let (h, c, s) = segments(&token());
    let mut sig = base64_decode(&s);
    // Every single-bit flip, in R and in S.
    for byte in 0..64 {
        for bit in 0..8 {
            let mut altered = sig.clone();
            altered[byte] ^= 1 << bit;
            let t = format!("{h}.{c}.{}", b64(&altered));
            assert_eq!(
                verifier().verify(&t, NOW),
                Err(VerifyError::BadSignature),
                "byte {byte} bit {bit}"
            );
        }
    }
    // Truncated, extended, all zeros.
    let truncated = format!("{h}.{c}.{}", b64(&sig[..63]));
    assert_eq!(
        verifier().verify(&truncated, NOW),
        Err(VerifyError::BadSignature)
    );
    sig.push(0);
    let extended = format!("{h}.{c}.{}", b64(&sig));
    assert_eq!(
        verifier().verify(&extended, NOW),
        Err(VerifyError::BadSignature)
    );
    let zeros = format!("{h}.{c}.{}", b64([0u8; 64]));
    assert_eq!(
        verifier().verify(&zeros, NOW),
        Err(VerifyError::BadSignature)
    );
    // S + L (the group order): same signature in a non-canonical, malleable form.
    let mut malleable = base64_decode(&s);
    add_group_order(&mut malleable[32..]);
    let t = format!("{h}.{c}.{}", b64(&malleable));
    assert_eq!(verifier().verify(&t, NOW), Err(VerifyError::BadSignature));
}

#[test]
fn altered_claims_or_header_are_rejected() {
    let (h, _, s) = segments(&token());
    for (name, value) in [
        ("sub", json!("admin")),
        ("exp", json!(NOW + 10 * LIFETIME)),
        ("aal", json!("aal3")),
        ("mfa_enabled", json!(false)),
    ] {
        let mut c = claims();
        c[name] = value;
        let t = format!("{h}.{}.{s}", b64_json(&c));
        assert_eq!(
            verifier().verify(&t, NOW),
            Err(VerifyError::BadSignature),
            "{name}"
        );
    }
    // Same header JSON, re-encoded differently (extra member): the signature covers bytes.
    let (_, c, s) = segments(&token());
    let mut hv = header("k1");
    hv["x"] = "y".into();
    let t = format!("{}.{c}.{s}", b64_json(&hv));
    assert_eq!(verifier().verify(&t, NOW), Err(VerifyError::BadSignature));
}

#[test]
fn exp_must_be_a_number() {
    for (exp, err) in [
        (
            json!((NOW + LIFETIME).to_string()),
            VerifyError::InvalidClaim("exp"),
        ),
        (Value::Null, VerifyError::InvalidClaim("exp")),
        (json!(true), VerifyError::InvalidClaim("exp")),
        (json!([NOW + LIFETIME]), VerifyError::InvalidClaim("exp")),
    ] {
        let t = token_with(|c| {
            c.insert("exp".into(), exp.clone());
        });
        assert_eq!(verifier().verify(&t, NOW), Err(err), "{exp}");
    }
    // A fractional NumericDate is allowed (RFC 7519) and floored.
    let t = token_with(|c| {
        c.insert("exp".into(), json!(NOW as f64 + 0.5));
    });
    assert_eq!(verifier().verify(&t, NOW), Err(VerifyError::Expired));
    assert_eq!(verifier().verify(&t, NOW - 1).unwrap().exp, NOW);
}

#[test]
fn missing_exp_is_rejected() {
    let t = token_with(|c| {
        c.remove("exp");
    });
    assert_eq!(
        verifier().verify(&t, NOW),
        Err(VerifyError::MissingClaim("exp"))
    );
}

#[test]
fn expiry_without_leeway() {
    let t = token();
    let exp = NOW + LIFETIME;
    assert!(verifier().verify(&t, exp - 1).is_ok());
    assert_eq!(verifier().verify(&t, exp), Err(VerifyError::Expired));
    assert_eq!(verifier().verify(&t, exp + 1), Err(VerifyError::Expired));
}

#[test]
fn expiry_with_leeway_edges() {
    let v = Verifier::new(jwks(&[("k1", &key(1))]), expectations(30));
    let t = token();
    let exp = NOW + LIFETIME;
    assert!(v.verify(&t, exp).is_ok());
    assert!(v.verify(&t, exp + 29).is_ok());
    assert_eq!(v.verify(&t, exp + 30), Err(VerifyError::Expired));
    // Extreme values neither overflow nor wrap around.
    let v = Verifier::new(jwks(&[("k1", &key(1))]), expectations(u32::MAX));
    let far = token_with(|c| {
        c.insert("exp".into(), json!(i64::MAX));
    });
    assert!(v.verify(&far, i64::MAX - 1).is_ok());
    let ancient = token_with(|c| {
        c.insert("exp".into(), json!(i64::MIN));
    });
    assert_eq!(v.verify(&ancient, NOW), Err(VerifyError::Expired));
}

#[test]
fn not_before_is_honoured_when_present() {
    let t = token_with(|c| {
        c.insert("nbf".into(), json!(NOW + 60));
    });
    assert_eq!(verifier().verify(&t, NOW), Err(VerifyError::NotYetValid));
    assert!(verifier().verify(&t, NOW + 60).is_ok());
    let v = Verifier::new(jwks(&[("k1", &key(1))]), expectations(30));
    assert_eq!(v.verify(&t, NOW + 29), Err(VerifyError::NotYetValid));
    assert_eq!(v.verify(&t, NOW + 30).unwrap().nbf, Some(NOW + 60));
    let bad = token_with(|c| {
        c.insert("nbf".into(), json!("soon"));
    });
    assert_eq!(
        verifier().verify(&bad, NOW),
        Err(VerifyError::InvalidClaim("nbf"))
    );
}

#[test]
fn check_time_agrees_with_verify_at_every_edge() {
    let v = Verifier::new(jwks(&[("k1", &key(1))]), expectations(30));
    let plain = token();
    let later = token_with(|c| {
        c.insert("nbf".into(), json!(NOW + 60));
    });
    for t in [&plain, &later] {
        let claims = v.verify(t, NOW + 30).unwrap();
        for now in [
            NOW - 1,
            NOW + 29,
            NOW + 30,
            NOW + LIFETIME + 29,
            NOW + LIFETIME + 30,
            NOW + LIFETIME + 31,
            i64::MIN,
            i64::MAX,
        ] {
            assert_eq!(
                v.check_time(&claims, now),
                v.verify(t, now).map(|_| ()),
                "now = {now}"
            );
        }
    }
}

#[test]
fn wrong_issuer_is_rejected() {
    for iss in [
        "https://evil.example.com",
        "https://login.example.com/",
        "HTTPS://LOGIN.EXAMPLE.COM",
        "",
    ] {
        let t = token_with(|c| {
            c.insert("iss".into(), iss.into());
        });
        assert_eq!(
            verifier().verify(&t, NOW),
            Err(VerifyError::WrongIssuer),
            "{iss}"
        );
    }
    let t = token_with(|c| {
        c.remove("iss");
    });
    assert_eq!(
        verifier().verify(&t, NOW),
        Err(VerifyError::MissingClaim("iss"))
    );
    let t = token_with(|c| {
        c.insert("iss".into(), json!([ISSUER]));
    });
    assert_eq!(
        verifier().verify(&t, NOW),
        Err(VerifyError::InvalidClaim("iss"))
    );
}

#[test]
fn wrong_audience_is_rejected() {
    for aud in [
        json!("https://other.example.com"),
        json!(""),
        json!([]),
        json!(["https://other.example.com"]),
    ] {
        let t = token_with(|c| {
            c.insert("aud".into(), aud.clone());
        });
        assert_eq!(
            verifier().verify(&t, NOW),
            Err(VerifyError::WrongAudience),
            "{aud}"
        );
    }
    for aud in [
        json!(1),
        json!([AUDIENCE, 1]),
        json!({ "aud": AUDIENCE }),
        Value::Null,
    ] {
        let t = token_with(|c| {
            c.insert("aud".into(), aud.clone());
        });
        assert_eq!(
            verifier().verify(&t, NOW),
            Err(VerifyError::InvalidClaim("aud")),
            "{aud}"
        );
    }
    let t = token_with(|c| {
        c.remove("aud");
    });
    assert_eq!(
        verifier().verify(&t, NOW),
        Err(VerifyError::MissingClaim("aud"))
    );
}

#[test]
fn audience_may_be_an_array_containing_ours() {
    let t = token_with(|c| {
        c.insert("aud".into(), json!(["https://other.example.com", AUDIENCE]));
    });
    let claims = verifier().verify(&t, NOW).unwrap();
    assert_eq!(claims.aud, vec!["https://other.example.com", AUDIENCE]);
    let t = token_with(|c| {
        c.insert("aud".into(), json!([AUDIENCE]));
    });
    assert!(verifier().verify(&t, NOW).is_ok());
}

#[test]
fn every_required_claim_is_required() {
    for name in [
        "iss",
        "aud",
        "exp",
        "sub",
        "client_id",
        "iat",
        "jti",
        "sid",
        "amr",
        "aal",
        "acr",
        "auth_time",
        "preferred_username",
        "mfa_enabled",
    ] {
        let t = token_with(|c| {
            c.remove(name);
        });
        assert_eq!(
            verifier().verify(&t, NOW),
            Err(VerifyError::MissingClaim(name)),
            "{name}"
        );
    }
    for (name, value) in [
        ("sub", json!(1)),
        ("iat", json!("now")),
        ("amr", json!("pwd")),
        ("amr", json!(["pwd", 1])),
        ("auth_time", json!(null)),
        ("mfa_enabled", json!("true")),
    ] {
        let t = token_with(|c| {
            c.insert(name.into(), value.clone());
        });
        assert_eq!(
            verifier().verify(&t, NOW),
            Err(VerifyError::InvalidClaim(name)),
            "{name} = {value}"
        );
    }
}

#[test]
fn typ_must_be_at_jwt() {
    for typ in [
        json!("JWT"),
        json!("jwt"),
        json!(""),
        json!("at+jwt+x"),
        json!(1),
    ] {
        let t = token_with_header(|h| {
            h.insert("typ".into(), typ.clone());
        });
        assert_eq!(
            verifier().verify(&t, NOW),
            Err(VerifyError::WrongType),
            "{typ}"
        );
    }
    let t = token_with_header(|h| {
        h.remove("typ");
    });
    assert_eq!(verifier().verify(&t, NOW), Err(VerifyError::WrongType));
    for typ in [
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/AT+JWT",
    ] {
        let t = token_with_header(|h| {
            h.insert("typ".into(), typ.into());
        });
        assert!(verifier().verify(&t, NOW).is_ok(), "{typ}");
    }
}

#[test]
fn headers_that_point_at_keys_are_rejected() {
    for (name, value) in [
        ("jku", json!("https://evil.example.com/jwks.json")),
        ("jwk", common::jwk("k1", &key(9))),
        ("x5u", json!("https://evil.example.com/cert.pem")),
        ("x5c", json!(["MIIB..."])),
        ("crit", json!(["exp"])),
    ] {
        let t = token_with_header(|h| {
            h.insert(name.into(), value.clone());
        });
        assert_eq!(
            verifier().verify(&t, NOW),
            Err(VerifyError::ForbiddenHeader(name)),
            "{name}"
        );
    }
    // Even an embedded key that is the real one.
    let t = token_with_header(|h| {
        h.insert("jwk".into(), common::jwk("k1", &key(1)));
    });
    assert_eq!(
        verifier().verify(&t, NOW),
        Err(VerifyError::ForbiddenHeader("jwk"))
    );
}

#[test]
fn malformed_tokens_are_rejected() {
    let (h, c, s) = segments(&token());
    let header_json = b64(br#"{"alg":"EdDSA","typ":"at+jwt","kid":"k1","alg":"none"}"#);
    let cases = [
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        "garbage".into(),
        format!("{h}.{c}.{s}."),
        format!("{h}.{c}.{s}.{s}"),
        format!("{h}={h}.{c}.{s}"),
        format!("{h}.{c}=.{s}"),
        format!("{h}.{c}.{s}="),
        format!("{h}.{c}.{s}!"),
        format!(" {h}.{c}.{s}"),
        format!("Bearer {h}.{c}.{s}"),
        // Standard (not URL-safe) alphabet.
        format!("{h}.{}.{s}", c.replace('-', "+").replace('_', "/") + "+"),
        format!("{}.{c}.{s}", b64("not json")),
        format!("{}.{c}.{s}", b64("[1,2]")),
        format!("{}.{c}.{s}", b64(r#""EdDSA""#)),
        format!("{}.{c}.{s}", b64(r#"{"alg":"EdDSA"} {}"#)),
        // Duplicate member names: refused, whichever one another parser would pick.
        format!("{header_json}.{c}.{s}"),
        "a".repeat(MAX_TOKEN_LEN + 1),
    ];
    for t in cases {
        assert_eq!(
            verifier().verify(&t, NOW),
            Err(VerifyError::Malformed),
            "{t:?}"
        );
    }
    // Claims that are not an object, or hold a duplicate name, even when validly signed.
    for raw in [
        "[]".to_string(),
        "not json".into(),
        format!(r#"{{"sub":"a","sub":"b","iss":"{ISSUER}"}}"#),
    ] {
        let t = sign_raw(&b64_json(&header("k1")), &b64(&raw), &key(1));
        assert_eq!(
            verifier().verify(&t, NOW),
            Err(VerifyError::Malformed),
            "{raw}"
        );
    }
}

#[test]
fn key_rotation() {
    let (k1, k2) = (key(1), key(2));
    let old = sign(&header("k1"), &claims(), &k1);
    let new = sign(&header("k2"), &claims(), &k2);

    // Before rotation only k1 is listed.
    let mut v = Verifier::new(jwks(&[("k1", &k1)]), expectations(0));
    assert!(v.verify(&old, NOW).is_ok());
    assert_eq!(v.verify(&new, NOW), Err(VerifyError::UnknownKid));

    // During rotation both are listed (newest first): tokens from both verify.
    v.set_jwks(jwks(&[("k2", &k2), ("k1", &k1)]));
    assert_eq!(v.jwks().kids().collect::<Vec<_>>(), ["k2", "k1"]);
    assert_eq!(v.verify(&old, NOW).unwrap().sub, "user-1");
    assert_eq!(v.verify(&new, NOW).unwrap().sub, "user-1");

    // After rotation k1 is gone and so are its tokens.
    v.set_jwks(jwks(&[("k2", &k2)]));
    assert_eq!(v.verify(&old, NOW), Err(VerifyError::UnknownKid));
    assert!(v.verify(&new, NOW).is_ok());
}

#[test]
fn claims_round_trip_through_serde() {
    let claims = verifier().verify(&token(), NOW).unwrap();
    let json = serde_json::to_value(&claims).unwrap();
    assert_eq!(json["aud"], AUDIENCE, "one audience serializes as a string");
    assert!(json.get("nbf").is_none());
    let back: AccessClaims = serde_json::from_value(json).unwrap();
    assert_eq!(back, claims);

    let mut many = claims.clone();
    many.aud.push("https://other.example.com".into());
    let json = serde_json::to_value(&many).unwrap();
    assert!(json["aud"].is_array());
    assert_eq!(serde_json::from_value::<AccessClaims>(json).unwrap(), many);
}

#[test]
fn errors_display_without_token_contents() {
    let t = token_with(|c| {
        c.remove("sub");
    });
    let err = verifier().verify(&t, NOW).unwrap_err();
    assert_eq!(err.to_string(), "token lacks the `sub` claim");
    let err: Box<dyn std::error::Error> = Box::new(VerifyError::ForbiddenHeader("jku"));
    assert_eq!(err.to_string(), "token header has forbidden `jku`");
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

/// Adds the Ed25519 group order L to a little-endian 32-byte scalar (mod 2^256).
fn add_group_order(scalar: &mut [u8]) {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for (s, l) in scalar.iter_mut().zip(L) {
        let sum = u16::from(*s) + u16::from(l) + carry;
        *s = sum as u8;
        carry = sum >> 8;
    }
}
