//! How long a second factor counts (NIST SP 800-63B rev 4, AAL2 reauthentication): at
//! most `AAL2_MAX_AGE` after the login and `AAL2_IDLE_TIMEOUT` between two uses. The
//! test apps set both to seconds so that the test waits seconds, not a day.

use std::thread::sleep;
use std::time::Duration;

use serde_json::json;

use crate::common::{spawn_app_with, TestApp, TestResponse};
use crate::support::*;

fn refresh(app: &TestApp, token: &str) -> TestResponse {
    app.post_json("/v1/token/refresh", &json!({ "refresh_token": token }))
}

fn claims_of(tokens: &Tokens) -> serde_json::Value {
    decode_jwt(&tokens.access).1
}

/// Sleeps until the Worker's clock (whole seconds) is past `deadline`.
fn wait_past(deadline: i64) {
    while now() <= deadline {
        sleep(Duration::from_millis(250));
    }
}

#[test]
fn a_second_factor_stops_counting_a_max_age_after_the_login() {
    let app = spawn_app_with(&[("AAL2_MAX_AGE", "6")]);
    let enrolled = user_with_totp(&app, "arne");
    let login_time = claims_of(&enrolled.tokens)["auth_time"].as_i64().unwrap();

    // Young enough: refresh keeps aal2.
    let young = Tokens::from(&refresh(&app, &enrolled.tokens.refresh));
    assert_eq!(claims_of(&young)["aal"], "aal2");

    wait_past(login_time + 6);
    // The aal2 access token itself is still unexpired, but its second factor is too old
    // for a factor change: the challenge says how recent it must be.
    let too_old = app.post_json_with_token(
        "/v1/2fa/recovery-codes",
        &json!({ "code": code(&enrolled.secret, 1) }),
        &young.access,
    );
    assert_error(&too_old, 401, "insufficient_user_authentication");
    assert_eq!(too_old.json()["max_age"], 6, "{}", too_old.body);
    assert!(
        too_old
            .header("www-authenticate")
            .is_some_and(|h| h.contains(r#"acr_values="aal2""#) && h.contains(r#"max_age="6""#)),
        "{:?}",
        too_old.header("www-authenticate")
    );

    // Refresh goes on, at aal1, and stays there: the session lost its second factor.
    let weaker = Tokens::from(&refresh(&app, &young.refresh));
    let claims = claims_of(&weaker);
    assert_eq!(claims["aal"], "aal1", "{claims}");
    assert_eq!(claims["acr"], "aal1");
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["auth_time"], login_time);
    let me = app.get_with_token("/v1/me", &weaker.access).json();
    assert_eq!(me["aal"], "aal1");
    assert_eq!(me["mfa_enabled"], true);
    let still = Tokens::from(&refresh(&app, &weaker.refresh));
    assert_eq!(claims_of(&still)["aal"], "aal1");

    // Logging in again with the second factor gives a fresh aal2 session.
    let mfa_token = start_mfa_login(&app, "arne");
    // (The code offered with the refused request above was never spent.)
    let again = submit_code(&app, &mfa_token, &code(&enrolled.secret, 1));
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(claims_of(&Tokens::from(&again))["aal"], "aal2");
}

#[test]
fn a_second_factor_stops_counting_after_an_idle_spell() {
    let app = spawn_app_with(&[("AAL2_IDLE_TIMEOUT", "6")]);
    let enrolled = user_with_totp(&app, "bodil");
    let mut tokens = enrolled.tokens;

    // Each refresh is a use: two refreshes 3.5 s apart span more than the idle limit
    // in total and keep aal2.
    for _ in 0..2 {
        sleep(Duration::from_millis(3_500));
        tokens = Tokens::from(&refresh(&app, &tokens.refresh));
        assert_eq!(claims_of(&tokens)["aal"], "aal2");
    }

    // Then a longer silence than the limit: the session goes on at aal1.
    let last_use = now();
    wait_past(last_use + 7);
    let idle = Tokens::from(&refresh(&app, &tokens.refresh));
    assert_eq!(claims_of(&idle)["aal"], "aal1");
    assert_eq!(claims_of(&idle)["amr"], json!(["pwd"]));
    let again = Tokens::from(&refresh(&app, &idle.refresh));
    assert_eq!(claims_of(&again)["aal"], "aal1", "a downgrade is for good");
}
