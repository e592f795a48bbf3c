//! `--name value` options (no dependency on an argument-parsing crate).

use std::collections::HashMap;
use std::str::FromStr;

pub struct Args(HashMap<String, String>);

impl Args {
    pub fn parse(args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut map = HashMap::new();
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let name = arg
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {arg:?}"))?;
            let (name, value) = match name.split_once('=') {
                Some((n, v)) => (n.to_owned(), v.to_owned()),
                None => {
                    let value = args
                        .next()
                        .ok_or_else(|| format!("--{name} needs a value"))?;
                    (name.to_owned(), value)
                }
            };
            map.insert(name, value);
        }
        Ok(Self(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn num<T: FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name}: {v:?} is not a valid number")),
        }
    }

    /// `--base-url`, which must point at this machine (loopback only).
    pub fn base_url(&self) -> Result<String, String> {
        self.loopback_url("base-url")?
            .ok_or_else(|| "--base-url is required".into())
    }

    /// The URL option `--name` when given, which must point at this machine (loopback only).
    pub fn loopback_url(&self, name: &str) -> Result<Option<String>, String> {
        let Some(url) = self.get(name) else {
            return Ok(None);
        };
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            format!("--{name} must be http://127.x.y.z:PORT, http://localhost:PORT or http://[::1]:PORT")
        })?;
        let host = if let Some(v6) = rest.strip_prefix('[') {
            v6.split(']').next().unwrap_or_default().to_owned()
        } else {
            rest.split([':', '/']).next().unwrap_or_default().to_owned()
        };
        let loopback = host == "localhost"
            || host == "::1"
            || host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            return Err(format!(
                "--{name} {url}: only loopback addresses may be load-tested"
            ));
        }
        Ok(Some(url.trim_end_matches('/').to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> Args {
        Args::parse(v.iter().map(|s| s.to_string())).unwrap()
    }

    #[test]
    fn only_loopback_urls() {
        for ok in [
            "http://127.0.0.1:8787",
            "http://localhost:1/",
            "http://[::1]:80",
        ] {
            assert!(parse(&["--base-url", ok]).base_url().is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1:8787",
            "http://example.com",
            "https://127.0.0.1",
        ] {
            assert!(parse(&["--base-url", bad]).base_url().is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_and_equals() {
        let a = parse(&["--vus=8", "--duration", "3"]);
        assert_eq!(a.num("vus", 64).unwrap(), 8);
        assert_eq!(a.num("duration", 1).unwrap(), 3);
        assert_eq!(a.num("missing", 5).unwrap(), 5);
    }
}
