//! Opaque bearer secrets: mfa tokens, refresh tokens and the codes sent by email.
//!
//! Both are 256 random bits behind a kind prefix. Only a SHA-256 of the token is ever
//! stored, so a leaked database or KV namespace does not yield usable tokens; a plain
//! hash is enough because the input has full entropy (no dictionary to try).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::Zeroizing;

use super::random;

const BODY_LEN: usize = 43; // base64url of 32 bytes, unpadded

macro_rules! opaque_token {
    ($name:ident, $prefix:literal, $doc:literal) => {
        #[doc = $doc]
        pub struct $name(Zeroizing<String>);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn generate() -> Self {
                let body = URL_SAFE_NO_PAD.encode(random::bytes::<32>());
                Self(Zeroizing::new(format!("{}{}", Self::PREFIX, body)))
            }

            /// Accepts only the exact shape we issue, so junk never reaches storage.
            pub fn parse(raw: &str) -> Option<Self> {
                let body = raw.strip_prefix(Self::PREFIX)?;
                let well_formed = body.len() == BODY_LEN
                    && body
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                well_formed.then(|| Self(Zeroizing::new(raw.to_owned())))
            }

            /// The value handed to the client, exactly once.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// The storage key: hex SHA-256 of the whole token.
            pub fn hash(&self) -> String {
                sha256_hex(self.0.as_bytes())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({}REDACTED)"), Self::PREFIX)
            }
        }
    };
}

opaque_token!(
    MfaToken,
    "mfa_",
    "Proof that the password step succeeded; exchanged once for tokens with a second factor."
);
opaque_token!(
    EmailCode,
    "evc_",
    "Sent to an email address; coming back once proves the address."
);
opaque_token!(
    ResetCode,
    "rst_",
    "Sent to an account's address; coming back once (with a fresh second factor when 2FA is on) sets a new password."
);
opaque_token!(
    RefreshToken,
    "rt_",
    "Long-lived, rotated on every use; identifies one session."
);

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0x0f) as usize] as char);
    }
    out
}

/// A fresh random identifier (user ids, session ids, token ids): 128 bits, URL-safe.
pub fn random_id() -> String {
    URL_SAFE_NO_PAD.encode(random::bytes::<16>())
}

/// A session id as `random_id` makes them (22 base64url characters), parsed from a
/// path; anything else cannot name a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionId(String);

impl SessionId {
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() == 22
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_what_random_id_makes() {
        let id = random_id();
        assert_eq!(SessionId::parse(&id).unwrap().as_str(), id);
        for bad in [
            "",
            "short",
            &format!("{id}x"),
            "a/b=cdefghijklmnopqrstu",
            "%7Bid%7Dxxxxxxxxxxxxxx",
        ] {
            assert!(SessionId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn generated_tokens_parse_back_and_hash_stably() {
        let t = MfaToken::generate();
        assert!(t.expose().starts_with("mfa_"));
        let parsed = MfaToken::parse(t.expose()).unwrap();
        assert_eq!(parsed.hash(), t.hash());
        assert_eq!(t.hash().len(), 64);
        assert_ne!(MfaToken::generate().hash(), t.hash());
    }

    #[test]
    fn kinds_do_not_cross() {
        let mfa = MfaToken::generate();
        let rt = RefreshToken::generate();
        assert!(RefreshToken::parse(mfa.expose()).is_none());
        assert!(MfaToken::parse(rt.expose()).is_none());
    }

    #[test]
    fn rejects_malformed() {
        let good = RefreshToken::generate();
        let s = good.expose();
        assert!(RefreshToken::parse(&s[..s.len() - 1]).is_none());
        assert!(RefreshToken::parse(&format!("{s}A")).is_none());
        assert!(RefreshToken::parse(&s.replace('_', "/")).is_none() || !s[3..].contains('_'));
        assert!(RefreshToken::parse("").is_none());
        assert!(RefreshToken::parse("rt_").is_none());
        assert!(RefreshToken::parse(&format!("rt_{}", "é".repeat(22))).is_none());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let t = RefreshToken::generate();
        assert!(!format!("{t:?}").contains(&t.expose()[3..]));
    }

    #[test]
    fn hex_and_ids() {
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(random_id().len(), 22);
        assert_ne!(random_id(), random_id());
    }
}
