//! Key lists from Worker secrets: `kid:base64url(32 bytes)`, comma-separated, newest
//! first. The newest key signs or encrypts; older keys stay for verification and
//! decryption while they are rotated out.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use zeroize::Zeroizing;

pub struct KeyEntry {
    pub kid: String,
    pub key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for KeyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyEntry({}, REDACTED)", self.kid)
    }
}

/// Parses a key list. Errors name the secret and the position, never the key material.
pub fn parse_key_list(name: &str, raw: &str) -> Result<Vec<KeyEntry>, String> {
    let mut out: Vec<KeyEntry> = Vec::new();
    for (i, item) in raw.split(',').map(str::trim).enumerate() {
        let (kid, b64) = item
            .split_once(':')
            .ok_or_else(|| format!("{name}: entry {i} is not kid:key"))?;
        if kid.is_empty()
            || kid.len() > 64
            || !kid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return Err(format!("{name}: entry {i} has an invalid kid"));
        }
        if out.iter().any(|e| e.kid == kid) {
            return Err(format!("{name}: kid {kid} appears twice"));
        }
        let bytes = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(b64.trim_end_matches('='))
                .map_err(|_| format!("{name}: key {kid} is not base64url"))?,
        );
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| format!("{name}: key {kid} must be 32 bytes"))?;
        out.push(KeyEntry {
            kid: kid.to_owned(),
            key: Zeroizing::new(key),
        });
    }
    Ok(out)
}

/// A single 32-byte key secret (base64url).
pub fn parse_single_key(name: &str, raw: &str) -> Result<Zeroizing<[u8; 32]>, String> {
    let bytes = Zeroizing::new(
        URL_SAFE_NO_PAD
            .decode(raw.trim().trim_end_matches('='))
            .map_err(|_| format!("{name} is not base64url"))?,
    );
    let key: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| format!("{name} must be 32 bytes"))?;
    Ok(Zeroizing::new(key))
}

#[cfg(test)]
pub(crate) fn test_key_list(kids: &[&str]) -> String {
    kids.iter()
        .enumerate()
        .map(|(i, kid)| format!("{kid}:{}", URL_SAFE_NO_PAD.encode([i as u8 + 1; 32])))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_newest_first() {
        let keys = parse_key_list("K", &test_key_list(&["new", "old"])).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].kid, "new");
        assert_eq!(*keys[1].key, [2u8; 32]);
    }

    #[test]
    fn rejects_bad_lists_without_echoing_keys() {
        let short = URL_SAFE_NO_PAD.encode([7u8; 16]);
        for bad in [
            "".to_string(),
            "nokid".to_string(),
            format!("k1:{short}"),
            "k1:!!!".to_string(),
            format!("bad kid:{}", URL_SAFE_NO_PAD.encode([1u8; 32])),
            test_key_list(&["a", "a"]),
        ] {
            let err = parse_key_list("K", &bad).unwrap_err();
            assert!(!err.contains(&short));
        }
    }

    #[test]
    fn single_key() {
        assert!(parse_single_key("R", &URL_SAFE_NO_PAD.encode([9u8; 32])).is_ok());
        assert!(parse_single_key("R", "abc").is_err());
    }
}
