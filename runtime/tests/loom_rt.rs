//! Loom models of the scheduler's concurrent core, through the public API.
//!
//! Run with `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p magpie-runtime
//! --release loom` (or `scripts/loom.sh`). Under `cfg(loom)` the run queues are
//! `Mutex<VecDeque>` stand-ins, the parkers are built from loom's mutex and condvar, and
//! every lock, atomic and thread of the runtime is loom's, so these models explore the
//! idle/search/park protocol, the injector hand-off and shutdown.
#![cfg(loom)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use magpie_runtime::Builder;

struct CountDrop(Arc<AtomicUsize>);
impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Two workers: a task spawned from a worker spawns another, which the other worker may
/// steal; the outside thread waits for both. No wake-up may be lost (loom reports a
/// deadlock if every thread ends up parked with work queued).
#[test]
fn loom_park_unpark_notify_two_workers() {
    loom::model(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let out = rt.block_on(async {
            let outer = magpie_runtime::spawn(async {
                let inner = magpie_runtime::spawn(async { 1 });
                inner.await.unwrap() + 1
            });
            outer.await.unwrap()
        });
        assert_eq!(out, 2);
        drop(rt);
    });
}

/// Spawns from a thread outside the runtime while both workers go to park: the injector
/// push and the parking re-check must not miss each other.
#[test]
fn loom_spawn_from_outside_while_workers_park() {
    loom::model(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let handle = rt.handle().clone();
        let h = handle.spawn(async { 7 });
        // Block the outside thread until the task ran: a lost wake-up hangs here.
        let v = rt.block_on(h).unwrap();
        assert_eq!(v, 7);
        drop(rt);
    });
}

/// Three tasks spawned from outside; the first blocks its worker thread until the second
/// has run. A worker that takes the first two in one injector batch while not searching
/// must announce the second (it sits on that worker's queue, where only stealing reaches
/// it): otherwise the other worker, having found the injector emptied before the batch
/// landed, parks for good, and loom reports every thread blocked. The stand-in injector
/// claims a batch and fills the destination in two steps, as crossbeam's does.
#[test]
fn loom_injector_batch_taken_by_a_running_worker_is_announced() {
    use loom::sync::{Condvar, Mutex};
    loom::model(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let handle = rt.handle().clone();
        let second_ran = loom::sync::Arc::new((Mutex::new(false), Condvar::new()));
        let pair = second_ran.clone();
        let first = handle.spawn(async move {
            let (ran, cvar) = &*pair;
            let mut ran = ran.lock().unwrap();
            while !*ran {
                ran = cvar.wait(ran).unwrap();
            }
        });
        let pair = second_ran.clone();
        let second = handle.spawn(async move {
            let (ran, cvar) = &*pair;
            *ran.lock().unwrap() = true;
            cvar.notify_one();
        });
        let third = handle.spawn(async {});
        rt.block_on(async move {
            first.await.unwrap();
            second.await.unwrap();
            third.await.unwrap();
        });
        drop(rt);
    });
}

/// `abort()` from outside races the task's completion on a worker: exactly one outcome,
/// and the future is dropped exactly once either way.
#[test]
fn loom_abort_racing_completion() {
    loom::model(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = CountDrop(drops.clone());
        let h = rt.spawn(async move {
            let _g = guard;
            5
        });
        h.abort();
        match rt.block_on(h) {
            Ok(v) => assert_eq!(v, 5),
            Err(e) => assert!(e.is_cancelled()),
        }
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        drop(rt);
    });
}

/// Dropping the runtime while a task is parked forever drops its future exactly once.
#[test]
fn loom_shutdown_drops_parked_task() {
    loom::model(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = CountDrop(drops.clone());
        let h = rt.spawn(async move {
            let _g = guard;
            std::future::pending::<()>().await
        });
        drop(rt);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        drop(h);
    });
}
