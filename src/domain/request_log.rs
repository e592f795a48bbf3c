//! The one structured log line per request, written straight into a string: it runs on
//! every request, so no intermediate JSON values (a `serde_json::json!` map per line).

use std::fmt::Write;

pub struct RequestLine<'a> {
    pub request_id: &'a str,
    pub method: &'a str,
    /// A route pattern or `unmatched`, never the raw path (it could hold anything).
    pub path: &'a str,
    pub status: u16,
    pub duration_ms: u64,
    pub user_id: Option<&'a str>,
}

impl RequestLine<'_> {
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(160);
        out.push_str(r#"{"level":"info","msg":"request","request_id":"#);
        quoted(&mut out, self.request_id);
        out.push_str(r#","method":"#);
        quoted(&mut out, self.method);
        out.push_str(r#","path":"#);
        quoted(&mut out, self.path);
        let _ = write!(
            out,
            r#","status":{},"duration_ms":{},"user_id":"#,
            self.status, self.duration_ms
        );
        match self.user_id {
            Some(id) => quoted(&mut out, id),
            None => out.push_str("null"),
        }
        out.push('}');
        out
    }
}

/// `{"level":"error","msg":..,<key>:..,"detail":..}`: the one shape of an error line
/// (a failed request, a background task, the cron), built like the request line.
pub fn error_line(msg: &str, key: &str, value: &str, detail: &str) -> String {
    let mut out = String::with_capacity(96 + detail.len());
    out.push_str(r#"{"level":"error","msg":"#);
    quoted(&mut out, msg);
    out.push(',');
    quoted(&mut out, key);
    out.push(':');
    quoted(&mut out, value);
    out.push_str(r#","detail":"#);
    quoted(&mut out, detail);
    out.push('}');
    out
}

/// `s` as a JSON string (RFC 8259 escapes).
fn quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn the_line_is_json_with_every_field() {
        let line = RequestLine {
            request_id: "8f0e\"\\\n\u{1}ä",
            method: "GET",
            path: "/v1/me",
            status: 200,
            duration_ms: 3,
            user_id: Some("u1"),
        }
        .render();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v,
            json!({"level": "info", "msg": "request", "request_id": "8f0e\"\\\n\u{1}ä",
                   "method": "GET", "path": "/v1/me", "status": 200, "duration_ms": 3,
                   "user_id": "u1"})
        );
        let anonymous = RequestLine {
            user_id: None,
            ..RequestLine {
                request_id: "r",
                method: "POST",
                path: "unmatched",
                status: 404,
                duration_ms: 0,
                user_id: None,
            }
        }
        .render();
        let v: Value = serde_json::from_str(&anonymous).unwrap();
        assert!(v["user_id"].is_null());
    }

    #[test]
    fn error_lines_are_json_too() {
        let line = error_line("internal error", "request_id", "r\\1", "boom \"x\"\n");
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v,
            json!({"level": "error", "msg": "internal error", "request_id": "r\\1",
                   "detail": "boom \"x\"\n"})
        );
    }
}
