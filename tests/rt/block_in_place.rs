//! `magpie::task::block_in_place` (issue 17, "Blocking inside a task").
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use magpie::task::block_in_place;

fn two_workers() -> magpie::Runtime {
    magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// A task queued behind the blocking one on the same worker runs while `f` blocks: `f`
/// waits (bounded) for that task to signal it, so without the hand-off it times out.
#[test]
fn a_task_queued_behind_the_blocking_one_runs_meanwhile() {
    let rt = two_workers();
    for _ in 0..20 {
        let ran_meanwhile = rt.block_on(async {
            magpie::spawn(async {
                let (tx, rx) = mpsc::channel::<()>();
                // Spawned from this worker: it sits in this worker's LIFO slot.
                let behind = magpie::spawn(async move {
                    tx.send(()).unwrap();
                });
                let ok = block_in_place(|| rx.recv_timeout(Duration::from_secs(5)).is_ok());
                behind.await.unwrap();
                ok
            })
            .await
            .unwrap()
        });
        assert!(ran_meanwhile, "the task behind the blocking one starved");
    }
}

/// The whole local queue (not only the LIFO slot) is handed over, and wakes from inside `f`
/// go to the other worker too.
#[test]
fn the_local_queue_and_wakes_from_f_are_handed_over() {
    let rt = two_workers();
    let ok = rt.block_on(async {
        magpie::spawn(async {
            let (tx, rx) = mpsc::channel::<usize>();
            for i in 0..16 {
                let tx = tx.clone();
                magpie::spawn(async move { tx.send(i).unwrap() });
            }
            let gate = Arc::new(magpie::sync::Event::new());
            let g = gate.clone();
            let waiter = magpie::spawn(async move {
                g.wait().await;
                17
            });
            magpie::task::yield_now().await; // let `waiter` park on the gate
            let got = block_in_place(|| {
                // Spawned and woken from inside f: must run elsewhere.
                let tx2 = tx.clone();
                magpie::spawn(async move { tx2.send(16).unwrap() });
                gate.set();
                let deadline = Instant::now() + Duration::from_secs(5);
                let mut got = Vec::new();
                while got.len() < 17 && Instant::now() < deadline {
                    if let Ok(i) = rx.recv_timeout(Duration::from_millis(50)) {
                        got.push(i);
                    }
                }
                got
            });
            let mut got = got;
            got.sort_unstable();
            got == (0..17).collect::<Vec<_>>() && waiter.await.unwrap() == 17
        })
        .await
        .unwrap()
    });
    assert!(ok);
}

#[test]
fn returns_the_value_and_the_worker_keeps_working_after() {
    let rt = two_workers();
    let v = rt.block_on(async {
        let h = magpie::spawn(async {
            let a = block_in_place(|| 20);
            // Nested: runs too.
            let b = block_in_place(|| block_in_place(|| 22));
            magpie::task::yield_now().await;
            let c = magpie::spawn(async { 0 }).await.unwrap();
            a + b + c
        });
        h.await.unwrap()
    });
    assert_eq!(v, 42);
}

#[test]
fn a_panic_in_f_is_the_task_s_panic_and_the_worker_recovers() {
    let rt = two_workers();
    let err = rt
        .block_on(async {
            magpie::spawn(async {
                block_in_place(|| panic!("inside block_in_place"));
            })
            .await
        })
        .unwrap_err();
    assert!(err.is_panic());
    // Both workers still run tasks (and use their local queues again).
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    rt.block_on(async move {
        let hs: Vec<_> = (0..50)
            .map(|i| magpie::spawn(async move { magpie::spawn(async move { i }).await.unwrap() }))
            .collect();
        for (i, h) in hs.into_iter().enumerate() {
            assert_eq!(h.await.unwrap(), i);
        }
        d.store(true, Ordering::SeqCst);
    });
    assert!(done.load(Ordering::SeqCst));
}

#[test]
fn outside_a_worker_it_just_runs() {
    assert_eq!(block_in_place(|| 1), 1);
    let rt = two_workers();
    // In a multi-thread runtime's block_on (not a worker) and in its blocking pool.
    assert_eq!(rt.block_on(async { block_in_place(|| 2) }), 2);
    let v = rt.block_on(async {
        magpie::spawn_blocking(|| block_in_place(|| 3))
            .await
            .unwrap()
    });
    assert_eq!(v, 3);
}

#[test]
#[should_panic(expected = "Use magpie::spawn_blocking(f).await")]
fn on_a_current_thread_runtime_it_panics_naming_spawn_blocking() {
    let rt = magpie::Builder::new_current_thread().build().unwrap();
    rt.block_on(async { block_in_place(|| ()) });
}

#[test]
fn on_a_current_thread_runtime_a_task_panics_too() {
    let rt = magpie::Builder::new_current_thread().build().unwrap();
    let err = rt
        .block_on(async { magpie::spawn(async { block_in_place(|| ()) }).await })
        .unwrap_err();
    assert!(err.is_panic());
    let msg = err.into_panic();
    let msg = msg
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| msg.downcast_ref::<String>().cloned())
        .unwrap();
    assert!(msg.contains("spawn_blocking"), "{msg}");
}
