//! What other software sees: CORS for browser apps, the API description, the demo page.

use serde_json::json;

use crate::common::{spawn_app, spawn_app_with};
use crate::support::*;

#[test]
fn cors_allows_configured_origins_only_and_never_credentials() {
    let app = spawn_app_with(&[(
        "CORS_ALLOWED_ORIGINS",
        "https://app.example.com,http://localhost:5173",
    )]);
    let preflight = |origin: &str| {
        app.request(
            "OPTIONS",
            "/v1/login",
            None,
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
        )
    };

    let ok = preflight("https://app.example.com");
    assert_eq!(ok.status, 204, "{}", ok.body);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(ok.header("access-control-allow-methods"), Some("POST"));
    assert!(ok
        .header("access-control-allow-headers")
        .is_some_and(|h| h.contains("authorization") && h.contains("content-type")));
    assert_eq!(ok.header("access-control-allow-credentials"), None);

    let refused = preflight("https://evil.example.com");
    assert_eq!(refused.header("access-control-allow-origin"), None);

    let actual = app.request(
        "GET",
        "/health",
        None,
        &[("origin", "http://localhost:5173")],
    );
    assert_eq!(
        actual.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    assert!(actual
        .header("access-control-expose-headers")
        .is_some_and(|h| h.contains("retry-after")));
    assert_eq!(actual.header("vary"), Some("Origin"));

    let unknown = app.request(
        "OPTIONS",
        "/v1/nope",
        None,
        &[("origin", "http://localhost:5173")],
    );
    assert_error(&unknown, 404, "not_found");
}

#[test]
fn without_configuration_no_origin_is_allowed() {
    let app = spawn_app();
    let response = app.request(
        "POST",
        "/v1/login",
        Some(&json!({ "username": "x", "password": "y" }).to_string()),
        &[
            ("origin", "https://app.example.com"),
            ("content-type", "application/json"),
        ],
    );
    assert_eq!(response.header("access-control-allow-origin"), None);
}

#[test]
fn the_api_describes_itself_and_serves_a_demo_page() {
    let app = spawn_app();
    let doc = app.get("/openapi.json");
    assert_eq!(doc.status, 200);
    assert_eq!(doc.header("content-type"), Some("application/json"));
    assert!(doc.json()["openapi"].as_str().unwrap().starts_with("3.1"));

    // Both are static files (public/), with the headers public/_headers gives them.
    let page = app.get("/");
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert!(app.get("/demo.js").status == 200 && app.get("/demo.css").status == 200);
    // Other methods still reach the Worker's route table.
    assert_error(&app.post_json("/", &json!({})), 405, "method_not_allowed");
}
