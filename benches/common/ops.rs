//! The operations compared natively (benches/crypto.rs, criterion) and inside workerd
//! (benches/wasm-ops, the same code compiled to wasm32 with the production profile).
//! One file, included by both, so both sides run exactly the same inputs.

use std::hint::black_box;

use edge_login::domain::keys::parse_key_list;
use edge_login::domain::password::{hash_password, verify_password, Password};
use edge_login::domain::session::{Authentication, SecondFactor};
use edge_login::domain::tokens::{TokenService, TokenSubject};
use edge_login::domain::totp::{code_at, matching_step, TotpCode, TotpSecret};

/// A fixed clock (wasm32 has no `SystemTime`), inside the tokens' lifetime.
pub const NOW: i64 = 1_800_000_000;
pub const PASSWORD: &str = "correct horse battery staple";
/// `kid:base64url(32 bytes)`: a bench-only Ed25519 seed (32 × 0x07).
const SIGNING_KEYS: &str = "kbench:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc";

pub struct Fixture {
    secret: TotpSecret,
    code: TotpCode,
    tokens: TokenService,
    auth: Authentication,
    token: String,
    password: Password,
    phc: String,
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    pub fn new() -> Self {
        let secret = TotpSecret::from_bytes(b"12345678901234567890");
        // The current step's code: the verifier computes all three window steps either way.
        let code = TotpCode::parse(&code_at(&secret, NOW)).expect("6 digits");
        let keys = parse_key_list("JWT_SIGNING_KEYS", SIGNING_KEYS).expect("bench key");
        let tokens = TokenService::new(
            &keys,
            "http://127.0.0.1:8787".into(),
            "edge-login-clients".into(),
            "edge-login-demo".into(),
            900,
        )
        .expect("token service");
        let auth = Authentication::password_only(NOW - 20).with_second_factor(SecondFactor::Totp);
        let password = Password::for_login(PASSWORD).expect("valid password");
        let mut fixture = Self {
            secret,
            code,
            tokens,
            auth,
            token: String::new(),
            phc: hash_password(&password),
            password,
        };
        fixture.token = fixture.jwt_sign();
        assert!(fixture.jwt_verify() && fixture.totp_verify() && fixture.argon2id_verify());
        // Warms the verified-token cache for `jwt_verify_cached`.
        assert!(fixture.jwt_verify_cached());
        fixture
    }

    /// RFC 6238 check of a submitted code against the ±1 step window (3 HMAC-SHA-1).
    pub fn totp_verify(&self) -> bool {
        matching_step(black_box(&self.secret), black_box(&self.code), NOW).is_some()
    }

    /// An access token as login issues it (EdDSA over the JSON claims).
    pub fn jwt_sign(&self) -> String {
        self.tokens.issue(
            &TokenSubject {
                user_id: "u_3q2kx9wz7m4p1c8d5f6g0h",
                session_id: "s_7n8b9v0c1x2z3l4k5j6h7g",
                username: "alice.bench",
                verified_email: Some("alice@example.com"),
                mfa_enabled: true,
                auth: black_box(&self.auth),
            },
            "j_a1b2c3d4e5f6g7h8i9j0k1".into(),
            NOW,
        )
    }

    /// What every protected route does first for a token it has not seen (`/v1/me` does
    /// nothing else): the signature and claims check.
    pub fn jwt_verify(&self) -> bool {
        self.tokens
            .verify_uncached(black_box(&self.token), NOW)
            .is_ok()
    }

    /// The same for a token this isolate has verified before (domain::token_cache).
    pub fn jwt_verify_cached(&self) -> bool {
        self.tokens.verify(black_box(&self.token), NOW).is_ok()
    }

    /// Argon2id at the OWASP parameters (m = 19 MiB, t = 2, p = 1), as register does.
    pub fn argon2id_hash(&self) -> String {
        hash_password(black_box(&self.password))
    }

    /// The same work as login's password check.
    pub fn argon2id_verify(&self) -> bool {
        verify_password(black_box(&self.password), black_box(&self.phc))
    }

    /// Runs operation `name` `n` times; None for an unknown name. `noop` does nothing.
    pub fn run(&self, name: &str, n: u32) -> Option<u64> {
        let mut acc = 0u64;
        for _ in 0..n {
            acc += match name {
                "noop" => 0,
                "totp_verify" => u64::from(self.totp_verify()),
                "jwt_sign" => self.jwt_sign().len() as u64,
                "jwt_verify" => u64::from(self.jwt_verify()),
                "jwt_verify_cached" => u64::from(self.jwt_verify_cached()),
                "argon2id_hash" => self.argon2id_hash().len() as u64,
                "argon2id_verify" => u64::from(self.argon2id_verify()),
                _ => return None,
            };
        }
        Some(black_box(acc))
    }
}
