//! Access tokens: EdDSA (Ed25519) JWTs with `typ: at+jwt` (RFC 9068).
//!
//! One algorithm, claims as a struct, and one `verify` that every protected route goes
//! through. The key set is a list (newest signs) so keys can rotate without logging
//! anybody out.
//!
//! Verification is `edge_login_verifier::Verifier`, the crate downstream services use,
//! over the JWKS this service publishes: one policy (header checks, refused headers,
//! claims, time window) for the issuer and everyone who checks its tokens. The
//! verified-token cache (domain::token_cache) sits in front of it.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use ed25519_compact::{KeyPair, Noise, SecretKey, Seed};
use edge_login_verifier::{Expectations, Jwks, JwksError, Verifier, VerifyError, ALGORITHM};
use serde::Serialize;

pub use edge_login_verifier::{AccessClaims, TOKEN_TYPE};

use super::keys::KeyEntry;
use super::random;
use super::session::Authentication;
use super::token_cache::VerifiedTokens;

/// Clock skew tolerated on `exp`: our own Workers' clocks, so a few seconds.
const LEEWAY_SECONDS: i64 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    WrongAlgorithm,
    WrongType,
    UnknownKey,
    ForbiddenHeader,
    BadSignature,
    Expired,
    NotYetValid,
    WrongIssuer,
    WrongAudience,
    MissingClaim,
}

/// The one place the verifier's reasons become the issuer's.
impl From<VerifyError> for TokenError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::Malformed | VerifyError::InvalidClaim(_) => Self::Malformed,
            VerifyError::WrongAlgorithm => Self::WrongAlgorithm,
            VerifyError::ForbiddenHeader(_) => Self::ForbiddenHeader,
            VerifyError::WrongType => Self::WrongType,
            VerifyError::UnknownKid => Self::UnknownKey,
            VerifyError::BadSignature => Self::BadSignature,
            VerifyError::MissingClaim(_) => Self::MissingClaim,
            VerifyError::WrongIssuer => Self::WrongIssuer,
            VerifyError::WrongAudience => Self::WrongAudience,
            VerifyError::Expired => Self::Expired,
            VerifyError::NotYetValid => Self::NotYetValid,
        }
    }
}

/// Why a `TokenService` could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenServiceError {
    /// The key list is empty.
    NoSigningKeys,
    /// The keys do not make a JWKS the verifier accepts (two keys with one kid).
    Jwks(JwksError),
    /// The runtime gave no public key for this kid's seed.
    NoPublicKey(String),
}

impl std::fmt::Display for TokenServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoSigningKeys => f.write_str("no signing keys"),
            Self::Jwks(e) => write!(f, "signing keys: {e}"),
            Self::NoPublicKey(kid) => write!(f, "signing key {kid}: no public key"),
        }
    }
}

impl std::error::Error for TokenServiceError {}

/// Identity and authentication facts for one token, decided by the caller.
pub struct TokenSubject<'a> {
    pub user_id: &'a str,
    pub session_id: &'a str,
    pub username: &'a str,
    /// A verified address only (the only kind a token may carry, with `email_verified`).
    pub verified_email: Option<&'a str>,
    pub mfa_enabled: bool,
    pub auth: &'a Authentication,
}

/// A key this process signs with itself (natively, and in the bench's ops Worker). The
/// production Worker signs with the runtime's WebCrypto instead (store::signer): its
/// service is built from the public keys alone, and the Ed25519 signing code and its
/// 30 KB table of base-point multiples stay out of the WASM.
pub struct SigningKey {
    kid: String,
    secret: SecretKey,
}

/// The public half of a configured key, with its kid.
pub struct PublicKeyEntry {
    pub kid: String,
    pub key: [u8; 32],
}

/// The public key of an Ed25519 seed, computed here (what WebCrypto's export gives).
pub fn public_key(seed: &KeyEntry) -> [u8; 32] {
    *KeyPair::from_seed(Seed::new(*seed.key)).pk
}

/// `header.claims` of a token, to be signed with the key `kid`.
pub struct SigningInput {
    pub kid: String,
    pub text: String,
}

/// The JOSE header of every token we sign.
#[derive(Serialize)]
struct TokenHeader<'a> {
    alg: &'static str,
    kid: &'a str,
    typ: &'static str,
}

pub struct TokenService {
    /// The kid of the newest key, the one that signs.
    signing_kid: String,
    /// Keys to sign with in this process, newest first; empty when the runtime signs.
    local: Vec<SigningKey>,
    /// The public half of every key, as `/.well-known/jwks.json` serves it.
    jwks: String,
    /// That JWKS, with our issuer, audience and leeway.
    verifier: Verifier,
    /// `client_id` of every token (RFC 9068): the application the service issues for.
    client_id: String,
    lifetime_seconds: i64,
    verified: VerifiedTokens,
}

impl TokenService {
    /// A service that also signs in this process, with `keys` (newest first).
    pub fn new(
        keys: &[KeyEntry],
        issuer: String,
        audience: String,
        client_id: String,
        lifetime_seconds: i64,
    ) -> Result<Self, TokenServiceError> {
        let public = keys
            .iter()
            .map(|k| PublicKeyEntry {
                kid: k.kid.clone(),
                key: public_key(k),
            })
            .collect();
        let mut service =
            Self::from_public_keys(public, issuer, audience, client_id, lifetime_seconds)?;
        service.local = keys
            .iter()
            .map(|k| SigningKey {
                kid: k.kid.clone(),
                secret: KeyPair::from_seed(Seed::new(*k.key)).sk,
            })
            .collect();
        Ok(service)
    }

    /// A service that verifies and prepares tokens; the newest key's owner signs them
    /// ([`Self::signing_input`], then [`Self::assemble`]).
    pub fn from_public_keys(
        keys: Vec<PublicKeyEntry>,
        issuer: String,
        audience: String,
        client_id: String,
        lifetime_seconds: i64,
    ) -> Result<Self, TokenServiceError> {
        let Some(newest) = keys.first() else {
            return Err(TokenServiceError::NoSigningKeys);
        };
        let signing_kid = newest.kid.clone();
        // Typed and serialized once: the route sends this string as it is.
        #[derive(Serialize)]
        struct Jwk<'a> {
            kty: &'static str,
            crv: &'static str,
            x: String,
            kid: &'a str,
            alg: &'static str,
            #[serde(rename = "use")]
            use_: &'static str,
        }
        #[derive(Serialize)]
        struct Set<'a> {
            keys: Vec<Jwk<'a>>,
        }
        let jwks = serde_json::to_string(&Set {
            keys: keys
                .iter()
                .map(|k| Jwk {
                    kty: "OKP",
                    crv: "Ed25519",
                    x: URL_SAFE_NO_PAD.encode(k.key),
                    kid: &k.kid,
                    alg: ALGORITHM,
                    use_: "sig",
                })
                .collect(),
        })
        .expect("plain structs serialize");
        let verifier = Verifier::new(
            Jwks::from_json(&jwks).map_err(TokenServiceError::Jwks)?,
            Expectations {
                issuer,
                audience,
                leeway_seconds: LEEWAY_SECONDS as u32,
            },
        );
        Ok(Self {
            signing_kid,
            local: Vec::new(),
            jwks,
            verifier,
            client_id,
            lifetime_seconds,
            verified: VerifiedTokens::default(),
        })
    }

    pub fn lifetime_seconds(&self) -> i64 {
        self.lifetime_seconds
    }

    /// What the newest key signs for `subject`: `base64url(header).base64url(claims)`.
    pub fn signing_input(&self, subject: &TokenSubject<'_>, jti: String, now: i64) -> SigningInput {
        let expected = self.verifier.expectations();
        let claims = AccessClaims {
            iss: expected.issuer.clone(),
            aud: vec![expected.audience.clone()],
            sub: subject.user_id.to_owned(),
            client_id: self.client_id.clone(),
            iat: now,
            exp: now + self.lifetime_seconds,
            nbf: None,
            jti,
            sid: subject.session_id.to_owned(),
            amr: subject.auth.amr(),
            aal: subject.auth.aal().to_owned(),
            acr: subject.auth.aal().to_owned(),
            auth_time: subject.auth.auth_time,
            preferred_username: subject.username.to_owned(),
            email: subject.verified_email.map(str::to_owned),
            email_verified: subject.verified_email.map(|_| true),
            mfa_enabled: subject.mfa_enabled,
        };
        let header = TokenHeader {
            alg: ALGORITHM,
            kid: &self.signing_kid,
            typ: TOKEN_TYPE,
        };
        let header = serde_json::to_vec(&header).expect("serializing our own header cannot fail");
        let claims = serde_json::to_vec(&claims).expect("serializing our own claims cannot fail");
        let mut text = URL_SAFE_NO_PAD.encode(header);
        text.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut text);
        SigningInput {
            kid: self.signing_kid.clone(),
            text,
        }
    }

    /// The token: the signing input and its Ed25519 signature.
    pub fn assemble(input: SigningInput, signature: &[u8]) -> String {
        let mut token = input.text;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        token
    }

    /// Prepares and signs a token in this process. Panics for a service built from
    /// public keys only, which cannot sign (the production Worker signs with WebCrypto).
    pub fn issue(&self, subject: &TokenSubject<'_>, jti: String, now: i64) -> String {
        let key = self
            .local
            .first()
            .expect("a TokenService built by new() signs in this process");
        let input = self.signing_input(subject, jti, now);
        // Hedged signing (RFC 8032 plus fresh noise).
        let signature = key
            .secret
            .sign(input.text.as_bytes(), Some(Noise::new(random::bytes())));
        debug_assert_eq!(key.kid, input.kid);
        Self::assemble(input, signature.as_ref())
    }

    /// The only way a token becomes trusted claims: `verify_uncached`, or the remembered
    /// answer of an earlier `verify_uncached` of the very same token (domain::token_cache),
    /// whose time window the verifier checks again.
    pub fn verify(&self, token: &str, now: i64) -> Result<AccessClaims, TokenError> {
        let in_time = |claims: &AccessClaims| self.verifier.check_time(claims, now);
        if let Some(remembered) = self.verified.lookup(token, in_time) {
            return remembered.map_err(TokenError::from);
        }
        let claims = self.verify_uncached(token, now)?;
        self.verified
            .remember(token, &claims, |claims| in_time(claims).is_ok());
        Ok(claims)
    }

    /// Every check, every time: what `verify` does for a token it has not seen. Public for
    /// the benchmarks, which time the signature check itself.
    pub fn verify_uncached(&self, token: &str, now: i64) -> Result<AccessClaims, TokenError> {
        Ok(self.verifier.verify(token, now)?)
    }

    /// How many verified tokens this service remembers.
    pub fn remembered(&self) -> usize {
        self.verified.len()
    }

    /// The public half of every configured key, for `/.well-known/jwks.json`.
    /// The public key set as served at `/.well-known/jwks.json`.
    pub fn jwks_json(&self) -> &str {
        &self.jwks
    }

    pub fn jwks(&self) -> serde_json::Value {
        serde_json::from_str(&self.jwks).expect("our own JSON parses")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::keys::{parse_key_list, test_key_list};
    use crate::domain::session::SecondFactor;
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    use jwt_compact::alg::Ed25519;
    use jwt_compact::{AlgorithmExt, Claims, Header};

    const NOW: i64 = 1_800_000_000;

    fn service(kids: &[&str]) -> TokenService {
        TokenService::new(
            &parse_key_list("K", &test_key_list(kids)).unwrap(),
            "https://issuer".into(),
            "aud".into(),
            "app".into(),
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
                verified_email: None,
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
        assert_eq!(verified.acr, "aal2");
        assert_eq!(verified.client_id, "app");
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
                "app".into(),
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
            "app".into(),
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

    /// RFC 8032 section 7.1, test 1: the seed's public key, as WebCrypto exports it.
    #[test]
    fn the_public_key_of_a_seed_is_rfc_8032s() {
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let seed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        let entry = KeyEntry {
            kid: "k".into(),
            key: zeroize::Zeroizing::new(seed.try_into().unwrap()),
        };
        assert_eq!(
            public_key(&entry).to_vec(),
            hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        );
    }

    /// What the Worker does: a service from public keys only prepares the token, someone
    /// else signs it (WebCrypto there, the seed's key pair here), and it verifies.
    #[test]
    fn a_token_signed_outside_verifies_and_a_bad_signature_does_not() {
        let seeds = parse_key_list("K", &test_key_list(&["k2", "k1"])).unwrap();
        let public = seeds
            .iter()
            .map(|k| PublicKeyEntry {
                kid: k.kid.clone(),
                key: public_key(k),
            })
            .collect();
        let svc = TokenService::from_public_keys(
            public,
            "https://issuer".into(),
            "aud".into(),
            "app".into(),
            900,
        )
        .unwrap();
        assert_eq!(svc.jwks_json(), service(&["k2", "k1"]).jwks_json());
        let auth = Authentication::password_only(NOW - 10);
        let subject = TokenSubject {
            user_id: "u1",
            session_id: "s1",
            username: "alice",
            verified_email: None,
            mfa_enabled: false,
            auth: &auth,
        };
        let input = svc.signing_input(&subject, "j1".into(), NOW);
        assert_eq!(input.kid, "k2", "the newest key signs");
        let pair = KeyPair::from_seed(Seed::new(*seeds[0].key));
        let signature = pair.sk.sign(input.text.as_bytes(), None);
        let text = input.text.clone();
        let token = TokenService::assemble(input, signature.as_ref());
        assert_eq!(svc.verify(&token, NOW).unwrap().sub, "u1");

        let other = KeyPair::from_seed(Seed::new(*seeds[1].key));
        let wrong = other.sk.sign(text.as_bytes(), None);
        let forged = TokenService::assemble(
            SigningInput {
                kid: "k2".into(),
                text,
            },
            wrong.as_ref(),
        );
        assert_eq!(svc.verify(&forged, NOW), Err(TokenError::BadSignature));
        assert!(
            TokenService::from_public_keys(Vec::new(), "i".into(), "a".into(), "c".into(), 9)
                .is_err()
        );
    }

    #[test]
    fn string_exp_is_rejected_even_when_signed() {
        let svc = service(&["k1"]);
        let key = &svc.local[0];
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
            "app".into(),
            900,
        )
        .unwrap();
        assert_eq!(
            other_audience.verify(&token, NOW),
            Err(TokenError::WrongAudience)
        );
    }

    #[test]
    fn the_issuer_refuses_what_the_verifier_refuses() {
        use edge_login_verifier::FORBIDDEN_HEADERS;
        let svc = service(&["k1"]);
        let token = issue(&svc);
        let (header, claims, _) = parts(&token);
        let sign = |h: &serde_json::Value, c: &str| {
            let input = format!("{}.{c}", b64(h));
            let sig = svc.local[0].secret.sign(input.as_bytes(), None);
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
        };
        // Every refused header, even under our own valid signature.
        for name in FORBIDDEN_HEADERS {
            let mut h = header.clone();
            h[name] = "x".into();
            assert_eq!(
                svc.verify(&sign(&h, &b64(&claims)), NOW),
                Err(TokenError::ForbiddenHeader),
                "{name}"
            );
        }
        // Duplicate member names: two parsers could read two different `sub`s.
        let json = serde_json::to_string(&claims).unwrap();
        let doubled = json.replacen("\"sub\":\"u1\"", "\"sub\":\"u1\",\"sub\":\"admin\"", 1);
        assert_ne!(doubled, json);
        assert_eq!(
            svc.verify(&sign(&header, &URL_SAFE_NO_PAD.encode(doubled)), NOW),
            Err(TokenError::Malformed)
        );
        // Every claim we issue is required.
        for name in [
            "iss", "aud", "sub", "iat", "exp", "jti", "sid", "amr", "aal",
        ] {
            let mut c = claims.clone();
            c.as_object_mut().unwrap().remove(name);
            assert_eq!(
                svc.verify(&sign(&header, &b64(&c)), NOW),
                Err(TokenError::MissingClaim),
                "{name}"
            );
        }
        // And our own token is still fine.
        assert!(svc.verify(&sign(&header, &b64(&claims)), NOW).is_ok());
    }

    #[test]
    fn a_remembered_token_expires_on_the_same_second_as_a_new_one() {
        let svc = service(&["k1"]);
        let token = issue(&svc);
        let last = NOW + 900 + LEEWAY_SECONDS - 1;
        assert!(svc.verify_uncached(&token, last).is_ok());
        assert!(svc.verify(&token, NOW).is_ok());
        assert!(svc.verify(&token, last).is_ok());
        assert_eq!(svc.remembered(), 1);
        assert_eq!(
            svc.verify_uncached(&token, last + 1),
            Err(TokenError::Expired)
        );
        assert_eq!(svc.verify(&token, last + 1), Err(TokenError::Expired));
        assert_eq!(svc.remembered(), 0);
    }

    #[test]
    fn needs_keys_with_distinct_kids() {
        let new = |keys: &[KeyEntry]| {
            TokenService::new(
                keys,
                "https://issuer".into(),
                "aud".into(),
                "app".into(),
                900,
            )
            .err()
            .unwrap()
        };
        let err = new(&[]);
        assert_eq!(err, TokenServiceError::NoSigningKeys);
        assert_eq!(err.to_string(), "no signing keys");
        let mut twice = parse_key_list("K", &test_key_list(&["k1"])).unwrap();
        twice.extend(parse_key_list("K", &test_key_list(&["k1"])).unwrap());
        let err = new(&twice);
        assert_eq!(
            err,
            TokenServiceError::Jwks(JwksError::DuplicateKid("k1".into()))
        );
        assert_eq!(
            err.to_string(),
            r#"signing keys: JWKS lists kid "k1" more than once"#
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
