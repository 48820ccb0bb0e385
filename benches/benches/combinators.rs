//! Criterion bench of `magpie::gather` against its peers, in one group: 10,000 trivial
//! children, awaited all together, on a multi-thread runtime with one worker per core (or
//! `MAGPIE_BENCH_THREADS`).
//!
//! - `magpie/gather`: `magpie::gather` (spawns each child, outputs in input order);
//! - `magpie/join_all`: `futures::future::join_all` of `magpie::spawn`ed handles (the same
//!   tasks without the combinator, to separate its cost from the runtime's);
//! - `tokio/JoinSet`: tokio's `JoinSet`, every output collected with `join_next`;
//! - `tokio/join_all`: `futures::future::join_all` of `tokio::spawn`ed handles.
//!
//! Each iteration runs inside one `block_on`, so the spawns come from a task-less caller
//! on the runtime, the same for every contender.
//!
//! `cargo bench -p magpie-benches --bench combinators`

use criterion::{criterion_group, criterion_main, Criterion};

/// Children per iteration.
const CHILDREN: u64 = 10_000;

fn threads() -> usize {
    std::env::var("MAGPIE_BENCH_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(num_cpus::get)
}

fn check(total: u64) {
    assert_eq!(total, CHILDREN * (CHILDREN - 1) / 2);
}

fn gather_10k(c: &mut Criterion) {
    let n = threads();
    let m = magpie::Builder::new_multi_thread()
        .worker_threads(n)
        .build()
        .unwrap();
    let t = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(n)
        .build()
        .unwrap();

    let mut group = c.benchmark_group("gather_10k");
    group.sample_size(30);
    group.bench_function("magpie/gather", |b| {
        b.iter(|| {
            let out = m.block_on(magpie::gather((0..CHILDREN).map(|i| async move { i })));
            check(out.iter().sum());
        })
    });
    group.bench_function("magpie/join_all", |b| {
        b.iter(|| {
            let out = m.block_on(async {
                let handles = (0..CHILDREN).map(|i| magpie::spawn(async move { i }));
                futures::future::join_all(handles.collect::<Vec<_>>()).await
            });
            check(out.into_iter().map(Result::unwrap).sum());
        })
    });
    group.bench_function("tokio/JoinSet", |b| {
        b.iter(|| {
            let total = t.block_on(async {
                let mut set = tokio::task::JoinSet::new();
                for i in 0..CHILDREN {
                    set.spawn(async move { i });
                }
                let mut total = 0;
                while let Some(out) = set.join_next().await {
                    total += out.unwrap();
                }
                total
            });
            check(total);
        })
    });
    group.bench_function("tokio/join_all", |b| {
        b.iter(|| {
            let out = t.block_on(async {
                let handles = (0..CHILDREN).map(|i| tokio::spawn(async move { i }));
                futures::future::join_all(handles.collect::<Vec<_>>()).await
            });
            check(out.into_iter().map(Result::unwrap).sum());
        })
    });
    group.finish();
}

criterion_group!(benches, gather_10k);
criterion_main!(benches);
