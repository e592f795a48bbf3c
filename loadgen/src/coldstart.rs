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
//! Every server gets a free loopback port and its own process group, killed afterwards
//! (edge-login-testkit, which the integration tests start `wrangler dev` with too).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use edge_login_testkit::{copy_dir, free_port, wait_for, Ready, WorkerProcess, WranglerDev};
use serde_json::json;

use crate::args::Args;
use crate::client::Client;
use crate::stats::{median, round3};

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
        let mut dev = WranglerDev::new(wrangler, &state, dir.join("server.log")).log_level("warn");
        if let Some(config) = opts.get("wrangler-config") {
            dev = dev.config(config);
        }
        let ready = Ready::get("/health", timeout).poll(Duration::from_millis(10));
        let child = dev.start(&ready).map_err(|e| e.to_string())?;
        let ready = child
            .ready_after()
            .expect("WranglerDev::start returns a ready process");
        let base = child.base_url();
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
            let port = free_port().map_err(|e| e.to_string())?;
            let file = dir.join(format!("{name}.capnp"));
            std::fs::write(&file, config(port, modules)).map_err(|e| e.to_string())?;
            let log = dir.join(format!("{name}-{i}")).join("server.log");
            let mut cmd = Command::new(workerd);
            cmd.arg("serve").arg(&file);
            let mut child = WorkerProcess::spawn("workerd serve", &mut cmd, port, &log)
                .map_err(|e| e.to_string())?;
            let ready = Ready::get("/health", timeout)
                .poll(Duration::from_millis(2))
                .any_status();
            let ready = child.wait_until_ready(&ready).map_err(|e| e.to_string())?;
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
    let ready = Ready::get("/health", timeout).poll(Duration::from_millis(50));
    let took = wait_for(&base, &ready)?;
    eprintln!("wait: {base} up after {:.1} s", took.as_secs_f64());
    Ok(())
}
