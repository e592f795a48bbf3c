//! Lockout that strangers cannot turn against a user's own devices (device tokens, as
//! OWASP's "device cookies"), and the 800-63B hard cap per account and factor.

use serde_json::{json, Value};

use crate::common::{spawn_app, spawn_app_with, TestApp, TestResponse};
use crate::support::*;

const WRONG: &str = "wrong password!!";
/// Well-formed, never issued.
const NOT_A_CODE: &str = "0000-0000-0000-0000";

fn login_from(app: &TestApp, username: &str, password: &str, device: &str) -> TestResponse {
    app.post_json(
        "/v1/login",
        &json!({ "username": username, "password": password, "device_token": device }),
    )
}

fn device_token(response: &TestResponse) -> String {
    assert_eq!(response.status, 200, "{}", response.body);
    response.json()["device_token"]
        .as_str()
        .unwrap_or_else(|| panic!("a finished login names the device: {}", response.body))
        .to_owned()
}

fn lock_out_strangers(app: &TestApp, username: &str) {
    for _ in 0..5 {
        assert_error(&login(app, username, WRONG), 401, "invalid_credentials");
    }
    assert_error(&login(app, username, PASSWORD), 429, "too_many_attempts");
}

fn recovery(app: &TestApp, mfa_token: &str, code: &str) -> TestResponse {
    app.post_json(
        "/v1/login/mfa",
        &json!({ "mfa_token": mfa_token, "recovery_code": code }),
    )
}

/// Events are written after the response: polls until `kind` shows up.
fn wait_for_event(app: &TestApp, access: &str, kind: &str) -> Value {
    for _ in 0..50 {
        let events = app.get_with_token("/v1/events", access).json();
        if let Some(e) = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == kind)
        {
            return e.clone();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("no {kind} event");
}

#[test]
fn a_known_device_logs_in_while_strangers_wait() {
    let app = spawn_app();
    register(&app, "owner");
    let device = device_token(&login(&app, "owner", PASSWORD));

    lock_out_strangers(&app, "owner");
    let again = login_from(&app, "owner", PASSWORD, &device);
    Tokens::from(&again);
    assert!(device_token(&again).starts_with("dvt_"), "renewed");
    // The strangers' wait is not lifted by the device's success.
    assert_error(&login(&app, "owner", PASSWORD), 429, "too_many_attempts");

    // Another account's device, or junk, is a stranger (and no 400).
    register(&app, "other");
    let theirs = device_token(&login(&app, "other", PASSWORD));
    for stranger in [theirs.as_str(), "dvt_junk", ""] {
        assert_error(
            &login_from(&app, "owner", PASSWORD, stranger),
            429,
            "too_many_attempts",
        );
    }
}

#[test]
fn a_device_that_guesses_waits_for_its_own_failures() {
    let app = spawn_app();
    register(&app, "guessed");
    let device = device_token(&login(&app, "guessed", PASSWORD));
    for _ in 0..5 {
        assert_error(
            &login_from(&app, "guessed", WRONG, &device),
            401,
            "invalid_credentials",
        );
    }
    assert_error(
        &login_from(&app, "guessed", PASSWORD, &device),
        429,
        "too_many_attempts",
    );
    // Its failures are its own: the username's counter never saw them.
    Tokens::from(&login(&app, "guessed", PASSWORD));
}

#[test]
fn a_two_factor_login_names_the_device_when_it_is_finished() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "tfa");
    let started = login(&app, "tfa", PASSWORD);
    assert!(
        started.json().get("device_token").is_none(),
        "not before the second factor: {}",
        started.body
    );
    let mfa_token = started.json()["mfa_token"].as_str().unwrap().to_owned();
    let device = device_token(&submit_code(&app, &mfa_token, &code(&enrolled.secret, 1)));

    lock_out_strangers(&app, "tfa");
    let again = login_from(&app, "tfa", PASSWORD, &device);
    assert_eq!(again.json()["status"], "mfa_required", "{}", again.body);
}

#[test]
fn the_password_locks_at_the_hard_cap_for_every_client_and_unknown_names_alike() {
    let app = spawn_app_with(&[("MAX_FAILED_ATTEMPTS", "3")]);
    register(&app, "capped");
    let device = device_token(&login(&app, "capped", PASSWORD));

    // Only consecutive failures count: a success ends the run.
    for _ in 0..2 {
        assert_error(&login(&app, "capped", WRONG), 401, "invalid_credentials");
    }
    Tokens::from(&login_from(&app, "capped", PASSWORD, &device));
    // Strangers and the known device add up.
    for _ in 0..2 {
        assert_error(&login(&app, "capped", WRONG), 401, "invalid_credentials");
    }
    assert_error(
        &login_from(&app, "capped", WRONG, &device),
        401,
        "invalid_credentials",
    );
    for attempt in [
        login(&app, "capped", PASSWORD),
        login_from(&app, "capped", PASSWORD, &device),
    ] {
        assert_error(&attempt, 423, "factor_locked");
        assert_eq!(attempt.json()["factor"], "password");
        assert!(
            attempt.header("retry-after").is_none(),
            "waiting does not help"
        );
    }

    for _ in 0..3 {
        assert_error(&login(&app, "nobody", WRONG), 401, "invalid_credentials");
    }
    assert_error(&login(&app, "nobody", WRONG), 423, "factor_locked");
    assert!(
        app.log().contains(r#""event":"factor_locked""#),
        "the lock is a security event"
    );
}

#[test]
fn a_locked_authenticator_is_unlocked_by_a_recovery_code() {
    let app = spawn_app_with(&[("MAX_FAILED_ATTEMPTS", "3")]);
    let enrolled = user_with_totp(&app, "tess");
    let mfa_token = start_mfa_login(&app, "tess");
    for _ in 0..3 {
        assert_error(
            &submit_code(&app, &mfa_token, &wrong_code(&enrolled.secret)),
            401,
            "invalid_code",
        );
    }
    let locked = submit_code(&app, &mfa_token, &code(&enrolled.secret, 1));
    assert_error(&locked, 423, "factor_locked");
    assert_eq!(locked.json()["factor"], "totp");

    // The same login goes on with a recovery code, which ends the lock.
    let tokens = Tokens::from(&recovery(&app, &mfa_token, &enrolled.recovery_codes[0]));
    let event = wait_for_event(&app, &tokens.access, "factor_locked");
    assert_eq!(event["detail"], "totp", "{event}");
    let next = start_mfa_login(&app, "tess");
    Tokens::from(&submit_code(&app, &next, &code(&enrolled.secret, 1)));
}

#[test]
fn locked_recovery_codes_leave_the_authenticator_and_new_codes_unlock_them() {
    let app = spawn_app_with(&[("MAX_FAILED_ATTEMPTS", "3")]);
    let enrolled = user_with_totp(&app, "rita");
    let mfa_token = start_mfa_login(&app, "rita");
    for _ in 0..3 {
        assert_error(&recovery(&app, &mfa_token, NOT_A_CODE), 401, "invalid_code");
    }
    let locked = recovery(&app, &mfa_token, &enrolled.recovery_codes[0]);
    assert_error(&locked, 423, "factor_locked");
    assert_eq!(locked.json()["factor"], "recovery_code");

    // The authenticator still works, and with it come new codes, which are not locked.
    let fresh = app.post_json_with_token(
        "/v1/2fa/recovery-codes",
        &json!({ "code": code(&enrolled.secret, 1) }),
        &enrolled.tokens.access,
    );
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    let new_code = fresh.json()["recovery_codes"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let next = start_mfa_login(&app, "rita");
    Tokens::from(&recovery(&app, &next, &new_code));
}
