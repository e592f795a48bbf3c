//! Liveness and the public key set.

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
