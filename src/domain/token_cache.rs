//! Access tokens this isolate has already verified.
//!
//! A client sends the same access token on every call for its whole lifetime, and the
//! Ed25519 check is most of what an authenticated read costs inside the Worker (about
//! 0.24 ms of WASM against microseconds for everything else on `/v1/me`). The cache is
//! keyed by the whole token string: a hit means these exact bytes already passed every
//! check of `TokenService::verify_uncached` against this isolate's keys, issuer and
//! audience, none of which change while the isolate lives. Only time can change the
//! answer, so the caller's time check (the verifier's `check_time`) runs again on every
//! hit. Only tokens that verified are stored, so nobody can fill the cache without valid
//! tokens, and it is bounded anyway.

use std::collections::HashMap;
use std::sync::Mutex;

use super::tokens::AccessClaims;

/// Enough for every client that an isolate serves within a token lifetime in practice; at
/// roughly 1 KB per entry, a full cache is about 1 MB of the isolate's 128 MB.
pub const CAPACITY: usize = 1024;

#[derive(Default)]
pub struct VerifiedTokens {
    entries: Mutex<HashMap<String, AccessClaims>>,
}

impl VerifiedTokens {
    /// The remembered answer for this exact token, or None when it is not remembered.
    /// `in_time` decides whether the remembered claims are still valid now; an entry
    /// that is not is forgotten, and its error returned.
    pub fn lookup<E>(
        &self,
        token: &str,
        in_time: impl Fn(&AccessClaims) -> Result<(), E>,
    ) -> Option<Result<AccessClaims, E>> {
        let mut entries = self.lock();
        let claims = entries.get(token)?;
        if let Err(e) = in_time(claims) {
            entries.remove(token);
            return Some(Err(e));
        }
        Some(Ok(claims.clone()))
    }

    /// Remembers a token that has just verified. When full, the entries that are no
    /// longer `in_time` go first and then, if that freed nothing, everything: a miss costs
    /// one signature check.
    pub fn remember(
        &self,
        token: &str,
        claims: &AccessClaims,
        in_time: impl Fn(&AccessClaims) -> bool,
    ) {
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.retain(|_, claims| in_time(claims));
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(token.to_owned(), claims.clone());
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, AccessClaims>> {
        // A panic while holding the lock aborts the isolate (panic = "abort"); natively, a
        // poisoned map is still a consistent map.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
