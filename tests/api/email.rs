//! Email: the verification code, the verified address in tokens, security notices. The
//! messages are read from the files the local `send_email` binding writes.

use serde_json::json;

use crate::common::{spawn_app, TestApp};
use crate::support::*;

fn verify(app: &TestApp, code: &str) -> crate::common::TestResponse {
    app.post_json("/v1/email/verify", &json!({ "code": code }))
}

#[test]
fn an_address_is_verified_by_its_code_once_and_then_appears_in_tokens() {
    let app = spawn_app();
    register(&app, "hanna");
    let before = Tokens::from(&login(&app, "hanna", PASSWORD));
    let me = app.get_with_token("/v1/me", &before.access).json();
    assert_eq!(me["email"], serde_json::Value::Null, "{me}");
    assert_eq!(me["email_verified"], false);

    let mails = app.wait_for_emails("hanna@example.com", 1);
    let mail = &mails[0];
    assert_eq!(mail.subject, "Confirm your email address");
    let code = mail.code("evc_");
    assert_eq!(code.len(), 4 + 43);
    assert!(mail.html.contains(&code), "{}", mail.html);
    assert!(!mail.text.contains(PASSWORD));

    // Junk and a wrong code change nothing.
    for bad in ["evc_nope", &format!("evc_{}", "A".repeat(43))] {
        let refused = verify(&app, bad);
        assert_eq!(refused.status, 401, "{}", refused.body);
        assert_eq!(refused.json()["error"], "invalid_email_code");
    }
    assert_eq!(verify(&app, &code).status, 204);
    let again = verify(&app, &code);
    assert_eq!(again.status, 401);
    assert_eq!(again.json()["error"], "invalid_email_code");

    let after = Tokens::from(&login(&app, "hanna", PASSWORD));
    let me = app.get_with_token("/v1/me", &after.access).json();
    assert_eq!(me["email"], "hanna@example.com");
    assert_eq!(me["email_verified"], true);
    let (_, claims) = decode_jwt(&after.access);
    assert_eq!(claims["email"], "hanna@example.com");
    assert_eq!(claims["email_verified"], true);
    // A refreshed token says the same.
    let refreshed = Tokens::from(&app.post_json(
        "/v1/token/refresh",
        &json!({ "refresh_token": after.refresh }),
    ));
    assert_eq!(decode_jwt(&refreshed.access).1["email_verified"], true);
    // The address hears that it was confirmed.
    let mails = app.wait_for_emails("hanna@example.com", 2);
    assert_eq!(
        mails[1].subject,
        "This address was confirmed for your account"
    );
}

#[test]
fn security_notices_go_to_a_verified_address_only() {
    let app = spawn_app();
    register(&app, "ivo");
    register(&app, "jana");
    let code = app.wait_for_emails("ivo@example.com", 1)[0].code("evc_");
    assert_eq!(verify(&app, &code).status, 204);
    app.wait_for_emails("ivo@example.com", 2);

    // A login from a client with no device token is a new device; with one, it is not.
    let first = login(&app, "ivo", PASSWORD);
    let device = first.json()["device_token"].as_str().unwrap().to_owned();
    let mails = app.wait_for_emails("ivo@example.com", 3);
    assert_eq!(mails[2].subject, "A new device signed in to your account");
    assert!(mails[2].text.contains("127.0.0.1") || mails[2].text.contains("from"));
    let known = app.post_json(
        "/v1/login",
        &json!({ "username": "ivo", "password": PASSWORD, "device_token": device }),
    );
    let tokens = Tokens::from(&known);

    let changed = app.post_json_with_token(
        "/v1/password",
        &json!({ "current_password": PASSWORD, "new_password": "a different long passphrase" }),
        &tokens.access,
    );
    assert_eq!(changed.status, 200, "{}", changed.body);
    let mails = app.wait_for_emails("ivo@example.com", 4);
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(
        subjects[3], "Your password was changed",
        "the known-device login sent nothing: {subjects:?}"
    );

    // Jana never verified hers: her logins and changes send nothing.
    let jana = Tokens::from(&login(&app, "jana", PASSWORD));
    let changed = app.post_json_with_token(
        "/v1/password",
        &json!({ "current_password": PASSWORD, "new_password": "a different long passphrase" }),
        &jana.access,
    );
    assert_eq!(changed.status, 200);
    // Ivo's next notice proves the queue has moved past Jana's events.
    login(&app, "ivo", "a different long passphrase");
    app.wait_for_emails("ivo@example.com", 5);
    assert_eq!(app.wait_for_emails("jana@example.com", 1).len(), 1);
}

#[test]
fn changing_the_address_needs_the_password_and_a_second_factor_and_tells_the_old_one() {
    let app = spawn_app();
    register(&app, "karl");
    register(&app, "lisa");
    // Both confirm their addresses.
    for name in ["karl", "lisa"] {
        let to = format!("{name}@example.com");
        let code = app.wait_for_emails_about(&to, "Confirm your email address", 1)[0].code("evc_");
        assert_eq!(verify(&app, &code).status, 204);
    }
    let karl = Tokens::from(&login(&app, "karl", PASSWORD));
    let change =
        |body: serde_json::Value| app.post_json_with_token("/v1/email", &body, &karl.access);

    assert_error(
        &change(json!({ "password": "not the password", "email": "karl@new.example" })),
        401,
        "invalid_credentials",
    );
    assert_error(
        &change(json!({ "password": PASSWORD, "email": "not an address" })),
        400,
        "invalid_request",
    );
    // Lisa has verified hers: it cannot become Karl's.
    assert_error(
        &change(json!({ "password": PASSWORD, "email": "lisa@example.com" })),
        409,
        "email_taken",
    );
    let me = app.get_with_token("/v1/me", &karl.access).json();
    assert_eq!(me["email"], "karl@example.com", "nothing changed: {me}");

    let done = change(json!({ "password": PASSWORD, "email": "karl@new.example" }));
    assert_eq!(done.status, 204, "{}", done.body);
    // The old address hears of it; the new one gets a code, and is not verified until
    // the code comes back.
    app.wait_for_emails_about(
        "karl@example.com",
        "Your account's email address was changed to another one",
        1,
    );
    let code = app.wait_for_emails_about("karl@new.example", "Confirm your email address", 1)[0]
        .code("evc_");
    let fresh = Tokens::from(&login(&app, "karl", PASSWORD));
    let me = app.get_with_token("/v1/me", &fresh.access).json();
    assert_eq!(me["email"], serde_json::Value::Null, "{me}");
    assert_eq!(me["email_verified"], false);
    assert_eq!(verify(&app, &code).status, 204);
    let after = Tokens::from(&login(&app, "karl", PASSWORD));
    let me = app.get_with_token("/v1/me", &after.access).json();
    assert_eq!(me["email"], "karl@new.example", "{me}");
    assert_eq!(me["email_verified"], true);
    let kinds: Vec<String> = app.get_with_token("/v1/events", &after.access).json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.iter().any(|k| k == "email_changed"), "{kinds:?}");
}

#[test]
fn with_2fa_on_the_address_changes_only_with_a_fresh_second_factor_and_old_codes_die() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "mira");
    // A reset code mailed to the old address before the change.
    let forgot = app.post_json("/v1/password/forgot", &json!({ "username": "mira" }));
    assert_eq!(forgot.status, 202);
    let reset_code =
        app.wait_for_emails_about("mira@example.com", "Reset your password", 1)[0].code("rst_");
    let change = |body: serde_json::Value| {
        app.post_json_with_token("/v1/email", &body, &enrolled.tokens.access)
    };
    assert_error(
        &change(json!({ "password": PASSWORD, "email": "mira@new.example" })),
        400,
        "invalid_request",
    );
    assert_error(
        &change(
            json!({ "password": PASSWORD, "email": "mira@new.example", "code": wrong_code(&enrolled.secret) }),
        ),
        401,
        "invalid_code",
    );
    let done = change(
        json!({ "password": PASSWORD, "email": "mira@new.example", "code": code(&enrolled.secret, 1) }),
    );
    assert_eq!(done.status, 204, "{}", done.body);
    app.wait_for_emails_about("mira@new.example", "Confirm your email address", 1);
    // The reset code went to the old address: it no longer works.
    let reset = app.post_json(
        "/v1/password/reset",
        &json!({ "reset_code": reset_code, "new_password": "a brand new passphrase", "recovery_code": enrolled.recovery_codes[0] }),
    );
    assert_error(&reset, 401, "invalid_email_code");
}

/// Every second-factor event of the list mails its notice to a verified address.
#[test]
fn each_second_factor_change_sends_its_notice() {
    let app = spawn_app();
    register(&app, "nils");
    let to = "nils@example.com";
    let code = app.wait_for_emails_about(to, "Confirm your email address", 1)[0].code("evc_");
    assert_eq!(verify(&app, &code).status, 204);
    let enrolled = enable_totp(&app, &Tokens::from(&login(&app, "nils", PASSWORD)));
    app.wait_for_emails_about(
        to,
        "An authenticator app was added as your second factor",
        1,
    );

    // A recovery code as the second step of a login.
    let mfa_token = start_mfa_login(&app, "nils");
    let signed_in = app.post_json(
        "/v1/login/mfa",
        &json!({ "mfa_token": mfa_token, "recovery_code": enrolled.recovery_codes[0] }),
    );
    let aal2 = Tokens::from(&signed_in);
    app.wait_for_emails_about(to, "A recovery code was used to sign in", 1);

    let replaced = app.post_json_with_token(
        "/v1/2fa/recovery-codes",
        &json!({ "recovery_code": enrolled.recovery_codes[1] }),
        &aal2.access,
    );
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    app.wait_for_emails_about(to, "Your recovery codes were replaced", 1);
    let fresh = replaced.json()["recovery_codes"][0]
        .as_str()
        .unwrap()
        .to_owned();

    let off = app.delete_json_with_token(
        "/v1/2fa/totp",
        &json!({ "password": PASSWORD, "recovery_code": fresh }),
        &aal2.access,
    );
    assert_eq!(off.status, 204, "{}", off.body);
    app.wait_for_emails_about(to, "Two-factor authentication was turned off", 1);
}
