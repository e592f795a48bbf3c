//! Request extraction shared by the routes: the JSON body (size limit, shape), the
//! bearer token, and the aal2 requirement.

use serde::de::DeserializeOwned;
use worker::js_sys::{Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::ReadableStreamDefaultReader;
use worker::Request;

use crate::api::media;
use crate::domain::email::Email;
use crate::domain::factors::Submitted;
use crate::domain::tokens::AccessClaims;
use crate::error::ApiError;
use crate::services::{access, Ctx};

pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Reads and decodes a JSON body. Extra fields are ignored (never honoured); wrong
/// types and missing fields are 400s. An empty body (zero bytes) reads as `{}` so that routes whose
/// fields are all optional accept no body at all. A body must be declared
/// `application/json` (415 otherwise, before anything is read), and it is read as a
/// stream that stops at 16 KiB (413), whether or not a Content-Length was sent.
pub async fn json<T: DeserializeOwned>(req: &mut Request) -> Result<T, ApiError> {
    let headers = req.headers();
    let content_type = headers.get("content-type").ok().flatten();
    if content_type.as_deref().is_some_and(|t| !media::is_json(t)) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let declared = headers
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(ApiError::PayloadTooLarge);
    }
    let bytes = read_at_most(req, MAX_BODY_BYTES).await?;
    // Only no body at all: whitespace is a body, and it is not a JSON object.
    let bytes: &[u8] = if bytes.is_empty() {
        b"{}"
    } else if content_type.is_none() {
        return Err(ApiError::UnsupportedMediaType);
    } else {
        &bytes
    };
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|_| ApiError::InvalidRequest("request body is not valid JSON".into()))?;
    if !value.is_object() {
        return Err(ApiError::InvalidRequest(
            "request body must be a JSON object".into(),
        ));
    }
    serde_json::from_value(value).map_err(|e| ApiError::InvalidRequest(describe(&e)))
}

/// The body, chunk by chunk, refused as soon as it passes `limit` bytes: a chunked upload
/// without a length is never buffered whole. It reads through the runtime's own
/// `ReadableStreamDefaultReader` (no Rust stream adapter in the WASM).
async fn read_at_most(req: &Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    let unreadable = || ApiError::InvalidRequest("could not read the request body".into());
    let Some(stream) = req.inner().body() else {
        return Ok(Vec::new());
    };
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut body = Vec::new();
    loop {
        let step = JsFuture::from(reader.read())
            .await
            .map_err(|_| unreadable())?;
        let done = Reflect::get(&step, &JsValue::from_str("done")).map_err(|_| unreadable())?;
        if done.is_truthy() {
            return Ok(body);
        }
        let chunk: Uint8Array = Reflect::get(&step, &JsValue::from_str("value"))
            .map_err(|_| unreadable())?
            .dyn_into()
            .map_err(|_| unreadable())?;
        if body.len() + chunk.length() as usize > limit {
            // Tell the sender to stop; the answer does not wait for it.
            let _ = reader.cancel();
            return Err(ApiError::PayloadTooLarge);
        }
        let at = body.len();
        body.resize(at + chunk.length() as usize, 0);
        chunk.copy_to(&mut body[at..]);
    }
}

/// serde's messages can quote the offending value (a password sent as a number, say);
/// only the shapes that name a field, never a value, are passed on.
fn describe(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if text.starts_with("missing field") {
        text
    } else {
        "a field has the wrong type: every field is a string".into()
    }
}

/// The verified claims of the `Authorization: Bearer` access token.
/// An email address from a request body; a malformed one is 400 `invalid_request`.
pub fn email(raw: &str) -> Result<Email, ApiError> {
    Email::parse(raw).map_err(|m| ApiError::InvalidRequest(m.into()))
}

pub fn bearer(req: &Request, ctx: &Ctx) -> Result<AccessClaims, ApiError> {
    let header = req
        .headers()
        .get("authorization")
        .ok()
        .flatten()
        .ok_or(ApiError::InvalidToken)?;
    let (scheme, token) = header.split_once(' ').ok_or(ApiError::InvalidToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::InvalidToken);
    }
    Ok(access::authenticate(ctx, token.trim())?)
}

/// Factor changes need proof of a second factor in this session (RFC 9470 step-up).
pub fn require_aal2(req: &Request, ctx: &Ctx) -> Result<AccessClaims, ApiError> {
    let claims = bearer(req, ctx)?;
    access::require_aal2(ctx, &claims)?;
    Ok(claims)
}

/// Exactly one of `code` / `recovery_code`, well-formed.
pub fn second_factor(code: Option<&str>, recovery: Option<&str>) -> Result<Submitted, ApiError> {
    Submitted::parse(code, recovery).map_err(|m| ApiError::InvalidRequest(m.into()))
}

/// At most one of `code` / `recovery_code` (routes where the second factor is needed
/// only when 2FA is on); `None` when neither was sent.
pub fn optional_second_factor(
    code: Option<&str>,
    recovery: Option<&str>,
) -> Result<Option<Submitted>, ApiError> {
    match (code, recovery) {
        (None, None) => Ok(None),
        (code, recovery) => second_factor(code, recovery).map(Some),
    }
}
