//! What a storage call can fail with. Always an internal failure for the caller: the
//! detail is for the log, never for a response body.

use std::fmt;

#[derive(Debug)]
pub struct StoreError {
    /// The round trip or step that failed (`"users.by_id"`, `"kv put"`, ...).
    pub what: &'static str,
    pub detail: String,
}

impl StoreError {
    pub fn new(what: &'static str, detail: impl Into<String>) -> Self {
        Self {
            what,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.detail)
    }
}

/// `map_err(internal("label"))` for any displayable runtime error.
pub fn internal<E: fmt::Display>(what: &'static str) -> impl Fn(E) -> StoreError {
    move |e| StoreError::new(what, e.to_string())
}
