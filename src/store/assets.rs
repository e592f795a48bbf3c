//! Files from the Worker's static assets (`public/`) that the Worker itself reads.

use worker::js_sys::Uint8Array;
use worker::wasm_bindgen_futures::JsFuture;
use worker::Env;

use super::error::internal;
use super::StoreError;

/// Where `make build` puts the password blocklist (scripts/build-password-blocklist.py).
const BLOCKLIST_PATH: &str = "https://assets.invalid/passwords/blocklist.bin";

/// The bytes of the password blocklist: one fetch through the `ASSETS` binding.
pub async fn password_blocklist(env: &Env) -> Result<Vec<u8>, StoreError> {
    let what = "assets.password_blocklist";
    let response = env
        .assets("ASSETS")
        .map_err(internal(what))?
        .fetch(BLOCKLIST_PATH, None)
        .await
        .map_err(internal(what))?;
    if response.status_code() != 200 {
        return Err(StoreError::new(
            what,
            format!("status {} (was `make build` run?)", response.status_code()),
        ));
    }
    // Through the runtime's own arrayBuffer(): worker's `Response::bytes` reads a stream
    // body with a Rust stream adapter that costs the WASM about 4 KB.
    let buffer = worker::web_sys::Response::from(response)
        .array_buffer()
        .map_err(|e| StoreError::new(what, format!("{e:?}")))?;
    let buffer = JsFuture::from(buffer)
        .await
        .map_err(|e| StoreError::new(what, format!("{e:?}")))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
