//! The attack suite: brute force, races, enumeration and per-IP limits, each against
//! the running Worker.

use std::time::Instant;

use serde_json::json;

use crate::common::spawn_app;
use crate::support::*;

#[test]
fn five_wrong_passwords_lock_the_account_and_an_unknown_name_alike() {
    let app = spawn_app();
    register(&app, "victim");

    for _ in 0..5 {
        assert_error(
            &login(&app, "victim", "wrong password!!"),
            401,
            "invalid_credentials",
        );
        assert_error(
            &login(&app, "ghost", "wrong password!!"),
            401,
            "invalid_credentials",
        );
    }
    // Even the right password waits now.
    let locked = login(&app, "victim", PASSWORD);
    assert_error(&locked, 429, "too_many_attempts");
    let wait = locked.json()["retry_after"].as_i64().unwrap();
    assert!(
        (25..=30).contains(&wait),
        "a 30 s delay, counted down: {wait}"
    );
    assert_eq!(
        locked.header("retry-after"),
        Some(wait.to_string().as_str())
    );

    // The same answer for a name that does not exist, up to the clock ticking.
    let ghost = login(&app, "ghost", PASSWORD);
    assert_eq!(ghost.status, locked.status);
    let without_clock = |r: &crate::common::TestResponse| {
        let mut body = r.json();
        let wait = body["retry_after"].take();
        body["message"] = body["message"]
            .as_str()
            .unwrap()
            .replace(&wait.to_string(), "N")
            .into();
        body
    };
    assert_eq!(without_clock(&ghost), without_clock(&locked));
}

#[test]
fn a_correct_password_resets_the_count() {
    let app = spawn_app();
    register(&app, "walter");
    for _round in 0..2 {
        for _ in 0..4 {
            assert_error(
                &login(&app, "walter", "wrong password!!"),
                401,
                "invalid_credentials",
            );
        }
        Tokens::from(&login(&app, "walter", PASSWORD));
    }
    // Eight failures in all, never five in a row: never locked.
}

#[test]
fn fifty_parallel_wrong_passwords_get_five_guesses() {
    let app = spawn_app();
    register(&app, "target");
    let responses = in_parallel(50, |i| {
        // Fifty different addresses, so the per-IP limit is not what stops them.
        post_from(
            &app,
            &format!("198.19.10.{}", i + 1),
            "/v1/login",
            &json!({ "username": "target", "password": format!("guess number {i:02}") }),
        )
    });
    assert_eq!(
        count_status(&responses, 401),
        5,
        "exactly five guesses are checked"
    );
    assert_eq!(count_status(&responses, 429), 45);
    assert_error(&login(&app, "target", PASSWORD), 429, "too_many_attempts");
}

#[test]
fn fresh_mfa_tokens_do_not_reset_the_second_factor_count() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "xavier");
    let wrong = wrong_code(&enrolled.secret);

    let first = start_mfa_login(&app, "xavier");
    for _ in 0..3 {
        assert_error(&submit_code(&app, &first, &wrong), 401, "invalid_code");
    }
    let second = start_mfa_login(&app, "xavier");
    for _ in 0..2 {
        assert_error(&submit_code(&app, &second, &wrong), 401, "invalid_code");
    }
    // Five failures on the account: a third token, even with the right code, waits.
    let third = start_mfa_login(&app, "xavier");
    let response = submit_code(&app, &third, &code(&enrolled.secret, 1));
    assert_error(&response, 429, "too_many_attempts");
    let wait = response.json()["retry_after"].as_i64().unwrap();
    assert!((25..=30).contains(&wait), "{wait}");
}

#[test]
fn twenty_parallel_logins_with_one_code_across_two_tokens_succeed_once() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "yvonne");
    let tokens = [
        start_mfa_login(&app, "yvonne"),
        start_mfa_login(&app, "yvonne"),
    ];
    let next = code(&enrolled.secret, 1);
    let responses = in_parallel(20, |i| {
        post_from(
            &app,
            &format!("198.19.20.{}", i + 1),
            "/v1/login/mfa",
            &json!({ "mfa_token": tokens[i % 2], "code": next }),
        )
    });
    assert_eq!(count_status(&responses, 200), 1, "one code, one session");
    assert_eq!(count_status(&responses, 500), 0);
}

#[test]
fn one_recovery_code_used_twice_at_once_works_once() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "zara");
    let tokens = [start_mfa_login(&app, "zara"), start_mfa_login(&app, "zara")];
    let recovery = &enrolled.recovery_codes[3];
    let responses = in_parallel(2, |i| {
        app.post_json(
            "/v1/login/mfa",
            &json!({ "mfa_token": tokens[i], "recovery_code": recovery }),
        )
    });
    assert_eq!(count_status(&responses, 200), 1);
    assert_eq!(count_status(&responses, 401), 1);
}

#[test]
fn one_refresh_token_used_twice_at_once_works_once_and_ends_the_family() {
    let app = spawn_app();
    let tokens = register_and_login(&app, "amos");
    let responses = in_parallel(2, |_| {
        app.post_json(
            "/v1/token/refresh",
            &json!({ "refresh_token": tokens.refresh }),
        )
    });
    assert_eq!(count_status(&responses, 200), 1);
    assert_eq!(count_status(&responses, 401), 1);
    // The replay revoked the session: the winner's new token is dead too.
    let winner = responses.iter().find(|r| r.status == 200).unwrap();
    let rotated = Tokens::from(winner);
    let again = app.post_json(
        "/v1/token/refresh",
        &json!({ "refresh_token": rotated.refresh }),
    );
    assert_error(&again, 401, "invalid_grant");
}

#[test]
fn unknown_users_and_wrong_passwords_take_the_same_time() {
    let app = spawn_app();
    let known: Vec<String> = (0..8).map(|i| format!("timing{i}")).collect();
    for (i, name) in known.iter().enumerate() {
        app.set_client_ip(&format!("198.19.30.{}", i + 1));
        register(&app, name);
    }
    let mut wrong_password = Vec::new();
    let mut unknown_user = Vec::new();
    // Interleaved, two attempts per account (under the throttle), each from its own
    // address (under the per-IP limit).
    for round in 0..16 {
        let ip = format!("198.19.31.{}", round + 1);
        let body = json!({ "username": known[round % 8], "password": "not the password" });
        let started = Instant::now();
        let a = post_from(&app, &ip, "/v1/login", &body);
        wrong_password.push(started.elapsed().as_secs_f64() * 1000.0);

        let body = json!({ "username": format!("nobody{round}"), "password": "not the password" });
        let started = Instant::now();
        let b = post_from(&app, &ip, "/v1/login", &body);
        unknown_user.push(started.elapsed().as_secs_f64() * 1000.0);

        assert_eq!((a.status, &a.body), (b.status, &b.body));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (known_ms, unknown_ms) = (median(&mut wrong_password), median(&mut unknown_user));
    // Generous: skipping the Argon2 work for unknown names would make them several
    // times faster; noise on a busy machine stays well within a factor of two.
    let ratio = unknown_ms / known_ms;
    eprintln!("median wrong-password {known_ms:.1} ms, unknown-user {unknown_ms:.1} ms");
    assert!(
        (0.5..=2.0).contains(&ratio),
        "median wrong-password {known_ms:.1} ms vs unknown-user {unknown_ms:.1} ms"
    );
}

/// Registers from `ip` until the per-client limit answers 429, and returns that answer.
/// The limiter counts in fixed one-minute windows: the first 10 always pass, and a window
/// that ends during the run can let at most 10 more through, so 21 attempts always meet
/// the limit.
fn register_until_limited(
    app: &crate::common::TestApp,
    ip: &str,
    forwarded: &str,
    prefix: &str,
) -> crate::common::TestResponse {
    let attempt = |n: usize| {
        app.request(
            "POST",
            "/v1/register",
            Some(&json!({ "username": format!("{prefix}{n}"), "password": PASSWORD }).to_string()),
            &[
                ("content-type", "application/json"),
                ("cf-connecting-ip", ip),
                ("x-forwarded-for", forwarded),
            ],
        )
    };
    for n in 0..10 {
        assert_eq!(attempt(n).status, 201, "registration {n} from {ip}");
    }
    (10..21)
        .map(attempt)
        .find(|r| r.status != 201)
        .unwrap_or_else(|| panic!("21 registrations from {ip} and no limit"))
}

fn register_from(app: &crate::common::TestApp, ip: &str, forwarded: &str, username: &str) -> u16 {
    app.request(
        "POST",
        "/v1/register",
        Some(&json!({ "username": username, "password": PASSWORD }).to_string()),
        &[
            ("content-type", "application/json"),
            ("cf-connecting-ip", ip),
            ("x-forwarded-for", forwarded),
        ],
    )
    .status
}

#[test]
fn per_ip_limits_key_on_cf_connecting_ip_only() {
    let app = spawn_app();
    let limited = register_until_limited(&app, "198.19.40.1", "10.0.0.1", "bulk");
    assert_error(&limited, 429, "rate_limited");
    assert!(limited.header("retry-after").is_some());
    // A different X-Forwarded-For changes nothing...
    assert_eq!(
        register_from(&app, "198.19.40.1", "10.9.9.9", "bulkxff"),
        429
    );
    // ...while another client address has its own budget.
    assert_eq!(
        register_from(&app, "198.19.40.2", "10.0.0.1", "bulkother"),
        201
    );
}

#[test]
fn an_ipv6_client_is_limited_per_64_not_per_address() {
    let app = spawn_app();
    // Ten registrations, each from another address of one /64, use up its budget...
    for n in 0..10u16 {
        let ip = format!("2001:db8:40:1::{:x}", n + 1);
        assert_eq!(
            register_from(&app, &ip, "", &format!("six{n}")),
            201,
            "{ip}"
        );
    }
    let from_the_same_64 = |n: usize| {
        register_from(
            &app,
            &format!("2001:db8:40:1:ffff::{n:x}"),
            "",
            &format!("sixmore{n}"),
        )
    };
    assert!(
        (0..11).any(|n| from_the_same_64(n) == 429),
        "fresh addresses of one /64 were never limited"
    );
    // ...while the next /64 has its own.
    assert_eq!(register_from(&app, "2001:db8:40:2::1", "", "sixnext"), 201);
}

#[test]
fn codes_are_exactly_six_ascii_digits() {
    let app = spawn_app();
    let enrolled = user_with_totp(&app, "bruno");
    let token = start_mfa_login(&app, "bruno");
    let good = code(&enrolled.secret, 1);
    for bad in [
        format!("{good} "),
        format!("0{good}"),
        good[..5].to_string(),
        good.replace(|_: char| true, "٣"),
        format!("{}.0", &good[..5]),
    ] {
        assert_error(&submit_code(&app, &token, &bad), 400, "invalid_request");
    }
    let as_number = app.post_json(
        "/v1/login/mfa",
        &json!({ "mfa_token": token, "code": good.parse::<u32>().unwrap() }),
    );
    assert_error(&as_number, 400, "invalid_request");
    // None of that cost an attempt.
    Tokens::from(&submit_code(&app, &token, &good));
}

fn start_enrolment(
    app: &crate::common::TestApp,
    access: &str,
) -> edge_login::domain::totp::TotpSecret {
    let enroll = app.post_json_with_token(
        "/v1/2fa/totp/enroll",
        &json!({ "password": PASSWORD }),
        access,
    );
    assert_eq!(enroll.status, 200, "enroll: {}", enroll.body);
    secret_from(&enroll.json())
}

fn confirm(app: &crate::common::TestApp, access: &str, code: &str) -> crate::common::TestResponse {
    app.post_json_with_token("/v1/2fa/totp/confirm", &json!({ "code": code }), access)
}

/// A stolen aal1 access token must not be able to guess the owner's pending enrolment
/// for its whole lifetime and walk away with an aal2 session and the recovery codes.
#[test]
fn five_wrong_first_codes_end_an_enrolment() {
    let app = spawn_app();
    let tokens = register_and_login(&app, "otto");
    let secret = start_enrolment(&app, &tokens.access);
    let wrong = wrong_code(&secret);
    for remaining in (0..5).rev() {
        let r = confirm(&app, &tokens.access, &wrong);
        assert_error(&r, 401, "invalid_code");
        assert_eq!(r.json()["attempts_remaining"], remaining, "{}", r.body);
    }
    // Even the right code cannot finish it now, and nothing was turned on.
    let late = confirm(&app, &tokens.access, &code(&secret, 0));
    assert_error(&late, 410, "enrollment_expired");
    let status = app.get_with_token("/v1/2fa", &tokens.access).json();
    assert_eq!(status["totp_enabled"], false, "{status}");
    assert_eq!(
        login(&app, "otto", PASSWORD).json()["status"],
        "authenticated"
    );

    // The failures also count against the account's second-factor throttle (five
    // failures, then a wait): a fresh enrolment does not start the count over.
    let secret = start_enrolment(&app, &tokens.access);
    let throttled = confirm(&app, &tokens.access, &code(&secret, 0));
    assert_error(&throttled, 429, "too_many_attempts");
    assert!(throttled.header("retry-after").is_some());
}

#[test]
fn two_confirmations_racing_for_one_enrolment_give_one_success() {
    let app = spawn_app();
    let tokens = register_and_login(&app, "ulla");
    let secret = start_enrolment(&app, &tokens.access);
    let right = code(&secret, 0);
    let answers = in_parallel(8, |_| confirm(&app, &tokens.access, &right));
    assert_eq!(
        count_status(&answers, 200),
        1,
        "{:?}",
        answers
            .iter()
            .map(|r| (r.status, &r.body))
            .collect::<Vec<_>>()
    );
    // A loser saw TOTP already on (409), or the pending secret already dropped (410),
    // or, arriving after the winner ended the password-only sessions, its own
    // session gone (401); none of them changed anything.
    for r in answers.iter().filter(|r| r.status != 200) {
        match r.status {
            409 => assert_error(r, 409, "already_enabled"),
            401 => assert_error(r, 401, "invalid_token"),
            _ => assert_error(r, 410, "enrollment_expired"),
        }
    }
    // The winner's recovery codes are the live set: one of them logs in.
    let winner = answers.iter().find(|r| r.status == 200).unwrap().json();
    let recovery = winner["recovery_codes"][0].as_str().unwrap();
    let mfa_token = start_mfa_login(&app, "ulla");
    let done = app.post_json(
        "/v1/login/mfa",
        &json!({ "mfa_token": mfa_token, "recovery_code": recovery }),
    );
    assert_eq!(done.status, 200, "{}", done.body);
    let status = app
        .get_with_token("/v1/2fa", &Tokens::from(&done).access)
        .json();
    assert_eq!(status["recovery_codes_remaining"], 9, "{status}");
}

/// Past `ARGON2_QUEUE_MAX` waiting password computations the Worker sheds load with 503
/// and `Retry-After` instead of queueing without bound, and recovers once the line is
/// short again.
#[test]
fn a_full_argon2_queue_sheds_registrations_with_retry_after() {
    let app = crate::common::spawn_app_with(&[("ARGON2_QUEUE_MAX", "1")]);
    let answers = in_parallel(20, |i| {
        post_from(
            &app,
            &format!("198.19.60.{}", i + 1),
            "/v1/register",
            &json!({ "username": format!("flood{i}"), "password": PASSWORD }),
        )
    });
    let shed: Vec<_> = answers.iter().filter(|r| r.status == 503).collect();
    assert!(!shed.is_empty(), "20 registrations at once and none shed");
    for r in &shed {
        assert_error(r, 503, "overloaded");
        assert_eq!(r.header("retry-after"), Some("1"));
        assert_eq!(r.json()["retry_after"], 1);
    }
    assert!(count_status(&answers, 201) >= 1);
    assert_eq!(
        count_status(&answers, 201) + shed.len(),
        20,
        "only 201 or 503"
    );
    // A shed registration left nothing behind: the name is still free.
    let name = shed[0].body.clone();
    let index = answers.iter().position(|r| r.body == name).unwrap();
    let again = post_from(
        &app,
        "198.19.61.1",
        "/v1/register",
        &json!({ "username": format!("flood{index}"), "password": PASSWORD }),
    );
    assert_eq!(again.status, 201, "{}", again.body);
}
