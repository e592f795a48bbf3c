//! The Worker entry point: route, call the handler, render, log one line.

mod errors;
mod render;
mod reply;
mod request;
mod routes;
mod scheduled;

use worker::{event, Context, Date, Env, Headers, Request, Response, Result};

use crate::domain::request_log::RequestLine;
use crate::error::ApiError;
use crate::services::Ctx;
use reply::Reply;

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    console_error_panic_hook::set_once();
    let started = Date::now().as_millis();
    // The raw method (workers-rs maps unknown methods to GET).
    let method = req.inner().method();
    let path = crate::domain::text::url_path(&req.inner().url()).to_owned();
    let headers = req.headers();
    let header = |name: &str| headers.get(name).ok().flatten();
    let request_id = header("cf-ray").unwrap_or_else(crate::domain::opaque::random_id);
    let ip = header("cf-connecting-ip");

    let origin = header("origin");
    let preflight = method == "OPTIONS";

    crate::services::context::prepare(&env).await;
    let ctx = Ctx::new(env, ctx, ip, Headers(headers.0.clone()));
    let handled = if preflight {
        routes::preflight(&path).map(|r| (r, None))
    } else {
        routes::dispatch(req, &ctx).await
    };
    let (mut reply, user_id) = match handled {
        Ok(done) => done,
        Err(error) => (Reply::error(&error), None),
    };
    if let Some(origin) = origin {
        reply = cors(reply, &ctx, &origin, preflight);
    }
    ctx.flush_events();
    let logged = match &reply.internal {
        Some(ApiError::Internal(detail)) => Some(("internal error", detail)),
        Some(ApiError::Unavailable(detail)) => Some(("service unavailable", detail)),
        _ => None,
    };
    if let Some((msg, detail)) = logged {
        worker::console_error!(
            "{}",
            crate::domain::request_log::error_line(msg, "request_id", &request_id, detail)
        );
    }
    let duration_ms = Date::now().as_millis().saturating_sub(started);
    if ctx.server_timing() {
        let storage = ctx.timings.server_timing();
        let total = format!("app;dur={duration_ms}");
        reply = reply.header(
            "Server-Timing",
            if storage.is_empty() {
                total
            } else {
                format!("{storage}, {total}")
            },
        );
    }
    let line = RequestLine {
        request_id: &request_id,
        method: &method,
        path: routes::log_path(&path),
        status: reply.status,
        duration_ms,
        user_id: user_id.as_deref(),
    };
    worker::console_log!("{}", line.render());
    reply.render()
}

/// Adds the CORS headers for an allowed origin; a refused origin gets none, which the
/// browser enforces.
fn cors(reply: Reply, ctx: &Ctx, origin: &str, preflight: bool) -> Reply {
    use crate::domain::cors::{ALLOWED_HEADERS, EXPOSED_HEADERS, MAX_AGE_SECONDS};
    let Some(allowed) = ctx.config().ok().and_then(|c| c.cors.allow_origin(origin)) else {
        return reply.header("Vary", "Origin");
    };
    let reply = reply
        .header("Access-Control-Allow-Origin", allowed)
        .header("Vary", "Origin");
    if preflight {
        reply
            .header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
            .header("Access-Control-Max-Age", MAX_AGE_SECONDS.to_string())
    } else {
        reply.header("Access-Control-Expose-Headers", EXPOSED_HEADERS)
    }
}
