//! `magpie::sync::mpsc` on both runtime flavours: closing from either end, cancellation
//! before and after a grant for `send`, `reserve` and `recv`, permits, and a conservation
//! stress (100,000 messages at `MAGPIE_STRESS_SCALE=1`).

use crate::stress;
use crate::support;

use std::collections::HashSet;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use magpie::sync::mpsc::{self, error::TryRecvError, error::TrySendError};
use support::polled::Polled;
use support::{flavors, within, DropCounter};

/// Polls `f` once; `None` if it was pending (it is then dropped: a cancellation).
async fn poll_once<F: Future>(f: F) -> Option<F::Output> {
    let mut f = pin!(f);
    poll_fn(|cx| {
        Poll::Ready(match f.as_mut().poll(cx) {
            Poll::Ready(v) => Some(v),
            Poll::Pending => None,
        })
    })
    .await
}

#[test]
fn fan_in_conserves_order_per_producer_on_both_flavours() {
    for (name, rt) in flavors() {
        let got = rt.block_on(async {
            let (tx, mut rx) = mpsc::channel::<(u32, u32)>(8);
            for p in 0..4 {
                let tx = tx.clone();
                magpie::spawn(async move {
                    for i in 0..2_000 {
                        tx.send((p, i)).await.unwrap();
                    }
                });
            }
            drop(tx);
            let mut next = [0u32; 4];
            let mut n = 0;
            while let Some((p, i)) = rx.recv().await {
                assert_eq!(i, next[p as usize], "{name}: producer {p} out of order");
                next[p as usize] += 1;
                n += 1;
            }
            n
        });
        assert_eq!(got, 8_000, "{name}");
    }
}

#[test]
fn senders_dropped_drains_then_none() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel(4);
            tx.send(1).await.unwrap();
            tx.send(2).await.unwrap();
            let h = magpie::spawn(async move {
                magpie::yield_now().await;
                drop(tx);
            });
            assert_eq!(rx.recv().await, Some(1), "{name}");
            assert_eq!(rx.recv().await, Some(2), "{name}");
            assert_eq!(rx.recv().await, None, "{name}");
            assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
            h.await.unwrap();
        });
    }
}

#[test]
fn receiver_dropped_returns_values_and_drops_buffered_ones() {
    let drops = DropCounter::default();
    let (tx, rx) = mpsc::channel(4);
    tx.try_send(drops.track()).unwrap();
    tx.try_send(drops.track()).unwrap();
    let waiting = Polled::new(tx.closed());
    drop(rx);
    assert_eq!(
        drops.count(),
        2,
        "buffered values are dropped with the receiver"
    );
    assert!(tx.is_closed());
    let mut waiting = waiting;
    assert!(waiting.poll().is_ready());
    let back = magpie::block_on(tx.send(drops.track())).unwrap_err().0;
    assert_eq!(drops.count(), 2);
    drop(back);
    assert!(matches!(
        tx.try_send(drops.track()),
        Err(TrySendError::Closed(_))
    ));
    assert!(magpie::block_on(tx.reserve()).is_err());
}

#[test]
fn send_cancelled_before_grant_takes_no_slot() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut send = Polled::new(tx.send(1));
    assert!(send.poll().is_pending());
    drop(send);
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(tx.capacity(), 1, "the cancelled send took no slot");
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "its value was not sent"
    );
}

#[test]
fn send_cancelled_after_grant_hands_the_slot_on() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut a = Polled::new(tx.send(1));
    let mut b = Polled::new(tx.send(2));
    assert!(a.poll().is_pending());
    assert!(b.poll().is_pending());
    assert_eq!(rx.try_recv(), Ok(0)); // grants the slot to `a`
    assert_eq!(a.wakes(), 1);
    drop(a); // granted, never polled again
    assert_eq!(b.wakes(), 1, "the slot went on to the next waiter");
    assert!(matches!(b.poll(), Poll::Ready(Ok(()))));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tx.capacity(), 1);
}

#[test]
fn reserve_cancelled_before_and_after_grant() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    tx.try_send(0).unwrap();
    let mut r1 = Polled::new(tx.reserve());
    assert!(r1.poll().is_pending());
    drop(r1); // before the grant
    let mut r2 = Polled::new(tx.reserve());
    let mut r3 = Polled::new(tx.reserve());
    assert!(r2.poll().is_pending());
    assert!(r3.poll().is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(r2.wakes(), 1);
    drop(r2); // after the grant
    assert_eq!(r3.wakes(), 1);
    let Poll::Ready(Ok(permit)) = r3.poll() else {
        panic!("the slot was handed to the next reserve")
    };
    assert_eq!(tx.capacity(), 0);
    drop(permit); // unused: the slot comes back
    assert_eq!(tx.capacity(), 1);
    let p = tx.try_reserve().unwrap();
    p.send(9);
    assert_eq!(rx.try_recv(), Ok(9));
}

#[test]
fn recv_cancelled_before_and_after_grant_loses_nothing() {
    let (tx, mut rx) = mpsc::channel(2);
    {
        let mut recv = Polled::new(rx.recv());
        assert!(recv.poll().is_pending());
    } // cancelled before a value came
    {
        let mut recv = Polled::new(rx.recv());
        assert!(recv.poll().is_pending());
        tx.try_send(5).unwrap();
        assert_eq!(recv.wakes(), 1);
    } // cancelled after it was woken for a value, never polled again
    assert_eq!(rx.try_recv(), Ok(5));
}

#[test]
fn close_lets_the_receiver_drain_and_permits_send() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel(3);
            tx.send(1).await.unwrap();
            let permit = tx.clone().reserve_owned().await.unwrap();
            let closed = magpie::spawn({
                let tx = tx.clone();
                async move { tx.closed().await }
            });
            rx.close();
            closed.await.unwrap();
            assert!(tx.is_closed(), "{name}");
            assert!(matches!(tx.try_send(2), Err(TrySendError::Closed(2))));
            assert_eq!(tx.send(3).await.unwrap_err().0, 3);
            assert_eq!(rx.recv().await, Some(1));
            let h = magpie::spawn(async move {
                magpie::yield_now().await;
                drop(permit.send(4));
                drop(tx);
            });
            assert_eq!(
                rx.recv().await,
                Some(4),
                "{name}: an outstanding permit still sends"
            );
            assert_eq!(rx.recv().await, None);
            h.await.unwrap();
        });
    }
}

#[test]
fn recv_many_try_recv_and_capacity() {
    let (tx, mut rx) = mpsc::channel(8);
    assert_eq!(tx.max_capacity(), 8);
    for i in 0..6 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(tx.capacity(), 2);
    assert!(matches!(tx.try_send(6), Ok(())));
    assert!(matches!(tx.try_send(7), Ok(())));
    assert!(matches!(tx.try_send(8), Err(TrySendError::Full(8))));
    let mut out = Vec::new();
    assert_eq!(magpie::block_on(rx.recv_many(&mut out, 0)), 0);
    assert_eq!(magpie::block_on(rx.recv_many(&mut out, 5)), 5);
    assert_eq!(out, [0, 1, 2, 3, 4]);
    assert_eq!(rx.len(), 3);
    assert_eq!(tx.capacity(), 5);
    drop(tx);
    assert_eq!(magpie::block_on(rx.recv_many(&mut out, 10)), 3);
    assert_eq!(magpie::block_on(rx.recv_many(&mut out, 10)), 0);
    assert!(rx.is_closed());
}

#[test]
fn zero_capacity_panics_with_advice() {
    let err = std::panic::catch_unwind(|| mpsc::channel::<u8>(0)).unwrap_err();
    let msg = err.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(msg.contains("unbounded_channel"), "{msg}");
}

#[test]
fn unbounded_on_both_flavours() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let (tx, mut rx) = mpsc::unbounded_channel();
            let h = magpie::spawn({
                let tx = tx.clone();
                async move {
                    for i in 0..10_000u32 {
                        tx.send(i).unwrap();
                    }
                }
            });
            for i in 0..10_000u32 {
                assert_eq!(rx.recv().await, Some(i), "{name}");
            }
            h.await.unwrap();
            drop(rx);
            tx.closed().await;
            assert_eq!(tx.send(1).unwrap_err().0, 1);
        });
    }
}

/// 8 producers; every 5th send is first started and cancelled if it must wait, then sent
/// again: each value must arrive exactly once, in order per producer, none lost, no hang.
#[test]
fn stress_conservation_with_cancelled_sends() {
    let total = stress::scaled(100_000, 2_000);
    let producers = 8u64;
    let per = total as u64 / producers;
    let seen = within(
        stress::deadline_secs(60),
        "mpsc conservation stress",
        move || {
            let rt = magpie::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap();
            rt.block_on(async move {
                let (tx, mut rx) = mpsc::channel::<(u64, u64)>(16);
                for p in 0..producers {
                    let tx = tx.clone();
                    magpie::spawn(async move {
                        for i in 0..per {
                            if i % 5 == 0 && poll_once(tx.send((p, i))).await.is_some() {
                                continue;
                            }
                            tx.send((p, i)).await.unwrap();
                        }
                    });
                }
                drop(tx);
                let mut next = vec![0u64; producers as usize];
                let mut all = HashSet::new();
                let mut batch = Vec::new();
                while rx.recv_many(&mut batch, 64).await > 0 {
                    for (p, i) in batch.drain(..) {
                        assert_eq!(i, next[p as usize], "producer {p}: lost or duplicated");
                        next[p as usize] += 1;
                        assert!(all.insert((p, i)));
                    }
                }
                all.len() as u64
            })
        },
    );
    assert_eq!(seen, per * producers);
}
