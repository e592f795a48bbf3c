//! The WASM side of the WASM-to-native ratio: the same domain operations, compiled with the
//! production profile, timed inside workerd.
//!
//! A Worker cannot time its own CPU work finely: on Cloudflare `Date.now()` does not move while
//! JavaScript or WASM runs (a Spectre mitigation), and locally it has 1 ms resolution. The
//! ops Worker (benches/wasm-ops) therefore runs an operation `n` times per request, and the
//! client times the request and subtracts the same request with `name=noop`:
//! `(t(op, n) - t(noop)) / n`. With `--cpu-pgid` the workerd CPU time per request is used the
//! same way, which is immune to this machine's scheduling noise.

use serde_json::{json, Value};

use crate::args::Args;
use crate::client::Client;
use crate::cpu::CpuProbe;
use crate::stats::{median, round3};

/// (operation, iterations per request). Sized so one request is tens of milliseconds.
pub const OPS: &[(&str, u32)] = &[
    ("totp_verify", 4000),
    ("jwt_sign", 300),
    ("jwt_verify", 300),
    ("jwt_verify_cached", 20000),
    ("argon2id_hash", 3),
    ("argon2id_verify", 3),
];

struct Measured {
    wall_ms: Vec<f64>,
    cpu_ms: Vec<f64>,
}

fn measure(
    client: &Client,
    cpu: Option<&CpuProbe>,
    name: &str,
    n: u32,
    rounds: u32,
) -> Result<Measured, String> {
    let mut m = Measured {
        wall_ms: vec![],
        cpu_ms: vec![],
    };
    let path = format!("/op?name={name}&n={n}");
    for _ in 0..rounds {
        let before = cpu.map(CpuProbe::cpu_ns);
        let r = client.send("GET", &path, None, None)?;
        // Let workerd finish the exchange before reading its counters again.
        std::thread::sleep(std::time::Duration::from_millis(20));
        if r.status != 200 {
            return Err(format!("{path}: {}", r.describe()));
        }
        m.wall_ms.push(r.ms());
        if let (Some(c), Some(b)) = (cpu, before) {
            m.cpu_ms.push(c.cpu_ns().saturating_sub(b) as f64 / 1e6);
        }
    }
    Ok(m)
}

pub fn run(opts: &Args) -> Result<(), String> {
    let base = opts.base_url()?;
    let rounds: u32 = opts.num("rounds", 7)?;
    let cpu = match opts.get("cpu-pgid") {
        Some(p) => CpuProbe::for_group(p.parse().map_err(|_| "--cpu-pgid must be a number")?),
        None => None,
    };
    let client = Client::new(&base, None);
    // Warm-up: instantiate the module, let V8 tier up the hot functions.
    for (name, n) in OPS {
        measure(&client, None, name, (*n / 3).max(1), 2)?;
    }
    let noop = measure(&client, cpu.as_ref(), "noop", 1, rounds * 3)?;
    let noop_wall = median(&noop.wall_ms);
    let noop_cpu = median(&noop.cpu_ms);
    let mut out = vec![];
    for (name, n) in OPS {
        let m = measure(&client, cpu.as_ref(), name, *n, rounds)?;
        let per_op = |samples: &[f64], base: f64| {
            if samples.is_empty() {
                Value::Null
            } else {
                round3((median(samples) - base) / f64::from(*n) * 1000.0)
            }
        };
        out.push(json!({
            "name": name,
            "iterations_per_request": n,
            "requests": rounds,
            "wall_us_per_op": per_op(&m.wall_ms, noop_wall),
            "cpu_us_per_op": per_op(&m.cpu_ms, noop_cpu),
        }));
        eprintln!(
            "ops: {name:>16}: {} µs/op wall, {} µs/op workerd CPU",
            out.last().unwrap()["wall_us_per_op"],
            out.last().unwrap()["cpu_us_per_op"]
        );
    }
    crate::emit(
        opts,
        &json!({
            "kind": "ops",
            "base_url": base,
            "noop_ms": { "wall": round3(noop_wall), "cpu": round3(noop_cpu) },
            "ops": out,
        }),
    )
}
