//! Integration-test harness: each test gets its own running copy of the real Worker.
//!
//! `spawn_app()` starts `wrangler dev` (local workerd, local D1 + KV) on free loopback ports with
//! a fresh persistence directory that already holds the schema, waits until `GET /health`
//! answers 200 and hands back a [`TestApp`] with HTTP helpers. Dropping the `TestApp` kills the
//! whole process group (wrangler, workerd, esbuild) and removes its scratch directory under
//! `target/test-apps/` (kept, and its path printed, when the test panicked or `KEEP_TEST_STATE`
//! is set).
//!
//! Per test run, once:
//! - `make build` (a no-op when build/index.js is up to date; `build/index.js` must already exist:
//!   run `make build` or `make test` first),
//! - `.dev.vars` is generated when absent (scripts/gen-dev-vars.sh),
//! - schema.sql is applied into a template state directory (`target/test-state-template`,
//!   rebuilt whenever schema.sql, wrangler.toml or the wrangler version changes), guarded by a
//!   file lock so parallel test binaries don't race. Each app then gets a plain copy of it.
//!
//! Environment knobs: `KEEP_TEST_STATE` (keep per-app dirs), `TEST_WRANGLER_LOG_LEVEL`
//! (default `log`, which includes the Worker's console output), `TEST_STARTUP_TIMEOUT_SECS` (default 60).
//!
//! Ports, the process group, the readiness probe and the template come from `edge-login-testkit`
//! (testkit/), which the load generator's cold-start runs use too.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use edge_login_testkit::{
    log_tail, quiet_wrangler_env, run_checked, run_output, Ready, StateTemplate, TemplateSpec,
    WorkerProcess, WranglerDev,
};
use serde_json::Value;

/// Timeout of a whole request made by the test helpers (a hung Worker fails the test).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for `wrangler dev` to answer `GET /health` with 200.
const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

// ------------------------------------------------------------------------------------------------
// Responses

/// A finished HTTP exchange; 4xx/5xx are ordinary responses here, not errors.
#[derive(Debug, Clone)]
pub struct TestResponse {
    pub status: u16,
    /// Header names lowercased; repeated headers appear once per value.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl TestResponse {
    /// The body parsed as JSON; panics (showing status and body) when it isn't JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}); status {}, body: {:?}",
                self.status, self.body
            )
        })
    }

    /// First value of the header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All values of the header `name` (case-insensitive), e.g. several `set-cookie`.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn from_ureq(response: ureq::Response) -> Self {
        let status = response.status();
        let mut headers = Vec::new();
        let mut names = response.headers_names();
        names.dedup();
        for name in names {
            for value in response.all(&name) {
                headers.push((name.to_ascii_lowercase(), value.to_string()));
            }
        }
        let body = response
            .into_string()
            .unwrap_or_else(|e| panic!("reading response body (status {status}) failed: {e}"));
        TestResponse {
            status,
            headers,
            body,
        }
    }
}

// ------------------------------------------------------------------------------------------------
// The app

/// One running Worker (`wrangler dev`) with its own D1/KV state.
pub struct TestApp {
    /// Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub address: String,
    pub port: u16,
    /// HTTP client with request timeouts and redirects disabled (3xx are returned as-is).
    pub agent: ureq::Agent,
    /// This app's scratch directory (holds `state/` and `wrangler.log`).
    pub dir: PathBuf,
    /// The `--persist-to` directory (local D1 sqlite files live under `v3/d1/`).
    pub state_dir: PathBuf,
    pub log_path: PathBuf,
    /// Sent as `CF-Connecting-IP` unless a request sets its own.
    client_ip: std::sync::Mutex<String>,
    /// wrangler dev's process group (stopped on drop, before `scratch` goes).
    worker: WorkerProcess,
    scratch: ScratchDir,
}

/// Start a fresh Worker and wait until it serves `GET /health`.
pub fn spawn_app() -> TestApp {
    spawn_app_with(&[])
}

/// Like [`spawn_app`], with `[vars]`/secrets overridden (`wrangler dev --var NAME:VALUE`).
pub fn spawn_app_with(vars: &[(&str, &str)]) -> TestApp {
    let env = test_env();
    let dir = new_app_dir(&env.target_dir);
    // If starting fails below, this goes while the panic unwinds: the dir is kept and named.
    let scratch = ScratchDir(dir.clone());
    let state_dir = dir.join("state");
    env.template
        .copy_to(&state_dir)
        .unwrap_or_else(|e| panic!("copying the D1 template into {state_dir:?} failed: {e}"));
    let log_path = dir.join("wrangler.log");
    let worker = start_worker(env, &dir, &state_dir, &log_path, vars);

    let agent = ureq::AgentBuilder::new()
        .timeout(REQUEST_TIMEOUT)
        .redirects(0)
        .build();
    TestApp {
        address: worker.base_url(),
        port: worker.port(),
        agent,
        dir,
        state_dir,
        log_path,
        client_ip: std::sync::Mutex::new(random_client_ip()),
        worker,
        scratch,
    }
}

/// Starts `wrangler dev` on fresh ports over `state_dir` and waits until `GET /health` answers
/// 200 (panics with the log tail if it doesn't). A port taken by another process between
/// finding and binding it means a start on new ports (edge_login_testkit::WranglerDev::start).
fn start_worker(
    env: &TestEnv,
    dir: &Path,
    state_dir: &Path,
    log_path: &Path,
    vars: &[(&str, &str)],
) -> WorkerProcess {
    let log_level = std::env::var("TEST_WRANGLER_LOG_LEVEL").unwrap_or_else(|_| "log".to_string());
    let timeout = std::env::var("TEST_STARTUP_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_STARTUP_TIMEOUT);
    WranglerDev::new(&env.wrangler, state_dir, log_path)
        .current_dir(&env.repo)
        .log_level(&log_level)
        .vars(vars.iter().copied())
        .wrangler_log_dir(dir.join("wrangler-logs"))
        // `GET /__scheduled?cron=...` runs the Cron Trigger's handler (TestApp::run_cron).
        .test_scheduled(true)
        .start(&Ready::get("/health", timeout))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A client address for the `CF-Connecting-IP` header (a header value only: every
/// request still goes to 127.0.0.1). Distinct per app so per-IP limits don't couple
/// tests; from 198.18.0.0/15, the range reserved for benchmarking.
fn random_client_ip() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) + std::process::id() as usize * 97;
    format!("198.18.{}.{}", (n / 250) % 256, n % 250 + 1)
}

impl TestApp {
    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn get(&self, path: &str) -> TestResponse {
        self.request("GET", path, None, &[])
    }

    pub fn get_with_token(&self, path: &str, bearer: &str) -> TestResponse {
        let auth = format!("Bearer {bearer}");
        self.request("GET", path, None, &[("authorization", &auth)])
    }

    pub fn post_json(&self, path: &str, body: &Value) -> TestResponse {
        self.request(
            "POST",
            path,
            Some(&body.to_string()),
            &[("content-type", "application/json")],
        )
    }

    pub fn post_json_with_token(&self, path: &str, body: &Value, bearer: &str) -> TestResponse {
        let auth = format!("Bearer {bearer}");
        self.request(
            "POST",
            path,
            Some(&body.to_string()),
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
        )
    }

    /// POST an arbitrary body (malformed JSON, wrong content types, ...).
    pub fn post_raw(&self, path: &str, body: &str, content_type: &str) -> TestResponse {
        self.request("POST", path, Some(body), &[("content-type", content_type)])
    }

    pub fn delete_json_with_token(&self, path: &str, body: &Value, bearer: &str) -> TestResponse {
        let auth = format!("Bearer {bearer}");
        self.request(
            "DELETE",
            path,
            Some(&body.to_string()),
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
        )
    }

    /// General request. `body: None` sends no body; 4xx/5xx come back as normal responses;
    /// a transport failure (refused, timeout) panics with the tail of the wrangler log.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let url = self.url(path);
        let mut req = self.agent.request(method, &url);
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("cf-connecting-ip"))
        {
            req = req.set("cf-connecting-ip", &self.client_ip.lock().unwrap());
        }
        for (name, value) in headers {
            req = req.set(name, value);
        }
        let result = match body {
            Some(body) => req.send_string(body),
            None => req.call(),
        };
        match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => {
                TestResponse::from_ureq(response)
            }
            Err(e) => panic!(
                "{method} {url} failed: {e}\n--- wrangler log tail ({}) ---\n{}",
                self.log_path.display(),
                log_tail(&self.log_path)
            ),
        }
    }

    /// From now on, requests come from `ip` (the `CF-Connecting-IP` header).
    pub fn set_client_ip(&self, ip: &str) {
        *self.client_ip.lock().unwrap() = ip.to_owned();
    }

    /// Stops the Worker and starts it again over the same state (D1, KV) with new
    /// var/secret overrides: a deploy with rotated keys, say.
    pub fn restart_with(&mut self, vars: &[(&str, &str)]) {
        self.worker.stop();
        let worker = start_worker(test_env(), &self.dir, &self.state_dir, &self.log_path, vars);
        self.port = worker.port();
        self.address = worker.base_url();
        self.worker = worker;
    }

    /// Runs the Worker's scheduled handler now, as its Cron Trigger would.
    pub fn run_cron(&self) {
        let response = self.get("/__scheduled?cron=17+*+*+*+*");
        assert_eq!(response.status, 200, "{}", response.body);
    }

    /// Runs `sql` against this app's local D1 (`wrangler d1 execute DB --local`) and returns
    /// the rows of its last statement. For arranging what no API call can make (rows from
    /// long ago) and for looking at what the API never shows (a sealed secret).
    pub fn d1(&self, sql: &str) -> Vec<Value> {
        let env = test_env();
        let mut cmd = Command::new(&env.wrangler);
        cmd.current_dir(&env.repo)
            .args(["d1", "execute", "DB", "--local", "--json", "--command", sql])
            .arg("--persist-to")
            .arg(&self.state_dir);
        quiet_wrangler_env(&mut cmd, Some(&self.dir.join("wrangler-logs")));
        let out = run_output(&mut cmd, "wrangler d1 execute").unwrap_or_else(|e| panic!("{e}"));
        let statements: Vec<Value> = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("wrangler d1 execute --json printed {out:?}: {e}"));
        let last = statements.last().expect("no statement ran");
        last["results"].as_array().cloned().unwrap_or_default()
    }

    /// The whole wrangler/workerd log so far (build output, request lines, Worker console).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The emails sent to `to`, once there are at least `n` (wrangler logs a message after
    /// the response that caused it, and the Worker sends it in `waitUntil`).
    pub fn wait_for_emails(&self, to: &str, n: usize) -> Vec<Email> {
        self.wait_for_log(&format!("{n} emails to {to}"), |log| {
            let mails: Vec<Email> = emails_in(log).into_iter().filter(|m| m.to == to).collect();
            (mails.len() >= n).then_some(mails)
        })
    }

    /// The emails to `to` with `subject`, once there are at least `n`: messages caused by
    /// different requests may be sent in either order.
    pub fn wait_for_emails_about(&self, to: &str, subject: &str, n: usize) -> Vec<Email> {
        self.wait_for_log(&format!("{n} emails to {to} about {subject:?}"), |log| {
            let mails: Vec<Email> = emails_in(log)
                .into_iter()
                .filter(|m| m.to == to && m.subject == subject)
                .collect();
            (mails.len() >= n).then_some(mails)
        })
    }

    /// Polls the log (for 20 s at most) until `found` finds what it looks for: the Worker's
    /// console, and what the local bindings log, arrive after the response that caused them.
    pub fn wait_for_log<T>(&self, what: &str, found: impl Fn(&str) -> Option<T>) -> T {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let log = self.log();
            if let Some(t) = found(&log) {
                return t;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {what} in the log after 20 s:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Every email a wrangler log records, oldest first. The local `send_email` binding
/// sends nothing: it writes the text and HTML parts to files and logs their paths
/// beside From, To and Subject; this reads them back from there.
fn emails_in(log: &str) -> Vec<Email> {
    let mut out = Vec::new();
    let mut lines = log.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.contains("send_email binding called with MessageBuilder") {
            continue;
        }
        let mut mail = Email::default();
        while let Some(next) = lines.peek() {
            if next.contains("send_email binding called") {
                break;
            }
            let field = |name: &str| next.trim().strip_prefix(name).map(str::to_owned);
            if let Some(v) = field("To: ") {
                mail.to = v;
            } else if let Some(v) = field("Subject: ") {
                mail.subject = v;
            } else if let Some(path) = field("Text: ") {
                mail.text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            } else if let Some(path) = field("HTML: ") {
                mail.html = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
                lines.next();
                break;
            }
            lines.next();
        }
        out.push(mail);
    }
    out
}

/// One email as the local `send_email` binding recorded it.
#[derive(Debug, Default, Clone)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Email {
    /// The single-use code (`evc_...`) the email exists for.
    pub fn code(&self, prefix: &str) -> String {
        let start = self
            .text
            .find(prefix)
            .unwrap_or_else(|| panic!("no {prefix} code in {self:?}"));
        self.text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // SIGTERM to wrangler, workerd and esbuild, SIGKILL after a grace period; then the
        // fields drop, `scratch` last.
        self.worker.stop();
    }
}

/// An app's scratch directory: removed on drop, but kept for inspection (and its path printed)
/// when asked to or when the test failed (its log is in there).
struct ScratchDir(PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let why = if std::env::var_os("KEEP_TEST_STATE").is_some() {
            Some("KEEP_TEST_STATE")
        } else if std::thread::panicking() {
            Some("test failed")
        } else {
            None
        };
        if let Some(why) = why {
            // Straight to stderr: libtest's output capture would swallow eprintln! on success.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "{why}: kept {} (wrangler.log, state/)",
                self.0.display()
            );
        } else {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Once-per-run preparation

struct TestEnv {
    repo: PathBuf,
    target_dir: PathBuf,
    wrangler: PathBuf,
    template: StateTemplate,
}

fn test_env() -> &'static TestEnv {
    static ENV: OnceLock<Result<TestEnv, String>> = OnceLock::new();
    match ENV.get_or_init(prepare) {
        Ok(env) => env,
        Err(msg) => panic!("{msg}"),
    }
}

fn prepare() -> Result<TestEnv, String> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo.join("target"));
    let wrangler = repo.join("node_modules/.bin/wrangler");
    // Its lock file is target/test-state-template.lock.
    let template = StateTemplate::new(target_dir.join("test-state-template"));

    if !wrangler.exists() {
        return Err(format!(
            "{} is missing: run `make tools` (or `make test`) first",
            wrangler.display()
        ));
    }
    if !repo.join("build/index.js").exists() {
        return Err("build/index.js is missing: run `make build` (or `make test`) first".into());
    }

    let spec = TemplateSpec {
        repo: &repo,
        wrangler: &wrangler,
        binding: "DB",
        schema: "schema.sql",
        // The D1 binding config and the wrangler version.
        inputs: &["wrangler.toml", "node_modules/wrangler/package.json"],
    };
    // All under the template's exclusive lock, so parallel test binaries don't race.
    template.ensure_with(&spec, || {
        // Bring the Worker up to date once per test binary, so the `make build` that wrangler
        // dev runs per app is a no-op (and parallel apps never compile concurrently).
        run_checked(
            Command::new("make")
                .arg("--no-print-directory")
                .arg("build")
                .current_dir(&repo),
            "make build",
        )?;
        if !repo.join(".dev.vars").exists() {
            run_checked(
                Command::new("bash")
                    .arg(repo.join("scripts/gen-dev-vars.sh"))
                    .current_dir(&repo),
                "scripts/gen-dev-vars.sh",
            )?;
        }
        Ok(())
    })?;

    Ok(TestEnv {
        repo,
        target_dir,
        wrangler,
        template,
    })
}

// ------------------------------------------------------------------------------------------------
// Small utilities

fn new_app_dir(target_dir: &Path) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let base = target_dir.join("test-apps");
    fs::create_dir_all(&base).expect("create target/test-apps");
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("app-{}-{n}", std::process::id()));
        match fs::create_dir(&dir) {
            Ok(()) => return dir,
            // Left over from an earlier run whose pid was reused: clear it and retry.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let _ = fs::remove_dir_all(&dir);
            }
            Err(e) => panic!("creating {dir:?}: {e}"),
        }
    }
}
