//! Optional contact e-mail address. A sanity check that keeps garbage out of the database
//! and the mail binding, not an RFC 5321 validator: the verification code sent to it is
//! what proves the address.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let raw = raw.trim();
        if raw.len() > Self::MAX_LEN {
            return Err("email must be at most 254 characters");
        }
        let (local, domain) = raw
            .rsplit_once('@')
            .ok_or("email must look like name@example.com")?;
        let valid_chars = raw
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '<' && c != '>');
        if local.is_empty() || domain.is_empty() || !domain.contains('.') || !valid_chars {
            return Err("email must look like name@example.com");
        }
        if domain.starts_with('.') || domain.ends_with('.') || domain.contains('@') {
            return Err("email must look like name@example.com");
        }
        // Domains are case-insensitive; local parts are not, so only the domain is folded.
        Ok(Self(format!("{local}@{}", super::text::lowercase(domain))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_folds_domain_case() {
        assert_eq!(
            Email::parse(" Alice@Example.COM ").unwrap().as_str(),
            "Alice@example.com"
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "alice",
            "@x.com",
            "alice@",
            "alice@localhost",
            "a b@x.com",
            "a@.com",
            "a@x.com.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Email::parse(&format!("{}@x.com", "a".repeat(260))).is_err());
    }
}
