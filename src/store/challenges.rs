//! Pending challenges in KV, with TTLs: a login waiting for its second factor, and a
//! TOTP enrolment waiting for its first code. KV only remembers them; whatever must be
//! exact about them (single use, attempt counts) is decided in D1.

use serde::{Deserialize, Serialize};

use super::kv::{Expiring, Kv};
use super::StoreError;

/// The password step is done; the second factor is pending. Carries what login/mfa
/// needs so that it reads KV once and D1 not at all before its single batch.
#[derive(Debug, Serialize, Deserialize)]
pub struct MfaChallenge {
    pub user_id: String,
    pub username: String,
    /// Verified only.
    #[serde(default)]
    pub email: Option<String>,
    /// The sealed TOTP secret as stored in D1 at login time.
    pub totp_secret: String,
    pub totp_enabled_at: i64,
    pub auth_time: i64,
    pub expires_at: i64,
    /// The device the password step came from, to be named in the token of a finished login.
    #[serde(default)]
    pub device_id: Option<String>,
    /// The login came without a valid device token (a notice goes out on success).
    #[serde(default)]
    pub new_device: bool,
}

/// A TOTP secret shown to the user but not yet confirmed with a code.
#[derive(Debug, Serialize, Deserialize)]
pub struct Enrollment {
    /// Random (128 bits): names this enrolment's attempt counter in D1. A record
    /// written before it existed reads as empty and counts as expired.
    #[serde(default)]
    pub id: String,
    pub totp_secret: String,
    pub expires_at: i64,
}

/// What a password reset needs of its account, stored when the code is mailed so that
/// the reset itself reads KV once and D1 not at all before its single batch. Exact while
/// the code is usable: the username never changes, and a TOTP change spends the
/// account's reset codes. A miss (KV is eventually consistent) falls back to D1.
#[derive(Debug, Serialize, Deserialize)]
pub struct ResetChallenge {
    pub user_id: String,
    pub username: String,
    /// The sealed TOTP secret while TOTP is on.
    #[serde(default)]
    pub totp_secret: Option<String>,
    pub expires_at: i64,
}

impl Expiring for ResetChallenge {
    fn expires_at(&self) -> i64 {
        self.expires_at
    }
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

fn mfa_key(token_hash: &str) -> String {
    format!("mfa:{token_hash}")
}

fn reset_key(code_hash: &str) -> String {
    format!("reset:{code_hash}")
}

pub async fn save_reset_challenge(
    kv: &Kv,
    code_hash: &str,
    challenge: &ResetChallenge,
    ttl: i64,
) -> Result<(), StoreError> {
    kv.put(&reset_key(code_hash), challenge, ttl).await
}

pub async fn reset_challenge(
    kv: &Kv,
    code_hash: &str,
    now: i64,
) -> Result<Option<ResetChallenge>, StoreError> {
    kv.get(&reset_key(code_hash), now).await
}

pub async fn forget_reset_challenge(kv: &Kv, code_hash: &str) -> Result<(), StoreError> {
    kv.delete(&reset_key(code_hash)).await
}

fn enrollment_key(user_id: &str) -> String {
    format!("enroll:{user_id}")
}

pub async fn save_mfa_challenge(
    kv: &Kv,
    token_hash: &str,
    challenge: &MfaChallenge,
    ttl: i64,
) -> Result<(), StoreError> {
    kv.put(&mfa_key(token_hash), challenge, ttl).await
}

pub async fn mfa_challenge(
    kv: &Kv,
    token_hash: &str,
    now: i64,
) -> Result<Option<MfaChallenge>, StoreError> {
    kv.get(&mfa_key(token_hash), now).await
}

pub async fn forget_mfa_challenge(kv: &Kv, token_hash: &str) -> Result<(), StoreError> {
    kv.delete(&mfa_key(token_hash)).await
}

pub async fn save_enrollment(
    kv: &Kv,
    user_id: &str,
    enrollment: &Enrollment,
    ttl: i64,
) -> Result<(), StoreError> {
    kv.put(&enrollment_key(user_id), enrollment, ttl).await
}

pub async fn enrollment(
    kv: &Kv,
    user_id: &str,
    now: i64,
) -> Result<Option<Enrollment>, StoreError> {
    kv.get(&enrollment_key(user_id), now).await
}

pub async fn forget_enrollment(kv: &Kv, user_id: &str) -> Result<(), StoreError> {
    kv.delete(&enrollment_key(user_id)).await
}
