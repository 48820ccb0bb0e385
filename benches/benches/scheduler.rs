//! Criterion benches of the scheduler workloads: one group per workload, one function per
//! runtime, all running the same code (`magpie_benches::{magpie, tokio, smol}`).
//!
//! `cargo bench -p magpie-benches --bench scheduler [-- FILTER]`; HTML reports land in
//! `target/criterion/`.

use criterion::{criterion_group, criterion_main, Criterion};
use magpie_benches::{floor, magpie, smol, tokio};

fn threads() -> usize {
    std::env::var("MAGPIE_BENCH_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(num_cpus::get)
}

fn scheduler(c: &mut Criterion) {
    let n = threads();
    let m = magpie::runtime(n);
    let t = tokio::runtime(n);
    let s = smol::runtime(n);
    for (i, (name, _)) in magpie::WORKLOADS.iter().enumerate() {
        let mut group = c.benchmark_group(*name);
        group.sample_size(30);
        let run_m = magpie::WORKLOADS[i].1;
        let run_t = tokio::WORKLOADS[i].1;
        let run_s = smol::WORKLOADS[i].1;
        group.bench_function("magpie", |b| b.iter(|| run_m(&m)));
        group.bench_function("tokio", |b| b.iter(|| run_t(&t)));
        group.bench_function("smol", |b| b.iter(|| run_s(&s)));
        if *name == "spawn_many_local" {
            group.bench_function("floor", |b| b.iter(|| floor::spawn_many(&())));
        }
        group.finish();
    }
}

criterion_group!(benches, scheduler);
criterion_main!(benches);
