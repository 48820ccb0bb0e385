//! gather, try_gather, gather_outcomes: input order, abort on drop and on failure,
//! parallelism, on both runtime flavours.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use support::{flavors, within, DropCounter, Signal};

/// Yields until `cond` holds (the test's `within` turns a hang into a failure).
async fn until(cond: impl Fn() -> bool) {
    while !cond() {
        magpie::yield_now().await;
    }
}

/// Children that finish in reverse input order: child `i` waits for child `i + 1`.
#[test]
fn gather_keeps_input_order_when_children_finish_in_reverse() {
    within(60, "gather_keeps_input_order", || {
        for (name, rt) in flavors() {
            const N: usize = 16;
            let signals: Vec<Signal> = (0..N).map(|_| Signal::new()).collect();
            let finished = Arc::new(Mutex::new(Vec::new()));
            let out = rt.block_on(async {
                let futs = (0..N).map(|i| {
                    let mine = signals[i].clone();
                    let next = (i > 0).then(|| signals[i - 1].clone());
                    let finished = finished.clone();
                    async move {
                        mine.wait().await;
                        finished.lock().unwrap().push(i);
                        if let Some(next) = next {
                            next.set();
                        }
                        i * 10
                    }
                });
                let g = magpie::gather(futs);
                signals[N - 1].set();
                g.await
            });
            let expected: Vec<usize> = (0..N).map(|i| i * 10).collect();
            assert_eq!(out, expected, "{name}: outputs in input order");
            let reversed: Vec<usize> = (0..N).rev().collect();
            assert_eq!(*finished.lock().unwrap(), reversed, "{name}: finish order");
        }
    });
}

#[test]
fn gather_of_nothing_is_empty() {
    for (name, rt) in flavors() {
        let out: Vec<u8> = rt.block_on(magpie::gather(Vec::<std::future::Ready<u8>>::new()));
        assert!(out.is_empty(), "{name}");
    }
}

/// `rt.block_on(gather(..))` calls gather outside the runtime: it spawns on first poll.
#[test]
fn gather_called_outside_a_runtime_spawns_on_first_poll() {
    for (name, rt) in flavors() {
        let g = magpie::gather((0..100u64).map(|i| async move { i }));
        let out = rt.block_on(g);
        assert_eq!(out.iter().sum::<u64>(), 4950, "{name}");
    }
}

#[test]
fn gather_many_children_totals() {
    within(60, "gather_many_children_totals", || {
        for (name, rt) in flavors() {
            let out = rt.block_on(async {
                magpie::gather((0..10_000u64).map(|i| async move {
                    magpie::yield_now().await;
                    i
                }))
                .await
            });
            assert_eq!(out.len(), 10_000, "{name}");
            assert!(
                out.iter().enumerate().all(|(i, v)| *v == i as u64),
                "{name}"
            );
        }
    });
}

#[test]
fn dropping_gather_aborts_unfinished_children() {
    within(30, "dropping_gather_aborts", || {
        for (name, rt) in flavors() {
            const N: usize = 8;
            let drops = DropCounter::default();
            let started = Arc::new(AtomicUsize::new(0));
            let finished = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let g = magpie::gather((0..N).map(|i| {
                    let tracked = drops.track();
                    let started = started.clone();
                    let finished = finished.clone();
                    async move {
                        let _tracked = tracked;
                        started.fetch_add(1, Ordering::SeqCst);
                        if i % 2 == 0 {
                            std::future::pending::<()>().await;
                        }
                        finished.fetch_add(1, Ordering::SeqCst);
                    }
                }));
                until(|| started.load(Ordering::SeqCst) == N).await;
                until(|| finished.load(Ordering::SeqCst) == N / 2).await;
                drop(g);
                until(|| drops.count() == N).await;
            });
            assert_eq!(drops.count(), N, "{name}: every child future dropped once");
            assert_eq!(finished.load(Ordering::SeqCst), N / 2, "{name}");
        }
    });
}

#[test]
fn a_child_panic_aborts_the_rest_and_is_resumed() {
    within(30, "gather_child_panic", || {
        for (name, rt) in flavors() {
            const N: usize = 6;
            let drops = DropCounter::default();
            let started = Arc::new(AtomicUsize::new(0));
            let go = Signal::new();
            let err = rt.block_on(async {
                let futs = (0..N).map(|i| {
                    let tracked = drops.track();
                    let started = started.clone();
                    let go = go.clone();
                    async move {
                        let _tracked = tracked;
                        started.fetch_add(1, Ordering::SeqCst);
                        if i == 3 {
                            go.wait().await;
                            panic!("child {i} failed");
                        }
                        std::future::pending::<u32>().await
                    }
                });
                let caller = magpie::spawn(magpie::gather(futs));
                until(|| started.load(Ordering::SeqCst) == N).await;
                go.set();
                let err = caller.await.unwrap_err();
                until(|| drops.count() == N).await;
                err
            });
            assert!(err.is_panic(), "{name}");
            let payload = err.into_panic();
            assert_eq!(
                payload.downcast_ref::<String>().map(String::as_str),
                Some("child 3 failed"),
                "{name}: the child's own panic payload is resumed"
            );
        }
    });
}

#[test]
fn try_gather_returns_the_first_err_and_aborts_the_rest() {
    within(30, "try_gather_first_err", || {
        for (name, rt) in flavors() {
            const N: usize = 6;
            let drops = DropCounter::default();
            let polled_after = Arc::new(AtomicUsize::new(0));
            let out = rt.block_on(async {
                let futs = (0..N).map(|i| {
                    let tracked = drops.track();
                    let polled_after = polled_after.clone();
                    async move {
                        let _tracked = tracked;
                        if i == 2 {
                            return Err(format!("item {i} failed"));
                        }
                        std::future::pending::<()>().await;
                        polled_after.fetch_add(1, Ordering::SeqCst);
                        Ok(i)
                    }
                });
                let out = magpie::try_gather(futs).await;
                until(|| drops.count() == N).await;
                out
            });
            assert_eq!(out, Err("item 2 failed".to_string()), "{name}");
            assert_eq!(drops.count(), N, "{name}");
            assert_eq!(polled_after.load(Ordering::SeqCst), 0, "{name}");
        }
    });
}

#[test]
fn try_gather_all_ok_keeps_input_order() {
    for (name, rt) in flavors() {
        let out = rt.block_on(async {
            magpie::try_gather((0..50u32).map(|i| async move {
                for _ in 0..(50 - i) % 7 {
                    magpie::yield_now().await;
                }
                Ok::<_, String>(i)
            }))
            .await
        });
        assert_eq!(out, Ok((0..50).collect::<Vec<_>>()), "{name}");
    }
}

/// asyncio's `return_exceptions=True`: a failure is collected, nothing is aborted.
#[test]
fn gather_outcomes_collects_every_outcome_without_aborting() {
    within(30, "gather_outcomes", || {
        for (name, rt) in flavors() {
            let failed = Signal::new();
            let outcomes = rt.block_on(async {
                magpie::gather_outcomes((0..3).map(|i| {
                    let failed = failed.clone();
                    async move {
                        if i == 2 {
                            failed.set();
                            panic!("Error in operation {i}");
                        }
                        // The others finish only after the panic happened.
                        failed.wait().await;
                        format!("Result {i}")
                    }
                }))
                .await
            });
            assert_eq!(outcomes.len(), 3, "{name}");
            assert_eq!(outcomes[0].as_ref().unwrap(), "Result 0", "{name}");
            assert_eq!(outcomes[1].as_ref().unwrap(), "Result 1", "{name}");
            let err = outcomes.into_iter().nth(2).unwrap().unwrap_err();
            assert!(err.is_panic(), "{name}");
            assert_eq!(
                err.into_panic()
                    .downcast_ref::<String>()
                    .map(String::as_str),
                Some("Error in operation 2")
            );
        }
    });
}
