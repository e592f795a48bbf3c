//! The API surface as data, shared by the Worker's router and the tests that check the
//! OpenAPI document against it.

/// Every route and the one method it answers (GET also answers HEAD). A `{name}`
/// segment matches any one non-empty segment; exact paths win over templates.
pub const ROUTES: &[(&str, &str)] = &[
    ("/", "GET"),
    ("/health", "GET"),
    ("/openapi.json", "GET"),
    ("/.well-known/jwks.json", "GET"),
    ("/v1/register", "POST"),
    ("/v1/login", "POST"),
    ("/v1/login/mfa", "POST"),
    ("/v1/token/refresh", "POST"),
    ("/v1/logout", "POST"),
    ("/v1/me", "GET"),
    ("/v1/password", "POST"),
    ("/v1/password/forgot", "POST"),
    ("/v1/password/reset", "POST"),
    ("/v1/account", "DELETE"),
    ("/v1/events", "GET"),
    ("/v1/email", "POST"),
    ("/v1/email/verify", "POST"),
    ("/v1/sessions", "GET"),
    ("/v1/sessions/revoke-others", "POST"),
    ("/v1/sessions/{id}", "DELETE"),
    ("/v1/2fa", "GET"),
    ("/v1/2fa/totp/enroll", "POST"),
    ("/v1/2fa/totp/confirm", "POST"),
    ("/v1/2fa/totp", "DELETE"),
    ("/v1/2fa/recovery-codes", "POST"),
];

/// The route `path` belongs to: `(template, method)`.
pub fn route(path: &str) -> Option<&'static (&'static str, &'static str)> {
    ROUTES
        .iter()
        .find(|(p, _)| *p == path)
        .or_else(|| ROUTES.iter().find(|(p, _)| matches(p, path)))
}

/// The value of the template's last `{...}` segment in `path` (routes have at most one).
pub fn parameter<'a>(template: &str, path: &'a str) -> Option<&'a str> {
    let (prefix, rest) = template.split_once('{')?;
    rest.ends_with('}').then_some(())?;
    path.strip_prefix(prefix)
}

fn matches(template: &str, path: &str) -> bool {
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if ts.starts_with('{') => {
                if ps.is_empty() {
                    return false;
                }
            }
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_paths_win_and_templates_take_one_segment() {
        assert_eq!(route("/v1/sessions").unwrap().1, "GET");
        assert_eq!(route("/v1/sessions/revoke-others").unwrap().1, "POST");
        let (template, method) = route("/v1/sessions/s-123").unwrap();
        assert_eq!((*template, *method), ("/v1/sessions/{id}", "DELETE"));
        assert_eq!(parameter(template, "/v1/sessions/s-123"), Some("s-123"));
        assert!(route("/v1/sessions/").is_none());
        assert!(route("/v1/sessions/a/b").is_none());
        assert!(route("/v1/me/").is_none());
        assert!(route("/v1/nothing").is_none());
    }
}
