//! `bench_op(name, n)` runs one of edge-login's hot operations `n` times (benches/common/ops.rs)
//! and returns a short text, or None for an unknown operation. scripts/bench-wasm-ops.sh puts
//! a small JavaScript entry in front of it: `GET /op?name=<op>&n=<iterations>`.
//!
//! The client times the request and subtracts `name=noop`: a Worker's clock is coarse (1 ms
//! locally) or frozen while code runs (on Cloudflare), so the Worker cannot time itself. Operations: noop, totp_verify,
//! jwt_sign, jwt_verify, jwt_verify_cached, argon2id_hash, argon2id_verify.
//!
//! Not a Worker of its own in Rust terms: linking edge-login brings its `fetch` export along,
//! so this crate exports a differently named function instead of an `#[event(fetch)]`.

use std::cell::OnceCell;

use wasm_bindgen::prelude::wasm_bindgen;

#[path = "../../common/ops.rs"]
mod ops;

thread_local! {
    static FIXTURE: OnceCell<ops::Fixture> = const { OnceCell::new() };
}

#[wasm_bindgen]
pub fn bench_op(name: &str, n: u32) -> Option<String> {
    let acc = FIXTURE.with(|f| f.get_or_init(ops::Fixture::new).run(name, n))?;
    Some(format!("{name} x{n}: {acc}\n"))
}
