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
    // TEMP(demo page): GET / serves demo.html until the lead adds a proper route.
    if path == "/" && matches!(req.method(), worker::Method::Get | worker::Method::Head) {
        return demo_page();
    }
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let request_id = header("cf-ray").unwrap_or_else(crate::domain::opaque::random_id);
    let ip = header("cf-connecting-ip");

    let app = App::new(env, ctx, ip);
    let (mut reply, user_id) = match routes::dispatch(req, &app).await {
        Ok(done) => done,
        Err(error) => (Reply::error(&error), None),
    };
    app.flush_events();
    if let Some(ApiError::Internal(detail)) = &reply.internal {
        worker::console_error!(
            "{}",
            serde_json::json!({"level": "error", "msg": "internal error", "request_id": request_id, "detail": detail})
        );
    }
    let duration_ms = Date::now().as_millis().saturating_sub(started);
    if app.server_timing() {
        let storage = app.timings.server_timing();
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
    worker::console_log!(
        "{}",
        serde_json::json!({
            "level": "info",
            "msg": "request",
            "request_id": request_id,
            "method": method,
            "path": routes::log_path(&path),
            "status": reply.status,
            "duration_ms": duration_ms,
            "user_id": user_id,
        })
    );
    reply.render()
}

/// TEMP(demo page): the HTML, with a CSP that allows exactly its inline <script> and <style>.
fn demo_page() -> Result<Response> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let html = include_str!("demo.html");
    let hash = |open: &str, close: &str| {
        let start = html.find(open).map_or(0, |i| i + open.len());
        let end = html[start..].find(close).map_or(start, |i| start + i);
        let digest = Sha256::digest(&html.as_bytes()[start..end]);
        format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    };
    let csp = format!(
        "default-src 'none'; script-src {}; style-src {}; img-src data:; connect-src 'self'; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        hash("<script>", "</script>"),
        hash("<style>", "</style>")
    );
    let mut page = Response::from_html(html)?;
    let headers = page.headers_mut();
    headers.set("Content-Security-Policy", &csp)?;
    headers.set("Cache-Control", "no-store")?;
    headers.set("X-Content-Type-Options", "nosniff")?;
    Ok(page)
}
