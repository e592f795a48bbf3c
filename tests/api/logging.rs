//! The Worker's own log: one JSON line per request and per security event, and never a
//! password, code, token or secret.

use serde_json::Value;

use crate::common::spawn_app;
use crate::support::*;

#[test]
fn logs_are_structured_and_hold_no_secrets() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "logan");
    let token = start_mfa_login(&app, "logan");
    let code = code(&enrolled.secret, 1);
    let tokens = Tokens::from(&submit_code(&app, &token, &code));
    assert_error(
        &login(&app, "logan", "a wrong password!"),
        401,
        "invalid_credentials",
    );
    app.get_with_token("/v1/me", &tokens.access);
    // Security events are written after the response.
    std::thread::sleep(std::time::Duration::from_millis(300));

    let log = app.log();
    let lines: Vec<Value> = log
        .lines()
        .filter_map(|l| l.find('{').map(|i| &l[i..]))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("msg").is_some())
        .collect();
    let me = lines
        .iter()
        .find(|l| l["msg"] == "request" && l["path"] == "/v1/me")
        .unwrap_or_else(|| panic!("no request line for /v1/me in:\n{log}"));
    for field in ["request_id", "method", "status", "duration_ms", "user_id"] {
        assert!(
            me.get(field).is_some_and(|v| !v.is_null()),
            "{field} missing: {me}"
        );
    }
    assert_eq!(me["status"], 200);
    assert!(lines
        .iter()
        .any(|l| l["msg"] == "security_event" && l["event"] == "login_failed"));

    let secret_b32 = base32::encode(
        base32::Alphabet::Rfc4648 { padding: false },
        enrolled.secret.as_bytes(),
    );
    for secret in [
        PASSWORD,
        "a wrong password!",
        code.as_str(),
        token.as_str(),
        tokens.access.as_str(),
        tokens.refresh.as_str(),
        enrolled.recovery_codes[0].as_str(),
        secret_b32.as_str(),
    ] {
        assert!(!log.contains(secret), "the log contains {secret:?}");
    }
}
