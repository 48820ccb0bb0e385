//! Unit tests of the task system's unsafe paths, small enough for miri: the header borrowed
//! by the future (rule 1), the handle's header pointer (rule JH1), the worker and driver
//! thread-local pointers, abort, panic capture and shutdown of parked tasks, the abort
//! handle's header pointer (rule 5) and `unconstrained`'s pin projection; and the local
//! tasks' `spawn_unchecked` of `!Send` futures (rules TASK-1 and LOCAL-1 to LOCAL-4):
//! spawned, woken from another thread, aborted from another thread, and dropped by the
//! set's drop, all on the set's thread.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::{Builder, Runtime};

struct CountDrop(Arc<AtomicUsize>);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn runtimes() -> Vec<Runtime> {
    vec![
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
        Builder::new_current_thread().build().unwrap(),
    ]
}

const N: usize = if cfg!(miri) { 20 } else { 1_000 };

#[test]
fn spawn_join_and_nested_local_scheduling() {
    for rt in runtimes() {
        let sum = rt.block_on(async {
            // Spawned from a task: exercises the worker's / driver's local schedule path.
            crate::spawn(async {
                let hs: Vec<_> = (0..N).map(|i| crate::spawn(async move { i })).collect();
                let mut s = 0;
                for h in hs {
                    crate::yield_now().await;
                    s += h.await.unwrap();
                }
                s
            })
            .await
            .unwrap()
        });
        assert_eq!(sum, N * (N - 1) / 2);
    }
}

#[test]
fn handle_outlives_runtime_and_reads_its_header() {
    let rt = Builder::new_current_thread().build().unwrap();
    let h = rt.spawn(async { 1 });
    let id = h.id();
    drop(rt);
    // The header is still readable through the handle (rule JH1).
    assert_eq!(h.id(), id);
    assert!(h.is_finished() || !h.is_finished());
    let other = Builder::new_current_thread().build().unwrap();
    assert!(other.block_on(h).unwrap_err().is_cancelled());
}

#[test]
fn abort_and_panic_drop_the_future_once() {
    for rt in runtimes() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (a, p) = rt.block_on({
            let drops = drops.clone();
            async move {
                let g1 = CountDrop(drops.clone());
                let pending = crate::spawn(async move {
                    let _g = g1;
                    std::future::pending::<()>().await
                });
                crate::yield_now().await;
                pending.abort();
                let g2 = CountDrop(drops.clone());
                let panicking = crate::spawn(async move {
                    let _g = g2;
                    panic!("unit panic")
                });
                (pending.await, panicking.await)
            }
        });
        assert!(a.unwrap_err().is_cancelled());
        assert!(p.unwrap_err().is_panic());
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }
}

#[test]
fn shutdown_drops_parked_and_queued_tasks() {
    for rt in runtimes() {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut kept = Vec::new();
        for i in 0..10 {
            let g = CountDrop(drops.clone());
            let h = rt.spawn(async move {
                let _g = g;
                if i % 2 == 0 {
                    std::future::pending::<()>().await
                }
            });
            if i % 3 == 0 {
                drop(h);
            } else {
                kept.push(h);
            }
        }
        drop(rt);
        assert_eq!(drops.load(Ordering::SeqCst), 10);
        drop(kept);
    }
}

#[test]
fn wakes_from_another_thread() {
    for rt in runtimes() {
        let (tx, rx) = std::sync::mpsc::channel::<std::task::Waker>();
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let waker_thread = std::thread::spawn({
            let flag = flag.clone();
            move || {
                let w = rx.recv().unwrap();
                flag.store(true, Ordering::SeqCst);
                w.wake();
            }
        });
        let f2 = flag.clone();
        rt.block_on(async move {
            crate::spawn(std::future::poll_fn(move |cx| {
                if f2.load(Ordering::SeqCst) {
                    std::task::Poll::Ready(())
                } else {
                    let _ = tx.send(cx.waker().clone());
                    std::task::Poll::Pending
                }
            }))
            .await
            .unwrap()
        });
        waker_thread.join().unwrap();
    }
}

#[test]
fn abort_handle_reads_its_header_from_other_threads_and_after_the_runtime() {
    // Rule 5: the abort handle's waker keeps the header alive, even past the runtime.
    let mut handles = Vec::new();
    for rt in runtimes() {
        let drops = Arc::new(AtomicUsize::new(0));
        let abort = rt.block_on({
            let d = CountDrop(drops.clone());
            async move {
                let h = crate::spawn(async move {
                    let _d = d;
                    std::future::pending::<()>().await
                });
                let abort = h.abort_handle();
                let remote = abort.clone();
                std::thread::spawn(move || remote.abort()).join().unwrap();
                assert!(h.await.unwrap_err().is_cancelled());
                assert!(abort.is_finished());
                abort
            }
        });
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        handles.push(abort);
        drop(rt);
    }
    for abort in handles {
        abort.abort(); // the runtime is gone: harmless
        assert!(abort.is_finished());
    }
}

#[test]
fn abort_handle_of_a_task_dropped_at_shutdown() {
    let rt = Builder::new_current_thread().build().unwrap();
    let h = rt.spawn(std::future::pending::<()>());
    let abort = h.abort_handle();
    drop(rt);
    assert!(abort.is_finished());
    assert_eq!(abort.id(), h.id());
}

#[test]
fn unconstrained_and_task_id_inside_a_task() {
    for rt in runtimes() {
        let (id, seen) = rt.block_on(async {
            let h = crate::spawn(super::unconstrained(async {
                for _ in 0..200 {
                    super::consume_budget().await;
                }
                super::try_id()
            }));
            (h.id(), h.await.unwrap())
        });
        assert_eq!(seen, Some(id));
    }
    assert_eq!(super::try_id(), None);
}

/// A `!Send` future (it holds an `Rc`) run as a local task: on a current-thread runtime
/// directly, and inside a `LocalSet` on both flavours; its output and its drop happen on
/// the set's thread (LOCAL-1).
#[test]
fn local_tasks_run_not_send_futures_on_their_own_thread() {
    use std::rc::Rc;
    let rt = Builder::new_current_thread().build().unwrap();
    let sum = rt.block_on(async {
        let shared = Rc::new(std::cell::Cell::new(0));
        let hs: Vec<_> = (0..N)
            .map(|i| {
                let shared = shared.clone();
                super::spawn_local(async move {
                    crate::yield_now().await;
                    shared.set(shared.get() + i);
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        shared.get()
    });
    assert_eq!(sum, N * (N - 1) / 2);

    for rt in runtimes() {
        let set = super::LocalSet::new();
        let owner = std::thread::current().id();
        let out = set.block_on(&rt, async move {
            let rc = Rc::new(7);
            let h = super::spawn_local(async move {
                crate::yield_now().await;
                assert_eq!(std::thread::current().id(), owner);
                *rc * 6
            });
            h.await.unwrap()
        });
        assert_eq!(out, 42);
    }
}

/// A local task parked on a waker that another thread wakes (the remote push into the
/// set's queue), and another aborted from another thread through its `AbortHandle`.
#[test]
fn local_tasks_are_woken_and_aborted_from_other_threads() {
    for rt in runtimes() {
        let set = super::LocalSet::new();
        set.block_on(&rt, async {
            let (tx, rx) = std::sync::mpsc::channel::<std::task::Waker>();
            let mut sent = Some(tx);
            let mut parked = false;
            let woken = super::spawn_local(std::future::poll_fn(move |cx| {
                if parked {
                    return std::task::Poll::Ready(1);
                }
                parked = true;
                sent.take().unwrap().send(cx.waker().clone()).unwrap();
                std::task::Poll::Pending
            }));
            let drops = Arc::new(AtomicUsize::new(0));
            let guard = CountDrop(drops.clone());
            let stuck = super::spawn_local(async move {
                let _guard = guard;
                std::future::pending::<()>().await
            });
            crate::yield_now().await;
            let abort = stuck.abort_handle();
            let waker_thread = std::thread::spawn(move || rx.recv().unwrap().wake());
            let abort_thread = std::thread::spawn(move || abort.abort());
            assert_eq!(woken.await.unwrap(), 1);
            assert!(stuck.await.unwrap_err().is_cancelled());
            assert_eq!(drops.load(Ordering::SeqCst), 1);
            waker_thread.join().unwrap();
            abort_thread.join().unwrap();
        });
    }
}

/// Dropping a `LocalSet` drops its idle and queued tasks once each, on its thread
/// (LOCAL-4); their handles then report cancellation.
#[test]
fn dropping_a_local_set_drops_its_tasks_once() {
    let rt = Builder::new_current_thread().build().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let set = super::LocalSet::new();
    let handles = set.block_on(&rt, async {
        (0..4)
            .map(|_| {
                let guard = CountDrop(drops.clone());
                super::spawn_local(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                })
            })
            .collect::<Vec<_>>()
    });
    drop(set);
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    for h in handles {
        assert!(rt.block_on(h).unwrap_err().is_cancelled());
    }
}
