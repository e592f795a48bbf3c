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
#![allow(dead_code)]

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::os::unix::io::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Timeout of a whole request made by the test helpers (a hung Worker fails the test).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for `wrangler dev` to answer `GET /health` with 200.
const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// After SIGTERM, how long the process group gets before SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(3);
/// How much of the wrangler log a startup failure shows.
const LOG_TAIL_BYTES: u64 = 8 * 1024;

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
    /// The `--var` overrides this Worker runs with.
    vars: Vec<(String, String)>,
    port_retries: usize,
    /// Sent as `CF-Connecting-IP` unless a request sets its own.
    client_ip: std::sync::Mutex<String>,
    child: Child,
}

/// Start a fresh Worker and wait until it serves `GET /health`.
pub fn spawn_app() -> TestApp {
    spawn_app_with(&[])
}

/// Like [`spawn_app`], with `[vars]`/secrets overridden (`wrangler dev --var NAME:VALUE`).
pub fn spawn_app_with(vars: &[(&str, &str)]) -> TestApp {
    let env = test_env();
    let dir = new_app_dir(&env.target_dir);
    let state_dir = dir.join("state");
    {
        // Shared lock: the template isn't swapped out while we copy it.
        let _lock = FileLock::shared(&env.template_lock);
        copy_dir(&env.template_dir, &state_dir)
            .unwrap_or_else(|e| panic!("copying the D1 template into {state_dir:?} failed: {e}"));
    }
    let _ = fs::remove_file(state_dir.join(FINGERPRINT_FILE));
    let log_path = dir.join("wrangler.log");
    let (port, child) = start_worker(env, &dir, &state_dir, &log_path, vars);

    let agent = ureq::AgentBuilder::new()
        .timeout(REQUEST_TIMEOUT)
        .redirects(0)
        .build();
    let mut app = TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        agent,
        dir,
        state_dir,
        log_path,
        vars: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        port_retries: 0,
        client_ip: std::sync::Mutex::new(random_client_ip()),
        child,
    };
    // If this panics, `app` is dropped and the process group is killed.
    app.wait_until_healthy();
    app
}

/// Starts `wrangler dev` on fresh ports over `state_dir`; returns the port and child.
fn start_worker(
    env: &TestEnv,
    dir: &Path,
    state_dir: &Path,
    log_path: &Path,
    vars: &[(impl AsRef<str>, impl AsRef<str>)],
) -> (u16, Child) {
    let (port, inspector_port) = free_ports();
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .expect("open wrangler log file");
    let log_err = log.try_clone().expect("clone log file handle");

    let log_level = std::env::var("TEST_WRANGLER_LOG_LEVEL").unwrap_or_else(|_| "log".to_string());
    let mut cmd = Command::new(&env.wrangler);
    cmd.current_dir(&env.repo)
        .arg("dev")
        .args(["--ip", "127.0.0.1"])
        .args(["--port", &port.to_string()])
        .args(["--inspector-ip", "127.0.0.1"])
        .args(["--inspector-port", &inspector_port.to_string()])
        .arg("--persist-to")
        .arg(state_dir)
        .args(["--log-level", &log_level])
        .arg("--show-interactive-dev-session=false");
    for (name, value) in vars {
        cmd.arg("--var")
            .arg(format!("{}:{}", name.as_ref(), value.as_ref()));
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err))
        // Own process group: Drop signals wrangler, workerd and esbuild together.
        .process_group(0);
    quiet_wrangler_env(&mut cmd, dir);

    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {:?} failed: {e}", env.wrangler));
    (port, child)
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
        stop_group(&mut self.child);
        let (port, child) =
            start_worker(test_env(), &self.dir, &self.state_dir, &self.log_path, vars);
        self.child = child;
        self.port = port;
        self.address = format!("http://127.0.0.1:{port}");
        self.wait_until_healthy();
    }

    /// The whole wrangler/workerd log so far (build output, request lines, Worker console).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    fn wait_until_healthy(&mut self) {
        let timeout = std::env::var("TEST_STARTUP_TIMEOUT_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_STARTUP_TIMEOUT);
        let probe = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(2))
            .build();
        let url = self.url("/health");
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait on wrangler") {
                // Free ports are found by binding and releasing them; another process can
                // take one in between. Start again on new ports when that happened.
                let log = fs::read_to_string(&self.log_path).unwrap_or_default();
                if log.matches("Address already in use").count() > self.port_retries
                    && self.port_retries < 3
                {
                    self.port_retries += 1;
                    let (port, child) = start_worker(
                        test_env(),
                        &self.dir,
                        &self.state_dir,
                        &self.log_path,
                        &self.vars,
                    );
                    self.child = child;
                    self.port = port;
                    self.address = format!("http://127.0.0.1:{port}");
                    return self.wait_until_healthy();
                }
                panic!(
                    "wrangler dev exited early ({status}) before serving /health\n\
                     --- wrangler log tail ({}) ---\n{}",
                    self.log_path.display(),
                    log_tail(&self.log_path)
                );
            }
            let last = match probe.get(&url).call() {
                Ok(r) if r.status() == 200 => return,
                Ok(r) => format!("status {}", r.status()),
                Err(e) => e.to_string(),
            };
            if started.elapsed() > timeout {
                panic!(
                    "wrangler dev did not serve GET /health with 200 within {timeout:?} \
                     (last: {last})\n--- wrangler log tail ({}) ---\n{}",
                    self.log_path.display(),
                    log_tail(&self.log_path)
                );
            }
            sleep(Duration::from_millis(100));
        }
    }
}

/// SIGTERM to the child's process group, SIGKILL after a grace period; waits for it.
fn stop_group(child: &mut Child) {
    let pgid = child.id() as libc::pid_t;
    signal_group(pgid, libc::SIGTERM);
    let deadline = Instant::now() + KILL_GRACE;
    let mut reaped = false;
    while Instant::now() < deadline {
        if !reaped {
            reaped = matches!(child.try_wait(), Ok(Some(_)));
        }
        // The group is gone once wrangler is reaped and no member (workerd) remains.
        if reaped && !group_alive(pgid) {
            break;
        }
        sleep(Duration::from_millis(25));
    }
    if !reaped || group_alive(pgid) {
        signal_group(pgid, libc::SIGKILL);
        let _ = child.wait();
        let deadline = Instant::now() + Duration::from_secs(2);
        while group_alive(pgid) && Instant::now() < deadline {
            sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        stop_group(&mut self.child);

        // Kept for inspection when asked to, or when the test failed (its log is in there).
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
                self.dir.display()
            );
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn signal_group(pgid: libc::pid_t, signal: libc::c_int) {
    // SAFETY: plain syscall; a negative pid addresses the process group we created.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

/// Does any process of the group still run? Zombies don't count: orphaned workerd/esbuild
/// zombies are reaped by init, which can take a second or two.
fn group_alive(pgid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks for existence.
    if unsafe { libc::kill(-pgid, 0) } != 0 {
        return false;
    }
    let Ok(procs) = fs::read_dir("/proc") else {
        return true; // no procfs: trust kill(2)
    };
    procs.flatten().any(|entry| {
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // "pid (comm) state ppid pgrp ...": comm may contain spaces, so split after the last ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|f| f.parse::<libc::pid_t>().ok());
        pgrp == Some(pgid) && state != Some("Z") && state != Some("X")
    })
}

// ------------------------------------------------------------------------------------------------
// Once-per-run preparation

const FINGERPRINT_FILE: &str = ".template-fingerprint";

struct TestEnv {
    repo: PathBuf,
    target_dir: PathBuf,
    wrangler: PathBuf,
    template_dir: PathBuf,
    template_lock: PathBuf,
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
    let template_dir = target_dir.join("test-state-template");
    let template_lock = target_dir.join("test-state-template.lock");

    if !wrangler.exists() {
        return Err(format!(
            "{} is missing: run `make tools` (or `make test`) first",
            wrangler.display()
        ));
    }
    if !repo.join("build/index.js").exists() {
        return Err("build/index.js is missing: run `make build` (or `make test`) first".into());
    }

    let _lock = FileLock::exclusive(&template_lock);

    // Bring the Worker up to date once per test binary, so the `make build` that wrangler dev
    // runs per app is a no-op (and parallel apps never compile concurrently).
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

    let fingerprint = template_fingerprint(&repo)?;
    let current = fs::read(template_dir.join(FINGERPRINT_FILE)).ok();
    if current.as_deref() != Some(fingerprint.as_slice()) {
        build_template(&repo, &wrangler, &template_dir, &fingerprint)?;
    }

    Ok(TestEnv {
        repo,
        target_dir,
        wrangler,
        template_dir,
        template_lock,
    })
}

/// What the template depends on: the schema, the D1 binding config and the wrangler version.
fn template_fingerprint(repo: &Path) -> Result<Vec<u8>, String> {
    let mut fp = Vec::new();
    for file in [
        "schema.sql",
        "wrangler.toml",
        "node_modules/wrangler/package.json",
    ] {
        let bytes = fs::read(repo.join(file)).map_err(|e| format!("reading {file}: {e}"))?;
        fp.extend_from_slice(file.as_bytes());
        fp.push(0);
        fp.extend_from_slice(&bytes);
        fp.push(0);
    }
    Ok(fp)
}

/// Apply schema.sql to an empty persistence dir, then atomically swap it in as the template.
/// Caller holds the exclusive template lock.
fn build_template(
    repo: &Path,
    wrangler: &Path,
    template_dir: &Path,
    fingerprint: &[u8],
) -> Result<(), String> {
    let pid = std::process::id();
    let staging = template_dir.with_extension(format!("tmp-{pid}"));
    let old = template_dir.with_extension(format!("old-{pid}"));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(|e| format!("creating {staging:?}: {e}"))?;

    let mut cmd = Command::new(wrangler);
    cmd.current_dir(repo)
        .args(["d1", "execute", "DB", "--local", "--file"])
        .arg(repo.join("schema.sql"))
        .arg("--persist-to")
        .arg(&staging);
    quiet_wrangler_env(
        &mut cmd,
        &template_dir.with_extension(format!("logs-{pid}")),
    );
    run_checked(&mut cmd, "wrangler d1 execute DB --local --file schema.sql")?;

    fs::write(staging.join(FINGERPRINT_FILE), fingerprint)
        .map_err(|e| format!("writing template fingerprint: {e}"))?;
    if template_dir.exists() {
        fs::rename(template_dir, &old).map_err(|e| format!("moving old template away: {e}"))?;
    }
    fs::rename(&staging, template_dir).map_err(|e| format!("installing template: {e}"))?;
    let _ = fs::remove_dir_all(&old);
    let _ = fs::remove_dir_all(template_dir.with_extension(format!("logs-{pid}")));
    Ok(())
}

/// Keep wrangler offline, non-interactive and terse, and out of make's jobserver.
fn quiet_wrangler_env(cmd: &mut Command, scratch: &Path) {
    cmd.env("WRANGLER_SEND_METRICS", "false")
        .env("WRANGLER_SEND_ERROR_REPORTS", "false")
        // The banner is where wrangler checks the registry for a newer version.
        .env("WRANGLER_HIDE_BANNER", "true")
        .env("WRANGLER_LOG_PATH", scratch.join("wrangler-logs"))
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .env("FORCE_COLOR", "0")
        // wrangler's [build] command runs `make build`: it must be a fresh top-level make.
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .env_remove("MAKEOVERRIDES")
        .env_remove("CARGO_MAKEFLAGS");
}

fn run_checked(cmd: &mut Command, what: &str) -> Result<(), String> {
    cmd.stdin(Stdio::null())
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .env_remove("MAKEOVERRIDES")
        .env_remove("CARGO_MAKEFLAGS");
    let out = cmd
        .output()
        .map_err(|e| format!("could not run {what}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let tail: String = {
        let start = text.len().saturating_sub(LOG_TAIL_BYTES as usize);
        let start = (start..text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        text[start..].to_string()
    };
    Err(format!("{what} failed ({}):\n{tail}", out.status))
}

// ------------------------------------------------------------------------------------------------
// Small utilities

/// Two distinct free loopback ports (HTTP and inspector). Both listeners are held until both
/// ports are known, so they differ; wrangler binds them right after.
fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let b = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let ports = (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    );
    drop((a, b));
    ports
}

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

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

fn log_tail(path: &Path) -> String {
    let Ok(mut file) = File::open(path) else {
        return "(no log)".into();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL_BYTES)));
    let mut buf = Vec::new();
    let _ = file.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// An flock(2) on a lock file, released on drop (and by the kernel if the process dies).
struct FileLock(File);

impl FileLock {
    fn exclusive(path: &Path) -> Self {
        Self::lock(path, libc::LOCK_EX)
    }

    fn shared(path: &Path) -> Self {
        Self::lock(path, libc::LOCK_SH)
    }

    fn lock(path: &Path, op: libc::c_int) -> Self {
        if let Some(parent) = path.parent() {
            let _ = fs::create_dir_all(parent);
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .unwrap_or_else(|e| panic!("opening lock file {path:?}: {e}"));
        loop {
            // SAFETY: flock on a file descriptor we own.
            let rc = unsafe { libc::flock(file.as_raw_fd(), op) };
            if rc == 0 {
                return FileLock(file);
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                panic!("flock {path:?}: {err}");
            }
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // SAFETY: unlocking our own descriptor (closing it would release it too).
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}
