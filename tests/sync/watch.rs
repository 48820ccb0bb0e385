//! `magpie::sync::watch` on both runtime flavours: latest value, `changed` cancellation,
//! closing from both ends, `wait_for`, and no torn reads under concurrent sends.

use crate::support;

use std::task::Poll;

use magpie::sync::watch;
use support::polled::Polled;
use support::{flavors, within};

#[test]
fn receivers_see_the_latest_value_on_both_flavours() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let (tx, mut rx) = watch::channel(0u32);
            let h = magpie::spawn(async move {
                for i in 1..=100 {
                    tx.send(i).unwrap();
                    magpie::yield_now().await;
                }
            });
            let mut last = 0;
            while rx.changed().await.is_ok() {
                let v = *rx.borrow_and_update();
                assert!(
                    v > last,
                    "{name}: values only move forward ({last} then {v})"
                );
                last = v;
            }
            assert_eq!(last, 100, "{name}: the last value is always seen");
            h.await.unwrap();
        });
    }
}

#[test]
fn changed_cancelled_before_and_after_wake_marks_nothing_seen() {
    let (tx, mut rx) = watch::channel(0);
    {
        let mut c = Polled::new(rx.changed());
        assert!(c.poll().is_pending());
    }
    {
        let mut c = Polled::new(rx.changed());
        assert!(c.poll().is_pending());
        tx.send(1).unwrap();
        assert_eq!(c.wakes(), 1);
    } // woken, dropped unpolled
    assert_eq!(
        rx.has_changed(),
        Ok(true),
        "the dropped future marked nothing seen"
    );
    let mut c = Polled::new(rx.changed());
    assert!(matches!(c.poll(), Poll::Ready(Ok(()))));
    drop(c);
    assert_eq!(rx.has_changed(), Ok(false));
    let mut c = Polled::new(rx.changed());
    assert!(c.poll().is_pending());
    drop(tx);
    assert_eq!(c.wakes(), 1, "the sender's drop wakes waiters");
    assert!(matches!(c.poll(), Poll::Ready(Err(_))));
}

#[test]
fn unseen_value_is_reported_even_after_close() {
    let (tx, mut rx) = watch::channel("a");
    tx.send("b").unwrap();
    drop(tx);
    assert_eq!(magpie::block_on(rx.changed()), Ok(()));
    assert_eq!(*rx.borrow(), "b");
    assert!(magpie::block_on(rx.changed()).is_err());
    assert!(rx.has_changed().is_err());
}

#[test]
fn send_variants_and_subscribe() {
    let (tx, rx) = watch::channel(vec![1]);
    tx.send_modify(|v| v.push(2));
    assert!(!tx.send_if_modified(|v| v.len() > 5));
    assert!(!rx.has_changed().unwrap() || *rx.borrow() == [1, 2]);
    assert_eq!(tx.send_replace(vec![9]), [1, 2]);
    let rx2 = tx.subscribe();
    assert_eq!(
        rx2.has_changed(),
        Ok(false),
        "a new receiver has seen the current value"
    );
    assert_eq!(tx.receiver_count(), 2);
    drop(rx);
    drop(rx2);
    assert!(tx.is_closed());
    assert_eq!(tx.send(vec![]).unwrap_err().0, Vec::<i32>::new());
    assert_eq!(*tx.borrow(), [9], "a failed send stores nothing");
}

#[test]
fn sender_closed_waits_for_every_receiver() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let (tx, rx) = watch::channel(());
            let rx2 = rx.clone();
            let mut closed = Polled::new(tx.closed());
            assert!(closed.poll().is_pending(), "{name}");
            drop(rx);
            assert!(closed.poll().is_pending(), "{name}: one receiver remains");
            magpie::spawn(async move {
                magpie::yield_now().await;
                drop(rx2);
            })
            .await
            .unwrap();
            assert!(closed.wakes() >= 1);
            assert!(closed.poll().is_ready(), "{name}");
        });
    }
}

#[test]
fn wait_for_returns_a_matching_value() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let (tx, mut rx) = watch::channel(0u32);
            magpie::spawn(async move {
                for i in 1..=50 {
                    tx.send(i).unwrap();
                    magpie::yield_now().await;
                }
            });
            let v = *rx.wait_for(|v| *v >= 30).await.unwrap();
            assert!(v >= 30, "{name}");
            assert!(
                rx.wait_for(|v| *v > 1_000).await.is_err(),
                "{name}: sender gone"
            );
        });
    }
}

/// A pair that is always written as equal halves: a torn read would see them differ.
#[test]
fn no_torn_reads_under_concurrent_sends() {
    within(60, "watch torn-read check", || {
        let rt = magpie::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            let (tx, rx) = watch::channel([0u64; 8]);
            let mut hs = Vec::new();
            for _ in 0..2 {
                let mut rx = rx.clone();
                hs.push(magpie::spawn(async move {
                    let mut n = 0;
                    while rx.changed().await.is_ok() {
                        let v = *rx.borrow_and_update();
                        assert!(v.iter().all(|x| *x == v[0]), "torn value {v:?}");
                        n += 1;
                    }
                    n
                }));
            }
            drop(rx);
            for i in 1..=20_000u64 {
                tx.send_modify(|v| v.iter_mut().for_each(|x| *x = i));
                if i % 64 == 0 {
                    magpie::yield_now().await;
                }
            }
            drop(tx);
            for h in hs {
                assert!(h.await.unwrap() > 0);
            }
        });
    });
}
