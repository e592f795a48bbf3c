//! The Worker entry point: route, call the handler, render, log one line.

mod app;
mod body;
mod reply;
mod routes;

use worker::{event, Context, Date, Env, Request, Response, Result};

use crate::error::ApiError;
use app::App;
use reply::Reply;

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    console_error_panic_hook::set_once();
    let started = Date::now().as_millis();
    let method = req.method().to_string();
    let path = req.path();
    let request_id = req
        .headers()
        .get("cf-ray")
        .ok()
        .flatten()
        .unwrap_or_else(crate::domain::opaque::random_id);

    let app = App::new(env, ctx);
    let (reply, user_id) = match routes::dispatch(req, &app).await {
        Ok(done) => done,
        Err(error) => (Reply::error(&error), None),
    };
    if let Some(ApiError::Internal(detail)) = &reply.internal {
        worker::console_error!(
            "{}",
            serde_json::json!({"level": "error", "msg": "internal error", "request_id": request_id, "detail": detail})
        );
    }
    worker::console_log!(
        "{}",
        serde_json::json!({
            "level": "info",
            "msg": "request",
            "request_id": request_id,
            "method": method,
            "path": routes::log_path(&path),
            "status": reply.status,
            "duration_ms": Date::now().as_millis().saturating_sub(started),
            "user_id": user_id,
        })
    );
    reply.render()
}
