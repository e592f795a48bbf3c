//! Usernames: parsed once at the edge into a canonical form that is safe to compare,
//! store and show.

/// A canonical username: NFKC-normalised, lowercased, 3 to 32 characters of
/// `a-z`, `0-9`, `.`, `_`, `-`, starting and ending with a letter or digit.
///
/// Canonicalising before the uniqueness check is what makes "Alice", "ALICE" and the
/// full-width "ａｌｉｃｅ" one account instead of three look-alikes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

/// Why a string is not a username.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsernameError {
    TooShort,
    TooLong,
    ForbiddenCharacter,
    PunctuationAtEdge,
}

impl UsernameError {
    /// What the client is told.
    pub fn message(self) -> &'static str {
        match self {
            Self::TooShort => "username must be at least 3 characters",
            Self::TooLong => "username must be at most 32 characters",
            Self::ForbiddenCharacter => {
                "username may contain only letters a-z, digits 0-9, '.', '_' and '-'"
            }
            Self::PunctuationAtEdge => "username must start and end with a letter or digit",
        }
    }
}

impl Username {
    pub const MIN_CHARS: usize = 3;
    pub const MAX_CHARS: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        // Bound the work before normalising: NFKC can expand its input.
        if raw.len() > 4 * Self::MAX_CHARS {
            return Err(UsernameError::TooLong);
        }
        let canonical = super::text::lowercase(&super::text::nfkc(raw));
        let len = canonical.chars().count();
        if len < Self::MIN_CHARS {
            return Err(UsernameError::TooShort);
        }
        if len > Self::MAX_CHARS {
            return Err(UsernameError::TooLong);
        }
        if !canonical
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(UsernameError::ForbiddenCharacter);
        }
        let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        if !edge_ok(canonical.chars().next()) || !edge_ok(canonical.chars().last()) {
            return Err(UsernameError::PunctuationAtEdge);
        }
        Ok(Self(canonical))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalises_case_and_width() {
        assert_eq!(Username::parse("Alice").unwrap().as_str(), "alice");
        assert_eq!(Username::parse("ａｌｉｃｅ").unwrap().as_str(), "alice");
        assert_eq!(
            Username::parse("bob.smith_2-x").unwrap().as_str(),
            "bob.smith_2-x"
        );
    }

    #[test]
    fn enforces_length_in_characters() {
        assert_eq!(Username::parse("ab"), Err(UsernameError::TooShort));
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"a".repeat(32)).is_ok());
        assert_eq!(
            Username::parse(&"a".repeat(33)),
            Err(UsernameError::TooLong)
        );
        assert_eq!(
            Username::parse(&"a".repeat(10_000)),
            Err(UsernameError::TooLong)
        );
    }

    #[test]
    fn rejects_characters_outside_the_set() {
        for bad in ["al ice", "alice@x", "alïce", "al/ice", "alice\n", "", "ал"] {
            assert!(Username::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn rejects_punctuation_at_the_edges() {
        for bad in [".alice", "alice.", "-bob", "bob_"] {
            assert_eq!(
                Username::parse(bad),
                Err(UsernameError::PunctuationAtEdge),
                "{bad:?} should be rejected"
            );
        }
    }
}
