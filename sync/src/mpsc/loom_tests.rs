//! Loom models of the channels and cells of issue 17 (`mpsc` reserve/close and wake-ups,
//! `broadcast` lag, `watch` changed, `OnceCell` single initialisation). Run with the other
//! models (`scripts/loom.sh`), or alone:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p magpie-sync --lib --release loom_chan
//! ```
//!
//! A lost wake-up shows up as a loom deadlock, a lost value or slot as a failed assertion.

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

use crate::{broadcast, mpsc, watch, OnceCell};

/// A reserve racing `Receiver::close`: a permit granted before the close still sends and
/// the receiver gets its value before `None`; one refused sends nothing.
#[test]
fn loom_chan_mpsc_reserve_close() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let t = thread::spawn(move || {
            block_on(async {
                match tx.reserve().await {
                    Ok(p) => {
                        p.send(7);
                        1
                    }
                    Err(_) => 0,
                }
            })
        });
        rx.close();
        let mut got = 0;
        while let Some(v) = block_on(rx.recv()) {
            assert_eq!(v, 7);
            got += 1;
        }
        assert_eq!(t.join().unwrap(), got);
    });
}

/// Two senders into a channel of one slot, one of them reserving and dropping its permit
/// unused: the slot comes back, both values arrive, no wake-up is lost.
#[test]
fn loom_chan_mpsc_permit_dropped_and_wakeups() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let tx2 = tx.clone();
        let t1 = thread::spawn(move || {
            block_on(async {
                drop(tx.reserve().await.unwrap());
                tx.send(1).await.unwrap();
            })
        });
        let t2 = thread::spawn(move || block_on(async { tx2.send(2).await.unwrap() }));
        let mut sum = 0;
        while let Some(v) = block_on(rx.recv()) {
            sum += v;
        }
        assert_eq!(sum, 3);
        t1.join().unwrap();
        t2.join().unwrap();
    });
}

/// A receiver racing two sends into a ring of one: it sees either both values or a lag of
/// one and the last value, then `Closed`; never a value twice, never a lost wake-up.
#[test]
fn loom_chan_broadcast_lag() {
    loom::model(|| {
        let (tx, mut rx) = broadcast::channel::<u32>(1);
        let t = thread::spawn(move || {
            tx.send(0).unwrap();
            tx.send(1).unwrap();
        });
        let mut seen = Vec::new();
        let mut lagged = 0;
        loop {
            match block_on(rx.recv()) {
                Ok(v) => seen.push(v),
                Err(broadcast::error::RecvError::Lagged(n)) => lagged += n,
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
        t.join().unwrap();
        assert_eq!(
            seen.len() as u64 + lagged,
            2,
            "seen {seen:?}, lagged {lagged}"
        );
        assert_eq!(seen.last(), Some(&1));
    });
}

/// `changed` racing a send and the sender's drop: it reports the new value first, then the
/// close; never a missed wake-up.
#[test]
fn loom_chan_watch_changed() {
    loom::model(|| {
        let (tx, mut rx) = watch::channel(0u32);
        let t = thread::spawn(move || {
            tx.send(1).unwrap();
        });
        assert_eq!(block_on(rx.changed()), Ok(()));
        assert_eq!(*rx.borrow_and_update(), 1);
        assert!(block_on(rx.changed()).is_err());
        t.join().unwrap();
    });
}

/// Two threads racing `get_or_init`: exactly one initialiser runs and both see its value.
#[test]
fn loom_chan_once_cell_single_init() {
    loom::model(|| {
        let cell = Arc::new(OnceCell::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let ts: Vec<_> = (0..2)
            .map(|i| {
                let (cell, runs) = (cell.clone(), runs.clone());
                thread::spawn(move || {
                    *block_on(cell.get_or_init(|| async {
                        runs.fetch_add(1, Ordering::Relaxed);
                        i
                    }))
                })
            })
            .collect();
        let vs: Vec<u32> = ts.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(runs.load(Ordering::Relaxed), 1);
        assert_eq!(vs[0], vs[1]);
    });
}
