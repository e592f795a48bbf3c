//! A short, human label for a client from its `User-Agent` ("Firefox on Linux"), for the
//! sessions list. Never the raw header: it is long, client-chosen and a fingerprint.

const BROWSERS: &[(&str, &str)] = &[
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
];

const SYSTEMS: &[(&str, &str)] = &[
    ("Windows", "Windows"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
];

pub const UNKNOWN: &str = "Unknown device";

pub fn label(user_agent: Option<&str>) -> String {
    let ua = user_agent.unwrap_or_default();
    let found = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(needle, _)| ua.contains(needle))
            .map(|(_, name)| *name)
    };
    let mut label = match found(BROWSERS) {
        Some(browser) => browser.to_owned(),
        // Not a browser: the first product name ("curl/8.5" -> "curl"), tidied to ASCII.
        None => {
            let product = ua.split(['/', ' ']).next().unwrap_or_default();
            let mut name = String::new();
            for b in product.bytes() {
                if name.len() < 24 && (b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
                    name.push(b as char);
                }
            }
            name
        }
    };
    if label.is_empty() {
        return UNKNOWN.to_owned();
    }
    if let Some(system) = found(SYSTEMS) {
        label.push_str(" on ");
        label.push_str(system);
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_browser_and_system() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari on macOS"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1", "Chrome on iOS"),
            ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome on Android"),
            ("curl/8.5.0", "curl"),
            ("okhttp/4.12.0", "okhttp"),
            ("MyApp/2.1 (iPhone; iOS 18.1)", "MyApp on iOS"),
        ];
        for (ua, want) in cases {
            assert_eq!(label(Some(ua)), want, "{ua}");
        }
    }

    #[test]
    fn odd_input_gets_a_tidy_label() {
        assert_eq!(label(None), UNKNOWN);
        assert_eq!(label(Some("")), UNKNOWN);
        assert_eq!(label(Some("<script>/1")), "script");
        assert_eq!(label(Some(&"x".repeat(500))).len(), 24);
        assert_eq!(label(Some("\u{202e}/1")), UNKNOWN);
    }
}
