use super::*;
use crate::test_util::{block_on, now, scaled, Polled};
use std::sync::Arc;

#[test]
fn is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Condition>();
    fn assert_send<T: Send>(_: &T) {}
    let m = Mutex::new(0);
    let c = Condition::new();
    let g = now(m.lock()).unwrap();
    assert_send(&c.wait(g));
}

#[test]
fn wait_releases_and_reacquires_the_lock() {
    let m = Mutex::new(0);
    let c = Condition::new();
    let g = now(m.lock()).unwrap();
    let mut w = Polled::new(c.wait(g));
    assert!(m.is_locked());
    w.pending();
    assert!(!m.is_locked(), "waiting released the lock");
    let g2 = m.try_lock().unwrap();
    c.notify(1);
    assert_eq!(w.wakes(), 1);
    w.pending(); // notified, but the lock is held
    drop(g2);
    assert_eq!(w.wakes(), 2, "woken by the mutex hand-off");
    let g = w.ready();
    assert_eq!(*g, 0);
    assert!(m.is_locked());
}

#[test]
fn notify_n_wakes_the_longest_waiting_first() {
    let m = Mutex::new(());
    let c = Condition::new();
    let mut ws: Vec<_> = (0..4)
        .map(|_| {
            let mut w = Polled::new(async {
                let g = m.lock().await;
                drop(c.wait(g).await);
            });
            w.pending();
            w
        })
        .collect();
    c.notify(2);
    let wakes: Vec<_> = ws.iter().map(|w| w.wakes()).collect();
    assert_eq!(wakes, [1, 1, 0, 0]);
    ws[0].ready();
    ws[1].ready();
    c.notify_all();
    ws[2].ready();
    ws[3].ready();
}

#[test]
fn notify_without_waiters_is_not_stored() {
    let m = Mutex::new(());
    let c = Condition::new();
    c.notify(5);
    c.notify_all();
    let g = now(m.lock()).unwrap();
    let mut w = Polled::new(c.wait(g));
    w.pending();
    assert_eq!(w.wakes(), 0);
}

#[test]
fn cancel_before_notify_leaves_no_trace() {
    let m = Mutex::new(());
    let c = Condition::new();
    let mut a = Polled::new(c.wait(now(m.lock()).unwrap()));
    a.pending();
    let mut b = Polled::new(c.wait(now(m.lock()).unwrap()));
    b.pending();
    drop(a);
    c.notify(1);
    assert_eq!(b.wakes(), 1, "the notification went to the live waiter");
    drop(b.ready());
    assert!(!c.waiting.load(Ordering::SeqCst));
}

#[test]
fn cancel_after_notify_passes_the_notification_on() {
    let m = Mutex::new(());
    let c = Condition::new();
    let mut a = Polled::new(c.wait(now(m.lock()).unwrap()));
    a.pending();
    let mut b = Polled::new(c.wait(now(m.lock()).unwrap()));
    b.pending();
    c.notify(1);
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    drop(a); // cancelled after it was notified
    assert_eq!(b.wakes(), 1, "the notification was handed on");
    drop(b.ready());
}

#[test]
fn cancel_while_relocking_passes_the_notification_on() {
    let m = Mutex::new(());
    let c = Condition::new();
    let mut a = Polled::new(c.wait(now(m.lock()).unwrap()));
    a.pending();
    let mut b = Polled::new(c.wait(now(m.lock()).unwrap()));
    b.pending();
    let held = m.try_lock().unwrap();
    c.notify(1);
    a.pending(); // notified, now waiting for the mutex
    drop(a);
    assert_eq!(b.wakes(), 1);
    b.pending(); // notified, waiting for the mutex too
    drop(held);
    drop(b.ready());
    assert!(!m.is_locked());
}

#[test]
fn notify_all_grant_is_not_passed_on() {
    let m = Mutex::new(());
    let c = Condition::new();
    let mut a = Polled::new(c.wait(now(m.lock()).unwrap()));
    a.pending();
    c.notify_all();
    let mut b = Polled::new(c.wait(now(m.lock()).unwrap()));
    b.pending();
    drop(a);
    assert_eq!(b.wakes(), 0);
}

#[test]
#[should_panic(expected = "bound to another mutex")]
fn two_mutexes_panic() {
    let (m1, m2) = (Mutex::new(()), Mutex::new(()));
    let c = Condition::new();
    let w = c.wait(now(m1.lock()).unwrap());
    drop(w);
    let _w = c.wait(now(m2.lock()).unwrap());
}

#[test]
fn seed_producer_consumer() {
    // The asyncio example: one producer appends 0, 1, 2 with a notify each; two
    // consumers each wait for an item and take one.
    let state = Arc::new((Mutex::new(Vec::new()), Condition::new()));
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let state = state.clone();
            std::thread::spawn(move || {
                block_on(async move {
                    let (buffer, cond) = &*state;
                    let mut items = buffer.lock().await;
                    while items.is_empty() {
                        items = cond.wait(items).await;
                    }
                    items.remove(0)
                })
            })
        })
        .collect();
    block_on(async {
        let (buffer, cond) = &*state;
        for i in 0..3 {
            buffer.lock().await.push(i);
            cond.notify(1);
            std::thread::yield_now();
        }
    });
    let mut got: Vec<i32> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
    got.sort();
    let left = block_on(async { state.0.lock().await.clone() });
    assert_eq!(got.len() + left.len(), 3);
    let mut all = got.clone();
    all.extend(left);
    all.sort();
    assert_eq!(all, [0, 1, 2], "every item delivered exactly once");
}

#[test]
fn stress_every_item_consumed_once() {
    let items = scaled(20_000);
    let consumers = 4;
    let state = Arc::new((Mutex::new((Vec::<usize>::new(), false)), Condition::new()));
    let handles: Vec<_> = (0..consumers)
        .map(|_| {
            let state = state.clone();
            std::thread::spawn(move || {
                block_on(async move {
                    let (m, cond) = &*state;
                    let mut got = Vec::new();
                    loop {
                        let mut g = cond
                            .wait_for(m.lock().await, |(v, done)| !v.is_empty() || *done)
                            .await;
                        match g.0.pop() {
                            Some(x) => got.push(x),
                            None => return got,
                        }
                    }
                })
            })
        })
        .collect();
    block_on(async {
        let (m, cond) = &*state;
        for i in 0..items {
            m.lock().await.0.push(i);
            cond.notify(1);
        }
        m.lock().await.1 = true;
        cond.notify_all();
    });
    let mut all: Vec<usize> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort();
    assert_eq!(all, (0..items).collect::<Vec<_>>());
}
