use super::*;
use crate::test_util::{block_on, now, scaled, Polled};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Semaphore>();
    assert_send_sync::<SemaphorePermit<'static>>();
    assert_send_sync::<OwnedSemaphorePermit>();
    assert_send_sync::<BoundedSemaphore>();
}

#[test]
fn permits_return_on_drop_and_forget_keeps_them() {
    let sem = Semaphore::new(3);
    let a = now(sem.acquire()).unwrap().unwrap();
    let b = now(sem.acquire_many(2)).unwrap().unwrap();
    assert_eq!(sem.available_permits(), 0);
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    drop(b);
    assert_eq!(sem.available_permits(), 2);
    a.forget();
    assert_eq!(sem.available_permits(), 2);
    sem.release();
    assert_eq!(sem.available_permits(), 3);
    sem.add_permits(2);
    assert_eq!(sem.available_permits(), 5);
    assert_eq!(sem.forget_permits(4), 4);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn large_request_keeps_its_place() {
    let sem = Semaphore::new(2);
    let held = sem.try_acquire_many(2).unwrap();
    let mut big = Polled::new(sem.acquire_many(2));
    let mut small = Polled::new(sem.acquire());
    big.pending();
    small.pending();
    held.forget();
    sem.release(); // one permit: assigned to `big`, not enough to wake it
    assert_eq!((big.wakes(), small.wakes()), (0, 0));
    assert_eq!(sem.available_permits(), 0);
    assert!(sem.try_acquire().is_err(), "no barging past the queue");
    sem.release();
    assert_eq!((big.wakes(), small.wakes()), (1, 0));
    let p = big.ready().unwrap();
    assert_eq!(p.num_permits(), 2);
    drop(p);
    assert_eq!(small.wakes(), 1);
    drop(small.ready().unwrap());
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn cancel_before_grant_leaves_no_trace() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut w = Polled::new(sem.acquire());
    w.pending();
    drop(w);
    drop(held);
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.try_acquire().is_ok(), "no queued flag left behind");
}

#[test]
fn cancel_partly_served_returns_the_assigned_permits() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut big = Polled::new(sem.acquire_many(3));
    let mut small = Polled::new(sem.acquire());
    big.pending();
    small.pending();
    sem.add_permits(1); // big has 1 of 3 assigned
    drop(big);
    assert_eq!(
        small.wakes(),
        1,
        "the assigned permit went on to the next waiter"
    );
    drop(small.ready().unwrap());
    drop(held);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn cancel_after_grant_passes_permits_on() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut a = Polled::new(sem.acquire());
    let mut b = Polled::new(sem.acquire());
    a.pending();
    b.pending();
    drop(held);
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    drop(a);
    assert_eq!(b.wakes(), 1);
    drop(b.ready().unwrap());
    assert_eq!(sem.available_permits(), 1);
    // And with nobody left to pass to, the permit returns to the semaphore.
    let held = sem.try_acquire().unwrap();
    let mut c = Polled::new(sem.acquire());
    c.pending();
    drop(held);
    drop(c);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn close_fails_waiters_and_returns_partial_permits() {
    let sem = Semaphore::new(1);
    let mut big = Polled::new(sem.acquire_many(2));
    let mut small = Polled::new(sem.acquire());
    big.pending(); // took the free permit
    small.pending();
    assert_eq!(sem.available_permits(), 0);
    sem.close();
    assert_eq!((big.wakes(), small.wakes()), (1, 1));
    assert!(big.ready().is_err());
    assert!(small.ready().is_err());
    assert_eq!(
        sem.available_permits(),
        1,
        "big's assigned permit came back"
    );
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    assert!(now(sem.acquire()).unwrap().is_err());
}

#[test]
fn zero_permits_acquire_at_once() {
    let sem = Semaphore::new(0);
    let p = now(sem.acquire_many(0)).unwrap().unwrap();
    assert_eq!(p.num_permits(), 0);
}

#[test]
fn owned_permits() {
    let sem = Arc::new(Semaphore::new(1));
    let p = sem.clone().try_acquire_owned().unwrap();
    let mut w = Polled::new(sem.clone().acquire_many_owned(1));
    w.pending();
    drop(p);
    let p = w.ready().unwrap();
    assert_eq!(sem.available_permits(), 0);
    drop(p);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn many_waiters_are_woken_in_batches() {
    // More waiters than one wake batch holds.
    let sem = Semaphore::new(0);
    let mut waiters: Vec<_> = (0..100).map(|_| Polled::new(sem.acquire())).collect();
    for w in &mut waiters {
        w.pending();
    }
    sem.add_permits(150);
    for w in &mut waiters {
        assert_eq!(w.wakes(), 1);
        w.ready().unwrap().forget();
    }
    assert_eq!(sem.available_permits(), 50);
}

#[test]
fn seed_semaphore_two_never_lets_more_than_two_in() {
    let sem = Arc::new(Semaphore::new(2));
    let inside = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..5)
        .map(|_| {
            let (sem, inside, max) = (sem.clone(), inside.clone(), max.clone());
            std::thread::spawn(move || {
                block_on(async move {
                    for _ in 0..scaled(200) {
                        let _p = sem.acquire().await.unwrap();
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        max.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(max.load(Ordering::SeqCst) <= 2);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn stress_permits_are_conserved() {
    let threads = 8;
    let per_thread = scaled(100_000) / threads;
    let sem = Arc::new(Semaphore::new(3));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let sem = sem.clone();
            std::thread::spawn(move || {
                block_on(async move {
                    for j in 0..per_thread {
                        let n = 1 + (i + j) % 3;
                        let p = sem.acquire_many(n).await.unwrap();
                        assert_eq!(p.num_permits(), n);
                    }
                })
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn bounded_semaphore_over_release_is_an_error() {
    let sem = BoundedSemaphore::new(2);
    block_on(async {
        for _ in 0..4 {
            let _p = sem.acquire().await.unwrap();
        }
    });
    let err = sem.release().unwrap_err();
    assert_eq!(err.to_string(), "BoundedSemaphore released too many times");
    assert_eq!(sem.available_permits(), 2);
    // Manual acquire/release pairs, asyncio style.
    sem.try_acquire().unwrap().forget();
    sem.try_acquire().unwrap().forget();
    assert!(sem.try_acquire().is_err());
    sem.release().unwrap();
    sem.release().unwrap();
    assert!(sem.release().is_err());
    assert_eq!(sem.available_permits(), 2);
    let e: &dyn std::error::Error = &err;
    assert!(!e.to_string().is_empty());
}

#[test]
fn bounded_semaphore_cancel_after_grant_is_not_counted() {
    let sem = BoundedSemaphore::new(1);
    let p = sem.try_acquire().unwrap();
    let mut w = Polled::new(sem.acquire());
    w.pending();
    drop(p);
    assert_eq!(w.wakes(), 1);
    drop(w); // granted, never seen: the permit goes back
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.release().is_err());
}
