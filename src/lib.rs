//! Edge login service: password + TOTP two-factor authentication issuing EdDSA JWTs.
//!
//! Layers, data flowing one way: `http` (thin routes: parse, call one service, render)
//! -> `services` (one file per flow) -> `domain` (the pure core: no `worker` types,
//! unit-tested natively) and `store` (the D1/KV adapters). `http`, `services` and most
//! of `store` exist only on wasm32; `store::sql` (the query builder) is native too.

pub mod api;
pub mod domain;
pub mod error;

// Natively only the query builder's tests use it.
#[cfg_attr(
    not(target_arch = "wasm32"),
    allow(dead_code, unused_imports, unused_macros)
)]
mod store;

#[cfg(target_arch = "wasm32")]
mod services;

#[cfg(target_arch = "wasm32")]
mod http;
