//! `magpie::sync::broadcast` on both runtime flavours: fan-out, lag, close, cancellation,
//! and a conservation stress (100,000 messages at `MAGPIE_STRESS_SCALE=1`).

use crate::stress;
use crate::support;

use magpie::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use support::polled::Polled;
use support::{flavors, within};

#[test]
fn every_receiver_sees_every_value_on_both_flavours() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            // The capacity covers every value: no receiver can lag.
            let (tx, rx) = broadcast::channel::<u32>(1_024);
            let mut hs = Vec::new();
            for _ in 0..4 {
                let mut rx = rx.resubscribe();
                hs.push(magpie::spawn(async move {
                    let mut sum = 0u64;
                    loop {
                        match rx.recv().await {
                            Ok(v) => sum += u64::from(v),
                            Err(RecvError::Closed) => return sum,
                            Err(RecvError::Lagged(n)) => panic!("lagged {n}"),
                        }
                    }
                }));
            }
            drop(rx);
            for i in 0..1_000 {
                assert_eq!(tx.send(i), Ok(4), "{name}");
                if i % 32 == 31 {
                    magpie::yield_now().await;
                }
            }
            drop(tx);
            for h in hs {
                assert_eq!(h.await.unwrap(), (0..1_000u64).sum::<u64>(), "{name}");
            }
        });
    }
}

#[test]
fn lagged_once_then_continues_from_oldest() {
    let (tx, mut rx) = broadcast::channel(3);
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 3);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(7)));
    assert_eq!(rx.try_recv(), Ok(7));
    assert_eq!(rx.try_recv(), Ok(8));
    assert_eq!(rx.try_recv(), Ok(9));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    for i in 10..15 {
        tx.send(i).unwrap();
    }
    assert_eq!(
        magpie::block_on(rx.recv()),
        Err(RecvError::Lagged(2)),
        "async recv lags the same way"
    );
    assert_eq!(magpie::block_on(rx.recv()), Ok(12));
}

#[test]
fn subscribe_sees_only_later_values_and_send_counts_receivers() {
    let (tx, rx) = broadcast::channel(4);
    drop(rx);
    assert_eq!(
        tx.send(1).unwrap_err().0,
        1,
        "no receiver: the value comes back"
    );
    let mut a = tx.subscribe();
    let mut b = tx.subscribe();
    assert_eq!(tx.send(2), Ok(2));
    assert_eq!(a.try_recv(), Ok(2));
    let mut c = a.resubscribe();
    assert_eq!(tx.send(3), Ok(3));
    assert_eq!(c.try_recv(), Ok(3));
    assert_eq!(b.try_recv(), Ok(2));
    assert_eq!(b.try_recv(), Ok(3));
    drop(tx);
    assert_eq!(a.try_recv(), Ok(3));
    assert_eq!(a.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn recv_cancelled_before_and_after_wake_loses_nothing() {
    let (tx, mut rx) = broadcast::channel(2);
    {
        let mut r = Polled::new(rx.recv());
        assert!(r.poll().is_pending());
    }
    {
        let mut r = Polled::new(rx.recv());
        assert!(r.poll().is_pending());
        tx.send(1).unwrap();
        assert_eq!(r.wakes(), 1);
    } // woken, dropped unpolled
    assert_eq!(rx.try_recv(), Ok(1));
    let mut r = Polled::new(rx.recv());
    assert!(r.poll().is_pending());
    drop(tx);
    assert_eq!(
        r.wakes(),
        1,
        "the last sender's drop wakes waiting receivers"
    );
    assert!(matches!(
        r.poll(),
        std::task::Poll::Ready(Err(RecvError::Closed))
    ));
}

#[test]
fn zero_capacity_panics_with_advice() {
    let err = std::panic::catch_unwind(|| broadcast::channel::<u8>(0)).unwrap_err();
    let msg = err.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(msg.contains("at least 1"), "{msg}");
}

/// 1 sender, 8 receivers on 2 workers; the sender never runs more than `cap` values
/// ahead of the slowest receiver (each publishes its progress), so every receiver must see
/// every value exactly once, in order, with no lag.
#[test]
fn stress_conservation() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    let total = stress::scaled(100_000, 2_000) as u64;
    let sums = within(
        stress::deadline_secs(60),
        "broadcast conservation stress",
        move || {
            let rt = magpie::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap();
            rt.block_on(async move {
                let cap = 256u64;
                let (tx, rx) = broadcast::channel::<u64>(cap as usize);
                let mut hs = Vec::new();
                let mut progress = Vec::new();
                for _ in 0..8 {
                    let mut rx = rx.resubscribe();
                    let done = Arc::new(AtomicU64::new(0));
                    progress.push(done.clone());
                    hs.push(magpie::spawn(async move {
                        let mut expect = 0u64;
                        loop {
                            match rx.recv().await {
                                Ok(v) => {
                                    assert_eq!(v, expect, "lost or duplicated");
                                    expect += 1;
                                    done.store(expect, Ordering::Release);
                                }
                                Err(RecvError::Closed) => return expect,
                                Err(e) => panic!("{e}"),
                            }
                        }
                    }));
                }
                drop(rx);
                for i in 0..total {
                    loop {
                        let slowest = progress
                            .iter()
                            .map(|p| p.load(Ordering::Acquire))
                            .min()
                            .unwrap();
                        if i - slowest < cap {
                            break;
                        }
                        magpie::yield_now().await;
                    }
                    tx.send(i).unwrap();
                }
                drop(tx);
                let mut sums = Vec::new();
                for h in hs {
                    sums.push(h.await.unwrap());
                }
                sums
            })
        },
    );
    assert_eq!(sums, vec![total; 8]);
}
