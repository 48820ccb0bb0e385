//! Memory per idle task: 100,000 tasks, each parked on its own never-set event (magpie's
//! `Event`, tokio's `Notify`, event-listener's `Event` for smol), measured as the growth of
//! the process's resident set. Run one runtime per process (`compare` re-invokes itself
//! with `--memory-probe NAME`), so no runtime's freed memory flatters another.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Idle tasks spawned for the measurement.
pub const IDLE_TASKS: usize = 100_000;

/// Resident set size of this process, in bytes (Linux `/proc/self/statm`).
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Peak resident set size of this process, in bytes (`VmHWM`).
pub fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The result of one probe.
#[derive(Debug, Clone, Copy)]
pub struct MemoryProbe {
    /// Resident bytes added per idle task.
    pub bytes_per_task: f64,
    /// The process's peak resident set, in bytes.
    pub peak_rss: u64,
}

fn wait_for(count: &AtomicUsize, n: usize) {
    let t = Instant::now();
    while count.load(Ordering::SeqCst) < n {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "idle tasks never all started"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn finish(before: u64) -> MemoryProbe {
    let after = rss_bytes();
    MemoryProbe {
        bytes_per_task: after.saturating_sub(before) as f64 / IDLE_TASKS as f64,
        peak_rss: peak_rss_bytes(),
    }
}

/// Measures `runtime` ("magpie", "tokio" or "smol") with `threads` workers.
///
/// # Panics
///
/// On an unknown runtime name.
pub fn probe(runtime: &str, threads: usize) -> MemoryProbe {
    let started = Arc::new(AtomicUsize::new(0));
    match runtime {
        "magpie" => {
            let rt = magpie::Builder::new_multi_thread()
                .worker_threads(threads)
                .build()
                .unwrap();
            rt.block_on(async { magpie::spawn(async {}).await.unwrap() });
            let before = rss_bytes();
            let handles: Vec<_> = (0..IDLE_TASKS)
                .map(|_| {
                    let started = started.clone();
                    rt.spawn(async move {
                        let event = magpie::sync::Event::new();
                        started.fetch_add(1, Ordering::SeqCst);
                        event.wait().await;
                    })
                })
                .collect();
            drop(handles); // detached: the runtime's task list keeps them
            wait_for(&started, IDLE_TASKS);
            finish(before)
        }
        "tokio" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .build()
                .unwrap();
            rt.block_on(async { tokio::spawn(async {}).await.unwrap() });
            let before = rss_bytes();
            let handles: Vec<_> = (0..IDLE_TASKS)
                .map(|_| {
                    let started = started.clone();
                    rt.spawn(async move {
                        let notify = tokio::sync::Notify::new();
                        started.fetch_add(1, Ordering::SeqCst);
                        notify.notified().await;
                    })
                })
                .collect();
            drop(handles); // detached: the runtime's task list keeps them
            wait_for(&started, IDLE_TASKS);
            finish(before)
        }
        "smol" => {
            let rt = crate::adapters::smol::new(threads);
            rt.block_on(async { rt.spawn(async {}).await });
            let before = rss_bytes();
            let handles: Vec<_> = (0..IDLE_TASKS)
                .map(|_| {
                    let started = started.clone();
                    rt.spawn(async move {
                        let event = event_listener::Event::new();
                        let listener = event.listen();
                        started.fetch_add(1, Ordering::SeqCst);
                        listener.await;
                    })
                })
                .collect();
            // Detached: each parked task is kept by its own listener's registration.
            handles.into_iter().for_each(|h| h.detach());
            wait_for(&started, IDLE_TASKS);
            finish(before)
        }
        other => panic!("unknown runtime {other:?}: expected magpie, tokio or smol"),
    }
}
