//! Rendering: status, JSON, and the headers every response carries.

use serde::Serialize;
use worker::{Response, ResponseBuilder, Result};

use crate::error::ApiError;

enum Body {
    /// Serialised when the reply is made, straight from the typed body (no `Value` in
    /// between).
    Json(String),
    /// A response produced elsewhere (the static assets), passed on.
    Forwarded(Response),
    Empty,
}

pub struct Reply {
    pub status: u16,
    body: Body,
    headers: Vec<(&'static str, String)>,
    /// Kept so the entry point can log the detail that the body leaves out.
    pub internal: Option<ApiError>,
}

impl Reply {
    pub fn json(status: u16, body: &impl Serialize) -> Self {
        match serde_json::to_string(body) {
            Ok(text) => Self {
                status,
                body: Body::Json(text),
                headers: vec![],
                internal: None,
            },
            Err(e) => Self::error(&ApiError::Internal(format!("serialising a reply: {e}"))),
        }
    }

    /// A body that is JSON text already.
    pub fn json_text(status: u16, text: String) -> Self {
        Self {
            status,
            body: Body::Json(text),
            headers: vec![],
            internal: None,
        }
    }

    pub fn ok(body: &impl Serialize) -> Self {
        Self::json(200, body)
    }

    pub fn forwarded(response: Response) -> Self {
        Self {
            status: response.status_code(),
            body: Body::Forwarded(response),
            headers: vec![],
            internal: None,
        }
    }

    pub fn no_content() -> Self {
        Self {
            status: 204,
            body: Body::Empty,
            headers: vec![],
            internal: None,
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn error(error: &ApiError) -> Self {
        let mut reply = Self::json(error.status(), &error.error_body());
        reply.headers = error.headers();
        match error {
            ApiError::Internal(detail) => reply.internal = Some(ApiError::Internal(detail.clone())),
            ApiError::Unavailable(detail) => {
                reply.internal = Some(ApiError::Unavailable(detail.clone()))
            }
            _ => {}
        }
        reply
    }

    pub fn render(self) -> Result<Response> {
        let mut response = match self.body {
            Body::Json(text) => ResponseBuilder::new()
                .with_header("Content-Type", "application/json")?
                .fixed(text.into_bytes()),
            // Passed on as it came, with the headers public/_headers gave it.
            Body::Forwarded(response) => return Ok(response),
            Body::Empty => Response::empty()?,
        }
        .with_status(self.status);
        let headers = response.headers_mut();
        headers.set("X-Content-Type-Options", "nosniff")?;
        // Tokens, secrets and personal data must not be stored by any cache; routes
        // that are safe to cache say so explicitly.
        if !self.headers.iter().any(|(n, _)| *n == "Cache-Control") {
            headers.set("Cache-Control", "no-store")?;
        }
        for (name, value) in &self.headers {
            headers.set(name, value)?;
        }
        Ok(response)
    }
}
