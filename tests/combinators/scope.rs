//! `TaskGroup::scope`: the structured form in which a child's failure also cancels the
//! group's body (asyncio's `async with TaskGroup()`), on both runtime flavours.
use crate::support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use magpie::TaskGroup;
use support::{flavors, DropCounter};

#[test]
fn child_failing_at_10ms_cancels_a_body_sleeping_1500ms() {
    for (name, rt) in flavors() {
        let body_dropped = DropCounter::default();
        let sibling_dropped = DropCounter::default();
        let body_finished = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let result = rt.block_on({
            let (body_tracked, sibling_tracked) = (body_dropped.track(), sibling_dropped.track());
            let body_finished = body_finished.clone();
            TaskGroup::scope(move |tg| async move {
                let _t = body_tracked;
                tg.spawn(async {
                    magpie::time::sleep(Duration::from_millis(10)).await;
                    Err::<(), _>("child failed at 10 ms")
                });
                tg.spawn(async move {
                    let _t = sibling_tracked;
                    std::future::pending::<Result<(), &str>>().await
                });
                magpie::time::sleep(Duration::from_millis(1500)).await;
                body_finished.store(true, Ordering::SeqCst);
                Ok("the body's value")
            })
        });
        let elapsed = started.elapsed();
        let err = result.unwrap_err();
        assert_eq!(err.errors(), ["child failed at 10 ms"], "{name}");
        assert!(
            !body_finished.load(Ordering::SeqCst),
            "{name}: the body ran on"
        );
        assert_eq!(body_dropped.count(), 1, "{name}: the body was dropped");
        assert_eq!(
            sibling_dropped.count(),
            1,
            "{name}: the sibling was aborted"
        );
        assert!(
            elapsed < Duration::from_millis(1000),
            "{name}: the scope waited for the body's sleep ({elapsed:?})"
        );
    }
}

#[test]
fn body_error_cancels_the_children_and_is_the_groups_error() {
    for (name, rt) in flavors() {
        let children_dropped = DropCounter::default();
        let result: Result<(), _> = rt.block_on({
            let tracked = [children_dropped.track(), children_dropped.track()];
            TaskGroup::scope(move |tg| async move {
                for t in tracked {
                    tg.spawn(async move {
                        let _t = t;
                        std::future::pending::<Result<(), String>>().await
                    });
                }
                magpie::yield_now().await;
                Err("the body failed".to_string())
            })
        });
        let err = result.unwrap_err();
        assert_eq!(err.errors(), ["the body failed".to_string()], "{name}");
        assert_eq!(
            children_dropped.count(),
            2,
            "{name}: every child was aborted and dropped before the scope returned"
        );
    }
}

#[test]
fn success_returns_the_bodys_value_after_every_child() {
    for (name, rt) in flavors() {
        let finished = Arc::new(AtomicUsize::new(0));
        let value = rt.block_on({
            let finished = finished.clone();
            TaskGroup::scope(move |tg| async move {
                let first = tg.spawn(async { Ok::<_, ()>(40) });
                for _ in 0..3 {
                    let finished = finished.clone();
                    tg.spawn(async move {
                        magpie::time::sleep(Duration::from_millis(5)).await;
                        finished.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    });
                }
                Ok(first.await.unwrap() + 2)
            })
        });
        assert_eq!(value.unwrap(), 42, "{name}");
        assert_eq!(
            finished.load(Ordering::SeqCst),
            3,
            "{name}: the scope waited for the children the body did not await"
        );
    }
}

#[test]
fn a_late_child_failure_after_the_body_returned_is_still_reported() {
    for (name, rt) in flavors() {
        let result = rt.block_on(TaskGroup::scope(|tg| async move {
            tg.spawn(async {
                magpie::time::sleep(Duration::from_millis(5)).await;
                Err::<(), _>("late")
            });
            Ok(1)
        }));
        assert_eq!(result.unwrap_err().errors(), ["late"], "{name}");
    }
}

#[test]
fn a_child_panic_cancels_the_body_and_is_resumed_after_every_child() {
    for (name, rt) in flavors() {
        let sibling_dropped = DropCounter::default();
        let body_finished = Arc::new(AtomicBool::new(false));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let tracked = sibling_dropped.track();
            let body_finished = body_finished.clone();
            rt.block_on(TaskGroup::scope(move |tg| async move {
                tg.spawn::<_, ()>(async { panic!("child panicked") });
                tg.spawn(async move {
                    let _t = tracked;
                    std::future::pending::<Result<(), ()>>().await
                });
                magpie::time::sleep(Duration::from_secs(3600)).await;
                body_finished.store(true, Ordering::SeqCst);
                Ok(())
            }))
        }));
        let payload = outcome.unwrap_err();
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"child panicked"),
            "{name}"
        );
        assert!(!body_finished.load(Ordering::SeqCst), "{name}");
        assert_eq!(sibling_dropped.count(), 1, "{name}");
    }
}

#[test]
fn cancel_from_the_body_stops_the_children_not_the_body() {
    for (name, rt) in flavors() {
        let result = rt.block_on(TaskGroup::scope(|tg| async move {
            let forever = tg.spawn(std::future::pending::<Result<(), ()>>());
            tg.cancel();
            assert_eq!(forever.await, None);
            Ok("body ran to the end")
        }));
        assert_eq!(result.unwrap(), "body ran to the end", "{name}");
    }
}

#[test]
fn dropping_the_scope_aborts_its_children() {
    for (name, rt) in flavors() {
        let children_dropped = DropCounter::default();
        let started = Arc::new(AtomicBool::new(false));
        rt.block_on({
            let tracked = children_dropped.track();
            let started = started.clone();
            let children_dropped = children_dropped.clone();
            async move {
                let scope = TaskGroup::scope(move |tg| async move {
                    tg.spawn(async move {
                        let _t = tracked;
                        std::future::pending::<Result<(), ()>>().await
                    });
                    started.store(true, Ordering::SeqCst);
                    std::future::pending::<Result<(), ()>>().await
                });
                let r = magpie::time::timeout(Duration::from_millis(20), scope).await;
                assert!(r.is_err());
                let deadline = Instant::now() + Duration::from_secs(5);
                while children_dropped.count() == 0 && Instant::now() < deadline {
                    magpie::time::sleep(Duration::from_millis(1)).await;
                }
            }
        });
        assert!(started.load(Ordering::SeqCst), "{name}");
        assert_eq!(
            children_dropped.count(),
            1,
            "{name}: the child outlived its scope"
        );
    }
}

#[test]
fn groups_created_in_the_body_are_nested_in_the_scope() {
    // The body drops its own group without joining it (which aborts the grandchild): the
    // scope still returns only after the grandchild's future has been dropped.
    for (name, rt) in flavors() {
        let grandchild_dropped = DropCounter::default();
        let result = rt.block_on({
            let tracked = grandchild_dropped.track();
            TaskGroup::scope(move |_tg| async move {
                let inner = TaskGroup::<()>::new();
                let started = inner.handle();
                inner.spawn(async move {
                    let _t = tracked;
                    std::future::pending::<Result<(), ()>>().await
                });
                assert!(started.is_open());
                magpie::yield_now().await;
                drop(inner);
                Ok::<_, ()>(())
            })
        });
        result.unwrap();
        assert_eq!(
            grandchild_dropped.count(),
            1,
            "{name}: a grandchild outlived the scope"
        );
    }
}

#[test]
fn a_scope_is_send_and_runs_inside_a_spawned_task_and_a_group_child() {
    fn assert_send<T: Send>(t: T) -> T {
        t
    }
    for (name, rt) in flavors() {
        let (in_task, in_child) = rt.block_on(async {
            let in_task = magpie::spawn(assert_send(TaskGroup::scope(|tg| async move {
                tg.spawn(async { Err::<(), _>("child") });
                std::future::pending::<Result<(), &str>>().await
            })))
            .await
            .unwrap();
            let outer = TaskGroup::<&str>::new();
            let child = outer.spawn(async {
                TaskGroup::scope(|tg| async move {
                    let v = tg.spawn(async { Ok::<_, &str>(3) });
                    Ok(v.await.unwrap() * 2)
                })
                .await
                .map_err(|_| "inner scope failed")
            });
            outer.join().await.unwrap();
            (in_task, child.await)
        });
        assert_eq!(in_task.unwrap_err().errors(), ["child"], "{name}");
        assert_eq!(in_child, Some(6), "{name}");
    }
}
