//! gather's children run in parallel on a multi-thread runtime: a rendezvous that only
//! parallel children can complete, and the wall-time ratio of two CPU-bound children
//! against running them back to back.
//!
//! In their own test binary, one at a time, so that no other test of this crate competes
//! for the CPU while they measure.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn two_workers() -> magpie::Runtime {
    magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// Each child spins, never yielding its worker, until the other child has started: they
/// can only both finish if they run at the same time on the two workers.
#[test]
fn two_children_rendezvous_on_two_workers() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let rt = two_workers();
    for round in 0..20 {
        let started = Arc::new(AtomicUsize::new(0));
        let threads = rt.block_on(magpie::gather((0..2).map(|_| {
            let started = started.clone();
            async move {
                started.fetch_add(1, Ordering::SeqCst);
                let give_up = Instant::now() + Duration::from_secs(30);
                while started.load(Ordering::SeqCst) < 2 {
                    assert!(
                        Instant::now() < give_up,
                        "the other child never started while this one held its worker"
                    );
                    std::hint::spin_loop();
                }
                std::thread::current().id()
            }
        })));
        assert_ne!(threads[0], threads[1], "round {round}");
    }
}

/// Spins for about `iters` rounds of arithmetic the optimiser cannot remove.
fn burn(iters: u64) -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..iters {
        x = std::hint::black_box(x.rotate_left(5) ^ i).wrapping_mul(0x100_0000_01B3);
    }
    x
}

/// An iteration count that takes at least `target` on this machine.
fn calibrate(target: Duration) -> u64 {
    let mut iters = 1 << 16;
    loop {
        let start = Instant::now();
        burn(iters);
        if start.elapsed() >= target {
            return iters;
        }
        iters *= 2;
    }
}

/// The same two pieces of work back to back, then side by side on two OS threads: what
/// this machine allows right now, as a yardstick for the runtime.
fn os_thread_ratio(iters: u64) -> f64 {
    let start = Instant::now();
    burn(iters);
    burn(iters);
    let serial = start.elapsed();
    let start = Instant::now();
    let t = std::thread::spawn(move || burn(iters));
    burn(iters);
    t.join().unwrap();
    start.elapsed().as_secs_f64() / serial.as_secs_f64()
}

/// Two CPU-bound children take clearly less wall time on two workers than back to back:
/// a ratio under 0.8. When other work on this machine leaves no second core free (two OS
/// threads do no better than 0.8 either, measured in the same attempt), the runtime must
/// do about as well as two OS threads. Up to five attempts.
#[test]
fn two_cpu_bound_children_run_in_parallel_on_two_workers() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let rt = two_workers();
    let iters = calibrate(Duration::from_millis(150));
    let mut attempts = Vec::new();
    for _attempt in 0..5 {
        // Back to back: the same two pieces of work, one after the other, on one worker.
        let serial = rt.block_on(async move {
            let start = Instant::now();
            magpie::spawn(async move { (burn(iters), burn(iters)) })
                .await
                .unwrap();
            start.elapsed()
        });
        let parallel = rt.block_on(async move {
            let start = Instant::now();
            let out = magpie::gather((0..2).map(|_| async move { burn(iters) })).await;
            assert_eq!(out.len(), 2);
            start.elapsed()
        });
        let ratio = parallel.as_secs_f64() / serial.as_secs_f64();
        let os = os_thread_ratio(iters);
        eprintln!(
            "gather of 2 CPU-bound children on 2 workers: {parallel:?} vs {serial:?} back to \
             back (ratio {ratio:.2}; two OS threads: {os:.2})"
        );
        attempts.push((ratio, os));
        if ratio < 0.8 || (os >= 0.8 && ratio <= os + 0.25) {
            return;
        }
    }
    panic!(
        "gather of two CPU-bound children was not parallel: (ratio, OS-thread ratio) = \
         {attempts:?}"
    );
}
