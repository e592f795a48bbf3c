//! Who we are to authenticators: the RP ID (`WEBAUTHN_RP_ID`) and the exact origins a
//! ceremony may run on (`WEBAUTHN_ORIGINS`), checked once when the configuration loads
//! so that a deployment cannot start with a pair browsers would refuse anyway.
//!
//! WebAuthn §5.1.1 and the HTML "registrable domain suffix" rule: the RP ID is a domain
//! (never an IP address), and every origin's host is that domain or a subdomain of it.
//! Origins are `https://`, except `http://localhost`, which browsers treat as secure.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    pub id: String,
    /// Exact `scheme://host[:port]` strings, compared as they are with clientDataJSON.
    pub origins: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelyingPartyError {
    /// Not a lowercase domain name (IP addresses included).
    BadRpId,
    NoOrigins,
    /// This origin is not `https://host[:port]` (or `http://localhost[:port]`).
    BadOrigin(String),
    /// This origin's host is neither the RP ID nor under it.
    OriginOutsideRpId(String),
}

impl std::fmt::Display for RelyingPartyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadRpId => {
                f.write_str("WEBAUTHN_RP_ID must be a lowercase domain name, not an IP address")
            }
            Self::NoOrigins => f.write_str("WEBAUTHN_ORIGINS must list at least one origin"),
            Self::BadOrigin(o) => write!(
                f,
                "WEBAUTHN_ORIGINS: {o:?} is not https://host[:port] (or http://localhost[:port])"
            ),
            Self::OriginOutsideRpId(o) => write!(
                f,
                "WEBAUTHN_ORIGINS: {o:?} is not on WEBAUTHN_RP_ID or a subdomain of it"
            ),
        }
    }
}

impl std::error::Error for RelyingPartyError {}

impl RelyingParty {
    /// `origins` is comma-separated; blanks around entries are ignored.
    pub fn parse(rp_id: &str, origins: &str) -> Result<Self, RelyingPartyError> {
        let id = rp_id.trim();
        if !is_domain(id) {
            return Err(RelyingPartyError::BadRpId);
        }
        let origins: Vec<String> = origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect();
        if origins.is_empty() {
            return Err(RelyingPartyError::NoOrigins);
        }
        for origin in &origins {
            let host =
                origin_host(origin).ok_or_else(|| RelyingPartyError::BadOrigin(origin.clone()))?;
            let under = host == id
                || host
                    .strip_suffix(id)
                    .is_some_and(|rest| rest.ends_with('.'));
            if !under {
                return Err(RelyingPartyError::OriginOutsideRpId(origin.clone()));
            }
        }
        Ok(Self {
            id: id.to_owned(),
            origins,
        })
    }
}

/// Lowercase LDH labels with at least one letter in the last (so `10.0.0.1` is not a
/// domain), or `localhost`. IPv6 literals fail on `:` and `[`.
fn is_domain(s: &str) -> bool {
    if s.is_empty() || s.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = s.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|tld| tld.bytes().any(|b| b.is_ascii_lowercase()))
}

/// The host of `https://host[:port]` or `http://localhost[:port]`; `None` for anything
/// else (paths, queries, credentials, other schemes, a bad port).
fn origin_host(origin: &str) -> Option<&str> {
    let (secure, rest) = match origin.split_once("://")? {
        ("https", rest) => (true, rest),
        ("http", rest) => (false, rest),
        _ => return None,
    };
    let (host, port) = match rest.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok_and(|n| n > 0)
    });
    let local = host == "localhost";
    (port_ok && is_domain(host) && (secure || local)).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_and_its_origins() {
        let rp = RelyingParty::parse(
            "login.example",
            " https://login.example, https://app.login.example:8443 ",
        )
        .unwrap();
        assert_eq!(rp.id, "login.example");
        assert_eq!(
            rp.origins,
            ["https://login.example", "https://app.login.example:8443"]
        );
        let local = RelyingParty::parse("localhost", "http://localhost:8787").unwrap();
        assert_eq!(local.origins, ["http://localhost:8787"]);
    }

    #[test]
    fn an_ip_address_or_anything_but_a_lowercase_domain_is_no_rp_id() {
        for bad in [
            "",
            "127.0.0.1",
            "10.0.0.1",
            "[::1]",
            "::1",
            "Login.Example",
            "https://login.example",
            "login.example:443",
            "-a.example",
            "a..example",
            "a b.example",
        ] {
            assert_eq!(
                RelyingParty::parse(bad, "https://login.example"),
                Err(RelyingPartyError::BadRpId),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn origins_must_be_secure_exact_and_under_the_rp_id() {
        let parse = |o: &str| RelyingParty::parse("login.example", o);
        assert_eq!(parse(" , "), Err(RelyingPartyError::NoOrigins));
        for bad in [
            "http://login.example",
            "https://login.example/",
            "https://login.example/path",
            "https://user@login.example",
            "https://login.example:0",
            "https://login.example:99999",
            "https://login.example:",
            "ftp://login.example",
            "login.example",
            "https://127.0.0.1",
        ] {
            assert_eq!(
                parse(bad),
                Err(RelyingPartyError::BadOrigin(bad.into())),
                "{bad:?}"
            );
        }
        for outside in [
            "https://evil.example",
            "https://notlogin.example",
            "https://login.example.evil",
        ] {
            assert_eq!(
                parse(outside),
                Err(RelyingPartyError::OriginOutsideRpId(outside.into())),
                "{outside:?}"
            );
        }
        // http is allowed for localhost only.
        assert_eq!(
            RelyingParty::parse("localhost", "http://127.0.0.1:8787"),
            Err(RelyingPartyError::BadOrigin("http://127.0.0.1:8787".into()))
        );
    }
}
