//! Local tasks: `magpie::task::spawn_local` and `LocalSet` (issue 17, "Local tasks").
use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::Duration;

use magpie::task::{spawn_local, LocalSet};
use magpie::Runtime;

fn current_thread() -> Runtime {
    magpie::Builder::new_current_thread().build().unwrap()
}

fn multi_thread() -> Runtime {
    magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

fn flavors() -> Vec<(&'static str, Runtime)> {
    vec![
        ("current_thread", current_thread()),
        ("multi_thread", multi_thread()),
    ]
}

/// Counts drops and records the thread of each.
#[derive(Clone, Default)]
struct Drops(Arc<Mutex<Vec<ThreadId>>>);

struct Tracked(Drops);

impl Drop for Tracked {
    fn drop(&mut self) {
        (self.0).0.lock().unwrap().push(thread::current().id());
    }
}

impl Drops {
    fn track(&self) -> Tracked {
        Tracked(self.clone())
    }
    fn all(&self) -> Vec<ThreadId> {
        self.0.lock().unwrap().clone()
    }
}

#[test]
fn spawn_local_directly_on_a_current_thread_runtime() {
    let rt = current_thread();
    let out = rt.block_on(async {
        let shared = Rc::new(Cell::new(0));
        let mut handles = Vec::new();
        for i in 1..=10 {
            let shared = shared.clone();
            handles.push(spawn_local(async move {
                magpie::task::yield_now().await;
                shared.set(shared.get() + i);
                i
            }));
        }
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        (sum, shared.get())
    });
    assert_eq!(out, (55, 55));
}

#[test]
fn spawn_local_from_an_ordinary_task_of_a_current_thread_runtime() {
    let rt = current_thread();
    let v = rt.block_on(async {
        magpie::spawn(async {
            // The local task's output is Send; its future holds an Rc.
            spawn_local(async {
                let rc = Rc::new(3);
                magpie::task::yield_now().await;
                *rc * 2
            })
            .await
            .unwrap()
        })
        .await
        .unwrap()
    });
    assert_eq!(v, 6);
}

#[test]
fn local_set_on_both_flavours_runs_on_the_owner_thread() {
    for (name, rt) in flavors() {
        let local = LocalSet::new();
        let me = thread::current().id();
        let threads = local.block_on(&rt, async {
            let mut hs = Vec::new();
            for _ in 0..8 {
                let rc = Rc::new(());
                hs.push(spawn_local(async move {
                    let _rc = rc;
                    for _ in 0..3 {
                        magpie::task::yield_now().await;
                    }
                    // Timers and other tasks work from a local task.
                    magpie::time::sleep(Duration::from_millis(1)).await;
                    magpie::spawn(async { 1 }).await.unwrap();
                    thread::current().id()
                }));
            }
            let mut out = Vec::new();
            for h in hs {
                out.push(h.await.unwrap());
            }
            out
        });
        assert!(threads.iter().all(|t| *t == me), "{name}");
    }
}

#[test]
fn local_set_inside_multi_thread_block_on_with_run_until_and_awaiting_the_set() {
    let rt = multi_thread();
    let done = Rc::new(Cell::new(0));
    rt.block_on(async {
        let local = LocalSet::new();
        for _ in 0..5 {
            let done = done.clone();
            local.spawn_local(async move {
                magpie::time::sleep(Duration::from_millis(5)).await;
                done.set(done.get() + 1);
            });
        }
        // run_until returns when its future does, leaving the other tasks in the set.
        let v = local.run_until(async { 11 }).await;
        assert_eq!(v, 11);
        assert!(done.get() < 5);
        // Awaiting the set runs it until all its tasks are done.
        local.await;
    });
    assert_eq!(done.get(), 5);
}

#[test]
fn join_handle_output_and_panic() {
    for (name, rt) in flavors() {
        let local = LocalSet::new();
        local.block_on(&rt, async {
            let ok = spawn_local(async { Rc::new(String::from("out")) });
            assert_eq!(*ok.await.unwrap(), "out", "{name}");
            let bad = spawn_local(async {
                let _rc = Rc::new(());
                panic!("local boom");
            });
            let err = bad.await.unwrap_err();
            assert!(err.is_panic(), "{name}");
            // The set survives a panicking task.
            assert_eq!(spawn_local(async { 5 }).await.unwrap(), 5, "{name}");
        });
    }
}

#[test]
fn abort_a_parked_local_task_from_another_thread() {
    for (name, rt) in flavors() {
        let local = LocalSet::new();
        let drops = Drops::default();
        let me = thread::current().id();
        local.block_on(&rt, async {
            let tracked = drops.track();
            let h = spawn_local(async move {
                let _t = tracked;
                let _rc = Rc::new(());
                std::future::pending::<()>().await;
            });
            magpie::task::yield_now().await;
            let abort = h.abort_handle();
            thread::spawn(move || abort.abort()).join().unwrap();
            let err = h.await.unwrap_err();
            assert!(err.is_cancelled(), "{name}");
        });
        assert_eq!(
            drops.all(),
            vec![me],
            "{name}: dropped once, on the owner thread"
        );
    }
}

#[test]
fn wake_from_another_thread_runs_the_task_on_the_owner() {
    for (name, rt) in flavors() {
        let local = LocalSet::new();
        let me = thread::current().id();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let gate = Arc::new(magpie::sync::Event::new());
        let t = local.block_on(&rt, async {
            let g = gate.clone();
            let h = spawn_local(async move {
                let _rc = Rc::new(());
                g.wait().await;
                thread::current().id()
            });
            magpie::task::yield_now().await;
            let g = gate.clone();
            thread::spawn(move || {
                g.set();
                tx.send(()).unwrap();
            });
            h.await.unwrap()
        });
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(t, me, "{name}");
    }
}

#[test]
fn dropping_the_set_drops_its_tasks_once_on_its_thread() {
    for (name, rt) in flavors() {
        let drops = Drops::default();
        let me = thread::current().id();
        let local = LocalSet::new();
        local.block_on(&rt, async {
            for _ in 0..4 {
                let tracked = drops.track();
                spawn_local(async move {
                    let _t = tracked;
                    std::future::pending::<()>().await;
                });
            }
            magpie::task::yield_now().await;
        });
        // Never polled: dropped with the set as well.
        let tracked = drops.track();
        let _h = {
            let _g = rt.handle().enter();
            local.spawn_local(async move {
                let _t = tracked;
            })
        };
        assert!(
            rt.handle().metrics().live_tasks >= 5,
            "{name}: local tasks are in the registry"
        );
        assert!(drops.all().is_empty(), "{name}");
        drop(local);
        assert_eq!(drops.all(), vec![me; 5], "{name}");
        assert_eq!(rt.handle().metrics().live_tasks, 0, "{name}");
    }
}

#[test]
fn runtime_shutdown_drops_local_tasks_once_on_their_thread() {
    // The implicit set of a current-thread runtime, and an explicit set in either flavour.
    let drops = Drops::default();
    let me = thread::current().id();
    let rt = current_thread();
    rt.block_on(async {
        for _ in 0..3 {
            let tracked = drops.track();
            spawn_local(async move {
                let _t = tracked;
                let _rc = Rc::new(());
                std::future::pending::<()>().await;
            });
        }
        magpie::task::yield_now().await;
    });
    assert_eq!(rt.handle().metrics().live_tasks, 3);
    drop(rt);
    assert_eq!(drops.all(), vec![me; 3]);

    for (name, rt) in flavors() {
        let drops = Drops::default();
        let local = LocalSet::new();
        local.block_on(&rt, async {
            let tracked = drops.track();
            spawn_local(async move {
                let _t = tracked;
                std::future::pending::<()>().await;
            });
            magpie::task::yield_now().await;
        });
        drop(rt);
        assert_eq!(drops.all(), vec![me], "{name}");
        drop(local);
        assert_eq!(drops.all(), vec![me], "{name}: not dropped twice");
    }
}

#[test]
fn nested_spawn_local_and_many_tasks() {
    let rt = multi_thread();
    let local = LocalSet::new();
    let count = Rc::new(Cell::new(0usize));
    let c = count.clone();
    local.block_on(&rt, async move {
        let mut hs = Vec::new();
        for _ in 0..200 {
            let c = c.clone();
            hs.push(spawn_local(async move {
                let c2 = c.clone();
                spawn_local(async move { c2.set(c2.get() + 1) })
                    .await
                    .unwrap();
                c.set(c.get() + 1);
            }));
        }
        for h in hs {
            h.await.unwrap();
        }
    });
    assert_eq!(count.get(), 400);
}

#[test]
#[should_panic(expected = "spawn_local called outside a local context")]
fn spawn_local_on_a_multi_thread_runtime_without_a_set_panics() {
    let rt = multi_thread();
    rt.block_on(async {
        drop(spawn_local(async {}));
    });
}

#[test]
#[should_panic(expected = "run the !Send future inside a task::LocalSet")]
fn spawn_local_outside_any_runtime_panics() {
    drop(spawn_local(async {}));
}

#[test]
#[should_panic(expected = "belongs to no runtime")]
fn spawning_on_a_set_without_a_runtime_panics() {
    let local = LocalSet::new();
    drop(local.spawn_local(async {}));
}

#[test]
fn metrics_count_local_tasks() {
    let rt = current_thread();
    rt.block_on(async {
        let before = magpie::Handle::current().metrics().live_tasks;
        let hs: Vec<_> = (0..3)
            .map(|_| spawn_local(async { magpie::time::sleep(Duration::from_millis(2)).await }))
            .collect();
        assert_eq!(magpie::Handle::current().metrics().live_tasks, before + 3);
        for h in hs {
            h.await.unwrap();
        }
        assert_eq!(magpie::Handle::current().metrics().live_tasks, before);
    });
}

#[test]
fn a_thread_s_implicit_set_is_dropped_on_that_thread_when_it_exits() {
    let rt = current_thread();
    let drops = Drops::default();
    let handle = rt.handle().clone();
    let d = drops.clone();
    let owner = thread::spawn(move || {
        handle.block_on(async move {
            let tracked = d.track();
            spawn_local(async move {
                let _t = tracked;
                let _rc = Rc::new(());
                std::future::pending::<()>().await;
            });
            magpie::task::yield_now().await;
        });
        thread::current().id()
    })
    .join()
    .unwrap();
    assert_eq!(drops.all(), vec![owner]);
    assert_eq!(rt.handle().metrics().live_tasks, 0);
}
