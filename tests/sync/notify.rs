//! `magpie::sync::Notify` on the real runtime: permits, broadcasts, cancellation.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::polled::Polled;

use magpie::sync::Notify;

fn runtime(workers: usize) -> magpie::Runtime {
    magpie::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

#[test]
fn notify_one_before_wait_is_stored() {
    let rt = runtime(2);
    rt.block_on(async {
        let n = Notify::new();
        n.notify_one();
        n.notified().await;
    });
}

#[test]
fn cancel_after_grant_passes_the_notification_on() {
    let n = Notify::new();
    let mut a = Polled::new(n.notified());
    let mut b = Polled::new(n.notified());
    assert!(a.poll().is_pending());
    assert!(b.poll().is_pending());
    n.notify_one();
    drop(a);
    assert_eq!(b.wakes(), 1);
    assert!(b.poll().is_ready());
}

#[test]
fn ping_pong_across_workers() {
    let rt = runtime(4);
    let rounds = 10_000;
    let count = rt.block_on(async {
        let ping = Arc::new(Notify::new());
        let pong = Arc::new(Notify::new());
        let count = Arc::new(AtomicUsize::new(0));
        let (p1, p2, c) = (ping.clone(), pong.clone(), count.clone());
        let h = magpie::spawn(async move {
            for _ in 0..rounds {
                p1.notified().await;
                c.fetch_add(1, Ordering::SeqCst);
                p2.notify_one();
            }
        });
        for _ in 0..rounds {
            ping.notify_one();
            pong.notified().await;
        }
        h.await.unwrap();
        count.load(Ordering::SeqCst)
    });
    assert_eq!(count, rounds);
}
