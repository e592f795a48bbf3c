//! Steps that many stories share, written the way a client would take them.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use edge_login::domain::totp::{code_at, TotpSecret};
use serde_json::{json, Value};

use crate::common::{TestApp, TestResponse};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

impl Tokens {
    pub fn from(response: &TestResponse) -> Self {
        assert_eq!(
            response.status, 200,
            "expected tokens, got: {}",
            response.body
        );
        let body = response.json();
        assert_eq!(body["status"], "authenticated", "{body}");
        assert_eq!(body["token_type"], "Bearer");
        Self {
            access: body["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
            refresh: body["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_owned(),
        }
    }
}

pub struct Enrolled {
    pub secret: TotpSecret,
    /// The code that confirmed enrolment: its time step is spent.
    pub first_code: String,
    pub recovery_codes: Vec<String>,
    pub tokens: Tokens,
}

pub fn register(app: &TestApp, username: &str) -> String {
    let response = app.post_json(
        "/v1/register",
        &json!({ "username": username, "password": PASSWORD, "email": format!("{username}@example.com") }),
    );
    assert_eq!(response.status, 201, "register: {}", response.body);
    response.json()["user_id"].as_str().unwrap().to_owned()
}

pub fn login(app: &TestApp, username: &str, password: &str) -> TestResponse {
    app.post_json(
        "/v1/login",
        &json!({ "username": username, "password": password }),
    )
}

pub fn register_and_login(app: &TestApp, username: &str) -> Tokens {
    register(app, username);
    Tokens::from(&login(app, username, PASSWORD))
}

/// Registers, logs in and turns TOTP on with a first code.
pub fn user_with_totp(app: &TestApp, username: &str) -> Enrolled {
    let tokens = register_and_login(app, username);
    enable_totp(app, &tokens)
}

/// Turns TOTP on for a signed-in user (the account password is [`PASSWORD`]).
pub fn enable_totp(app: &TestApp, tokens: &Tokens) -> Enrolled {
    let enroll = app.post_json_with_token(
        "/v1/2fa/totp/enroll",
        &json!({ "password": PASSWORD }),
        &tokens.access,
    );
    assert_eq!(enroll.status, 200, "enroll: {}", enroll.body);
    let secret = secret_from(&enroll.json());
    let first_code = code(&secret, 0);
    let confirm = app.post_json_with_token(
        "/v1/2fa/totp/confirm",
        &json!({ "code": first_code }),
        &tokens.access,
    );
    let recovery_codes = confirm.json()["recovery_codes"]
        .as_array()
        .unwrap_or_else(|| panic!("confirm: {}", confirm.body))
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    Enrolled {
        secret,
        first_code,
        recovery_codes,
        tokens: Tokens::from(&confirm),
    }
}

pub fn secret_from(enroll: &Value) -> TotpSecret {
    let b32 = enroll["secret"].as_str().expect("secret");
    TotpSecret::from_bytes(
        &base32::decode(base32::Alphabet::Rfc4648 { padding: false }, b32).expect("base32"),
    )
}

/// The code an authenticator app would show `steps` time steps from now.
pub fn code(secret: &TotpSecret, steps: i64) -> String {
    code_at(secret, now() + steps * 30)
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Logs in a TOTP user: returns the mfa_token.
pub fn start_mfa_login(app: &TestApp, username: &str) -> String {
    start_mfa_login_with(app, username, PASSWORD)
}

pub fn start_mfa_login_with(app: &TestApp, username: &str, password: &str) -> String {
    let response = login(app, username, password);
    assert_eq!(response.status, 200, "{}", response.body);
    let body = response.json();
    assert_eq!(body["status"], "mfa_required", "{body}");
    body["mfa_token"].as_str().unwrap().to_owned()
}

pub fn submit_code(app: &TestApp, mfa_token: &str, code: &str) -> TestResponse {
    app.post_json(
        "/v1/login/mfa",
        &json!({ "mfa_token": mfa_token, "code": code }),
    )
}

/// Header and claims of a JWT, decoded without verification (what a client may do).
pub fn decode_jwt(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut next = || -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap()
    };
    let header = next();
    (header, next())
}

pub fn assert_error(response: &TestResponse, status: u16, code: &str) {
    assert_eq!(
        response.status, status,
        "expected {status} {code}, got: {}",
        response.body
    );
    let body = response.json();
    assert_eq!(body["error"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "error without a message: {body}"
    );
}

/// A request from a given client address (`CF-Connecting-IP`), for tests that need
/// many requests without meeting the per-IP limits.
pub fn post_from(app: &TestApp, ip: &str, path: &str, body: &Value) -> TestResponse {
    app.request(
        "POST",
        path,
        Some(&body.to_string()),
        &[
            ("content-type", "application/json"),
            ("cf-connecting-ip", ip),
        ],
    )
}

/// Runs `n` requests at once (threads released together) and returns the responses.
pub fn in_parallel<F>(n: usize, request: F) -> Vec<TestResponse>
where
    F: Fn(usize) -> TestResponse + Sync,
{
    let barrier = std::sync::Barrier::new(n);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let barrier = &barrier;
                let request = &request;
                scope.spawn(move || {
                    barrier.wait();
                    request(i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

pub fn count_status(responses: &[TestResponse], status: u16) -> usize {
    responses.iter().filter(|r| r.status == status).count()
}

/// A 6-digit code that is not valid for `secret` anywhere near now.
pub fn wrong_code(secret: &TotpSecret) -> String {
    let window: Vec<String> = (-2..=2).map(|s| code(secret, s)).collect();
    (0..)
        .map(|n: u32| format!("{:06}", (n * 7919) % 1_000_000))
        .find(|c| !window.contains(c))
        .unwrap()
}
