//! The OpenAPI 3.1 document, generated from the route table, the typed bodies and
//! `ApiError` (native only). `make openapi` writes it to `public/openapi.json`, which the
//! Worker serves as a static asset; `tests/openapi_document.rs` fails when the committed
//! file differs from what this generates.

mod build;
mod components;
mod operations;

use serde_json::{json, Value};

pub use build::Doc;
pub use components::every_error;

/// The whole document.
pub fn document() -> Value {
    let mut doc = Doc::default();
    operations::describe(&mut doc);
    let (paths, mut schemas) = doc.finish();
    schemas.insert("Error".into(), components::error_schema());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "edge-login",
            "version": "1.0.0",
            "summary": "Password + TOTP two-factor login service issuing EdDSA JWTs, as a Cloudflare Worker.",
            "description": include_str!("intro.md"),
            "license": { "name": "MIT", "identifier": "MIT" }
        },
        "servers": [{ "url": "http://127.0.0.1:8787", "description": "Local development (`make dev`)." }],
        "tags": [
            { "name": "login", "description": "The two login steps." },
            { "name": "session", "description": "Tokens and sessions." },
            { "name": "account", "description": "Registration, password, security events." },
            { "name": "two-factor", "description": "TOTP and recovery codes." },
            { "name": "meta", "description": "Health, key set, this document, the demo page." },
            { "name": "cors", "description": "CORS preflights." }
        ],
        "paths": paths,
        "components": {
            "securitySchemes": components::security_schemes(),
            "schemas": schemas,
            "responses": components::responses(),
            "headers": components::headers(),
        }
    })
}

/// The document as committed: pretty-printed, with a final newline.
pub fn document_text() -> String {
    let mut text = serde_json::to_string_pretty(&document()).expect("a JSON value serialises");
    text.push('\n');
    text
}
