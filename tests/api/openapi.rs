//! The OpenAPI document (public/openapi.json, served at GET /openapi.json) tells the truth:
//! every response along the real flows is listed for its operation, with the documented
//! content type, body schema and headers; every documented status is one the Worker really
//! answers; and the document agrees with the code's own lists (error codes, event kinds).

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;

use edge_login::domain::events::EventKind;
use edge_login::error::ApiError;
use serde_json::{json, Value};

#[path = "contract.rs"]
mod contract;

use crate::common::{spawn_app, spawn_app_with, TestApp, TestResponse};
// The route table the Worker routes with.
use crate::support::{code, decode_jwt, secret_from, wrong_code, PASSWORD};
use contract::{spec, Spec};
use edge_login::api::{route, ROUTES};

/// Documented statuses the walk below does not produce, and why.
const NOT_WALKED: &[(&str, &str, u16, &str)] = &[
    (
        "POST",
        "/v1/2fa/totp/confirm",
        409,
        "only a race (two confirmations of one enrolment at once) reaches it",
    ),
    (
        "DELETE",
        "/v1/2fa/totp",
        409,
        "turning 2FA off ends every session, so only a race (two at once) reaches it",
    ),
    (
        "POST",
        "/v1/2fa/recovery-codes",
        409,
        "turning 2FA off ends every session, so only a race with it reaches it",
    ),
];

// ------------------------------------------------------------------------------------------------
// The document itself

/// The operations of a path item (its `parameters`, shared by all of them, aside).
fn operations(item: &Value) -> impl Iterator<Item = (&String, &Value)> {
    item.as_object()
        .unwrap()
        .iter()
        .filter(|(key, _)| *key != "parameters")
}

#[test]
fn the_document_lists_every_route_and_only_those() {
    let doc = &spec().doc;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    let paths = doc["paths"].as_object().unwrap();
    let documented: BTreeSet<&str> = paths.keys().map(String::as_str).collect();
    let routed: BTreeSet<&str> = ROUTES.iter().map(|(p, _)| *p).collect();
    assert_eq!(documented, routed);
    for (path, method) in ROUTES {
        let mut expected = vec![method.to_ascii_lowercase(), "options".to_owned()];
        if *method == "GET" {
            expected.push("head".to_owned());
        }
        expected.sort();
        let mut methods: Vec<String> = operations(&paths[*path]).map(|(m, _)| m.clone()).collect();
        methods.sort();
        assert_eq!(methods, expected, "{path}");
    }
}

#[test]
fn every_ref_resolves_and_every_example_conforms() {
    let spec = spec();
    let mut refs = Vec::new();
    collect_refs(&spec.doc, &mut refs);
    assert!(refs.len() > 50, "suspiciously few $refs: {}", refs.len());
    for r in &refs {
        assert!(
            spec.doc.pointer(r.trim_start_matches('#')).is_some(),
            "unresolved $ref {r}"
        );
    }

    let mut checked = 0;
    for (path, item) in spec.doc["paths"].as_object().unwrap() {
        for (method, operation) in operations(item) {
            let mut media = Vec::new();
            if let Some(body) = operation.get("requestBody") {
                media.push((
                    "request".to_owned(),
                    spec.resolve(body).unwrap()["content"].clone(),
                ));
            }
            for (status, response) in operation["responses"].as_object().unwrap() {
                let response = spec.resolve(response).unwrap();
                if let Some(content) = response.get("content") {
                    media.push((status.clone(), content.clone()));
                }
            }
            for (what, content) in media {
                for (media_type, m) in content.as_object().unwrap() {
                    let schema = &m["schema"];
                    let mut examples: Vec<Value> = m.get("example").into_iter().cloned().collect();
                    if let Some(named) = m.get("examples").and_then(Value::as_object) {
                        examples.extend(named.values().map(|e| e["value"].clone()));
                    }
                    if media_type == "application/json" {
                        assert!(!examples.is_empty(), "{method} {path} {what}: no example");
                    }
                    for example in examples {
                        let errors = spec.validate(schema, &example);
                        assert!(
                            errors.is_empty(),
                            "{method} {path} {what}: example {example} breaks its schema: {errors:?}"
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 60, "only {checked} examples checked");
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// Every `ApiError` of src/error.rs, one of each variant (the match below stops compiling
/// when a variant is added, so this list cannot fall behind).
fn every_api_error() -> Vec<ApiError> {
    let all = vec![
        ApiError::InvalidRequest("x".into()),
        ApiError::InvalidUsername("x"),
        ApiError::WeakPassword("x"),
        ApiError::UsernameTaken,
        ApiError::EmailTaken,
        ApiError::InvalidCredentials,
        ApiError::InvalidCode {
            attempts_remaining: Some(1),
        },
        ApiError::InvalidMfaToken,
        ApiError::InvalidGrant,
        ApiError::InvalidToken,
        ApiError::InsufficientAuthentication {
            max_age: Some(86_400),
        },
        ApiError::AlreadyEnabled,
        ApiError::NotEnabled,
        ApiError::EnrollmentExpired,
        ApiError::FactorLocked { factor: "totp" },
        ApiError::TooManyAttempts { retry_after: 1 },
        ApiError::RateLimited { retry_after: 60 },
        ApiError::NotFound,
        ApiError::SessionNotFound,
        ApiError::InvalidEmailCode,
        ApiError::MethodNotAllowed("GET"),
        ApiError::PayloadTooLarge,
        ApiError::UnsupportedMediaType,
        ApiError::Internal("x".into()),
        ApiError::Unavailable("x".into()),
        ApiError::Overloaded { retry_after: 1 },
    ];
    for e in &all {
        match e {
            ApiError::InvalidRequest(_)
            | ApiError::InvalidUsername(_)
            | ApiError::WeakPassword(_)
            | ApiError::UsernameTaken
            | ApiError::EmailTaken
            | ApiError::InvalidCredentials
            | ApiError::InvalidCode { .. }
            | ApiError::InvalidMfaToken
            | ApiError::InvalidGrant
            | ApiError::InvalidToken
            | ApiError::InsufficientAuthentication { .. }
            | ApiError::AlreadyEnabled
            | ApiError::NotEnabled
            | ApiError::EnrollmentExpired
            | ApiError::FactorLocked { .. }
            | ApiError::TooManyAttempts { .. }
            | ApiError::RateLimited { .. }
            | ApiError::NotFound
            | ApiError::SessionNotFound
            | ApiError::InvalidEmailCode
            | ApiError::MethodNotAllowed(_)
            | ApiError::PayloadTooLarge
            | ApiError::UnsupportedMediaType
            | ApiError::Internal(_)
            | ApiError::Unavailable(_)
            | ApiError::Overloaded { .. } => {}
        }
    }
    all
}

#[test]
fn the_document_knows_every_error_code_with_its_status() {
    let spec = spec();
    let documented: BTreeSet<String> = spec.doc["components"]["schemas"]["Error"]["properties"]
        ["error"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let errors = every_api_error();
    let codes: BTreeSet<String> = errors.iter().map(|e| e.code().to_owned()).collect();
    assert_eq!(documented, codes);

    // Each code is documented under its own status somewhere (404 and 405 as components), and
    // every error body the code can render conforms to the Error schema.
    let mut by_status: BTreeSet<(u16, String)> = BTreeSet::new();
    let mut responses: Vec<&Value> = Vec::new();
    for item in spec.doc["paths"].as_object().unwrap().values() {
        for (_, operation) in operations(item) {
            for (status, r) in operation["responses"].as_object().unwrap() {
                let r = spec.resolve(r).unwrap();
                responses.push(r);
                collect_codes(spec, status.parse().unwrap(), r, &mut by_status);
            }
        }
    }
    for (name, status) in [("NotFound", 404), ("MethodNotAllowed", 405)] {
        let r = &spec.doc["components"]["responses"][name];
        collect_codes(spec, status, r, &mut by_status);
    }
    for e in &errors {
        assert!(
            by_status.contains(&(e.status(), e.code().to_owned())),
            "{} ({}) is not documented under status {}",
            e.code(),
            e.message(),
            e.status()
        );
        let errors = spec.validate(&json!({ "$ref": "#/components/schemas/Error" }), &e.body());
        assert!(errors.is_empty(), "{}: {errors:?}", e.body());
    }
    assert!(responses.len() > 100);
}

fn collect_codes(spec: &Spec, status: u16, response: &Value, out: &mut BTreeSet<(u16, String)>) {
    let Some(schema) = response.pointer("/content/application~1json/schema") else {
        return;
    };
    // Error responses are `allOf: [Error, {properties: {error: {enum: [...]}}}]`.
    for branch in schema["allOf"].as_array().into_iter().flatten() {
        let branch = spec.resolve(branch).unwrap();
        for code in branch
            .pointer("/properties/error/enum")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.insert((status, code.as_str().unwrap().to_owned()));
        }
    }
}

#[test]
fn the_document_knows_every_event_kind_and_mfa_method() {
    let kinds = [
        EventKind::LoginSucceeded,
        EventKind::LoginFailed,
        EventKind::SecondFactorFailed,
        EventKind::Lockout,
        EventKind::FactorLocked,
        EventKind::TotpEnabled,
        EventKind::TotpDisabled,
        EventKind::RecoveryCodeUsed,
        EventKind::RecoveryCodesRegenerated,
        EventKind::PasswordChanged,
        EventKind::PasswordReset,
        EventKind::RefreshReuseDetected,
        EventKind::SessionsEnded,
        EventKind::NewDeviceLogin,
        EventKind::EmailVerified,
        EventKind::EmailChanged,
        EventKind::AccountDeleted,
    ];
    for k in kinds {
        // Stops compiling when a kind is added, so the list above cannot fall behind.
        match k {
            EventKind::LoginSucceeded
            | EventKind::LoginFailed
            | EventKind::SecondFactorFailed
            | EventKind::Lockout
            | EventKind::FactorLocked
            | EventKind::TotpEnabled
            | EventKind::TotpDisabled
            | EventKind::RecoveryCodeUsed
            | EventKind::RecoveryCodesRegenerated
            | EventKind::PasswordChanged
            | EventKind::PasswordReset
            | EventKind::RefreshReuseDetected
            | EventKind::SessionsEnded
            | EventKind::NewDeviceLogin
            | EventKind::EmailVerified
            | EventKind::EmailChanged
            | EventKind::AccountDeleted => {}
        }
    }
    let schemas = &spec().doc["components"]["schemas"];
    let documented =
        &schemas["Events"]["properties"]["events"]["items"]["properties"]["kind"]["enum"];
    let code: Vec<Value> = kinds.iter().map(|k| json!(k.as_str())).collect();
    assert_eq!(documented.as_array().unwrap(), &code);

    let methods = &schemas["MfaRequired"]["properties"]["methods"]["items"]["enum"];
    let code: Vec<Value> = edge_login::domain::session::MFA_METHODS
        .iter()
        .map(|m| json!(m))
        .collect();
    assert_eq!(methods.as_array().unwrap(), &code);
}

// ------------------------------------------------------------------------------------------------
// The validator fails on mismatches

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> TestResponse {
    TestResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect(),
        body: body.to_owned(),
    }
}

const JSON_NO_STORE: &[(&str, &str)] = &[
    ("content-type", "application/json"),
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
];

fn authenticated_body() -> Value {
    json!({
        "status": "authenticated",
        "access_token": "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln",
        "token_type": "Bearer",
        "expires_in": 900,
        "refresh_token": format!("rt_{}", "A".repeat(43)),
    })
}

#[test]
fn the_validator_accepts_conforming_responses_and_rejects_mismatches() {
    let spec = spec();
    let login = |status: u16, headers: &[(&str, &str)], body: &Value| {
        spec.check(
            "POST",
            "/v1/login",
            &response(status, headers, &body.to_string()),
        )
    };
    let ok = authenticated_body();
    login(200, JSON_NO_STORE, &ok).unwrap();
    let mfa = json!({
        "status": "mfa_required",
        "mfa_token": format!("mfa_{}", "b".repeat(43)),
        "expires_in": 300,
        "methods": ["totp", "recovery_code"],
    });
    login(200, JSON_NO_STORE, &mfa).unwrap();

    let mut wrong: Vec<(&str, Value)> = Vec::new();
    let mut body = ok.clone();
    body.as_object_mut().unwrap().remove("refresh_token");
    wrong.push(("missing required property", body));
    let mut body = ok.clone();
    body["refresh_token"] = json!("rt_short");
    wrong.push(("pattern", body));
    let mut body = ok.clone();
    body["expires_in"] = json!("900");
    wrong.push(("type", body));
    let mut body = ok.clone();
    body["token_type"] = json!("bearer");
    wrong.push(("const", body));
    let mut body = ok.clone();
    body["password_hash"] = json!("$argon2id$...");
    wrong.push(("additional property", body));
    let mut body = ok.clone();
    body["status"] = json!("mfa_required");
    wrong.push(("oneOf: neither branch", body));
    let mut body = mfa.clone();
    body["methods"] = json!(["sms"]);
    wrong.push(("enum in items", body));
    wrong.push(("not an object", json!([ok.clone()])));
    for (what, body) in wrong {
        assert!(
            login(200, JSON_NO_STORE, &body).is_err(),
            "{what}: {body} passed"
        );
    }

    // Status, content type and headers.
    assert!(
        login(418, JSON_NO_STORE, &ok).is_err(),
        "undocumented status"
    );
    let html = [
        ("content-type", "text/html"),
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
    ];
    assert!(login(200, &html, &ok).is_err(), "undocumented content type");
    assert!(
        login(200, &JSON_NO_STORE[..2], &ok).is_err(),
        "missing X-Content-Type-Options"
    );
    let cached = [
        ("content-type", "application/json"),
        ("cache-control", "public, max-age=300"),
        ("x-content-type-options", "nosniff"),
    ];
    assert!(login(200, &cached, &ok).is_err(), "wrong Cache-Control");
    let not_json = response(200, JSON_NO_STORE, "{\"status\":");
    assert!(spec.check("POST", "/v1/login", &not_json).is_err());

    // Errors: the code must be one listed for that status, with its headers.
    let limited = json!({ "error": "rate_limited", "message": "slow down", "retry_after": 60 });
    let with_retry = [JSON_NO_STORE, &[("retry-after", "60")]].concat();
    login(429, &with_retry, &limited).unwrap();
    assert!(
        login(429, JSON_NO_STORE, &limited).is_err(),
        "missing Retry-After"
    );
    let bad_retry = [JSON_NO_STORE, &[("retry-after", "soon")]].concat();
    assert!(
        login(429, &bad_retry, &limited).is_err(),
        "Retry-After not a number"
    );
    let no_field = json!({ "error": "rate_limited", "message": "slow down" });
    assert!(
        login(429, &with_retry, &no_field).is_err(),
        "missing retry_after"
    );
    let other_code = json!({ "error": "invalid_grant", "message": "no" });
    assert!(
        login(401, JSON_NO_STORE, &other_code).is_err(),
        "code not listed for this status"
    );
    let empty_message = json!({ "error": "invalid_credentials", "message": "" });
    assert!(
        login(401, JSON_NO_STORE, &empty_message).is_err(),
        "empty message"
    );
    let me_401 = json!({ "error": "invalid_token", "message": "no" });
    let me = |headers: &[(&str, &str)]| {
        spec.check(
            "GET",
            "/v1/me",
            &response(401, headers, &me_401.to_string()),
        )
    };
    let challenge = [
        JSON_NO_STORE,
        &[("www-authenticate", "Bearer error=\"invalid_token\"")],
    ]
    .concat();
    me(&challenge).unwrap();
    assert!(me(JSON_NO_STORE).is_err(), "missing WWW-Authenticate");

    // Bodies where none is documented, and the other way round.
    let no_content = [
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
    ];
    spec.check("POST", "/v1/logout", &response(204, &no_content, ""))
        .unwrap();
    assert!(spec
        .check("POST", "/v1/logout", &response(204, &no_content, "{}"))
        .is_err());
    assert!(spec
        .check("GET", "/v1/me", &response(200, JSON_NO_STORE, ""))
        .is_err());
    assert!(spec
        .check("PUT", "/v1/me", &response(200, JSON_NO_STORE, "{}"))
        .is_err());
}

// ------------------------------------------------------------------------------------------------
// Real responses, along the real flows

/// Sends requests to the app and checks each response against the document; remembers every
/// (method, path, status) it saw.
struct Walk<'a> {
    app: &'a TestApp,
    seen: RefCell<BTreeSet<(String, String, u16)>>,
    next_ip: Cell<u32>,
}

impl<'a> Walk<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            seen: RefCell::new(BTreeSet::new()),
            next_ip: Cell::new(1),
        }
    }

    /// A client address of its own per request, so the per-IP limits stay out of the way
    /// unless a step asks for one address (`from`).
    fn fresh_ip(&self) -> String {
        let n = self.next_ip.get();
        self.next_ip.set(n + 1);
        format!("198.19.{}.{}", 100 + n / 250, n % 250 + 1)
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        token: Option<&str>,
        from: Option<&str>,
    ) -> TestResponse {
        let content_type = body.map(|_| "application/json");
        self.send_as(method, path, body, content_type, token, from)
    }

    fn send_as(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        content_type: Option<&str>,
        token: Option<&str>,
        from: Option<&str>,
    ) -> TestResponse {
        let ip = from.map_or_else(|| self.fresh_ip(), str::to_owned);
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("cf-connecting-ip", ip.as_str())];
        if let Some(content_type) = content_type {
            headers.push(("content-type", content_type));
        }
        if let Some(auth) = &auth {
            headers.push(("authorization", auth.as_str()));
        }
        let response = self.app.request(method, path, body, &headers);
        // The document describes paths; a query string is a parameter of one, and so is
        // a `{id}` segment.
        let path = path.split('?').next().unwrap_or(path);
        let path = route(path).map_or(path, |(template, _)| *template);
        let documented = spec().operation(method, path).is_ok();
        let outcome = match response.status {
            404 if !documented => spec().check_component("NotFound", method, &response),
            405 if !documented => spec().check_component("MethodNotAllowed", method, &response),
            _ => spec().check(method, path, &response),
        };
        if let Err(e) = outcome {
            panic!("{method} {path}: the response breaks the OpenAPI document:\n  {e}");
        }
        // The request schemas only say what a request needs: whatever the Worker accepts
        // conforms to them.
        if let (2, Some(body), Some("application/json"), Ok(operation)) = (
            response.status / 100,
            body,
            content_type,
            spec().operation(method, path),
        ) {
            if let Some(request) = operation.get("requestBody") {
                let request = spec().resolve(request).unwrap();
                let schema = &request["content"]["application/json"]["schema"];
                let sent: Value = serde_json::from_str(body).unwrap();
                let errors = spec().validate(schema, &sent);
                assert!(
                    errors.is_empty(),
                    "{method} {path}: the Worker accepted {sent}, which its request schema refuses: {errors:?}"
                );
            }
        }
        // What the schema cannot say: a Bearer challenge comes with exactly the token errors.
        if response.status == 401 && method != "HEAD" {
            let code = response.json()["error"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let bearer = code == "invalid_token" || code == "insufficient_user_authentication";
            assert_eq!(
                response.header("www-authenticate").is_some(),
                bearer,
                "{method} {path}: 401 {code} and WWW-Authenticate {:?}",
                response.header("www-authenticate")
            );
        }
        self.seen
            .borrow_mut()
            .insert((method.to_owned(), path.to_owned(), response.status));
        response
    }

    fn post(&self, path: &str, body: &Value, token: Option<&str>) -> TestResponse {
        self.send("POST", path, Some(&body.to_string()), token, None)
    }

    fn expect(&self, response: TestResponse, status: u16, error: Option<&str>) -> TestResponse {
        assert_eq!(response.status, status, "{}", response.body);
        if let Some(error) = error {
            assert_eq!(response.json()["error"], error, "{}", response.body);
        }
        response
    }

    /// Asks for a password reset from a fresh address (returned, for the reset to use
    /// too) and reads the code from the mail.
    fn reset_code(&self, username: &str) -> (String, String) {
        let ip = self.fresh_ip();
        let forgot = json!({ "username": username }).to_string();
        let sent = self.send(
            "POST",
            "/v1/password/forgot",
            Some(&forgot),
            None,
            Some(&ip),
        );
        self.expect(sent, 202, None);
        let to = format!("{username}@example.com");
        let code = self
            .app
            .wait_for_emails_about(&to, "Reset your password", 1)[0]
            .code("rst_");
        (ip, code)
    }

    fn register(&self, username: &str) {
        let r = self.post(
            "/v1/register",
            &json!({ "username": username, "password": PASSWORD, "email": format!("{username}@example.com") }),
            None,
        );
        self.expect(r, 201, None);
    }

    fn login(&self, username: &str) -> Value {
        let r = self.post(
            "/v1/login",
            &json!({ "username": username, "password": PASSWORD }),
            None,
        );
        self.expect(r, 200, None).json()
    }

    /// Registers, logs in, enrols and confirms TOTP; returns (secret, confirm body).
    fn user_with_totp(&self, username: &str) -> (edge_login::domain::totp::TotpSecret, Value) {
        self.register(username);
        let access = self.login(username)["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let enroll = self.post(
            "/v1/2fa/totp/enroll",
            &json!({ "password": PASSWORD }),
            Some(&access),
        );
        let secret = secret_from(&self.expect(enroll, 200, None).json());
        let confirm = self.post(
            "/v1/2fa/totp/confirm",
            &json!({ "code": code(&secret, 0) }),
            Some(&access),
        );
        (secret, self.expect(confirm, 200, None).json())
    }
}

fn token(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {body}"))
        .to_owned()
}

/// Locks TOTP, then the password, of a user with 2FA, and the password of one without;
/// each route that checks a locked factor answers 423 `factor_locked`.
fn walk_locked_factors(c: &Walk) {
    let (_, confirmed) = c.user_with_totp("lena");
    let aal2 = token(&confirmed, "access_token");
    let mfa_token = token(&c.login("lena"), "mfa_token");
    let wrong = json!({ "mfa_token": mfa_token, "code": "000000" });
    for _ in 0..2 {
        c.expect(
            c.post("/v1/login/mfa", &wrong, None),
            401,
            Some("invalid_code"),
        );
    }
    c.expect(
        c.post("/v1/login/mfa", &wrong, None),
        423,
        Some("factor_locked"),
    );
    let (ip, rst) = c.reset_code("lena");
    let reset = json!({ "reset_code": rst, "new_password": "an entirely new passphrase", "code": "000000" });
    c.expect(
        c.send(
            "POST",
            "/v1/password/reset",
            Some(&reset.to_string()),
            None,
            Some(&ip),
        ),
        423,
        Some("factor_locked"),
    );
    c.expect(
        c.post(
            "/v1/email",
            &json!({ "password": PASSWORD, "email": "lena@new.example", "code": "000000" }),
            Some(&aal2),
        ),
        423,
        Some("factor_locked"),
    );
    let off = json!({ "password": PASSWORD, "code": "000000" }).to_string();
    c.expect(
        c.send("DELETE", "/v1/2fa/totp", Some(&off), Some(&aal2), None),
        423,
        Some("factor_locked"),
    );
    c.expect(
        c.post(
            "/v1/2fa/recovery-codes",
            &json!({ "code": "000000" }),
            Some(&aal2),
        ),
        423,
        Some("factor_locked"),
    );

    c.register("mona");
    let aal1 = token(&c.login("mona"), "access_token");
    for name in ["lena", "mona"] {
        let wrong = json!({ "username": name, "password": "wrong password" });
        for _ in 0..2 {
            c.expect(
                c.post("/v1/login", &wrong, None),
                401,
                Some("invalid_credentials"),
            );
        }
    }
    let right = json!({ "username": "lena", "password": PASSWORD });
    c.expect(
        c.post("/v1/login", &right, None),
        423,
        Some("factor_locked"),
    );
    c.expect(
        c.post(
            "/v1/2fa/totp/enroll",
            &json!({ "password": PASSWORD }),
            Some(&aal1),
        ),
        423,
        Some("factor_locked"),
    );
    let change =
        json!({ "current_password": PASSWORD, "new_password": "an entirely new passphrase" });
    c.expect(
        c.post("/v1/password", &change, Some(&aal1)),
        423,
        Some("factor_locked"),
    );
    let delete = json!({ "password": PASSWORD }).to_string();
    c.expect(
        c.send("DELETE", "/v1/account", Some(&delete), Some(&aal1), None),
        423,
        Some("factor_locked"),
    );
}

#[test]
fn every_response_along_the_flows_matches_the_document() {
    let app = spawn_app();
    let w = Walk::new(&app);
    let big = json!({ "password": "x".repeat(17 * 1024) }).to_string();

    // Meta routes, HEAD and preflights everywhere, unknown paths and wrong methods.
    for path in ["/", "/health", "/openapi.json", "/.well-known/jwks.json"] {
        w.expect(w.send("GET", path, None, None, None), 200, None);
        let head = w.expect(w.send("HEAD", path, None, None, None), 200, None);
        assert!(head.body.is_empty());
    }
    let served = w.send("GET", "/openapi.json", None, None, None).json();
    assert_eq!(
        served,
        spec().doc,
        "GET /openapi.json serves public/openapi.json"
    );
    for (path, method) in ROUTES {
        let preflight = w.expect(w.send("OPTIONS", path, None, None, None), 204, None);
        assert_eq!(
            preflight.header("access-control-allow-methods"),
            Some(*method)
        );
        let other = if *method == "POST" { "PUT" } else { "POST" };
        let wrong = w.expect(
            w.send(other, path, None, None, None),
            405,
            Some("method_not_allowed"),
        );
        assert_eq!(wrong.header("allow"), Some(*method));
    }
    w.expect(
        w.send("GET", "/v1/nothing", None, None, None),
        404,
        Some("not_found"),
    );
    w.expect(
        w.send("POST", "/v1/me/", None, None, None),
        404,
        Some("not_found"),
    );

    // Bearer routes without a (valid) token.
    for (path, method) in ROUTES {
        let bearer = spec()
            .operation(method, path)
            .unwrap()
            .get("security")
            .is_some();
        if !bearer {
            continue;
        }
        let body = (*method != "GET").then_some("{}");
        for token in [None, Some("not-a-jwt")] {
            w.expect(
                w.send(method, path, body, token, None),
                401,
                Some("invalid_token"),
            );
            if *method == "GET" {
                w.expect(w.send("HEAD", path, None, token, None), 401, None);
            }
        }
    }

    // Registration. Names and passwords are normalised (NFKC) before the rules apply, so the
    // schema bounds only the raw input: "ﬁx" is the 3-letter "fix".
    w.register("ada");
    w.expect(
        w.post(
            "/v1/register",
            &json!({ "username": "ﬁx", "password": "ﬁﬁﬁﬁﬁﬁﬁﬁ" }),
            None,
        ),
        201,
        None,
    );
    w.expect(
        w.post(
            "/v1/register",
            &json!({ "username": "ADA", "password": "another long passphrase" }),
            None,
        ),
        409,
        Some("username_taken"),
    );
    w.expect(
        w.post(
            "/v1/register",
            &json!({ "username": "a b", "password": PASSWORD }),
            None,
        ),
        400,
        Some("invalid_username"),
    );
    w.expect(
        w.post(
            "/v1/register",
            &json!({ "username": "bea", "password": "short" }),
            None,
        ),
        400,
        Some("weak_password"),
    );
    w.expect(
        w.post(
            "/v1/register",
            &json!({ "username": "bea", "password": PASSWORD, "email": "nope" }),
            None,
        ),
        400,
        Some("invalid_request"),
    );

    // Malformed and oversized bodies on every body route (a token where the route needs one).
    let ada = w.login("ada");
    assert_eq!(ada["status"], "authenticated");
    let ada_access = token(&ada, "access_token");
    let ada_refresh = token(&ada, "refresh_token");
    let (secret, confirmed) = w.user_with_totp("grace");
    let grace_aal2 = token(&confirmed, "access_token");
    let recovery: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    for (path, method) in ROUTES {
        let operation = spec().operation(method, path).unwrap();
        if operation.get("requestBody").is_none() {
            continue;
        }
        let auth = operation.get("security").is_some();
        let token = auth.then_some(grace_aal2.as_str());
        w.expect(
            w.send(method, path, Some("[1, 2]"), token, None),
            400,
            Some("invalid_request"),
        );
        w.expect(
            w.send(method, path, Some(&big), token, None),
            413,
            Some("payload_too_large"),
        );
        w.expect(
            w.send_as(method, path, Some("{}"), Some("text/plain"), token, None),
            415,
            Some("unsupported_media_type"),
        );
    }

    // Login without a second factor, the session routes, refresh and logout.
    w.expect(
        w.post(
            "/v1/login",
            &json!({ "username": "ada", "password": "wrong password" }),
            None,
        ),
        401,
        Some("invalid_credentials"),
    );
    let me = w.expect(
        w.send("GET", "/v1/me", None, Some(&ada_access), None),
        200,
        None,
    );
    assert_eq!(me.json()["aal"], "aal1");
    w.expect(
        w.send("HEAD", "/v1/me", None, Some(&ada_access), None),
        200,
        None,
    );
    for method in ["GET", "HEAD"] {
        w.expect(
            w.send(method, "/v1/events?limit=0", None, Some(&ada_access), None),
            400,
            None,
        );
    }
    for path in ["/v1/events", "/v1/2fa"] {
        w.expect(
            w.send("GET", path, None, Some(&ada_access), None),
            200,
            None,
        );
        w.expect(
            w.send("HEAD", path, None, Some(&ada_access), None),
            200,
            None,
        );
    }

    // Email verification, with the code the registration mailed.
    w.register("olga");
    let evc = w.app.wait_for_emails("olga@example.com", 1)[0].code("evc_");
    let verify = json!({ "code": evc });
    w.expect(w.post("/v1/email/verify", &verify, None), 204, None);
    w.expect(
        w.post("/v1/email/verify", &verify, None),
        401,
        Some("invalid_email_code"),
    );

    // A password reset for Olga, with the code the request mailed.
    let (ip, rst) = w.reset_code("olga");
    let reset = |code: &str| {
        let body = json!({ "reset_code": code, "new_password": "an entirely new passphrase" });
        w.send(
            "POST",
            "/v1/password/reset",
            Some(&body.to_string()),
            None,
            Some(&ip),
        )
    };
    w.expect(
        reset(&format!("rst_{}", "A".repeat(43))),
        401,
        Some("invalid_email_code"),
    );
    w.expect(reset(&rst), 204, None);

    // Changing an address: to Olga's verified one is refused, to a new one works.
    w.register("pia");
    let pia = token(&w.login("pia"), "access_token");
    for (body, status, error) in [
        (
            json!({ "password": PASSWORD, "email": "olga@example.com" }),
            409,
            "email_taken",
        ),
        (
            json!({ "password": "wrong password", "email": "pia@new.example" }),
            401,
            "invalid_credentials",
        ),
        (
            json!({ "password": PASSWORD, "email": "no address" }),
            400,
            "invalid_request",
        ),
    ] {
        w.expect(w.post("/v1/email", &body, Some(&pia)), status, Some(error));
    }
    let moved = json!({ "password": PASSWORD, "email": "pia@new.example" });
    w.expect(w.post("/v1/email", &moved, Some(&pia)), 204, None);

    // Deleting an account (a throwaway one).
    w.register("otto");
    let otto = token(&w.login("otto"), "access_token");
    let bye = json!({ "password": PASSWORD }).to_string();
    w.expect(
        w.send("DELETE", "/v1/account", Some(&bye), Some(&otto), None),
        204,
        None,
    );

    // The sessions list; ending one session, then the others.
    w.register("nora");
    let here = token(&w.login("nora"), "access_token");
    let there = token(&w.login("nora"), "access_token");
    token(&w.login("nora"), "access_token");
    let listed = w.expect(
        w.send("GET", "/v1/sessions", None, Some(&here), None),
        200,
        None,
    );
    assert_eq!(listed.json()["sessions"].as_array().unwrap().len(), 3);
    w.expect(
        w.send("HEAD", "/v1/sessions", None, Some(&here), None),
        200,
        None,
    );
    let there_sid = decode_jwt(&there).1["sid"].as_str().unwrap().to_owned();
    let end_there = format!("/v1/sessions/{there_sid}");
    w.expect(
        w.send("DELETE", &end_there, None, Some(&here), None),
        204,
        None,
    );
    w.expect(
        w.send("DELETE", &end_there, None, Some(&here), None),
        404,
        Some("session_not_found"),
    );
    w.expect(
        w.send(
            "POST",
            "/v1/sessions/revoke-others",
            None,
            Some(&here),
            None,
        ),
        204,
        None,
    );
    let left = w.expect(
        w.send("GET", "/v1/sessions", None, Some(&here), None),
        200,
        None,
    );
    assert_eq!(left.json()["sessions"].as_array().unwrap().len(), 1);

    let refreshed = w.expect(
        w.post(
            "/v1/token/refresh",
            &json!({ "refresh_token": ada_refresh }),
            None,
        ),
        200,
        None,
    );
    w.expect(
        w.post(
            "/v1/token/refresh",
            &json!({ "refresh_token": ada_refresh }),
            None,
        ),
        401,
        Some("invalid_grant"),
    );
    let ada_access = token(&refreshed.json(), "access_token");
    w.expect(
        w.post(
            "/v1/logout",
            &json!({ "refresh_token": "rt_nope" }),
            Some(&ada_access),
        ),
        400,
        Some("invalid_request"),
    );
    w.expect(
        w.send("POST", "/v1/logout", None, Some(&ada_access), None),
        204,
        None,
    );
    // That session is over: changing the account needs a live one (issue 12, item 4).
    let ada_access = token(&w.login("ada"), "access_token");

    // Step-up routes with an aal1 session.
    for (method, path) in [
        ("DELETE", "/v1/2fa/totp"),
        ("POST", "/v1/2fa/recovery-codes"),
    ] {
        let body = json!({ "password": PASSWORD, "code": "123456" }).to_string();
        w.expect(
            w.send(method, path, Some(&body), Some(&ada_access), None),
            401,
            Some("insufficient_user_authentication"),
        );
    }

    // TOTP enrolment: wrong password, no pending enrolment, wrong code, already on.
    w.expect(
        w.post(
            "/v1/2fa/totp/enroll",
            &json!({ "password": "not it at all" }),
            Some(&ada_access),
        ),
        401,
        Some("invalid_credentials"),
    );
    w.expect(
        w.post(
            "/v1/2fa/totp/confirm",
            &json!({ "code": "123456" }),
            Some(&ada_access),
        ),
        410,
        Some("enrollment_expired"),
    );
    let enroll = w.expect(
        w.post(
            "/v1/2fa/totp/enroll",
            &json!({ "password": PASSWORD }),
            Some(&ada_access),
        ),
        200,
        None,
    );
    let ada_secret = secret_from(&enroll.json());
    w.expect(
        w.post(
            "/v1/2fa/totp/confirm",
            &json!({ "code": wrong_code(&ada_secret) }),
            Some(&ada_access),
        ),
        401,
        Some("invalid_code"),
    );
    w.expect(
        w.post(
            "/v1/2fa/totp/enroll",
            &json!({ "password": PASSWORD }),
            Some(&grace_aal2),
        ),
        409,
        Some("already_enabled"),
    );

    // Two-step login.
    let first = w.login("grace");
    assert_eq!(first["status"], "mfa_required");
    let mfa_token = token(&first, "mfa_token");
    let submit = |body: Value| w.post("/v1/login/mfa", &body, None);
    w.expect(
        submit(json!({ "mfa_token": mfa_token, "code": "123456", "recovery_code": recovery[0] })),
        400,
        Some("invalid_request"),
    );
    let wrong = w.expect(
        submit(json!({ "mfa_token": mfa_token, "code": wrong_code(&secret) })),
        401,
        Some("invalid_code"),
    );
    assert!(wrong.json()["attempts_remaining"].is_u64());
    w.expect(
        submit(json!({ "mfa_token": format!("mfa_{}", "A".repeat(43)), "code": "123456" })),
        401,
        Some("invalid_mfa_token"),
    );
    let done = w.expect(
        submit(json!({ "mfa_token": mfa_token, "code": code(&secret, 1) })),
        200,
        None,
    );
    let grace_access = token(&done.json(), "access_token");
    let me = w.expect(
        w.send("GET", "/v1/me", None, Some(&grace_access), None),
        200,
        None,
    );
    assert_eq!(me.json()["aal"], "aal2");
    w.expect(
        w.send("GET", "/v1/2fa", None, Some(&grace_access), None),
        200,
        None,
    );

    // Recovery codes and the password change, with a second factor each.
    w.expect(
        w.post(
            "/v1/2fa/recovery-codes",
            &json!({ "code": wrong_code(&secret) }),
            Some(&grace_access),
        ),
        401,
        Some("invalid_code"),
    );
    let fresh = w.expect(
        w.post(
            "/v1/2fa/recovery-codes",
            &json!({ "recovery_code": recovery[0] }),
            Some(&grace_access),
        ),
        200,
        None,
    );
    let recovery: Vec<String> = fresh.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let change = |body: Value| w.post("/v1/password", &body, Some(&grace_access));
    let new_password = "an entirely new passphrase";
    w.expect(
        change(json!({ "current_password": PASSWORD, "new_password": new_password })),
        400,
        Some("invalid_request"),
    );
    w.expect(
        change(json!({ "current_password": PASSWORD, "new_password": "short", "recovery_code": recovery[0] })),
        400,
        Some("weak_password"),
    );
    w.expect(
        change(json!({ "current_password": "not the password", "new_password": new_password, "recovery_code": recovery[0] })),
        401,
        Some("invalid_credentials"),
    );
    w.expect(
        change(json!({ "current_password": PASSWORD, "new_password": new_password, "code": wrong_code(&secret) })),
        401,
        Some("invalid_code"),
    );
    let changed = w.expect(
        change(json!({ "current_password": PASSWORD, "new_password": new_password, "recovery_code": recovery[1] })),
        200,
        None,
    );
    let grace_access = token(&changed.json(), "access_token");

    // Turning TOTP off: wrong password, wrong code, done, then "not enabled" on both routes.
    let disable = |password: &str, factor: Value| {
        let mut body = json!({ "password": password });
        body.as_object_mut()
            .unwrap()
            .extend(factor.as_object().unwrap().clone());
        w.send(
            "DELETE",
            "/v1/2fa/totp",
            Some(&body.to_string()),
            Some(&grace_access),
            None,
        )
    };
    w.expect(
        disable("not the password", json!({ "recovery_code": recovery[2] })),
        401,
        Some("invalid_credentials"),
    );
    w.expect(
        disable(new_password, json!({ "code": wrong_code(&secret) })),
        401,
        Some("invalid_code"),
    );
    w.expect(
        disable(new_password, json!({ "recovery_code": recovery[2] })),
        204,
        None,
    );
    // Turning TOTP off ended every session, this one included: its token no longer
    // changes anything (issue 12, item 4), so `not_enabled` is left to a race.
    w.expect(
        disable(new_password, json!({ "recovery_code": recovery[3] })),
        401,
        Some("invalid_token"),
    );
    w.expect(
        w.post(
            "/v1/2fa/recovery-codes",
            &json!({ "recovery_code": recovery[3] }),
            Some(&grace_access),
        ),
        401,
        Some("invalid_token"),
    );
    let events = w.expect(
        w.send("GET", "/v1/events", None, Some(&grace_access), None),
        200,
        None,
    );
    assert!(events.json()["events"].as_array().unwrap().len() > 5);

    // Throttles: wrong passwords lock the account (429 on every password route), wrong codes
    // lock its second factor.
    let (_, locked) = w.user_with_totp("hedy");
    let hedy_aal2 = token(&locked, "access_token");
    let hedy_codes = locked["recovery_codes"].as_array().unwrap().clone();
    let mut mfa_token = token(&w.login("hedy"), "mfa_token");
    let mut statuses = Vec::new();
    while statuses.last() != Some(&429) && statuses.len() < 10 {
        let r = w.post(
            "/v1/login/mfa",
            &json!({ "mfa_token": mfa_token, "code": "000000" }),
            None,
        );
        if r.json()["error"] == "invalid_mfa_token" {
            mfa_token = token(&w.login("hedy"), "mfa_token");
        }
        statuses.push(r.status);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    w.expect(
        w.post(
            "/v1/2fa/recovery-codes",
            &json!({ "recovery_code": hedy_codes[0] }),
            Some(&hedy_aal2),
        ),
        429,
        Some("too_many_attempts"),
    );
    for _ in 0..6 {
        w.post(
            "/v1/login",
            &json!({ "username": "hedy", "password": "wrong password" }),
            None,
        );
    }
    let locked = w.expect(
        w.post(
            "/v1/login",
            &json!({ "username": "hedy", "password": PASSWORD }),
            None,
        ),
        429,
        Some("too_many_attempts"),
    );
    assert!(locked.json()["retry_after"].as_i64().unwrap() >= 1);
    w.expect(
        w.post(
            "/v1/2fa/totp/enroll",
            &json!({ "password": PASSWORD }),
            Some(&hedy_aal2),
        ),
        429,
        Some("too_many_attempts"),
    );
    w.expect(
        w.post("/v1/password", &json!({ "current_password": PASSWORD, "new_password": new_password, "recovery_code": hedy_codes[1] }), Some(&hedy_aal2)),
        429,
        Some("too_many_attempts"),
    );
    w.expect(
        w.send(
            "DELETE",
            "/v1/2fa/totp",
            Some(&json!({ "password": PASSWORD, "recovery_code": hedy_codes[1] }).to_string()),
            Some(&hedy_aal2),
            None,
        ),
        429,
        Some("too_many_attempts"),
    );

    // Per-address rate limits, checked before the body or the token is read (so empty
    // bodies without a token do). The limiter counts in fixed one-minute windows: the
    // first `limit` requests always pass, and a window ending during the loop lets at
    // most `limit` more through.
    for (method, path, limit) in [
        ("POST", "/v1/register", 10),
        ("POST", "/v1/login", 30),
        ("POST", "/v1/login/mfa", 30),
        ("POST", "/v1/token/refresh", 60),
        ("POST", "/v1/2fa/totp/confirm", 30),
        ("POST", "/v1/2fa/recovery-codes", 30),
        ("POST", "/v1/password", 10),
        ("POST", "/v1/2fa/totp/enroll", 10),
        ("DELETE", "/v1/2fa/totp", 10),
        ("POST", "/v1/email/verify", 30),
        ("DELETE", "/v1/account", 10),
        ("POST", "/v1/password/forgot", 10),
        ("POST", "/v1/email", 10),
        ("POST", "/v1/password/reset", 10),
    ] {
        let ip = w.fresh_ip();
        for n in 0..limit {
            let r = w.send(method, path, Some("{}"), None, Some(&ip));
            assert_ne!(
                r.status, 429,
                "{method} {path}: request {n} of {limit} was limited"
            );
        }
        let limited = (0..=limit)
            .map(|_| w.send(method, path, Some("{}"), None, Some(&ip)))
            .find(|r| r.status == 429)
            .unwrap_or_else(|| panic!("{method} {path}: {} requests and no limit", 2 * limit + 1));
        let limited = w.expect(limited, 429, Some("rate_limited"));
        assert_eq!(limited.header("retry-after"), Some("60"));
    }

    // The hard cap, on an app whose cap is 2 (every factor of every route that checks one).
    let capped = spawn_app_with(&[("MAX_FAILED_ATTEMPTS", "2")]);
    let c = Walk::new(&capped);
    walk_locked_factors(&c);
    w.seen.borrow_mut().extend(c.seen.take());

    // Every documented status was seen (500s aside: nothing here makes the Worker fail).
    let seen = w.seen.borrow();
    let mut missing = Vec::new();
    for (path, item) in spec().doc["paths"].as_object().unwrap() {
        for (method, operation) in operations(item) {
            let method = method.to_ascii_uppercase();
            for status in operation["responses"].as_object().unwrap().keys() {
                let status: u16 = status.parse().unwrap();
                // 500 and 503 (a missing limiter binding) need a broken deployment.
                let excused = status == 500
                    || status == 503
                    || NOT_WALKED
                        .iter()
                        .any(|(m, p, s, _)| *m == method && p == path && *s == status);
                if !excused && !seen.contains(&(method.clone(), path.clone(), status)) {
                    missing.push(format!("{method} {path} {status}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "documented but never answered in this walk: {missing:#?}"
    );
}
