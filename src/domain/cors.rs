//! Which browser origins may call the API. Tokens travel in the Authorization header,
//! never in cookies, so no response ever allows credentials; `*` is therefore safe to
//! offer, but only when configured explicitly.

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CorsPolicy {
    /// No cross-origin access (the default).
    #[default]
    None,
    /// Any origin, answered with `*`.
    Any,
    /// These exact origins, answered by echoing the origin.
    Origins(Vec<String>),
}

/// Why `CORS_ALLOWED_ORIGINS` was refused; each names the offending origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsError {
    /// Neither `https://` nor `http://`.
    NoScheme(String),
    /// A path, query, fragment, wildcard or space after the scheme, or no host at all.
    NotAnOrigin(String),
}

impl std::fmt::Display for CorsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoScheme(origin) => {
                write!(
                    f,
                    "CORS origin {origin:?} must start with https:// or http://"
                )
            }
            Self::NotAnOrigin(origin) => write!(
                f,
                "CORS origin {origin:?} must be scheme://host[:port] with no path or wildcard"
            ),
        }
    }
}

impl std::error::Error for CorsError {}

pub const ALLOWED_HEADERS: &str = "authorization, content-type";
pub const EXPOSED_HEADERS: &str = "retry-after, www-authenticate, server-timing";
pub const MAX_AGE_SECONDS: u32 = 600;

impl CorsPolicy {
    /// `CORS_ALLOWED_ORIGINS`: empty, `*`, or a comma-separated list of origins such as
    /// `https://app.example.com,http://localhost:5173`.
    pub fn parse(raw: &str) -> Result<Self, CorsError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(Self::None);
        }
        if raw == "*" {
            return Ok(Self::Any);
        }
        let mut origins = Vec::new();
        for origin in raw.split(',').map(str::trim) {
            let rest = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"))
                .ok_or_else(|| CorsError::NoScheme(origin.to_owned()))?;
            if rest.is_empty() || rest.contains(['/', '?', '#', '*', ' ']) {
                return Err(CorsError::NotAnOrigin(origin.to_owned()));
            }
            origins.push(origin.to_ascii_lowercase());
        }
        Ok(Self::Origins(origins))
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if allowed.
    pub fn allow_origin(&self, origin: &str) -> Option<String> {
        match self {
            Self::None => None,
            Self::Any => Some("*".to_owned()),
            Self::Origins(list) => list
                .iter()
                .any(|o| o.eq_ignore_ascii_case(origin))
                .then(|| origin.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_origins_are_echoed_others_refused() {
        let p = CorsPolicy::parse("https://app.example.com, http://localhost:5173").unwrap();
        assert_eq!(
            p.allow_origin("https://app.example.com").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(p.allow_origin("https://evil.example.com"), None);
        assert_eq!(p.allow_origin("https://app.example.com.evil.com"), None);
        assert_eq!(p.allow_origin("null"), None);
    }

    #[test]
    fn empty_means_none_and_star_means_any() {
        assert_eq!(
            CorsPolicy::parse("").unwrap().allow_origin("https://a.b"),
            None
        );
        assert_eq!(
            CorsPolicy::parse("*")
                .unwrap()
                .allow_origin("https://a.b")
                .as_deref(),
            Some("*")
        );
    }

    #[test]
    fn rejects_patterns_and_paths() {
        for bad in [
            "https://*.example.com",
            "app.example.com",
            "https://a.b/path",
            "https://",
        ] {
            assert!(CorsPolicy::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_name_the_origin() {
        let err = CorsPolicy::parse("https://a.b, app.example.com").unwrap_err();
        assert_eq!(err, CorsError::NoScheme("app.example.com".into()));
        assert_eq!(
            err.to_string(),
            r#"CORS origin "app.example.com" must start with https:// or http://"#
        );
        let err = CorsPolicy::parse("https://a.b/path").unwrap_err();
        assert_eq!(err, CorsError::NotAnOrigin("https://a.b/path".into()));
        assert_eq!(
            err.to_string(),
            r#"CORS origin "https://a.b/path" must be scheme://host[:port] with no path or wildcard"#
        );
    }
}
