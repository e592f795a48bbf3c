//! Which bodies the JSON routes accept.

/// `application/json`, with or without parameters (`; charset=utf-8`), in any case. Other
/// types, `+json` suffixes included, are refused: a page on another site can make a
/// browser send `text/plain` or a form without a CORS preflight, never `application/json`.
pub fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn only_application_json_is_json() {
        for ok in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            " application/json ;charset=UTF-8",
        ] {
            assert!(is_json(ok), "{ok}");
        }
        for refused in [
            "",
            "text/plain",
            "text/plain; charset=application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonp",
            "application/problem+json",
            "application/json-seq",
        ] {
            assert!(!is_json(refused), "{refused}");
        }
    }
}
