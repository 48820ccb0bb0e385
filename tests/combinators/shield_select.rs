//! shield, select and race, on both runtime flavours.

use crate::support;

use std::future::{pending, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use magpie::{race, select, shield, Either};
use support::{flavors, within, DropCounter, Signal};

async fn until(cond: impl Fn() -> bool) {
    while !cond() {
        magpie::yield_now().await;
    }
}

#[test]
fn shield_survives_the_callers_cancellation() {
    within(30, "shield_survives_cancellation", || {
        for (name, rt) in flavors() {
            let done = Arc::new(AtomicUsize::new(0));
            let entered = Signal::new();
            let go = Signal::new();
            rt.block_on(async {
                let (d, e, g) = (done.clone(), entered.clone(), go.clone());
                let caller = magpie::spawn(async move {
                    shield(async move {
                        e.set();
                        g.wait().await;
                        d.fetch_add(1, Ordering::SeqCst);
                    })
                    .await;
                    unreachable!("the caller is aborted before the work can finish");
                });
                entered.wait().await;
                caller.abort();
                assert!(caller.await.unwrap_err().is_cancelled(), "{name}");
                // The caller is gone; the work is still waiting, and goes on when released.
                assert_eq!(done.load(Ordering::SeqCst), 0, "{name}");
                go.set();
                until(|| done.load(Ordering::SeqCst) == 1).await;
            });
        }
    });
}

#[test]
fn a_shielded_result_stays_retrievable_after_a_cancelled_await() {
    within(30, "shield_result_retrievable", || {
        for (name, rt) in flavors() {
            rt.block_on(async {
                let go = Signal::new();
                let g = go.clone();
                let mut work = shield(async move {
                    g.wait().await;
                    42
                });
                // The waiting side is cancelled: select drops its `&mut work` branch.
                assert_eq!(
                    select(&mut work, async { "gave up" }).await,
                    Either::Right("gave up")
                );
                assert!(!work.is_finished(), "{name}");
                go.set();
                assert_eq!(work.await, 42, "{name}");
            });
        }
    });
}

#[test]
fn a_shielded_panic_is_resumed_in_the_awaiter() {
    for (name, rt) in flavors() {
        let err = rt.block_on(async {
            magpie::spawn(async { shield(async { panic!("shielded boom") }).await })
                .await
                .unwrap_err()
        });
        assert!(err.is_panic(), "{name}");
        assert_eq!(
            *err.into_panic().downcast::<&str>().unwrap(),
            "shielded boom"
        );
    }
}

#[test]
fn shield_called_outside_a_runtime_runs_on_first_poll() {
    for (name, rt) in flavors() {
        let s = shield(async { 7 });
        assert!(!s.is_finished(), "{name}: not spawned yet");
        assert_eq!(rt.block_on(s), 7, "{name}");
    }
}

#[test]
fn select_returns_the_first_and_drops_the_other() {
    for (name, rt) in flavors() {
        let drops = DropCounter::default();
        rt.block_on(async {
            let t = drops.track();
            let loser = async move {
                let _t = t;
                pending::<u8>().await
            };
            let go = Signal::new();
            let g = go.clone();
            let winner = async move {
                g.wait().await;
                "winner"
            };
            go.set();
            let out = select(loser, winner).await;
            assert_eq!(out, Either::Right("winner"), "{name}");
            assert_eq!(drops.count(), 1, "{name}: the loser was dropped");
        });
    }
}

#[test]
fn select_prefers_the_left_when_both_are_ready() {
    for (name, rt) in flavors() {
        let out = rt.block_on(select(async { 1 }, async { 2 }));
        assert_eq!(out, Either::Left(1), "{name}");
    }
}

#[test]
fn race_returns_the_first_and_drops_the_rest() {
    within(30, "race", || {
        for (name, rt) in flavors() {
            let drops = DropCounter::default();
            let polls = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let go = Signal::new();
                let futs: Vec<Pin<Box<dyn Future<Output = usize> + Send>>> = (0..5usize)
                    .map(|i| {
                        let t = drops.track();
                        let go = go.clone();
                        let polls = polls.clone();
                        Box::pin(async move {
                            let _t = t;
                            polls.fetch_add(1, Ordering::SeqCst);
                            if i == 3 {
                                go.wait().await;
                                return i * 100;
                            }
                            pending().await
                        }) as Pin<Box<dyn Future<Output = usize> + Send>>
                    })
                    .collect();
                let racing = magpie::spawn(race(futs));
                until(|| polls.load(Ordering::SeqCst) == 5).await;
                go.set();
                assert_eq!(racing.await.unwrap(), (3, 300), "{name}");
                assert_eq!(drops.count(), 5, "{name}: every future was dropped");
            });
        }
    });
}

#[test]
#[should_panic(expected = "race called with no futures")]
fn race_of_nothing_panics() {
    let rt = magpie::Builder::new_current_thread().build().unwrap();
    rt.block_on(race(Vec::<std::future::Ready<()>>::new()));
}
