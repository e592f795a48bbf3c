//! The route table. Each handler parses the request into domain types, calls one
//! service, and renders its result; no route imports another, nor the store.

mod account;
mod factors;
mod login;
mod meta;
mod password_reset;
mod register;
mod session;
mod sessions;
mod totp;

use worker::Request;

use crate::api::{parameter, route};
use crate::error::ApiError;
use crate::http::Reply;
use crate::services::Ctx;

/// A handled request: the reply and, when known, the user it acted for (for the log).
pub type Handled = (Reply, Option<String>);

pub async fn dispatch(req: Request, ctx: &Ctx) -> Result<Handled, ApiError> {
    let path = crate::domain::text::url_path(&req.inner().url()).to_owned();
    let (template, allowed) = route(&path).ok_or(ApiError::NotFound)?;
    // The raw method: workers-rs reads any method it does not know (QUERY, PROPFIND,
    // ...) as GET, which would let them through to GET routes.
    let method = req.inner().method();
    let method_ok = method == *allowed || (*allowed == "GET" && method == "HEAD");
    if !method_ok {
        return Err(ApiError::MethodNotAllowed(allowed));
    }
    match *template {
        "/" | "/openapi.json" => Ok((meta::static_file(req, ctx).await?, None)),
        "/health" => Ok((meta::health(), None)),
        "/.well-known/jwks.json" => Ok((meta::jwks(ctx)?, None)),
        "/v1/register" => register::register(req, ctx).await,
        "/v1/login" => login::login(req, ctx).await,
        "/v1/login/mfa" => login::login_mfa(req, ctx).await,
        "/v1/token/refresh" => session::refresh(req, ctx).await,
        "/v1/logout" => session::logout(req, ctx).await,
        "/v1/me" => session::me(&req, ctx),
        "/v1/password" => account::change_password(req, ctx).await,
        "/v1/password/forgot" => password_reset::forgot(req, ctx).await,
        "/v1/password/reset" => password_reset::reset(req, ctx).await,
        "/v1/events" => account::events(&req, ctx).await,
        "/v1/email" => account::change_email(req, ctx).await,
        "/v1/email/verify" => account::verify_email(req, ctx).await,
        "/v1/account" => account::delete_account(req, ctx).await,
        "/v1/sessions" => sessions::list(&req, ctx).await,
        "/v1/sessions/revoke-others" => sessions::end(&req, ctx, None).await,
        "/v1/sessions/{id}" => {
            // Always `Some`: the template has the segment. Never `None`, which ends the others.
            let id = parameter(template, &path).unwrap_or_default();
            sessions::end(&req, ctx, Some(id)).await
        }
        "/v1/2fa" => factors::status(&req, ctx).await,
        "/v1/2fa/totp/enroll" => totp::enroll(req, ctx).await,
        "/v1/2fa/totp/confirm" => totp::confirm(req, ctx).await,
        "/v1/2fa/totp" => factors::disable_totp(req, ctx).await,
        "/v1/2fa/recovery-codes" => factors::regenerate_recovery_codes(req, ctx).await,
        _ => Err(ApiError::NotFound),
    }
}

/// `OPTIONS` on a route: a CORS preflight, naming the method the route answers.
pub fn preflight(path: &str) -> Result<Reply, ApiError> {
    let (_, method) = route(path).ok_or(ApiError::NotFound)?;
    Ok(Reply::no_content().header("Access-Control-Allow-Methods", *method))
}

/// Paths are logged as their route (`/v1/sessions/{id}`, never the id); anything else
/// is logged as "unmatched" so that a token pasted into a URL by mistake never reaches
/// the log.
pub fn log_path(path: &str) -> &'static str {
    route(path).map_or("unmatched", |(template, _)| template)
}
