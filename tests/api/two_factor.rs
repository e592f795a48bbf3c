//! Enrolling TOTP and the two-step login.

use serde_json::json;

use crate::common::spawn_app;
use crate::support::*;

#[test]
fn enrolment_needs_the_password_and_a_correct_first_code() {
    let app = spawn_app();
    let tokens = register_and_login(&app, "erin");

    let wrong = app.post_json_with_token(
        "/v1/2fa/totp/enroll",
        &json!({ "password": "not my password!" }),
        &tokens.access,
    );
    assert_error(&wrong, 401, "invalid_credentials");

    let confirm_early = app.post_json_with_token(
        "/v1/2fa/totp/confirm",
        &json!({ "code": "123456" }),
        &tokens.access,
    );
    assert_error(&confirm_early, 410, "enrollment_expired");

    let enroll = app.post_json_with_token(
        "/v1/2fa/totp/enroll",
        &json!({ "password": PASSWORD }),
        &tokens.access,
    );
    assert_eq!(enroll.status, 200, "{}", enroll.body);
    assert_eq!(enroll.header("cache-control"), Some("no-store"));
    let body = enroll.json();
    let secret_b32 = body["secret"].as_str().unwrap();
    assert_eq!(secret_b32.len(), 32, "160-bit secret, unpadded base32");
    let uri = body["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/Edge%20Login:erin?"),
        "{uri}"
    );
    assert!(uri.contains(&format!("secret={secret_b32}")), "{uri}");
    assert!(uri.contains("issuer=Edge%20Login"), "{uri}");
    assert!(body["qr_svg"].as_str().unwrap().starts_with("<svg"));
    assert_eq!(body["expires_in"], 600);
    let secret = secret_from(&body);

    // 2FA is not on until a code is confirmed: login still needs only the password.
    assert_eq!(
        login(&app, "erin", PASSWORD).json()["status"],
        "authenticated"
    );

    let wrong_code = if code(&secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let bad = app.post_json_with_token(
        "/v1/2fa/totp/confirm",
        &json!({ "code": wrong_code }),
        &tokens.access,
    );
    assert_error(&bad, 401, "invalid_code");

    let confirmed = app.post_json_with_token(
        "/v1/2fa/totp/confirm",
        &json!({ "code": code(&secret, 0) }),
        &tokens.access,
    );
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let body = confirmed.json();
    let codes = body["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    let new_tokens = Tokens::from(&confirmed);
    let (_, claims) = decode_jwt(&new_tokens.access);
    assert_eq!(claims["aal"], "aal2");
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));

    // The secret is never shown again, and enrolling twice is refused.
    let again = app.post_json_with_token(
        "/v1/2fa/totp/enroll",
        &json!({ "password": PASSWORD }),
        &new_tokens.access,
    );
    assert_error(&again, 409, "already_enabled");
    assert!(!again.body.contains(secret_b32));
}

#[test]
fn a_totp_user_logs_in_in_two_steps_and_each_code_works_once() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "frank");

    let first = login(&app, "frank", PASSWORD);
    assert_eq!(first.status, 200, "{}", first.body);
    let body = first.json();
    assert_eq!(body["status"], "mfa_required");
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    assert_eq!(body["expires_in"], 300);
    assert!(body.get("access_token").is_none());
    let mfa_token = body["mfa_token"].as_str().unwrap().to_owned();

    // The code that confirmed enrolment was consumed: replaying it fails.
    let replay = submit_code(&app, &mfa_token, &enrolled.first_code);
    assert_error(&replay, 401, "invalid_code");
    assert_eq!(replay.json()["attempts_remaining"], 4);

    // The next step's code (inside the ±1 step window) succeeds.
    let next_code = code(&enrolled.secret, 1);
    let tokens = Tokens::from(&submit_code(&app, &mfa_token, &next_code));
    let me = app.get_with_token("/v1/me", &tokens.access).json();
    assert_eq!(me["aal"], "aal2");
    assert_eq!(me["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(me["mfa_enabled"], true);

    // The mfa_token is single use.
    assert_error(
        &submit_code(&app, &mfa_token, &next_code),
        401,
        "invalid_mfa_token",
    );
    // The same code on a fresh login is a replay.
    let fresh = start_mfa_login(&app, "frank");
    assert_error(&submit_code(&app, &fresh, &next_code), 401, "invalid_code");
}

#[test]
fn five_wrong_codes_end_an_mfa_token() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "grace");
    let mfa_token = start_mfa_login(&app, "grace");
    let good = code(&enrolled.secret, 1);
    let wrong = if good == "999999" { "999998" } else { "999999" };

    for remaining in (0..5).rev() {
        let response = submit_code(&app, &mfa_token, wrong);
        assert_error(&response, 401, "invalid_code");
        assert_eq!(response.json()["attempts_remaining"], remaining);
    }
    // Even the right code is refused now.
    assert_error(
        &submit_code(&app, &mfa_token, &good),
        401,
        "invalid_mfa_token",
    );
}

#[test]
fn recovery_codes_log_in_once_each_and_are_marked() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "heidi");
    let recovery = &enrolled.recovery_codes[0];

    let mfa_token = start_mfa_login(&app, "heidi");
    // Typed sloppily: upper case, spaces instead of dashes.
    let sloppy = recovery.to_uppercase().replace('-', " ");
    let response = app.post_json(
        "/v1/login/mfa",
        &json!({ "mfa_token": mfa_token, "recovery_code": sloppy }),
    );
    let tokens = Tokens::from(&response);
    let (_, claims) = decode_jwt(&tokens.access);
    assert_eq!(claims["amr"], json!(["pwd", "recovery", "mfa"]));
    assert_eq!(claims["aal"], "aal2");

    let again = start_mfa_login(&app, "heidi");
    let reused = app.post_json(
        "/v1/login/mfa",
        &json!({ "mfa_token": again, "recovery_code": recovery }),
    );
    assert_error(&reused, 401, "invalid_code");

    // Another of the ten still works.
    let other = app.post_json(
        "/v1/login/mfa",
        &json!({ "mfa_token": again, "recovery_code": enrolled.recovery_codes[1] }),
    );
    Tokens::from(&other);
}

#[test]
fn an_mfa_token_is_not_an_access_token() {
    let app = spawn_app();
    user_with_totp(&app, "ivan");
    let mfa_token = start_mfa_login(&app, "ivan");

    assert_error(
        &app.get_with_token("/v1/me", &mfa_token),
        401,
        "invalid_token",
    );
    let enroll = app.post_json_with_token(
        "/v1/2fa/totp/enroll",
        &json!({ "password": PASSWORD }),
        &mfa_token,
    );
    assert_error(&enroll, 401, "invalid_token");
    let logout = app.post_json_with_token("/v1/logout", &json!({}), &mfa_token);
    assert_error(&logout, 401, "invalid_token");
}

#[test]
fn mfa_requests_need_a_real_token_and_one_well_formed_code() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "judy");
    let mfa_token = start_mfa_login(&app, "judy");

    let forged = format!("mfa_{}", "A".repeat(43));
    assert_error(
        &submit_code(&app, &forged, &code(&enrolled.secret, 1)),
        401,
        "invalid_mfa_token",
    );
    for bad_code in ["12345", "1234567", "12345a", " 123456", "１２３４５６"] {
        assert_error(
            &submit_code(&app, &mfa_token, bad_code),
            400,
            "invalid_request",
        );
    }
    let both = app.post_json(
        "/v1/login/mfa",
        &json!({ "mfa_token": mfa_token, "code": "123456", "recovery_code": enrolled.recovery_codes[0] }),
    );
    assert_error(&both, 400, "invalid_request");
    let neither = app.post_json("/v1/login/mfa", &json!({ "mfa_token": mfa_token }));
    assert_error(&neither, 400, "invalid_request");
    // Malformed input did not use up attempts: the right code still works.
    Tokens::from(&submit_code(&app, &mfa_token, &code(&enrolled.secret, 1)));
}
