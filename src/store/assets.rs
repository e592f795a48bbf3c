//! Files from the Worker's static assets (`public/`) that the Worker itself reads.

use worker::js_sys::Uint8Array;
use worker::wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{web_sys, Env};

use super::StoreError;

/// Where `make build` puts the password blocklist (scripts/build-password-blocklist.py).
const BLOCKLIST_PATH: &str = "https://assets.invalid/passwords/blocklist.bin";

/// The bytes of the password blocklist: one fetch through the `ASSETS` binding.
///
/// Straight through the runtime's `fetch` and `arrayBuffer()`: worker's Response
/// wrapper and its body conversions cost the WASM more than this whole feature.
pub async fn password_blocklist(env: &Env) -> Result<Vec<u8>, StoreError> {
    let fail = |detail: &'static str| StoreError::new("assets.password_blocklist", detail);
    let fetcher = env
        .assets("ASSETS")
        .map_err(|_| fail("no ASSETS binding"))?;
    let fetcher: &worker::worker_sys::Fetcher = fetcher.unchecked_ref();
    let promise = fetcher
        .fetch_with_str(BLOCKLIST_PATH)
        .map_err(|_| fail("fetch refused"))?;
    let response: web_sys::Response = JsFuture::from(promise)
        .await
        .map_err(|_| fail("fetch failed"))?
        .unchecked_into();
    if response.status() != 200 {
        return Err(fail("not in the static assets (`make build` builds it)"));
    }
    let buffer = response
        .array_buffer()
        .map_err(|_| fail("arrayBuffer() refused"))?;
    let buffer = JsFuture::from(buffer)
        .await
        .map_err(|_| fail("reading the body failed"))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
