//! Liveness, the public key set, and the demo page.

use serde_json::json;

use crate::error::ApiError;
use crate::http::{App, Reply};

pub fn health() -> Reply {
    Reply::ok(json!({ "status": "ok" }))
}

pub fn jwks(app: &App) -> Result<Reply, ApiError> {
    // Verifiers cache the set; five minutes keeps a rotation's new key visible quickly.
    Ok(Reply::ok(app.config()?.tokens.jwks()).header("Cache-Control", "public, max-age=300"))
}

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI: &str = include_str!("../openapi.json");

pub fn openapi() -> Reply {
    Reply::document(OPENAPI, "application/json").header("Cache-Control", "public, max-age=300")
}

const DEMO_PAGE: &str = include_str!("../demo.html");

thread_local! {
    static DEMO_CSP: String = demo_csp();
}

/// `GET /`: the demo page. Its one inline script and one inline style are allowed by
/// hash, so nothing else can run on the page (no eval, no injected markup).
pub fn demo() -> Reply {
    Reply::html(DEMO_PAGE, DEMO_CSP.with(Clone::clone))
}

fn demo_csp() -> String {
    use base64::{engine::general_purpose::STANDARD, Engine};
    use sha2::{Digest, Sha256};
    let hash = |open: &str, close: &str| {
        let start = DEMO_PAGE.find(open).map_or(0, |i| i + open.len());
        let end = DEMO_PAGE[start..].find(close).map_or(start, |i| start + i);
        format!(
            "'sha256-{}'",
            STANDARD.encode(Sha256::digest(&DEMO_PAGE.as_bytes()[start..end]))
        )
    };
    format!(
        "default-src 'none'; script-src {}; style-src {}; img-src data:; connect-src 'self'; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        hash("<script>", "</script>"),
        hash("<style>", "</style>")
    )
}
