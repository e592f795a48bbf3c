//! Cold start, two ways:
//!
//! - `--wrangler PATH --template DIR [--wrangler-config FILE]`: from spawning `wrangler dev`
//!   to the first 200 on `/health` (each run on a fresh copy of a state directory that holds
//!   the schema); then the first JWKS request (it parses the configuration) against 20 warm
//!   ones.
//! - `--workerd PATH --bundle build`: `workerd serve` alone (the binary wrangler runs) on a
//!   minimal config with the built Worker, against the same with a one-line JS Worker: the
//!   difference is the module's load + compile + instantiate (+ first request) cost.
//!
//! Every server gets a free loopback port and its own process group, killed afterwards.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::args::Args;
use crate::client::Client;
use crate::stats::{median, round3};

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        let pgid = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &pgid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &pgid])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.wait();
    }
}

/// Spawns `cmd` (in its own process group) and polls `GET {base}/health` every `poll`
/// until it answers (any status when `any_status`, else 200). Returns the child and the time.
fn spawn_until_ready(
    mut cmd: Command,
    base: &str,
    poll: Duration,
    any_status: bool,
    timeout: Duration,
    what: &str,
) -> Result<(Group, Duration), String> {
    cmd.stdin(Stdio::null()).process_group(0);
    let started = Instant::now();
    let child = Group(cmd.spawn().map_err(|e| format!("spawning {what}: {e}"))?);
    let probe = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(2))
        .build();
    loop {
        match probe.get(&format!("{base}/health")).call() {
            Ok(r) if r.status() == 200 => return Ok((child, started.elapsed())),
            Err(ureq::Error::Status(_, _)) if any_status => return Ok((child, started.elapsed())),
            _ => {}
        }
        if started.elapsed() > timeout {
            return Err(format!("{what}: no answer on /health within {timeout:?}"));
        }
        std::thread::sleep(poll);
    }
}

fn log_file(dir: &Path) -> Result<(std::fs::File, std::fs::File), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {dir:?}: {e}"))?;
    let log = std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    Ok((log, err))
}

/// `wrangler dev` from spawn to the first 200 on /health, plus the first JWKS request.
fn wrangler_runs(opts: &Args, wrangler: &str, work: &Path) -> Result<serde_json::Value, String> {
    let template = PathBuf::from(opts.get("template").ok_or("--template is required")?);
    let runs: u32 = opts.num("runs", 3)?;
    let timeout = Duration::from_secs_f64(opts.num("timeout", 90.0)?);
    let mut times = vec![];
    let mut first_jwks = vec![];
    let mut warm_jwks = vec![];
    for i in 0..runs {
        let dir = work.join(format!("wrangler-{i}"));
        let _ = std::fs::remove_dir_all(&dir);
        let state = dir.join("state");
        copy_dir(&template, &state).map_err(|e| format!("copying {template:?}: {e}"))?;
        let (log, err) = log_file(&dir)?;
        let (port, inspector) = (free_port()?, free_port()?);
        let base = format!("http://127.0.0.1:{port}");
        let mut cmd = Command::new(wrangler);
        cmd.arg("dev");
        if let Some(config) = opts.get("wrangler-config") {
            cmd.args(["--config", config]);
        }
        cmd.args(["--ip", "127.0.0.1", "--port", &port.to_string()])
            .args(["--inspector-ip", "127.0.0.1"])
            .args(["--inspector-port", &inspector.to_string()])
            .arg("--persist-to")
            .arg(&state)
            .args([
                "--log-level",
                "warn",
                "--show-interactive-dev-session=false",
            ])
            .stdout(log)
            .stderr(err);
        let (child, ready) = spawn_until_ready(
            cmd,
            &base,
            Duration::from_millis(10),
            false,
            timeout,
            "wrangler dev",
        )?;
        let client = Client::new(&base, None);
        first_jwks.push(
            client
                .send("GET", "/.well-known/jwks.json", None, None)?
                .ms(),
        );
        for _ in 0..20 {
            warm_jwks.push(
                client
                    .send("GET", "/.well-known/jwks.json", None, None)?
                    .ms(),
            );
        }
        drop(child);
        eprintln!(
            "coldstart: wrangler dev run {i}: first 200 on /health after {:.2} s",
            ready.as_secs_f64()
        );
        times.push(ready.as_secs_f64());
        let _ = std::fs::remove_dir_all(&state);
    }
    let min = times.iter().copied().fold(f64::INFINITY, f64::min);
    let max = times.iter().copied().fold(0.0, f64::max);
    Ok(json!({
        "runs": times.iter().map(|t| round3(*t)).collect::<Vec<_>>(),
        "median_s": round3(median(&times)),
        "min_s": round3(min),
        "max_s": round3(max),
        "first_jwks_ms": round3(median(&first_jwks)),
        "warm_jwks_ms": round3(median(&warm_jwks)),
    }))
}

/// The same workerd binary, started directly on a minimal config: once with the built
/// Worker (index.js + index_bg.wasm), once with a one-line JavaScript Worker. The difference
/// between the two start-to-first-response times is what our module costs a cold process:
/// reading, compiling and instantiating the WASM and the glue, plus the first request.
fn workerd_runs(opts: &Args, workerd: &str, work: &Path) -> Result<serde_json::Value, String> {
    let bundle = PathBuf::from(opts.get("bundle").unwrap_or("build"));
    let date = opts.get("compat-date").unwrap_or("2026-04-20");
    let runs: u32 = opts.num("workerd-runs", 9)?;
    let timeout = Duration::from_secs_f64(opts.num("timeout", 90.0)?);
    let dir = work.join("workerd");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {dir:?}: {e}"))?;
    for f in ["index.js", "index_bg.wasm"] {
        std::fs::copy(bundle.join(f), dir.join(f))
            .map_err(|e| format!("copying {:?}: {e}", bundle.join(f)))?;
    }
    std::fs::write(
        dir.join("hello.js"),
        "export default { fetch() { return new Response(\"ok\"); } };\n",
    )
    .map_err(|e| e.to_string())?;
    let config = |port: u16, modules: &str| {
        format!(
            "using Workerd = import \"/workerd/workerd.capnp\";\n\
             const config :Workerd.Config = (\n  services = [ (name = \"main\", worker = .w) ],\n  \
             sockets = [ (name = \"http\", address = \"127.0.0.1:{port}\", http = (), service = \"main\") ],\n);\n\
             const w :Workerd.Worker = (\n  modules = [ {modules} ],\n  compatibilityDate = \"{date}\",\n);\n"
        )
    };
    let ours_modules = "(name = \"index.js\", esModule = embed \"index.js\"), \
                        (name = \"index_bg.wasm\", wasm = embed \"index_bg.wasm\")";
    let hello_modules = "(name = \"hello.js\", esModule = embed \"hello.js\")";
    let mut ours = vec![];
    let mut hello = vec![];
    for i in 0..runs {
        for (name, modules, out) in [
            ("ours", ours_modules, &mut ours),
            ("hello", hello_modules, &mut hello),
        ] {
            let port = free_port()?;
            let file = dir.join(format!("{name}.capnp"));
            std::fs::write(&file, config(port, modules)).map_err(|e| e.to_string())?;
            let (log, err) = log_file(&dir.join(format!("{name}-{i}")))?;
            let mut cmd = Command::new(workerd);
            cmd.arg("serve").arg(&file).stdout(log).stderr(err);
            let (child, ready) = spawn_until_ready(
                cmd,
                &format!("http://127.0.0.1:{port}"),
                Duration::from_millis(2),
                true,
                timeout,
                "workerd serve",
            )?;
            drop(child);
            out.push(ready.as_secs_f64() * 1e3);
        }
    }
    let (o, h) = (median(&ours), median(&hello));
    eprintln!(
        "coldstart: workerd serve to first response: {o:.0} ms (ours) vs {h:.0} ms (hello world)"
    );
    Ok(json!({
        "runs": runs,
        "ours_ms": round3(o),
        "hello_ms": round3(h),
        "module_ms": round3(o - h),
        "ours_all_ms": ours.iter().map(|x| round3(*x)).collect::<Vec<_>>(),
        "hello_all_ms": hello.iter().map(|x| round3(*x)).collect::<Vec<_>>(),
    }))
}

pub fn run(opts: &Args) -> Result<(), String> {
    let work = PathBuf::from(opts.get("work").unwrap_or("target/bench-coldstart"));
    let mut out = serde_json::Map::new();
    out.insert("kind".into(), json!("coldstart"));
    if let Some(w) = opts.get("workerd") {
        out.insert("workerd".into(), workerd_runs(opts, w, &work)?);
    }
    if let Some(w) = opts.get("wrangler") {
        out.insert("wrangler".into(), wrangler_runs(opts, w, &work)?);
    }
    let make_noop = opts
        .get("make-build-noop-s")
        .and_then(|s| s.parse::<f64>().ok());
    out.insert("make_build_noop_s".into(), json!(make_noop.map(round3)));
    crate::emit(opts, &serde_json::Value::Object(out))
}

/// `wait --base-url URL [--timeout 90]`: returns once `GET /health` answers 200.
pub fn wait(opts: &Args) -> Result<(), String> {
    let base = opts.base_url()?;
    let timeout = Duration::from_secs_f64(opts.num("timeout", 90.0)?);
    let probe = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(2))
        .build();
    let started = Instant::now();
    let mut last = String::from("no answer");
    while started.elapsed() < timeout {
        match probe.get(&format!("{base}/health")).call() {
            Ok(r) if r.status() == 200 => {
                eprintln!(
                    "wait: {base} up after {:.1} s",
                    started.elapsed().as_secs_f64()
                );
                return Ok(());
            }
            Ok(r) => last = format!("status {}", r.status()),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "{base}/health: no 200 within {timeout:?} (last: {last})"
    ))
}
