//! Edge login service: password + TOTP two-factor authentication issuing EdDSA JWTs.
//!
//! `domain` is the pure core (no `worker` types; unit-tested natively). `store` and `http`
//! exist only on wasm32: the D1/KV adapters and the thin routes.

pub mod api;
pub mod domain;
pub mod error;

#[cfg(target_arch = "wasm32")]
mod store;

#[cfg(target_arch = "wasm32")]
mod http;
