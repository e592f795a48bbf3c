//! Bad input gets a clear JSON error with the right status: never a 500, never a hang.

use serde_json::json;

use crate::common::spawn_app;
use crate::support::*;

#[test]
fn routing_errors_use_the_json_error_shape() {
    let app = spawn_app();

    let missing = app.get("/v1/nothing-here");
    assert_error(&missing, 404, "not_found");
    assert_eq!(missing.header("x-content-type-options"), Some("nosniff"));

    let wrong_method = app.get("/v1/login");
    assert_error(&wrong_method, 405, "method_not_allowed");
    assert_eq!(wrong_method.header("allow"), Some("POST"));
    assert_error(
        &app.post_json("/v1/me", &json!({})),
        405,
        "method_not_allowed",
    );
    assert_error(
        &app.request("DELETE", "/health", None, &[]),
        405,
        "method_not_allowed",
    );
    // Methods the runtime library does not know must not pass for GET.
    for method in ["QUERY", "PROPFIND", "PUT", "PATCH"] {
        let response = app.request(method, "/health", None, &[]);
        assert_error(&response, 405, "method_not_allowed");
        assert_eq!(response.header("allow"), Some("GET"));
    }
}

#[test]
fn malformed_bodies_are_400_and_oversized_ones_413() {
    let app = spawn_app();
    for route in [
        "/v1/register",
        "/v1/login",
        "/v1/login/mfa",
        "/v1/token/refresh",
    ] {
        // Per-IP limits would otherwise answer 429 before the body is read.
        app.set_client_ip(&format!("198.19.1.{}", route.len()));
        for body in ["{", "not json", "[1,2]", "\"string\"", "null"] {
            let response = app.post_raw(route, body, "application/json");
            assert_error(&response, 400, "invalid_request");
        }
        assert_error(
            &app.post_raw(route, "", "application/json"),
            400,
            "invalid_request",
        );
    }

    // Wrong types: numbers, nulls, objects where strings belong.
    app.set_client_ip("198.19.2.1");
    for body in [
        json!({ "username": 42, "password": PASSWORD }),
        json!({ "username": "pat", "password": null }),
        json!({ "username": "pat", "password": { "nested": true } }),
        json!({ "username": ["pat"], "password": PASSWORD }),
    ] {
        let response = app.post_json("/v1/register", &body);
        assert_error(&response, 400, "invalid_request");
        assert!(!response.body.contains("nested"));
    }

    // 16 KiB is the limit, with or without a truthful Content-Length.
    let huge = json!({ "username": "pat", "password": "x".repeat(17 * 1024) }).to_string();
    assert_error(
        &app.post_raw("/v1/register", &huge, "application/json"),
        413,
        "payload_too_large",
    );

    // Nothing above created the user.
    assert_eq!(
        app.post_json(
            "/v1/register",
            &json!({ "username": "pat", "password": PASSWORD })
        )
        .status,
        201
    );
}

#[test]
fn extra_fields_are_ignored_not_honoured() {
    let app = spawn_app();
    user_with_totp(&app, "quinn");

    let response = app.post_json(
        "/v1/login",
        &json!({ "username": "quinn", "password": PASSWORD, "mfa": false, "trusted": true, "aal": "aal2" }),
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["status"], "mfa_required");
}
