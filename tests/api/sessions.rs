//! Where am I logged in: the sessions list, ending one session, ending all the others.

use serde_json::{json, Value};

use crate::common::{spawn_app, TestApp, TestResponse};
use crate::support::*;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

/// A password login from a client with this User-Agent and address.
fn login_from(app: &TestApp, username: &str, user_agent: &str, ip: &str) -> Tokens {
    let body = json!({ "username": username, "password": PASSWORD }).to_string();
    Tokens::from(&app.request(
        "POST",
        "/v1/login",
        Some(&body),
        &[
            ("content-type", "application/json"),
            ("user-agent", user_agent),
            ("cf-connecting-ip", ip),
        ],
    ))
}

fn sessions(app: &TestApp, access: &str) -> Vec<Value> {
    let listed = app.get_with_token("/v1/sessions", access);
    assert_eq!(listed.status, 200, "{}", listed.body);
    listed.json()["sessions"].as_array().unwrap().clone()
}

fn sid(tokens: &Tokens) -> String {
    decode_jwt(&tokens.access).1["sid"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn end(app: &TestApp, access: &str, id: &str) -> TestResponse {
    let auth = format!("Bearer {access}");
    app.request(
        "DELETE",
        &format!("/v1/sessions/{id}"),
        None,
        &[("authorization", &auth)],
    )
}

fn end_others(app: &TestApp, access: &str) -> TestResponse {
    let auth = format!("Bearer {access}");
    app.request(
        "POST",
        "/v1/sessions/revoke-others",
        None,
        &[("authorization", &auth)],
    )
}

fn refresh(app: &TestApp, tokens: &Tokens) -> TestResponse {
    app.post_json(
        "/v1/token/refresh",
        &json!({ "refresh_token": tokens.refresh }),
    )
}

#[test]
fn the_list_tells_each_login_apart_and_marks_the_callers_own() {
    let app = spawn_app();
    register(&app, "tess");
    let laptop = login_from(&app, "tess", FIREFOX, "203.0.113.7");
    let phone = login_from(&app, "tess", IPHONE, "2001:db8::42");
    register_and_login(&app, "ulf");

    let listed = sessions(&app, &laptop.access);
    assert_eq!(listed.len(), 2, "{listed:?}");
    let of = |id: &str| listed.iter().find(|s| s["id"] == id).unwrap().clone();
    let mine = of(&sid(&laptop));
    assert_eq!(mine["current"], true);
    assert_eq!(mine["device"], "Firefox on Linux");
    assert_eq!(mine["ip"], "203.0.113.7");
    assert_eq!(mine["amr"], json!(["pwd"]));
    assert_eq!(mine["aal"], "aal1");
    assert!(mine["created_at"].as_i64().unwrap() > 1_700_000_000);
    let other = of(&sid(&phone));
    assert_eq!(other["current"], false);
    assert_eq!(other["device"], "Safari on iOS");
    assert_eq!(other["ip"], "2001:db8::42");
    // The raw User-Agent is never stored.
    let stored = app.d1("SELECT device FROM sessions");
    assert!(stored
        .iter()
        .all(|r| !r["device"].as_str().unwrap().contains("Mozilla")));

    // A refresh from elsewhere is the session's last use and address.
    app.set_client_ip("198.51.100.9");
    let phone = Tokens::from(&refresh(&app, &phone));
    let other = sessions(&app, &laptop.access)
        .into_iter()
        .find(|s| s["id"] == sid(&phone).as_str())
        .unwrap();
    assert_eq!(other["ip"], "198.51.100.9");
    assert_eq!(other["device"], "Safari on iOS");
}

#[test]
fn a_2fa_session_lists_as_aal2() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "vera");
    let listed = sessions(&app, &enrolled.tokens.access);
    let current: Vec<&Value> = listed.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1, "{listed:?}");
    assert_eq!(current[0]["aal"], "aal2");
    assert_eq!(current[0]["amr"], json!(["pwd", "otp", "mfa"]));
}

#[test]
fn ending_one_session_kills_its_refresh_token_and_nothing_else() {
    let app = spawn_app();
    register(&app, "walt");
    let laptop = login_from(&app, "walt", FIREFOX, "203.0.113.7");
    let phone = login_from(&app, "walt", IPHONE, "203.0.113.8");

    let ended = end(&app, &laptop.access, &sid(&phone));
    assert_eq!(ended.status, 204, "{}", ended.body);
    let refused = refresh(&app, &phone);
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()["error"], "invalid_grant");
    // The ended session's access token can no longer list or end sessions.
    let stale = app.get_with_token("/v1/sessions", &phone.access);
    assert_eq!(stale.status, 401);
    assert_eq!(stale.json()["error"], "invalid_token");
    assert_eq!(end(&app, &phone.access, &sid(&laptop)).status, 401);

    let left = sessions(&app, &laptop.access);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["id"], sid(&laptop).as_str());
    // Once ended, the id names nothing.
    let again = end(&app, &laptop.access, &sid(&phone));
    assert_eq!(again.status, 404);
    assert_eq!(again.json()["error"], "session_not_found");
    Tokens::from(&refresh(&app, &laptop));

    let events = app.get_with_token("/v1/events", &laptop.access).json()["events"].clone();
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"sessions_ended"), "{kinds:?}");
}

#[test]
fn nobody_can_see_or_end_another_users_session() {
    let app = spawn_app();
    let xena = register_and_login(&app, "xena");
    let yuri = register_and_login(&app, "yuri");

    let listed = sessions(&app, &yuri.access);
    assert_eq!(listed.len(), 1);
    assert_ne!(listed[0]["id"], sid(&xena).as_str());

    let refused = end(&app, &yuri.access, &sid(&xena));
    assert_eq!(refused.status, 404, "{}", refused.body);
    assert_eq!(refused.json()["error"], "session_not_found");
    // Exactly what an id that never existed gets.
    let unknown = end(&app, &yuri.access, "AAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body, refused.body);
    let junk = end(&app, &yuri.access, "..%2F..");
    assert_eq!(junk.status, 404);
    assert_eq!(junk.json()["error"], "session_not_found");
    // Xena's session lives on.
    Tokens::from(&refresh(&app, &xena));
    assert_eq!(sessions(&app, &xena.access).len(), 1);
}

#[test]
fn logging_out_everywhere_else_keeps_only_this_session() {
    let app = spawn_app();
    register(&app, "zoe");
    let here = login_from(&app, "zoe", FIREFOX, "203.0.113.7");
    let phone = login_from(&app, "zoe", IPHONE, "203.0.113.8");
    let tablet = login_from(&app, "zoe", IPHONE, "203.0.113.9");
    let bystander = register_and_login(&app, "amos");

    let ended = end_others(&app, &here.access);
    assert_eq!(ended.status, 204, "{}", ended.body);
    for gone in [&phone, &tablet] {
        assert_eq!(refresh(&app, gone).status, 401);
    }
    let left = sessions(&app, &here.access);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["current"], true);
    Tokens::from(&refresh(&app, &here));
    Tokens::from(&refresh(&app, &bystander));
    // The event says how many ended; with nothing left to end, nothing is recorded.
    assert_eq!(end_others(&app, &here.access).status, 204);
    let events = app.get_with_token("/v1/events", &here.access).json()["events"].clone();
    let ended: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "sessions_ended")
        .collect();
    assert_eq!(ended.len(), 1, "{events}");
    assert_eq!(ended[0]["detail"], "2");
}
