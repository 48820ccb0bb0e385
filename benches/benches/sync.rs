//! Criterion benches of magpie-sync's primitives beside tokio's nearest equivalents.
use criterion::{criterion_group, criterion_main, Criterion};
use std::task::{Context, Waker};

fn coop_poll_proceed(c: &mut Criterion) {
    c.bench_function("coop/poll_proceed_unbudgeted", |b| {
        let mut cx = Context::from_waker(Waker::noop());
        b.iter(|| magpie::sync::coop::poll_proceed(&mut cx).is_ready())
    });
}

criterion_group!(benches, coop_poll_proceed);
criterion_main!(benches);
