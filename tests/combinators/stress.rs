//! Stress shapes for the combinators on two workers: many groups whose children race a
//! failure while spawning siblings, nested groups torn down mid-flight, and gathers
//! dropped mid-flight. Every future ever created is counted at creation and at drop: none
//! may be left once the group has joined (or, for drops, promptly after).

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use magpie::TaskGroup;
use support::{within, DropCounter};

async fn until(cond: impl Fn() -> bool) {
    while !cond() {
        magpie::yield_now().await;
    }
}

/// A tiny deterministic generator, so a failure reproduces from its round number.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

fn rounds(n: usize) -> usize {
    if cfg!(debug_assertions) {
        n
    } else {
        n * 4
    }
}

/// Children keep spawning siblings through a handle while one of them fails: spawns
/// race the group's stop (rule G2). Every accepted child's future is gone when join
/// returns; refused ones were never polled.
#[test]
fn spawn_races_failure() {
    within(120, "spawn_races_failure", || {
        let rt = magpie::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        for round in 0..rounds(200) {
            let created = Arc::new(AtomicUsize::new(0));
            let drops = DropCounter::default();
            let err = rt.block_on(async {
                let tg = TaskGroup::<u64>::new();
                let handle = tg.handle();
                let fail_at = mix(round as u64) % 40;
                for spawner in 0..4u64 {
                    let (h, c, d) = (handle.clone(), created.clone(), drops.clone());
                    tg.spawn(async move {
                        for i in 0..40u64 {
                            if spawner == 0 && i == fail_at {
                                return Err(round as u64);
                            }
                            let t = d.track();
                            c.fetch_add(1, Ordering::SeqCst);
                            let yields = mix(i ^ spawner) % 3;
                            h.spawn(async move {
                                let _t = t;
                                for _ in 0..yields {
                                    magpie::yield_now().await;
                                }
                                Ok(())
                            });
                            magpie::yield_now().await;
                        }
                        Ok(())
                    });
                }
                drop(handle);
                tg.join().await.unwrap_err()
            });
            assert_eq!(err.errors(), [round as u64], "round {round}");
            assert_eq!(
                drops.count(),
                created.load(Ordering::SeqCst),
                "round {round}: every child future created was dropped by the time join returned"
            );
        }
    });
}

/// Three levels of groups; a random leaf fails (or none does). The outer join returns only
/// once every leaf, at every level, has been dropped.
#[test]
fn nested_teardown() {
    within(120, "nested_teardown", || {
        let rt = magpie::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        for round in 0..rounds(100) {
            let drops = DropCounter::default();
            let created = Arc::new(AtomicUsize::new(0));
            let failing_leaf = mix(round as u64 + 7) % 40; // 27 leaves: sometimes none fails
            let result = rt.block_on(async {
                let outer = TaskGroup::<String>::new();
                for a in 0..3u64 {
                    let (d, c) = (drops.clone(), created.clone());
                    outer.spawn(async move {
                        let middle = TaskGroup::<String>::new();
                        for b in 0..3u64 {
                            let (d, c) = (d.clone(), c.clone());
                            middle.spawn(async move {
                                let inner = TaskGroup::<String>::new();
                                for leaf in 0..3u64 {
                                    let id = a * 9 + b * 3 + leaf;
                                    let t = d.track();
                                    c.fetch_add(1, Ordering::SeqCst);
                                    inner.spawn(async move {
                                        let _t = t;
                                        for _ in 0..mix(id) % 5 {
                                            magpie::yield_now().await;
                                        }
                                        if id == failing_leaf {
                                            return Err(format!("leaf {id}"));
                                        }
                                        Ok(())
                                    });
                                }
                                inner.join().await.map_err(|e| e.to_string())
                            });
                        }
                        middle.join().await.map_err(|e| e.to_string())
                    });
                }
                outer.join().await
            });
            assert_eq!(
                drops.count(),
                created.load(Ordering::SeqCst),
                "round {round}: no leaf outlived the outer join"
            );
            assert_eq!(
                result.is_err(),
                failing_leaf < 27,
                "round {round}: {result:?}"
            );
        }
    });
}

/// Gathers dropped at random points: every child future is dropped promptly.
#[test]
fn gathers_dropped_mid_flight() {
    within(120, "gathers_dropped_mid_flight", || {
        let rt = magpie::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        for round in 0..rounds(200) {
            let drops = DropCounter::default();
            rt.block_on(async {
                let g = magpie::gather((0..32u64).map(|i| {
                    let t = drops.track();
                    async move {
                        let _t = t;
                        for _ in 0..mix(i + round as u64) % 6 {
                            magpie::yield_now().await;
                        }
                        i
                    }
                }));
                for _ in 0..mix(round as u64) % 4 {
                    magpie::yield_now().await;
                }
                drop(g);
                until(|| drops.count() == 32).await;
            });
        }
    });
}
