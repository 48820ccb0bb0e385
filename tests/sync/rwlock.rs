//! `magpie::sync::RwLock` on the real runtime: writer preference, cancellation, stress.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use support::polled::Polled;

use magpie::sync::RwLock;

fn runtime(workers: usize) -> magpie::Runtime {
    magpie::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

#[test]
fn a_waiting_writer_is_not_starved_by_new_readers() {
    let lock = RwLock::new(0);
    let r = lock.try_read().unwrap();
    let mut w = Polled::new(async {
        *lock.write().await = 1;
    });
    assert!(w.poll().is_pending());
    assert!(lock.try_read().is_err(), "readers queue behind the writer");
    let mut r2 = Polled::new(lock.read());
    assert!(r2.poll().is_pending());
    drop(r);
    assert_eq!((w.wakes(), r2.wakes()), (1, 0));
    assert!(w.poll().is_ready());
    assert_eq!(r2.wakes(), 1);
    match r2.poll() {
        Poll::Ready(g) => assert_eq!(*g, 1),
        Poll::Pending => panic!("the reader follows the writer"),
    };
}

#[test]
fn cancel_after_grant_passes_the_write_lock_on() {
    let lock = RwLock::new(());
    let w0 = lock.try_write().unwrap();
    let mut w1 = Polled::new(lock.write());
    let mut r = Polled::new(lock.read());
    assert!(w1.poll().is_pending());
    assert!(r.poll().is_pending());
    drop(w0);
    assert_eq!(w1.wakes(), 1);
    drop(w1);
    assert_eq!(r.wakes(), 1);
    assert!(r.poll().is_ready());
}

#[test]
fn stress_writes_are_exact() {
    let tasks = 8;
    let per_task = 100_000 / tasks;
    let rt = runtime(4);
    let (total, writes) = rt.block_on(async {
        let lock = Arc::new(RwLock::new(0usize));
        let writes = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..tasks)
            .map(|t| {
                let (lock, writes) = (lock.clone(), writes.clone());
                magpie::spawn(async move {
                    for i in 0..per_task {
                        if (t + i) % 4 == 0 {
                            let mut g = lock.write().await;
                            let v = *g;
                            *g = v + 1;
                            writes.fetch_add(1, Ordering::SeqCst);
                        } else {
                            let g = lock.read().await;
                            assert!(*g <= 100_000);
                        }
                    }
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        let total = *lock.read().await;
        (total, writes.load(Ordering::SeqCst))
    });
    assert_eq!(total, writes);
}
