//! Pending challenges in KV, with TTLs: a login waiting for its second factor, and a
//! TOTP enrolment waiting for its first code. KV only remembers them; whatever must be
//! exact about them (single use, attempt counts) is decided in D1.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::{internal, started, Kv};
use crate::error::ApiError;

/// The password step is done; the second factor is pending. Carries what login/mfa
/// needs so that it reads KV once and D1 not at all before its single batch.
#[derive(Debug, Serialize, Deserialize)]
pub struct MfaChallenge {
    pub user_id: String,
    pub username: String,
    pub email: Option<String>,
    /// The sealed TOTP secret as stored in D1 at login time.
    pub totp_secret: String,
    pub totp_enabled_at: i64,
    pub auth_time: i64,
    pub expires_at: i64,
}

/// A TOTP secret shown to the user but not yet confirmed with a code.
#[derive(Debug, Serialize, Deserialize)]
pub struct Enrollment {
    pub totp_secret: String,
    pub expires_at: i64,
}

pub trait Challenge: Serialize + DeserializeOwned {
    fn expires_at(&self) -> i64;
}

impl Challenge for MfaChallenge {
    fn expires_at(&self) -> i64 {
        self.expires_at
    }
}

impl Challenge for Enrollment {
    fn expires_at(&self) -> i64 {
        self.expires_at
    }
}

pub fn mfa_key(token_hash: &str) -> String {
    format!("mfa:{token_hash}")
}

pub fn enrollment_key(user_id: &str) -> String {
    format!("enroll:{user_id}")
}

impl Kv {
    pub async fn put<T: Challenge>(&self, key: &str, value: &T, ttl: i64) -> Result<(), ApiError> {
        let json = serde_json::to_string(value).map_err(internal("encode challenge"))?;
        let t = started();
        let result = async {
            self.inner
                .put(key, json)
                .map_err(internal("kv put"))?
                // KV refuses TTLs under 60 s.
                .expiration_ttl(ttl.max(60) as u64)
                .execute()
                .await
                .map_err(internal("kv put"))
        }
        .await;
        self.timings.record("kv", "put", t);
        result
    }

    /// Reads a challenge, treating one past its own deadline as absent (KV expiry is lazy).
    pub async fn get<T: Challenge>(&self, key: &str, now: i64) -> Result<Option<T>, ApiError> {
        let t = started();
        let value: Result<Option<T>, ApiError> =
            self.inner.get(key).json().await.map_err(internal("kv get"));
        self.timings.record("kv", "get", t);
        Ok(value?.filter(|v| v.expires_at() > now))
    }

    pub async fn delete(&self, key: &str) -> Result<(), ApiError> {
        let t = started();
        let result = self.inner.delete(key).await.map_err(internal("kv delete"));
        self.timings.record("kv", "delete", t);
        result
    }
}
