//! The issuer (`edge-login`'s `TokenService`) and this crate agree on the token format.

mod common;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use common::{expectations, AUDIENCE, ISSUER, LIFETIME, NOW};
use edge_login::domain::keys::parse_key_list;
use edge_login::domain::session::{Authentication, SecondFactor};
use edge_login::domain::tokens::{TokenService, TokenSubject};
use edge_login_verifier::{Expectations, Jwks, Verifier, VerifyError};

/// `kid:key` entries as the `TOKEN_KEYS`-style secret holds them, newest first.
fn service(keys: &[(&str, u8)]) -> TokenService {
    let list = keys
        .iter()
        .map(|(kid, seed)| format!("{kid}:{}", URL_SAFE_NO_PAD.encode([*seed; 32])))
        .collect::<Vec<_>>()
        .join(",");
    TokenService::new(
        &parse_key_list("K", &list).unwrap(),
        ISSUER.into(),
        AUDIENCE.into(),
        "demo-app".into(),
        LIFETIME,
    )
    .unwrap()
}

fn issue(svc: &TokenService, auth: &Authentication) -> String {
    issue_for(svc, auth, None)
}

fn issue_for(svc: &TokenService, auth: &Authentication, verified_email: Option<&str>) -> String {
    svc.issue(
        &TokenSubject {
            user_id: "user-42",
            session_id: "session-7",
            username: "alice",
            verified_email,
            mfa_enabled: auth.second_factor.is_some(),
            auth,
        },
        "jti-9".into(),
        NOW,
    )
}

/// What a downstream service does: JWKS as served at `/.well-known/jwks.json` (text).
fn verifier_for(svc: &TokenService) -> Verifier {
    let body = serde_json::to_string(&svc.jwks()).unwrap();
    Verifier::new(Jwks::from_json(&body).unwrap(), expectations(5))
}

#[test]
fn verifies_tokens_from_the_issuer() {
    let svc = service(&[("2025-01", 7)]);
    let v = verifier_for(&svc);

    let auth = Authentication::password_only(NOW - 10).with_second_factor(SecondFactor::Totp);
    let token = issue_for(&svc, &auth, Some("alice@example.com"));
    let claims = v.verify(&token, NOW).unwrap();
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.aud, [AUDIENCE]);
    assert_eq!(claims.sub, "user-42");
    assert_eq!(claims.sid, "session-7");
    assert_eq!(claims.jti, "jti-9");
    assert_eq!(claims.iat, NOW);
    assert_eq!(claims.exp, NOW + LIFETIME);
    assert_eq!(claims.amr, auth.amr());
    assert_eq!(claims.aal, "aal2");
    assert!(claims.is_aal2());
    assert_eq!(claims.auth_time, NOW - 10);
    assert_eq!(claims.preferred_username, "alice");
    assert_eq!(claims.email.as_deref(), Some("alice@example.com"));
    assert_eq!(claims.email_verified, Some(true));
    assert!(claims.mfa_enabled);
    // The issuer's own check agrees on the same token.
    let own = svc.verify(&token, NOW).unwrap();
    assert_eq!(
        (own.sub, own.sid, own.amr),
        (claims.sub, claims.sid, claims.amr)
    );

    // Password-only.
    let aal1 = issue(&svc, &Authentication::password_only(NOW));
    let claims = v.verify(&aal1, NOW).unwrap();
    assert_eq!(claims.aal, "aal1");
    assert_eq!(claims.amr, ["pwd"]);
    assert_eq!((claims.email, claims.email_verified), (None, None));
    assert!(!claims.mfa_enabled);

    // Expiry as the issuer set it, with this verifier's leeway of 5 s.
    assert!(v.verify(&token, NOW + LIFETIME + 4).is_ok());
    assert_eq!(
        v.verify(&token, NOW + LIFETIME + 5),
        Err(VerifyError::Expired)
    );

    // Another deployment (issuer or audience) does not accept it.
    let other = |issuer: &str, audience: &str| {
        Verifier::new(
            v.jwks().clone(),
            Expectations {
                issuer: issuer.into(),
                audience: audience.into(),
                leeway_seconds: 5,
            },
        )
    };
    assert_eq!(
        other("https://evil.example.com", AUDIENCE).verify(&token, NOW),
        Err(VerifyError::WrongIssuer)
    );
    assert_eq!(
        other(ISSUER, "https://other.example.com").verify(&token, NOW),
        Err(VerifyError::WrongAudience)
    );
}

#[test]
fn issuer_key_rotation_is_seen_through_the_jwks() {
    let before = service(&[("k1", 1)]);
    let during = service(&[("k2", 2), ("k1", 1)]);
    let after = service(&[("k2", 2)]);
    let auth = Authentication::password_only(NOW);
    let old = issue(&before, &auth);
    let new = issue(&during, &auth);

    assert_eq!(
        verifier_for(&before).verify(&new, NOW),
        Err(VerifyError::UnknownKid),
        "a stale JWKS does not know the new key yet: refetch"
    );
    let v = verifier_for(&during);
    assert!(v.verify(&old, NOW).is_ok());
    assert!(v.verify(&new, NOW).is_ok());
    let v = verifier_for(&after);
    assert_eq!(v.verify(&old, NOW), Err(VerifyError::UnknownKid));
    assert!(v.verify(&new, NOW).is_ok());
}
