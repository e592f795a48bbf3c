//! Smoke tests: the Worker starts under `wrangler dev` and routes requests.

mod common;

use common::spawn_app;
use serde_json::json;

#[test]
fn health_returns_ok() {
    let app = spawn_app();

    let response = app.get("/health");

    assert_eq!(response.status, 200, "body: {}", response.body);
    assert_eq!(response.json(), json!({ "status": "ok" }));
}

#[test]
fn unknown_path_returns_404() {
    let app = spawn_app();

    let response = app.get("/nope");

    assert_eq!(response.status, 404, "body: {}", response.body);
}
