//! Factor and account changes need fresh proof, and leave a trail in the security log.

use serde_json::json;

use crate::common::{spawn_app, TestApp};
use crate::support::*;

fn refresh(app: &TestApp, token: &str) -> crate::common::TestResponse {
    app.post_json("/v1/token/refresh", &json!({ "refresh_token": token }))
}

#[test]
fn disabling_totp_needs_aal2_the_password_and_a_fresh_code() {
    let app = spawn_app();
    register(&app, "carla");
    // A session from before 2FA was turned on stays at aal1.
    let old_session = Tokens::from(&login(&app, "carla", PASSWORD));
    let enrolled = {
        let tokens = Tokens::from(&login(&app, "carla", PASSWORD));
        let enroll = app.post_json_with_token(
            "/v1/2fa/totp/enroll",
            &json!({ "password": PASSWORD }),
            &tokens.access,
        );
        let secret = secret_from(&enroll.json());
        let first = code(&secret, 0);
        let confirm = app.post_json_with_token(
            "/v1/2fa/totp/confirm",
            &json!({ "code": first }),
            &tokens.access,
        );
        (secret, first, Tokens::from(&confirm))
    };
    let (secret, first_code, aal2) = enrolled;
    let status = app.get_with_token("/v1/2fa", &aal2.access).json();
    assert_eq!(status["totp_enabled"], true);
    assert_eq!(status["recovery_codes_remaining"], 10);

    let disable = |token: &str, password: &str, code: &str| {
        app.request(
            "DELETE",
            "/v1/2fa/totp",
            Some(&json!({ "password": password, "code": code }).to_string()),
            &[
                ("content-type", "application/json"),
                ("authorization", &format!("Bearer {token}")),
            ],
        )
    };
    let weak = disable(&old_session.access, PASSWORD, &code(&secret, 1));
    assert_error(&weak, 401, "insufficient_user_authentication");
    assert!(weak
        .header("www-authenticate")
        .is_some_and(|h| h.contains("insufficient_user_authentication")));

    assert_error(
        &disable(&aal2.access, PASSWORD, &wrong_code(&secret)),
        401,
        "invalid_code",
    );
    assert_error(
        &disable(&aal2.access, "not the password", &code(&secret, 1)),
        401,
        "invalid_credentials",
    );
    // The code that confirmed enrolment is spent.
    assert_error(
        &disable(&aal2.access, PASSWORD, &first_code),
        401,
        "invalid_code",
    );

    let done = disable(&aal2.access, PASSWORD, &code(&secret, 1));
    assert_eq!(done.status, 204, "{}", done.body);
    // Every session ended, and the password alone logs in again.
    assert_error(&refresh(&app, &aal2.refresh), 401, "invalid_grant");
    assert_error(&refresh(&app, &old_session.refresh), 401, "invalid_grant");
    let after = Tokens::from(&login(&app, "carla", PASSWORD));
    let status = app.get_with_token("/v1/2fa", &after.access).json();
    assert_eq!(status["totp_enabled"], false);
    assert_eq!(status["recovery_codes_remaining"], 0);
}

#[test]
fn new_recovery_codes_replace_the_old_set() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "dmitri");
    let used = code(&enrolled.secret, 1);
    let response = app.post_json_with_token(
        "/v1/2fa/recovery-codes",
        &json!({ "code": used }),
        &enrolled.tokens.access,
    );
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let fresh: Vec<String> = response.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fresh.len(), 10);

    let token = start_mfa_login(&app, "dmitri");
    let old = app.post_json(
        "/v1/login/mfa",
        &json!({ "mfa_token": token, "recovery_code": enrolled.recovery_codes[0] }),
    );
    assert_error(&old, 401, "invalid_code");
    let new = app.post_json(
        "/v1/login/mfa",
        &json!({ "mfa_token": token, "recovery_code": fresh[0] }),
    );
    let tokens = Tokens::from(&new);
    let status = app.get_with_token("/v1/2fa", &tokens.access).json();
    assert_eq!(status["recovery_codes_remaining"], 9);

    // Without a code, or with a spent one, nothing changes.
    let missing = app.post_json_with_token("/v1/2fa/recovery-codes", &json!({}), &tokens.access);
    assert_error(&missing, 400, "invalid_request");
    let spent = app.post_json_with_token(
        "/v1/2fa/recovery-codes",
        &json!({ "code": used }),
        &tokens.access,
    );
    assert_error(&spent, 401, "invalid_code");
}

#[test]
fn changing_the_password_ends_every_session() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "elena");
    let new_password = "a brand new long passphrase";
    let change = |body: serde_json::Value| {
        app.post_json_with_token("/v1/password", &body, &enrolled.tokens.access)
    };

    assert_error(
        &change(json!({ "current_password": PASSWORD, "new_password": new_password })),
        400,
        "invalid_request",
    );
    assert_error(
        &change(
            json!({ "current_password": PASSWORD, "new_password": "short", "code": code(&enrolled.secret, 1) }),
        ),
        400,
        "weak_password",
    );
    assert_error(
        &change(
            json!({ "current_password": "wrong password!", "new_password": new_password, "code": code(&enrolled.secret, 1) }),
        ),
        401,
        "invalid_credentials",
    );
    let changed = change(json!({
        "current_password": PASSWORD,
        "new_password": new_password,
        "code": code(&enrolled.secret, 1),
    }));
    let fresh = Tokens::from(&changed);
    assert_eq!(decode_jwt(&fresh.access).1["aal"], "aal2");

    assert_error(
        &refresh(&app, &enrolled.tokens.refresh),
        401,
        "invalid_grant",
    );
    Tokens::from(&refresh(&app, &fresh.refresh));
    assert_error(&login(&app, "elena", PASSWORD), 401, "invalid_credentials");
    assert_eq!(
        login(&app, "elena", new_password).json()["status"],
        "mfa_required"
    );
}

#[test]
fn the_security_log_tells_the_user_what_happened_without_secrets() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "fiona");
    assert_error(
        &login(&app, "fiona", "wrong password!!"),
        401,
        "invalid_credentials",
    );
    let token = start_mfa_login(&app, "fiona");
    assert_error(
        &submit_code(&app, &token, &wrong_code(&enrolled.secret)),
        401,
        "invalid_code",
    );
    let recovery = &enrolled.recovery_codes[0];
    let tokens = Tokens::from(&app.post_json(
        "/v1/login/mfa",
        &json!({ "mfa_token": token, "recovery_code": recovery }),
    ));

    // Events are written after the response; give the Worker a moment.
    let mut kinds = Vec::new();
    for _ in 0..20 {
        let events = app.get_with_token("/v1/events", &tokens.access);
        assert_eq!(events.status, 200, "{}", events.body);
        assert!(!events.body.contains(PASSWORD));
        assert!(!events.body.contains(recovery.as_str()));
        assert!(!events.body.contains(&tokens.refresh));
        kinds = events.json()["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>();
        if kinds.contains(&"recovery_code_used".to_owned()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    for expected in [
        "totp_enabled",
        "login_failed",
        "second_factor_failed",
        "login_succeeded",
        "recovery_code_used",
    ] {
        assert!(
            kinds.iter().any(|k| k == expected),
            "{expected} missing from {kinds:?}"
        );
    }
    // Newest first.
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("recovery_code_used")
    );
    // And another user sees none of them.
    let other = register_and_login(&app, "gustav");
    let theirs = app.get_with_token("/v1/events", &other.access).json();
    assert!(theirs["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["kind"] == "login_succeeded" || e["kind"] == "new_device_login"));
}

#[test]
fn the_security_log_comes_a_page_at_a_time() {
    let app = spawn_app();
    register(&app, "hanne");
    for _ in 0..4 {
        assert_error(
            &login(&app, "hanne", "wrong password!!"),
            401,
            "invalid_credentials",
        );
    }
    let tokens = Tokens::from(&login(&app, "hanne", PASSWORD));
    let get = |query: &str| app.get_with_token(&format!("/v1/events{query}"), &tokens.access);

    // Events are written after the response: wait for all six (four failures, the login,
    // and that it came from a new device).
    let mut all = Vec::new();
    for _ in 0..50 {
        let whole = get("?limit=100").json();
        all = whole["events"].as_array().unwrap().clone();
        if all.len() == 6 {
            assert!(whole["next_cursor"].is_null(), "{whole}");
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(all.len(), 6, "{all:?}");

    // Pages of two, following next_cursor, give the same events in the same order.
    let mut paged = Vec::new();
    let mut query = "?limit=2".to_owned();
    for page in 0.. {
        let body = get(&query).json();
        let events = body["events"].as_array().unwrap();
        assert!(events.len() <= 2, "{body}");
        paged.extend(events.iter().cloned());
        match body["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=2&before={cursor}"),
            None => break,
        }
        assert!(page < 5, "the cursor never ran out");
    }
    assert_eq!(paged, all);

    for bad in [
        "?limit=0",
        "?limit=101",
        "?limit=many",
        "?before=12",
        "?before=e",
    ] {
        assert_error(&get(bad), 400, "invalid_request");
    }
}

fn logout(app: &TestApp, access: &str) {
    let r = app.post_json_with_token("/v1/logout", &json!({}), access);
    assert_eq!(r.status, 204, "logout: {}", r.body);
}

/// An access token outlives its session by up to 15 minutes; after logout it still
/// reads (`/v1/me` needs no storage), but it can no longer change the account.
#[test]
fn an_ended_session_cannot_change_the_account() {
    let app = spawn_app();
    let ended = register_and_login(&app, "ines");
    let live = Tokens::from(&login(&app, "ines", PASSWORD));
    // An enrolment started while the session was live cannot be finished after logout.
    let enroll = app.post_json_with_token(
        "/v1/2fa/totp/enroll",
        &json!({ "password": PASSWORD }),
        &ended.access,
    );
    let secret = secret_from(&enroll.json());
    logout(&app, &ended.access);

    assert_eq!(app.get_with_token("/v1/me", &ended.access).status, 200);
    let confirm = app.post_json_with_token(
        "/v1/2fa/totp/confirm",
        &json!({ "code": code(&secret, 0) }),
        &ended.access,
    );
    assert_error(&confirm, 401, "invalid_token");
    let enroll = app.post_json_with_token(
        "/v1/2fa/totp/enroll",
        &json!({ "password": PASSWORD }),
        &ended.access,
    );
    assert_error(&enroll, 401, "invalid_token");
    let change = app.post_json_with_token(
        "/v1/password",
        &json!({ "current_password": PASSWORD, "new_password": "a takeover passphrase" }),
        &ended.access,
    );
    assert_error(&change, 401, "invalid_token");

    // Nothing changed: 2FA is off and the password is the old one.
    let status = app.get_with_token("/v1/2fa", &live.access).json();
    assert_eq!(status["totp_enabled"], false, "{status}");
    assert_eq!(login(&app, "ines", PASSWORD).status, 200);
    assert_eq!(login(&app, "ines", "a takeover passphrase").status, 401);
}

#[test]
fn an_ended_aal2_session_cannot_change_factors() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "jorge");
    // A second aal2 session stays live to look.
    let mfa_token = start_mfa_login(&app, "jorge");
    let other = Tokens::from(&submit_code(&app, &mfa_token, &code(&enrolled.secret, 1)));
    logout(&app, &enrolled.tokens.access);

    let regenerate = app.post_json_with_token(
        "/v1/2fa/recovery-codes",
        &json!({ "recovery_code": enrolled.recovery_codes[0] }),
        &enrolled.tokens.access,
    );
    assert_error(&regenerate, 401, "invalid_token");
    let disable = app.request(
        "DELETE",
        "/v1/2fa/totp",
        Some(
            &json!({ "password": PASSWORD, "recovery_code": enrolled.recovery_codes[1] })
                .to_string(),
        ),
        &[
            ("content-type", "application/json"),
            (
                "authorization",
                &format!("Bearer {}", enrolled.tokens.access),
            ),
        ],
    );
    assert_error(&disable, 401, "invalid_token");

    // 2FA is still on, and neither recovery code was spent.
    let status = app.get_with_token("/v1/2fa", &other.access).json();
    assert_eq!(status["totp_enabled"], true, "{status}");
    assert_eq!(status["recovery_codes_remaining"], 10, "{status}");
}

#[test]
fn turning_totp_on_ends_the_password_only_sessions() {
    let app = spawn_app();
    register(&app, "kiri");
    let elsewhere = Tokens::from(&login(&app, "kiri", PASSWORD));
    let here = Tokens::from(&login(&app, "kiri", PASSWORD));
    let enroll = app.post_json_with_token(
        "/v1/2fa/totp/enroll",
        &json!({ "password": PASSWORD }),
        &here.access,
    );
    let secret = secret_from(&enroll.json());
    let confirm = app.post_json_with_token(
        "/v1/2fa/totp/confirm",
        &json!({ "code": code(&secret, 0) }),
        &here.access,
    );
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    // Both aal1 sessions are over; the confirmation's aal2 session is the one left.
    assert_error(&refresh(&app, &elsewhere.refresh), 401, "invalid_grant");
    assert_error(&refresh(&app, &here.refresh), 401, "invalid_grant");
    assert_eq!(refresh(&app, &Tokens::from(&confirm).refresh).status, 200);
}
