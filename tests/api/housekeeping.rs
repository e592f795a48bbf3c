//! The scheduled housekeeping (the Cron Trigger): what it forgets, what it keeps, and
//! the key rotations it finishes.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

use serde_json::{json, Value};

use crate::common::{spawn_app, spawn_app_with, TestApp};
use crate::support::*;

/// `kid:base64url(32 bytes)` with the bytes all `fill`.
fn key(kid: &str, fill: u8) -> String {
    format!("{kid}:{}", URL_SAFE_NO_PAD.encode([fill; 32]))
}

fn count(app: &TestApp, table_and_filter: &str) -> i64 {
    let rows = app.d1(&format!("SELECT count(*) AS n FROM {table_and_filter}"));
    rows[0]["n"].as_i64().unwrap()
}

fn reports(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("\"msg\":\"housekeeping\""))
        .collect()
}

/// Runs the Cron Trigger and returns its one log line. wrangler writes the Worker's
/// console to the log after `/__scheduled` has answered, so wait for the new line.
fn cron(app: &TestApp) -> Value {
    let seen = reports(&app.log()).len();
    app.run_cron();
    app.wait_for_log("new housekeeping line", |log| {
        let line = *reports(log).get(seen)?;
        let start = line.find('{').unwrap();
        Some(serde_json::from_str(&line[start..]).unwrap())
    })
}

#[test]
fn the_cron_forgets_old_rows_and_keeps_live_ones() {
    let app = spawn_app();
    let user = register(&app, "olga");
    let live = Tokens::from(&login(&app, "olga", PASSWORD));
    let logged_out = Tokens::from(&login(&app, "olga", PASSWORD));
    let out = app.post_json_with_token(
        "/v1/logout",
        &json!({ "refresh_token": logged_out.refresh }),
        &logged_out.access,
    );
    assert_eq!(out.status, 204, "{}", out.body);
    assert_eq!(login(&app, "olga", "wrong password, once").status, 401);
    let events_before = app.get_with_token("/v1/events", &live.access).json()["events"]
        .as_array()
        .unwrap()
        .len();

    // Rows from long ago, which no request can write.
    app.d1(&format!(
        "INSERT INTO sessions (id, user_id, refresh_hash, authentication, created_at, expires_at, revoked_at) VALUES \
           ('old-revoked', '{user}', 'h-revoked', '{{}}', 1000, 9999999999, 2000), \
           ('old-expired', '{user}', 'h-expired', '{{}}', 1000, 3000, NULL); \
         INSERT INTO retired_refresh_tokens (hash, session_id, retired_at) VALUES ('r-old', 'old-revoked', 1500); \
         INSERT INTO security_events (user_id, kind, at) VALUES ('{user}', 'login', 1000); \
         INSERT INTO mfa_attempts (token_hash, user_id, expires_at) VALUES ('t-old', '{user}', 1000); \
         INSERT INTO throttle (key, failures, locked_until) VALUES \
           ('pwd:someone-idle', 3, 1000), ('cap:password:someone-capped', 60, 1000);"
    ));

    let report = cron(&app);
    assert_eq!(
        report["purged"],
        json!({ "sessions": 2, "retired_refresh_tokens": 1, "mfa_attempts": 1,
                "throttle": 1, "security_events": 1 }),
        "{report}"
    );
    assert_eq!(count(&app, "sessions WHERE id LIKE 'old-%'"), 0);
    assert_eq!(
        count(&app, "retired_refresh_tokens WHERE hash = 'r-old'"),
        0
    );
    assert_eq!(count(&app, "mfa_attempts"), 0);
    assert_eq!(count(&app, "security_events WHERE at = 1000"), 0);
    // A hard cap is never forgotten by age; the fresh failure is still counted.
    assert_eq!(
        count(&app, "throttle WHERE key = 'cap:password:someone-capped'"),
        1
    );
    assert_eq!(count(&app, "throttle WHERE key = 'pwd:olga'"), 1);
    // Today's sessions stay, the logged-out one too (for a day), and the live one works.
    assert_eq!(
        count(&app, &format!("sessions WHERE user_id = '{user}'")),
        2
    );
    let refreshed = app.post_json(
        "/v1/token/refresh",
        &json!({ "refresh_token": live.refresh }),
    );
    let refreshed = Tokens::from(&refreshed);
    let events = app.get_with_token("/v1/events", &refreshed.access).json()["events"]
        .as_array()
        .unwrap()
        .len();
    assert!(events >= events_before, "{events} < {events_before}");

    // A second run finds nothing more to do.
    assert_eq!(
        cron(&app)["purged"],
        json!({ "sessions": 0, "retired_refresh_tokens": 0, "mfa_attempts": 0,
                "throttle": 0, "security_events": 0 })
    );
}

#[test]
fn the_cron_re_seals_totp_secrets_so_the_old_key_can_go() {
    let t1 = key("t1", 7);
    let t2 = key("t2", 8);
    let mut app = spawn_app_with(&[("TOTP_ENCRYPTION_KEYS", &t1)]);
    let enrolled = user_with_totp(&app, "pilar");
    user_with_totp(&app, "quentin");
    let sealed = |app: &TestApp| -> Vec<String> {
        app.d1("SELECT totp_secret FROM users ORDER BY username")
            .iter()
            .map(|r| r["totp_secret"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(sealed(&app).iter().all(|s| s.starts_with("t1.")));

    // Rotation: t2 first, t1 still there. Nobody logs in; the cron re-seals both.
    app.restart_with(&[("TOTP_ENCRYPTION_KEYS", &format!("{t2},{t1}"))]);
    let report = cron(&app);
    assert_eq!(report["totp_resealed"], 2, "{report}");
    assert_eq!(report["totp_unopenable"], 0, "{report}");
    assert!(sealed(&app).iter().all(|s| s.starts_with("t2.")));
    assert_eq!(cron(&app)["totp_resealed"], 0);

    // t1 retired: the secret still opens, so the user's next code logs in.
    app.restart_with(&[("TOTP_ENCRYPTION_KEYS", &t2)]);
    let token = start_mfa_login(&app, "pilar");
    Tokens::from(&submit_code(&app, &token, &code(&enrolled.secret, 1)));
}

#[test]
fn the_cron_leaves_a_secret_it_cannot_open_and_says_so() {
    let t1 = key("t1", 7);
    let t2 = key("t2", 8);
    let mut app = spawn_app_with(&[("TOTP_ENCRYPTION_KEYS", &t1)]);
    user_with_totp(&app, "rosa");
    let before = app.d1("SELECT totp_secret FROM users")[0]["totp_secret"].clone();

    // t1 dropped too early: nothing can open the secret, and nothing overwrites it.
    app.restart_with(&[("TOTP_ENCRYPTION_KEYS", &t2)]);
    let report = cron(&app);
    assert_eq!(report["totp_unopenable"], 1, "{report}");
    assert_eq!(report["totp_resealed"], 0, "{report}");
    assert_eq!(
        app.d1("SELECT totp_secret FROM users")[0]["totp_secret"],
        before
    );
}

#[test]
fn recovery_codes_survive_a_rotation_of_their_key() {
    // The old format: one bare key. Then a list whose newest entry has a kid.
    let old = URL_SAFE_NO_PAD.encode([5u8; 32]);
    let mut app = spawn_app_with(&[("RECOVERY_CODE_KEY", &old)]);
    let enrolled = user_with_totp(&app, "sven");

    app.restart_with(&[("RECOVERY_CODE_KEY", &format!("{},{old}", key("r2", 6)))]);
    let token = start_mfa_login(&app, "sven");
    let by_old = app.post_json(
        "/v1/login/mfa",
        &json!({ "mfa_token": token, "recovery_code": enrolled.recovery_codes[0] }),
    );
    let session = Tokens::from(&by_old);

    // Codes issued now are hashed under the newest key, and they work.
    let regenerated = app.post_json_with_token(
        "/v1/2fa/recovery-codes",
        &json!({ "code": code(&enrolled.secret, 1) }),
        &session.access,
    );
    assert_eq!(regenerated.status, 200, "{}", regenerated.body);
    let fresh: Vec<String> = regenerated.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let hashes = app.d1("SELECT code_hash FROM recovery_codes WHERE used_at IS NULL");
    assert_eq!(hashes.len(), fresh.len());
    assert!(hashes
        .iter()
        .all(|h| h["code_hash"].as_str().unwrap().starts_with("r2$")));

    // With the old key gone, an old code no longer matches; a new one does.
    app.restart_with(&[("RECOVERY_CODE_KEY", &key("r2", 6))]);
    let token = start_mfa_login(&app, "sven");
    let stale = app.post_json(
        "/v1/login/mfa",
        &json!({ "mfa_token": token, "recovery_code": enrolled.recovery_codes[1] }),
    );
    assert_error(&stale, 401, "invalid_code");
    let by_new = app.post_json(
        "/v1/login/mfa",
        &json!({ "mfa_token": token, "recovery_code": fresh[0] }),
    );
    Tokens::from(&by_new);
}
