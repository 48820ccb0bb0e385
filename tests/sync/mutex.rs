//! `magpie::sync::Mutex` on the real runtime: the asyncio seed example, fairness,
//! cancellation before and after the lock was granted, the cooperative budget, and a
//! multi-thread stress that checks the protected counter is exact.

use crate::support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use support::polled::Polled;

use magpie::sync::Mutex;

fn runtime(workers: usize) -> magpie::Runtime {
    magpie::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

#[test]
fn seed_three_tasks_increment_a_counter_to_three() {
    // asyncio: three tasks read the counter, sleep, and write it back under the lock.
    let rt = runtime(4);
    let total = rt.block_on(async {
        let counter = Arc::new(Mutex::new(0));
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let counter = counter.clone();
                magpie::spawn(async move {
                    let mut guard = counter.lock().await;
                    let current = *guard;
                    magpie::yield_now().await; // "await asyncio.sleep(0.1)" with the lock held
                    *guard = current + 1;
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let total = *counter.lock().await;
        total
    });
    assert_eq!(total, 3);
}

#[test]
fn waiters_get_the_lock_in_arrival_order() {
    let m = Mutex::new(Vec::new());
    let held = m.try_lock().unwrap();
    let mut waiters: Vec<_> = (0..5)
        .map(|i| {
            let m = &m;
            Polled::new(async move { m.lock().await.push(i) })
        })
        .collect();
    for w in &mut waiters {
        assert!(w.poll().is_pending());
    }
    drop(held);
    for (i, w) in waiters.iter_mut().enumerate() {
        assert_eq!(w.wakes(), 1, "waiter {i} is woken exactly once, in turn");
        assert!(w.poll().is_ready());
    }
    assert_eq!(*m.try_lock().unwrap(), [0, 1, 2, 3, 4]);
}

#[test]
fn cancel_before_grant_leaves_no_trace() {
    let m = Mutex::new(());
    let held = m.try_lock().unwrap();
    let mut w = Polled::new(m.lock());
    assert!(w.poll().is_pending());
    drop(w);
    drop(held);
    assert!(m.try_lock().is_ok(), "nobody owns the lock");
}

#[test]
fn cancel_after_grant_passes_the_lock_on() {
    let m = Mutex::new(());
    let held = m.try_lock().unwrap();
    let mut a = Polled::new(m.lock());
    let mut b = Polled::new(m.lock());
    assert!(a.poll().is_pending());
    assert!(b.poll().is_pending());
    drop(held); // grants a
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    drop(a); // a never saw its grant
    assert_eq!(b.wakes(), 1, "b was woken once, with the lock");
    assert!(b.poll().is_ready());
}

#[test]
fn aborted_waiters_never_strand_the_lock() {
    let rt = runtime(2);
    rt.block_on(async {
        let m = Arc::new(Mutex::new(0usize));
        for _ in 0..200 {
            let guard = m.lock().await;
            let waiters: Vec<_> = (0..4)
                .map(|_| {
                    let m = m.clone();
                    magpie::spawn(async move { *m.lock().await += 1 })
                })
                .collect();
            magpie::yield_now().await;
            drop(guard);
            // Abort two of them while the lock may be on its way to them.
            waiters[0].abort();
            waiters[2].abort();
            let mut finished = 0;
            for w in waiters {
                if w.await.is_ok() {
                    finished += 1;
                }
            }
            assert!(finished >= 2);
            // The lock is free again: nothing was lost with the aborted tasks.
            assert!(m.try_lock().is_ok());
        }
    });
}

#[test]
fn budget_makes_an_always_ready_lock_yield() {
    let rt = magpie::Builder::new_current_thread().build().unwrap();
    let locks = rt.block_on(async {
        let m = Arc::new(Mutex::new(()));
        let spinner = magpie::spawn(async move {
            let flag = Arc::new(AtomicBool::new(false));
            let f2 = flag.clone();
            // Spawned from inside: it can only run once the spinner yields.
            let other = magpie::spawn(async move { f2.store(true, Ordering::SeqCst) });
            let mut locks = 0u64;
            // Without the budget this loop never returns Pending and `other` never runs.
            while !flag.load(Ordering::SeqCst) {
                drop(m.lock().await);
                locks += 1;
            }
            other.await.unwrap();
            locks
        });
        spinner.await.unwrap()
    });
    assert!(locks >= 1, "the spinner ran before it yielded");
    assert!(locks <= 10 * magpie::sync::coop::DEFAULT_BUDGET as u64);
}

#[test]
fn stress_counter_is_exact() {
    let tasks = 8;
    let per_task = 100_000 / tasks;
    let rt = runtime(4);
    let total = rt.block_on(async {
        let m = Arc::new(Mutex::new(0usize));
        let hs: Vec<_> = (0..tasks)
            .map(|_| {
                let m = m.clone();
                magpie::spawn(async move {
                    for i in 0..per_task {
                        let mut g = m.lock().await;
                        let v = *g;
                        if i % 64 == 0 {
                            magpie::yield_now().await; // hold the lock across a yield
                        }
                        *g = v + 1;
                    }
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        let n = *m.lock().await;
        n
    });
    assert_eq!(total, tasks * per_task);
}

#[test]
fn owned_guard_moves_into_a_task() {
    let rt = runtime(2);
    rt.block_on(async {
        let m = Arc::new(Mutex::new(1));
        let guard = m.clone().lock_owned().await;
        let h = magpie::spawn(async move {
            let mut g = guard;
            *g += 1;
        });
        h.await.unwrap();
        assert_eq!(*m.lock().await, 2);
    });
}
