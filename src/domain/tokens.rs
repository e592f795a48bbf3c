//! Access tokens: EdDSA (Ed25519) JWTs with `typ: at+jwt` (RFC 9068).
//!
//! One algorithm, claims as a struct, and one `verify` that every protected route goes
//! through. The key set is a list (newest signs) so keys can rotate without logging
//! anybody out.

use chrono::{DateTime, Duration, Utc};
use ed25519_compact::{KeyPair, PublicKey, SecretKey, Seed};
use jwt_compact::alg::Ed25519;
use jwt_compact::{AlgorithmExt, Claims, Header, TimeOptions, UntrustedToken, ValidationError};
use serde::{Deserialize, Serialize};

use super::keys::KeyEntry;
use super::session::Authentication;
use super::token_cache::VerifiedTokens;

pub const TOKEN_TYPE: &str = "at+jwt";
/// Clock skew tolerated on `exp`: our own Workers' clocks, so a few seconds.
const LEEWAY_SECONDS: i64 = 5;

/// The claims we issue and require. Every field is mandatory on verification:
/// a token missing `iss`, `aud`, `sub` or `sid` does not deserialize.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub jti: String,
    pub sid: String,
    pub amr: Vec<String>,
    pub aal: String,
    pub auth_time: i64,
    /// Profile copied in so that `/v1/me` and downstream APIs need no storage call.
    pub preferred_username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub mfa_enabled: bool,
}

/// Header fields we refuse outright: a verifier must never be told by the token
/// where to find the key that verifies it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ForbiddenHeaderFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jwk: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crit: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    WrongType,
    UnknownKey,
    ForbiddenHeader,
    BadSignature,
    Expired,
    WrongIssuer,
    WrongAudience,
    MissingClaim,
}

/// Identity and authentication facts for one token, decided by the caller.
pub struct TokenSubject<'a> {
    pub user_id: &'a str,
    pub session_id: &'a str,
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub mfa_enabled: bool,
    pub auth: &'a Authentication,
}

pub struct SigningKey {
    kid: String,
    secret: SecretKey,
    public: PublicKey,
}

pub struct TokenService {
    /// Newest first: `keys[0]` signs.
    keys: Vec<SigningKey>,
    issuer: String,
    audience: String,
    lifetime_seconds: i64,
    verified: VerifiedTokens,
}

impl TokenService {
    pub fn new(
        keys: &[KeyEntry],
        issuer: String,
        audience: String,
        lifetime_seconds: i64,
    ) -> Result<Self, String> {
        if keys.is_empty() {
            return Err("no signing keys".into());
        }
        let keys = keys
            .iter()
            .map(|k| {
                let pair = KeyPair::from_seed(Seed::new(*k.key));
                SigningKey {
                    kid: k.kid.clone(),
                    secret: pair.sk,
                    public: pair.pk,
                }
            })
            .collect();
        Ok(Self {
            keys,
            issuer,
            audience,
            lifetime_seconds,
            verified: VerifiedTokens::default(),
        })
    }

    pub fn lifetime_seconds(&self) -> i64 {
        self.lifetime_seconds
    }

    pub fn issue(&self, subject: &TokenSubject<'_>, jti: String, now: i64) -> String {
        let key = &self.keys[0];
        let header = Header::empty()
            .with_key_id(key.kid.clone())
            .with_token_type(TOKEN_TYPE);
        let mut claims = Claims::new(AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: subject.user_id.to_owned(),
            jti,
            sid: subject.session_id.to_owned(),
            amr: subject.auth.amr(),
            aal: subject.auth.aal().to_owned(),
            auth_time: subject.auth.auth_time,
            preferred_username: subject.username.to_owned(),
            email: subject.email.map(str::to_owned),
            mfa_enabled: subject.mfa_enabled,
        });
        claims.issued_at = Some(timestamp(now));
        claims.expiration = Some(timestamp(now + self.lifetime_seconds));
        Ed25519
            .token(&header, &claims, &key.secret)
            .expect("serializing our own claims cannot fail")
    }

    /// The only way a token becomes trusted claims: `verify_uncached`, or the remembered
    /// answer of an earlier `verify_uncached` of the very same token (domain::token_cache).
    pub fn verify(&self, token: &str, now: i64) -> Result<AccessClaims, TokenError> {
        if let Some(remembered) = self.verified.lookup(token, now) {
            return remembered;
        }
        let (claims, expired_after) = self.check(token, now)?;
        self.verified.remember(token, &claims, expired_after, now);
        Ok(claims)
    }

    /// Every check, every time: what `verify` does for a token it has not seen. Public for
    /// the benchmarks, which time the signature check itself.
    pub fn verify_uncached(&self, token: &str, now: i64) -> Result<AccessClaims, TokenError> {
        self.check(token, now).map(|(claims, _)| claims)
    }

    /// The claims, and the time after which they are expired.
    fn check(&self, token: &str, now: i64) -> Result<(AccessClaims, i64), TokenError> {
        let untrusted = UntrustedToken::<ForbiddenHeaderFields>::try_from(token)
            .map_err(|_| TokenError::Malformed)?;
        let header = untrusted.header();
        if header.token_type.as_deref() != Some(TOKEN_TYPE) {
            return Err(TokenError::WrongType);
        }
        if header.key_set_url.is_some()
            || header.certificate_url.is_some()
            || header.other_fields.jwk.is_some()
            || header.other_fields.crit.is_some()
        {
            return Err(TokenError::ForbiddenHeader);
        }
        let kid = header.key_id.as_deref().ok_or(TokenError::UnknownKey)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or(TokenError::UnknownKey)?;
        // The validator also refuses any `alg` other than EdDSA.
        let token = Ed25519
            .validator::<AccessClaims>(&key.public)
            .validate(&untrusted)
            .map_err(|e| match e {
                ValidationError::MalformedClaims(_) => TokenError::Malformed,
                _ => TokenError::BadSignature,
            })?;
        let options = TimeOptions::new(Duration::seconds(LEEWAY_SECONDS), || timestamp(now));
        token
            .claims()
            .validate_expiration(&options)
            .map_err(|e| match e {
                ValidationError::NoClaim(_) => TokenError::MissingClaim,
                _ => TokenError::Expired,
            })?;
        let (_, claims) = token.into_parts();
        let expired_after = claims
            .expiration
            .ok_or(TokenError::MissingClaim)?
            .timestamp()
            + LEEWAY_SECONDS;
        let claims = claims.custom;
        if claims.iss != self.issuer {
            return Err(TokenError::WrongIssuer);
        }
        if claims.aud != self.audience {
            return Err(TokenError::WrongAudience);
        }
        Ok((claims, expired_after))
    }

    /// How many verified tokens this service remembers.
    pub fn remembered(&self) -> usize {
        self.verified.len()
    }

    /// The public half of every configured key, for `/.well-known/jwks.json`.
    pub fn jwks(&self) -> serde_json::Value {
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
        let keys: Vec<_> = self
            .keys
            .iter()
            .map(|k| {
                serde_json::json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": URL_SAFE_NO_PAD.encode(k.public.as_ref()),
                    "kid": k.kid,
                    "alg": "EdDSA",
                    "use": "sig",
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

fn timestamp(unix_seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix_seconds, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::keys::{parse_key_list, test_key_list};
    use crate::domain::session::SecondFactor;
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

    const NOW: i64 = 1_800_000_000;

    fn service(kids: &[&str]) -> TokenService {
        TokenService::new(
            &parse_key_list("K", &test_key_list(kids)).unwrap(),
            "https://issuer".into(),
            "aud".into(),
            900,
        )
        .unwrap()
    }

    fn issue(svc: &TokenService) -> String {
        let auth = Authentication::password_only(NOW - 10).with_second_factor(SecondFactor::Totp);
        issue_with(svc, &auth, "j1".into(), NOW)
    }

    fn issue_with(svc: &TokenService, auth: &Authentication, jti: String, now: i64) -> String {
        svc.issue(
            &TokenSubject {
                user_id: "u1",
                session_id: "s1",
                username: "alice",
                email: None,
                mfa_enabled: true,
                auth,
            },
            jti,
            now,
        )
    }

    fn b64(v: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    fn parts(token: &str) -> (serde_json::Value, serde_json::Value, String) {
        let mut it = token.split('.');
        let h = URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap();
        let c = URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap();
        (
            serde_json::from_slice(&h).unwrap(),
            serde_json::from_slice(&c).unwrap(),
            it.next().unwrap().to_owned(),
        )
    }

    #[test]
    fn issues_and_verifies() {
        let svc = service(&["k1"]);
        let token = issue(&svc);
        let (header, claims, _) = parts(&token);
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["kid"], "k1");
        assert_eq!(claims["exp"], NOW + 900);
        assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
        let verified = svc.verify(&token, NOW + 1).unwrap();
        assert_eq!(verified.sub, "u1");
        assert_eq!(verified.aal, "aal2");
        assert_eq!(verified.auth_time, NOW - 10);
    }

    #[test]
    fn expiry_is_enforced() {
        let svc = service(&["k1"]);
        let token = issue(&svc);
        assert!(svc.verify(&token, NOW + 900 + LEEWAY_SECONDS - 1).is_ok());
        assert_eq!(
            svc.verify(&token, NOW + 900 + LEEWAY_SECONDS + 1),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn issuer_audience_and_key_must_match() {
        let token = issue(&service(&["k1"]));
        let other = |iss: &str, aud: &str| {
            TokenService::new(
                &parse_key_list("K", &test_key_list(&["k1"])).unwrap(),
                iss.into(),
                aud.into(),
                900,
            )
            .unwrap()
        };
        assert_eq!(
            other("https://evil", "aud").verify(&token, NOW),
            Err(TokenError::WrongIssuer)
        );
        assert_eq!(
            other("https://issuer", "other").verify(&token, NOW),
            Err(TokenError::WrongAudience)
        );
        assert_eq!(
            service(&["k9"]).verify(&token, NOW),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn rotation_keeps_old_tokens_valid_and_signs_with_newest() {
        let old = service(&["k1"]);
        let token = issue(&old);
        let rotated = TokenService::new(
            &{
                let mut keys = parse_key_list("K", &test_key_list(&["k2"])).unwrap();
                keys.extend(parse_key_list("K", &test_key_list(&["k1"])).unwrap());
                keys
            },
            "https://issuer".into(),
            "aud".into(),
            900,
        )
        .unwrap();
        assert!(rotated.verify(&token, NOW).is_ok());
        assert_eq!(parts(&issue(&rotated)).0["kid"], "k2");
        assert_eq!(rotated.jwks()["keys"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn rejects_forged_and_altered_tokens() {
        let svc = service(&["k1"]);
        let token = issue(&svc);
        let (header, claims, sig) = parts(&token);

        // alg none, with and without a signature.
        for alg in ["none", "None", "HS256", "Ed25519"] {
            let mut h = header.clone();
            h["alg"] = alg.into();
            let forged = format!("{}.{}.{}", b64(&h), b64(&claims), sig);
            assert!(svc.verify(&forged, NOW).is_err(), "alg {alg}");
            let unsigned = format!("{}.{}.", b64(&h), b64(&claims));
            assert!(svc.verify(&unsigned, NOW).is_err(), "alg {alg} unsigned");
        }
        // Stripped signature.
        let stripped = token.rsplit_once('.').unwrap().0.to_owned() + ".";
        assert!(svc.verify(&stripped, NOW).is_err());
        // Altered claims keep the old signature.
        let mut c = claims.clone();
        c["sub"] = "admin".into();
        let altered = format!("{}.{}.{}", token.split('.').next().unwrap(), b64(&c), sig);
        assert_eq!(svc.verify(&altered, NOW), Err(TokenError::BadSignature));
        // Wrong typ.
        let mut h = header.clone();
        h["typ"] = "JWT".into();
        let retyped = format!("{}.{}.{}", b64(&h), b64(&claims), sig);
        assert_eq!(svc.verify(&retyped, NOW), Err(TokenError::WrongType));
        // Embedded key or key URL.
        for (field, value) in [
            ("jwk", serde_json::json!({"kty": "OKP"})),
            ("jku", "https://evil/jwks".into()),
        ] {
            let mut h = header.clone();
            h[field] = value;
            let t = format!("{}.{}.{}", b64(&h), b64(&claims), sig);
            assert_eq!(svc.verify(&t, NOW), Err(TokenError::ForbiddenHeader));
        }
        assert_eq!(svc.verify("garbage", NOW), Err(TokenError::Malformed));
        assert!(svc.verify("", NOW).is_err());
    }

    #[test]
    fn string_exp_is_rejected_even_when_signed() {
        let svc = service(&["k1"]);
        let key = &svc.keys[0];
        let header = Header::empty()
            .with_key_id("k1")
            .with_token_type(TOKEN_TYPE);
        let mut claims = serde_json::json!({
            "iss": "https://issuer", "aud": "aud", "sub": "u", "jti": "j", "sid": "s",
            "amr": ["pwd"], "aal": "aal1", "auth_time": NOW, "preferred_username": "a",
            "mfa_enabled": false, "exp": (NOW + 60).to_string()
        });
        let signed = Ed25519
            .token(&header, &Claims::new(claims.clone()), &key.secret)
            .unwrap();
        assert!(svc.verify(&signed, NOW).is_err());
        // And a token without exp at all.
        claims.as_object_mut().unwrap().remove("exp");
        let signed = Ed25519
            .token(&header, &Claims::new(claims), &key.secret)
            .unwrap();
        assert_eq!(svc.verify(&signed, NOW), Err(TokenError::MissingClaim));
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let svc = service(&["k1"]);
        let token = issue(&svc);
        let first = svc.verify(&token, NOW + 1).unwrap();
        assert_eq!(svc.remembered(), 1);
        assert_eq!(svc.verify(&token, NOW + 2).unwrap(), first);
        assert_eq!(svc.remembered(), 1);
        assert_eq!(
            svc.verify(&token, NOW + 900 + LEEWAY_SECONDS + 1),
            Err(TokenError::Expired)
        );
        assert_eq!(svc.remembered(), 0);
        // And it stays expired when it is sent again.
        assert_eq!(
            svc.verify(&token, NOW + 900 + LEEWAY_SECONDS + 2),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn only_verified_tokens_are_remembered_and_a_near_copy_is_checked_in_full() {
        let svc = service(&["k1"]);
        let token = issue(&svc);
        let (header, mut claims, sig) = parts(&token);
        let expired = issue_at(&svc, NOW - 2000);
        assert_eq!(svc.verify(&expired, NOW), Err(TokenError::Expired));
        assert_eq!(svc.remembered(), 0);

        assert!(svc.verify(&token, NOW).is_ok());
        assert_eq!(svc.remembered(), 1);
        // The remembered token's signature on other claims, and its claims with a flipped
        // signature character, are new strings: full checks, and refused.
        claims["sub"] = "u2".into();
        let forged = format!("{}.{}.{}", b64(&header), b64(&claims), sig);
        assert_eq!(svc.verify(&forged, NOW), Err(TokenError::BadSignature));
        let at = token.len() - 10;
        let was = &token[at..at + 1];
        let flipped = format!(
            "{}{}{}",
            &token[..at],
            if was == "A" { "B" } else { "A" },
            &token[at + 1..]
        );
        assert_eq!(svc.verify(&flipped, NOW), Err(TokenError::BadSignature));
        assert_eq!(svc.remembered(), 1);
    }

    #[test]
    fn the_cache_is_bounded_and_keeps_working_when_full() {
        use crate::domain::token_cache::CAPACITY;
        let svc = service(&["k1"]);
        let tokens: Vec<String> = (0..CAPACITY + 3).map(|i| issue_jti(&svc, i)).collect();
        for t in &tokens {
            assert!(svc.verify(t, NOW).is_ok());
            assert!(svc.remembered() <= CAPACITY);
        }
        // Every token, remembered or forgotten, still verifies.
        for t in &tokens {
            assert_eq!(svc.verify(t, NOW).unwrap().jti, t_jti(t));
        }
    }

    #[test]
    fn each_service_remembers_only_what_it_verified_itself() {
        let a = service(&["k1"]);
        let token = issue(&a);
        assert!(a.verify(&token, NOW).is_ok());
        let other_audience = TokenService::new(
            &parse_key_list("K", &test_key_list(&["k1"])).unwrap(),
            "https://issuer".into(),
            "other".into(),
            900,
        )
        .unwrap();
        assert_eq!(
            other_audience.verify(&token, NOW),
            Err(TokenError::WrongAudience)
        );
    }

    fn issue_at(svc: &TokenService, now: i64) -> String {
        issue_with(
            svc,
            &Authentication::password_only(now),
            "j-old".into(),
            now,
        )
    }

    fn issue_jti(svc: &TokenService, i: usize) -> String {
        issue_with(
            svc,
            &Authentication::password_only(NOW),
            format!("j{i}"),
            NOW,
        )
    }

    fn t_jti(token: &str) -> String {
        parts(token).1["jti"].as_str().unwrap().to_owned()
    }
}
