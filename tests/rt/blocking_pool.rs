//! `spawn_blocking`: results and panics through `JoinHandle`, the thread bound, idle
//! threads exiting, shutdown waiting for running closures, and workers left free.

use crate::support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{flavors, within};

/// Live threads of this process whose name is exactly `name` (Linux: /proc).
fn threads_named(name: &str) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == name)
        .count()
}

#[test]
fn results_and_panics_come_back_through_the_handle() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            assert_eq!(
                magpie::spawn_blocking(|| 6 * 7).await.unwrap(),
                42,
                "{name}"
            );
            let err = magpie::spawn_blocking(|| -> u32 { panic!("boom in a blocking closure") })
                .await
                .unwrap_err();
            assert!(err.is_panic(), "{name}");
            // The pool survives a panic.
            assert_eq!(magpie::spawn_blocking(|| 1).await.unwrap(), 1, "{name}");
            // The runtime is entered on pool threads: spawning from there works.
            let inner = magpie::spawn_blocking(|| magpie::spawn(async { 5 }))
                .await
                .unwrap();
            assert_eq!(inner.await.unwrap(), 5, "{name}");
        });
    }
}

#[test]
fn the_pool_grows_to_its_bound_and_no_further() {
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(3)
        .build()
        .unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let handles: Vec<_> = (0..12)
            .map(|_| {
                let (running, peak) = (running.clone(), peak.clone());
                magpie::spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    assert_eq!(peak.load(Ordering::SeqCst), 3);
}

#[test]
fn idle_pool_threads_exit_after_keep_alive() {
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("kat")
        .thread_keep_alive(Duration::from_millis(50))
        .build()
        .unwrap();
    rt.block_on(async {
        let hs: Vec<_> = (0..4)
            .map(|_| magpie::spawn_blocking(|| std::thread::sleep(Duration::from_millis(10))))
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    assert!(threads_named("kat-blocking") >= 1);
    // Bounded wait for them to go (they leave 50 ms after their last closure).
    let start = Instant::now();
    while threads_named("kat-blocking") > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "idle pool threads did not exit"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // And the pool starts threads again on demand.
    assert_eq!(
        rt.block_on(async { magpie::spawn_blocking(|| 9).await.unwrap() }),
        9
    );
}

#[test]
fn one_worker_stays_free_while_a_closure_blocks() {
    // With a single worker, a 200 ms blocking closure must not delay a 1 ms sleep.
    for (name, rt) in [
        (
            "multi_thread(1)",
            magpie::Builder::new_multi_thread()
                .worker_threads(1)
                .build()
                .unwrap(),
        ),
        (
            "current_thread",
            magpie::Builder::new_current_thread().build().unwrap(),
        ),
    ] {
        rt.block_on(async {
            let blocker = magpie::spawn_blocking(|| std::thread::sleep(Duration::from_millis(200)));
            let sleeper = magpie::spawn(async {
                let t = Instant::now();
                magpie::time::sleep(Duration::from_millis(1)).await;
                t.elapsed()
            });
            let slept = sleeper.await.unwrap();
            assert!(
                slept < Duration::from_millis(60),
                "{name}: 1 ms sleep took {slept:?}"
            );
            assert!(
                !blocker.is_finished(),
                "{name}: the blocking closure is still running"
            );
            blocker.await.unwrap();
        });
    }
}

#[test]
fn shutdown_waits_for_running_closures() {
    for (name, rt) in flavors() {
        let done = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicBool::new(false));
        let (d, s) = (done.clone(), started.clone());
        rt.block_on(async move {
            drop(magpie::spawn_blocking(move || {
                s.store(true, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(100));
                d.store(true, Ordering::SeqCst);
            }));
        });
        while !started.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        within(10, name, move || drop(rt));
        assert!(
            done.load(Ordering::SeqCst),
            "{name}: drop returned before the closure ended"
        );
    }
}

#[test]
fn shutdown_timeout_bounds_the_wait_and_cancels_queued_closures() {
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let started = Arc::new(AtomicBool::new(false));
    let s = started.clone();
    let (long, queued) = rt.block_on(async move {
        let long = magpie::spawn_blocking(move || {
            s.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(500))
        });
        let queued = magpie::spawn_blocking(|| 1); // waits for the only thread
        (long, queued)
    });
    while !started.load(Ordering::SeqCst) {
        std::thread::yield_now(); // shut down only once `long` runs (it is then waited for)
    }
    let t = Instant::now();
    rt.shutdown_timeout(Duration::from_millis(50));
    let took = t.elapsed();
    assert!(
        took < Duration::from_millis(400),
        "shutdown_timeout waited {took:?}"
    );
    let other = magpie::Builder::new_current_thread().build().unwrap();
    other.block_on(async {
        assert!(queued.await.unwrap_err().is_cancelled());
        long.await.unwrap(); // it ran to the end on its detached thread
    });
}

#[test]
fn abort_cancels_a_closure_that_has_not_started() {
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    rt.block_on(async move {
        let first = magpie::spawn_blocking(|| std::thread::sleep(Duration::from_millis(50)));
        let second = magpie::spawn_blocking(move || r.store(true, Ordering::SeqCst));
        second.abort();
        assert!(second.await.unwrap_err().is_cancelled());
        first.await.unwrap();
    });
    assert!(!ran.load(Ordering::SeqCst));
}

#[test]
fn a_runtime_dropped_inside_its_own_blocking_closure_does_not_hang() {
    for (name, rt) in flavors() {
        let handle = rt.handle().clone();
        let slot = Arc::new(std::sync::Mutex::new(Some(rt)));
        let s = slot.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        drop(handle.spawn_blocking(move || {
            let rt = s.lock().unwrap().take().unwrap();
            drop(rt); // shuts down the pool this closure runs on
            tx.send(()).unwrap();
        }));
        within(10, name, move || rx.recv().unwrap());
        assert!(slot.lock().unwrap().is_none());
    }
}
