//! Sockets and timers spend the cooperative budget: a task whose reads (or sleeps) are
//! always ready still yields, so it cannot starve the other tasks of its worker.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use magpie::io::{AsyncReadExt, AsyncWriteExt};
use magpie::net::UnixStream;

fn one_thread() -> Vec<(&'static str, magpie::Runtime)> {
    vec![
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
    ]
}

#[test]
fn always_ready_reads_yield_to_other_tasks() {
    for (name, rt) in one_thread() {
        let yielded_to_b = rt.block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            a.write_all(&[7u8; 64 * 1024]).await.unwrap();
            drop(a);
            let flag = Arc::new(AtomicBool::new(false));
            let f = flag.clone();
            // A reads one byte at a time: every read is ready at once.
            let reader = magpie::spawn(async move {
                let mut byte = [0u8; 1];
                let mut seen_flag_at = None;
                for i in 0..64 * 1024 {
                    b.read_exact(&mut byte).await.unwrap();
                    if seen_flag_at.is_none() && f.load(Ordering::SeqCst) {
                        seen_flag_at = Some(i);
                    }
                }
                seen_flag_at
            });
            let other = magpie::spawn(async move { flag.store(true, Ordering::SeqCst) });
            other.await.unwrap();
            reader.await.unwrap()
        });
        let at = yielded_to_b.unwrap_or_else(|| panic!("{name}: the reader never yielded"));
        assert!(at < 64 * 1024 - 1, "{name}: yielded only at the end ({at})");
        let forced: u64 = rt
            .handle()
            .metrics()
            .workers
            .iter()
            .map(|w| w.forced_yields)
            .sum();
        assert!(forced > 0, "{name}: no forced yield counted");
    }
}

#[test]
fn always_ready_sleeps_yield_to_other_tasks() {
    for (name, rt) in one_thread() {
        // Spawned from a task, so both tasks are queued on the worker itself (a spawn from
        // outside would wait for the injector's turn, every `global_queue_interval` polls).
        let iterations_before_b = rt
            .block_on(rt.spawn(async {
                let flag = Arc::new(AtomicBool::new(false));
                let f = flag.clone();
                let sleeper = magpie::spawn(async move {
                    for i in 0..10_000u32 {
                        magpie::time::sleep(Duration::ZERO).await;
                        if f.load(Ordering::SeqCst) {
                            return Some(i);
                        }
                    }
                    None
                });
                let other = magpie::spawn(async move { flag.store(true, Ordering::SeqCst) });
                other.await.unwrap();
                sleeper.await.unwrap()
            }))
            .unwrap();
        let i = iterations_before_b.unwrap_or_else(|| panic!("{name}: the sleeper never yielded"));
        assert!(i <= 1_000, "{name}: yielded only after {i} ready sleeps");
    }
}
