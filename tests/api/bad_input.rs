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

    // No body reads as `{}` on a route whose fields are all optional; whitespace declared
    // as JSON is a body, and not a JSON object.
    app.set_client_ip("198.19.1.99");
    let tokens = register_and_login(&app, "wendy");
    let logout = |body: &str| {
        let auth = format!("Bearer {}", tokens.access);
        let headers = [
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
        ];
        app.request("POST", "/v1/logout", Some(body), &headers)
    };
    for blank in ["\t", " ", "\r\n"] {
        assert_error(&logout(blank), 400, "invalid_request");
    }
    assert_eq!(logout("").status, 204);

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

#[test]
fn json_routes_refuse_bodies_a_cross_site_page_can_send() {
    let app = spawn_app();
    register(&app, "vera");
    let tokens = register_and_login(&app, "wren");
    let login = json!({ "username": "vera", "password": PASSWORD }).to_string();

    // What a form or a `fetch` without preflight can send from any page.
    for content_type in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let refused = app.post_raw("/v1/login", &login, content_type);
        assert_error(&refused, 415, "unsupported_media_type");
    }
    // A body that does not say what it is is refused too.
    let bare = app.request("POST", "/v1/login", Some(&login), &[]);
    assert_error(&bare, 415, "unsupported_media_type");

    // Routes behind a bearer token refuse them the same way, and nothing changes.
    let auth = format!("Bearer {}", tokens.access);
    let change =
        json!({ "current_password": PASSWORD, "new_password": "an entirely new passphrase" });
    let refused = app.request(
        "POST",
        "/v1/password",
        Some(&change.to_string()),
        &[("content-type", "text/plain"), ("authorization", &auth)],
    );
    assert_error(&refused, 415, "unsupported_media_type");
    assert_eq!(login_status(&app, "wren", PASSWORD), 200);

    // None of the refused logins was counted: after four wrong passwords (of the five
    // free ones) the right one still logs in.
    for _ in 0..4 {
        assert_eq!(login_status(&app, "vera", "wrong password here"), 401);
    }
    // application/json with parameters is JSON; a body-less POST needs no type.
    assert_eq!(
        app.post_raw("/v1/login", &login, "application/json; charset=utf-8")
            .status,
        200
    );
    let logout = app.request("POST", "/v1/logout", None, &[("authorization", &auth)]);
    assert_eq!(logout.status, 204, "{}", logout.body);
}

fn login_status(app: &crate::common::TestApp, username: &str, password: &str) -> u16 {
    login(app, username, password).status
}

/// A chunked body with no length that never ends: the Worker must refuse it once it
/// passes 16 KiB instead of waiting to buffer it whole.
#[test]
fn an_endless_chunked_body_is_cut_off_at_16_kib() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    let app = spawn_app();
    let mut socket = TcpStream::connect(("127.0.0.1", app.port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        socket,
        "POST /v1/register HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        app.port
    )
    .unwrap();
    let chunk = format!("400\r\n{}\r\n", "x".repeat(0x400));
    for _ in 0..64 {
        socket.write_all(chunk.as_bytes()).unwrap();
    }
    socket.flush().unwrap();
    // No terminating chunk: the request is still "being uploaded" when the answer comes.
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) => panic!(
                "no answer to a 64 KiB chunked body that never ends: {e} (read so far: {:?})",
                String::from_utf8_lossy(&answer)
            ),
        }
    }
    let head = String::from_utf8_lossy(&answer);
    assert!(
        head.starts_with("HTTP/1.1 413"),
        "expected 413, got: {head}"
    );
}
