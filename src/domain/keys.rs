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

/// Why a key secret was refused. Names the secret and the entry (or its kid), never the
/// key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// An entry of a key list without the `:` of `kid:key`.
    NotKidKey { secret: &'static str, entry: usize },
    /// A kid that is empty, longer than 64 bytes, or not `[A-Za-z0-9._-]`.
    InvalidKid { secret: &'static str, entry: usize },
    /// Two entries of one key list with the same kid.
    DuplicateKid { secret: &'static str, kid: String },
    /// A key that is not base64url; `kid` is `None` for a single-key secret.
    NotBase64 {
        secret: &'static str,
        kid: Option<String>,
    },
    /// A key that does not decode to 32 bytes; `kid` is `None` for a single-key secret.
    WrongLength {
        secret: &'static str,
        kid: Option<String>,
    },
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotKidKey { secret, entry } => {
                write!(f, "{secret}: entry {entry} is not kid:key")
            }
            Self::InvalidKid { secret, entry } => {
                write!(f, "{secret}: entry {entry} has an invalid kid")
            }
            Self::DuplicateKid { secret, kid } => write!(f, "{secret}: kid {kid} appears twice"),
            Self::NotBase64 {
                secret,
                kid: Some(kid),
            } => {
                write!(f, "{secret}: key {kid} is not base64url")
            }
            Self::NotBase64 { secret, kid: None } => write!(f, "{secret} is not base64url"),
            Self::WrongLength {
                secret,
                kid: Some(kid),
            } => {
                write!(f, "{secret}: key {kid} must be 32 bytes")
            }
            Self::WrongLength { secret, kid: None } => write!(f, "{secret} must be 32 bytes"),
        }
    }
}

impl std::error::Error for KeyError {}

/// Parses a key list from the secret `name`.
pub fn parse_key_list(name: &'static str, raw: &str) -> Result<Vec<KeyEntry>, KeyError> {
    let mut out: Vec<KeyEntry> = Vec::new();
    for (i, item) in raw.split(',').map(str::trim).enumerate() {
        let (kid, b64) = item.split_once(':').ok_or(KeyError::NotKidKey {
            secret: name,
            entry: i,
        })?;
        if kid.is_empty()
            || kid.len() > 64
            || !kid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return Err(KeyError::InvalidKid {
                secret: name,
                entry: i,
            });
        }
        if out.iter().any(|e| e.kid == kid) {
            return Err(KeyError::DuplicateKid {
                secret: name,
                kid: kid.to_owned(),
            });
        }
        let key = decode_key(b64).map_err(|wrong| wrong.error(name, Some(kid.to_owned())))?;
        out.push(KeyEntry {
            kid: kid.to_owned(),
            key,
        });
    }
    Ok(out)
}

/// A single 32-byte key secret (base64url) from the secret `name`.
pub fn parse_single_key(name: &'static str, raw: &str) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    decode_key(raw.trim()).map_err(|wrong| wrong.error(name, None))
}

/// A key and its kid, `None` for the bare key of a pre-list secret.
pub type OptionalKidKey = (Option<String>, Zeroizing<[u8; 32]>);

/// A key list that may also hold one bare key (no `kid:`), the format a secret had
/// before it became a list: what that key made stays readable without a kid. `None`
/// names the bare key.
pub fn parse_key_list_with_bare(
    name: &'static str,
    raw: &str,
) -> Result<Vec<OptionalKidKey>, KeyError> {
    let mut out = Vec::new();
    let mut listed = String::new();
    for item in raw.split(',').map(str::trim) {
        if item.contains(':') {
            if !listed.is_empty() {
                listed.push(',');
            }
            listed.push_str(item);
            out.push(None);
        } else {
            if out
                .iter()
                .any(|e: &Option<Zeroizing<[u8; 32]>>| e.is_some())
            {
                return Err(KeyError::DuplicateKid {
                    secret: name,
                    kid: "(bare key)".into(),
                });
            }
            out.push(Some(parse_single_key(name, item)?));
        }
    }
    let mut with_kid = if listed.is_empty() {
        Vec::new()
    } else {
        parse_key_list(name, &listed)?
    }
    .into_iter();
    Ok(out
        .into_iter()
        .map(|bare| match bare {
            Some(key) => (None, key),
            None => {
                let entry = with_kid.next().expect("one parsed entry per listed item");
                (Some(entry.kid), entry.key)
            }
        })
        .collect())
}

/// What is wrong with a key's text, before the secret and kid are known.
enum BadKey {
    NotBase64,
    WrongLength,
}

impl BadKey {
    fn error(self, secret: &'static str, kid: Option<String>) -> KeyError {
        match self {
            Self::NotBase64 => KeyError::NotBase64 { secret, kid },
            Self::WrongLength => KeyError::WrongLength { secret, kid },
        }
    }
}

/// Base64url (padding tolerated) of exactly 32 bytes.
fn decode_key(b64: &str) -> Result<Zeroizing<[u8; 32]>, BadKey> {
    let bytes = Zeroizing::new(
        URL_SAFE_NO_PAD
            .decode(b64.trim_end_matches('='))
            .map_err(|_| BadKey::NotBase64)?,
    );
    let key: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| BadKey::WrongLength)?;
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
            let err = parse_key_list("K", &bad).unwrap_err().to_string();
            assert!(!err.contains(&short));
        }
    }

    #[test]
    fn a_list_may_keep_one_bare_key_of_the_old_format() {
        let bare = URL_SAFE_NO_PAD.encode([9u8; 32]);
        let keys = parse_key_list_with_bare("R", &bare).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].0, None);
        let keys =
            parse_key_list_with_bare("R", &format!("{},{bare}", test_key_list(&["r2"]))).unwrap();
        assert_eq!(keys[0].0.as_deref(), Some("r2"));
        assert_eq!(*keys[0].1, [1u8; 32]);
        assert_eq!((keys[1].0.as_deref(), *keys[1].1), (None, [9u8; 32]));
        for bad in [
            format!("{bare},{bare}"),
            "".to_string(),
            test_key_list(&["a", "a"]),
            format!("r2:{bare},abc"),
        ] {
            let err = parse_key_list_with_bare("R", &bad).unwrap_err().to_string();
            assert!(!err.contains(&bare), "{err}");
        }
    }

    #[test]
    fn single_key() {
        assert!(parse_single_key("R", &URL_SAFE_NO_PAD.encode([9u8; 32])).is_ok());
        assert!(parse_single_key("R", "abc").is_err());
    }

    #[test]
    fn errors_say_what_they_said_as_strings() {
        let short = URL_SAFE_NO_PAD.encode([7u8; 16]);
        let key = URL_SAFE_NO_PAD.encode([1u8; 32]);
        for (raw, error, text) in [
            (
                "nokid".to_string(),
                KeyError::NotKidKey {
                    secret: "K",
                    entry: 0,
                },
                "K: entry 0 is not kid:key",
            ),
            (
                format!("a:{key},bad kid:{key}"),
                KeyError::InvalidKid {
                    secret: "K",
                    entry: 1,
                },
                "K: entry 1 has an invalid kid",
            ),
            (
                test_key_list(&["a", "a"]),
                KeyError::DuplicateKid {
                    secret: "K",
                    kid: "a".into(),
                },
                "K: kid a appears twice",
            ),
            (
                "k1:!!!".to_string(),
                KeyError::NotBase64 {
                    secret: "K",
                    kid: Some("k1".into()),
                },
                "K: key k1 is not base64url",
            ),
            (
                format!("k1:{short}"),
                KeyError::WrongLength {
                    secret: "K",
                    kid: Some("k1".into()),
                },
                "K: key k1 must be 32 bytes",
            ),
        ] {
            assert_eq!(parse_key_list("K", &raw).unwrap_err(), error);
            assert_eq!(error.to_string(), text);
        }
        let single = |raw: &str| parse_single_key("R", raw).unwrap_err();
        assert_eq!(single("!!!").to_string(), "R is not base64url");
        assert_eq!(single(&short).to_string(), "R must be 32 bytes");
        let boxed: Box<dyn std::error::Error> = Box::new(single("!!!"));
        assert_eq!(boxed.to_string(), "R is not base64url");
    }
}
