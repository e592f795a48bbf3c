//! Password reset: a code mailed to the account (read from the files the local
//! `send_email` binding writes), spent once with the new password and, with 2FA on, a
//! fresh second factor. It logs in nowhere and ends every session.

use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{json, Value};

use crate::common::{spawn_app, TestApp, TestResponse};
use crate::support::*;

const NEW_PASSWORD: &str = "a brand new passphrase";

/// Each request from its own client address, so the per-IP limit (10 a minute on these
/// routes) stays out of stories that are not about it.
fn from_fresh_ip(app: &TestApp, path: &str, body: &Value) -> TestResponse {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let ip = format!("198.51.{}.{}", n / 250, n % 250 + 1);
    post_from(app, &ip, path, body)
}

fn forgot(app: &TestApp, body: Value) -> TestResponse {
    from_fresh_ip(app, "/v1/password/forgot", &body)
}

fn reset(app: &TestApp, body: Value) -> TestResponse {
    from_fresh_ip(app, "/v1/password/reset", &body)
}

const RESET_MAIL: &str = "Reset your password";
const VERIFY_MAIL: &str = "Confirm your email address";

/// Asks for a code by username and reads it from the `n`-th reset mail to the address.
fn reset_code(app: &TestApp, username: &str, n: usize) -> String {
    assert_eq!(forgot(app, json!({ "username": username })).status, 202);
    let mails = app.wait_for_emails_about(&format!("{username}@example.com"), RESET_MAIL, n);
    let mail = &mails[n - 1];
    assert!(mail.text.contains(username), "{}", mail.text);
    let code = mail.code("rst_");
    assert!(mail.html.contains(&code));
    code
}

/// The headers a client could compare, without those that differ on every response.
fn stable_headers(r: &TestResponse) -> Vec<(String, String)> {
    let mut h: Vec<_> = r
        .headers
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "date" | "server-timing" | "cf-ray"))
        .cloned()
        .collect();
    h.sort();
    h
}

#[test]
fn forgot_answers_alike_whether_or_not_the_account_exists() {
    let app = spawn_app();
    register(&app, "alma");
    register(&app, "bert");
    let answers = [
        forgot(&app, json!({ "username": "alma" })),
        forgot(&app, json!({ "username": "nobody" })),
        forgot(&app, json!({ "email": "nobody@example.com" })),
        // Alma's address is not verified yet: it finds no account.
        forgot(&app, json!({ "email": "alma@example.com" })),
    ];
    for a in &answers {
        assert_eq!(a.status, 202, "{}", a.body);
        assert_eq!(a.body, answers[0].body);
        assert_eq!(stable_headers(a), stable_headers(&answers[0]));
    }
    assert_eq!(answers[0].json()["status"], "requested");

    // At most three codes an hour per account, and the answer still does not say so.
    for _ in 0..3 {
        assert_eq!(forgot(&app, json!({ "username": "alma" })).status, 202);
    }
    // A later mail to someone else shows the queue has moved past Alma's requests.
    assert_eq!(forgot(&app, json!({ "username": "bert" })).status, 202);
    app.wait_for_emails_about("bert@example.com", RESET_MAIL, 1);
    let alma = app.wait_for_emails_about("alma@example.com", RESET_MAIL, 3);
    assert_eq!(alma.len(), 3, "{alma:?}");
    let stored = &app.d1("SELECT count(*) AS n FROM email_codes WHERE purpose = 'reset_password' AND user_id = (SELECT id FROM users WHERE username = 'alma')")[0];
    assert_eq!(stored["n"], 3);

    // Once verified, the address finds the account.
    let verify = app.wait_for_emails_about("alma@example.com", VERIFY_MAIL, 1)[0].code("evc_");
    let verified = app.post_json("/v1/email/verify", &json!({ "code": verify }));
    assert_eq!(verified.status, 204);
    register(&app, "cleo");
    let by_email = forgot(&app, json!({ "email": "cleo@example.com" }));
    assert_eq!(by_email.status, 202);
    let cleo_code = app.wait_for_emails_about("cleo@example.com", VERIFY_MAIL, 1)[0].code("evc_");
    assert_eq!(
        app.post_json("/v1/email/verify", &json!({ "code": cleo_code }))
            .status,
        204
    );
    assert_eq!(
        forgot(&app, json!({ "email": "cleo@example.com" })).status,
        202
    );
    app.wait_for_emails_about("cleo@example.com", RESET_MAIL, 1);

    // Malformed requests are told so.
    for body in [
        json!({}),
        json!({ "username": "alma", "email": "alma@example.com" }),
        json!({ "email": "not an address" }),
        json!({ "username": 7 }),
    ] {
        assert_error(&forgot(&app, body), 400, "invalid_request");
    }
    assert_error(
        &forgot(&app, json!({ "username": "x" })),
        400,
        "invalid_username",
    );
}

#[test]
fn a_reset_sets_the_password_ends_every_session_and_works_once() {
    let app = spawn_app();
    let user_id = register(&app, "dora");
    register(&app, "emil");
    let first = Tokens::from(&login(&app, "dora", PASSWORD));
    let second = Tokens::from(&login(&app, "dora", PASSWORD));
    let code = reset_code(&app, "dora", 1);
    let other_code = reset_code(&app, "dora", 2);

    // A weak password or a bad code changes nothing.
    let weak = reset(&app, json!({ "reset_code": code, "new_password": "short" }));
    assert_error(&weak, 400, "weak_password");
    for bad in ["rst_nope", &format!("rst_{}", "A".repeat(43)), "evc_x"] {
        let refused = reset(
            &app,
            json!({ "reset_code": bad, "new_password": NEW_PASSWORD }),
        );
        assert_error(&refused, 401, "invalid_email_code");
    }
    assert_eq!(
        app.get_with_token("/v1/sessions", &first.access).status,
        200
    );

    let done = reset(
        &app,
        json!({ "reset_code": code, "new_password": NEW_PASSWORD }),
    );
    assert_eq!(done.status, 204, "{}", done.body);
    assert_eq!(done.body, "", "a reset logs in nowhere");

    // Every session and refresh token is over.
    for tokens in [&first, &second] {
        assert_error(
            &app.get_with_token("/v1/sessions", &tokens.access),
            401,
            "invalid_token",
        );
        let refreshed = app.post_json(
            "/v1/token/refresh",
            &json!({ "refresh_token": tokens.refresh }),
        );
        assert_error(&refreshed, 401, "invalid_grant");
    }
    // The code, and the other one mailed before, are spent.
    for spent in [&code, &other_code] {
        let again = reset(
            &app,
            json!({ "reset_code": spent, "new_password": "yet another passphrase" }),
        );
        assert_error(&again, 401, "invalid_email_code");
    }
    assert_error(&login(&app, "dora", PASSWORD), 401, "invalid_credentials");
    let after = Tokens::from(&login(&app, "dora", NEW_PASSWORD));
    // Emil's password is his own still.
    Tokens::from(&login(&app, "emil", PASSWORD));

    // The code went to the address, so the address is proven; the reset is an event and
    // a notice.
    let me = app.get_with_token("/v1/me", &after.access).json();
    assert_eq!(me["email_verified"], true, "{me}");
    let events = app.get_with_token("/v1/events", &after.access).json();
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"password_reset"), "{kinds:?}");
    app.wait_for_emails_about(
        "dora@example.com",
        "Your password was reset with a code sent to this address",
        1,
    );
    let row = &app.d1(&format!(
        "SELECT count(*) AS live FROM email_codes WHERE user_id = '{user_id}' AND used_at IS NULL AND purpose = 'reset_password'"
    ))[0];
    assert_eq!(row["live"], 0);
}

#[test]
fn an_expired_code_is_refused() {
    let app = spawn_app();
    register(&app, "finn");
    let code = reset_code(&app, "finn", 1);
    app.d1("UPDATE email_codes SET expires_at = 1 WHERE purpose = 'reset_password'");
    let refused = reset(
        &app,
        json!({ "reset_code": code, "new_password": NEW_PASSWORD }),
    );
    assert_error(&refused, 401, "invalid_email_code");
    Tokens::from(&login(&app, "finn", PASSWORD));
}

#[test]
fn with_2fa_on_a_reset_needs_a_fresh_second_factor_in_the_same_request() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "gina");
    let code = reset_code(&app, "gina", 1);

    // Without the factor, or with a wrong one: refused, and nothing changes.
    let without = reset(
        &app,
        json!({ "reset_code": code, "new_password": NEW_PASSWORD }),
    );
    assert_error(&without, 400, "invalid_request");
    let wrong = reset(
        &app,
        json!({ "reset_code": code, "new_password": NEW_PASSWORD, "code": wrong_code(&enrolled.secret) }),
    );
    assert_error(&wrong, 401, "invalid_code");
    let spent_step = reset(
        &app,
        json!({ "reset_code": code, "new_password": NEW_PASSWORD, "code": enrolled.first_code }),
    );
    assert_error(&spent_step, 401, "invalid_code");
    assert_eq!(
        app.get_with_token("/v1/sessions", &enrolled.tokens.access)
            .status,
        200
    );
    start_mfa_login(&app, "gina");

    let done = reset(
        &app,
        json!({ "reset_code": code, "new_password": NEW_PASSWORD, "code": code_for(&enrolled, 1) }),
    );
    assert_eq!(done.status, 204, "{}", done.body);
    assert_error(
        &app.get_with_token("/v1/sessions", &enrolled.tokens.access),
        401,
        "invalid_token",
    );
    // The second factor is still on: the new password leads to the second step.
    start_mfa_login_with(&app, "gina", NEW_PASSWORD);

    // A recovery code works as the fresh factor too, once.
    let code = reset_code(&app, "gina", 2);
    let recovery = &enrolled.recovery_codes[0];
    let body = json!({ "reset_code": code, "new_password": "third passphrase here", "recovery_code": recovery });
    assert_eq!(reset(&app, body).status, 204);
    start_mfa_login_with(&app, "gina", "third passphrase here");
}

fn code_for(enrolled: &Enrolled, steps: i64) -> String {
    code(&enrolled.secret, steps)
}

#[test]
fn parallel_redemptions_of_one_code_give_exactly_one_success() {
    let app = spawn_app();
    register(&app, "hugo");
    let code = reset_code(&app, "hugo", 1);
    let passwords: Vec<String> = (0..6).map(|i| format!("parallel passphrase {i}")).collect();
    let responses = in_parallel(6, |i| {
        reset(
            &app,
            json!({ "reset_code": code, "new_password": passwords[i] }),
        )
    });
    assert_eq!(count_status(&responses, 204), 1, "{responses:?}");
    for r in responses.iter().filter(|r| r.status != 204) {
        assert_error(r, 401, "invalid_email_code");
    }
    // The winner's password logs in (first: wrong ones count toward the throttle).
    let winner = responses.iter().position(|r| r.status == 204).unwrap();
    Tokens::from(&login(&app, "hugo", &passwords[winner]));
    for (_, p) in passwords.iter().enumerate().filter(|(i, _)| *i != winner) {
        assert_error(&login(&app, "hugo", p), 401, "invalid_credentials");
    }
}

#[test]
fn turning_2fa_on_or_off_spends_the_reset_codes_mailed_before() {
    let app = spawn_app();
    register(&app, "ivan");
    let before_on = reset_code(&app, "ivan", 1);
    let enrolled = enable_totp(&app, &Tokens::from(&login(&app, "ivan", PASSWORD)));
    let refused = reset(
        &app,
        json!({ "reset_code": before_on, "new_password": NEW_PASSWORD, "code": code(&enrolled.secret, 1) }),
    );
    assert_error(&refused, 401, "invalid_email_code");

    let before_off = reset_code(&app, "ivan", 2);
    let off = app.delete_json_with_token(
        "/v1/2fa/totp",
        &json!({ "password": PASSWORD, "recovery_code": enrolled.recovery_codes[0] }),
        &enrolled.tokens.access,
    );
    assert_eq!(off.status, 204, "{}", off.body);
    let refused = reset(
        &app,
        json!({ "reset_code": before_off, "new_password": NEW_PASSWORD }),
    );
    assert_error(&refused, 401, "invalid_email_code");
    Tokens::from(&login(&app, "ivan", PASSWORD));
}

/// KV is eventually consistent: a code whose account KV does not know (here, one put
/// straight into D1) is looked up in D1 and works the same.
#[test]
fn a_code_kv_has_not_seen_is_read_from_d1() {
    use edge_login::domain::opaque::ResetCode;
    let app = spawn_app();
    let user_id = register(&app, "jule");
    let code = ResetCode::generate();
    app.d1(&format!(
        "INSERT INTO email_codes (code_hash, user_id, purpose, email, created_at, expires_at) \
         VALUES ('{}', '{user_id}', 'reset_password', 'jule@example.com', {}, {})",
        code.hash(),
        now(),
        now() + 600
    ));
    let done = reset(
        &app,
        json!({ "reset_code": code.expose(), "new_password": NEW_PASSWORD }),
    );
    assert_eq!(done.status, 204, "{}", done.body);
    Tokens::from(&login(&app, "jule", NEW_PASSWORD));
}
