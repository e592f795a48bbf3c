//! Ed25519 signing with the runtime's WebCrypto (`crypto.subtle`), for access tokens.
//!
//! The seeds of `JWT_SIGNING_KEYS` are imported once per isolate. Signing here rather than
//! in Rust keeps the Ed25519 signing code and its 30 KB table of base-point multiples out
//! of the WASM (about 35 KB gzip), and the runtime's native code is faster. Verifying
//! stays in Rust (`edge_login_verifier`, synchronous, behind the verified-token cache).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use worker::js_sys::{Array, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen_futures::JsFuture;
use zeroize::Zeroizing;

use super::StoreError;
use crate::domain::keys::KeyEntry;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = importKey, catch)]
    fn import_key(
        format: &str,
        data: &Uint8Array,
        algorithm: &str,
        extractable: bool,
        usages: &Array,
    ) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = exportKey, catch)]
    fn export_key(format: &str, key: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = sign, catch)]
    fn sign(algorithm: &str, key: &JsValue, data: &Uint8Array) -> Result<Promise, JsValue>;
}

const ALGORITHM: &str = "Ed25519";

/// RFC 8410's PKCS #8 wrapping of a 32-byte Ed25519 private key (the seed follows).
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

fn failed(what: &'static str) -> impl Fn(JsValue) -> StoreError {
    move |e| StoreError::new(what, format!("{e:?}"))
}

async fn call(
    what: &'static str,
    promise: Result<Promise, JsValue>,
) -> Result<JsValue, StoreError> {
    JsFuture::from(promise.map_err(failed(what))?)
        .await
        .map_err(failed(what))
}

struct Key {
    kid: String,
    /// Non-extractable, for signing only.
    private: JsValue,
    public: [u8; 32],
}

pub struct Signer {
    keys: Vec<Key>,
}

impl Signer {
    /// Imports every seed: once extractable, to read its public key, and once not, to sign.
    pub async fn load(seeds: &[KeyEntry]) -> Result<Self, StoreError> {
        let mut keys = Vec::with_capacity(seeds.len());
        for seed in seeds {
            let mut pkcs8 = Zeroizing::new(PKCS8_PREFIX.to_vec());
            pkcs8.extend_from_slice(&seed.key[..]);
            let data = Uint8Array::from(&pkcs8[..]);
            let sign_only = Array::of1(&JsValue::from_str("sign"));
            let readable = call(
                "import signing key",
                import_key("pkcs8", &data, ALGORITHM, true, &sign_only),
            )
            .await?;
            let jwk = call("export signing key", export_key("jwk", &readable)).await?;
            let x = Reflect::get(&jwk, &JsValue::from_str("x"))
                .ok()
                .and_then(|x| x.as_string())
                .and_then(|x| URL_SAFE_NO_PAD.decode(x).ok())
                .and_then(|x| <[u8; 32]>::try_from(x).ok())
                .ok_or_else(|| StoreError::new("export signing key", "no 32-byte x in the JWK"))?;
            let private = call(
                "import signing key",
                import_key("pkcs8", &data, ALGORITHM, false, &sign_only),
            )
            .await?;
            // The JS copy of the seed: overwritten now, not whenever it is collected.
            data.fill(0, 0, data.length());
            keys.push(Key {
                kid: seed.kid.clone(),
                private,
                public: x,
            });
        }
        Ok(Self { keys })
    }

    pub fn public_key(&self, kid: &str) -> Option<[u8; 32]> {
        self.keys.iter().find(|k| k.kid == kid).map(|k| k.public)
    }

    /// The 64-byte Ed25519 signature of `data` under the key `kid`.
    pub async fn sign(&self, kid: &str, data: &[u8]) -> Result<Vec<u8>, StoreError> {
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| StoreError::new("sign", "no key with that kid"))?;
        let signature = call(
            "sign",
            sign(ALGORITHM, &key.private, &Uint8Array::from(data)),
        )
        .await?;
        Ok(Uint8Array::new(&signature).to_vec())
    }
}
