//! `magpie::sync::OnceCell` on both runtime flavours: one initialiser, cancellation of the
//! initialiser and of waiters, errors, `set` on a full cell.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use magpie::sync::{OnceCell, SetError};
use support::flavors;
use support::polled::Polled;

#[test]
fn exactly_one_initialiser_runs_on_both_flavours() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let cell = Arc::new(OnceCell::new());
            let runs = Arc::new(AtomicUsize::new(0));
            let mut hs = Vec::new();
            for i in 0..32 {
                let (cell, runs) = (cell.clone(), runs.clone());
                hs.push(magpie::spawn(async move {
                    *cell
                        .get_or_init(|| async {
                            runs.fetch_add(1, Ordering::SeqCst);
                            magpie::yield_now().await;
                            i
                        })
                        .await
                }));
            }
            let mut values = Vec::new();
            for h in hs {
                values.push(h.await.unwrap());
            }
            assert_eq!(runs.load(Ordering::SeqCst), 1, "{name}");
            assert!(values.iter().all(|v| *v == values[0]), "{name}");
        });
    }
}

#[test]
fn cancelled_initialiser_hands_over_to_the_next_caller() {
    let cell = OnceCell::new();
    let mut first = Polled::new(cell.get_or_init(std::future::pending::<u32>));
    assert!(first.poll().is_pending());
    let mut waiter = Polled::new(cell.get_or_init(|| async { 2 }));
    assert!(
        waiter.poll().is_pending(),
        "waits for the running initialiser"
    );
    assert!(matches!(cell.set(9), Err(SetError::InitializingError(9))));
    drop(first); // cancel the initialiser
    assert_eq!(waiter.wakes(), 1, "the waiter learns of the hand-over");
    assert_eq!(waiter.poll(), Poll::Ready(&2));
    assert_eq!(cell.get(), Some(&2));
}

#[test]
fn cancelled_waiter_leaves_nothing_behind() {
    let cell = OnceCell::new();
    let mut first = Polled::new(cell.get_or_init(|| async {
        magpie::yield_now().await;
        1
    }));
    assert!(first.poll().is_pending());
    {
        let mut w = Polled::new(cell.get_or_init(|| async { unreachable!() }));
        assert!(w.poll().is_pending());
    }
    assert_eq!(first.poll(), Poll::Ready(&1));
    assert_eq!(magpie::block_on(cell.get_or_init(|| async { 3 })), &1);
}

#[test]
fn failed_initialiser_leaves_the_cell_empty() {
    let cell = OnceCell::<u8>::new();
    let r = magpie::block_on(cell.get_or_try_init(|| async { Err::<u8, _>("boom") }));
    assert_eq!(r, Err("boom"));
    assert!(!cell.initialized());
    let r = magpie::block_on(cell.get_or_try_init(|| async { Ok::<_, ()>(4) }));
    assert_eq!(r, Ok(&4));
}

#[test]
fn set_on_a_full_cell_returns_the_value() {
    let cell = OnceCell::new();
    cell.set(String::from("a")).unwrap();
    let err = cell.set(String::from("b")).unwrap_err();
    assert_eq!(err.to_string(), "the OnceCell is already full");
    assert_eq!(err.into_inner(), "b");
    let mut cell = cell;
    assert_eq!(cell.take().as_deref(), Some("a"));
    assert!(cell.set(String::from("c")).is_ok());
    assert_eq!(cell.into_inner().as_deref(), Some("c"));
}

#[test]
fn values_are_dropped_once() {
    let drops = support::DropCounter::default();
    let cell = OnceCell::new();
    cell.set(drops.track()).unwrap();
    assert!(cell.set(drops.track()).is_err());
    assert_eq!(drops.count(), 1, "the rejected value was dropped");
    drop(cell);
    assert_eq!(drops.count(), 2);
}
