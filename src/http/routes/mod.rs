//! The route table. Each handler parses, calls the core, calls the store, renders.

mod grant;
mod login;
mod meta;
mod register;
mod session;
mod totp;

use worker::{Method, Request};

use super::{App, Reply};
use crate::error::ApiError;

/// A handled request: the reply and, when known, the user it acted for (for the log).
pub type Handled = (Reply, Option<String>);

pub async fn dispatch(req: Request, app: &App) -> Result<Handled, ApiError> {
    let path = req.path();
    let method = req.method();
    let allowed = match path.as_str() {
        "/health" | "/.well-known/jwks.json" | "/v1/me" => "GET",
        "/v1/register"
        | "/v1/login"
        | "/v1/login/mfa"
        | "/v1/token/refresh"
        | "/v1/logout"
        | "/v1/2fa/totp/enroll"
        | "/v1/2fa/totp/confirm" => "POST",
        _ => return Err(ApiError::NotFound),
    };
    let is_allowed = match allowed {
        "GET" => matches!(method, Method::Get | Method::Head),
        _ => method == Method::Post,
    };
    if !is_allowed {
        return Err(ApiError::MethodNotAllowed(allowed));
    }
    match path.as_str() {
        "/health" => Ok((meta::health(), None)),
        "/.well-known/jwks.json" => Ok((meta::jwks(app)?, None)),
        "/v1/register" => register::register(req, app).await,
        "/v1/login" => login::login(req, app).await,
        "/v1/login/mfa" => login::login_mfa(req, app).await,
        "/v1/token/refresh" => session::refresh(req, app).await,
        "/v1/logout" => session::logout(req, app).await,
        "/v1/me" => session::me(&req, app),
        "/v1/2fa/totp/enroll" => totp::enroll(req, app).await,
        "/v1/2fa/totp/confirm" => totp::confirm(req, app).await,
        _ => Err(ApiError::NotFound),
    }
}

/// Paths are logged as routes; anything else is logged as "unmatched" so that a
/// token pasted into a URL by mistake never reaches the log.
pub fn log_path(path: &str) -> &str {
    match path {
        "/health"
        | "/.well-known/jwks.json"
        | "/v1/me"
        | "/v1/register"
        | "/v1/login"
        | "/v1/login/mfa"
        | "/v1/token/refresh"
        | "/v1/logout"
        | "/v1/2fa/totp/enroll"
        | "/v1/2fa/totp/confirm" => path,
        _ => "unmatched",
    }
}
