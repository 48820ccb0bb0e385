//! Unit tests of the snapshot path, small enough for miri: dumps taken on another thread
//! while tasks are spawned, finish and are dropped read no freed header (rule REG-3) and
//! list no task twice; a dump during and after shutdown.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::{Builder, Runtime};

const N: usize = if cfg!(miri) { 8 } else { 500 };

fn runtimes() -> Vec<Runtime> {
    vec![
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
        Builder::new_current_thread().build().unwrap(),
    ]
}

#[test]
fn dumps_race_tasks_that_finish() {
    for rt in runtimes() {
        let handle = rt.handle().clone();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let dumper = std::thread::spawn(move || {
            let mut dumps = 0usize;
            while !s.load(Ordering::Relaxed) || dumps < 2 {
                let d = handle.dump();
                let ids: HashSet<_> = d.tasks().iter().map(|t| t.id()).collect();
                assert_eq!(ids.len(), d.tasks().len(), "a task listed twice");
                // Every field is read (a freed header would show under miri).
                let _ = format!("{d}");
                dumps += 1;
            }
        });
        let mut handles = Vec::new();
        for i in 0..N {
            handles.push(rt.spawn(async move {
                crate::yield_now().await;
                i
            }));
        }
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(rt.block_on(h).unwrap(), i);
        }
        stop.store(true, Ordering::Relaxed);
        dumper.join().unwrap();
        assert!(
            rt.handle().dump().tasks().is_empty(),
            "finished tasks are unlisted"
        );
    }
}

#[test]
fn a_dump_after_shutdown_is_empty() {
    for rt in runtimes() {
        for _ in 0..N {
            drop(rt.spawn(std::future::pending::<()>()));
        }
        let handle = rt.handle().clone();
        assert_eq!(handle.dump().tasks().len(), N);
        drop(rt);
        assert!(handle.dump().tasks().is_empty());
    }
}

/// Rule WD-1: the slow-poll watchdog reads the poll stamps every tick and takes a dump only
/// to report a slow poll (it used to dump every task every tick).
#[cfg(not(miri))]
#[test]
fn the_slow_poll_watchdog_dumps_only_to_report_a_slow_poll() {
    use std::time::Duration;
    let mut multi = Builder::new_multi_thread();
    multi.worker_threads(2);
    for mut b in [multi, Builder::new_current_thread()] {
        let reports = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let r = reports.clone();
        let rt = b
            .slow_poll_threshold(Duration::from_millis(8))
            .on_slow_poll(move |_| {
                r.fetch_add(1, Ordering::Relaxed);
            })
            .build()
            .unwrap();
        for _ in 0..1000 {
            drop(rt.spawn(std::future::pending::<()>()));
        }
        // Busy but never slow: short polls for 100 ms, about 50 ticks of 2 ms.
        rt.block_on(rt.spawn(async {
            let start = std::time::Instant::now();
            while start.elapsed() < Duration::from_millis(100) {
                crate::yield_now().await;
            }
        }))
        .unwrap();
        let services = rt.handle().services();
        assert_eq!(
            services.snapshots.load(Ordering::Relaxed),
            0,
            "a tick with no slow poll took a dump"
        );
        assert_eq!(reports.load(Ordering::Relaxed), 0);
        rt.block_on(rt.spawn(async { std::thread::sleep(Duration::from_millis(60)) }))
            .unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(
            reports.load(Ordering::Relaxed),
            1,
            "one slow poll, one report"
        );
        assert_eq!(
            services.snapshots.load(Ordering::Relaxed),
            1,
            "one dump, to report it"
        );
    }
}

/// Rule DIAG-5: a poll stores the runtime's recent coarse time as its end, and a thread
/// refreshes that time when it wakes from parking or starts driving (`block_on`), so a
/// task polled after a quiet spell does not show the spell as idle time. The recent time
/// is set to an ancient value first: without the refresh the dump shows the machine's
/// uptime as the task's idle time.
#[cfg(not(miri))]
#[test]
fn a_poll_after_a_park_or_a_new_block_on_stores_a_fresh_end_time() {
    use std::time::Duration;
    for rt in runtimes() {
        // Let every scheduler thread park.
        std::thread::sleep(Duration::from_millis(50));
        rt.handle().services().recent.set(1);
        let task = rt.spawn(std::future::pending::<()>());
        let id = task.id();
        let handle = rt.handle().clone();
        rt.block_on(async move {
            while !handle
                .dump()
                .tasks()
                .iter()
                .any(|t| t.id() == id && t.polls() > 0)
            {
                crate::yield_now().await;
            }
        });
        let dump = rt.handle().dump();
        let info = dump.tasks().iter().find(|t| t.id() == id).unwrap();
        let idle = info.idle_for().expect("the task is idle");
        assert!(
            idle < Duration::from_secs(1),
            "polled just now, yet idle for {idle:?}: the end time was not refreshed"
        );
        task.abort();
    }
}
