//! N concurrent virtual users through the whole journey, then flat-out `/health` vs
//! `/v1/me`, then a check that every user can still log in.
//!
//! Bounded three ways: `--max-flows` journeys in all, `--duration` seconds of journeys, and
//! `--verify-timeout` seconds for the final check. Each virtual user is one thread with one
//! keep-alive connection; each *user* (a fresh username per journey) sends its own
//! `CF-Connecting-IP` header value so that per-IP limits see distinct clients.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};

use crate::args::Args;
use crate::client::Client;
use crate::cpu::CpuProbe;
use crate::flow::{
    client_ip, login_again, run_flow, run_step, seconds_until_unspent_step, Observer, Outcome,
    Step, User,
};
use crate::routes::run_id;
use crate::stats::{round3, summary};

/// Per-thread tallies, merged after the threads end.
#[derive(Default)]
struct Tally {
    latency_ms: BTreeMap<Step, Vec<f64>>,
    errors: BTreeMap<Step, u64>,
    status_429: u64,
    transport_errors: u64,
    requests: u64,
    error_samples: Vec<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for (k, v) in other.latency_ms {
            self.latency_ms.entry(k).or_default().extend(v);
        }
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
        self.status_429 += other.status_429;
        self.transport_errors += other.transport_errors;
        self.requests += other.requests;
        for e in other.error_samples {
            if self.error_samples.len() < 20 {
                self.error_samples.push(e);
            }
        }
    }
    fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

impl Observer for Tally {
    fn after(&mut self, step: Step, outcome: &Outcome) {
        self.requests += 1;
        match &outcome.resp {
            Some(r) => {
                self.latency_ms.entry(step).or_default().push(r.ms());
                if r.status == 429 {
                    self.status_429 += 1;
                }
            }
            None => self.transport_errors += 1,
        }
        if let Some(e) = &outcome.error {
            *self.errors.entry(step).or_default() += 1;
            if self.error_samples.len() < 20 {
                self.error_samples.push(format!("{}: {e}", step.name()));
            }
        }
    }
}

/// A user created by the run, and what the final check should expect of them.
struct Created {
    user: User,
    ip: String,
    /// `Some(true)`: TOTP confirmed; `Some(false)`: certainly password-only; `None`: unknown
    /// (the confirm request itself failed).
    totp: Option<bool>,
}

struct Progress {
    bar: ProgressBar,
    ticker: Option<(Arc<AtomicBool>, thread::JoinHandle<()>)>,
}

impl Progress {
    /// An indicatif bar on a terminal; otherwise a status line every 5 s (logs, CI).
    fn new(prefix: &'static str, len: u64, msg: impl Fn() -> String + Send + 'static) -> Self {
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>10} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(prefix);
        let stop = Arc::new(AtomicBool::new(false));
        let (b, s) = (bar.clone(), stop.clone());
        let tty = std::io::stderr().is_terminal();
        let handle = thread::spawn(move || {
            let mut last_line = Instant::now();
            while !s.load(Ordering::Relaxed) {
                b.set_message(msg());
                if !tty && last_line.elapsed() >= Duration::from_secs(5) {
                    eprintln!(
                        "{prefix:>10} {:>5.0}s {}/{} {}",
                        b.elapsed().as_secs_f64(),
                        b.position(),
                        b.length().unwrap_or(0),
                        msg()
                    );
                    last_line = Instant::now();
                }
                thread::sleep(Duration::from_millis(200));
            }
        });
        Self {
            bar,
            ticker: Some((stop, handle)),
        }
    }

    fn finish(mut self, line: String) {
        if let Some((stop, handle)) = self.ticker.take() {
            stop.store(true, Ordering::Relaxed);
            let _ = handle.join();
        }
        self.bar.finish_and_clear();
        if !line.is_empty() {
            eprintln!("{line}");
        }
    }
}

/// CPU seconds this process has used (all threads), from /proc/self/stat.
fn own_cpu_s() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return f64::NAN;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the comm.
    let ticks: f64 = f
        .get(11..13)
        .map(|v| v.iter().filter_map(|x| x.parse::<f64>().ok()).sum())
        .unwrap_or(f64::NAN);
    ticks / 100.0
}

/// CPU use during a phase, as % of one core: this load generator and the Worker's workerd.
struct CpuWindow {
    wall: Instant,
    own: f64,
    workerd: Option<u64>,
}

impl CpuWindow {
    fn start(probe: Option<&CpuProbe>) -> Self {
        Self {
            wall: Instant::now(),
            own: own_cpu_s(),
            workerd: probe.map(CpuProbe::cpu_ns),
        }
    }
    fn end(&self, probe: Option<&CpuProbe>) -> Value {
        let wall = self.wall.elapsed().as_secs_f64();
        let own = (own_cpu_s() - self.own) / wall * 100.0;
        let workerd = match (probe, self.workerd) {
            (Some(p), Some(start)) => {
                round3(p.cpu_ns().saturating_sub(start) as f64 / 1e9 / wall * 100.0)
            }
            _ => Value::Null,
        };
        json!({ "loadgen_cpu_pct": round3(own), "workerd_cpu_pct": workerd })
    }
}

pub fn run(opts: &Args) -> Result<(), String> {
    let base = opts.base_url()?;
    let vus: u64 = opts.num("vus", 64)?;
    let duration = Duration::from_secs_f64(opts.num("duration", 40.0)?);
    let max_flows: u64 = opts.num("max-flows", 2000)?;
    let sat_secs: f64 = opts.num("saturation-secs", 8.0)?;
    let verify_timeout = Duration::from_secs_f64(opts.num("verify-timeout", 120.0)?);
    if vus == 0 || max_flows == 0 {
        return Err("--vus and --max-flows must be at least 1".into());
    }
    let probe = match opts.get("cpu-pgid") {
        Some(p) => CpuProbe::for_group(p.parse().map_err(|_| "--cpu-pgid must be a number")?),
        None => None,
    };
    let run = run_id();

    // ---------------------------------------------------------------- 1. journeys
    eprintln!(
        "load: {vus} virtual users, journeys for at most {:.0}s / {max_flows} journeys",
        duration.as_secs_f64()
    );
    let next_flow = Arc::new(AtomicU64::new(0));
    let flows_ok = Arc::new(AtomicU64::new(0));
    let flows_failed = Arc::new(AtomicU64::new(0));
    let created: Arc<Mutex<Vec<Created>>> = Arc::default();
    let progress = {
        let (ok, failed) = (flows_ok.clone(), flows_failed.clone());
        Progress::new("journeys", max_flows, move || {
            format!(
                "ok {} failed {}",
                ok.load(Ordering::Relaxed),
                failed.load(Ordering::Relaxed)
            )
        })
    };
    let window = CpuWindow::start(probe.as_ref());
    let started = Instant::now();
    let deadline = started + duration;
    let handles: Vec<_> = (0..vus)
        .map(|vu| {
            let (base, run) = (base.clone(), run.clone());
            let (next, ok, failed, created) = (
                next_flow.clone(),
                flows_ok.clone(),
                flows_failed.clone(),
                created.clone(),
            );
            let bar = progress.bar.clone();
            thread::spawn(move || {
                let mut tally = Tally::default();
                let mut client = Client::new(&base, None);
                while Instant::now() < deadline {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= max_flows {
                        break;
                    }
                    let ip = client_ip(n);
                    client.set_ip(Some(ip.clone()));
                    let mut user = User::new(format!("l{run}-{vu}-{n}"));
                    let mut obs = Watch {
                        tally: &mut tally,
                        last: None,
                    };
                    let result = run_flow(&client, &mut user, &mut obs);
                    let (registered, totp) = obs.registered_and_totp();
                    if result.is_ok() {
                        ok.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    if registered {
                        created.lock().unwrap().push(Created { user, ip, totp });
                    }
                    bar.inc(1);
                }
                tally
            })
        })
        .collect();
    let mut tally = Tally::default();
    for h in handles {
        tally.merge(h.join().map_err(|_| "a virtual user panicked")?);
    }
    let flow_secs = started.elapsed().as_secs_f64();
    let flow_cpu = window.end(probe.as_ref());
    let (ok, failed) = (
        flows_ok.load(Ordering::Relaxed),
        flows_failed.load(Ordering::Relaxed),
    );
    progress.finish(format!(
        "load: {ok} journeys ok, {failed} failed in {flow_secs:.1}s ({:.2} journeys/s, {:.1} req/s)",
        ok as f64 / flow_secs,
        tally.requests as f64 / flow_secs
    ));
    let mut created = std::mem::take(&mut *created.lock().unwrap());

    // ---------------------------------------------------------------- 2. saturation
    let tokens: Vec<String> = created
        .iter()
        .filter_map(|c| c.user.access.clone())
        .collect();
    let mut saturation = serde_json::Map::new();
    if sat_secs > 0.0 {
        // Alternating rounds, so that drift (JIT, GC, the machine) hits both routes alike.
        let rounds = SATURATION_ROUNDS;
        let targets = [("GET /health", "/health"), ("GET /v1/me", "/v1/me")];
        let mut bursts: Vec<Vec<Burst>> = vec![vec![], vec![]];
        for round in 0..rounds {
            for (i, (label, path)) in targets.iter().enumerate() {
                if *path == "/v1/me" && tokens.is_empty() {
                    continue;
                }
                let name = format!("{} {}/{rounds}", &label[4..], round + 1);
                bursts[i].push(saturate(
                    &base,
                    vus,
                    sat_secs / f64::from(rounds),
                    path,
                    &tokens,
                    probe.as_ref(),
                    name,
                ));
            }
        }
        for (i, (label, _)) in targets.iter().enumerate() {
            if bursts[i].is_empty() {
                saturation.insert((*label).into(), json!({ "skipped": "no access token" }));
                continue;
            }
            let result = combine(&bursts[i], vus, rounds);
            eprintln!(
                "load: {label} flat out with {vus} connections: {} req/s, p50 {} ms, p99 {} ms, {} errors",
                result["requests_per_s"], result["latency_ms"]["p50"], result["latency_ms"]["p99"],
                result["errors"]
            );
            saturation.insert((*label).into(), result);
        }
    }

    // ---------------------------------------------------------------- 3. nobody lost
    let total = created.len() as u64;
    let wait = created
        .iter()
        .map(|c| seconds_until_unspent_step(&c.user))
        .max()
        .unwrap_or(0);
    eprintln!(
        "load: checking that all {total} users can still log in (password + fresh TOTP code; \
         first waiting up to {wait}s for an unspent TOTP step) ..."
    );
    let verify_deadline = Instant::now() + verify_timeout;
    let queue = Arc::new(Mutex::new(std::mem::take(&mut created)));
    let verified = Arc::new(AtomicU64::new(0));
    let lost_count = Arc::new(AtomicU64::new(0));
    let progress = {
        let (v, l) = (verified.clone(), lost_count.clone());
        Progress::new("re-login", total, move || {
            format!(
                "ok {} lost {}",
                v.load(Ordering::Relaxed),
                l.load(Ordering::Relaxed)
            )
        })
    };
    let verify_started = Instant::now();
    let handles: Vec<_> = (0..vus.min(total.max(1)))
        .map(|_| {
            let (base, queue, verified, lost_count) = (
                base.clone(),
                queue.clone(),
                verified.clone(),
                lost_count.clone(),
            );
            let bar = progress.bar.clone();
            thread::spawn(move || {
                let mut client = Client::new(&base, None);
                let mut tally = Tally::default();
                let mut lost = vec![];
                let mut unchecked = 0u64;
                loop {
                    let Some(mut c) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    if Instant::now() >= verify_deadline {
                        unchecked += 1;
                        continue;
                    }
                    client.set_ip(Some(c.ip.clone()));
                    match check_login(&client, &mut c, &mut tally) {
                        Ok(()) => {
                            verified.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            lost_count.fetch_add(1, Ordering::Relaxed);
                            lost.push(format!("{}: {e}", c.user.username));
                        }
                    }
                    bar.inc(1);
                }
                (tally, lost, unchecked)
            })
        })
        .collect();
    let mut verify_tally = Tally::default();
    let mut lost = vec![];
    let mut unchecked = 0;
    for h in handles {
        let (t, l, u) = h.join().map_err(|_| "a checker panicked")?;
        verify_tally.merge(t);
        lost.extend(l);
        unchecked += u;
    }
    let verify_secs = verify_started.elapsed().as_secs_f64();
    progress.finish(format!(
        "load: {} of {total} users logged in again, {} lost, {unchecked} not checked (timeout) in {verify_secs:.1}s",
        verified.load(Ordering::Relaxed),
        lost.len()
    ));

    // ---------------------------------------------------------------- summary
    let steps: Vec<Value> = Step::FLOW
        .iter()
        .map(|s| {
            let lat = tally.latency_ms.get(s).cloned().unwrap_or_default();
            json!({
                "step": s.name(),
                "route": s.route(),
                "n": lat.len(),
                "per_s": round3(lat.len() as f64 / flow_secs),
                "errors": tally.errors.get(s).copied().unwrap_or(0),
                "latency_ms": summary(&lat),
            })
        })
        .collect();
    let errors = tally.error_count();
    let summary = json!({
        "kind": "load",
        "base_url": base,
        "vus": vus,
        "duration_limit_s": duration.as_secs_f64(),
        "max_flows": max_flows,
        "journeys": {
            "started": ok + failed,
            "ok": ok,
            "failed": failed,
            "elapsed_s": round3(flow_secs),
            "journeys_per_s": round3(ok as f64 / flow_secs),
            "requests": tally.requests,
            "requests_per_s": round3(tally.requests as f64 / flow_secs),
            "errors": errors,
            "status_429": tally.status_429,
            "transport_errors": tally.transport_errors,
            "error_samples": tally.error_samples,
            "cpu": flow_cpu,
        },
        "steps": steps,
        "saturation": saturation,
        "verify": {
            "users": total,
            "ok": verified.load(Ordering::Relaxed),
            "lost": lost.len(),
            "not_checked": unchecked,
            "elapsed_s": round3(verify_secs),
            "lost_samples": lost.iter().take(20).collect::<Vec<_>>(),
            "errors": verify_tally.error_count(),
            "status_429": verify_tally.status_429,
        },
        "errors_total": errors + verify_tally.error_count(),
    });
    crate::emit(opts, &summary)
}

/// Records like `Tally`, and remembers how far a journey got (for the final check).
struct Watch<'a> {
    tally: &'a mut Tally,
    last: Option<(Step, bool, bool)>,
}

impl Watch<'_> {
    /// (registered, TOTP state) from the last step reached.
    fn registered_and_totp(&self) -> (bool, Option<bool>) {
        match self.last {
            None => (false, Some(false)),
            // A registration lost in transport may have landed, but nobody knows the user.
            Some((Step::Register, ok, _)) => (ok, Some(false)),
            Some((step, _, _)) if step < Step::Confirm => (true, Some(false)),
            Some((Step::Confirm, true, _)) => (true, Some(true)),
            // A refused confirm leaves TOTP off; one lost in transport may have landed.
            Some((Step::Confirm, false, transport)) => {
                (true, if transport { None } else { Some(false) })
            }
            Some(_) => (true, Some(true)),
        }
    }
}

impl Observer for Watch<'_> {
    fn after(&mut self, step: Step, outcome: &Outcome) {
        self.last = Some((step, outcome.ok(), outcome.resp.is_none()));
        self.tally.after(step, outcome);
    }
}

/// Logs `c` in again the way its state demands; Err says why it could not.
fn check_login(client: &Client, c: &mut Created, tally: &mut Tally) -> Result<(), String> {
    match c.totp {
        Some(true) => login_again(client, &mut c.user, tally),
        Some(false) => {
            let o = run_step(client, &mut c.user, Step::LoginPassword);
            tally.after(Step::LoginPassword, &o);
            o.error.map_or(Ok(()), Err)
        }
        None => {
            // Unknown: whatever the server says must be completable.
            let o = run_step(client, &mut c.user, Step::LoginPassword);
            if o.ok() {
                tally.after(Step::LoginPassword, &o);
                return Ok(());
            }
            if c.user.secret.is_some() {
                login_again(client, &mut c.user, tally)
            } else {
                tally.after(Step::LoginPassword, &o);
                o.error.map_or(Ok(()), Err)
            }
        }
    }
}

const SATURATION_ROUNDS: u32 = 4;

/// One burst of flat-out requests.
struct Burst {
    lat: Vec<f64>,
    errors: u64,
    wall_s: f64,
    own_cpu_s: f64,
    workerd_cpu_s: Option<f64>,
}

fn combine(bursts: &[Burst], vus: u64, rounds: u32) -> Value {
    let lat: Vec<f64> = bursts.iter().flat_map(|b| b.lat.iter().copied()).collect();
    let wall: f64 = bursts.iter().map(|b| b.wall_s).sum();
    let errors: u64 = bursts.iter().map(|b| b.errors).sum();
    let own: f64 = bursts.iter().map(|b| b.own_cpu_s).sum();
    let workerd: Option<f64> = bursts.iter().map(|b| b.workerd_cpu_s).sum();
    json!({
        "connections": vus,
        "rounds": rounds,
        "seconds": round3(wall),
        "requests_ok": lat.len(),
        "errors": errors,
        "requests_per_s": round3(lat.len() as f64 / wall),
        "rounds_requests_per_s": bursts.iter().map(|b| round3(b.lat.len() as f64 / b.wall_s)).collect::<Vec<_>>(),
        "latency_ms": summary(&lat),
        "cpu": {
            "loadgen_cpu_pct": round3(own / wall * 100.0),
            "workerd_cpu_pct": workerd.map_or(Value::Null, |w| round3(w / wall * 100.0)),
            "workerd_cpu_ms_per_request": workerd.map_or(Value::Null, |w| round3(w * 1e3 / lat.len().max(1) as f64)),
        },
    })
}

/// `vus` connections send `path` back to back for `secs`; throughput counts 200 answers.
fn saturate(
    base: &str,
    vus: u64,
    secs: f64,
    path: &'static str,
    tokens: &[String],
    probe: Option<&CpuProbe>,
    name: String,
) -> Burst {
    let done = Arc::new(AtomicU64::new(0));
    let progress = {
        let d = done.clone();
        let prefix: &'static str = Box::leak(name.into_boxed_str());
        Progress::new(prefix, (secs * 10.0) as u64, move || {
            format!("{} requests", d.load(Ordering::Relaxed))
        })
    };
    let own_start = own_cpu_s();
    let workerd_start = probe.map(CpuProbe::cpu_ns);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(secs);
    let handles: Vec<_> = (0..vus)
        .map(|vu| {
            let base = base.to_owned();
            let token = (!tokens.is_empty()).then(|| tokens[vu as usize % tokens.len()].clone());
            let done = done.clone();
            thread::spawn(move || {
                let client = Client::new(&base, Some(client_ip(100_000 + vu)));
                let bearer = if path == "/v1/me" { token } else { None };
                let (mut lat, mut errors) = (Vec::new(), 0u64);
                while Instant::now() < deadline {
                    match client.send("GET", path, None, bearer.as_deref()) {
                        Ok(r) if r.status == 200 => lat.push(r.ms()),
                        _ => errors += 1,
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
                (lat, errors)
            })
        })
        .collect();
    let ticker = {
        let bar = progress.bar.clone();
        thread::spawn(move || {
            while Instant::now() < deadline {
                bar.set_position((started.elapsed().as_secs_f64() * 10.0) as u64);
                thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let (mut lat, mut errors) = (Vec::new(), 0);
    for h in handles {
        if let Ok((l, e)) = h.join() {
            lat.extend(l);
            errors += e;
        }
    }
    let _ = ticker.join();
    let wall_s = started.elapsed().as_secs_f64();
    let workerd_cpu_s = match (probe, workerd_start) {
        (Some(p), Some(s)) => Some(p.cpu_ns().saturating_sub(s) as f64 / 1e9),
        _ => None,
    };
    progress.finish(String::new());
    Burst {
        lat,
        errors,
        wall_s,
        own_cpu_s: own_cpu_s() - own_start,
        workerd_cpu_s,
    }
}
