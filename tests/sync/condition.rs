//! `magpie::sync::Condition` on the real runtime: the asyncio producer/consumer seed,
//! notify with and without the lock, the notification hand-off on cancel, and a stress.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::polled::Polled;

use magpie::sync::{Condition, Mutex};

fn runtime(workers: usize) -> magpie::Runtime {
    magpie::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

#[test]
fn seed_producer_consumer() {
    // asyncio: a producer appends 0, 1, 2 under the condition and notifies one consumer
    // each time; two consumers each wait until the buffer is non-empty and take one item.
    let rt = runtime(4);
    for _ in 0..50 {
        let (mut taken, left) = rt.block_on(async {
            let state = Arc::new((Mutex::new(Vec::new()), Condition::new()));
            let consumers: Vec<_> = (0..2)
                .map(|_| {
                    let state = state.clone();
                    magpie::spawn(async move {
                        let (buffer, cond) = &*state;
                        let mut items = buffer.lock().await;
                        while items.is_empty() {
                            items = cond.wait(items).await;
                        }
                        items.remove(0)
                    })
                })
                .collect();
            let producer = {
                let state = state.clone();
                magpie::spawn(async move {
                    let (buffer, cond) = &*state;
                    for i in 0..3 {
                        let mut items = buffer.lock().await;
                        items.push(i);
                        cond.notify(1); // with the lock held
                        drop(items);
                        magpie::yield_now().await;
                    }
                })
            };
            producer.await.unwrap();
            let mut taken = Vec::new();
            for c in consumers {
                taken.push(c.await.unwrap());
            }
            let left = state.0.lock().await.clone();
            (taken, left)
        });
        taken.extend(left);
        taken.sort();
        assert_eq!(taken, [0, 1, 2], "every item taken at most once, none lost");
    }
}

#[test]
fn notify_without_the_lock_held() {
    let rt = runtime(2);
    rt.block_on(async {
        let state = Arc::new((Mutex::new(false), Condition::new()));
        let s = state.clone();
        let waiter = magpie::spawn(async move {
            let (m, cond) = &*s;
            let g = cond.wait_for(m.lock().await, |ready| *ready).await;
            assert!(*g);
        });
        magpie::yield_now().await;
        *state.0.lock().await = true;
        state.1.notify_all(); // after the guard was dropped
        waiter.await.unwrap();
    });
}

#[test]
fn cancel_before_notify_leaves_no_trace() {
    let m = Mutex::new(());
    let c = Condition::new();
    let mut a = Polled::new(async {
        let g = m.lock().await;
        drop(c.wait(g).await);
    });
    assert!(a.poll().is_pending());
    let mut b = Polled::new(async {
        let g = m.lock().await;
        drop(c.wait(g).await);
    });
    assert!(b.poll().is_pending());
    drop(a);
    c.notify(1);
    assert_eq!(b.wakes(), 1);
    assert!(b.poll().is_ready());
}

#[test]
fn cancel_after_notify_passes_the_notification_on() {
    let m = Mutex::new(());
    let c = Condition::new();
    let mut a = Polled::new(async {
        let g = m.lock().await;
        drop(c.wait(g).await);
    });
    let mut b = Polled::new(async {
        let g = m.lock().await;
        drop(c.wait(g).await);
    });
    assert!(a.poll().is_pending());
    assert!(b.poll().is_pending());
    c.notify(1);
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    drop(a); // notified, cancelled before it ran: tokio would lose this notification
    assert_eq!(b.wakes(), 1, "the notification went to b");
    assert!(b.poll().is_ready());
}

#[test]
fn aborted_waiters_do_not_swallow_notifications() {
    let rt = runtime(2);
    rt.block_on(async {
        let state = Arc::new((Mutex::new(0usize), Condition::new()));
        for _ in 0..100 {
            *state.0.lock().await = 0;
            let ws: Vec<_> = (0..4)
                .map(|_| {
                    let s = state.clone();
                    magpie::spawn(async move {
                        let (m, cond) = &*s;
                        let mut g = cond.wait_for(m.lock().await, |tickets| *tickets > 0).await;
                        *g -= 1;
                    })
                })
                .collect();
            magpie::yield_now().await;
            // Abort two waiters (they are parked: they cannot take a ticket any more),
            // then hand out two tickets with two notifications. The notifications may
            // reach the aborted waiters before they are dropped; they must pass them on,
            // or a live waiter sleeps forever and this test hangs.
            ws[0].abort();
            ws[1].abort();
            *state.0.lock().await = 2;
            state.1.notify(2);
            let mut served = 0;
            for w in ws {
                if w.await.is_ok() {
                    served += 1;
                }
            }
            assert_eq!(served, 2, "both live waiters were served");
            assert_eq!(*state.0.lock().await, 0);
        }
    });
}

#[test]
fn stress_every_item_consumed_once() {
    let rt = runtime(4);
    let items = 100_000 / 4;
    let consumed = Arc::new(AtomicUsize::new(0));
    let c2 = consumed.clone();
    rt.block_on(async move {
        let state = Arc::new((Mutex::new((Vec::<usize>::new(), false)), Condition::new()));
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let (s, consumed) = (state.clone(), c2.clone());
                magpie::spawn(async move {
                    let (m, cond) = &*s;
                    let mut sum = 0usize;
                    loop {
                        let mut g = cond
                            .wait_for(m.lock().await, |(v, done)| !v.is_empty() || *done)
                            .await;
                        match g.0.pop() {
                            Some(x) => {
                                sum += x;
                                consumed.fetch_add(1, Ordering::SeqCst);
                            }
                            None => return sum,
                        }
                    }
                })
            })
            .collect();
        let producers: Vec<_> = (0..4)
            .map(|p| {
                let s = state.clone();
                magpie::spawn(async move {
                    let (m, cond) = &*s;
                    for i in 0..items / 4 {
                        m.lock().await.0.push(p * (items / 4) + i);
                        cond.notify(1);
                    }
                })
            })
            .collect();
        for p in producers {
            p.await.unwrap();
        }
        state.0.lock().await.1 = true;
        state.1.notify_all();
        let mut sum = 0;
        for c in consumers {
            sum += c.await.unwrap();
        }
        assert_eq!(sum, (0..items).sum::<usize>());
    });
    assert_eq!(consumed.load(Ordering::SeqCst), items);
}
