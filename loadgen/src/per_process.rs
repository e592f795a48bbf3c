//! CPU per request of each process serving the Worker, beside a minimal JavaScript Worker.
//!
//! Two `wrangler dev` instances run side by side: edge-login (`--base-url`, process group
//! `--cpu-pgid`) and the JavaScript baseline of `benches/js-baseline/` (`--baseline-url`,
//! `--baseline-pgid`), both started the same way. For each route a load run with
//! `--conns` keep-alive connections sends requests back to back; the CPU time of each
//! process (from /proc, all threads) is read before and after the run and divided by the
//! number of answers. `/health` (both Workers) and `/v1/me` run for a fixed time, in
//! alternating rounds so that drift on this shared machine hits them alike; the refresh
//! route runs for a fixed time too (every request rotates its user's token); the
//! login routes need one prepared user (Argon2id, TOTP step) per request, so they run a
//! fixed number of requests instead. Preparation is outside every measured window.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::args::Args;
use crate::client::Client;
use crate::cpu::{RoleCpu, Roles};
use crate::flow::{client_ip, run_step, Step, User};
use crate::routes::run_id;
use crate::stats::{round3, summary};

/// What one connection sends.
enum Work {
    Get(&'static str, Option<String>),
    /// Rotating refresh tokens (one chain per user): each answer's token is the next one.
    Refresh(Vec<String>),
    /// Requests prepared in advance, one each, taken until none is left.
    Queue(Arc<Mutex<Vec<User>>>, Step),
}

struct Run {
    ok: u64,
    errors: u64,
    seconds: f64,
    latency_ms: Vec<f64>,
    cpu: RoleCpu,
    loadgen_ns: u64,
    error_samples: Vec<String>,
}

/// A distinct `CF-Connecting-IP` per request (per-IP limits apply per request, not per run).
static NEXT_IP: AtomicU64 = AtomicU64::new(40_000);

fn fresh_ip() -> String {
    client_ip(NEXT_IP.fetch_add(1, Ordering::Relaxed))
}

fn drive(base: &str, roles: &Roles, works: Vec<Work>, secs: f64) -> Run {
    let loadgen_start = crate::cpu::own_cpu_ns();
    let start = roles.cpu();
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(secs);
    let handles: Vec<_> = works
        .into_iter()
        .map(|mut work| {
            let base = base.to_owned();
            thread::spawn(move || {
                let mut client = Client::new(&base, None);
                let (mut lat, mut errors, mut samples) = (Vec::new(), 0u64, Vec::new());
                let mut turn = 0usize;
                loop {
                    let timed = !matches!(work, Work::Queue(..));
                    if timed && Instant::now() >= deadline {
                        break;
                    }
                    client.set_ip(Some(fresh_ip()));
                    let result = match &mut work {
                        Work::Get(path, bearer) => client
                            .send("GET", path, None, bearer.as_deref())
                            .map_err(|e| e.to_string())
                            .and_then(|r| {
                                if r.status == 200 {
                                    Ok(r.ms())
                                } else {
                                    Err(r.describe())
                                }
                            }),
                        Work::Refresh(chains) => {
                            turn = (turn + 1) % chains.len();
                            let mut user = User::new(String::new());
                            user.refresh = Some(chains[turn].clone());
                            let o = run_step(&client, &mut user, Step::Refresh);
                            if let Some(r) = user.refresh {
                                chains[turn] = r;
                            }
                            match (o.error, o.resp) {
                                (None, Some(r)) => Ok(r.ms()),
                                (e, _) => Err(e.unwrap_or_default()),
                            }
                        }
                        Work::Queue(queue, step) => {
                            let Some(mut user) = queue.lock().unwrap().pop() else {
                                break;
                            };
                            let o = run_step(&client, &mut user, *step);
                            match (o.error, o.resp) {
                                (None, Some(r)) => Ok(r.ms()),
                                (e, _) => Err(e.unwrap_or_default()),
                            }
                        }
                    };
                    match result {
                        Ok(ms) => lat.push(ms),
                        Err(e) => {
                            errors += 1;
                            if samples.len() < 3 {
                                samples.push(e);
                            }
                        }
                    }
                }
                (lat, errors, samples)
            })
        })
        .collect();
    let mut run = Run {
        ok: 0,
        errors: 0,
        seconds: 0.0,
        latency_ms: vec![],
        cpu: RoleCpu::default(),
        loadgen_ns: 0,
        error_samples: vec![],
    };
    for h in handles {
        if let Ok((lat, errors, samples)) = h.join() {
            run.latency_ms.extend(lat);
            run.errors += errors;
            run.error_samples.extend(samples);
        }
    }
    run.seconds = started.elapsed().as_secs_f64();
    // Work the Worker does after answering (waitUntil) and the log lines still in flight
    // belong to this run.
    thread::sleep(Duration::from_millis(300));
    run.cpu = roles.cpu().since(start);
    run.loadgen_ns = crate::cpu::own_cpu_ns().saturating_sub(loadgen_start);
    run.ok = run.latency_ms.len() as u64;
    run
}

/// Several runs of one (Worker, route), summed.
#[derive(Default)]
struct Tally {
    ok: u64,
    errors: u64,
    seconds: f64,
    latency_ms: Vec<f64>,
    cpu: RoleCpu,
    loadgen_ns: u64,
    rounds_rps: Vec<Value>,
    rounds_worker_us: Vec<Value>,
    error_samples: Vec<String>,
}

impl Tally {
    fn add(&mut self, run: Run) {
        self.rounds_rps.push(round3(run.ok as f64 / run.seconds));
        self.rounds_worker_us
            .push(round3(run.cpu.worker as f64 / 1e3 / run.ok.max(1) as f64));
        self.ok += run.ok;
        self.errors += run.errors;
        self.seconds += run.seconds;
        self.latency_ms.extend(run.latency_ms);
        self.cpu.add(run.cpu);
        self.loadgen_ns += run.loadgen_ns;
        for e in run.error_samples {
            if self.error_samples.len() < 5 {
                self.error_samples.push(e);
            }
        }
    }

    fn json(&self, worker: &str, route: &str, conns: usize, fixed: &str) -> Value {
        let per = |ns: u64| round3(ns as f64 / 1e3 / self.ok.max(1) as f64);
        json!({
            "worker": worker,
            "route": route,
            "connections": conns,
            "run": fixed,
            "requests_ok": self.ok,
            "errors": self.errors,
            "error_samples": self.error_samples,
            "seconds": round3(self.seconds),
            "requests_per_s": round3(self.ok as f64 / self.seconds.max(1e-9)),
            "rounds_requests_per_s": self.rounds_rps,
            "rounds_worker_us_per_request": self.rounds_worker_us,
            "latency_ms": summary(&self.latency_ms),
            "cpu_us_per_request": {
                "worker": per(self.cpu.worker),
                "proxy": per(self.cpu.proxy),
                "wrangler": per(self.cpu.wrangler),
                "loadgen": per(self.loadgen_ns),
            },
        })
    }
}

/// Users through register -> login -> enroll -> confirm (TOTP on, tokens in hand), `conns`
/// at a time. Their access and refresh tokens are the confirm step's.
fn prepare_users(base: &str, run: &str, n: usize, conns: usize) -> Result<Vec<User>, String> {
    let queue: Arc<Mutex<Vec<usize>>> = Arc::new(Mutex::new((0..n).collect()));
    let done: Arc<Mutex<Vec<User>>> = Arc::default();
    let handles: Vec<_> = (0..conns.min(n))
        .map(|_| {
            let (base, run, queue, done) =
                (base.to_owned(), run.to_owned(), queue.clone(), done.clone());
            thread::spawn(move || -> Result<(), String> {
                let mut client = Client::new(&base, None);
                loop {
                    let Some(i) = queue.lock().unwrap().pop() else {
                        return Ok(());
                    };
                    client.set_ip(Some(fresh_ip()));
                    let mut user = User::new(format!("c{run}-{i}"));
                    for step in [
                        Step::Register,
                        Step::LoginPassword,
                        Step::Enroll,
                        Step::Confirm,
                    ] {
                        if let Some(e) = run_step(&client, &mut user, step).error {
                            return Err(format!("preparing users: {}: {e}", step.name()));
                        }
                    }
                    done.lock().unwrap().push(user);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| "a preparing thread panicked")??;
    }
    let users = std::mem::take(&mut *done.lock().unwrap());
    Ok(users)
}

/// The password step for each user (-> `mfa_required`): their `mfa_token` for login/mfa.
fn prepare_mfa_tokens(base: &str, users: &mut Vec<User>, conns: usize) -> Result<(), String> {
    let queue = Arc::new(Mutex::new(std::mem::take(users)));
    let done: Arc<Mutex<Vec<User>>> = Arc::default();
    let handles: Vec<_> = (0..conns)
        .map(|_| {
            let (base, queue, done) = (base.to_owned(), queue.clone(), done.clone());
            thread::spawn(move || -> Result<(), String> {
                let mut client = Client::new(&base, None);
                loop {
                    let Some(mut user) = queue.lock().unwrap().pop() else {
                        return Ok(());
                    };
                    client.set_ip(Some(fresh_ip()));
                    if let Some(e) = run_step(&client, &mut user, Step::LoginMfaRequired).error {
                        return Err(format!("preparing mfa tokens: {e}"));
                    }
                    done.lock().unwrap().push(user);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| "a preparing thread panicked")??;
    }
    *users = std::mem::take(&mut *done.lock().unwrap());
    Ok(())
}

pub fn run(opts: &Args) -> Result<(), String> {
    let base = opts.base_url()?;
    let baseline = opts.loopback_url("baseline-url")?;
    let pgid: i32 = opts
        .get("cpu-pgid")
        .ok_or("--cpu-pgid is required")?
        .parse()
        .map_err(|_| "--cpu-pgid must be a number")?;
    let ours = Roles::for_group(pgid)?;
    let theirs = match (&baseline, opts.get("baseline-pgid")) {
        (Some(_), Some(p)) => Some(Roles::for_group(
            p.parse().map_err(|_| "--baseline-pgid must be a number")?,
        )?),
        (Some(_), None) => return Err("--baseline-url needs --baseline-pgid".into()),
        _ => None,
    };
    let secs: f64 = opts.num("secs", 6.0)?;
    let rounds: usize = opts.num("rounds", 3)?;
    let conns: usize = opts.num("conns", 16)?;
    let logins: usize = opts.num("logins", 48)?;
    if conns == 0 || rounds == 0 || logins == 0 {
        return Err("--conns, --rounds and --logins must be at least 1".into());
    }
    // Only the /health rounds (a quick comparison, or load for a profile).
    let only_health = opts.num("only-health", 0u8)? == 1;
    let run = run_id();

    // Warm-up: both isolates, the configuration, connections, D1/KV (not measured).
    let warm = |url: &str, roles: &Roles| {
        drive(
            url,
            roles,
            (0..conns).map(|_| Work::Get("/health", None)).collect(),
            1.0,
        );
    };
    warm(&base, &ours);
    if let (Some(url), Some(roles)) = (&baseline, &theirs) {
        warm(url, roles);
    }
    let mut users = if only_health {
        vec![]
    } else {
        eprintln!("cpu: preparing {logins} users with TOTP (not measured) ...");
        prepare_users(&base, &run, logins, conns)?
    };
    let tokens: Vec<String> = users.iter().filter_map(|u| u.access.clone()).collect();
    // Each connection rotates the refresh tokens of its own users.
    let chains: Vec<Vec<String>> = (0..conns)
        .map(|c| {
            users
                .iter()
                .skip(c)
                .step_by(conns)
                .filter_map(|u| u.refresh.clone())
                .collect::<Vec<_>>()
        })
        .filter(|c: &Vec<String>| !c.is_empty())
        .collect();
    let me = |i: usize| Work::Get("/v1/me", Some(tokens[i % tokens.len()].clone()));
    if !only_health {
        drive(&base, &ours, (0..conns).map(me).collect(), 1.0);
    }

    let mut results = Vec::new();
    let (mut base_health, mut our_health, mut our_me) =
        (Tally::default(), Tally::default(), Tally::default());
    for round in 0..rounds {
        eprintln!(
            "cpu: round {}/{rounds}: /health (baseline, ours), /v1/me, {secs} s each",
            round + 1
        );
        if let (Some(url), Some(roles)) = (&baseline, &theirs) {
            base_health.add(drive(
                url,
                roles,
                (0..conns).map(|_| Work::Get("/health", None)).collect(),
                secs,
            ));
        }
        our_health.add(drive(
            &base,
            &ours,
            (0..conns).map(|_| Work::Get("/health", None)).collect(),
            secs,
        ));
        if !only_health {
            our_me.add(drive(&base, &ours, (0..conns).map(me).collect(), secs));
        }
    }
    let timed = format!("{rounds} rounds of {secs} s");
    if baseline.is_some() {
        results.push(base_health.json("js-baseline", "GET /health", conns, &timed));
    }
    results.push(our_health.json("edge-login", "GET /health", conns, &timed));
    if only_health {
        return finish(
            opts,
            &base,
            baseline,
            conns,
            &ours,
            theirs.as_ref(),
            results,
        );
    }
    results.push(our_me.json("edge-login", "GET /v1/me", conns, &timed));

    eprintln!("cpu: /v1/token/refresh for {secs} s");
    let mut refresh = Tally::default();
    let n_chains = chains.len();
    refresh.add(drive(
        &base,
        &ours,
        chains.into_iter().map(Work::Refresh).collect(),
        secs,
    ));
    results.push(refresh.json(
        "edge-login",
        "POST /v1/token/refresh",
        n_chains,
        &format!("{secs} s"),
    ));

    eprintln!("cpu: {logins} password steps of 2FA users (not measured), then /v1/login/mfa ...");
    prepare_mfa_tokens(&base, &mut users, conns)?;
    let n = users.len();
    let queue = Arc::new(Mutex::new(users));
    let mut mfa = Tally::default();
    mfa.add(drive(
        &base,
        &ours,
        (0..conns)
            .map(|_| Work::Queue(queue.clone(), Step::LoginMfa))
            .collect(),
        0.0,
    ));
    results.push(mfa.json(
        "edge-login",
        "POST /v1/login/mfa",
        conns,
        &format!("{n} requests"),
    ));

    // Password logins: the same users (2FA on: answered mfa_required after Argon2id).
    let again: Vec<User> = (0..n).map(|i| User::new(format!("c{run}-{i}"))).collect();
    let queue = Arc::new(Mutex::new(again));
    eprintln!("cpu: {n} password logins (Argon2id each) ...");
    let mut login = Tally::default();
    login.add(drive(
        &base,
        &ours,
        (0..conns)
            .map(|_| Work::Queue(queue.clone(), Step::LoginMfaRequired))
            .collect(),
        0.0,
    ));
    results.push(login.json(
        "edge-login",
        "POST /v1/login",
        conns,
        &format!("{n} requests"),
    ));
    finish(
        opts,
        &base,
        baseline,
        conns,
        &ours,
        theirs.as_ref(),
        results,
    )
}

fn finish(
    opts: &Args,
    base: &str,
    baseline: Option<String>,
    conns: usize,
    ours: &Roles,
    theirs: Option<&Roles>,
    results: Vec<Value>,
) -> Result<(), String> {
    for r in &results {
        eprintln!(
            "cpu: {:<11} {:<24} {:>8} req/s  µs/request: worker {:>8} proxy {:>8} wrangler {:>8}  errors {}",
            r["worker"].as_str().unwrap_or(""),
            r["route"].as_str().unwrap_or(""),
            r["requests_per_s"],
            r["cpu_us_per_request"]["worker"],
            r["cpu_us_per_request"]["proxy"],
            r["cpu_us_per_request"]["wrangler"],
            r["errors"]
        );
    }
    let errors: u64 = results.iter().filter_map(|r| r["errors"].as_u64()).sum();
    let summary = json!({
        "kind": "cpu",
        "base_url": base,
        "baseline_url": baseline,
        "connections": conns,
        "processes": {
            "edge-login": {"worker": ours.worker, "proxy": ours.proxy, "wrangler": ours.wrangler},
            "js-baseline": theirs.map(|t| json!({"worker": t.worker, "proxy": t.proxy, "wrangler": t.wrangler})),
        },
        "routes": results,
        "errors_total": errors,
    });
    crate::emit(opts, &summary)
}
