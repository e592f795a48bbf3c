//! Text normalisation shared by usernames and passwords.

/// NFKC (Unicode compatibility composition). Inside the Worker the runtime's own ICU
/// (`String.prototype.normalize`) does it, which keeps the Unicode tables (about
/// 140 KB) out of the WASM; natively the unicode-normalization crate does. Both follow
/// the Unicode standard, so a string normalises the same way in the tests and in
/// production.
pub fn nfkc(s: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::JsString::from(s).normalize("NFKC").into()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use unicode_normalization::UnicodeNormalization;
        s.nfkc().collect()
    }
}

/// Unicode default lowercasing (with the final-sigma rule). Inside the Worker the
/// runtime's `String.prototype.toLowerCase` does it (same Unicode rules, and the case
/// tables stay out of the WASM); natively `str::to_lowercase`.
pub fn lowercase(s: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::JsString::from(s).to_lower_case().into()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        s.to_lowercase()
    }
}

/// The path of an absolute URL, as sent (still percent-encoded), without query or
/// fragment. The Worker routes on this instead of parsing the whole URL, which would
/// link IDNA host processing and its Unicode data into the WASM for nothing.
pub fn url_path(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(url, |i| &url[i + 3..]);
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    let end = path.find(['?', '#']).unwrap_or(path.len());
    &path[..end]
}

/// The `name=value` pairs of a URL's query string, as sent: without percent-decoding
/// (no parameter of this API has a value that would need it) and without the `url`
/// crate, whose IDNA tables would cost the WASM about 80 KB gzipped.
pub fn url_query_pairs(url: &str) -> impl Iterator<Item = (&str, &str)> {
    let query = url
        .split_once('?')
        .map_or("", |(_, q)| q.split('#').next().unwrap_or(""));
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_are_split_as_sent() {
        let pairs: Vec<_> =
            url_query_pairs("https://x/v1/events?limit=2&before=e5&flag#frag").collect();
        assert_eq!(pairs, [("limit", "2"), ("before", "e5"), ("flag", "")]);
        assert_eq!(url_query_pairs("https://x/v1/events").count(), 0);
    }

    #[test]
    fn nfkc_folds_compatibility_forms() {
        assert_eq!(nfkc("ａｌｉｃｅ"), "alice");
        assert_eq!(nfkc("ﬁx"), "fix");
        assert_eq!(nfkc("e\u{301}"), "é");
    }

    #[test]
    fn url_path_keeps_only_the_path() {
        assert_eq!(url_path("http://127.0.0.1:8787/v1/me"), "/v1/me");
        assert_eq!(url_path("https://a.example/v1/login?x=1#y"), "/v1/login");
        assert_eq!(url_path("https://a.example"), "/");
        assert_eq!(url_path("https://a.example/?q"), "/");
        assert_eq!(url_path("http://h/%2e%2e/v1/me"), "/%2e%2e/v1/me");
    }
}
