//! Per-route latency at concurrency 1, beside the `/health` baseline.
//!
//! One client, one request at a time. `--users` fresh users each take the whole journey
//! (so every write route gets one sample per user); then `/health`, the JWKS and `/v1/me`
//! are sampled `--fast-samples` times each, interleaved so drift hits them equally.
//! Per request it also records the `Server-Timing` entries (storage round trips) and, with
//! `--cpu-pgid`, the CPU the `workerd` process spent (see `cpu.rs`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::args::Args;
use crate::client::{parse_server_timing, Client, Resp};
use crate::cpu::CpuProbe;
use crate::flow::{client_ip, run_flow, Observer, Outcome, Step, User};
use crate::stats::{median, percentile, round3, sorted, summary, trimmed_mean};

pub const HEALTH: &str = "GET /health";
pub const JWKS: &str = "GET /.well-known/jwks.json";
pub const ME: &str = "GET /v1/me";

/// The label a step's samples are filed under (the two kinds of login are kept apart).
pub fn label(step: Step) -> String {
    match step {
        Step::LoginPassword => "POST /v1/login (password only)".into(),
        Step::LoginMfaRequired => "POST /v1/login (2FA user, -> mfa_required)".into(),
        s => s.route().into(),
    }
}

#[derive(Default)]
struct Samples {
    latency_ms: Vec<f64>,
    cpu_ms: Vec<f64>,
    errors: u64,
    status_429: u64,
    /// Per response with a Server-Timing header: (d1 count, kv count, storage ms, app ms).
    timing: Vec<(usize, usize, f64, Option<f64>)>,
    /// The storage calls of the first response with a header, e.g. `d1 users.by_name`.
    calls: Option<Vec<String>>,
}

struct Recorder {
    routes: BTreeMap<String, Samples>,
    order: Vec<String>,
    cpu: Option<CpuProbe>,
    /// The request whose CPU is still being counted, and the counter when it started.
    pending: Option<(String, u64)>,
    error_samples: Vec<String>,
    saw_server_timing: bool,
}

impl Recorder {
    fn new(cpu: Option<CpuProbe>) -> Self {
        Self {
            routes: BTreeMap::new(),
            order: vec![],
            cpu,
            pending: None,
            error_samples: vec![],
            saw_server_timing: false,
        }
    }

    /// CPU between the start of one request and the start of the next is charged to the
    /// first: that includes work the Worker does after answering (`waitUntil`).
    fn start(&mut self, label: &str) {
        if let Some(cpu) = &self.cpu {
            let now = cpu.cpu_ns();
            if let Some((prev, at)) = self.pending.take() {
                let ms = now.saturating_sub(at) as f64 / 1e6;
                self.entry(&prev).cpu_ms.push(ms);
            }
            self.pending = Some((label.to_owned(), now));
        }
    }

    fn finish_cpu(&mut self) {
        std::thread::sleep(Duration::from_millis(50));
        self.start("");
        self.pending = None;
    }

    fn entry(&mut self, label: &str) -> &mut Samples {
        if !self.routes.contains_key(label) {
            self.order.push(label.to_owned());
        }
        self.routes.entry(label.to_owned()).or_default()
    }

    fn record(&mut self, label: &str, resp: Option<&Resp>, error: Option<&str>) {
        let mut saw_header = false;
        let s = self.entry(label);
        if let Some(r) = resp {
            s.latency_ms.push(r.ms());
            if r.status == 429 {
                s.status_429 += 1;
            }
            if let Some(h) = &r.server_timing {
                saw_header = true;
                let metrics = parse_server_timing(h);
                let storage: Vec<_> = metrics
                    .iter()
                    .filter(|m| m.name == "d1" || m.name == "kv")
                    .collect();
                let d1 = storage.iter().filter(|m| m.name == "d1").count();
                let kv = storage.len() - d1;
                let storage_ms = storage.iter().filter_map(|m| m.dur).sum();
                let app = metrics.iter().find(|m| m.name == "app").and_then(|m| m.dur);
                s.timing.push((d1, kv, storage_ms, app));
                if s.calls.is_none() && error.is_none() {
                    s.calls = Some(
                        storage
                            .iter()
                            .map(|m| format!("{} {}", m.name, m.desc.as_deref().unwrap_or("?")))
                            .collect(),
                    );
                }
            }
        }
        if let Some(e) = error {
            s.errors += 1;
            if self.error_samples.len() < 20 {
                self.error_samples.push(format!("{label}: {e}"));
            }
        }
        self.saw_server_timing |= saw_header;
    }
}

impl Observer for Recorder {
    fn before(&mut self, step: Step) {
        self.start(&label(step));
    }
    fn after(&mut self, step: Step, outcome: &Outcome) {
        self.record(
            &label(step),
            outcome.resp.as_ref(),
            outcome.error.as_deref(),
        );
    }
}

/// A GET that must answer 200.
fn sample(rec: &mut Recorder, client: &Client, label: &str, path: &str, bearer: Option<&str>) {
    sample_as(rec, client, ("GET", label, path, 200), None, bearer);
}

/// `(method, label, path, expected status)`, without a body.
fn sample_as(
    rec: &mut Recorder,
    client: &Client,
    (method, label, path, expected): (&str, &str, &str, u16),
    body: Option<&Value>,
    bearer: Option<&str>,
) {
    rec.start(label);
    match client.send(method, path, body, bearer) {
        Ok(r) if r.status == expected => rec.record(label, Some(&r), None),
        Ok(r) => {
            let e = r.describe();
            rec.record(label, Some(&r), Some(&e));
        }
        Err(e) => rec.record(label, None, Some(&e)),
    }
}

pub fn run_id() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{:x}",
        (t.as_millis() as u64 ^ u64::from(std::process::id())) & 0xff_ffff
    )
}

pub fn run(opts: &Args) -> Result<(), String> {
    let base = opts.base_url()?;
    let users: u64 = opts.num("users", 60)?;
    let fast: u64 = opts.num("fast-samples", 400)?;
    let cpu = match opts.get("cpu-pgid") {
        Some(p) => {
            let pgid: i32 = p.parse().map_err(|_| "--cpu-pgid must be a number")?;
            let probe = CpuProbe::for_group(pgid);
            if probe.is_none() {
                eprintln!("routes: no workerd process in group {pgid}; CPU is not measured");
            }
            probe
        }
        None => None,
    };
    let cpu_pids = cpu.as_ref().map(|c| c.pids().to_vec());
    let run = run_id();
    let started = Instant::now();
    let mut client = Client::new(&base, Some(client_ip(0)));

    // Warm-up (not recorded): the isolate, its parsed configuration, connections, D1/KV.
    for _ in 0..30 {
        client
            .send("GET", "/health", None, None)
            .map_err(|e| format!("warm-up: {e}"))?;
    }
    let mut warm = User::new(format!("w{run}"));
    let mut scratch = Recorder::new(None);
    run_flow(&client, &mut warm, &mut scratch).map_err(|e| format!("warm-up flow failed: {e}"))?;

    let mut rec = Recorder::new(cpu);
    let mut token: Option<String> = warm.access.clone();
    eprintln!("routes: {users} users through the whole flow, one request at a time ...");
    for i in 0..users {
        client.set_ip(Some(client_ip(i + 1)));
        let mut user = User::new(format!("r{run}-{i}"));
        if run_flow(&client, &mut user, &mut rec).is_ok() {
            token = user.access.clone();
        }
        if (i + 1) % 20 == 0 {
            eprintln!("routes: {} / {users} users", i + 1);
        }
    }
    let token = token.ok_or("no flow succeeded: no access token for /v1/me")?;
    eprintln!("routes: {fast} samples each of /health, JWKS and /v1/me ...");
    client.set_ip(Some(client_ip(0)));
    for _ in 0..fast {
        sample(&mut rec, &client, HEALTH, "/health", None);
        sample(&mut rec, &client, JWKS, "/.well-known/jwks.json", None);
        sample(&mut rec, &client, ME, "/v1/me", Some(&token));
    }
    // Read-only routes of a signed-in user that only some versions of the Worker have.
    for (label, path) in [
        ("GET /v1/2fa", "/v1/2fa"),
        ("GET /v1/events", "/v1/events"),
        ("GET /v1/sessions", "/v1/sessions"),
    ] {
        match client.send("GET", path, None, Some(&token)) {
            Ok(r) if r.status == 200 => {
                for _ in 0..fast.min(100) {
                    sample(&mut rec, &client, label, path, Some(&token));
                }
            }
            Ok(r) => eprintln!("routes: {path} skipped (answers {})", r.status),
            Err(e) => eprintln!("routes: {path} skipped ({e})"),
        }
    }
    sessions_ended(&mut client, &mut rec, &run, fast.min(30), users + 1);
    password_resets(
        &mut client,
        &mut rec,
        &run,
        fast.min(20),
        users + 200,
        &LocalState::from(opts),
    );
    emails_changed(&mut client, &mut rec, &run, fast.min(20), users + 300);
    rec.finish_cpu();

    let health = rec.routes.get(HEALTH).map(|s| sorted(&s.latency_ms));
    let health_p50 = health.as_deref().map_or(f64::NAN, |s| percentile(s, 50.0));
    let health_p99 = health.as_deref().map_or(f64::NAN, |s| percentile(s, 99.0));
    let health_tmean = health.as_deref().map_or(f64::NAN, |s| trimmed_mean(s, 0.1));
    let health_cpu = rec.routes.get(HEALTH).map_or(f64::NAN, |s| mean(&s.cpu_ms));

    let mut out = vec![];
    let order = order_routes(&rec.order);
    for label in &order {
        let s = &rec.routes[label];
        let lat = sorted(&s.latency_ms);
        let p50 = percentile(&lat, 50.0);
        let p99 = percentile(&lat, 99.0);
        let tmean = trimmed_mean(&s.latency_ms, 0.1);
        let storage_mean = (!s.timing.is_empty()).then(|| {
            let v: Vec<f64> = s.timing.iter().map(|t| t.2).collect();
            trimmed_mean(&v, 0.1)
        });
        let app_mean = {
            let v: Vec<f64> = s.timing.iter().filter_map(|t| t.3).collect();
            (!v.is_empty()).then(|| trimmed_mean(&v, 0.1))
        };
        let timing = if s.timing.is_empty() {
            Value::Null
        } else {
            let d1: Vec<usize> = s.timing.iter().map(|t| t.0).collect();
            let kv: Vec<usize> = s.timing.iter().map(|t| t.1).collect();
            let storage: Vec<f64> = s.timing.iter().map(|t| t.2).collect();
            let app: Vec<f64> = s.timing.iter().filter_map(|t| t.3).collect();
            json!({
                "responses": s.timing.len(),
                "d1_round_trips": mode(&d1),
                "d1_min": d1.iter().min(),
                "d1_max": d1.iter().max(),
                "kv_calls": mode(&kv),
                "kv_min": kv.iter().min(),
                "kv_max": kv.iter().max(),
                "storage_ms_p50": round3(median(&storage)),
                "storage_ms_mean": round3(storage_mean.unwrap_or(f64::NAN)),
                "app_ms_p50": round3(if app.is_empty() { f64::NAN } else { median(&app) }),
                "app_ms_mean": round3(app_mean.unwrap_or(f64::NAN)),
                "calls": s.calls,
            })
        };
        let cpu = mean(&s.cpu_ms);
        out.push(json!({
            "route": label,
            "n": lat.len(),
            "errors": s.errors,
            "status_429": s.status_429,
            "latency_ms": summary(&s.latency_ms),
            "latency_tmean_ms": round3(tmean),
            "above_health_ms": {
                "p50": round3(p50 - health_p50),
                "p99": round3(p99 - health_p99),
                "tmean": round3(tmean - health_tmean),
            },
            // The Worker's own time: above /health minus storage waits (client side), and
            // the Worker's total minus its storage waits (as the Worker itself measures).
            "own_ms_client": round3(tmean - health_tmean - storage_mean.unwrap_or(0.0)),
            "own_ms_worker": match (app_mean, storage_mean) {
                (Some(a), Some(st)) => round3(a - st),
                _ => Value::Null,
            },
            "server_timing": timing,
            "cpu_ms_mean": round3(cpu),
            "cpu_above_health_ms": round3(cpu - health_cpu),
            "cpu_samples": s.cpu_ms.len(),
        }));
    }
    let summary = json!({
        "kind": "routes",
        "base_url": base,
        "users": users,
        "fast_samples": fast,
        "concurrency": 1,
        "elapsed_s": round3(started.elapsed().as_secs_f64()),
        "server_timing_present": rec.saw_server_timing,
        "cpu_probe_pids": cpu_pids,
        "errors": rec.routes.values().map(|s| s.errors).sum::<u64>(),
        "error_samples": rec.error_samples,
        "routes": out,
    });
    crate::emit(opts, &summary)
}

fn order_routes(seen: &[String]) -> Vec<String> {
    let mut first = vec![HEALTH.to_owned(), JWKS.to_owned()];
    first.extend(Step::FLOW.iter().map(|s| label(*s)));
    let mut out: Vec<String> = first.into_iter().filter(|l| seen.contains(l)).collect();
    out.dedup();
    for l in seen {
        if !out.contains(l) {
            out.push(l.clone());
        }
    }
    out
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

fn mode(v: &[usize]) -> Option<usize> {
    let mut counts = BTreeMap::new();
    for x in v {
        *counts.entry(*x).or_insert(0usize) += 1;
    }
    counts.into_iter().max_by_key(|(_, c)| *c).map(|(x, _)| x)
}

/// Ending sessions: each sample ends a session made for it by a password login (the
/// logins, about 35 ms of Argon2id each, are not recorded). Skipped on Workers without
/// the sessions routes.
fn sessions_ended(client: &mut Client, rec: &mut Recorder, run: &str, samples: u64, ip: u64) {
    // Its own client addresses, two logins each: the per-IP login limit stays out of the way.
    client.set_ip(Some(client_ip(ip)));
    let body = credentials(&format!("s{run}"));
    if !register(client, &body) {
        eprintln!("routes: sessions routes skipped (could not register)");
        return;
    }
    let login = |client: &Client| login(client, &body);
    let Some(here) = login(client) else { return };
    for i in 0..samples {
        client.set_ip(Some(client_ip(ip + 1 + i)));
        if login(client).is_none() {
            return;
        }
        let listed = match client.send("GET", "/v1/sessions", None, Some(&here)) {
            Ok(r) if r.status == 200 => r.json(),
            _ => {
                eprintln!("routes: sessions routes skipped (no GET /v1/sessions)");
                return;
            }
        };
        let other = listed["sessions"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["current"] == false))
            .and_then(|s| s["id"].as_str())
            .map(str::to_owned);
        let Some(other) = other else { return };
        let path = format!("/v1/sessions/{other}");
        sample_as(
            rec,
            client,
            ("DELETE", "DELETE /v1/sessions/{id}", &path, 204),
            None,
            Some(&here),
        );
        if login(client).is_none() {
            return;
        }
        let others = (
            "POST",
            "POST /v1/sessions/revoke-others",
            "/v1/sessions/revoke-others",
            204,
        );
        sample_as(rec, client, others, None, Some(&here));
    }
    accounts_deleted(client, rec, run, samples.min(20), ip + 100);
}

/// Deleting accounts: one made for each sample (its registration and login unrecorded).
fn accounts_deleted(client: &mut Client, rec: &mut Recorder, run: &str, samples: u64, ip: u64) {
    for i in 0..samples {
        client.set_ip(Some(client_ip(ip + i)));
        let body = credentials(&format!("d{run}-{i}"));
        if !register(client, &body) {
            eprintln!("routes: account deletion skipped (could not register)");
            return;
        }
        let Some(access) = login(client, &body) else {
            return;
        };
        let bye = serde_json::json!({ "password": crate::flow::PASSWORD });
        let delete = ("DELETE", "DELETE /v1/account", "/v1/account", 204);
        sample_as(rec, client, delete, Some(&bye), Some(&access));
    }
}

/// How to reach the Worker's local D1 and KV from outside (`wrangler d1 execute`, `wrangler kv`
/// with `--local`), when the bench says: `--wrangler`, `--persist-to` and `--config` of the running `wrangler dev`.
struct LocalState {
    wrangler: Option<String>,
    persist_to: Option<String>,
    config: Option<String>,
}

impl LocalState {
    fn from(opts: &Args) -> Self {
        Self {
            wrangler: opts.get("wrangler").map(str::to_owned),
            persist_to: opts.get("persist-to").map(str::to_owned),
            config: opts.get("config").map(str::to_owned),
        }
    }

    fn execute(&self, sql: &str) -> Result<(), String> {
        self.wrangler(&["d1", "execute", "DB", "--command", sql])
    }

    /// `wrangler kv bulk put` of a JSON file into the `CHALLENGES` namespace.
    fn kv_bulk_put(&self, file: &std::path::Path) -> Result<(), String> {
        let file = file.to_string_lossy();
        self.wrangler(&["kv", "bulk", "put", &file, "--binding", "CHALLENGES"])
    }

    /// A local `wrangler` command against the running Worker's state.
    fn wrangler(&self, args: &[&str]) -> Result<(), String> {
        let (Some(wrangler), Some(state), Some(config)) =
            (&self.wrangler, &self.persist_to, &self.config)
        else {
            return Err("no --wrangler/--persist-to/--config".into());
        };
        let out = std::process::Command::new(wrangler)
            .args(args)
            .args(["--local", "--persist-to", state, "--config", config])
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("{wrangler}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

/// `POST /v1/password/forgot` for a known account with an address and for an unknown
/// one (the same work, by design), then `POST /v1/password/reset`. The reset codes the
/// Worker mails land in files this tool does not read, so each reset sample gets a code
/// planted in local D1 beforehand (not recorded); each reset runs Argon2id.
fn password_resets(
    client: &mut Client,
    rec: &mut Recorder,
    run: &str,
    samples: u64,
    ip: u64,
    local: &LocalState,
) {
    use edge_login::domain::opaque::ResetCode;
    // A reset spends every other code of its account, so each sample has its own.
    let mut accounts = Vec::new();
    for i in 0..samples {
        client.set_ip(Some(client_ip(ip + i)));
        let username = format!("p{run}-{i}");
        let email = format!("{username}@example.com");
        let body = serde_json::json!({ "username": username, "password": crate::flow::PASSWORD, "email": email });
        match client.send("POST", "/v1/register", Some(&body), None) {
            Ok(r) if r.status == 201 => {
                let id = r.json()["user_id"].as_str().unwrap_or_default().to_owned();
                accounts.push((username, email, id));
            }
            _ => {
                eprintln!("routes: password reset skipped (could not register)");
                return;
            }
        }
    }
    let ip = ip + samples;
    for (i, (username, _, _)) in accounts.iter().enumerate() {
        client.set_ip(Some(client_ip(ip + 1 + i as u64)));
        let known = serde_json::json!({ "username": username });
        let forgot = (
            "POST",
            "POST /v1/password/forgot",
            "/v1/password/forgot",
            202,
        );
        sample_as(rec, client, forgot, Some(&known), None);
        let unknown = serde_json::json!({ "username": format!("nobody-{run}-{i}") });
        let label = "POST /v1/password/forgot (unknown account)";
        sample_as(
            rec,
            client,
            ("POST", label, "/v1/password/forgot", 202),
            Some(&unknown),
            None,
        );
    }
    let codes: Vec<ResetCode> = (0..samples).map(|_| ResetCode::generate()).collect();
    let now = crate::flow::now();
    let rows: Vec<String> = codes
        .iter()
        .zip(&accounts)
        .map(|(c, (_, email, user_id))| {
            format!(
                "('{}', '{user_id}', 'reset_password', '{email}', {now}, {})",
                c.hash(),
                now + 1800
            )
        })
        .collect();
    let insert = format!(
        "INSERT INTO email_codes (code_hash, user_id, purpose, email, created_at, expires_at) VALUES {}",
        rows.join(", ")
    );
    if let Err(e) = local.execute(&insert) {
        eprintln!("routes: password reset skipped (codes not planted: {e})");
        return;
    }
    // What forgot leaves in KV for a code (the Worker's store::challenges::ResetChallenge),
    // for the first half: the usual path. The second half finds nothing there, as after
    // a mail read before KV had propagated, and reads D1 instead.
    let remembered: Vec<Value> = codes
        .iter()
        .zip(&accounts)
        .take(codes.len() / 2)
        .map(|(c, (username, _, user_id))| {
            let value = serde_json::json!({
                "user_id": user_id, "username": username, "totp_secret": null, "expires_at": now + 1800,
            });
            serde_json::json!({ "key": format!("reset:{}", c.hash()), "value": value.to_string(), "expiration_ttl": 1800 })
        })
        .collect();
    let kv_file = std::env::temp_dir().join(format!("edge-login-bench-kv-{run}.json"));
    let planted = std::fs::write(&kv_file, Value::from(remembered).to_string())
        .map_err(|e| e.to_string())
        .and_then(|()| local.kv_bulk_put(&kv_file));
    let _ = std::fs::remove_file(&kv_file);
    if let Err(e) = planted {
        eprintln!("routes: password reset via KV not planted ({e}); every reset reads D1");
    }
    for (i, code) in codes.iter().enumerate() {
        client.set_ip(Some(client_ip(ip + 1 + samples + i as u64)));
        let reset = serde_json::json!({
            "reset_code": code.expose(),
            "new_password": format!("bench passphrase number {i}"),
        });
        let label = if i < codes.len() / 2 {
            "POST /v1/password/reset"
        } else {
            "POST /v1/password/reset (KV miss: read from D1)"
        };
        sample_as(
            rec,
            client,
            ("POST", label, "/v1/password/reset", 204),
            Some(&reset),
            None,
        );
    }
}

/// `POST /v1/email`: one signed-in user moves to a new address per sample (each runs
/// Argon2id for the password).
fn emails_changed(client: &mut Client, rec: &mut Recorder, run: &str, samples: u64, ip: u64) {
    client.set_ip(Some(client_ip(ip)));
    let body = credentials(&format!("m{run}"));
    if !register(client, &body) {
        eprintln!("routes: email change skipped (could not register)");
        return;
    }
    let Some(access) = login(client, &body) else {
        return;
    };
    for i in 0..samples {
        client.set_ip(Some(client_ip(ip + 1 + i)));
        let change = serde_json::json!({
            "password": crate::flow::PASSWORD,
            "email": format!("m{run}-{i}@example.com"),
        });
        sample_as(
            rec,
            client,
            ("POST", "POST /v1/email", "/v1/email", 204),
            Some(&change),
            Some(&access),
        );
    }
}

fn credentials(username: &str) -> Value {
    serde_json::json!({ "username": username, "password": crate::flow::PASSWORD })
}

fn register(client: &Client, credentials: &Value) -> bool {
    client
        .send("POST", "/v1/register", Some(credentials), None)
        .is_ok_and(|r| r.status == 201)
}

/// A password login's access token (not recorded).
fn login(client: &Client, credentials: &Value) -> Option<String> {
    let r = client
        .send("POST", "/v1/login", Some(credentials), None)
        .ok()?;
    r.json()["access_token"].as_str().map(str::to_owned)
}
