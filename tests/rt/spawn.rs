//! Spawning and joining: counts, results, detach, nesting, handles, foreign wakes.
use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use support::{flavors, Signal};

const MANY: usize = if cfg!(miri) { 100 } else { 100_000 };

#[test]
fn many_tasks_all_complete() {
    for (name, rt) in flavors() {
        let done = Arc::new(AtomicUsize::new(0));
        let sum = rt.block_on({
            let done = done.clone();
            async move {
                let handles: Vec<_> = (0..MANY)
                    .map(|i| {
                        let done = done.clone();
                        magpie::spawn(async move {
                            done.fetch_add(1, Ordering::Relaxed);
                            i as u64
                        })
                    })
                    .collect();
                let mut sum = 0u64;
                for h in handles {
                    sum += h.await.unwrap();
                }
                sum
            }
        });
        assert_eq!(done.load(Ordering::Relaxed), MANY, "{name}");
        assert_eq!(sum, (MANY as u64 - 1) * MANY as u64 / 2, "{name}");
        assert_eq!(rt.handle().metrics().live_tasks, 0, "{name}");
    }
}

#[test]
fn results_come_back_through_the_handle() {
    for (name, rt) in flavors() {
        let out = rt.block_on(async {
            let s = magpie::spawn(async { String::from("hello") });
            let v = magpie::spawn(async { vec![1, 2, 3] });
            (s.await.unwrap(), v.await.unwrap())
        });
        assert_eq!(out, ("hello".to_string(), vec![1, 2, 3]), "{name}");
    }
}

#[test]
fn dropping_the_handle_detaches_the_task() {
    for (name, rt) in flavors() {
        let go = Signal::new();
        let ran = Signal::new();
        rt.block_on({
            let (go, ran) = (go.clone(), ran.clone());
            async move {
                let h = magpie::spawn({
                    let (go, ran) = (go.clone(), ran.clone());
                    async move {
                        go.wait().await;
                        ran.set();
                    }
                });
                drop(h);
                go.set();
                ran.wait().await;
            }
        });
        assert!(ran.is_set(), "{name}: a detached task must keep running");
    }
}

#[test]
fn nested_spawns() {
    fn tree(depth: u32) -> magpie::JoinHandle<u64> {
        magpie::spawn(async move {
            if depth == 0 {
                return 1;
            }
            let a = tree(depth - 1);
            let b = tree(depth - 1);
            a.await.unwrap() + b.await.unwrap()
        })
    }
    let depth = if cfg!(miri) { 4 } else { 12 };
    for (name, rt) in flavors() {
        let leaves = rt.block_on(async move { tree(depth).await.unwrap() });
        assert_eq!(leaves, 1 << depth, "{name}");
    }
}

#[test]
fn spawn_from_a_non_runtime_thread_through_a_handle() {
    for (name, rt) in flavors() {
        let handle = rt.handle().clone();
        let joins = std::thread::spawn(move || {
            (0..100u64)
                .map(|i| handle.spawn(async move { i * 2 }))
                .collect::<Vec<_>>()
        })
        .join()
        .unwrap();
        let sum = rt.block_on(async move {
            let mut sum = 0;
            for h in joins {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, 9900, "{name}");
    }
}

#[test]
fn handle_block_on_from_another_thread() {
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    let v = std::thread::spawn(move || {
        handle.block_on(async { magpie::spawn(async { 9 }).await.unwrap() })
    })
    .join()
    .unwrap();
    assert_eq!(v, 9);
}

#[test]
fn wakes_from_foreign_threads() {
    for (name, rt) in flavors() {
        let n = if cfg!(miri) { 4 } else { 200 };
        let signals: Vec<Signal> = (0..n).map(|_| Signal::new()).collect();
        let got = rt.block_on({
            let signals = signals.clone();
            async move {
                let handles: Vec<_> = signals
                    .iter()
                    .cloned()
                    .enumerate()
                    .map(|(i, s)| {
                        magpie::spawn(async move {
                            s.wait().await;
                            i
                        })
                    })
                    .collect();
                // Set every signal from plain threads while the tasks wait.
                let setters: Vec<_> = signals
                    .into_iter()
                    .map(|s| std::thread::spawn(move || s.set()))
                    .collect();
                let mut got = 0;
                for h in handles {
                    got += h.await.unwrap();
                }
                for t in setters {
                    t.join().unwrap();
                }
                got
            }
        });
        assert_eq!(got, (0..n).sum::<usize>(), "{name}");
    }
}

#[test]
fn task_ids_are_unique_and_names_are_kept() {
    let rt = magpie::Runtime::new().unwrap();
    rt.block_on(async {
        let a = magpie::spawn(async {});
        let b = magpie::task::Builder::new().name("b").spawn(async {});
        assert_ne!(a.id(), b.id());
        assert_eq!(b.name(), Some("b"));
        assert_eq!(a.name(), None);
    });
}

#[test]
fn spawn_outside_a_runtime_panics_with_advice() {
    let err = std::panic::catch_unwind(|| {
        drop(magpie::spawn(async {}));
    })
    .unwrap_err();
    let msg = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap();
    assert!(msg.contains("outside a magpie runtime"), "{msg}");
    assert!(msg.contains("Handle::spawn"), "{msg}");
}

#[test]
fn block_on_inside_a_runtime_panics_with_advice() {
    for (name, rt) in flavors() {
        let res = rt.block_on(async {
            magpie::spawn(async {
                magpie::block_on(async {});
            })
            .await
        });
        let err = res.unwrap_err();
        assert!(err.is_panic(), "{name}");
        let msg = err.to_string();
        assert!(
            msg.contains("block_on called from inside a magpie runtime"),
            "{name}: {msg}"
        );
        assert!(msg.contains(".await"), "{name}: {msg}");
        // And directly inside block_on, too.
        let inner = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async { rt.block_on(async {}) })
        }));
        assert!(inner.is_err(), "{name}");
    }
}

#[test]
fn free_block_on_runs_a_default_runtime() {
    let v = magpie::block_on(async {
        let hs: Vec<_> = (0..10).map(|i| magpie::spawn(async move { i })).collect();
        let mut s = 0;
        for h in hs {
            s += h.await.unwrap();
        }
        s
    });
    assert_eq!(v, 45);
}

#[test]
fn handle_current_inside_and_outside() {
    assert!(magpie::Handle::try_current().is_err());
    let rt = magpie::Runtime::new().unwrap();
    rt.block_on(async {
        let h = magpie::Handle::current();
        assert_eq!(h.spawn(async { 1 }).await.unwrap(), 1);
    });
    let _g = rt.handle().enter();
    let h = magpie::spawn(async { 2 });
    assert_eq!(rt.block_on(h).unwrap(), 2);
}
