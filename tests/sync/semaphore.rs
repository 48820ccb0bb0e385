//! `magpie::sync::{Semaphore, BoundedSemaphore}` on the real runtime: the asyncio seed
//! examples, cancellation before and after permits were granted, and a multi-thread stress
//! that checks every permit comes back.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use support::polled::Polled;

use magpie::sync::{BoundedSemaphore, Semaphore};

fn runtime(workers: usize) -> magpie::Runtime {
    magpie::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

#[test]
fn seed_semaphore_of_two_never_lets_more_than_two_in() {
    let rt = runtime(4);
    let (max, sem) = rt.block_on(async {
        let sem = Arc::new(Semaphore::new(2));
        let inside = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..5)
            .map(|_| {
                let (sem, inside, max) = (sem.clone(), inside.clone(), max.clone());
                magpie::spawn(async move {
                    for _ in 0..200 {
                        let _permit = sem.acquire().await.unwrap();
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        max.fetch_max(now, Ordering::SeqCst);
                        magpie::yield_now().await; // "await asyncio.sleep(1)"
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        (max.load(Ordering::SeqCst), sem)
    });
    assert_eq!(max, 2, "two in at once, never three");
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn seed_bounded_semaphore_over_release_is_an_error() {
    let rt = runtime(2);
    rt.block_on(async {
        let sem = Arc::new(BoundedSemaphore::new(2));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let sem = sem.clone();
                magpie::spawn(async move {
                    let _permit = sem.acquire().await.unwrap();
                    magpie::yield_now().await;
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let err = sem.release().unwrap_err();
        assert_eq!(err.to_string(), "BoundedSemaphore released too many times");
        let _: &dyn std::error::Error = &err;
        assert_eq!(sem.available_permits(), 2);
    });
}

#[test]
fn manual_acquire_release_pairs() {
    // asyncio style: await sem.acquire() ... sem.release()
    let sem = Semaphore::new(1);
    let mut a = Polled::new(sem.acquire());
    match a.poll() {
        Poll::Ready(p) => p.unwrap().forget(),
        Poll::Pending => panic!("a free permit"),
    }
    assert_eq!(sem.available_permits(), 0);
    sem.release();
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn cancel_before_grant_leaves_no_trace() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut w = Polled::new(sem.acquire_many(1));
    assert!(w.poll().is_pending());
    drop(w);
    drop(held);
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.try_acquire().is_ok());
}

#[test]
fn cancel_after_grant_passes_permits_on() {
    let sem = Semaphore::new(2);
    let held = sem.try_acquire_many(2).unwrap();
    let mut big = Polled::new(sem.acquire_many(2));
    let mut small = Polled::new(sem.acquire());
    assert!(big.poll().is_pending());
    assert!(small.poll().is_pending());
    drop(held);
    assert_eq!((big.wakes(), small.wakes()), (1, 0));
    drop(big); // granted two permits, never saw them
    assert_eq!(small.wakes(), 1);
    match small.poll() {
        Poll::Ready(p) => drop(p.unwrap()),
        Poll::Pending => panic!("small was granted"),
    }
    assert_eq!(sem.available_permits(), 2, "no permit lost");
}

#[test]
fn aborted_acquirers_never_lose_permits() {
    let rt = runtime(2);
    rt.block_on(async {
        let sem = Arc::new(Semaphore::new(3));
        for round in 0..200 {
            let all = sem.clone().acquire_many_owned(3).await.unwrap();
            let ws: Vec<_> = (0..6)
                .map(|i| {
                    let sem = sem.clone();
                    magpie::spawn(async move {
                        let _p = sem.acquire_many(1 + i % 2).await.unwrap();
                        magpie::yield_now().await;
                    })
                })
                .collect();
            magpie::yield_now().await;
            drop(all);
            ws[round % 6].abort();
            ws[(round + 3) % 6].abort();
            for w in ws {
                let _ = w.await;
            }
            assert_eq!(sem.available_permits(), 3, "round {round}");
        }
    });
}

#[test]
fn close_fails_waiters() {
    let rt = runtime(2);
    rt.block_on(async {
        let sem = Arc::new(Semaphore::new(0));
        let s2 = sem.clone();
        let waiter = magpie::spawn(async move { s2.acquire().await.map(|p| p.num_permits()) });
        magpie::yield_now().await;
        sem.close();
        assert!(waiter.await.unwrap().is_err());
        assert!(sem.acquire().await.is_err());
    });
}

#[test]
fn stress_permits_are_conserved() {
    let tasks = 8;
    let per_task = 100_000 / tasks;
    let rt = runtime(4);
    let sem = rt.block_on(async {
        let sem = Arc::new(Semaphore::new(4));
        let inside = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..tasks)
            .map(|t| {
                let (sem, inside) = (sem.clone(), inside.clone());
                magpie::spawn(async move {
                    for i in 0..per_task {
                        let n = 1 + (t + i) % 2;
                        let p = sem.acquire_many(n).await.unwrap();
                        assert!(inside.fetch_add(n, Ordering::SeqCst) + n <= 4);
                        if i % 128 == 0 {
                            magpie::yield_now().await;
                        }
                        inside.fetch_sub(n, Ordering::SeqCst);
                        drop(p);
                    }
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        sem
    });
    assert_eq!(sem.available_permits(), 4, "every permit came back");
}
