//! Registration rules and the password step.

use serde_json::{json, Value};

use crate::common::spawn_app;
use crate::support::*;

#[test]
fn a_new_user_registers_logs_in_and_sees_themselves() {
    let app = spawn_app();

    let registered = app.post_json(
        "/v1/register",
        &json!({ "username": "Alice", "password": PASSWORD, "email": "alice@example.com" }),
    );
    assert_eq!(registered.status, 201, "{}", registered.body);
    let body = registered.json();
    assert_eq!(
        body["username"], "alice",
        "usernames are canonical lowercase"
    );
    let user_id = body["user_id"].as_str().unwrap().to_owned();

    // Case and width do not matter when logging in.
    let tokens = Tokens::from(&login(&app, "ＡＬＩＣＥ", PASSWORD));
    let response = login(&app, "alice", PASSWORD).json();
    assert_eq!(response["expires_in"], 900);
    assert_eq!(
        login(&app, "alice", PASSWORD).header("cache-control"),
        Some("no-store")
    );

    let me = app.get_with_token("/v1/me", &tokens.access);
    assert_eq!(me.status, 200, "{}", me.body);
    let me = me.json();
    assert_eq!(me["user_id"], user_id.as_str());
    assert_eq!(me["username"], "alice");
    // An unverified address stays out of the token, and so out of /v1/me (issue 12, 9).
    assert_eq!(me["email"], Value::Null, "{me}");
    assert_eq!(me["email_verified"], false);
    let (_, claims) = decode_jwt(&tokens.access);
    assert!(claims.get("email").is_none(), "{claims}");
    assert_eq!(me["mfa_enabled"], false);
    assert_eq!(me["amr"], json!(["pwd"]));
    assert_eq!(me["aal"], "aal1");
    assert!(me["auth_time"].as_i64().unwrap() > 1_700_000_000);
}

#[test]
fn usernames_are_unique_whatever_their_case() {
    let app = spawn_app();
    register(&app, "bob");

    for taken in ["bob", "BOB", "ｂｏｂ"] {
        let response = app.post_json(
            "/v1/register",
            &json!({ "username": taken, "password": "another long passphrase" }),
        );
        assert_error(&response, 409, "username_taken");
    }
}

#[test]
fn registration_enforces_the_username_and_password_rules() {
    let app = spawn_app();
    let attempt = |username: &str, password: &str| {
        app.post_json(
            "/v1/register",
            &json!({ "username": username, "password": password }),
        )
    };

    for bad_name in ["ab", "has space", "émile", ".dot", &"x".repeat(33)] {
        assert_error(&attempt(bad_name, PASSWORD), 400, "invalid_username");
    }
    // Registrations are limited per client address; these come from another one.
    app.set_client_ip("198.19.0.2");
    // Too short, too long, on the common list, containing the username.
    assert_error(&attempt("carol", "short pass"), 400, "weak_password");
    assert_error(&attempt("carol", &"x".repeat(129)), 400, "weak_password");
    assert_error(&attempt("carol", "PasswordPassword"), 400, "weak_password");
    assert_error(
        &attempt("carol", "my name is Carol ok"),
        400,
        "weak_password",
    );
    assert_error(
        &app.post_json(
            "/v1/register",
            &json!({ "username": "carol", "password": PASSWORD, "email": "not-an-email" }),
        ),
        400,
        "invalid_request",
    );
    // None of the rejected attempts created the account.
    assert_eq!(attempt("carol", PASSWORD).status, 201);
}

#[test]
fn wrong_password_and_unknown_user_are_indistinguishable() {
    let app = spawn_app();
    register(&app, "dave");

    let wrong_password = login(&app, "dave", "not the right password");
    let unknown_user = login(&app, "nobody", "not the right password");

    assert_error(&wrong_password, 401, "invalid_credentials");
    assert_eq!(wrong_password.status, unknown_user.status);
    assert_eq!(wrong_password.body, unknown_user.body);
    let header_names = |r: &crate::common::TestResponse| {
        let mut names: Vec<_> = r.headers.iter().map(|(n, _)| n.clone()).collect();
        names.retain(|n| n != "date" && n != "cf-ray");
        names.sort();
        names
    };
    assert_eq!(header_names(&wrong_password), header_names(&unknown_user));
}
