//! Deleting an account: proven by the password (and a fresh second factor when 2FA is
//! on), every row of the user gone in one batch (checked in local D1), refresh dead at
//! once, the username free again, and a last notice to a verified address.

use serde_json::{json, Value};

use crate::common::{spawn_app, TestApp, TestResponse};
use crate::support::*;

fn delete(app: &TestApp, access: &str, body: &Value) -> TestResponse {
    app.delete_json_with_token("/v1/account", body, access)
}

/// Rows that name `user_id` (or its username), per table, in one query.
fn rows_of(app: &TestApp, user_id: &str, username: &str) -> Value {
    let tables = [
        ("users", format!("users WHERE id = '{user_id}'")),
        ("sessions", format!("sessions WHERE user_id = '{user_id}'")),
        // Orphans: a retired token whose session is gone.
        (
            "retired_refresh_tokens",
            "retired_refresh_tokens WHERE session_id NOT IN (SELECT id FROM sessions)".to_owned(),
        ),
        (
            "recovery_codes",
            format!("recovery_codes WHERE user_id = '{user_id}'"),
        ),
        (
            "email_codes",
            format!("email_codes WHERE user_id = '{user_id}'"),
        ),
        (
            "mfa_attempts",
            format!("mfa_attempts WHERE user_id = '{user_id}'"),
        ),
        (
            "security_events",
            format!("security_events WHERE user_id = '{user_id}'"),
        ),
        (
            "throttle",
            format!("throttle WHERE key LIKE '%:{user_id}' OR key LIKE '%:{username}'"),
        ),
    ];
    let columns: Vec<String> = tables
        .iter()
        .map(|(name, from)| format!("(SELECT count(*) FROM {from}) AS {name}"))
        .collect();
    app.d1(&format!("SELECT {}", columns.join(", ")))[0].clone()
}

fn all_zero(rows: &Value) -> bool {
    rows.as_object().unwrap().values().all(|n| n == 0)
}

#[test]
fn an_account_without_2fa_goes_with_its_password_and_leaves_nothing_behind() {
    let app = spawn_app();
    let user_id = register(&app, "ines");
    let code = app.wait_for_emails("ines@example.com", 1)[0].code("evc_");
    assert_eq!(
        app.post_json("/v1/email/verify", &json!({ "code": code }))
            .status,
        204
    );
    // Some history: a failed login, a refreshed session (a retired token), a second session.
    assert_eq!(login(&app, "ines", "not the password at all").status, 401);
    let first = Tokens::from(&login(&app, "ines", PASSWORD));
    let first = Tokens::from(&app.post_json(
        "/v1/token/refresh",
        &json!({ "refresh_token": first.refresh }),
    ));
    let tokens = Tokens::from(&login(&app, "ines", PASSWORD));
    let bystander = register_and_login(&app, "jakob");
    let jakob_id = decode_jwt(&bystander.access).1["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    let jakob_before = rows_of(&app, &jakob_id, "jakob");

    // A wrong password deletes nothing.
    let refused = delete(
        &app,
        &tokens.access,
        &json!({ "password": "not the password at all" }),
    );
    assert_error(&refused, 401, "invalid_credentials");
    assert_eq!(rows_of(&app, &user_id, "ines")["users"], 1);

    let deleted = delete(&app, &tokens.access, &json!({ "password": PASSWORD }));
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let left = rows_of(&app, &user_id, "ines");
    assert!(all_zero(&left), "{left}");
    // Refresh fails at once, for every session.
    for t in [&first, &tokens] {
        let r = app.post_json("/v1/token/refresh", &json!({ "refresh_token": t.refresh }));
        assert_error(&r, 401, "invalid_grant");
    }
    // The old token can change nothing more (its session is gone).
    assert_error(
        &delete(&app, &tokens.access, &json!({ "password": PASSWORD })),
        401,
        "invalid_token",
    );
    // The address hears it, last.
    let mails = app.wait_for_emails("ines@example.com", 3);
    assert_eq!(mails.last().unwrap().subject, "Your account was deleted");
    // The name is free again, and the other account is untouched.
    assert_eq!(
        app.post_json(
            "/v1/register",
            &json!({ "username": "ines", "password": "a new owner's long passphrase" })
        )
        .status,
        201
    );
    let jakob_id = decode_jwt(&bystander.access).1["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(rows_of(&app, &jakob_id, "jakob")["users"], 1);
    assert_eq!(
        rows_of(&app, &jakob_id, "jakob")["sessions"],
        jakob_before["sessions"]
    );
    Tokens::from(&app.post_json(
        "/v1/token/refresh",
        &json!({ "refresh_token": bystander.refresh }),
    ));
}

#[test]
fn with_2fa_the_password_alone_is_not_enough() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "karla");
    let user_id = decode_jwt(&enrolled.tokens.access).1["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    let access = &enrolled.tokens.access;

    let without = delete(&app, access, &json!({ "password": PASSWORD }));
    assert_error(&without, 400, "invalid_request");
    let wrong = delete(
        &app,
        access,
        &json!({ "password": PASSWORD, "code": wrong_code(&enrolled.secret) }),
    );
    assert_error(&wrong, 401, "invalid_code");
    let before = rows_of(&app, &user_id, "karla");
    assert_eq!(before["users"], 1);
    assert_eq!(before["recovery_codes"], 10, "{before}");

    // A recovery code is a fresh second factor too.
    let deleted = delete(
        &app,
        access,
        &json!({ "password": PASSWORD, "recovery_code": enrolled.recovery_codes[0] }),
    );
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let left = rows_of(&app, &user_id, "karla");
    assert!(all_zero(&left), "{left}");
    assert_error(&login(&app, "karla", PASSWORD), 401, "invalid_credentials");
}
