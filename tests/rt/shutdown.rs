//! Shutdown: every future dropped exactly once, parked-forever tasks included; threads
//! joined; no hang.
use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::{flavors, within, DropCounter, Signal};

#[test]
fn dropping_the_runtime_drops_every_pending_future_once() {
    let n = if cfg!(miri) { 20 } else { 2_000 };
    for (name, rt) in flavors() {
        let drops = DropCounter::default();
        let never = Signal::new();
        let started = Arc::new(AtomicUsize::new(0));
        let mut kept = Vec::new();
        let kept = rt.block_on({
            let drops = drops.clone();
            let never = never.clone();
            let started = started.clone();
            async move {
                for i in 0..n {
                    let t = drops.track();
                    let never = never.clone();
                    let started = started.clone();
                    let h = magpie::spawn(async move {
                        let _t = t;
                        started.fetch_add(1, Ordering::SeqCst);
                        match i % 3 {
                            // parked forever on a wake-up that never comes
                            0 => never.wait().await,
                            // parked with no waker kept anywhere at all
                            1 => std::future::pending::<()>().await,
                            // ready and rescheduling itself forever
                            _ => loop {
                                magpie::yield_now().await
                            },
                        }
                    });
                    if i % 2 == 0 {
                        drop(h); // detached
                    } else {
                        kept.push(h); // still held when the runtime goes
                    }
                }
                while started.load(Ordering::SeqCst) < n {
                    magpie::yield_now().await;
                }
                kept
            }
        });
        within(60, "runtime drop", move || drop(rt));
        assert_eq!(drops.count(), n, "{name}: each future dropped exactly once");
        // The handles kept past the drop resolve as cancelled.
        let other = magpie::Builder::new_current_thread().build().unwrap();
        for h in kept {
            assert!(other.block_on(h).unwrap_err().is_cancelled(), "{name}");
        }
        drop(never);
    }
}

#[test]
fn handles_resolve_cancelled_after_shutdown() {
    for (name, rt) in flavors() {
        let h = rt.spawn(std::future::pending::<()>());
        let h2 = rt.spawn(async { 3 });
        drop(rt);
        let other = magpie::Builder::new_current_thread().build().unwrap();
        let err = other.block_on(h).unwrap_err();
        assert!(err.is_cancelled(), "{name}");
        // A task that may or may not have finished before the drop: either outcome, once.
        match other.block_on(h2) {
            Ok(v) => assert_eq!(v, 3),
            Err(e) => assert!(e.is_cancelled(), "{name}"),
        }
    }
}

#[test]
fn spawn_after_shutdown_is_cancelled_not_lost() {
    for (name, rt) in flavors() {
        let handle = rt.handle().clone();
        drop(rt);
        let drops = DropCounter::default();
        let t = drops.track();
        let h = handle.spawn(async move {
            let _t = t;
        });
        assert_eq!(
            drops.count(),
            1,
            "{name}: the refused future is dropped at once"
        );
        let other = magpie::Builder::new_current_thread().build().unwrap();
        assert!(other.block_on(h).unwrap_err().is_cancelled(), "{name}");
    }
}

#[test]
fn wake_after_shutdown_drops_the_task() {
    for (name, rt) in flavors() {
        let s = Signal::new();
        let drops = DropCounter::default();
        let t = drops.track();
        let waiting = Signal::new();
        rt.spawn({
            let (s, waiting) = (s.clone(), waiting.clone());
            async move {
                let _t = t;
                waiting.set();
                s.wait().await
            }
        });
        rt.block_on(waiting.wait());
        drop(rt);
        assert_eq!(drops.count(), 1, "{name}");
        s.set(); // the stored waker fires into a closed runtime: nothing happens
        assert_eq!(drops.count(), 1, "{name}");
    }
}

#[test]
fn worker_threads_are_joined() {
    let stopped = Arc::new(AtomicUsize::new(0));
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .on_thread_stop({
            let stopped = stopped.clone();
            move || {
                stopped.fetch_add(1, Ordering::SeqCst);
            }
        })
        .build()
        .unwrap();
    rt.block_on(async { magpie::spawn(async {}).await.unwrap() });
    drop(rt);
    assert_eq!(
        stopped.load(Ordering::SeqCst),
        2,
        "drop returns after both workers stopped"
    );
}

#[test]
fn shutdown_timeout_returns_despite_a_blocked_worker() {
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let entered = Signal::new();
    let e = entered.clone();
    rt.spawn(async move {
        e.set();
        // A badly behaved task that blocks its worker for a while.
        std::thread::sleep(Duration::from_millis(1500));
    });
    while !entered.is_set() {
        std::thread::yield_now();
    }
    let t0 = std::time::Instant::now();
    rt.shutdown_timeout(Duration::from_millis(100));
    assert!(
        t0.elapsed() < Duration::from_millis(1200),
        "shutdown_timeout waited {:?}",
        t0.elapsed()
    );
}

#[test]
fn dropping_a_runtime_inside_its_own_task_does_not_deadlock() {
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let slot = Arc::new(std::sync::Mutex::new(None::<magpie::Runtime>));
    let done = Signal::new();
    let h = rt.spawn({
        let slot = slot.clone();
        let done = done.clone();
        async move {
            // Wait until the runtime has been moved into the slot, then drop it here.
            loop {
                if let Some(rt) = slot.lock().unwrap().take() {
                    drop(rt);
                    break;
                }
                magpie::yield_now().await;
            }
            done.set();
        }
    });
    drop(h);
    *slot.lock().unwrap() = Some(rt);
    within(30, "self-drop", move || {
        while !done.is_set() {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// Regression (found by tests/https_server.rs, an h2 client connection alive at shutdown):
/// shutdown dropped a queued task's future directly, and a wake that future's drop made
/// while holding a lock (h2 wakes its streams under its own lock) reached `schedule`, found
/// the runtime closed and dropped the woken task's future on the spot, inside that drop,
/// whose own drop took the same lock: a self-deadlock. Every shutdown path now drops
/// runnables through the one deferring drop (rule TASK-3), so the woken task's future is
/// dropped after the first drop returned. `try_lock` turns the would-be deadlock into a
/// flag.
#[test]
fn a_wake_from_a_future_dropped_at_shutdown_is_not_dropped_inside_that_drop() {
    use std::sync::Mutex as StdMutex;
    use std::task::{Poll, Waker};

    struct WakesUnderLock {
        lock: Arc<StdMutex<()>>,
        wake: Arc<StdMutex<Option<Waker>>>,
    }
    impl Drop for WakesUnderLock {
        fn drop(&mut self) {
            let _held = self.lock.lock().unwrap();
            if let Some(waker) = self.wake.lock().unwrap().take() {
                waker.wake();
            }
        }
    }
    struct LocksOnDrop {
        lock: Arc<StdMutex<()>>,
        nested: Arc<AtomicUsize>,
        dropped: Arc<AtomicUsize>,
    }
    impl Drop for LocksOnDrop {
        fn drop(&mut self) {
            if self.lock.try_lock().is_err() {
                self.nested.fetch_add(1, Ordering::SeqCst);
            }
            self.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }

    within(30, "wake_from_a_drop_at_shutdown", || {
        let rt = magpie::Builder::new_current_thread().build().unwrap();
        let lock = Arc::new(StdMutex::new(()));
        let b_waker = Arc::new(StdMutex::new(None::<Waker>));
        let a_waker = Arc::new(StdMutex::new(None::<Waker>));
        let nested = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        rt.block_on({
            let (lock, b_waker, a_waker) = (lock.clone(), b_waker.clone(), a_waker.clone());
            let (nested, dropped) = (nested.clone(), dropped.clone());
            async move {
                // B: parked forever; its drop takes the lock.
                let guard = LocksOnDrop {
                    lock: lock.clone(),
                    nested,
                    dropped,
                };
                let b_slot = b_waker.clone();
                magpie::spawn(std::future::poll_fn(move |cx| {
                    let _guard = &guard;
                    *b_slot.lock().unwrap() = Some(cx.waker().clone());
                    Poll::<()>::Pending
                }));
                // A: parked, then woken so that it sits in the queue at shutdown; its drop
                // wakes B while holding the lock.
                let a = WakesUnderLock {
                    lock,
                    wake: b_waker.clone(),
                };
                let a_slot = a_waker.clone();
                magpie::spawn(std::future::poll_fn(move |cx| {
                    let _a = &a;
                    *a_slot.lock().unwrap() = Some(cx.waker().clone());
                    Poll::<()>::Pending
                }));
                while a_waker.lock().unwrap().is_none() || b_waker.lock().unwrap().is_none() {
                    magpie::yield_now().await;
                }
                a_waker.lock().unwrap().take().unwrap().wake();
            }
        });
        drop(rt);
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            1,
            "B's future was dropped once"
        );
        assert_eq!(
            nested.load(Ordering::SeqCst),
            0,
            "B's future was dropped inside A's drop, under A's lock"
        );
    });
}
