//! Rendering: status, JSON, and the headers every response carries.

use serde_json::Value;
use worker::{Response, Result};

use crate::error::ApiError;

enum Body {
    Json(Value),
    Html(&'static str),
    /// A document compiled into the Worker, served as it is.
    Static(&'static str, &'static str),
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
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body: Body::Json(body),
            headers: vec![],
            internal: None,
        }
    }

    /// A static document with its content type.
    pub fn document(body: &'static str, content_type: &'static str) -> Self {
        Self {
            status: 200,
            body: Body::Static(body, content_type),
            headers: vec![],
            internal: None,
        }
    }

    /// A static page; `csp` is its Content-Security-Policy.
    pub fn html(page: &'static str, csp: String) -> Self {
        Self {
            status: 200,
            body: Body::Html(page),
            headers: vec![("Content-Security-Policy", csp)],
            internal: None,
        }
    }

    pub fn ok(body: Value) -> Self {
        Self::json(200, body)
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
        let mut reply = Self::json(error.status(), error.body());
        reply.headers = error.headers();
        if let ApiError::Internal(detail) = error {
            reply.internal = Some(ApiError::Internal(detail.clone()));
        }
        reply
    }

    pub fn render(self) -> Result<Response> {
        let mut response = match &self.body {
            Body::Json(body) => Response::from_json(body)?,
            Body::Html(page) => Response::from_html(*page)?,
            Body::Static(body, content_type) => {
                let mut r = Response::ok(*body)?;
                r.headers_mut().set("Content-Type", content_type)?;
                r
            }
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
