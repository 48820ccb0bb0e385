//! `magpie::sync::Event` on the real runtime: the asyncio seed example and cancellation.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::polled::Polled;

use magpie::sync::Event;

fn runtime(workers: usize) -> magpie::Runtime {
    magpie::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

#[test]
fn seed_all_waiters_proceed_after_set() {
    let rt = runtime(4);
    for _ in 0..50 {
        let proceeded = rt.block_on(async {
            let event = Arc::new(Event::new());
            let proceeded = Arc::new(AtomicUsize::new(0));
            let waiters: Vec<_> = (0..3)
                .map(|_| {
                    let (event, proceeded) = (event.clone(), proceeded.clone());
                    magpie::spawn(async move {
                        event.wait().await;
                        proceeded.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            let trigger = {
                let event = event.clone();
                magpie::spawn(async move {
                    magpie::yield_now().await;
                    event.set();
                })
            };
            trigger.await.unwrap();
            for w in waiters {
                w.await.unwrap();
            }
            proceeded.load(Ordering::SeqCst)
        });
        assert_eq!(proceeded, 3);
    }
}

#[test]
fn set_clear_is_set() {
    let e = Event::new();
    assert!(!e.is_set());
    e.set();
    assert!(e.is_set());
    let mut w = Polled::new(e.wait());
    assert!(w.poll().is_ready());
    e.clear();
    let mut w = Polled::new(e.wait());
    assert!(w.poll().is_pending());
    e.set();
    assert_eq!(w.wakes(), 1);
    e.set();
    assert_eq!(w.wakes(), 1, "a second set wakes nobody twice");
    assert!(w.poll().is_ready());
}

#[test]
fn cancel_before_and_after_set() {
    let e = Event::new();
    let mut a = Polled::new(e.wait());
    let mut b = Polled::new(e.wait());
    assert!(a.poll().is_pending());
    assert!(b.poll().is_pending());
    drop(a);
    e.set();
    assert_eq!(b.wakes(), 1);
    drop(b); // granted, dropped: a broadcast has nothing to hand on
    assert!(Polled::new(e.wait()).poll().is_ready());
}

#[test]
fn aborted_waiters_do_not_block_set() {
    let rt = runtime(2);
    rt.block_on(async {
        let e = Arc::new(Event::new());
        let ws: Vec<_> = (0..8)
            .map(|_| {
                let e = e.clone();
                magpie::spawn(async move { e.wait().await })
            })
            .collect();
        magpie::yield_now().await;
        for w in ws.iter().step_by(2) {
            w.abort();
        }
        e.set();
        let mut done = 0;
        for w in ws {
            if w.await.is_ok() {
                done += 1;
            }
        }
        assert!(done >= 4);
    });
}
