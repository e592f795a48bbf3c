//! The PHC string format of our Argon2id hashes
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, B64 = standard alphabet, no padding),
//! written and read here rather than by the `password-hash` crate: its own Base64 and
//! parser were a second copy of what `base64` already does here, at about 6 KB of the
//! gzipped Worker.

use base64::{engine::general_purpose::STANDARD_NO_PAD, Engine};

/// A parsed Argon2id hash. Anything else (another algorithm, parameters in another
/// order, extra fields) does not parse.
#[derive(Debug, PartialEq, Eq)]
pub struct Phc {
    pub version: u32,
    pub m_cost: u32,
    pub t_cost: u32,
    pub p_cost: u32,
    pub salt: Vec<u8>,
    pub hash: Vec<u8>,
}

impl Phc {
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split('$');
        let (Some(""), Some("argon2id"), Some(version), Some(params), Some(salt), Some(hash), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let number = |field: &str, name: &str| -> Option<u32> {
            let digits = field.strip_prefix(name)?.strip_prefix('=')?;
            // Decimal without sign or leading zeros, as PHC requires.
            let canonical = !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && (digits == "0" || !digits.starts_with('0'));
            canonical.then(|| digits.parse().ok()).flatten()
        };
        let mut params = params.split(',');
        let (Some(m), Some(t), Some(p), None) =
            (params.next(), params.next(), params.next(), params.next())
        else {
            return None;
        };
        Some(Self {
            version: number(version, "v")?,
            m_cost: number(m, "m")?,
            t_cost: number(t, "t")?,
            p_cost: number(p, "p")?,
            salt: STANDARD_NO_PAD.decode(salt).ok()?,
            hash: STANDARD_NO_PAD.decode(hash).ok()?,
        })
    }

    pub fn to_phc(&self) -> String {
        format!(
            "$argon2id$v={}$m={},t={},p={}${}${}",
            self.version,
            self.m_cost,
            self.t_cost,
            self.p_cost,
            STANDARD_NO_PAD.encode(&self.salt),
            STANDARD_NO_PAD.encode(&self.hash)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$rYQkQjrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40";

    #[test]
    fn round_trips_our_format() {
        let phc = Phc::parse(PHC).unwrap();
        assert_eq!(
            (phc.version, phc.m_cost, phc.t_cost, phc.p_cost),
            (19, 19_456, 2, 1)
        );
        assert_eq!((phc.salt.len(), phc.hash.len()), (16, 32));
        assert_eq!(phc.to_phc(), PHC);
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "$argon2id",
            "$argon2i$v=19$m=19456,t=2,p=1$rYQkQjrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40",
            "$argon2id$m=19456,t=2,p=1$rYQkQjrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40",
            "$argon2id$v=19$t=2,m=19456,p=1$rYQkQjrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40",
            "$argon2id$v=19$m=019456,t=2,p=1$rYQkQjrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40",
            "$argon2id$v=19$m=+19456,t=2,p=1$rYQkQjrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40",
            "$argon2id$v=19$m=99999999999,t=2,p=1$rYQkQjrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40",
            "$argon2id$v=19$m=19456,t=2,p=1,keyid=x$rYQkQjrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40",
            "$argon2id$v=19$m=19456,t=2,p=1$rYQkQjrZO5luvldu358s8Q==$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40",
            "$argon2id$v=19$m=19456,t=2,p=1$rYQk*jrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40",
            "$argon2id$v=19$m=19456,t=2,p=1$rYQkQjrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40$",
        ] {
            assert!(Phc::parse(bad).is_none(), "{bad:?}");
        }
    }
}
