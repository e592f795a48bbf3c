//! Every operation of the API: what it is for, its body, its answers. Schemas come from
//! the types in `api::requests` / `api::responses`, failures from `ApiError` values, and
//! the HEAD and OPTIONS operations are added by the builder.

use serde_json::json;

use super::build::{Doc, Op};
use crate::api::requests::*;
use crate::api::responses::*;
use crate::api::schema::{Jwks, OpenApiDocument};
use crate::domain::factors::MFA_METHODS;
use crate::error::ApiError;

const USER_ID: &str = "pA1f8e3oLqgfGWLjpMddHA";
const ACCESS_TOKEN: &str = "eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjg3ODciLCJzdWIiOiJwQTFmOGUzb0xxZ2ZHV0xqcE1kZEhBIn0.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmUtc2lnbmF0dXJlLXNpZ25hdHVyZS1zaWc";
const REFRESH_TOKEN: &str = "rt_3q2-7wE1bKcY0vFzN5uR8tPjHgD6sLmXoAiQeZyWnTb";
const DEVICE_TOKEN: &str = "dvt_k20261203a1b2.Qm9sZC1uZXctZGV2aWNl0w.1796000000.Zm9yLWV4YW1wbGUtb25seS1ub3QtYS1yZWFsLW1hYy0";
const MFA_TOKEN: &str = "mfa_Yk2b8Qm1rT7vX0cN4eH6jD3sF9aL5pGwUzKoIiEyRtB";
const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const QR_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="232" height="232" viewBox="0 0 232 232" shape-rendering="crispEdges"><path fill="#ffffff" d="M0 0h232v232H0z"/></svg>"##;
/// Every answer with a new session links to its refresh.
const REFRESH: (&str, &str, &str) = (
    "Refresh",
    "refreshToken",
    "Rotate the refresh token of the new session.",
);

/// A finished login: with the device token of this client.
fn logged_in() -> Authenticated {
    Authenticated {
        device_token: Some(DEVICE_TOKEN.into()),
        ..authenticated()
    }
}

fn authenticated() -> Authenticated {
    Authenticated::new(ACCESS_TOKEN.into(), 900, REFRESH_TOKEN.into())
}

fn refresh_link() -> serde_json::Value {
    json!({ "refresh_token": "$response.body#/refresh_token" })
}

fn recovery_codes() -> Vec<String> {
    [
        "7k2m-x9qd-4hv1-c8np",
        "0a3f-q8rs-2mzw-k7hy",
        "c4vb-9t1n-x6ep-3dgj",
        "m8wq-5r2k-h0zs-7afy",
        "e1tn-6cpd-v3xk-9bqr",
        "s5gy-2hm8-w4aj-0kzv",
        "b7rd-q1xn-8tfc-4mpe",
        "z3kw-7v0s-c9hb-1gqy",
        "h6pa-4e8m-y2rt-5nwd",
        "t9cx-3k5q-g7zm-8bvs",
    ]
    .map(String::from)
    .to_vec()
}

pub fn describe(doc: &mut Doc) {
    let doc_schema = doc.response_schema::<OpenApiDocument>();
    let jwks_schema = doc.response_schema::<Jwks>();
    doc.get("/", "getDemoPage", "meta", "Demo page")
        .describe(
            "A single self-contained HTML page that walks through the whole flow against this API.",
        )
        .replies_with(
            200,
            "The page.",
            "text/html",
            json!({ "schema": { "type": "string" } }),
        )
        .success_header("Content-Security-Policy", "ContentSecurityPolicy")
        .add();
    doc.get("/health", "getHealth", "meta", "Liveness")
        .replies(200, "The Worker is up.", &Health::OK)
        .add();
    doc.get("/openapi.json", "getOpenApi", "meta", "This document")
        .replies_with(200, "The OpenAPI 3.1 description of this API.", "application/json", json!({ "schema": doc_schema, "example": { "openapi": "3.1.0", "info": { "title": "edge-login", "version": "1.0.0" }, "paths": {} } }))
        .success_header("Cache-Control", "CacheControlPublic")
        .add();
    doc.get("/.well-known/jwks.json", "getJwks", "meta", "Public keys for access tokens")
        .describe("Resource servers verify access tokens with these keys (EdDSA, Ed25519). Cache it for at most its max-age so a rotation's new key is seen quickly.")
        .replies_with(200, "The key set.", "application/json", json!({ "schema": jwks_schema, "example": { "keys": [{ "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "k1", "alg": "EdDSA", "use": "sig" }] } }))
        .success_header("Cache-Control", "CacheControlPublic")
        .shared(500, "InternalError")
        .add();
    doc.post("/v1/register", "register", "account", "Create an account")
        .describe("Creates an account with a username, a password and optionally an email. Limited to 10 registrations per client address per minute.")
        .body::<RegisterRequest>(&[("minimal", json!({"username": "alice", "password": "correct horse battery staple"})), ("with_email", json!({"username": "Bob.Smith", "password": "tr0ub4dor and 3 more words", "email": "bob@example.com"}))])
        .replies(201, "Registered. Log in with `POST /v1/login`.", &Registered { user_id: USER_ID.into(), username: "alice".into() })
        .link("LogIn", "login", json!({ "username": "$response.body#/username", "password": "$request.body#/password" }), "Log in to the new account.")
        .bad_body("Or: `invalid_username`, `weak_password`, or an invalid email (`invalid_request`).", &[ApiError::InvalidRequest("request body is not valid JSON".into()), ApiError::InvalidUsername("username must be at least 3 characters"), ApiError::WeakPassword("password must be at least 15 characters")])
        .fails(409, "The (canonical) username is taken.", &[ApiError::UsernameTaken])
        .shared(413, "PayloadTooLarge")
        .shared(429, "RateLimited")
        .shared(500, "InternalError")
        .shared(503, "Unavailable")
        .add();
    doc.post("/v1/login", "login", "login", "Log in, step 1: the password")
        .describe("Checks the password. Without two-factor authentication the answer is `authenticated` (tokens, aal1). With it, the answer is `mfa_required` with an `mfa_token` for `POST /v1/login/mfa`. Wrong passwords are throttled per account (429 `too_many_attempts`) and logins per client address (30 a minute, 429 `rate_limited`).")
        .body::<LoginRequest>(&[("login", json!({"username": "alice", "password": "correct horse battery staple"}))])
        .replies_one_of::<LoginResult>(200, "The password is right: either finished or a second factor is needed.", &[("authenticated", "No second factor on the account", json!(logged_in())), ("mfa_required", "Two-factor authentication is on", json!(MfaRequired { status: "mfa_required", mfa_token: MFA_TOKEN.into(), expires_in: 300, methods: &MFA_METHODS }))])
        .link("SecondFactor", "loginMfa", json!({ "mfa_token": "$response.body#/mfa_token" }), "With `mfa_required`: finish the login with a second factor.")
        .link("Refresh", "refreshToken", json!({ "refresh_token": "$response.body#/refresh_token" }), "With `authenticated`: rotate the refresh token.")
        .bad_body("", &[ApiError::InvalidRequest("request body is not valid JSON".into())])
        .fails(401, "Wrong username or password (the same answer whether or not the account exists).", &[ApiError::InvalidCredentials])
        .shared(413, "PayloadTooLarge")
        .fails(423, "`factor_locked`: 100 wrong passwords in a row for this account (800-63B's hard limit): password login stays locked until the account is recovered; waiting does not help.", &[ApiError::FactorLocked { factor: "password" }])
        .fails(429, "`too_many_attempts`: this account had too many wrong passwords and is locked for `retry_after` seconds. `rate_limited`: too many logins from this client address.", &[ApiError::RateLimited { retry_after: 60 }, ApiError::TooManyAttempts { retry_after: 57 }])
        .shared(500, "InternalError")
        .shared(503, "Unavailable")
        .add();
    doc.post("/v1/login/mfa", "loginMfa", "login", "Log in, step 2: the second factor")
        .describe("Exchanges the `mfa_token` and exactly one of a TOTP `code` or a `recovery_code` for tokens (aal2). Each mfa_token accepts a few wrong codes (`attempts_remaining`); wrong codes are also throttled per account. 30 submissions per client address per minute.")
        .body::<MfaRequest>(&[("totp", json!({"mfa_token": "mfa_Yk2b8Qm1rT7vX0cN4eH6jD3sF9aL5pGwUzKoIiEyRtB", "code": "123456"})), ("recovery_code", json!({"mfa_token": "mfa_Yk2b8Qm1rT7vX0cN4eH6jD3sF9aL5pGwUzKoIiEyRtB", "recovery_code": "7k2m-x9qd-4hv1-c8np"}))])
        .replies(200, "Logged in with two factors.", &logged_in())
        .link(REFRESH.0, REFRESH.1, refresh_link(), REFRESH.2)
        .bad_body("Or not exactly one of `code` and `recovery_code`, or a malformed one.", &[ApiError::InvalidRequest("request body is not valid JSON".into())])
        .fails(401, "`invalid_mfa_token`: unknown, expired or used up (log in again). `invalid_code`: wrong code; `attempts_remaining` says how many more this mfa_token accepts.", &[ApiError::InvalidMfaToken, ApiError::InvalidCode { attempts_remaining: Some(3) }])
        .shared(413, "PayloadTooLarge")
        .fails(423, "`factor_locked`: the factor named in `factor` failed 100 times in a row for this account: a recovery code unlocks `totp`; new recovery codes unlock `recovery_code`.", &[ApiError::FactorLocked { factor: "totp" }])
        .fails(429, "`too_many_attempts`: too many wrong codes for this account. `rate_limited`: too many submissions from this client address.", &[ApiError::RateLimited { retry_after: 60 }, ApiError::TooManyAttempts { retry_after: 57 }])
        .shared(500, "InternalError")
        .shared(503, "Unavailable")
        .add();
    doc.post("/v1/token/refresh", "refreshToken", "session", "New tokens for a refresh token")
        .describe("Rotates the refresh token: the answer has a new access token and a new refresh token, and the old refresh token is spent. Presenting a spent refresh token again revokes the whole session (reuse detection).")
        .body::<RefreshRequest>(&[("refresh", json!({"refresh_token": "rt_3q2-7wE1bKcY0vFzN5uR8tPjHgD6sLmXoAiQeZyWnTb"}))])
        .replies(200, "New tokens; the session keeps its authentication level.", &authenticated())
        .link(REFRESH.0, REFRESH.1, refresh_link(), REFRESH.2)
        .bad_body("", &[ApiError::InvalidRequest("request body is not valid JSON".into())])
        .fails(401, "The refresh token is unknown, malformed, expired, spent or revoked.", &[ApiError::InvalidGrant])
        .shared(413, "PayloadTooLarge")
        .shared(429, "RateLimited")
        .shared(500, "InternalError")
        .shared(503, "Unavailable")
        .add();
    doc.post("/v1/logout", "logout", "session", "End the session")
        .describe("Revokes the session of the access token (its refresh token stops working; the access token itself lives until it expires). The body is optional.")
        .bearer()
        .optional_body::<LogoutRequest>(&[("no_body", json!({})), ("with_refresh_token", json!({"refresh_token": "rt_3q2-7wE1bKcY0vFzN5uR8tPjHgD6sLmXoAiQeZyWnTb"}))])
        .empty(204, "Logged out.")
        .bad_body("Or a malformed `refresh_token`.", &[ApiError::InvalidRequest("request body is not valid JSON".into())])
        .shared(401, "InvalidToken")
        .shared(413, "PayloadTooLarge")
        .shared(500, "InternalError")
        .add();
    doc.get("/v1/me", "getMe", "session", "Who am I")
        .bearer()
        .replies(
            200,
            "The caller.",
            &Me {
                user_id: USER_ID.into(),
                username: "alice".into(),
                email: Some("alice@example.com".into()),
                email_verified: true,
                mfa_enabled: true,
                amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
                aal: "aal2".into(),
                auth_time: 1_767_225_600,
            },
        )
        .shared(401, "InvalidToken")
        .shared(500, "InternalError")
        .add();
    doc.post("/v1/password", "changePassword", "account", "Change the password")
        .describe("Needs the current password, and a second factor when two-factor authentication is on. Ends every session of the account and starts a new one here: the answer has the new tokens.")
        .bearer()
        .body::<ChangePasswordRequest>(&[("without_2fa", json!({"current_password": "correct horse battery staple", "new_password": "a brand new passphrase"})), ("with_2fa", json!({"current_password": "correct horse battery staple", "new_password": "a brand new passphrase", "code": "123456"}))])
        .replies(200, "Changed; every other session is over.", &authenticated())
        .link(REFRESH.0, REFRESH.1, refresh_link(), REFRESH.2)
        .bad_body("Or `weak_password`, both `code` and `recovery_code`, a malformed one, or none while two-factor authentication is on (`invalid_request`).", &[ApiError::InvalidRequest("request body is not valid JSON".into()), ApiError::WeakPassword("password must be at least 15 characters")])
        .fails(401, "`invalid_token`: no valid access token. `invalid_credentials`: wrong current password. `invalid_code`: wrong second factor.", &[ApiError::InvalidToken, ApiError::InvalidCredentials, ApiError::InvalidCode { attempts_remaining: None }])
        .shared(413, "PayloadTooLarge")
        .password_and_factor_limits()
        .shared(500, "InternalError")
        .shared(503, "Unavailable")
        .add();
    doc.post("/v1/password/forgot", "forgotPassword", "account", "Ask for a password reset code")
        .describe("Mails a single-use reset code (`rst_`, valid 30 minutes) to the account's address, if the account exists and has one; at most 3 per account per hour. By `username` the code goes to the address given at registration, verified or not; by `email` only a verified address finds the account. The answer, its headers and the work done before it are the same whether or not anything was sent: it never tells whether an account exists. Needs no session.")
        .body::<ForgotPasswordRequest>(&[("by_username", json!({"username": "alice"})), ("by_email", json!({"email": "alice@example.com"}))])
        .replies(202, "Accepted; a code was mailed if the account exists and has an address.", &ResetRequested::REQUESTED)
        .bad_body("Or neither or both of `username` and `email`, or an address that is not `local@domain` (`invalid_request`), or a username that cannot exist (`invalid_username`).", &[ApiError::InvalidRequest("send exactly one of username or email".into()), ApiError::InvalidUsername("username must be at least 3 characters")])
        .shared(413, "PayloadTooLarge")
        .shared(429, "RateLimited")
        .shared(500, "InternalError")
        .shared(503, "Unavailable")
        .add();
    doc.post("/v1/password/reset", "resetPassword", "account", "Set a new password with a reset code")
        .describe("Spends the mailed code and sets the new password. With two-factor authentication on, a fresh second factor must come in the same request: a mailbox alone never gets past 2FA. Logs in nowhere: every session and refresh token of the account ends, every other reset code is spent, the password's attempt counters and lock are cleared, and the client logs in again with the new password. The address the code went to is marked verified (the code proved it) unless another account has verified it. A failed reset changes nothing.")
        .body::<ResetPasswordRequest>(&[("without_2fa", json!({"reset_code": "rst_Yk2b8Qm1rT7vX0cN4eH6jD3sF9aL5pGwUzKoIiEyRtB", "new_password": "a brand new passphrase"})), ("with_2fa", json!({"reset_code": "rst_Yk2b8Qm1rT7vX0cN4eH6jD3sF9aL5pGwUzKoIiEyRtB", "new_password": "a brand new passphrase", "code": "123456"}))])
        .empty(204, "The password is reset; every session has ended.")
        .bad_body("Or `weak_password`, both `code` and `recovery_code`, a malformed one, or none while two-factor authentication is on (`invalid_request`; nothing changes and the code stays usable).", &[ApiError::InvalidRequest("request body is not valid JSON".into()), ApiError::WeakPassword("password must be at least 15 characters")])
        .fails(401, "`invalid_email_code`: the reset code is unknown, already used or expired. `invalid_code`: wrong second factor (the reset code stays usable).", &[ApiError::InvalidEmailCode, ApiError::InvalidCode { attempts_remaining: None }])
        .shared(413, "PayloadTooLarge")
        .fails(423, "`factor_locked`: the second factor named in `factor` failed 100 times in a row for this account (a recovery code unlocks `totp`).", &[ApiError::FactorLocked { factor: "totp" }])
        .fails(429, "`too_many_attempts`: too many wrong codes for this account. `rate_limited`: too many requests from this client address.", &[ApiError::RateLimited { retry_after: 60 }, ApiError::TooManyAttempts { retry_after: 57 }])
        .shared(500, "InternalError")
        .shared(503, "Unavailable")
        .add();
    doc.delete("/v1/account", "deleteAccount", "account", "Delete the account")
        .describe("Needs the password, and a fresh second factor when two-factor authentication is on. Deletes the user and everything that names them in one batch: sessions and their refresh tokens, recovery codes, email codes, second-step attempts, security events and the account's attempt counters. Refresh fails at once; access tokens already issued stay valid at `/v1/me` (which reads no storage) until they expire, at most `ACCESS_TOKEN_TTL`. The username is free again. A verified address gets a last notice.")
        .bearer()
        .body::<DeleteAccountRequest>(&[("without_2fa", json!({"password": "correct horse battery staple"})), ("with_2fa", json!({"password": "correct horse battery staple", "code": "123456"}))])
        .empty(204, "Deleted.")
        .bad_body("Or both `code` and `recovery_code`, a malformed one, or none while two-factor authentication is on (`invalid_request`).", &[ApiError::InvalidRequest("request body is not valid JSON".into())])
        .fails(401, "`invalid_token`: no valid access token, or its session has ended. `invalid_credentials`: wrong password. `invalid_code`: wrong second factor.", &[ApiError::InvalidToken, ApiError::InvalidCredentials, ApiError::InvalidCode { attempts_remaining: None }])
        .shared(413, "PayloadTooLarge")
        .password_and_factor_limits()
        .shared(500, "InternalError")
        .shared(503, "Unavailable")
        .add();
    doc.get(
        "/v1/events",
        "listEvents",
        "account",
        "Recent security events",
    )
    .describe("The caller's security log, newest first, a page at a time: follow `next_cursor` (as `before`) until it is `null`.")
    .bearer()
    .query("limit", json!({ "type": "integer", "minimum": 1, "maximum": 100, "default": 50 }), "Events per page.")
    .query("before", json!({ "type": "string", "pattern": "^e[0-9]{1,18}$" }), "The `next_cursor` of the previous page: only older events.")
    .replies(
        200,
        "Newest first, at most `limit`.",
        &Events {
            events: vec![
                Event {
                    kind: "login_succeeded".into(),
                    at: 1_767_225_600,
                    ip: Some("203.0.113.7".into()),
                    detail: None,
                },
                Event {
                    kind: "lockout".into(),
                    at: 1_767_225_500,
                    ip: Some("203.0.113.9".into()),
                    detail: Some("password".into()),
                },
            ],
            next_cursor: Some("e1207".into()),
        },
    )
    .fails(400, "`invalid_request`: `limit` is not 1 to 100, or `before` is not a cursor this API gave out.", &[ApiError::InvalidRequest("limit must be a whole number from 1 to 100".into())])
    .shared(401, "InvalidToken")
    .shared(500, "InternalError")
    .add();
    doc.post("/v1/email", "changeEmail", "account", "Change the email address")
        .describe("Needs the password, and a fresh second factor when two-factor authentication is on. The new address replaces the old one unverified: a verification code is mailed to it (`POST /v1/email/verify`), and until then tokens carry no `email` and notices go nowhere. Every code mailed to the old address (verification, password reset) stops working, and the old address, if it was verified, gets a notice. Tokens issued before keep their `email` claim until they expire (at most `ACCESS_TOKEN_TTL`); refreshed ones follow the account.")
        .bearer()
        .body::<ChangeEmailRequest>(&[("without_2fa", json!({"password": "correct horse battery staple", "email": "alice@new.example"})), ("with_2fa", json!({"password": "correct horse battery staple", "email": "alice@new.example", "code": "123456"}))])
        .empty(204, "Changed; a verification code is on its way to the new address.")
        .bad_body("Or an address that is not `local@domain`, both `code` and `recovery_code`, a malformed one, or none while two-factor authentication is on (`invalid_request`).", &[ApiError::InvalidRequest("email must look like name@example.com".into())])
        .fails(401, "`invalid_token`: no valid access token, or its session has ended. `invalid_credentials`: wrong password. `invalid_code`: wrong second factor.", &[ApiError::InvalidToken, ApiError::InvalidCredentials, ApiError::InvalidCode { attempts_remaining: None }])
        .fails(409, "`email_taken`: another account has verified that address; nothing changed.", &[ApiError::EmailTaken])
        .shared(413, "PayloadTooLarge")
        .password_and_factor_limits()
        .shared(500, "InternalError")
        .shared(503, "Unavailable")
        .add();
    doc.post("/v1/email/verify", "verifyEmail", "account", "Confirm an email address")
        .describe("Spends the code that registration mailed to the address (valid once, for 24 hours) and marks the address verified: from then on it is in new tokens (`email`, `email_verified: true`) and receives security notices. Needs no session: the code is the proof.")
        .body::<VerifyEmailRequest>(&[("verify", json!({"code": "evc_Yk2b8Qm1rT7vX0cN4eH6jD3sF9aL5pGwUzKoIiEyRtB"}))])
        .empty(204, "The address is verified.")
        .bad_body("", &[ApiError::InvalidRequest("request body is not valid JSON".into())])
        .fails(401, "The code is unknown, already used or expired.", &[ApiError::InvalidEmailCode])
        .shared(413, "PayloadTooLarge")
        .shared(429, "RateLimited")
        .shared(500, "InternalError")
        .add();
    doc.get("/v1/sessions", "listSessions", "session", "Where you are logged in")
        .describe("The caller's live sessions (logins not yet ended, expired or logged out), most recently used first, the caller's own marked `current`. A token whose session has ended gets 401.")
        .bearer()
        .replies(
            200,
            "Live sessions.",
            &Sessions {
                sessions: vec![
                    SessionInfo {
                        id: "Qm9sZC1uZXctc2Vzc2lvbg".into(),
                        created_at: 1_767_225_600,
                        last_used_at: 1_767_229_200,
                        ip: Some("203.0.113.7".into()),
                        device: "Firefox on Linux".into(),
                        amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
                        aal: "aal2".into(),
                        current: true,
                    },
                    SessionInfo {
                        id: "T2xkLXBob25lLXNlc3Npb24".into(),
                        created_at: 1_766_000_000,
                        last_used_at: 1_767_000_000,
                        ip: Some("198.51.100.23".into()),
                        device: "Safari on iOS".into(),
                        amr: vec!["pwd".into()],
                        aal: "aal1".into(),
                        current: false,
                    },
                ],
            },
        )
        .shared(401, "InvalidToken")
        .shared(500, "InternalError")
        .add();
    doc.post("/v1/sessions/revoke-others", "endOtherSessions", "session", "Log out everywhere else")
        .describe("Ends every session of the caller except the one making the request: their refresh tokens stop working at once, their access tokens at their `exp` (or at once on the routes that check the session). Records a `sessions_ended` event with their number when any ended.")
        .bearer()
        .empty(204, "The other sessions have ended (the `sessions_ended` event says how many).")
        .shared(401, "InvalidToken")
        .shared(500, "InternalError")
        .add();
    doc.delete("/v1/sessions/{id}", "endSession", "session", "End one session")
        .describe("Ends one of the caller's sessions (the caller's own too: that is a logout). An id that is not one of the caller's live sessions, including another user's, is 404. Records a `sessions_ended` event.")
        .bearer()
        .path_segment("id", json!({ "type": "string" }), "The session's `id` from `GET /v1/sessions` (the `sid` claim of its tokens).")
        .empty(204, "Ended.")
        .fails(404, "No live session of the caller has this id.", &[ApiError::SessionNotFound])
        .shared(401, "InvalidToken")
        .shared(500, "InternalError")
        .add();
    doc.get(
        "/v1/2fa",
        "getSecondFactorStatus",
        "two-factor",
        "Two-factor status",
    )
    .bearer()
    .replies(
        200,
        "Whether TOTP is on and how many recovery codes are left.",
        &FactorStatus {
            totp_enabled: true,
            enabled_at: Some(1_767_225_600),
            recovery_codes_remaining: 9,
        },
    )
    .shared(401, "InvalidToken")
    .shared(500, "InternalError")
    .add();
    doc.post("/v1/2fa/totp/enroll", "enrollTotp", "two-factor", "Start TOTP enrolment")
        .describe("Needs the password. Creates a pending TOTP secret (shown once) that `POST /v1/2fa/totp/confirm` turns on. Enrolling again replaces a pending secret.")
        .bearer()
        .body::<EnrollRequest>(&[("enroll", json!({"password": "correct horse battery staple"}))])
        .replies(200, "Scan the QR code, then confirm.", &TotpEnrollment { secret: TOTP_SECRET.into(), qr_svg: QR_SVG.into(), otpauth_uri: format!("otpauth://totp/Edge%20Login:alice?secret={TOTP_SECRET}&issuer=Edge%20Login&algorithm=SHA1&digits=6&period=30"), expires_in: 600 })
        .bad_body("", &[ApiError::InvalidRequest("request body is not valid JSON".into())])
        .fails(401, "`invalid_token`: no valid access token. `invalid_credentials`: wrong password.", &[ApiError::InvalidToken, ApiError::InvalidCredentials])
        .fails(409, "Two-factor authentication is already on.", &[ApiError::AlreadyEnabled])
        .shared(413, "PayloadTooLarge")
        .fails(423, "`factor_locked`: 100 wrong passwords in a row for this account (800-63B's hard limit): password login stays locked until the account is recovered; waiting does not help.", &[ApiError::FactorLocked { factor: "password" }])
        .fails(429, "`too_many_attempts`: too many wrong passwords for this account. `rate_limited`: too many requests from this client address.", &[ApiError::RateLimited { retry_after: 60 }, ApiError::TooManyAttempts { retry_after: 57 }])
        .shared(500, "InternalError")
        .shared(503, "Unavailable")
        .add();
    doc.post("/v1/2fa/totp/confirm", "confirmTotp", "two-factor", "Turn TOTP on")
        .describe("Confirms the pending enrolment with a current code. Turns two-factor authentication on, replaces the calling session with an aal2 one (the answer has its tokens) and issues ten recovery codes, shown this once. An enrolment accepts five wrong codes (`attempts_remaining`); wrong codes also count against the account's second-factor throttle, as at login. Of two confirmations racing with a right code exactly one turns TOTP on.")
        .bearer()
        .body::<ConfirmRequest>(&[("confirm", json!({"code": "123456"}))])
        .replies(200, "On. Keep the recovery codes somewhere safe.", &TotpConfirmed { tokens: authenticated(), recovery_codes: recovery_codes() })
        .link(REFRESH.0, REFRESH.1, refresh_link(), REFRESH.2)
        .bad_body("Or `code` is not 6 digits.", &[ApiError::InvalidRequest("request body is not valid JSON".into())])
        .fails(401, "`invalid_token`: no valid access token. `invalid_code`: the code does not match the pending secret; `attempts_remaining` says how many more this enrolment accepts.", &[ApiError::InvalidToken, ApiError::InvalidCode { attempts_remaining: Some(4) }])
        .fails(409, "Two-factor authentication is already on (or another confirmation of this enrolment won).", &[ApiError::AlreadyEnabled])
        .fails(410, "No pending enrolment (never started, expired, or ended by five wrong codes): enrol again.", &[ApiError::EnrollmentExpired])
        .shared(413, "PayloadTooLarge")
        .fails(429, "`too_many_attempts`: too many wrong codes for this account. `rate_limited`: too many requests from this client address.", &[ApiError::RateLimited { retry_after: 60 }, ApiError::TooManyAttempts { retry_after: 57 }])
        .shared(500, "InternalError")
        .shared(503, "Unavailable")
        .add();
    doc.delete("/v1/2fa/totp", "disableTotp", "two-factor", "Turn TOTP off")
        .describe("Needs an aal2 session (else 401 `insufficient_user_authentication`), the password and a fresh second factor. Turns TOTP off, deletes the recovery codes and ends every session of the account.")
        .bearer()
        .body::<DisableTotpRequest>(&[("with_code", json!({"password": "correct horse battery staple", "code": "123456"})), ("with_recovery_code", json!({"password": "correct horse battery staple", "recovery_code": "7k2m-x9qd-4hv1-c8np"}))])
        .empty(204, "Off; every session is over.")
        .bad_body("Or not exactly one well-formed `code` or `recovery_code`, or `weak_password`: the password is shorter than the 15 characters a password needs when it is the only factor (change it first).", &[ApiError::InvalidRequest("request body is not valid JSON".into()), ApiError::WeakPassword("password must be at least 15 characters to stand alone: change it first")])
        .fails(401, "`invalid_token`: no valid access token. `insufficient_user_authentication`: the session did not use a second factor, or used it longer ago than the aal2 lifetime (`max_age` then says how recent it must be): log in with one. `invalid_credentials`: wrong password. `invalid_code`: wrong or already used second factor.", &[ApiError::InvalidToken, ApiError::InsufficientAuthentication { max_age: None }, ApiError::InvalidCredentials, ApiError::InvalidCode { attempts_remaining: None }])
        .fails(409, "Two-factor authentication is not on.", &[ApiError::NotEnabled])
        .shared(413, "PayloadTooLarge")
        .password_and_factor_limits()
        .shared(500, "InternalError")
        .shared(503, "Unavailable")
        .add();
    doc.post("/v1/2fa/recovery-codes", "regenerateRecoveryCodes", "two-factor", "New recovery codes")
        .describe("Needs an aal2 session and a fresh second factor. Replaces every recovery code with ten new ones, shown this once.")
        .bearer()
        .body::<RegenerateRecoveryCodesRequest>(&[("with_code", json!({"code": "123456"})), ("with_recovery_code", json!({"recovery_code": "7k2m-x9qd-4hv1-c8np"}))])
        .replies(200, "The new codes; the old ones no longer work.", &RecoveryCodesIssued { recovery_codes: recovery_codes() })
        .bad_body("Or not exactly one well-formed `code` or `recovery_code`.", &[ApiError::InvalidRequest("request body is not valid JSON".into())])
        .fails(401, "`invalid_token`: no valid access token. `insufficient_user_authentication`: the session did not use a second factor, or used it longer ago than the aal2 lifetime (`max_age`). `invalid_code`: wrong or already used second factor.", &[ApiError::InvalidToken, ApiError::InsufficientAuthentication { max_age: None }, ApiError::InvalidCode { attempts_remaining: None }])
        .fails(409, "Two-factor authentication is not on.", &[ApiError::NotEnabled])
        .shared(413, "PayloadTooLarge")
        .fails(423, "`factor_locked`: the factor named in `factor` failed 100 times in a row for this account: a recovery code unlocks `totp`; new recovery codes unlock `recovery_code`.", &[ApiError::FactorLocked { factor: "totp" }])
        .fails(429, "`too_many_attempts`: too many wrong codes for this account. `rate_limited`: too many requests from this client address.", &[ApiError::RateLimited { retry_after: 60 }, ApiError::TooManyAttempts { retry_after: 57 }])
        .shared(500, "InternalError")
        .shared(503, "Unavailable")
        .add();
}

impl Op<'_> {
    /// The 423 and 429 of a route that checks the password and a second factor.
    fn password_and_factor_limits(self) -> Self {
        self.fails(423, "`factor_locked`: the password or the second factor named in `factor` failed 100 times in a row for this account and stays locked until the account recovers (a recovery code unlocks `totp`).", &[ApiError::FactorLocked { factor: "password" }, ApiError::FactorLocked { factor: "totp" }])
            .fails(429, "`too_many_attempts`: too many wrong passwords or codes for this account. `rate_limited`: too many requests from this client address.", &[ApiError::RateLimited { retry_after: 60 }, ApiError::TooManyAttempts { retry_after: 57 }])
    }
}
