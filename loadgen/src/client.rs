//! One HTTP client per virtual user (keep-alive), timing each exchange end to end, and the
//! `Server-Timing` header the Worker adds when started with `SERVER_TIMING=1`.

use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Client {
    agent: ureq::Agent,
    base: String,
    /// `LOADGEN_HEADER="Name: value"`: one extra header on every request (diagnostics, e.g.
    /// talking to wrangler's user-worker port directly with its proxy secret).
    extra: Option<(String, String)>,
    /// Sent as `CF-Connecting-IP` (a header value only: the connection is to loopback).
    client_ip: Option<String>,
}

pub struct Resp {
    pub status: u16,
    pub body: String,
    pub server_timing: Option<String>,
    /// From just before the request is written until the whole body has been read.
    pub elapsed: Duration,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    pub fn ms(&self) -> f64 {
        self.elapsed.as_secs_f64() * 1e3
    }

    /// `HTTP 401: {"error":...}` (the body cut short), for error samples.
    pub fn describe(&self) -> String {
        let body: String = self.body.chars().take(160).collect();
        format!("HTTP {}: {body}", self.status)
    }
}

impl Client {
    pub fn new(base: &str, client_ip: Option<String>) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .redirects(0)
            .max_idle_connections_per_host(1)
            .build();
        let extra = std::env::var("LOADGEN_HEADER").ok().and_then(|h| {
            let (k, v) = h.split_once(':')?;
            Some((k.trim().to_owned(), v.trim().to_owned()))
        });
        Self {
            agent,
            base: base.to_owned(),
            extra,
            client_ip,
        }
    }

    pub fn set_ip(&mut self, ip: Option<String>) {
        self.client_ip = ip;
    }

    /// A transport failure (refused, reset, timeout) is an `Err`; any HTTP status is `Ok`.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        bearer: Option<&str>,
    ) -> Result<Resp, String> {
        let url = format!("{}{}", self.base, path);
        let mut req = self.agent.request(method, &url);
        if let Some(ip) = &self.client_ip {
            req = req.set("CF-Connecting-IP", ip);
        }
        if let Some((k, v)) = &self.extra {
            req = req.set(k, v);
        }
        if let Some(token) = bearer {
            req = req.set("Authorization", &format!("Bearer {token}"));
        }
        let body_text = body.map(Value::to_string);
        let started = Instant::now();
        let result = match &body_text {
            Some(text) => req
                .set("Content-Type", "application/json")
                .send_string(text),
            None => req.call(),
        };
        let response = match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(format!("{method} {path}: {e}")),
        };
        let status = response.status();
        let server_timing = response.header("server-timing").map(str::to_owned);
        let body = response
            .into_string()
            .map_err(|e| format!("{method} {path}: reading the body: {e}"))?;
        Ok(Resp {
            status,
            body,
            server_timing,
            elapsed: started.elapsed(),
        })
    }
}

/// One `Server-Timing` metric: `d1;desc="users.by_name";dur=0.4`.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub desc: Option<String>,
    pub dur: Option<f64>,
}

/// Parses a `Server-Timing` value (RFC: comma-separated metrics, `;`-separated params,
/// `desc` possibly quoted).
pub fn parse_server_timing(header: &str) -> Vec<Metric> {
    split_outside_quotes(header, ',')
        .into_iter()
        .filter_map(|metric| {
            let mut parts = split_outside_quotes(&metric, ';').into_iter();
            let name = parts.next()?.trim().to_owned();
            if name.is_empty() {
                return None;
            }
            let mut m = Metric {
                name,
                desc: None,
                dur: None,
            };
            for param in parts {
                let Some((k, v)) = param.split_once('=') else {
                    continue;
                };
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v);
                match k.trim().to_ascii_lowercase().as_str() {
                    "desc" => m.desc = Some(v.replace("\\\"", "\"")),
                    "dur" => m.dur = v.parse().ok(),
                    _ => {}
                }
            }
            Some(m)
        })
        .collect()
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut escaped) = (false, false);
    for c in s.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => {
                cur.push(c);
                escaped = true;
            }
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c == sep && !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_workers_header() {
        let m = parse_server_timing(
            r#"d1;desc="users.by_name";dur=1.5, kv;desc="get, put";dur=0, app;dur=12"#,
        );
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].name, "d1");
        assert_eq!(m[0].desc.as_deref(), Some("users.by_name"));
        assert_eq!(m[0].dur, Some(1.5));
        assert_eq!(m[1].desc.as_deref(), Some("get, put"));
        assert_eq!(m[1].dur, Some(0.0));
        assert_eq!(m[2].name, "app");
        assert_eq!(m[2].desc, None);
        assert_eq!(m[2].dur, Some(12.0));
        assert!(parse_server_timing("").is_empty());
    }
}
