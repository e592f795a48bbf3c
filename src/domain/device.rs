//! Device tokens, after OWASP's "device cookies": a client that has logged in to an
//! account gets a token naming that device, and later password attempts from it are
//! throttled on the device's own counter. A stranger who keeps the username's counter
//! locked with one guess per window then delays only other strangers.
//!
//! The token is `dvt_<kid>.<device id>.<issued at>.<mac>`, the MAC an HMAC-SHA-256
//! under a `DEVICE_TOKEN_KEYS` key over the same fields plus the canonical username,
//! so it carries no name and works for that account only. It grants nothing by itself:
//! the password is still checked, and the hard cap still counts its failures.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::keys::KeyEntry;
use super::random;

pub const PREFIX: &str = "dvt_";
/// A token not renewed by a login for this long stops counting as a known device.
pub const DEVICE_TOKEN_TTL: i64 = 90 * 86_400;
/// Clock skew tolerated on `issued at` (the isolates' clocks, not the client's).
const SKEW: i64 = 60;
const ID_LEN: usize = 22; // base64url of 16 bytes
const MAC_LEN: usize = 43; // base64url of 32 bytes
/// Longer input is not a token we issued; refused before any work.
pub const MAX_LEN: usize = 256;

/// A device the account has seen log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceId(String);

impl DeviceId {
    pub fn generate() -> Self {
        Self(URL_SAFE_NO_PAD.encode(random::bytes::<16>()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// One this service generated and kept (in a pending login challenge).
    pub fn from_stored(id: String) -> Self {
        Self(id)
    }
}

/// A token as handed to the client.
pub struct DeviceToken(Zeroizing<String>);

impl DeviceToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceToken(REDACTED)")
    }
}

/// The keys, newest first: the first signs, all verify.
pub struct DeviceTokens {
    keys: Vec<KeyEntry>,
}

impl DeviceTokens {
    /// `keys` is a parsed, non-empty key list.
    pub fn new(keys: Vec<KeyEntry>) -> Self {
        Self { keys }
    }

    pub fn issue(&self, device: &DeviceId, username: &str, now: i64) -> DeviceToken {
        let key = &self.keys[0];
        let mac = mac(key, device.as_str(), now, username);
        DeviceToken(Zeroizing::new(format!(
            "{PREFIX}{}.{}.{now}.{}",
            key.kid,
            device.as_str(),
            URL_SAFE_NO_PAD.encode(mac)
        )))
    }

    /// The device, if `raw` is a token we issued for `username` that is not too old.
    /// Anything else (junk, another account's token, an expired one, a retired key) is
    /// `None`: the client is then a stranger, and nothing else changes.
    pub fn verify(&self, raw: &str, username: &str, now: i64) -> Option<DeviceId> {
        if raw.len() > MAX_LEN {
            return None;
        }
        // From the right: a kid may itself contain dots.
        let mut parts = raw.strip_prefix(PREFIX)?.rsplitn(4, '.');
        let (tag, issued, id, kid) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if id.len() != ID_LEN || tag.len() != MAC_LEN {
            return None;
        }
        let issued: i64 = issued.parse().ok()?;
        if issued > now + SKEW || now - issued > DEVICE_TOKEN_TTL {
            return None;
        }
        let key = self.keys.iter().find(|k| k.kid == kid)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let m = hmac_for(key, id, issued, username);
        // verify_slice compares in constant time.
        m.verify_slice(&tag).ok()?;
        Some(DeviceId(id.to_owned()))
    }
}

fn hmac_for(key: &KeyEntry, id: &str, issued: i64, username: &str) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(&*key.key).expect("any key length");
    for part in [b"dvt1".as_slice(), key.kid.as_bytes(), id.as_bytes()] {
        m.update(part);
        m.update(b"\0");
    }
    m.update(issued.to_string().as_bytes());
    m.update(b"\0");
    m.update(username.as_bytes());
    m
}

fn mac(key: &KeyEntry, id: &str, issued: i64, username: &str) -> [u8; 32] {
    hmac_for(key, id, issued, username)
        .finalize()
        .into_bytes()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::keys::{parse_key_list, test_key_list};

    fn tokens(kids: &[&str]) -> DeviceTokens {
        DeviceTokens::new(parse_key_list("K", &test_key_list(kids)).unwrap())
    }

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_token_names_its_device_for_its_account_only() {
        let t = tokens(&["k1"]);
        let device = DeviceId::generate();
        let token = t.issue(&device, "alice", NOW);
        assert!(token.expose().starts_with("dvt_k1."));
        assert!(!token.expose().contains("alice"));
        assert_eq!(t.verify(token.expose(), "alice", NOW + 5), Some(device));
        assert_eq!(t.verify(token.expose(), "bob", NOW + 5), None);
    }

    #[test]
    fn old_tampered_and_foreign_tokens_are_strangers() {
        let t = tokens(&["k1"]);
        let token = t.issue(&DeviceId::generate(), "alice", NOW);
        let raw = token.expose();
        assert!(t.verify(raw, "alice", NOW + DEVICE_TOKEN_TTL).is_some());
        assert!(t.verify(raw, "alice", NOW + DEVICE_TOKEN_TTL + 1).is_none());
        assert!(t.verify(raw, "alice", NOW - SKEW - 1).is_none());
        // Another device id under the same MAC.
        let mut parts: Vec<&str> = raw.split('.').collect();
        let other = DeviceId::generate();
        parts[1] = other.as_str();
        assert!(t.verify(&parts.join("."), "alice", NOW).is_none());
        // A later issue time under the same MAC.
        let later = raw.replace(&format!(".{NOW}."), &format!(".{}.", NOW + 1));
        assert!(t.verify(&later, "alice", NOW + 1).is_none());
        // Another deployment's keys.
        let foreign = format!("k1:{}", "A".repeat(43));
        let foreign = DeviceTokens::new(parse_key_list("K", &foreign).unwrap());
        assert!(foreign.verify(raw, "alice", NOW).is_none());
        for junk in [
            "",
            "dvt_",
            "dvt_k1.a.b.c",
            &"x".repeat(MAX_LEN + 1),
            &format!("{raw}.x"),
        ] {
            assert!(t.verify(junk, "alice", NOW).is_none(), "{junk}");
        }
    }

    #[test]
    fn rotation_keeps_old_tokens_until_their_key_is_dropped() {
        let keys = |list: &str| DeviceTokens::new(parse_key_list("K", list).unwrap());
        let (old, new) = (
            format!("old:{}", "A".repeat(43)),
            format!("new:{}", "Q".repeat(43)),
        );
        let token = keys(&old).issue(&DeviceId::generate(), "alice", NOW);
        let both = keys(&format!("{new},{old}"));
        assert!(both.verify(token.expose(), "alice", NOW).is_some());
        assert!(both
            .issue(&DeviceId::generate(), "alice", NOW)
            .expose()
            .starts_with("dvt_new."));
        assert!(keys(&new).verify(token.expose(), "alice", NOW).is_none());
    }
}
