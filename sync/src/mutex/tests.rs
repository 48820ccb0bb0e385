use super::*;
use crate::test_util::{block_on, now, scaled, Polled};
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn is_send_and_sync() {
    assert_send_sync::<Mutex<Vec<u8>>>();
    assert_send_sync::<MutexGuard<'static, Vec<u8>>>();
    assert_send_sync::<OwnedMutexGuard<Vec<u8>>>();
    fn assert_send<T: Send>(_: &T) {}
    let m = Mutex::new(1);
    assert_send(&m.lock());
}

#[test]
fn lock_try_lock_get_mut_into_inner() {
    let mut m = Mutex::new(1);
    {
        let mut g = now(m.lock()).unwrap();
        *g += 1;
        assert!(m.try_lock().is_err());
        assert!(m.is_locked());
        assert_eq!(format!("{m:?}"), "Mutex { data: <locked> }");
    }
    assert_eq!(format!("{m:?}"), "Mutex { data: 2 }");
    *m.get_mut() += 1;
    assert_eq!(m.into_inner(), 3);
}

#[test]
fn waiters_are_served_in_arrival_order() {
    let m = Mutex::new(Vec::new());
    let held = m.try_lock().unwrap();
    let mut a = Polled::new(async {
        m.lock().await.push('a');
    });
    let mut b = Polled::new(async {
        m.lock().await.push('b');
    });
    a.pending();
    b.pending();
    // A newcomer cannot barge past the queue.
    drop(held);
    assert!(m.try_lock().is_err(), "the lock went to the first waiter");
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    b.pending();
    a.ready();
    assert_eq!(b.wakes(), 1);
    b.ready();
    assert_eq!(*now(m.lock()).unwrap(), ['a', 'b']);
}

#[test]
fn cancel_before_grant_leaves_no_trace() {
    let m = Mutex::new(0);
    let held = m.try_lock().unwrap();
    let mut a = Polled::new(m.lock());
    a.pending();
    drop(a);
    drop(held);
    assert!(!m.is_locked());
    assert!(m.try_lock().is_ok());
}

#[test]
fn cancel_after_grant_passes_the_lock_on() {
    let m = Mutex::new(0);
    let held = m.try_lock().unwrap();
    let mut a = Polled::new(m.lock());
    let mut b = Polled::new(m.lock());
    a.pending();
    b.pending();
    drop(held);
    assert_eq!(a.wakes(), 1, "a was granted the lock");
    drop(a); // dropped before it saw the grant
    assert_eq!(b.wakes(), 1, "the lock went on to b");
    let g = b.ready();
    drop(g);
    assert!(!m.is_locked());
}

#[test]
fn cancel_after_grant_with_no_one_waiting_unlocks() {
    let m = Mutex::new(0);
    let held = m.try_lock().unwrap();
    let mut a = Polled::new(m.lock());
    a.pending();
    drop(held);
    drop(a);
    assert!(!m.is_locked());
}

#[test]
fn owned_guards() {
    let m = Arc::new(Mutex::new(0));
    let g = m.clone().try_lock_owned().unwrap();
    let mut waiter = Polled::new(m.clone().lock_owned());
    waiter.pending();
    drop(g);
    let mut g2 = waiter.ready();
    *g2 += 1;
    drop(g2);
    assert_eq!(*m.try_lock().unwrap(), 1);
}

#[test]
fn spends_the_coop_budget() {
    let m = Mutex::new(0);
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    let (polls, exhausted) = crate::coop::with_budget(2, || {
        let mut ready = 0;
        for _ in 0..3 {
            let mut fut = std::pin::pin!(m.lock());
            if let Poll::Ready(_g) = fut.as_mut().poll(&mut cx) {
                ready += 1;
            }
        }
        ready
    });
    assert_eq!(polls, 2);
    assert!(exhausted);
}

#[test]
fn wake_from_another_thread() {
    let m = Arc::new(Mutex::new(0));
    let g = m.try_lock().unwrap();
    let m2 = m.clone();
    let t = std::thread::spawn(move || block_on(async move { *m2.lock().await += 1 }));
    std::thread::sleep(std::time::Duration::from_millis(if cfg!(miri) {
        1
    } else {
        10
    }));
    drop(g);
    t.join().unwrap();
    assert_eq!(*m.try_lock().unwrap(), 1);
}

#[test]
fn stress_counter_is_exact() {
    let threads = 8;
    let per_thread = scaled(100_000) / threads;
    let m = Arc::new(Mutex::new(0usize));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || {
                block_on(async move {
                    for _ in 0..per_thread {
                        let mut g = m.lock().await;
                        // Not atomic: a lost update would show if exclusion failed.
                        let v = *g;
                        *g = v + 1;
                    }
                })
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*m.try_lock().unwrap(), threads * per_thread);
    assert!(!m.is_locked());
}
