//! Criterion benches of magpie-sync's primitives beside tokio's nearest equivalents.
//!
//! Each group runs the same workload on a magpie primitive and on tokio's
//! (`tokio::sync::{Mutex, Semaphore, mpsc}`). The executor is held fixed so that only the
//! primitive differs: every async workload runs on one tokio multi-thread runtime with two
//! workers (both crates' primitives are executor-agnostic; neither sees a cooperative
//! budget there, as magpie's budget is only set by magpie's runtime).
//!
//! * `*_uncontended`: one task, `OPS` operations that always find the resource free (the
//!   atomic fast paths).
//! * `*_contended`: `TASKS` tasks on two workers hammering one primitive, `OPS` operations
//!   each; the mutex/semaphore is held across a `yield_now`, so waiters really queue.
//! * `queue_*`: `put`/`get` of `OPS` items through a bounded queue, against `mpsc`.
use std::hint::black_box;
use std::sync::Arc;
use std::task::{Context, Waker};

use criterion::{criterion_group, criterion_main, Criterion};

const OPS: usize = 1_000;
const TASKS: usize = 8;

fn coop_poll_proceed(c: &mut Criterion) {
    c.bench_function("coop/poll_proceed_unbudgeted", |b| {
        let mut cx = Context::from_waker(Waker::noop());
        b.iter(|| magpie::sync::coop::poll_proceed(&mut cx).is_ready())
    });
}

fn executor() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// Runs `make(i)` as `TASKS` spawned tasks and waits for all of them.
async fn spawn_all<F, Fut>(make: F)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let hs: Vec<_> = (0..TASKS).map(|i| tokio::spawn(make(i))).collect();
    for h in hs {
        h.await.unwrap();
    }
}

fn mutex(c: &mut Criterion) {
    let rt = executor();
    let mut g = c.benchmark_group("mutex_uncontended");
    g.bench_function("magpie", |b| {
        let m = magpie::sync::Mutex::new(0u64);
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..OPS {
                    *m.lock().await += 1;
                }
            })
        });
        black_box(m.into_inner());
    });
    g.bench_function("tokio", |b| {
        let m = tokio::sync::Mutex::new(0u64);
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..OPS {
                    *m.lock().await += 1;
                }
            })
        });
        black_box(m.into_inner());
    });
    g.finish();

    let mut g = c.benchmark_group("mutex_contended");
    g.bench_function("magpie", |b| {
        let m = Arc::new(magpie::sync::Mutex::new(0u64));
        b.iter(|| {
            rt.block_on(spawn_all(|_| {
                let m = m.clone();
                async move {
                    for i in 0..OPS {
                        let mut g = m.lock().await;
                        *g += 1;
                        if i % 16 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                }
            }))
        });
    });
    g.bench_function("tokio", |b| {
        let m = Arc::new(tokio::sync::Mutex::new(0u64));
        b.iter(|| {
            rt.block_on(spawn_all(|_| {
                let m = m.clone();
                async move {
                    for i in 0..OPS {
                        let mut g = m.lock().await;
                        *g += 1;
                        if i % 16 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                }
            }))
        });
    });
    g.finish();
}

fn semaphore(c: &mut Criterion) {
    let rt = executor();
    let mut g = c.benchmark_group("semaphore_uncontended");
    g.bench_function("magpie", |b| {
        let s = magpie::sync::Semaphore::new(4);
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..OPS {
                    drop(black_box(s.acquire().await.unwrap()));
                }
            })
        });
    });
    g.bench_function("tokio", |b| {
        let s = tokio::sync::Semaphore::new(4);
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..OPS {
                    drop(black_box(s.acquire().await.unwrap()));
                }
            })
        });
    });
    g.finish();

    let mut g = c.benchmark_group("semaphore_contended");
    g.bench_function("magpie", |b| {
        let s = Arc::new(magpie::sync::Semaphore::new(2));
        b.iter(|| {
            rt.block_on(spawn_all(|_| {
                let s = s.clone();
                async move {
                    for i in 0..OPS {
                        let _p = s.acquire().await.unwrap();
                        if i % 16 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                }
            }))
        });
    });
    g.bench_function("tokio", |b| {
        let s = Arc::new(tokio::sync::Semaphore::new(2));
        b.iter(|| {
            rt.block_on(spawn_all(|_| {
                let s = s.clone();
                async move {
                    for i in 0..OPS {
                        let _p = s.acquire().await.unwrap();
                        if i % 16 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                }
            }))
        });
    });
    g.finish();
}

fn queue(c: &mut Criterion) {
    let rt = executor();
    let mut g = c.benchmark_group("queue_uncontended");
    g.bench_function("magpie", |b| {
        let q = magpie::sync::Queue::bounded(OPS);
        b.iter(|| {
            rt.block_on(async {
                for i in 0..OPS {
                    q.put(i).await.unwrap();
                }
                for _ in 0..OPS {
                    black_box(q.get().await.unwrap());
                }
            })
        });
    });
    g.bench_function("tokio_mpsc", |b| {
        let (tx, mut rx) = tokio::sync::mpsc::channel(OPS);
        b.iter(|| {
            rt.block_on(async {
                for i in 0..OPS {
                    tx.send(i).await.unwrap();
                }
                for _ in 0..OPS {
                    black_box(rx.recv().await.unwrap());
                }
            })
        });
    });
    g.finish();

    // TASKS producers, one consumer, a small bound so producers wait for room.
    let mut g = c.benchmark_group("queue_contended");
    g.bench_function("magpie", |b| {
        b.iter(|| {
            rt.block_on(async {
                let q = Arc::new(magpie::sync::Queue::bounded(64));
                let q2 = q.clone();
                let consumer = tokio::spawn(async move {
                    let mut sum = 0usize;
                    for _ in 0..TASKS * OPS {
                        sum += q2.get().await.unwrap();
                    }
                    sum
                });
                spawn_all(|_| {
                    let q = q.clone();
                    async move {
                        for i in 0..OPS {
                            q.put(i).await.unwrap();
                        }
                    }
                })
                .await;
                black_box(consumer.await.unwrap());
            })
        });
    });
    g.bench_function("tokio_mpsc", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (tx, mut rx) = tokio::sync::mpsc::channel(64);
                let consumer = tokio::spawn(async move {
                    let mut sum = 0usize;
                    for _ in 0..TASKS * OPS {
                        sum += rx.recv().await.unwrap();
                    }
                    sum
                });
                spawn_all(|_| {
                    let tx = tx.clone();
                    async move {
                        for i in 0..OPS {
                            tx.send(i).await.unwrap();
                        }
                    }
                })
                .await;
                black_box(consumer.await.unwrap());
            })
        });
    });
    g.finish();
}

criterion_group!(benches, coop_poll_proceed, mutex, semaphore, queue);
criterion_main!(benches);
