//! as_completed: completion order, abort on drop and on panic, the cooperative budget, on
//! both runtime flavours.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{flavors, within, DropCounter, Signal};

async fn until(cond: impl Fn() -> bool) {
    while !cond() {
        magpie::yield_now().await;
    }
}

/// Children released in a scrambled order come out in exactly that order.
#[test]
fn outputs_come_in_completion_order() {
    within(30, "as_completed_order", || {
        for (name, rt) in flavors() {
            const ORDER: [usize; 8] = [5, 2, 7, 0, 3, 6, 1, 4];
            let signals: Vec<Signal> = (0..ORDER.len()).map(|_| Signal::new()).collect();
            let seen = rt.block_on(async {
                let mut stream = magpie::as_completed((0..ORDER.len()).map(|i| {
                    let s = signals[i].clone();
                    async move {
                        s.wait().await;
                        i
                    }
                }));
                let mut seen = Vec::new();
                for &i in &ORDER {
                    // Release one child, then wait for its output before the next.
                    signals[i].set();
                    seen.push(stream.next().await.unwrap());
                }
                assert_eq!(stream.next().await, None, "{name}");
                assert_eq!(stream.next().await, None, "{name}: fused");
                seen
            });
            assert_eq!(seen, ORDER, "{name}");
        }
    });
}

#[test]
fn dropping_the_stream_aborts_unfinished_children() {
    within(30, "as_completed_drop", || {
        for (name, rt) in flavors() {
            const N: usize = 6;
            let drops = DropCounter::default();
            rt.block_on(async {
                let mut stream = magpie::as_completed((0..N).map(|i| {
                    let t = drops.track();
                    async move {
                        let _t = t;
                        if i != 0 {
                            std::future::pending::<()>().await;
                        }
                        i
                    }
                }));
                assert_eq!(stream.next().await, Some(0), "{name}");
                assert_eq!(stream.running(), N - 1, "{name}");
                drop(stream);
                until(|| drops.count() == N).await;
            });
        }
    });
}

#[test]
fn a_child_panic_aborts_the_rest_and_is_resumed() {
    within(30, "as_completed_panic", || {
        for (name, rt) in flavors() {
            const N: usize = 4;
            let drops = DropCounter::default();
            let started = Arc::new(AtomicUsize::new(0));
            let err = rt.block_on(async {
                let (d, s) = (drops.clone(), started.clone());
                let consumer = magpie::spawn(async move {
                    let mut stream = magpie::as_completed((0..N).map(|i| {
                        let t = d.track();
                        let s = s.clone();
                        async move {
                            let _t = t;
                            s.fetch_add(1, Ordering::SeqCst);
                            if i == 1 {
                                until(|| s.load(Ordering::SeqCst) == N).await;
                                panic!("child {i} panicked");
                            }
                            std::future::pending::<usize>().await
                        }
                    }));
                    stream.next().await
                });
                let err = consumer.await.unwrap_err();
                until(|| drops.count() == N).await;
                err
            });
            assert_eq!(
                err.into_panic()
                    .downcast_ref::<String>()
                    .map(String::as_str),
                Some("child 1 panicked"),
                "{name}"
            );
        }
    });
}

/// Draining many outputs that are all ready spends the cooperative budget, so the
/// consumer gives its (only) thread to another task now and then.
#[test]
fn draining_ready_outputs_yields_to_other_tasks() {
    within(30, "as_completed_budget", || {
        const N: usize = 1_000;
        let rt = magpie::Builder::new_current_thread().build().unwrap();
        let first_tick_at = rt.block_on(async {
            let mut stream = magpie::as_completed((0..N).map(|i| async move { i }));
            until(|| stream.running() == 0).await;
            let taken = Arc::new(AtomicUsize::new(0));
            let tick_at = Arc::new(AtomicUsize::new(usize::MAX));
            let (t, at) = (taken.clone(), tick_at.clone());
            let ticker = magpie::spawn(async move {
                at.store(t.load(Ordering::SeqCst), Ordering::SeqCst);
            });
            let mut count = 0;
            while let Some(_v) = stream.next().await {
                count += 1;
                taken.store(count, Ordering::SeqCst);
            }
            assert_eq!(count, N);
            ticker.await.unwrap();
            tick_at.load(Ordering::SeqCst)
        });
        assert!(
            first_tick_at < N,
            "the consumer never yielded while draining {N} ready outputs"
        );
    });
}

#[test]
fn as_completed_of_nothing_ends_at_once() {
    for (name, rt) in flavors() {
        let end = rt.block_on(async {
            let mut s = magpie::as_completed(Vec::<std::future::Ready<u8>>::new());
            s.next().await
        });
        assert_eq!(end, None, "{name}");
    }
}

/// asyncio's classic: outputs follow the children's sleep lengths, not input order.
#[test]
fn order_follows_sleep_lengths() {
    within(60, "as_completed_sleep_order", || {
        for (name, rt) in flavors() {
            // Input order scrambled; 40 ms apart, so a loaded machine keeps the order.
            let millis = [200u64, 40, 160, 0, 120, 80];
            let seen = rt.block_on(async {
                let mut s = magpie::as_completed(millis.map(|ms| async move {
                    magpie::time::sleep(Duration::from_millis(ms)).await;
                    ms
                }));
                let mut seen = Vec::new();
                while let Some(ms) = s.next().await {
                    seen.push(ms);
                }
                seen
            });
            assert_eq!(seen, [0, 40, 80, 120, 160, 200], "{name}");
        }
    });
}

#[test]
fn the_overall_timeout_yields_elapsed_once_and_aborts_the_rest() {
    within(60, "as_completed_timeout", || {
        for (name, rt) in flavors() {
            let drops = DropCounter::default();
            rt.block_on(async {
                let start = Instant::now();
                let mut s = magpie::as_completed([0u64, 10, 60_000, 60_000].map(|ms| {
                    let t = drops.track();
                    async move {
                        let _t = t;
                        magpie::time::sleep(Duration::from_millis(ms)).await;
                        ms
                    }
                }))
                .timeout(Duration::from_millis(150));
                assert_eq!(s.next().await, Some(Ok(0)), "{name}");
                assert_eq!(s.next().await, Some(Ok(10)), "{name}");
                let timed_out = s.next().await;
                let waited = start.elapsed();
                assert!(matches!(timed_out, Some(Err(_))), "{name}: {timed_out:?}");
                assert!(waited >= Duration::from_millis(150), "{name}: {waited:?}");
                assert!(waited < Duration::from_secs(10), "{name}: {waited:?}");
                assert_eq!(s.next().await, None, "{name}");
                // The two long children were aborted at the deadline.
                until(|| drops.count() == 4).await;
            });
        }
    });
}

#[test]
fn a_timeout_that_does_not_expire_changes_nothing() {
    for (name, rt) in flavors() {
        let outs = rt.block_on(async {
            let mut s = magpie::as_completed((0..5u64).map(|i| async move { i }))
                .timeout(Duration::from_secs(30));
            let mut outs = Vec::new();
            while let Some(out) = s.next().await {
                outs.push(out.unwrap());
            }
            outs.sort();
            outs
        });
        assert_eq!(outs, [0, 1, 2, 3, 4], "{name}");
    }
}
