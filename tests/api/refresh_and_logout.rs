//! Sessions over time: rotation of refresh tokens and logging out.

use serde_json::json;

use crate::common::spawn_app;
use crate::support::*;

fn refresh(app: &crate::common::TestApp, token: &str) -> crate::common::TestResponse {
    app.post_json("/v1/token/refresh", &json!({ "refresh_token": token }))
}

#[test]
fn refresh_tokens_rotate_and_a_replayed_one_ends_the_session() {
    let app = spawn_app();
    let first = register_and_login(&app, "mallory");
    let (_, first_claims) = decode_jwt(&first.access);

    let second = Tokens::from(&refresh(&app, &first.refresh));
    assert_ne!(second.refresh, first.refresh);
    let (_, claims) = decode_jwt(&second.access);
    assert_eq!(claims["sid"], first_claims["sid"], "same session");
    assert_eq!(claims["auth_time"], first_claims["auth_time"]);
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(app.get_with_token("/v1/me", &second.access).status, 200);

    // The rotated-away token is dead...
    assert_error(&refresh(&app, &first.refresh), 401, "invalid_grant");
    // ...and presenting it revoked the whole session, including the newest token.
    assert_error(&refresh(&app, &second.refresh), 401, "invalid_grant");

    assert_error(&refresh(&app, "rt_garbage"), 401, "invalid_grant");
    assert_error(
        &app.post_json("/v1/token/refresh", &json!({})),
        400,
        "invalid_request",
    );
}

#[test]
fn refreshed_tokens_keep_the_second_factor() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "nina");
    let refreshed = Tokens::from(&refresh(&app, &enrolled.tokens.refresh));
    let me = app.get_with_token("/v1/me", &refreshed.access).json();
    assert_eq!(me["aal"], "aal2");
    assert_eq!(me["mfa_enabled"], true);
}

#[test]
fn logout_ends_the_session_but_not_others() {
    let app = spawn_app();
    let phone = register_and_login(&app, "oscar");
    let laptop = Tokens::from(&login(&app, "oscar", PASSWORD));

    let out = app.post_json_with_token("/v1/logout", &json!({}), &phone.access);
    assert_eq!(out.status, 204, "{}", out.body);
    assert_error(&refresh(&app, &phone.refresh), 401, "invalid_grant");
    Tokens::from(&refresh(&app, &laptop.refresh));

    // Logging out with a refresh token in the body revokes that session too.
    let tablet = Tokens::from(&login(&app, "oscar", PASSWORD));
    let desktop = Tokens::from(&login(&app, "oscar", PASSWORD));
    let out = app.post_json_with_token(
        "/v1/logout",
        &json!({ "refresh_token": desktop.refresh }),
        &tablet.access,
    );
    assert_eq!(out.status, 204);
    assert_error(&refresh(&app, &tablet.refresh), 401, "invalid_grant");
    assert_error(&refresh(&app, &desktop.refresh), 401, "invalid_grant");

    // Without a token, logout is refused.
    let anonymous = app.post_json("/v1/logout", &json!({}));
    assert_error(&anonymous, 401, "invalid_token");
}
