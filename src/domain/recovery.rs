//! Recovery codes: the second factor of last resort.
//!
//! Each code is 80 random bits written as 16 Crockford base32 characters in groups of
//! four (`7k2m-x9qd-4hv1-c8np`): no i, l, o or u, so it survives being read aloud or
//! copied by hand. Only an HMAC keyed with a Worker secret and bound to the user id is
//! stored: 80 bits resist offline guessing, and the key makes a database dump alone
//! useless.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::keys::OptionalKidKey;
use super::opaque::hex;
use super::random;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const CODE_CHARS: usize = 16;
pub const CODES_PER_USER: usize = 10;

/// A recovery code as typed by the user, normalised to its 16 canonical characters.
pub struct RecoveryCode(Zeroizing<String>);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(REDACTED)")
    }
}

impl RecoveryCode {
    /// Forgiving about case, spaces and dashes, and about the look-alikes Crockford
    /// base32 maps (o -> 0, i/l -> 1); strict about everything else.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.len() > 64 {
            return None;
        }
        let mut out = String::with_capacity(CODE_CHARS);
        for c in raw.chars() {
            let c = match c.to_ascii_lowercase() {
                ' ' | '-' => continue,
                'o' => '0',
                'i' | 'l' => '1',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return None;
            }
            out.push(c);
        }
        (out.len() == CODE_CHARS).then(|| Self(Zeroizing::new(out)))
    }

    /// Display form, shown to the user exactly once.
    pub fn display(&self) -> String {
        self.0
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).expect("ascii"))
            .collect::<Vec<_>>()
            .join("-")
    }

    fn generate() -> Self {
        let bytes = Zeroizing::new(random::bytes::<10>());
        let mut out = String::with_capacity(CODE_CHARS);
        // 80 bits -> 16 groups of 5 bits.
        let mut acc: u128 = 0;
        for b in bytes.iter() {
            acc = (acc << 8) | u128::from(*b);
        }
        for i in (0..CODE_CHARS).rev() {
            out.push(ALPHABET[((acc >> (i * 5)) & 31) as usize] as char);
        }
        Self(Zeroizing::new(out))
    }
}

/// Keys for recovery-code hashes, newest first (the `RECOVERY_CODE_KEY` list). A stored
/// hash names its key (`kid$hex`) so an operator can see which codes a key still holds;
/// hashes under the one bare key of the pre-list format carry no kid.
pub struct RecoveryHasher {
    keys: Vec<OptionalKidKey>,
}

impl RecoveryHasher {
    /// `keys` newest first; never empty (the secret's parser guarantees an entry).
    pub fn new(keys: Vec<OptionalKidKey>) -> Self {
        assert!(!keys.is_empty(), "a recovery-code key list has an entry");
        Self { keys }
    }

    /// The stored form under the newest key.
    pub fn hash(&self, user_id: &str, code: &RecoveryCode) -> String {
        let (kid, key) = &self.keys[0];
        stored_hash(kid.as_deref(), key, user_id, code)
    }

    /// The code's stored form under every key: after a rotation a code issued under
    /// an older key must still be found, in the same single statement.
    pub fn candidates(&self, user_id: &str, code: &RecoveryCode) -> Vec<String> {
        self.keys
            .iter()
            .map(|(kid, key)| stored_hash(kid.as_deref(), key, user_id, code))
            .collect()
    }

    /// A fresh set: the display forms for the user, the hashes for storage.
    pub fn generate_set(&self, user_id: &str) -> (Vec<String>, Vec<String>) {
        (0..CODES_PER_USER)
            .map(|_| {
                let code = RecoveryCode::generate();
                (code.display(), self.hash(user_id, &code))
            })
            .unzip()
    }
}

fn stored_hash(kid: Option<&str>, key: &[u8; 32], user_id: &str, code: &RecoveryCode) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(user_id.as_bytes());
    mac.update(b"\0");
    mac.update(code.0.as_bytes());
    let digest = hex(&mac.finalize().into_bytes());
    match kid {
        Some(kid) => format!("{kid}${digest}"),
        None => digest,
    }
}

#[cfg(test)]
pub(crate) fn test_hasher(fill: u8) -> RecoveryHasher {
    RecoveryHasher::new(vec![(None, Zeroizing::new([fill; 32]))])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> RecoveryHasher {
        test_hasher(3)
    }

    #[test]
    fn sets_are_ten_distinct_typeable_codes() {
        let (codes, hashes) = hasher().generate_set("u1");
        assert_eq!(codes.len(), 10);
        assert_eq!(hashes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        for c in &codes {
            assert_eq!(c.len(), 19);
            assert_eq!(c.matches('-').count(), 3);
            assert!(!c.contains(['i', 'l', 'o', 'u']));
        }
    }

    #[test]
    fn parsing_forgives_format_and_look_alikes() {
        let (codes, hashes) = hasher().generate_set("u1");
        let h = hasher();
        let code = &codes[0];
        let sloppy = code
            .to_uppercase()
            .replace('-', " ")
            .replace('0', "O")
            .replace('1', "l");
        let parsed = RecoveryCode::parse(&sloppy).unwrap();
        assert_eq!(h.hash("u1", &parsed), hashes[0]);
    }

    #[test]
    fn hashes_are_bound_to_user_and_key() {
        let code = RecoveryCode::parse("0000-1111-2222-3333").unwrap();
        let h = hasher();
        assert_ne!(h.hash("u1", &code), h.hash("u2", &code));
        let other = test_hasher(4);
        assert_ne!(h.hash("u1", &code), other.hash("u1", &code));
    }

    #[test]
    fn rotation_keeps_codes_of_older_keys_findable() {
        let code = RecoveryCode::parse("0000-1111-2222-3333").unwrap();
        let old = test_hasher(3);
        let rotated = RecoveryHasher::new(vec![
            (Some("r2".into()), Zeroizing::new([5u8; 32])),
            (None, Zeroizing::new([3u8; 32])),
        ]);
        let issued_before = old.hash("u1", &code);
        assert!(!issued_before.contains('$'));
        let candidates = rotated.candidates("u1", &code);
        assert_eq!(candidates.len(), 2);
        assert_eq!(candidates[1], issued_before);
        // New codes are hashed under the newest key and say so.
        assert_eq!(rotated.hash("u1", &code), candidates[0]);
        assert!(candidates[0].starts_with("r2$"));
        assert_eq!(candidates[0].len(), 3 + 64);
    }

    #[test]
    fn rejects_wrong_shapes() {
        for bad in [
            "",
            "0000-1111-2222",
            "0000-1111-2222-33333",
            "uuuu-1111-2222-3333",
            "0000-1111-2222-333é",
            &"0".repeat(100),
        ] {
            assert!(RecoveryCode::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        let code = RecoveryCode::parse("0000-1111-2222-3333").unwrap();
        assert!(!format!("{code:?}").contains("0000"));
    }
}
