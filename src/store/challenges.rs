//! Pending challenges in KV, with TTLs: a login waiting for its second factor, and a
//! TOTP enrolment waiting for its first code. KV only remembers them; whatever must be
//! exact about them (single use, attempt counts) is decided in D1.

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use worker::kv::KvStore;

use super::internal;
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

pub fn mfa_key(token_hash: &str) -> String {
    format!("mfa:{token_hash}")
}

pub fn enrollment_key(user_id: &str) -> String {
    format!("enroll:{user_id}")
}

pub async fn put<T: Serialize>(
    kv: &KvStore,
    key: &str,
    value: &T,
    ttl: i64,
) -> Result<(), ApiError> {
    let json = serde_json::to_string(value).map_err(internal("encode challenge"))?;
    kv.put(key, json)
        .map_err(internal("kv put"))?
        .expiration_ttl(ttl.max(60) as u64)
        .execute()
        .await
        .map_err(internal("kv put"))
}

/// Reads a challenge, treating one past its own deadline as absent (KV expiry is lazy).
pub async fn get<T: DeserializeOwned + Expiring>(
    kv: &KvStore,
    key: &str,
    now: i64,
) -> Result<Option<T>, ApiError> {
    let value: Option<T> = kv.get(key).json().await.map_err(internal("kv get"))?;
    Ok(value.filter(|v| v.expires_at() > now))
}

pub async fn delete(kv: &KvStore, key: &str) -> Result<(), ApiError> {
    kv.delete(key).await.map_err(internal("kv delete"))
}

pub trait Expiring {
    fn expires_at(&self) -> i64;
}

impl Expiring for MfaChallenge {
    fn expires_at(&self) -> i64 {
        self.expires_at
    }
}

impl Expiring for Enrollment {
    fn expires_at(&self) -> i64 {
        self.expires_at
    }
}
