//! The API contract in one place: the route table, the request and response bodies as
//! typed structs, and (natively) the OpenAPI document generated from them.
//!
//! The bodies derive their JSON Schema with `schemars`. Only the native generator in
//! `openapi/` ever asks for a schema, so inside the Worker that code is never reached and
//! the linker leaves it out of the WASM.

pub mod media;
pub mod requests;
pub mod responses;
mod routes;
pub mod schema;

#[cfg(not(target_arch = "wasm32"))]
pub mod openapi;

pub use routes::{parameter, route, ROUTES};
