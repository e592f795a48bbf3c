//! Password policy and Argon2id hashing.
//!
//! The policy follows NIST SP 800-63B: a length window and a blocklist, no
//! composition rules (they push users towards predictable substitutions without
//! adding real entropy).
//!
//! The length rule is NIST SP 800-63B rev 4's: at least 15 characters for a password
//! that is the account's only factor, at least 8 beside a second factor
//! ([`PasswordUse`]). The blocklist (`super::blocklist`) holds 200,000 common and
//! breached passwords, built outside the WASM.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use subtle::ConstantTimeEq;

use super::phc::Phc;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::domain::blocklist::Blocklist;
use crate::domain::random;

/// A password that satisfies the policy (or, via [`Password::for_login`], one
/// offered at login). Holds the NFKC-normalised text so that the same password
/// typed on different keyboards or input methods hashes identically.
pub struct Password(SecretString);

/// Where a new password will stand (NIST SP 800-63B rev 4 §3.1.1.2): alone, it must
/// have at least 15 characters; beside a second factor, at least 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordUse {
    Alone,
    WithSecondFactor,
}

impl PasswordUse {
    pub fn for_account(second_factor: bool) -> Self {
        if second_factor {
            Self::WithSecondFactor
        } else {
            Self::Alone
        }
    }

    pub fn min_chars(self) -> usize {
        match self {
            Self::Alone => 15,
            Self::WithSecondFactor => 8,
        }
    }
}

/// Why a new password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordRejection {
    TooShort(PasswordUse),
    TooLong,
    Common,
    ContainsUsername,
    /// Turning off the last second factor would leave a password shorter than the
    /// rule for a password alone.
    TooShortAlone,
}

impl PasswordRejection {
    /// A sentence suitable for the API's error message.
    pub fn message(&self) -> &'static str {
        match self {
            PasswordRejection::TooShort(PasswordUse::Alone) => {
                "password must be at least 15 characters"
            }
            PasswordRejection::TooShort(PasswordUse::WithSecondFactor) => {
                "password must be at least 8 characters"
            }
            PasswordRejection::TooLong => "password must be at most 128 characters",
            PasswordRejection::Common => {
                "password is too common; choose one that is harder to guess"
            }
            PasswordRejection::ContainsUsername => "password must not contain the username",
            PasswordRejection::TooShortAlone => {
                "password must be at least 15 characters to stand alone: change it first"
            }
        }
    }
}

/// Login input bound. Argon2 pre-hashes the password once, so its length barely
/// affects the hash cost, but NFKC normalisation and copying are linear in it.
const MAX_LOGIN_BYTES: usize = 1024;

/// Cheap pre-normalisation bound for new passwords. NFKC never deletes code points and
/// an output character's canonical decomposition has at most four, so each output
/// character consumes at most 16 input bytes: input over 128 × 16 = 2048 bytes can
/// never normalise down to `MAX_CHARS`. Refusing it early (with margin) keeps an
/// attacker from making us normalise megabytes.
const MAX_NEW_RAW_BYTES: usize = 4096;

impl Password {
    pub const MAX_CHARS: usize = 128;

    /// Applies the policy for a password being set (registration, change).
    /// `username` is the canonical lowercase username.
    pub fn new_for_user(
        raw: &str,
        username: &str,
        used: PasswordUse,
        blocklist: &Blocklist,
    ) -> Result<Password, PasswordRejection> {
        if raw.len() > MAX_NEW_RAW_BYTES {
            return Err(PasswordRejection::TooLong);
        }
        let normalised = Zeroizing::new(normalise(raw));
        // Counted in Unicode scalar values: a byte count would make the minimum
        // trivially reachable with a few non-ASCII characters and the maximum
        // unfairly small for non-Latin scripts.
        let chars = normalised.chars().count();
        if chars < used.min_chars() {
            return Err(PasswordRejection::TooShort(used));
        }
        if chars > Self::MAX_CHARS {
            return Err(PasswordRejection::TooLong);
        }
        let lower = Zeroizing::new(super::text::lowercase(&normalised));
        if blocklist.contains(&lower) {
            return Err(PasswordRejection::Common);
        }
        // An empty username would match everything; usernames are never empty, but
        // a caller bug should not turn into "every password rejected".
        if !username.is_empty() && lower.contains(&super::text::lowercase(username)) {
            return Err(PasswordRejection::ContainsUsername);
        }
        // Copied from `&str` into an exact-size box: converting the `String` itself
        // would reallocate in `into_boxed_str` and free the old buffer unwiped.
        Ok(Password(SecretString::from(normalised.as_str())))
    }

    /// Wraps a password offered at login. No policy: passwords set under an older,
    /// looser policy must still be able to log in.
    pub fn for_login(raw: &str) -> Option<Password> {
        if raw.is_empty() || raw.len() > MAX_LOGIN_BYTES {
            return None;
        }
        let normalised = Zeroizing::new(normalise(raw));
        Some(Password(SecretString::from(normalised.as_str())))
    }

    /// Whether this (login) password may become the account's only factor.
    pub fn can_stand_alone(&self) -> Result<(), PasswordRejection> {
        if self.expose().chars().count() < PasswordUse::Alone.min_chars() {
            return Err(PasswordRejection::TooShortAlone);
        }
        Ok(())
    }

    /// The normalised password, for hashing only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(REDACTED)")
    }
}

/// NFKC-normalises into a fresh `String` (the caller wipes it).
fn normalise(raw: &str) -> String {
    super::text::nfkc(raw)
}

// OWASP's first Argon2id recommendation; m is in KiB (19 MiB), which fits
// comfortably in a Worker isolate's 128 MB.
const M_COST: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
const OUTPUT_LEN: usize = 32;
const SALT_LEN: usize = 16;
/// Argon2 1.3 (0x13), as PHC strings write it.
const ARGON2_VERSION: u32 = 19;

/// Upper bounds on the work a stored hash may demand. The stored string is the only
/// input that controls Argon2's cost, so a corrupted or tampered row must not be
/// able to exhaust the isolate's memory (an allocation failure aborts in WASM).
const MAX_VERIFY_M_COST: u32 = 65_536;
const MAX_VERIFY_T_COST: u32 = 16;
const MAX_VERIFY_P_COST: u32 = 4;

fn argon2id(m_cost: u32, t_cost: u32, p_cost: u32, output_len: usize) -> Option<Argon2<'static>> {
    let params = Params::new(m_cost, t_cost, p_cost, Some(output_len)).ok()?;
    Some(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes with Argon2id (m=19456 KiB, t=2, p=1, 32-byte output, 16-byte random
/// salt) and returns the PHC string.
pub fn hash_password(password: &Password) -> String {
    let salt = random::bytes::<SALT_LEN>().to_vec();
    let mut hash = vec![0u8; OUTPUT_LEN];
    argon2id(M_COST, T_COST, P_COST, OUTPUT_LEN)
        .expect("constant Argon2 parameters are valid")
        .hash_password_into(password.expose().as_bytes(), &salt, &mut hash)
        .expect("Argon2 with constant parameters and a 16-byte salt cannot fail");
    Phc {
        version: ARGON2_VERSION,
        m_cost: M_COST,
        t_cost: T_COST,
        p_cost: P_COST,
        salt,
        hash,
    }
    .to_phc()
}

/// Checks `password` against a stored PHC string. Malformed or unsupported strings
/// yield `false`. For a well-formed hash the full Argon2 computation always runs and
/// the comparison is constant-time, so timing does not reveal how close a guess was.
pub fn verify_password(password: &Password, phc: &str) -> bool {
    let Some(stored) = Phc::parse(phc) else {
        return false;
    };
    if stored.version != ARGON2_VERSION
        || stored.m_cost > MAX_VERIFY_M_COST
        || stored.t_cost > MAX_VERIFY_T_COST
        || stored.p_cost > MAX_VERIFY_P_COST
    {
        return false;
    }
    let Some(argon2) = argon2id(
        stored.m_cost,
        stored.t_cost,
        stored.p_cost,
        stored.hash.len(),
    ) else {
        return false;
    };
    let mut computed = vec![0u8; stored.hash.len()];
    if argon2
        .hash_password_into(password.expose().as_bytes(), &stored.salt, &mut computed)
        .is_err()
    {
        return false;
    }
    bool::from(computed.ct_eq(&stored.hash))
}

/// A valid Argon2id hash, with today's parameters, of a random 32-byte password that
/// was discarded unrecorded. Verifying against it when the username is unknown costs
/// the same as a real check, so response time does not reveal which usernames exist.
pub const DUMMY_PHC: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$rYQkQjrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40";

/// True when `phc` is weaker than what [`hash_password`] produces today (other
/// algorithm or version, lower costs, shorter salt or output), so the caller can
/// re-hash after a successful login. Unparseable strings also report `true`: they
/// cannot be shown to be current.
pub fn needs_rehash(phc: &str) -> bool {
    let Some(stored) = Phc::parse(phc) else {
        return true;
    };
    stored.version != ARGON2_VERSION
        || stored.m_cost < M_COST
        || stored.t_cost < T_COST
        || stored.p_cost < P_COST
        || stored.salt.len() < SALT_LEN
        || stored.hash.len() < OUTPUT_LEN
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = "alice";

    fn login(raw: &str) -> Password {
        Password::for_login(raw).expect("valid login input")
    }

    fn blocklist() -> Blocklist {
        Blocklist::decode(&crate::domain::blocklist::tests::encode(&[
            "password1234",
            "qwerty123456",
            "1qaz2wsx3edc",
            "iloveyou",
            "password123456789",
        ]))
        .unwrap()
    }

    /// A new password standing alone (no second factor).
    fn alone(raw: &str, username: &str) -> Result<Password, PasswordRejection> {
        Password::new_for_user(raw, username, PasswordUse::Alone, &blocklist())
    }

    fn beside_a_factor(raw: &str) -> Result<Password, PasswordRejection> {
        Password::new_for_user(raw, USER, PasswordUse::WithSecondFactor, &blocklist())
    }

    #[test]
    fn length_is_counted_in_chars_not_bytes() {
        // "é" is 2 bytes and stays one char under NFKC; 14 of them is 28 bytes.
        assert_eq!(
            alone(&"é".repeat(14), USER).unwrap_err(),
            PasswordRejection::TooShort(PasswordUse::Alone)
        );
        assert!(alone(&"é".repeat(15), USER).is_ok());
        assert!(alone(&"日本語".repeat(5), USER).is_ok());
        assert_eq!(
            alone("abcdefghijklmn", USER).unwrap_err(),
            PasswordRejection::TooShort(PasswordUse::Alone)
        );
        assert!(alone(&"é".repeat(128), USER).is_ok());
        assert_eq!(
            alone(&"é".repeat(129), USER).unwrap_err(),
            PasswordRejection::TooLong
        );
        assert_eq!(
            alone(&"x".repeat(100_000), USER).unwrap_err(),
            PasswordRejection::TooLong
        );
    }

    #[test]
    fn a_password_beside_a_second_factor_may_be_shorter() {
        assert!(beside_a_factor("tr0ub4dr").is_ok());
        assert_eq!(
            beside_a_factor("tr0ub4d").unwrap_err(),
            PasswordRejection::TooShort(PasswordUse::WithSecondFactor)
        );
        assert_eq!(
            beside_a_factor("ILoveYou").unwrap_err(),
            PasswordRejection::Common
        );
        assert_eq!(
            PasswordUse::for_account(true),
            PasswordUse::WithSecondFactor
        );
        assert_eq!(PasswordUse::for_account(false), PasswordUse::Alone);
    }

    #[test]
    fn only_a_long_enough_password_may_stand_alone() {
        assert_eq!(
            login("tr0ub4dor&3hor").can_stand_alone().unwrap_err(),
            PasswordRejection::TooShortAlone
        );
        assert!(login("tr0ub4dor&3hors").can_stand_alone().is_ok());
    }

    #[test]
    fn length_is_counted_after_normalisation() {
        // U+FB00 "ﬀ" is one char that NFKC expands to "ff".
        let pw = alone(&"\u{FB00}".repeat(8), USER).unwrap();
        assert_eq!(pw.expose(), "f".repeat(16));
    }

    #[test]
    fn nfkc_makes_fullwidth_equal_to_ascii() {
        let fullwidth = "ｃｏｒｒｅｃｔ－ｈｏｒｓｅ－ｂａｔｔｅｒｙ";
        let ascii = "correct-horse-battery";
        let new = alone(fullwidth, USER).unwrap();
        assert_eq!(new.expose(), ascii);
        let phc = hash_password(&new);
        assert!(verify_password(&login(ascii), &phc));
    }

    #[test]
    fn common_password_rejected_case_insensitively() {
        for raw in ["PassWord1234", "QWERTY123456", "1QAZ2WSX3EDC"] {
            assert_eq!(
                beside_a_factor(raw).unwrap_err(),
                PasswordRejection::Common,
                "{raw}"
            );
        }
        // Fullwidth spelling normalises onto a listed entry too.
        assert_eq!(
            beside_a_factor("ｐａｓｓｗｏｒｄ１２３４").unwrap_err(),
            PasswordRejection::Common
        );
    }

    #[test]
    fn password_containing_username_rejected() {
        assert_eq!(
            alone("my-ALICE-is-great", USER).unwrap_err(),
            PasswordRejection::ContainsUsername
        );
        assert_eq!(
            alone("xx.j_doe.2024xxyz", "j_doe.").unwrap_err(),
            PasswordRejection::ContainsUsername
        );
        assert!(alone("my-ALICE-is-great", "bob").is_ok());
    }

    #[test]
    fn rejection_messages_are_distinct_sentences() {
        let all = [
            PasswordRejection::TooShort(PasswordUse::Alone),
            PasswordRejection::TooShort(PasswordUse::WithSecondFactor),
            PasswordRejection::TooLong,
            PasswordRejection::Common,
            PasswordRejection::ContainsUsername,
            PasswordRejection::TooShortAlone,
        ];
        for (i, a) in all.iter().enumerate() {
            assert!(a.message().starts_with("password "));
            for b in &all[i + 1..] {
                assert_ne!(a.message(), b.message());
            }
        }
        assert!(PasswordRejection::TooShort(PasswordUse::Alone)
            .message()
            .contains("15"));
        assert!(PasswordRejection::TooShort(PasswordUse::WithSecondFactor)
            .message()
            .contains(" 8 "));
        assert!(PasswordRejection::TooLong.message().contains("128"));
    }

    #[test]
    fn hash_is_salted_phc_with_expected_params_and_roundtrips() {
        let pw = alone("tr0ub4dor&3-horse", USER).unwrap();
        let a = hash_password(&pw);
        let b = hash_password(&pw);
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "salt must differ between hashes");
        let parsed = Phc::parse(&a).unwrap();
        assert_eq!(parsed.hash.len(), OUTPUT_LEN);
        assert_eq!(parsed.salt.len(), SALT_LEN);
        assert!(!needs_rehash(&a));

        assert!(verify_password(&login("tr0ub4dor&3-horse"), &a));
        assert!(!verify_password(&login("tr0ub4dor&3-horsE"), &b));
    }

    #[test]
    fn verifies_hashes_made_by_another_implementation() {
        // argon2-cffi (the reference C implementation), same parameters: what a hash
        // written before this crate wrote its own PHC strings looks like too.
        let reference = "$argon2id$v=19$m=19456,t=2,p=1$o8I395dkRLCtSYcGFLhm2Q$goRiiG0XQWwbrXieF/+IpzYgeTYSdH1A5kxBbQeE3Cs";
        assert!(verify_password(
            &login("correct horse battery staple"),
            reference
        ));
        assert!(!verify_password(
            &login("correct horse battery stapler"),
            reference
        ));
        assert!(!needs_rehash(reference));
    }

    #[test]
    fn malformed_phc_is_false_without_panicking() {
        let pw = login("whatever-password");
        for phc in [
            "",
            "garbage",
            "$argon2id$v=19$m=19456,t=2,p=1$xx",
            "$argon2id$v=19$m=19456,t=2,p=1$rYQkQjrZO5luvldu358s8Q",
            "$argon2id$v=19$m=0,t=2,p=1$rYQkQjrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40",
            "$argon2id$v=19$m=4294967295,t=2,p=1$rYQkQjrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40",
            "$pbkdf2-sha256$i=1000$rYQkQjrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40",
        ] {
            assert!(!verify_password(&pw, phc), "{phc:?}");
        }
    }

    #[test]
    fn dummy_phc_is_current_and_matches_nothing_guessable() {
        let parsed = Phc::parse(DUMMY_PHC).unwrap();
        assert_eq!(
            (parsed.m_cost, parsed.t_cost, parsed.p_cost),
            (M_COST, T_COST, P_COST)
        );
        assert_eq!(parsed.hash.len(), OUTPUT_LEN);
        assert!(!needs_rehash(DUMMY_PHC));
        assert!(!verify_password(&login("password"), DUMMY_PHC));
    }

    #[test]
    fn needs_rehash_flags_weaker_params() {
        let weak_m = "$argon2id$v=19$m=4096,t=2,p=1$rYQkQjrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40";
        let weak_t = "$argon2id$v=19$m=19456,t=1,p=1$rYQkQjrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40";
        let argon2i = "$argon2i$v=19$m=19456,t=2,p=1$rYQkQjrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40";
        let short_salt = "$argon2id$v=19$m=19456,t=2,p=1$cmFuZG9tc2FsdA$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40";
        let stronger = "$argon2id$v=19$m=65536,t=3,p=1$rYQkQjrZO5luvldu358s8Q$bLaUxhAAM7oGp9IvKMB6MWhJttIjb+Qgtj54x0KVe40";
        for phc in [weak_m, weak_t, argon2i, short_salt, "", "garbage"] {
            assert!(needs_rehash(phc), "{phc:?}");
        }
        assert!(!needs_rehash(stronger));
    }

    #[test]
    fn debug_does_not_leak() {
        let pw = alone("very-secret-horse", USER).unwrap();
        let shown = format!("{pw:?}");
        assert_eq!(shown, "Password(REDACTED)");
        assert!(!shown.contains("secret-horse"));
    }

    #[test]
    fn for_login_applies_no_policy_but_bounds_size() {
        let old = login("hunter22");
        assert_eq!(old.expose(), "hunter22");
        assert!(Password::for_login("password").is_some());
        assert!(Password::for_login("").is_none());
        assert!(Password::for_login(&"a".repeat(2000)).is_none());
        assert!(Password::for_login(&"a".repeat(1024)).is_some());
        assert_eq!(login("ｈｕｎｔｅｒ２２").expose(), "hunter22");
    }
}
