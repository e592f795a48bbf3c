//! Encryption at rest for TOTP secrets: AES-256-GCM with the owner's user id as
//! associated data, so a ciphertext copied onto another user's row fails to decrypt.
//!
//! Stored form: `kid.base64url(nonce || ciphertext || tag)`. The kid lets old keys keep
//! decrypting after rotation while new writes use the newest key.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use zeroize::Zeroizing;

use super::keys::KeyEntry;
use super::random;

pub struct SecretBox {
    /// Newest first.
    keys: Vec<(String, Aes256Gcm)>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum OpenError {
    UnknownKey,
    Corrupt,
}

/// Why a `SecretBox` could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretBoxError {
    /// The key list is empty.
    NoKeys,
}

impl std::fmt::Display for SecretBoxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoKeys => f.write_str("no encryption keys"),
        }
    }
}

impl std::error::Error for SecretBoxError {}

pub struct Opened {
    pub plaintext: Zeroizing<Vec<u8>>,
    /// True when sealed under an older key: the caller should re-seal and store.
    pub stale_key: bool,
}

impl SecretBox {
    pub fn new(keys: &[KeyEntry]) -> Result<Self, SecretBoxError> {
        if keys.is_empty() {
            return Err(SecretBoxError::NoKeys);
        }
        Ok(Self {
            keys: keys
                .iter()
                .map(|k| (k.kid.clone(), Aes256Gcm::new((&*k.key).into())))
                .collect(),
        })
    }

    /// The kid new seals carry: a stored secret under any other kid is due for re-sealing.
    pub fn newest_kid(&self) -> &str {
        &self.keys[0].0
    }

    pub fn seal(&self, plaintext: &[u8], associated: &str) -> String {
        let (kid, cipher) = &self.keys[0];
        let nonce = random::bytes::<12>();
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: associated.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of a small buffer cannot fail");
        let mut blob = Vec::with_capacity(12 + ct.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ct);
        format!("{kid}.{}", URL_SAFE_NO_PAD.encode(blob))
    }

    pub fn open(&self, sealed: &str, associated: &str) -> Result<Opened, OpenError> {
        let (kid, b64) = sealed.split_once('.').ok_or(OpenError::Corrupt)?;
        let index = self
            .keys
            .iter()
            .position(|(k, _)| k == kid)
            .ok_or(OpenError::UnknownKey)?;
        let blob = URL_SAFE_NO_PAD
            .decode(b64)
            .map_err(|_| OpenError::Corrupt)?;
        if blob.len() < 12 + 16 {
            return Err(OpenError::Corrupt);
        }
        let (nonce, ct) = blob.split_at(12);
        let plaintext = self.keys[index]
            .1
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: associated.as_bytes(),
                },
            )
            .map_err(|_| OpenError::Corrupt)?;
        Ok(Opened {
            plaintext: Zeroizing::new(plaintext),
            stale_key: index != 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::keys::{parse_key_list, test_key_list};

    fn boxed(kids: &[&str]) -> SecretBox {
        SecretBox::new(&parse_key_list("K", &test_key_list(kids)).unwrap()).unwrap()
    }

    #[test]
    fn roundtrip_with_associated_data() {
        let b = boxed(&["k1"]);
        let sealed = b.seal(b"secret", "user-1");
        assert!(sealed.starts_with("k1."));
        let opened = b.open(&sealed, "user-1").unwrap();
        assert_eq!(&*opened.plaintext, b"secret");
        assert!(!opened.stale_key);
        assert_ne!(b.seal(b"secret", "user-1"), sealed, "nonce must be fresh");
    }

    #[test]
    fn bound_to_its_owner() {
        let b = boxed(&["k1"]);
        let sealed = b.seal(b"secret", "user-1");
        assert_eq!(b.open(&sealed, "user-2").err(), Some(OpenError::Corrupt));
    }

    #[test]
    fn tampering_is_detected() {
        let b = boxed(&["k1"]);
        let sealed = b.seal(b"secret", "u");
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(b.open(&tampered, "u").is_err());
        assert_eq!(b.open("garbage", "u").err(), Some(OpenError::Corrupt));
        assert_eq!(b.open("zz.AAAA", "u").err(), Some(OpenError::UnknownKey));
    }

    #[test]
    fn old_keys_still_open_and_are_flagged() {
        let old = boxed(&["k1"]);
        let sealed = old.seal(b"secret", "u");
        // Rotation: the new key is listed first, the old one stays.
        let rotated = SecretBox::new(&{
            let mut keys = parse_key_list("K", &test_key_list(&["k2"])).unwrap();
            keys.extend(parse_key_list("K", &test_key_list(&["k1"])).unwrap());
            keys
        })
        .unwrap();
        let opened = rotated.open(&sealed, "u").unwrap();
        assert_eq!(&*opened.plaintext, b"secret");
        assert!(opened.stale_key);
        assert!(rotated.seal(b"x", "u").starts_with("k2."));
    }

    #[test]
    fn needs_a_key() {
        let err = SecretBox::new(&[]).err().unwrap();
        assert_eq!(err, SecretBoxError::NoKeys);
        assert_eq!(err.to_string(), "no encryption keys");
    }
}
