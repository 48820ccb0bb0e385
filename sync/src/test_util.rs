//! Test helpers: a future under manual control that counts its wake-ups.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Wake;

pub(crate) use crate::block_on::block_on;

#[derive(Default)]
pub(crate) struct WakeCounter(AtomicUsize);

impl WakeCounter {
    pub(crate) fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for WakeCounter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A boxed future polled by hand with a waker that counts how often it was woken.
pub(crate) struct Polled<F: Future> {
    fut: Pin<Box<F>>,
    counter: Arc<WakeCounter>,
    waker: Waker,
}

impl<F: Future> Polled<F> {
    pub(crate) fn new(fut: F) -> Self {
        let counter = Arc::new(WakeCounter::default());
        let waker = Waker::from(counter.clone());
        Self {
            fut: Box::pin(fut),
            counter,
            waker,
        }
    }

    pub(crate) fn poll(&mut self) -> Poll<F::Output> {
        let mut cx = Context::from_waker(&self.waker);
        self.fut.as_mut().poll(&mut cx)
    }

    /// Polls and expects `Pending`.
    #[track_caller]
    pub(crate) fn pending(&mut self) {
        assert!(self.poll().is_pending(), "expected the future to wait");
    }

    /// Polls and expects `Ready`.
    #[track_caller]
    pub(crate) fn ready(&mut self) -> F::Output {
        match self.poll() {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("expected the future to be ready"),
        }
    }

    pub(crate) fn wakes(&self) -> usize {
        self.counter.0.load(Ordering::SeqCst)
    }
}

/// Polls a fresh future once and returns its output if ready.
pub(crate) fn now<F: Future>(fut: F) -> Option<F::Output> {
    match Polled::new(fut).poll() {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// Shrinks stress sizes under miri.
pub(crate) fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        (n / 200).max(4)
    } else {
        n
    }
}
