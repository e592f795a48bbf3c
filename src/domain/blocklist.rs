//! The list of common and breached passwords a new password is checked against.
//!
//! Kept out of the WASM: `scripts/build-password-blocklist.py` builds it from
//! registry packages into `public/passwords/blocklist.bin` (200,000 and more entries),
//! and the Worker reads it once per isolate from its static assets. Each entry is a
//! 32-bit fingerprint (the first four bytes of SHA-256 of the NFKC-normalised,
//! lowercased password), so about 1 random password in 20,000 is refused as common
//! by a fingerprint collision: an acceptable cost for keeping 200,000 passwords in
//! under 500 KB and 800 KB of isolate memory.

use sha2::{Digest, Sha256};

const MAGIC: &[u8] = b"ELPB1";

pub struct Blocklist {
    /// Sorted, distinct.
    fingerprints: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlocklistError {
    NotABlocklist,
    Truncated,
    /// Gaps that overflow, or a count that does not match the data.
    Corrupt,
}

impl std::fmt::Display for BlocklistError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NotABlocklist => "the password blocklist has no ELPB1 header",
            Self::Truncated => "the password blocklist is truncated",
            Self::Corrupt => "the password blocklist is corrupt",
        })
    }
}

impl std::error::Error for BlocklistError {}

pub fn fingerprint(lowercase: &str) -> u32 {
    let digest = Sha256::digest(lowercase.as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

impl Blocklist {
    /// Reads the file format of `scripts/build-password-blocklist.py`:
    /// `ELPB1`, the count (u32 LE), then the sorted fingerprints as LEB128 gaps.
    pub fn decode(bytes: &[u8]) -> Result<Self, BlocklistError> {
        let rest = bytes
            .strip_prefix(MAGIC)
            .ok_or(BlocklistError::NotABlocklist)?;
        let (count, mut data) = rest
            .split_first_chunk::<4>()
            .ok_or(BlocklistError::Truncated)?;
        let count = u32::from_le_bytes(*count) as usize;
        // Each gap is at least one byte: a count beyond the data is corrupt, and
        // checking first bounds the allocation.
        if count > data.len() {
            return Err(BlocklistError::Truncated);
        }
        let mut fingerprints = Vec::with_capacity(count);
        let mut previous: u32 = 0;
        for _ in 0..count {
            let mut gap: u64 = 0;
            let mut shift = 0;
            loop {
                let (&byte, tail) = data.split_first().ok_or(BlocklistError::Truncated)?;
                data = tail;
                if shift > 28 {
                    return Err(BlocklistError::Corrupt);
                }
                gap |= u64::from(byte & 0x7F) << shift;
                shift += 7;
                if byte & 0x80 == 0 {
                    break;
                }
            }
            let next = u64::from(previous) + gap;
            let next = u32::try_from(next).map_err(|_| BlocklistError::Corrupt)?;
            if !fingerprints.is_empty() && next <= previous {
                return Err(BlocklistError::Corrupt);
            }
            fingerprints.push(next);
            previous = next;
        }
        if !data.is_empty() {
            return Err(BlocklistError::Corrupt);
        }
        Ok(Self { fingerprints })
    }

    /// `lowercase` is the NFKC-normalised, lowercased candidate.
    pub fn contains(&self, lowercase: &str) -> bool {
        self.fingerprints
            .binary_search(&fingerprint(lowercase))
            .is_ok()
    }

    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// The encoder of `scripts/build-password-blocklist.py`, for tests.
    pub fn encode(passwords: &[&str]) -> Vec<u8> {
        let mut prints: Vec<u32> = passwords.iter().map(|p| fingerprint(p)).collect();
        prints.sort_unstable();
        prints.dedup();
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&(prints.len() as u32).to_le_bytes());
        let mut previous = 0;
        for f in prints {
            let mut gap = f - previous;
            previous = f;
            loop {
                let byte = (gap & 0x7F) as u8;
                gap >>= 7;
                if gap == 0 {
                    out.push(byte);
                    break;
                }
                out.push(byte | 0x80);
            }
        }
        out
    }

    #[test]
    fn finds_what_it_holds_and_nothing_else() {
        let list = Blocklist::decode(&encode(&["password1234", "iloveyou2025"])).unwrap();
        assert_eq!(list.len(), 2);
        assert!(list.contains("password1234"));
        assert!(list.contains("iloveyou2025"));
        assert!(!list.contains("correct horse battery staple"));
    }

    #[test]
    fn refuses_files_that_are_not_a_whole_blocklist() {
        let good = encode(&["password1234", "iloveyou2025", "qwertyuiop12"]);
        assert_eq!(
            Blocklist::decode(b"<html>").err(),
            Some(BlocklistError::NotABlocklist)
        );
        assert_eq!(
            Blocklist::decode(&good[..good.len() - 1]).err(),
            Some(BlocklistError::Truncated)
        );
        let mut longer = good.clone();
        longer.push(1);
        assert_eq!(
            Blocklist::decode(&longer).err(),
            Some(BlocklistError::Corrupt)
        );
        let mut huge_count = good.clone();
        huge_count[5..9].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            Blocklist::decode(&huge_count).err(),
            Some(BlocklistError::Truncated)
        );
        let mut zero_gap = MAGIC.to_vec();
        zero_gap.extend_from_slice(&2u32.to_le_bytes());
        zero_gap.extend_from_slice(&[5, 0]);
        assert_eq!(
            Blocklist::decode(&zero_gap).err(),
            Some(BlocklistError::Corrupt)
        );
    }

    /// The file `make build` produces: the real list.
    #[test]
    fn the_built_list_holds_the_common_passwords() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/public/passwords/blocklist.bin"
        );
        let bytes = std::fs::read(path)
            .unwrap_or_else(|e| panic!("{path}: {e} (`make build` builds it; `make test` does)"));
        let list = Blocklist::decode(&bytes).unwrap();
        assert!(list.len() >= 100_000, "{}", list.len());
        for common in [
            "password",
            "12345678",
            "iloveyou",
            "qwertyuiop",
            "1q2w3e4r5t",
        ] {
            assert!(list.contains(common), "{common}");
        }
        assert!(!list.contains("correct horse battery staple"));
    }
}
