//! The user journey, step by step, as a client takes it.
//!
//! register -> login (password only: enrolment needs a session) -> enroll -> confirm ->
//! logout -> login (now answered with mfa_required) -> login/mfa -> me -> refresh.
//!
//! Each TOTP code is accepted once per user and never for an earlier time step than the
//! last accepted one, so the confirm code is the current step's and the login/mfa code the
//! next step's (inside the ±1 step window); the final check waits until a still-unused step
//! is inside the window.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use edge_login::domain::totp::{code_at, time_step, TotpSecret};
use serde_json::{json, Value};

use crate::client::{Client, Resp};

pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    Register,
    LoginPassword,
    Enroll,
    Confirm,
    Logout,
    LoginMfaRequired,
    LoginMfa,
    Me,
    Refresh,
}

impl Step {
    pub const FLOW: [Step; 9] = [
        Step::Register,
        Step::LoginPassword,
        Step::Enroll,
        Step::Confirm,
        Step::Logout,
        Step::LoginMfaRequired,
        Step::LoginMfa,
        Step::Me,
        Step::Refresh,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Step::Register => "register",
            Step::LoginPassword => "login (password only)",
            Step::Enroll => "totp enroll",
            Step::Confirm => "totp confirm",
            Step::Logout => "logout",
            Step::LoginMfaRequired => "login (-> mfa_required)",
            Step::LoginMfa => "login/mfa (TOTP)",
            Step::Me => "me",
            Step::Refresh => "token refresh",
        }
    }

    pub fn route(self) -> &'static str {
        match self {
            Step::Register => "POST /v1/register",
            Step::LoginPassword | Step::LoginMfaRequired => "POST /v1/login",
            Step::Enroll => "POST /v1/2fa/totp/enroll",
            Step::Confirm => "POST /v1/2fa/totp/confirm",
            Step::Logout => "POST /v1/logout",
            Step::LoginMfa => "POST /v1/login/mfa",
            Step::Me => "GET /v1/me",
            Step::Refresh => "POST /v1/token/refresh",
        }
    }
}

/// What happened to one request: the response (None on a transport failure) and, when the
/// step did not go as a client expects, why.
pub struct Outcome {
    pub resp: Option<Resp>,
    pub error: Option<String>,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

/// Called around every request, e.g. to time it or to read the server's CPU counters.
pub trait Observer {
    fn before(&mut self, _step: Step) {}
    fn after(&mut self, step: Step, outcome: &Outcome);
}

pub struct User {
    pub username: String,
    pub secret: Option<TotpSecret>,
    /// The latest TOTP time step this user has spent (the server refuses it and older ones).
    pub last_step: u64,
    pub access: Option<String>,
    pub refresh: Option<String>,
}

impl User {
    pub fn new(username: String) -> Self {
        Self {
            username,
            secret: None,
            last_step: 0,
            access: None,
            refresh: None,
        }
    }
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// A distinct client address per user, from 198.18.0.0/15 (reserved for benchmarking,
/// RFC 2544). It is only ever sent as the `CF-Connecting-IP` header value: every
/// connection goes to the loopback `--base-url`.
pub fn client_ip(n: u64) -> String {
    let n = n % (1 << 17);
    format!("198.{}.{}.{}", 18 + (n >> 16), (n >> 8) & 0xff, n & 0xff)
}

/// Runs the whole journey for a fresh username; stops at the first step that fails.
pub fn run_flow(client: &Client, user: &mut User, obs: &mut dyn Observer) -> Result<(), String> {
    run_steps(client, user, Step::FLOW, obs)
}

/// Runs `steps` in order, reporting each to `obs`; stops at the first that fails.
fn run_steps(
    client: &Client,
    user: &mut User,
    steps: impl IntoIterator<Item = Step>,
    obs: &mut dyn Observer,
) -> Result<(), String> {
    for step in steps {
        obs.before(step);
        let outcome = run_step(client, user, step);
        obs.after(step, &outcome);
        if let Some(e) = outcome.error {
            return Err(format!("{}: {e}", step.name()));
        }
    }
    Ok(())
}

/// A TOTP user logs in again with the password and a TOTP code of a step not spent yet.
/// Waits (at most one step, 30 s) until such a step is inside the server's ±1 window.
pub fn login_again(client: &Client, user: &mut User, obs: &mut dyn Observer) -> Result<(), String> {
    wait_for_unspent_step(user);
    run_steps(client, user, [Step::LoginMfaRequired, Step::LoginMfa], obs)
}

/// Seconds until `user` has a spendable step (0 when it has one now).
pub fn seconds_until_unspent_step(user: &User) -> u64 {
    // Spendable: step now+1 > last_step, i.e. time_step(now) >= last_step.
    let t = now();
    let need = user.last_step as i64 * 30;
    (need - t).max(0) as u64
}

fn wait_for_unspent_step(user: &User) {
    while seconds_until_unspent_step(user) > 0 {
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn run_step(client: &Client, user: &mut User, step: Step) -> Outcome {
    let username = user.username.clone();
    let request = match step {
        Step::Register => client.send(
            "POST",
            "/v1/register",
            Some(&json!({
                "username": username,
                "password": PASSWORD,
                "email": format!("{username}@example.com"),
            })),
            None,
        ),
        Step::LoginPassword | Step::LoginMfaRequired => client.send(
            "POST",
            "/v1/login",
            Some(&json!({ "username": username, "password": PASSWORD })),
            None,
        ),
        Step::Enroll => client.send(
            "POST",
            "/v1/2fa/totp/enroll",
            Some(&json!({ "password": PASSWORD })),
            user.access.as_deref(),
        ),
        Step::Confirm => {
            let Some(secret) = &user.secret else {
                return missing("no TOTP secret from enroll");
            };
            let t = now();
            user.last_step = time_step(t);
            client.send(
                "POST",
                "/v1/2fa/totp/confirm",
                Some(&json!({ "code": code_at(secret, t) })),
                user.access.as_deref(),
            )
        }
        Step::Logout => client.send(
            "POST",
            "/v1/logout",
            Some(&json!({ "refresh_token": user.refresh })),
            user.access.as_deref(),
        ),
        Step::LoginMfa => {
            let Some(secret) = &user.secret else {
                return missing("no TOTP secret");
            };
            let Some(mfa_token) = user.access.take() else {
                return missing("no mfa_token");
            };
            // The next step's code: inside the window, and later than the confirm step.
            let t = now() + 30;
            user.last_step = time_step(t);
            client.send(
                "POST",
                "/v1/login/mfa",
                Some(&json!({ "mfa_token": mfa_token, "code": code_at(secret, t) })),
                None,
            )
        }
        Step::Me => client.send("GET", "/v1/me", None, user.access.as_deref()),
        Step::Refresh => client.send(
            "POST",
            "/v1/token/refresh",
            Some(&json!({ "refresh_token": user.refresh })),
            None,
        ),
    };
    let resp = match request {
        Ok(r) => r,
        Err(e) => {
            return Outcome {
                resp: None,
                error: Some(e),
            }
        }
    };
    let error = check(step, user, &resp).err();
    Outcome {
        resp: Some(resp),
        error,
    }
}

fn missing(what: &str) -> Outcome {
    Outcome {
        resp: None,
        error: Some(format!("skipped: {what}")),
    }
}

/// Does the response say what a client expects, and what does the client keep from it.
fn check(step: Step, user: &mut User, resp: &Resp) -> Result<(), String> {
    let expected = match step {
        Step::Register => 201,
        Step::Logout => 204,
        _ => 200,
    };
    if resp.status != expected {
        return Err(resp.describe());
    }
    let body = if resp.status == 204 {
        Value::Null
    } else {
        resp.json()
    };
    let str_field = |name: &str| -> Result<String, String> {
        body[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no {name} in {}", resp.describe()))
    };
    match step {
        Step::Register | Step::Logout => {}
        Step::LoginPassword | Step::Confirm | Step::LoginMfa | Step::Refresh => {
            if body["status"] != "authenticated" {
                return Err(format!("expected authenticated: {}", resp.describe()));
            }
            user.access = Some(str_field("access_token")?);
            user.refresh = Some(str_field("refresh_token")?);
        }
        Step::Enroll => {
            let b32 = str_field("secret")?;
            let bytes = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &b32)
                .ok_or("secret is not base32")?;
            user.secret = Some(TotpSecret::from_bytes(&bytes));
        }
        Step::LoginMfaRequired => {
            if body["status"] != "mfa_required" {
                return Err(format!("expected mfa_required: {}", resp.describe()));
            }
            // Kept in `access` until login/mfa spends it.
            user.access = Some(str_field("mfa_token")?);
        }
        Step::Me => {
            if body["username"].as_str() != Some(user.username.as_str()) {
                return Err(format!("me is someone else: {}", resp.describe()));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ips_are_distinct_benchmarking_addresses() {
        assert_eq!(client_ip(0), "198.18.0.0");
        assert_eq!(client_ip(257), "198.18.1.1");
        assert_eq!(client_ip(65_536), "198.19.0.0");
        let ips: std::collections::HashSet<_> = (0..5000).map(client_ip).collect();
        assert_eq!(ips.len(), 5000);
    }

    #[test]
    fn every_step_names_its_route() {
        for s in Step::FLOW {
            assert!(s.route().contains(" /"));
            assert!(!s.name().is_empty());
        }
    }
}
