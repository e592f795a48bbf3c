//! edge-login-loadgen: measures a running edge-login Worker (started by `make bench` under
//! `wrangler dev` on loopback) and writes the benchmark report.
//!
//! ```text
//! edge-login-loadgen routes --base-url URL --out routes.json   per-route latency at concurrency 1
//! edge-login-loadgen load   --base-url URL --out load.json     N virtual users through the flow
//! edge-login-loadgen cpu    --base-url URL --cpu-pgid PGID     CPU per request, per process
//! edge-login-loadgen ops    --base-url URL --out ops.json      timed operations in the ops Worker
//! edge-login-loadgen coldstart --wrangler PATH --template DIR  wrangler dev start to first 200
//! edge-login-loadgen report --dir bench-results                REPORT.md + latency.png
//! ```
//!
//! Every command is bounded in requests and in time, and only talks to the `--base-url`,
//! which must be a loopback address.

mod args;
mod chart;
mod client;
mod coldstart;
mod cpu;
mod flow;
mod load;
mod ops;
mod per_process;
mod report;
mod routes;
mod stats;

use std::process::ExitCode;

const USAGE: &str = "\
usage: edge-login-loadgen <routes|load|cpu|ops|coldstart|wait|report> [options]

  routes  --base-url URL [--out FILE] [--users 60] [--fast-samples 400] [--cpu-pgid PID]
          Per-route latency at concurrency 1 (p50/p99), Server-Timing round trips and, with
          --cpu-pgid (the process group of `wrangler dev`), workerd CPU per request.
  load    --base-url URL [--out FILE] [--vus 64] [--duration 40] [--max-flows 2000]
          [--saturation-secs 8] [--verify-timeout 90]
          N virtual users run register -> login -> enroll -> confirm -> logout -> login ->
          login/mfa -> me -> refresh until the duration or flow count is reached; then /health
          and /v1/me are driven flat out for --saturation-secs each; then every user logs in
          again (password + fresh TOTP code) and the ones that cannot are counted as lost.
  cpu     --base-url URL --cpu-pgid PGID [--baseline-url URL --baseline-pgid PGID] [--out FILE]
          [--conns 16] [--secs 6] [--rounds 3] [--logins 48]
          CPU per request of each process of `wrangler dev` (the Worker's workerd, the proxy
          workerd, wrangler's node) per route, beside the JavaScript baseline's /health.
  ops     --base-url URL [--out FILE] [--cpu-pgid PID] [--rounds 7]
          Times TOTP / JWT / Argon2id inside workerd via the benches/wasm-ops Worker.
  coldstart --wrangler PATH --template STATE_DIR [--wrangler-config FILE] [--runs 3] [--work DIR]
          [--workerd PATH --bundle build --compat-date DATE]
          Time from spawning `wrangler dev` to the first 200 on /health (fresh state each run);
          with --workerd, `workerd serve` of the built Worker against a one-line JS Worker.
  wait    --base-url URL [--timeout 90]      until GET /health answers 200
  report  [--dir bench-results] [--criterion-dir target/criterion] [--docs-dir docs]
          Writes DIR/REPORT.md and DIR/latency.png from the JSON files in DIR.

Every command prints a JSON summary on stdout (and writes it to --out when given).";

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    let Some(command) = argv.next() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let opts = match args::Args::parse(argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match command.as_str() {
        "routes" => routes::run(&opts),
        "load" => load::run(&opts),
        "ops" => ops::run(&opts),
        "cpu" => per_process::run(&opts),
        "coldstart" => coldstart::run(&opts),
        "wait" => coldstart::wait(&opts),
        "report" => report::run(&opts),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => Err(format!("unknown command {other:?}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("edge-login-loadgen {command}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the summary and writes it to `--out` when given.
pub fn emit(opts: &args::Args, summary: &serde_json::Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(summary).map_err(|e| e.to_string())?;
    if let Some(path) = opts.get("out") {
        if let Some(dir) = std::path::Path::new(path).parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("creating {dir:?}: {e}"))?;
        }
        std::fs::write(path, &text).map_err(|e| format!("writing {path}: {e}"))?;
    }
    println!("{text}");
    Ok(())
}
