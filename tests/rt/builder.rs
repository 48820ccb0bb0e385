//! Builder settings, bad input, thread naming and hooks, metrics.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[test]
fn impossible_settings_are_errors_that_name_the_setting() {
    let cases: Vec<(&str, std::io::Result<magpie::Runtime>)> = vec![
        (
            "worker_threads",
            magpie::Builder::new_multi_thread()
                .worker_threads(0)
                .build(),
        ),
        (
            "worker_threads",
            magpie::Builder::new_multi_thread()
                .worker_threads(1 << 20)
                .build(),
        ),
        (
            "global_queue_interval",
            magpie::Builder::new_multi_thread()
                .global_queue_interval(0)
                .build(),
        ),
        (
            "event_interval",
            magpie::Builder::new_current_thread()
                .event_interval(0)
                .build(),
        ),
        (
            "thread_stack_size",
            magpie::Builder::new_multi_thread()
                .thread_stack_size(16)
                .build(),
        ),
    ];
    for (setting, res) in cases {
        let err = res.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains(setting), "{setting}: {err}");
    }
}

#[test]
fn thread_name_and_start_hooks_take_effect() {
    let names = Arc::new(Mutex::new(Vec::new()));
    let started = Arc::new(AtomicUsize::new(0));
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(3)
        .thread_name("pie-worker")
        .thread_stack_size(1 << 20)
        .on_thread_start({
            let started = started.clone();
            let names = names.clone();
            move || {
                started.fetch_add(1, Ordering::SeqCst);
                names
                    .lock()
                    .unwrap()
                    .push(std::thread::current().name().map(str::to_owned));
            }
        })
        .build()
        .unwrap();
    let task_thread = rt.block_on(async {
        magpie::spawn(async { std::thread::current().name().map(str::to_owned) })
            .await
            .unwrap()
    });
    assert_eq!(task_thread.as_deref(), Some("pie-worker"));
    drop(rt);
    assert_eq!(started.load(Ordering::SeqCst), 3);
    let names = names.lock().unwrap();
    assert!(
        names.iter().all(|n| n.as_deref() == Some("pie-worker")),
        "{names:?}"
    );
}

#[test]
fn work_spawned_by_one_worker_is_stolen() {
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let per_task = std::time::Duration::from_micros(200);
    rt.block_on(async move {
        // One task spawns everything onto its own worker's queue; the other worker can only
        // get any of it by stealing.
        magpie::spawn(async move {
            let hs: Vec<_> = (0..400)
                .map(|_| {
                    magpie::spawn(async move {
                        let t = std::time::Instant::now();
                        while t.elapsed() < per_task {
                            std::hint::spin_loop();
                        }
                    })
                })
                .collect();
            for h in hs {
                h.await.unwrap();
            }
        })
        .await
        .unwrap();
    });
    let m = rt.handle().metrics();
    assert_eq!(m.workers.len(), 2);
    assert!(m.total().steals >= 1, "no steal recorded: {m:?}");
    assert!(
        m.workers.iter().all(|w| w.polls > 0),
        "both workers ran tasks: {m:?}"
    );
    assert!(m.total().lifo_hits > 0, "{m:?}");
    assert_eq!(m.live_tasks, 0);
}

#[test]
fn metrics_count_parks_and_injector_pops() {
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    for _ in 0..10 {
        rt.block_on(async { magpie::spawn(async {}).await.unwrap() });
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let m = rt.handle().metrics().total();
    assert!(m.injector_pops >= 1, "{m:?}");
    assert!(m.parks >= 1, "{m:?}");
    assert!(m.polls >= 10, "{m:?}");
}

#[test]
fn public_types_implement_debug() {
    let mut b = magpie::Builder::new_multi_thread();
    b.worker_threads(1);
    let rt = b.build().unwrap();
    let h = rt.spawn(async {});
    let s = format!(
        "{b:?} {rt:?} {:?} {h:?} {:?}",
        rt.handle(),
        rt.handle().metrics()
    );
    assert!(s.contains("JoinHandle"));
}
