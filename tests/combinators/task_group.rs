//! TaskGroup: every failure mode, cancellation, nesting, siblings spawned by children, and
//! "no child outlives its group", with drop counters, on both runtime flavours.
//!
//! Longer than 600 lines on purpose: one subject (the group's state, nesting and
//! cancellation rules, `combinators/src/task_group/`) checked case by case on both flavours
//! through the same helpers; split, each part would re-declare them.

use crate::support;

use std::future::pending;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use magpie::TaskGroup;
use support::{flavors, within, DropCounter, Signal};

async fn until(cond: impl Fn() -> bool) {
    while !cond() {
        magpie::yield_now().await;
    }
}

/// A child that counts its start and waits forever, holding a drop-counted value.
fn stuck_child<E>(
    drops: &DropCounter,
    started: &Arc<AtomicUsize>,
) -> impl std::future::Future<Output = Result<(), E>> + Send + 'static {
    let tracked = drops.track();
    let started = started.clone();
    async move {
        let _tracked = tracked;
        started.fetch_add(1, Ordering::SeqCst);
        pending::<()>().await;
        unreachable!()
    }
}

#[test]
fn join_waits_for_every_child_and_gives_their_values() {
    within(30, "join_waits_for_every_child", || {
        for (name, rt) in flavors() {
            let drops = DropCounter::default();
            rt.block_on(async {
                let tg = TaskGroup::<String>::new();
                let handles: Vec<_> = (0..20u32)
                    .map(|i| {
                        let tracked = drops.track();
                        tg.spawn(async move {
                            let _tracked = tracked;
                            for _ in 0..i % 4 {
                                magpie::yield_now().await;
                            }
                            Ok(i * 2)
                        })
                    })
                    .collect();
                tg.join().await.unwrap();
                // join returned: every child's future has been dropped.
                assert_eq!(drops.count(), 20, "{name}");
                for (i, h) in handles.into_iter().enumerate() {
                    assert_eq!(h.await, Some(i as u32 * 2), "{name}");
                }
            });
        }
    });
}

#[test]
fn the_first_err_cancels_every_sibling_before_join_returns() {
    within(30, "first_err_cancels_siblings", || {
        for (name, rt) in flavors() {
            const SIBLINGS: usize = 10;
            let drops = DropCounter::default();
            let started = Arc::new(AtomicUsize::new(0));
            let go = Signal::new();
            let err = rt.block_on(async {
                let tg = TaskGroup::new();
                for _ in 0..SIBLINGS {
                    tg.spawn(stuck_child(&drops, &started));
                }
                let go2 = go.clone();
                let failing = drops.track();
                tg.spawn(async move {
                    let _failing = failing;
                    go2.wait().await;
                    Err::<(), _>("Failed to process item 3")
                });
                until(|| started.load(Ordering::SeqCst) == SIBLINGS).await;
                assert!(tg.is_open());
                go.set();
                let err = tg.join().await.unwrap_err();
                // No waiting: join itself guarantees every child future is gone.
                assert_eq!(
                    drops.count(),
                    SIBLINGS + 1,
                    "{name}: nothing outlived the group"
                );
                err
            });
            assert_eq!(err.errors(), ["Failed to process item 3"], "{name}");
            assert_eq!(
                err.to_string(),
                "a task group child failed: Failed to process item 3"
            );
        }
    });
}

/// Two children fail in the same instant on two workers: the group holds both errors.
#[test]
fn join_reports_every_failure() {
    within(30, "join_reports_every_failure", || {
        let rt = magpie::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let err = rt.block_on(async {
            let tg = TaskGroup::new();
            let barrier = Arc::new(std::sync::Barrier::new(2));
            for i in 0..2 {
                let barrier = barrier.clone();
                // Each blocks its worker until both are inside their poll, then both fail
                // in that same poll: neither can be aborted first.
                tg.spawn(async move {
                    barrier.wait();
                    Err::<(), _>(i)
                });
            }
            tg.join().await.unwrap_err()
        });
        let mut errors = err.into_errors();
        errors.sort();
        assert_eq!(errors, [0, 1]);
    });
}

#[test]
fn a_child_panic_cancels_siblings_and_is_resumed_after_they_are_gone() {
    within(30, "child_panic", || {
        for (name, rt) in flavors() {
            const SIBLINGS: usize = 5;
            let drops = DropCounter::default();
            let started = Arc::new(AtomicUsize::new(0));
            let dropped_when_resumed = Arc::new(AtomicUsize::new(usize::MAX));
            let err = rt.block_on(async {
                let tg = TaskGroup::<()>::new();
                for _ in 0..SIBLINGS {
                    tg.spawn(stuck_child(&drops, &started));
                }
                let started2 = started.clone();
                tg.spawn(async move {
                    until(|| started2.load(Ordering::SeqCst) == SIBLINGS).await;
                    if started2.load(Ordering::SeqCst) == SIBLINGS {
                        panic!("child panicked");
                    }
                    Ok(())
                });
                // Records how many siblings were gone when the panic came out of join.
                struct OnUnwind(DropCounter, Arc<AtomicUsize>);
                impl Drop for OnUnwind {
                    fn drop(&mut self) {
                        if std::thread::panicking() {
                            self.1.store(self.0.count(), Ordering::SeqCst);
                        }
                    }
                }
                let probe = OnUnwind(drops.clone(), dropped_when_resumed.clone());
                magpie::spawn(async move {
                    let _probe = probe;
                    tg.join().await
                })
                .await
                .unwrap_err()
            });
            assert!(err.is_panic(), "{name}");
            assert_eq!(
                *err.into_panic().downcast::<&str>().unwrap(),
                "child panicked",
                "{name}"
            );
            assert_eq!(
                dropped_when_resumed.load(Ordering::SeqCst),
                SIBLINGS,
                "{name}: the panic was resumed only after every sibling was dropped"
            );
        }
    });
}

#[test]
fn a_failed_group_refuses_new_children() {
    within(30, "failed_group_refuses", || {
        for (name, rt) in flavors() {
            rt.block_on(async {
                let tg = TaskGroup::new();
                let handle = tg.handle();
                let failed = tg.spawn(async { Err::<u8, _>("boom") });
                assert_eq!(failed.await, None, "{name}: a failed child has no value");
                until(|| !tg.is_open()).await;
                let polled = Arc::new(AtomicBool::new(false));
                let p = polled.clone();
                let refused = tg.try_spawn(async move {
                    p.store(true, Ordering::SeqCst);
                    Ok(1)
                });
                assert!(refused.is_err(), "{name}");
                let p = polled.clone();
                let refused = handle.spawn(async move {
                    p.store(true, Ordering::SeqCst);
                    Ok(2)
                });
                assert_eq!(refused.await, None, "{name}");
                assert_eq!(tg.join().await.unwrap_err().errors(), ["boom"], "{name}");
                assert!(
                    !polled.load(Ordering::SeqCst),
                    "{name}: refused futures never run"
                );
            });
        }
    });
}

#[test]
fn dropping_the_group_cancels_its_children() {
    within(30, "dropping_the_group", || {
        for (name, rt) in flavors() {
            const N: usize = 8;
            let drops = DropCounter::default();
            let started = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let tg = TaskGroup::<()>::new();
                let handle = tg.handle();
                for _ in 0..N {
                    tg.spawn(stuck_child(&drops, &started));
                }
                until(|| started.load(Ordering::SeqCst) == N).await;
                drop(tg);
                // Drop cannot wait; each child is dropped at its next scheduling point.
                until(|| drops.count() == N).await;
                assert!(handle.try_spawn(async { Ok(()) }).is_err(), "{name}");
            });
            assert_eq!(drops.count(), N, "{name}");
        }
    });
}

#[test]
fn cancelling_the_task_awaiting_join_cancels_the_children() {
    within(30, "cancel_join_awaiter", || {
        for (name, rt) in flavors() {
            const N: usize = 6;
            let drops = DropCounter::default();
            let started = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let (d, s) = (drops.clone(), started.clone());
                let awaiter = magpie::spawn(async move {
                    let tg = TaskGroup::<()>::new();
                    for _ in 0..N {
                        tg.spawn(stuck_child(&d, &s));
                    }
                    tg.join().await
                });
                until(|| started.load(Ordering::SeqCst) == N).await;
                awaiter.abort();
                assert!(awaiter.await.unwrap_err().is_cancelled(), "{name}");
                until(|| drops.count() == N).await;
            });
            assert_eq!(drops.count(), N, "{name}");
        }
    });
}

#[test]
fn cancel_ends_the_group_early_without_error() {
    within(30, "cancel", || {
        for (name, rt) in flavors() {
            const N: usize = 7;
            let drops = DropCounter::default();
            let started = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let tg = TaskGroup::<String>::new();
                let handles: Vec<_> = (0..N)
                    .map(|_| tg.spawn(stuck_child::<String>(&drops, &started)))
                    .collect();
                until(|| started.load(Ordering::SeqCst) == N).await;
                tg.cancel();
                assert!(!tg.is_open(), "{name}");
                assert!(tg.join().await.is_ok(), "{name}");
                assert_eq!(drops.count(), N, "{name}: join waited for every child");
                for h in handles {
                    assert_eq!(h.await, None, "{name}");
                }
            });
        }
    });
}

/// Children aborted before their first poll still count as gone only once dropped.
#[test]
fn cancel_before_children_ever_ran() {
    within(30, "cancel_before_first_poll", || {
        for (name, rt) in flavors() {
            const N: usize = 100;
            let drops = DropCounter::default();
            let polled = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let tg = TaskGroup::<()>::new();
                for _ in 0..N {
                    tg.spawn(stuck_child(&drops, &polled));
                }
                tg.cancel();
                tg.join().await.unwrap();
                assert_eq!(drops.count(), N, "{name}");
            });
        }
    });
}

#[test]
fn a_child_can_cancel_its_own_group() {
    within(30, "child_cancels_group", || {
        for (name, rt) in flavors() {
            let drops = DropCounter::default();
            let started = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let tg = TaskGroup::<()>::new();
                for _ in 0..3 {
                    tg.spawn(stuck_child(&drops, &started));
                }
                let handle = tg.handle();
                let s = started.clone();
                tg.spawn(async move {
                    until(|| s.load(Ordering::SeqCst) == 3).await;
                    handle.cancel();
                    Ok(())
                });
                assert!(tg.join().await.is_ok(), "{name}");
                assert_eq!(drops.count(), 3, "{name}");
            });
        }
    });
}

#[test]
fn children_spawn_siblings_through_a_handle() {
    within(30, "children_spawn_siblings", || {
        for (name, rt) in flavors() {
            let count = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let tg = TaskGroup::<()>::new();
                let handle = tg.handle();
                let c = count.clone();
                // Each level spawns two more, four levels deep: 1 + 2 + 4 + 8 + 16 children.
                fn spawn_tree(
                    handle: magpie::GroupHandle<()>,
                    count: Arc<AtomicUsize>,
                    depth: u32,
                ) {
                    let h2 = handle.clone();
                    handle.spawn(async move {
                        magpie::yield_now().await;
                        count.fetch_add(1, Ordering::SeqCst);
                        if depth > 0 {
                            spawn_tree(h2.clone(), count.clone(), depth - 1);
                            spawn_tree(h2, count, depth - 1);
                        }
                        Ok(())
                    });
                }
                spawn_tree(handle, c, 4);
                tg.join().await.unwrap();
                assert_eq!(
                    count.load(Ordering::SeqCst),
                    31,
                    "{name}: join waited for siblings spawned while it waited"
                );
            });
        }
    });
}

#[test]
fn a_joined_group_refuses_children() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let tg = TaskGroup::<()>::new();
            let handle = tg.handle();
            tg.spawn(async { Ok(()) });
            tg.join().await.unwrap();
            assert!(!handle.is_open(), "{name}");
            let refused = handle.try_spawn(async { Ok(1) }).unwrap_err();
            assert_eq!(
                refused.into_future().await,
                Ok(1),
                "{name}: the future comes back unpolled"
            );
        });
    }
}

/// An inner group fails; the outer child turns that into its own failure, which aborts the
/// outer sibling that was running a group of its own. The outer join returns only once the
/// grandchildren of that aborted sibling are gone too.
#[test]
fn nested_groups() {
    within(30, "nested_groups", || {
        for (name, rt) in flavors() {
            let drops = DropCounter::default();
            let started = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let outer = TaskGroup::<String>::new();
                // Outer child A: an inner group whose children wait forever; it is
                // aborted when B fails.
                let (d, s) = (drops.clone(), started.clone());
                outer.spawn(async move {
                    let inner = TaskGroup::<String>::new();
                    for _ in 0..4 {
                        inner.spawn(stuck_child(&d, &s));
                    }
                    inner.join().await.map_err(|e| e.to_string())
                });
                // Outer child B: an inner group with one failing child.
                let (d, s) = (drops.clone(), started.clone());
                outer.spawn(async move {
                    until(|| s.load(Ordering::SeqCst) == 4).await;
                    let inner = TaskGroup::<String>::new();
                    inner.spawn(stuck_child(&d, &s));
                    inner.spawn(async { Err::<(), _>("inner failure".to_string()) });
                    let err = inner.join().await.unwrap_err();
                    // The inner join already guaranteed its children are gone.
                    assert_eq!(d.count(), 1);
                    Err::<(), _>(format!("B: {err}"))
                });
                let err = outer.join().await.unwrap_err();
                assert_eq!(
                    err.errors(),
                    ["B: a task group child failed: inner failure"],
                    "{name}"
                );
                // A's inner group was dropped with A, which aborted its four children; the
                // outer join waited for them.
                assert_eq!(
                    drops.count(),
                    5,
                    "{name}: no grandchild outlived the outer join"
                );
            });
        }
    });
}

/// Three levels; the outermost group is dropped (not joined) while every level is busy.
/// Its drop cannot wait, but every descendant goes promptly.
#[test]
fn dropping_an_outer_group_reaches_every_level() {
    within(30, "nested_drop", || {
        for (name, rt) in flavors() {
            let drops = DropCounter::default();
            let started = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let outer = TaskGroup::<()>::new();
                for _ in 0..2 {
                    let (d, s) = (drops.clone(), started.clone());
                    outer.spawn(async move {
                        let middle = TaskGroup::<()>::new();
                        for _ in 0..2 {
                            let (d, s) = (d.clone(), s.clone());
                            middle.spawn(async move {
                                let inner = TaskGroup::<()>::new();
                                for _ in 0..2 {
                                    inner.spawn(stuck_child(&d, &s));
                                }
                                inner.join().await.map_err(|_| ())
                            });
                        }
                        middle.join().await.map_err(|_| ())
                    });
                }
                until(|| started.load(Ordering::SeqCst) == 8).await;
                drop(outer);
                until(|| drops.count() == 8).await;
            });
            assert_eq!(drops.count(), 8, "{name}");
        }
    });
}

/// A group created inside a child but moved out to another task still belongs to the
/// outer group: the outer join waits for it.
#[test]
fn a_nested_group_keeps_the_outer_join_waiting_until_it_is_done() {
    within(30, "nested_hold", || {
        for (name, rt) in flavors() {
            let finished = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let outer = TaskGroup::<()>::new();
                let go = Signal::new();
                let (f, g) = (finished.clone(), go.clone());
                outer.spawn(async move {
                    let inner = TaskGroup::<()>::new();
                    let f2 = f.clone();
                    inner.spawn(async move {
                        g.wait().await;
                        f2.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    });
                    // Hand the inner group to a detached task and return at once.
                    drop(magpie::spawn(async move { inner.join().await }));
                    Ok(())
                });
                let (f, g) = (finished.clone(), go.clone());
                let joiner = magpie::spawn(async move {
                    outer.join().await.unwrap();
                    // The inner group's child had finished before the outer join returned.
                    f.load(Ordering::SeqCst)
                });
                for _ in 0..50 {
                    magpie::yield_now().await;
                }
                assert!(
                    !joiner.is_finished(),
                    "{name}: the outer join waits for the nested group"
                );
                g.set();
                assert_eq!(joiner.await.unwrap(), 1, "{name}");
            });
        }
    });
}

/// asyncio's `task.cancel()` on one task of a group: that child goes, the group carries on.
#[test]
fn aborting_one_child_is_not_a_failure() {
    within(30, "abort_one_child", || {
        for (name, rt) in flavors() {
            let drops = DropCounter::default();
            let started = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let tg = TaskGroup::<String>::new();
                let stuck = tg.spawn(stuck_child::<String>(&drops, &started));
                let go = Signal::new();
                let g = go.clone();
                let sibling = tg.spawn(async move {
                    g.wait().await;
                    Ok("sibling done")
                });
                until(|| started.load(Ordering::SeqCst) == 1).await;
                stuck.abort();
                stuck.abort(); // twice is harmless
                until(|| drops.count() == 1).await;
                assert!(tg.is_open(), "{name}: a cancelled child is not a failure");
                // The group still takes children, and the sibling still runs.
                let late = tg.spawn(async { Ok("late") });
                go.set();
                tg.join().await.unwrap();
                assert_eq!(stuck.await, None, "{name}");
                assert_eq!(sibling.await, Some("sibling done"), "{name}");
                assert_eq!(late.await, Some("late"), "{name}");
            });
        }
    });
}

#[test]
fn aborting_a_finished_or_refused_child_changes_nothing() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let tg = TaskGroup::<()>::new();
            let done = tg.spawn(async { Ok(5) });
            until(|| tg.is_empty()).await;
            done.abort();
            assert_eq!(done.await, Some(5), "{name}: the value stays");
            tg.cancel();
            let refused = tg.spawn(async { Ok(6) });
            refused.abort();
            assert_eq!(refused.await, None, "{name}");
            tg.join().await.unwrap();
        });
    }
}

#[test]
fn task_group_types_are_debug() {
    let rt = magpie::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let tg = TaskGroup::<()>::new();
        let h = tg.spawn(async { Ok(1) });
        assert!(format!("{tg:?}").contains("TaskGroup"));
        assert!(format!("{:?}", tg.handle()).contains("GroupHandle"));
        assert!(format!("{h:?}").contains("ChildHandle"));
        let join = tg.join();
        assert!(format!("{join:?}").contains("GroupJoin"));
        join.await.unwrap();
    });
}

/// `cancel_token()`: a child in the middle of a long poll sees the token cancelled by a
/// sibling's failure and stops cooperatively (the abort alone could only land after that
/// poll returned, which it never would).
#[test]
fn cancel_token_is_cancelled_on_the_first_failure_so_a_running_child_can_stop() {
    within(30, "cancel_token_first_failure", || {
        let rt = magpie::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let stopped = Arc::new(AtomicBool::new(false));
        let err = rt.block_on(async {
            let tg = TaskGroup::<&str>::new();
            // Parked in the timer while the spinner holds a worker; the idle worker runs it.
            tg.spawn(async {
                magpie::time::sleep(std::time::Duration::from_millis(20)).await;
                Err::<(), _>("item 3 failed")
            });
            let token = tg.cancel_token();
            let stopped2 = stopped.clone();
            tg.spawn(async move {
                // One poll that only ends when the token says so (bounded, so a regression
                // fails instead of spinning forever).
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                while !token.is_cancelled() {
                    if std::time::Instant::now() > deadline {
                        return Err("the token was never cancelled");
                    }
                    std::hint::spin_loop();
                }
                stopped2.store(true, Ordering::SeqCst);
                Ok(())
            });
            tg.join().await.unwrap_err()
        });
        assert!(stopped.load(Ordering::SeqCst));
        assert_eq!(err.errors(), ["item 3 failed"]);
    });
}

#[test]
fn cancel_token_is_cancelled_by_cancel_and_by_drop_but_not_by_a_successful_join() {
    within(30, "cancel_token_stops", || {
        for (name, rt) in flavors() {
            rt.block_on(async {
                // A successful join leaves it alone.
                let tg = TaskGroup::<()>::new();
                let token = tg.cancel_token();
                tg.spawn(async { Ok(()) });
                tg.join().await.unwrap();
                assert!(!token.is_cancelled(), "{name}: join cancelled the token");

                // cancel() cancels it and wakes a child waiting on it.
                let tg = TaskGroup::<()>::new();
                let token = tg.cancel_token();
                let child_token = token.child_token();
                tg.spawn(async move {
                    token.cancelled().await;
                    Ok(())
                });
                magpie::yield_now().await;
                tg.cancel();
                assert!(
                    child_token.is_cancelled(),
                    "{name}: cancel() did not cancel"
                );
                tg.join().await.unwrap();

                // Dropping the group unjoined cancels it.
                let tg = TaskGroup::<()>::new();
                let token = tg.cancel_token();
                drop(tg);
                assert!(token.is_cancelled(), "{name}: drop did not cancel");
            });
        }
    });
}

#[test]
fn cancel_token_asked_for_after_the_group_failed_is_already_cancelled() {
    within(30, "cancel_token_late", || {
        for (name, rt) in flavors() {
            rt.block_on(async {
                let tg = TaskGroup::<&str>::new();
                let early = tg.cancel_token();
                tg.spawn(async { Err::<(), _>("boom") });
                until(|| !tg.is_open()).await;
                let late = tg.cancel_token();
                assert!(early.is_cancelled(), "{name}");
                assert!(
                    late.is_cancelled(),
                    "{name}: a late token missed the failure"
                );
                // One token: cancelling through a handle's clone is the same token.
                assert!(tg.handle().cancel_token().is_cancelled(), "{name}");
                assert_eq!(tg.join().await.unwrap_err().errors(), ["boom"], "{name}");
            });
        }
    });
}
