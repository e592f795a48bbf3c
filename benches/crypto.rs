//! Native micro-benchmarks of the Worker's hot operations (criterion). `make bench` sets
//! these beside the same operations timed inside workerd (benches/wasm-ops) for the
//! WASM-to-native ratio. Run alone: `cargo bench --bench crypto`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

// `Fixture::run` is for the ops Worker only.
#[allow(dead_code)]
#[path = "common/ops.rs"]
mod ops;

fn fast_ops(c: &mut Criterion) {
    let f = ops::Fixture::new();
    let mut g = c.benchmark_group("native");
    g.bench_function("totp_verify", |b| b.iter(|| f.totp_verify()));
    g.bench_function("jwt_sign", |b| b.iter(|| f.jwt_sign()));
    g.bench_function("jwt_verify", |b| b.iter(|| f.jwt_verify()));
    g.bench_function("jwt_verify_cached", |b| b.iter(|| f.jwt_verify_cached()));
    g.finish();
}

fn argon2id(c: &mut Criterion) {
    let f = ops::Fixture::new();
    let mut g = c.benchmark_group("native");
    // ~20-40 ms per iteration: fewer, longer samples.
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g.bench_function("argon2id_hash", |b| b.iter(|| f.argon2id_hash()));
    g.bench_function("argon2id_verify", |b| b.iter(|| f.argon2id_verify()));
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = fast_ops, argon2id
}
criterion_main!(benches);
