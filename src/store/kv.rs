//! The KV binding: JSON values with a TTL, one timed round trip per call.

use std::rc::Rc;

use serde::{de::DeserializeOwned, Serialize};
use worker::kv::KvStore;

use super::error::{internal, StoreError};
use super::timings::{started, Timings};

/// KV refuses TTLs under 60 s.
const MIN_TTL_SECONDS: i64 = 60;

/// A value that knows its own deadline: KV expiry is lazy, so reads check it again.
pub trait Expiring: Serialize + DeserializeOwned {
    fn expires_at(&self) -> i64;
}

/// The KV binding plus this request's timings.
pub struct Kv {
    inner: KvStore,
    timings: Rc<Timings>,
}

impl Kv {
    pub fn new(inner: KvStore, timings: Rc<Timings>) -> Self {
        Self { inner, timings }
    }

    pub(super) async fn put<T: Expiring>(
        &self,
        key: &str,
        value: &T,
        ttl: i64,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(value).map_err(internal("encode challenge"))?;
        let t = started();
        let result = async {
            // As bytes: `put` with a String goes through serde_wasm_bindgen and drags
            // float formatting into the WASM (about 4 KB gzip) for a value that is text.
            self.inner
                .put_bytes(key, json.as_bytes())
                .map_err(internal("kv put"))?
                .expiration_ttl(ttl.max(MIN_TTL_SECONDS) as u64)
                .execute()
                .await
                .map_err(internal("kv put"))
        }
        .await;
        self.timings.record("kv", "put", t);
        result
    }

    /// Reads a value, treating one past its own deadline as absent.
    pub(super) async fn get<T: Expiring>(
        &self,
        key: &str,
        now: i64,
    ) -> Result<Option<T>, StoreError> {
        let t = started();
        let value: Result<Option<T>, StoreError> =
            self.inner.get(key).json().await.map_err(internal("kv get"));
        self.timings.record("kv", "get", t);
        Ok(value?.filter(|v| v.expires_at() > now))
    }

    pub(super) async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let t = started();
        let result = self.inner.delete(key).await.map_err(internal("kv delete"));
        self.timings.record("kv", "delete", t);
        result
    }
}
