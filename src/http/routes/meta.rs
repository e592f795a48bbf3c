//! Liveness, the public key set, and the demo page.

use worker::Request;

use crate::api::responses::Health;
use crate::error::ApiError;
use crate::http::Reply;
use crate::services::{access, Ctx};

pub fn health() -> Reply {
    Reply::ok(&Health::OK)
}

pub fn jwks(ctx: &Ctx) -> Result<Reply, ApiError> {
    // Verifiers cache the set; five minutes keeps a rotation's new key visible quickly.
    Ok(Reply::json_text(200, access::jwks(ctx)?).header("Cache-Control", "public, max-age=300"))
}

/// `GET /` (the demo page) and `GET /openapi.json` are static files in `public/`, kept
/// out of the WASM; the Worker passes these requests to the static-assets binding.
pub async fn static_file(req: Request, ctx: &Ctx) -> Result<Reply, ApiError> {
    let assets = ctx
        .env
        .assets("ASSETS")
        .map_err(|e| ApiError::Internal(format!("binding ASSETS: {e}")))?;
    let response = assets
        .fetch_request(req)
        .await
        .map_err(|e| ApiError::Internal(format!("assets: {e}")))?;
    Ok(Reply::forwarded(response))
}
